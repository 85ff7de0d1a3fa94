// Gaussian conditioning against hand-computed cases, the shrinkage covariance against
// scikit-learn, the PPCA prior's spectrum, and the predictive scores (CRPS, quantiles,
// coverage) against closed forms and numerical integrals.
#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <random>

#include "ved/inference/condition_metrics.hpp"
#include "ved/inference/gaussian_conditioning.hpp"
#include "ved/util/error.hpp"

using namespace ved::inference;
using ved::MatrixRM;

TEST(GaussianConditioning, BivariateByHand) {
  // y ~ N((1, 0), [[4, 1], [1, 1]]): σ1 = 2, σ2 = 1, ρ = 1/2. Observing y2 = 3 exactly:
  // E[y1 | y2] = 1 + ρ σ1/σ2 · 3 = 4, Var = σ1² (1 - ρ²) = 3; y2 itself is known.
  GaussianPrior g;
  g.mean = Eigen::Vector2d(1, 0);
  g.cov.resize(2, 2);
  g.cov << 4, 1, 1, 1;
  MatrixRM value(2, 1);
  value << 3, -1;
  GaussianPosterior p = condition_gaussian(g, {1}, value, Eigen::VectorXd::Zero(1));
  EXPECT_NEAR(p.mean(0, 0), 4.0, 1e-12);
  EXPECT_NEAR(p.mean(0, 1), 3.0, 1e-12);
  EXPECT_NEAR(p.mean(1, 0), 0.0, 1e-12);  // second case: 1 + 1·(-1)
  EXPECT_NEAR(p.std(0, 0), std::sqrt(3.0), 1e-12);
  EXPECT_NEAR(p.std(1, 1), 0.0, 1e-6);
  // With noise variance 1 on y2: gain = Σ[:, 2] / (1 + 1) = (1/2, 1/2).
  GaussianPosterior q = condition_gaussian(g, {1}, value.topRows(1), Eigen::VectorXd::Constant(1, 1.0));
  EXPECT_NEAR(q.mean(0, 0), 2.5, 1e-12);
  EXPECT_NEAR(q.mean(0, 1), 1.5, 1e-12);
  EXPECT_NEAR(q.std(0, 0), std::sqrt(3.5), 1e-12);
  EXPECT_NEAR(q.std(0, 1), std::sqrt(0.5), 1e-12);
}

TEST(GaussianConditioning, TwoObservedOfThreeByHand) {
  // y3 = y1 + y2 with y1, y2 independent N(0, 1) (plus 1e-9 so Σ is invertible on {1, 2}):
  // observing y1 = 2 and y3 = 5 gives y2 = 3 with no uncertainty left.
  GaussianPrior g;
  g.mean = Eigen::Vector3d::Zero();
  g.cov.resize(3, 3);
  g.cov << 1, 0, 1, 0, 1, 1, 1, 1, 2;
  MatrixRM value(1, 2);
  value << 2, 5;
  GaussianPosterior p = condition_gaussian(g, {0, 2}, value, Eigen::Vector2d::Constant(1e-9));
  EXPECT_NEAR(p.mean(0, 1), 3.0, 1e-6);
  EXPECT_NEAR(p.std(0, 1), 0.0, 1e-4);
  // Indefinite without noise: a clear error, not NaN.
  g.cov(2, 2) = 1.5;
  EXPECT_THROW(condition_gaussian(g, {0, 1, 2}, MatrixRM::Zero(1, 3), Eigen::Vector3d::Zero()), ved::Error);
}

TEST(GaussianConditioning, LedoitWolfMatchesScikitLearn) {
  // sklearn.covariance.ledoit_wolf on the standardised data (divisor n), scaled back.
  const int n = 7, p = 3;
  MatrixRM y(n, p);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < p; ++j) y(i, j) = std::sin(1.3 * i + 0.7 * j) + 0.1 * i * j + (j == 2 ? 0.5 * i : 0.0);
  GaussianPrior g = ledoit_wolf_prior(y);
  EXPECT_NEAR(g.shrinkage, 0.5029211984219047, 1e-12);
  Eigen::Matrix3d ref;
  ref << 0.47305498, 0.17944586, 0.0432266, 0.17944586, 0.50991744, 0.31764798, 0.0432266, 0.31764798, 2.41628463;
  EXPECT_LT((g.cov - ref).cwiseAbs().maxCoeff(), 1e-7);
  EXPECT_LT((g.mean - y.colwise().mean().transpose()).norm(), 1e-14);
}

TEST(GaussianConditioning, PpcaKeepsLeadingSpectrumAndAveragesTheRest) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> e;
  const int n = 400, m = 6;
  MatrixRM y(n, m);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < m; ++j) y(i, j) = e(rng) * (j + 1) + (j > 0 ? 0.5 * y(i, j - 1) : 0.0);
  Eigen::MatrixXd x = y.rowwise() - y.colwise().mean();
  Eigen::MatrixXd s = x.transpose() * x / (n - 1.0);
  Eigen::VectorXd lam = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(s).eigenvalues();  // ascending
  GaussianPrior g = ppca_prior(y, 2);
  Eigen::VectorXd mu = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(g.cov).eigenvalues();
  const double rest = lam.head(4).mean();
  EXPECT_NEAR(g.residual_var, rest, 1e-9 * rest);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(mu[i], rest, 1e-9 * lam.sum());
  EXPECT_NEAR(mu[4], lam[4], 1e-9 * lam.sum());
  EXPECT_NEAR(mu[5], lam[5], 1e-9 * lam.sum());
  // Full rank: the sample covariance.
  EXPECT_LT((ppca_prior(y, m).cov - s).cwiseAbs().maxCoeff(), 1e-8 * s.trace());
}

