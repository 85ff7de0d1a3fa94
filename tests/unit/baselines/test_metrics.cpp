// reconstruction_metrics (docs/method.md §9.1) on tiny examples computed by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "ved/metrics/reconstruction.hpp"
#include "ved/util/error.hpp"

namespace ved {
namespace {

TEST(ReconstructionMetrics, HandComputedExample) {
  MatrixRM y_true(2, 2), y_pred(2, 2);
  y_true << 1, 2,
            3, 4;
  y_pred << 1.5, 2,
            3, 5;
  const Eigen::VectorXd train_mean = Eigen::Vector2d(2, 2);
  const ReconstructionMetrics m = reconstruction_metrics(y_true, y_pred, train_mean);
  // Errors 0.5, 0, 0, 1: sum of squares 1.25. ||y||^2 = 30; ||y - (2, 2)||^2 = 1 + 0 + 1 + 4 = 6.
  EXPECT_DOUBLE_EQ(m.rel_l2, std::sqrt(1.25 / 30));
  EXPECT_DOUBLE_EQ(m.rel_l2_fluct, std::sqrt(1.25 / 6));
  EXPECT_DOUBLE_EQ(m.rmse, std::sqrt(1.25 / 4));
  // R^2 about each output's own test mean (2 and 3): 1 - 0.25 / 2 and 1 - 1 / 2.
  EXPECT_DOUBLE_EQ(m.r2, (0.875 + 0.5) / 2);
}

TEST(ReconstructionMetrics, PerfectAndMeanPredictions) {
  MatrixRM y(3, 2);
  y << 1, 10,
       2, 20,
       6, 30;
  const Eigen::VectorXd mean = y.colwise().mean().transpose();
  const ReconstructionMetrics exact = reconstruction_metrics(y, y, mean);
  EXPECT_EQ(exact.rel_l2, 0.0);
  EXPECT_EQ(exact.rel_l2_fluct, 0.0);
  EXPECT_EQ(exact.r2, 1.0);
  // Predicting the training mean (here also the test mean): rel_l2_fluct = 1, R^2 = 0.
  const MatrixRM at_mean = mean.transpose().replicate(3, 1);
  const ReconstructionMetrics m = reconstruction_metrics(y, at_mean, mean);
  EXPECT_DOUBLE_EQ(m.rel_l2_fluct, 1.0);
  EXPECT_NEAR(m.r2, 0.0, 1e-15);
}

TEST(ReconstructionMetrics, ConstantOutputIsLeftOutOfR2) {
  MatrixRM y_true(2, 2), y_pred(2, 2);
  y_true << 1, 7,
            3, 7;
  y_pred << 2, 7.5,
            3, 7;
  const ReconstructionMetrics m = reconstruction_metrics(y_true, y_pred, Eigen::Vector2d(2, 7));
  // Output 0: SS_res 1, SS_tot 2 -> 0.5; output 1 has SS_tot 0 and is skipped.
  EXPECT_DOUBLE_EQ(m.r2, 0.5);
  EXPECT_DOUBLE_EQ(m.rel_l2_fluct, std::sqrt(1.25 / 2));
}

TEST(ReconstructionMetrics, ShapeErrorsNameTheShapes) {
  MatrixRM a(2, 3), b(3, 2);
  a.setOnes();
  b.setOnes();
  try {
    reconstruction_metrics(a, b, Eigen::VectorXd::Zero(3));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("truth is 2x3 but prediction is 3x2"), std::string::npos) << e.what();
  }
  try {
    reconstruction_metrics(a, a, Eigen::VectorXd::Zero(2));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("training mean has 2 entries; expected 3"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ved
