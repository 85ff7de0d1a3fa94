// The bootstrap behind the claims table: exact cases, pairing, and coverage of the true
// value by the 95% interval in repeated experiments.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "ved/report/statistics.hpp"
#include "ved/util/error.hpp"

namespace ved {
namespace {

ArmSample arm_with_ratio(const Eigen::VectorXd& dev, double ratio, uint64_t id) {
  ArmSample a;
  a.sq_dev = {dev};
  a.sq_err = {ratio * dev};
  a.id = id;
  return a;
}

Eigen::VectorXd positive_rows(Eigen::Index n, uint64_t seed) {
  std::mt19937_64 g(seed);
  std::gamma_distribution<double> gamma(2.0, 1.0);
  Eigen::VectorXd v(n);
  for (Eigen::Index i = 0; i < n; ++i) v[i] = gamma(g);
  return v;
}

}  // namespace

TEST(Bootstrap, ConstantRatioGivesAPointInterval) {
  // err_i = 0.16 dev_i on every row: every resample of rows has error exactly 0.4.
  const Eigen::VectorXd dev = positive_rows(200, 1);
  Bootstrap boot(200, 500);
  Estimate e = boot.rel_error(arm_with_ratio(dev, 0.16, 1));
  EXPECT_NEAR(e.mean, 0.4, 1e-12);
  EXPECT_NEAR(e.lo, 0.4, 1e-12);
  EXPECT_NEAR(e.hi, 0.4, 1e-12);
}

TEST(Bootstrap, ComparisonsArePairedOnTestRows) {
  // B's squared errors are 1.21 x A's row by row, with noisy rows: the relative change is
  // exactly +10% in every replicate when rows are paired (unpaired it would scatter).
  const Eigen::VectorXd dev = positive_rows(300, 2);
  Eigen::VectorXd err = positive_rows(300, 3).cwiseProduct(dev) * 0.1;
  ArmSample a, b;
  a.sq_dev = b.sq_dev = {dev};
  a.sq_err = {err};
  b.sq_err = {1.21 * err};
  a.id = 1;
  b.id = 2;
  Bootstrap boot(300, 500);
  Estimate c = boot.relative_change(b, a);
  EXPECT_NEAR(c.mean, 0.1, 1e-12);
  EXPECT_NEAR(c.lo, 0.1, 1e-12);
  EXPECT_NEAR(c.hi, 0.1, 1e-12);
  // The error of A alone does scatter.
  Estimate ea = boot.rel_error(a);
  EXPECT_LT(ea.lo, ea.mean);
  EXPECT_GT(ea.hi, ea.mean);
}

TEST(Bootstrap, SeedLevelResamplesSeeds) {
  // Three seeds with errors sqrt(0.09), sqrt(0.16), sqrt(0.25) on every row: the point is
  // their mean 0.4, and replicate means lie between the smallest and largest seed.
  const Eigen::VectorXd dev = positive_rows(50, 4);
  ArmSample a;
  for (double r : {0.09, 0.16, 0.25}) {
    a.sq_dev.push_back(dev);
    a.sq_err.push_back(r * dev);
  }
  Bootstrap boot(50, 2000);
  Estimate e = boot.rel_error(a);
  EXPECT_NEAR(e.mean, 0.4, 1e-12);
  EXPECT_GE(e.lo, 0.3 - 1e-12);
  EXPECT_LE(e.hi, 0.5 + 1e-12);
  EXPECT_LT(e.lo, 0.37);  // at least one replicate in 40 draws three times seed 1 or 2
  EXPECT_GT(e.hi, 0.43);
  Estimate s = boot.seed_level({{1.0, 1.0}, {2.0}, {3.0, 3.0, 3.0}}, 9);
  EXPECT_DOUBLE_EQ(s.mean, 2.0);
  EXPECT_GE(s.lo, 1.0);
  EXPECT_LE(s.hi, 3.0);
  Estimate d = boot.seed_level_difference({{2.0}, {2.0}}, 1, {{1.0}, {1.0}}, 2);
  EXPECT_DOUBLE_EQ(d.lo, 1.0);
  EXPECT_DOUBLE_EQ(d.hi, 1.0);
}

TEST(Bootstrap, NinetyFivePercentIntervalsCoverTheTruth) {
  // Rows: dev ~ Gamma(2, 1), err = dev * u with u ~ Uniform(0, 0.32) independent: the true
  // error is sqrt(E[err] / E[dev]) = sqrt(0.16) = 0.4. Over 300 experiments of 300 rows the
  // interval should cover 0.4 about 95% of the time; 88-99% allows for Monte Carlo error
  // (a binomial standard deviation is 1.3%) and the percentile method's small bias.
  std::mt19937_64 g(5);
  std::gamma_distribution<double> gamma(2.0, 1.0);
  std::uniform_real_distribution<double> unif(0.0, 0.32);
  const int experiments = 300, rows = 300;
  Bootstrap boot(rows, 1000, 77);
  int covered = 0;
  for (int t = 0; t < experiments; ++t) {
    ArmSample a;
    Eigen::VectorXd dev(rows), err(rows);
    for (int i = 0; i < rows; ++i) {
      dev[i] = gamma(g);
      err[i] = dev[i] * unif(g);
    }
    a.sq_dev = {dev};
    a.sq_err = {err};
    Estimate e = boot.rel_error(a);
    covered += e.lo <= 0.4 && 0.4 <= e.hi;
  }
  const double rate = static_cast<double>(covered) / experiments;
  EXPECT_GT(rate, 0.88) << rate;
  EXPECT_LT(rate, 0.99) << rate;
}

TEST(Bootstrap, SideOfAMargin) {
  EXPECT_EQ(side_of({0.1, 0.06, 0.14, 3}, 0.05), "above");
  EXPECT_EQ(side_of({0.0, -0.02, 0.04, 3}, 0.05), "below");
  EXPECT_EQ(side_of({0.05, 0.01, 0.09, 3}, 0.05), "across");
  const double nan = std::nan("");
  EXPECT_EQ(side_of({0.1, nan, nan, 1}, 0.05), "across");  // no interval: never decided
}

TEST(Bootstrap, MismatchedRowsAreAnError) {
  Bootstrap boot(10, 100);
  ArmSample a;
  a.sq_dev = {Eigen::VectorXd::Ones(9)};
  a.sq_err = {Eigen::VectorXd::Ones(9)};
  EXPECT_THROW(boot.rel_error(a), Error);
}

}  // namespace ved