TEST(ConditionMetrics, GaussianCrpsMatchesNumericalIntegral) {
  // CRPS = ∫ (F(x) - 1{x ≥ y})² dx, by the trapezoidal rule on a fine grid.
  for (double y : {-1.0, 0.3, 2.5}) {
    const double mu = 0.5, sigma = 0.8;
    // Simpson's rule on each side of the jump at y.
    auto side = [&](double a, double b, double step) {
      const int k = 20000;
      const double h = (b - a) / k;
      double sum = 0;
      for (int i = 0; i <= k; ++i) {
        const double t = a + i * h;
        const double F = 0.5 * std::erfc(-(t - mu) / (sigma * std::sqrt(2.0)));
        sum += (i == 0 || i == k ? 1 : (i % 2 ? 4 : 2)) * (F - step) * (F - step);
      }
      return sum * h / 3;
    };
    const double integral = side(mu - 12 * sigma, y, 0.0) + side(y, mu + 12 * sigma, 1.0);
    EXPECT_NEAR(crps_gaussian(mu, sigma, y), integral, 1e-9) << "y = " << y;
  }
  EXPECT_DOUBLE_EQ(crps_gaussian(1.0, 0.0, 3.0), 2.0);
}

TEST(ConditionMetrics, SampleCrpsAndQuantilesConvergeToGaussianOnes) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> e(2.0, 3.0);
  const int s = 200000;
  MatrixRM draws(s, 2);
  for (int i = 0; i < s; ++i) {
    draws(i, 0) = e(rng);
    draws(i, 1) = -draws(i, 0);
  }
  PredictiveSummary p(1, 2);
  const double truth[2] = {4.0, 0.0};
  p.set_from_samples(0, draws, truth);
  PredictiveSummary g = gaussian_summary(MatrixRM::Constant(1, 1, 2.0), MatrixRM::Constant(1, 1, 3.0),
                                         MatrixRM::Constant(1, 1, 4.0));
  EXPECT_NEAR(p.crps(0, 0), g.crps(0, 0), 0.01 * g.crps(0, 0));
  EXPECT_NEAR(p.q05(0, 0), g.q05(0, 0), 0.05);
  EXPECT_NEAR(p.q75(0, 0), g.q75(0, 0), 0.05);
  EXPECT_NEAR(p.std(0, 0), 3.0, 0.02);
  EXPECT_NEAR(p.q95(0, 1), -p.q05(0, 0), 1e-9);  // mirrored draws, mirrored quantiles
}

TEST(ConditionMetrics, QuantilesInterpolateLikeNumpy) {
  MatrixRM v(5, 1);
  v << 5, 1, 4, 2, 3;
  PredictiveSummary p(1, 1);
  const double y = 3.5;
  p.set_from_samples(0, v, &y);
  EXPECT_DOUBLE_EQ(p.q05(0, 0), 1.2);  // numpy.quantile([1..5], 0.05)
  EXPECT_DOUBLE_EQ(p.q25(0, 0), 2.0);
  EXPECT_DOUBLE_EQ(p.q50(0, 0), 3.0);
  EXPECT_DOUBLE_EQ(p.q95(0, 0), 4.8);
  EXPECT_DOUBLE_EQ(p.std(0, 0), std::sqrt(2.5));
  // E|X - 3.5| = (2.5 + 1.5 + 0.5 + 0.5 + 1.5) / 5 = 1.3; E|X - X'| = Σ_ij |x_i - x_j| / 25 = 40/25 = 1.6.
  EXPECT_NEAR(p.crps(0, 0), 1.3 - 0.8, 1e-12);
}

TEST(ConditionMetrics, ScoresOnlyTheUnobservedOutputs) {
  // Two cases, three outputs; output 1 is observed (its wild prediction must not count).
  PredictiveSummary s = gaussian_summary((MatrixRM(2, 3) << 1, 100, 3, 2, 100, 0).finished(),
                                         MatrixRM::Constant(2, 3, 1.0), (MatrixRM(2, 3) << 1, 0, 4, 2, 0, 3).finished());
  MatrixRM truth(2, 3);
  truth << 1, 0, 4, 2, 0, 3;
  ConditionMetrics a = condition_metrics(s, truth, {0, 2}, Eigen::Vector3d(1, 0, 1));
  EXPECT_EQ(a.n_values, 4);
  // errors (0, 1, 0, 3): ||e||² = 10; ||y||² = 1 + 16 + 4 + 9 = 30; fluctuations 0 + 9 + 1 + 4 = 14.
  EXPECT_NEAR(a.rel_l2, std::sqrt(10.0 / 30.0), 1e-12);
  EXPECT_NEAR(a.rel_l2_fluct, std::sqrt(10.0 / 14.0), 1e-12);
  // |z| = 0, 1, 0, 3 against the 50% half-width 0.674 and the 90% half-width 1.645.
  EXPECT_DOUBLE_EQ(a.coverage50, 0.5);
  EXPECT_DOUBLE_EQ(a.coverage90, 0.75);
  EXPECT_NEAR(a.width90, 2 * 1.6448536269514722, 1e-12);
  const double crps = (2 * crps_gaussian(0, 1, 0) + crps_gaussian(0, 1, 1) + crps_gaussian(0, 1, 3)) / 4;
  EXPECT_NEAR(a.crps, crps, 1e-12);
}
