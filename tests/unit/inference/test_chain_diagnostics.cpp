// ESS and split-R̂ against processes whose answers are known in closed form.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "ved/inference/chain_diagnostics.hpp"
#include "ved/util/error.hpp"

using ved::inference::chain_diagnostics;

namespace {

// M chains of an AR(1) process x_t = φ x_{t-1} + sqrt(1 - φ²) e_t started in stationarity;
// its integrated autocorrelation time is (1 + φ) / (1 - φ).
Eigen::VectorXd ar1_chains(int m, int n, double phi, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> e;
  Eigen::VectorXd x(static_cast<Eigen::Index>(m) * n);
  for (int c = 0; c < m; ++c) {
    double v = e(rng);
    for (int t = 0; t < n; ++t) {
      if (t > 0) v = phi * v + std::sqrt(1 - phi * phi) * e(rng);
      x[c * n + t] = v;
    }
  }
  return x;
}

}  // namespace

TEST(ChainDiagnostics, IndependentDrawsHaveFullEssAndUnitRhat) {
  auto d = chain_diagnostics(ar1_chains(4, 20000, 0.0, 1), 4);
  EXPECT_NEAR(d.ess / 80000.0, 1.0, 0.05);
  EXPECT_NEAR(d.rhat, 1.0, 0.005);
}

TEST(ChainDiagnostics, Ar1EssMatchesIntegratedAutocorrelationTime) {
  for (double phi : {0.5, 0.9}) {
    const double tau = (1 + phi) / (1 - phi);  // 3 and 19
    auto d = chain_diagnostics(ar1_chains(4, 50000, phi, 7), 4);
    EXPECT_NEAR(d.ess / (200000.0 / tau), 1.0, 0.08) << "phi = " << phi << ", ess = " << d.ess;
    EXPECT_LT(d.rhat, 1.01);
  }
  // Negatively correlated draws are worth more than independent ones: τ = 1/3.
  auto d = chain_diagnostics(ar1_chains(4, 50000, -0.5, 3), 4);
  EXPECT_NEAR(d.ess / (200000.0 * 3.0), 1.0, 0.1) << d.ess;
}

TEST(ChainDiagnostics, DisagreeingOrDriftingChainsRaiseRhat) {
  Eigen::VectorXd x = ar1_chains(4, 2000, 0.0, 5);
  x.segment(3 * 2000, 2000).array() += 1.0;  // one chain sits elsewhere
  auto d = chain_diagnostics(x, 4);
  EXPECT_GT(d.rhat, 1.05);
  EXPECT_LT(d.ess, 4000);
  // One chain whose first half differs from its second: only the split catches it.
  Eigen::VectorXd y = ar1_chains(1, 4000, 0.0, 9);
  y.tail(2000).array() += 1.0;
  EXPECT_GT(chain_diagnostics(y, 1).rhat, 1.05);
}

TEST(ChainDiagnostics, ConstantDrawsAndBadShapes) {
  auto d = chain_diagnostics(Eigen::VectorXd::Constant(40, 2.5), 2);
  EXPECT_EQ(d.rhat, 1.0);
  EXPECT_EQ(d.ess, 40.0);
  EXPECT_THROW(chain_diagnostics(Eigen::VectorXd::Zero(10), 3), ved::Error);
  EXPECT_THROW(chain_diagnostics(Eigen::VectorXd::Zero(6), 2), ved::Error);
}
