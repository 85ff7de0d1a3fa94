// Training learns: a small conv VED on a synthetic smooth map, and inference through
// TrainedModel (z = mu, predictive moments, prior samples) on the result. Labelled slow.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "ved/data/dataset.hpp"
#include "ved/metrics/reconstruction.hpp"
#include "ved/train/preprocess.hpp"
#include "ved/train/trained_model.hpp"
#include "ved/train/trainer.hpp"
#include "train_fixture.hpp"

namespace ved {
namespace fs = std::filesystem;
using test::small_options;
using test::synthetic_dataset;

namespace {
std::string temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("ved_train_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}
}  // namespace

TEST(Train, LearnsASmoothMapAndInferenceAgreesWithTheLog) {
  std::string dir = temp_dir("learn");
  write_dataset(dir + "/d.h5", synthetic_dataset(400, 3));
  TrainOptions o = small_options(dir + "/d.h5", dir + "/run");
  o.epochs = 30;
  o.lr = 3e-3;
  o.val_fraction = 0.2;
  o.test_fraction = 0.1;
  TrainSummary s = Trainer(o).run();
  // y is a smooth function of 3 factors that x shows with noise; an untrained model
  // scores about 1.
  EXPECT_LT(s.val_rel_l2_fluct, 0.35);

  // TrainedModel on the validation rows reproduces the trainer's validation metric.
  TrainedModel m(dir + "/run");
  EXPECT_EQ(m.path(), dir + "/run/model.h5");
  Dataset d = read_dataset(dir + "/d.h5");
  MatrixRM x = take_rows(d.x, m.meta().split.val), y = take_rows(d.y, m.meta().split.val);
  ReconstructionMetrics r = reconstruction_metrics(y, m.predict(x), m.meta().output.mean);
  EXPECT_NEAR(r.rel_l2_fluct, s.val_rel_l2_fluct, 1e-5);
  EXPECT_EQ(m.meta().split.test.size(), 40u);

  // The decoder noise stored with the model is the RMS residual per output on the
  // validation rows; on the unseen test rows, mean ± 2 std covers most values.
  ASSERT_EQ(m.meta().noise_std.size(), d.y.cols());
  EXPECT_EQ(m.meta().noise_rows, "val");
  MatrixRM res = m.predict(x) - y;
  for (Eigen::Index j = 0; j < d.y.cols(); ++j)
    EXPECT_NEAR(m.meta().noise_std[j], std::sqrt(res.col(j).squaredNorm() / res.rows()), 1e-9);
  MatrixRM xt = take_rows(d.x, m.meta().split.test), yt = take_rows(d.y, m.meta().split.test);
  PredictiveMoments pt = m.predict_moments(xt, 30, 1);
  double inside = ((yt - pt.mean).array().abs() < 2 * pt.std.array()).cast<double>().mean();
  EXPECT_GT(inside, 0.8);
  EXPECT_TRUE((pt.std.array() >= pt.std_latent.array()).all());

  // Predictive moments: deterministic for a seed; the mean sits near the z = μ prediction
  // and the spread is positive.
  MatrixRM x3 = x.topRows(3);
  PredictiveMoments p1 = m.predict_moments(x3, 50, 9), p2 = m.predict_moments(x3, 50, 9);
  EXPECT_EQ((p1.mean - p2.mean).norm(), 0.0);
  EXPECT_GT(p1.std.minCoeff(), 0.0);
  MatrixRM y_mu = m.predict(x3);
  EXPECT_LT((p1.mean - y_mu).norm() / (y_mu.rowwise() - m.meta().output.mean.transpose()).norm(), 0.5);
  // Prior samples: right shape, finite, spread around the training mean.
  MatrixRM g = m.sample(200, 4);
  EXPECT_EQ(g.rows(), 200);
  EXPECT_EQ(g.cols(), d.y.cols());
  EXPECT_TRUE(g.allFinite());
  Encodings e = m.encode(x3);
  EXPECT_EQ(e.mu.cols(), 3);
  EXPECT_LE(e.logvar.maxCoeff(), 10.0);
}

}  // namespace ved
