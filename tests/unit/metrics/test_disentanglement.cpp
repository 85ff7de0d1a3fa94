// Disentanglement metrics on codes with known answers.
#include <gtest/gtest.h>

#include <Eigen/Cholesky>  // exact sample covariances

#include <cmath>
#include <functional>
#include <string>

#include "ved/metrics/disentanglement.hpp"
#include "ved/util/error.hpp"
#include "ved/util/rng.hpp"

namespace ved {

namespace {

MatrixRM normal_matrix(Eigen::Index rows, Eigen::Index cols, uint64_t seed) {
  NormalStream rng(seed, 0);
  MatrixRM a(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i)
    for (Eigen::Index j = 0; j < cols; ++j) a(i, j) = rng.normal();
  return a;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// 4 independent N(0, 1) factors for 4000 samples, and code noise.
const MatrixRM& factors() {
  static const MatrixRM v = normal_matrix(4000, 4, 10);
  return v;
}
MatrixRM noise(Eigen::Index cols, double s, uint64_t seed) { return s * normal_matrix(4000, cols, seed); }

}  // namespace

TEST(AggregatePosterior, CovarianceErrorOfAKnownBatch) {
  MatrixRM mu(2, 2);
  mu << 1, 1, -1, -1;  // unbiased Cov = [[2, 2], [2, 2]]
  DisentanglementMetrics d = disentanglement_metrics(mu, MatrixRM(), MatrixRM());
  EXPECT_NEAR(d.cov_error, std::sqrt(10.0), 1e-14);  // C - I = [[1, 2], [2, 1]]
  EXPECT_NEAR(d.cov_error_offdiag, std::sqrt(8.0), 1e-14);
  EXPECT_NEAR(d.cov_error_diag, std::sqrt(2.0), 1e-14);
  EXPECT_TRUE(std::isinf(d.total_correlation));  // rank 1: perfectly dependent
  EXPECT_TRUE(std::isnan(d.mig) && std::isnan(d.sap) && std::isnan(d.dci_disentanglement));

  MatrixRM var(2, 2);
  var << 0.25, 1.0, 0.75, 2.0;  // mean sigma² = (0.5, 1.5): C = [[2.5, 2], [2, 3.5]]
  d = disentanglement_metrics(mu, var, MatrixRM());
  EXPECT_NEAR(d.cov_error_diag, std::sqrt(1.5 * 1.5 + 2.5 * 2.5), 1e-14);
  EXPECT_NEAR(d.cov_error_offdiag, std::sqrt(8.0), 1e-14);
  EXPECT_NEAR(d.total_correlation, 0.5 * std::log(2.5 * 3.5 / (2.5 * 3.5 - 4)), 1e-14);
}

TEST(AggregatePosterior, TotalCorrelationOfAKnownCovariance) {
  // Blocks: a pair with correlation 0.6, an independent dim, an unused dim (variance 0).
  Eigen::MatrixXd c = Eigen::MatrixXd::Zero(4, 4);
  c.topLeftCorner(2, 2) << 4, 1.2, 1.2, 1;
  c(2, 2) = 0.3;
  const double tc = -0.5 * std::log(1 - 0.36);
  EXPECT_NEAR(gaussian_total_correlation(c), tc, 1e-14);
  EXPECT_NEAR(gaussian_total_correlation(Eigen::MatrixXd::Identity(3, 3)), 0.0, 1e-15);

  // Codes whose sample covariance is exactly c (first three dims): whiten, then colour.
  MatrixRM z = normal_matrix(500, 3, 11);
  z.rowwise() -= z.colwise().mean();
  const Eigen::MatrixXd s = z.transpose() * z / 499.0;
  const Eigen::MatrixXd target = c.topLeftCorner(3, 3);
  const Eigen::MatrixXd l_s = s.llt().matrixL(), l_t = target.llt().matrixL();
  const Eigen::MatrixXd l_s_inv = l_s.triangularView<Eigen::Lower>().solve(Eigen::MatrixXd::Identity(3, 3));
  const MatrixRM mu = z * l_s_inv.transpose() * l_t.transpose();
  EXPECT_LT((aggregate_covariance(mu, MatrixRM()) - target).norm(), 1e-12);
  EXPECT_NEAR(disentanglement_metrics(mu, MatrixRM(), MatrixRM()).total_correlation, tc, 1e-12);
}

TEST(AggregatePosterior, ActiveUnits) {
  MatrixRM mu = normal_matrix(500, 5, 12);
  const Eigen::RowVectorXd mean = mu.colwise().mean();
  const Eigen::RowVectorXd sd = ((mu.rowwise() - mean).colwise().squaredNorm() / 499.0).cwiseSqrt();
  mu = (mu.rowwise() - mean).array().rowwise() / sd.array();  // exactly unit variance
  mu.col(0) *= 2.0;    // var 4: active
  mu.col(1).setConstant(3.0);  // var 0: collapsed
  mu.col(2) *= 0.05;   // var 0.0025: inactive
  mu.col(3) *= 0.2;    // var 0.04: active
  DisentanglementMetrics d = disentanglement_metrics(mu, MatrixRM(), MatrixRM());
  EXPECT_EQ(d.n_active, 3);
  EXPECT_EQ(d.code_variance[1], 0.0);
  EXPECT_NEAR(d.code_variance[2], 0.0025, 1e-14);
  DisentanglementOptions opts;
  opts.active_threshold = 0.001;
  EXPECT_EQ(disentanglement_metrics(mu, MatrixRM(), MatrixRM(), opts).n_active, 4);
  // The collapsed dim is left out of the total correlation, not a log(0).
  EXPECT_TRUE(std::isfinite(d.total_correlation));
}

TEST(FactorMetrics, DisentangledCodeScoresHigh) {
  // Each factor in its own code dim (permuted, scaled, one sign flipped), plus a noise dim
  // and a collapsed dim. MIG stays below 1 even so: code bins and factor bins do not line
  // up, which costs about 0.07 here (0.18 with noise 0.05).
  const MatrixRM& v = factors();
  MatrixRM z = noise(6, 0.01, 13);
  z.col(0) += 2.0 * v.col(2);
  z.col(1) += -0.5 * v.col(0);
  z.col(3) += 3.0 * v.col(3);
  z.col(4) += v.col(1);
  z.col(5).setZero();
  const DisentanglementMetrics d = disentanglement_metrics(z, MatrixRM(), v);
  EXPECT_GT(d.mig, 0.85);
  EXPECT_GT(d.dci_disentanglement, 0.9);
  EXPECT_GT(d.dci_completeness, 0.9);
  EXPECT_GT(d.dci_informativeness, 0.99);
  EXPECT_GT(d.sap, 0.95);
  EXPECT_EQ(d.mutual_info.rows(), 6);
  EXPECT_EQ(d.importance.cols(), 4);
  EXPECT_EQ(d.importance(5, 0), 0.0);  // the collapsed dim carries nothing
  EXPECT_NEAR(d.sap_scores(1, 0), 1.0, 0.02);
  // Modularity: each informative code tells about one factor; the collapsed one is skipped.
  EXPECT_GT(d.modularity, 0.95);
}

TEST(FactorMetrics, MixedCodeScoresLow) {
  // Every code dim is an equal-weight mix of all four factors (Hadamard rotation):
  // still fully informative, not disentangled at all.
  Eigen::Matrix4d h;
  h << 1, 1, 1, 1, 1, -1, 1, -1, 1, 1, -1, -1, 1, -1, -1, 1;
  const MatrixRM z = factors() * (0.5 * h) + noise(4, 0.05, 14);
  const DisentanglementMetrics d = disentanglement_metrics(z, MatrixRM(), factors());
  EXPECT_LT(d.mig, 0.1);
  EXPECT_LT(d.dci_disentanglement, 0.1);
  EXPECT_LT(d.dci_completeness, 0.1);
  EXPECT_GT(d.dci_informativeness, 0.99);
  EXPECT_LT(d.sap, 0.1);
  // Each code tells equally about all four factors: deviation 1 from the ideal.
  EXPECT_LT(d.modularity, 0.2);
}

TEST(FactorMetrics, HalfMixedCodeScoresInBetween) {
  // Factors 0 and 1 rotated by 45 degrees into codes 0 and 1; factors 2 and 3 clean.
  const MatrixRM& v = factors();
  MatrixRM z = noise(4, 0.05, 15);
  const double s = std::sqrt(0.5);
  z.col(0) += s * (v.col(0) + v.col(1));
  z.col(1) += s * (v.col(0) - v.col(1));
  z.col(2) += v.col(2);
  z.col(3) += v.col(3);
  const DisentanglementMetrics d = disentanglement_metrics(z, MatrixRM(), v);
  EXPECT_NEAR(d.sap, 0.5, 0.05);
  // Codes 0, 1 score 1 - log 2 / log 4 = 1/2 with weight sqrt2 each (|w| = sqrt½ twice),
  // codes 2, 3 score 1 with weight 1: (sqrt2 + 2) / (2 sqrt2 + 2) = 1/sqrt2.
  EXPECT_NEAR(d.dci_disentanglement, std::sqrt(0.5), 0.03);
  EXPECT_GT(d.mig, 0.3);
  EXPECT_LT(d.mig, 0.7);
  // Ridgeway & Zemel: codes 0, 1 inform equally about two factors, 1 - 1/3 = 2/3 each;
  // codes 2, 3 score 1: mean 5/6.
  EXPECT_NEAR(d.modularity, 5.0 / 6.0, 0.05);
}

TEST(FactorMetrics, ErrorsNameTheShapes) {
  const MatrixRM z = normal_matrix(40, 3, 16);
  EXPECT_NE(error_of([&] { disentanglement_metrics(z, MatrixRM(40, 2), MatrixRM()); })
                .find("variances are 40x2 but means are 40x3"),
            std::string::npos);
  EXPECT_NE(error_of([&] { disentanglement_metrics(z.leftCols(1), MatrixRM(), normal_matrix(40, 2, 17)); })
                .find("1 code dims and 2 factors; MIG, DCI and SAP need at least 2 of each"),
            std::string::npos);
  EXPECT_NE(error_of([&] { disentanglement_metrics(z, MatrixRM(), normal_matrix(39, 2, 17)); })
                .find("39 factor rows but 40 codes"),
            std::string::npos);
  MatrixRM constant = normal_matrix(40, 2, 18);
  constant.col(1).setConstant(1.0);
  EXPECT_NE(error_of([&] { disentanglement_metrics(z, MatrixRM(), constant); }).find("factor 1 is constant"),
            std::string::npos);
}

}  // namespace ved
