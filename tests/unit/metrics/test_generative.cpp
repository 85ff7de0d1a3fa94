// Generative-quality metrics against brute-force sums and closed forms.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "ved/metrics/generative.hpp"
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

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

// x with normal_cdf(x) = u, by bisection (tests only need it for a few thousand points).
double normal_quantile(double u) {
  double lo = -10, hi = 10;
  for (int it = 0; it < 80; ++it) {
    const double mid = 0.5 * (lo + hi);
    (normal_cdf(mid) < u ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

// [n, 1] midpoint quantiles of N(shift, 1): a deterministic "sample" whose empirical
// distribution is within O(1/n) of the Gaussian, so the estimators meet their closed forms.
MatrixRM normal_quantile_grid(Eigen::Index n, double shift) {
  MatrixRM a(n, 1);
  for (Eigen::Index i = 0; i < n; ++i) a(i, 0) = shift + normal_quantile((static_cast<double>(i) + 0.5) / n);
  return a;
}

// W1 as the integral over u in (0, 1) of |F_a^-1(u) - F_b^-1(u)|: an independent route
// from the CDF walk in wasserstein1_1d.
double w1_by_quantiles(std::vector<double> a, std::vector<double> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  const double m = static_cast<double>(a.size()), n = static_cast<double>(b.size());
  std::vector<double> u;
  for (size_t i = 0; i <= a.size(); ++i) u.push_back(i / m);
  for (size_t j = 0; j <= b.size(); ++j) u.push_back(j / n);
  std::sort(u.begin(), u.end());
  double w = 0;
  for (size_t t = 0; t + 1 < u.size(); ++t) {
    if (u[t + 1] == u[t]) continue;  // empty interval; at u = 1 its midpoint indexes past the end
    const double mid = 0.5 * (u[t] + u[t + 1]);
    w += std::abs(a[static_cast<size_t>(mid * m)] - b[static_cast<size_t>(mid * n)]) * (u[t + 1] - u[t]);
  }
  return w;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(GenerativeMetrics, MatchesBruteForceSums) {
  // 70 + 53 pooled rows span two pairwise blocks, with P rows in both.
  const MatrixRM p = normal_matrix(70, 4, 1);
  MatrixRM q = 1.3 * normal_matrix(53, 4, 2);
  q.col(0).array() += 0.7;
  const Eigen::Index m = p.rows(), n = q.rows();
  GenerativeOptions opts;
  opts.median_max_points = 1000;  // all true points: the exact median
  const GenerativeMetrics g = generative_metrics(p, q, opts);
  // The bandwidth depends on the truth alone: another sample scored against q gets the same.
  EXPECT_NEAR(generative_metrics(2.0 * normal_matrix(40, 4, 9), q, opts).gaussian_bandwidth, g.gaussian_bandwidth,
              1e-12 * g.gaussian_bandwidth);

  MatrixRM x(m + n, 4);
  x << p, q;
  std::vector<double> dists;  // median over pairs of the truth q only
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = i + 1; j < n; ++j) dists.push_back((q.row(i) - q.row(j)).norm());
  std::sort(dists.begin(), dists.end());
  const size_t h = dists.size() / 2;
  const double median = dists.size() % 2 ? dists[h] : 0.5 * (dists[h - 1] + dists[h]);
  EXPECT_NEAR(g.gaussian_bandwidth, median, 1e-12 * median);

  const Eigen::RowVectorXd mu_q = q.colwise().mean();
  const double c2 = 2.0 * (q.rowwise() - mu_q).squaredNorm() / (n - 1);
  EXPECT_NEAR(g.imq_c2, c2, 1e-12 * c2);
  auto gauss = [&](double d) { return std::exp(-d * d / (2 * median * median)); };
  auto imq = [&](double d) { return 1.0 / std::sqrt(1.0 + d * d / c2); };
  double kpp[2] = {0, 0}, kqq[2] = {0, 0}, kpq[2] = {0, 0}, dpp = 0, dqq = 0, dpq = 0;
  for (Eigen::Index i = 0; i < m; ++i)
    for (Eigen::Index j = 0; j < m; ++j) {
      const double d = (p.row(i) - p.row(j)).norm();
      dpp += d;
      if (i != j) kpp[0] += gauss(d), kpp[1] += imq(d);
    }
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < n; ++j) {
      const double d = (q.row(i) - q.row(j)).norm();
      dqq += d;
      if (i != j) kqq[0] += gauss(d), kqq[1] += imq(d);
    }
  for (Eigen::Index i = 0; i < m; ++i)
    for (Eigen::Index j = 0; j < n; ++j) {
      const double d = (p.row(i) - q.row(j)).norm();
      dpq += d;
      kpq[0] += gauss(d), kpq[1] += imq(d);
    }
  const double mm = m, nn = n;
  const double mmd_gauss = kpp[0] / (mm * (mm - 1)) + kqq[0] / (nn * (nn - 1)) - 2 * kpq[0] / (mm * nn);
  const double mmd_imq = kpp[1] / (mm * (mm - 1)) + kqq[1] / (nn * (nn - 1)) - 2 * kpq[1] / (mm * nn);
  const double energy = 2 * dpq / (mm * nn) - dpp / (mm * mm) - dqq / (nn * nn);
  EXPECT_NEAR(g.mmd2_gaussian, mmd_gauss, 1e-12);
  EXPECT_NEAR(g.mmd2_imq, mmd_imq, 1e-12);
  EXPECT_NEAR(g.energy_distance, energy, 1e-12);
  EXPECT_GT(g.mmd2_gaussian, 0.0);

  double w1 = 0;
  for (int j = 0; j < 4; ++j) {
    std::vector<double> a, b;
    for (Eigen::Index i = 0; i < m; ++i) a.push_back(p(i, j));
    for (Eigen::Index i = 0; i < n; ++i) b.push_back(q(i, j));
    w1 += w1_by_quantiles(a, b) / 4;
  }
  EXPECT_NEAR(g.wasserstein1, w1, 1e-12);
  EXPECT_EQ(g.n_samples, 70);
  EXPECT_EQ(g.n_truth, 53);
}

TEST(GenerativeMetrics, IdenticalSamplesScoreZero) {
  const MatrixRM q = normal_matrix(200, 5, 3);
  const GenerativeMetrics g = generative_metrics(q, q);
  EXPECT_NEAR(g.energy_distance, 0.0, 1e-12);
  EXPECT_EQ(g.wasserstein1, 0.0);
  EXPECT_EQ(g.mean_rel_err, 0.0);
  EXPECT_EQ(g.cov_rel_err, 0.0);
  // The unbiased MMD² of a sample with itself is -2(1 - mean off-diagonal k)/M: O(1/M).
  EXPECT_LT(std::abs(g.mmd2_gaussian), 2.0 / 200);
  EXPECT_LT(std::abs(g.mmd2_imq), 2.0 / 200);
}

TEST(GenerativeMetrics, ShiftedGaussians1DMeetClosedForms) {
  // P ~ N(delta, 1), Q ~ N(0, 1) as quantile grids.
  const double delta = 1.0, h = 1.5;
  const MatrixRM p = normal_quantile_grid(1000, delta), q = normal_quantile_grid(1000, 0.0);
  GenerativeOptions opts;
  opts.gaussian_bandwidth = h;
  const GenerativeMetrics g = generative_metrics(p, q, opts);
  EXPECT_NEAR(g.wasserstein1, delta, 1e-12);  // the shift, exactly
  // X - Y ~ N(-delta, 2): E|X - Y| = (2/sqrt(pi)) exp(-delta²/4) + delta (2 Phi(delta/sqrt2) - 1),
  // E|X - X'| = E|Y - Y'| = 2/sqrt(pi).
  const double c = 2.0 / std::sqrt(M_PI);
  const double exy = c * std::exp(-delta * delta / 4) + delta * (2 * normal_cdf(delta / std::sqrt(2.0)) - 1);
  const double energy = 2 * exy - 2 * c;  // 0.5418 for delta = 1
  EXPECT_NEAR(g.energy_distance, energy, 3e-3);
  // Gaussian kernel, N(a, s²I) vs N(b, s²I) in d dims:
  // MMD² = 2 (h²/(h² + 2s²))^(d/2) (1 - exp(-|a - b|² / (2 (h² + 2s²)))).
  const double mmd = 2 * std::sqrt(h * h / (h * h + 2)) * (1 - std::exp(-delta * delta / (2 * (h * h + 2))));
  EXPECT_NEAR(g.mmd2_gaussian, mmd, 2e-3 * mmd + 1e-3);
  EXPECT_NEAR(g.mean_rel_err, delta, 5e-3);  // Q's standard deviation is 1
}

TEST(GenerativeMetrics, ShiftedGaussiansInSeveralDimensions) {
  // Shift along the first of 3 outputs, random samples: estimates within about 4 standard
  // deviations of their sampling error (measured over 20 seeds at this size).
  MatrixRM p = normal_matrix(1000, 3, 4);
  const MatrixRM q = normal_matrix(1000, 3, 5);
  p.col(0).array() += 1.0;
  GenerativeOptions opts;
  opts.median_max_points = 2000;  // the exact median
  const GenerativeMetrics g = generative_metrics(p, q, opts);
  // Gaussian kernel, N(a, s²I) vs N(b, s²I) in d dims:
  // MMD² = 2 (h²/(h² + 2s²))^(d/2) (1 - exp(-|a - b|² / (2 (h² + 2s²)))).
  const double h2 = g.gaussian_bandwidth * g.gaussian_bandwidth;
  const double mmd = 2 * std::pow(h2 / (h2 + 2), 1.5) * (1 - std::exp(-1.0 / (2 * (h2 + 2))));  // 0.084
  EXPECT_NEAR(g.mmd2_gaussian, mmd, 0.025);
  EXPECT_NEAR(g.mean_rel_err, 1 / std::sqrt(3.0), 0.1);
  EXPECT_GT(g.mmd2_imq, 0.02);
  EXPECT_NEAR(g.cov_rel_err, 0.0, 0.2);
  // The median heuristic on a strided subsample (500 of the 1000 true points)
  // lands near the exact median (in 3-D; distances concentrate in higher dimension).
  opts.median_max_points = 500;
  const double h_sub = generative_metrics(p, q, opts).gaussian_bandwidth;
  EXPECT_NEAR(h_sub, g.gaussian_bandwidth, 0.04 * g.gaussian_bandwidth);
}

TEST(GenerativeMetrics, KnownMomentErrors) {
  MatrixRM q = normal_matrix(300, 4, 6);
  q.rowwise() += Eigen::RowVector4d(5, -2, 1, 3);
  const Eigen::RowVectorXd mu_q = q.colwise().mean();
  const double trace_q = (q.rowwise() - mu_q).squaredNorm() / 299;

  const Eigen::RowVector4d shift(0.3, 0, -0.4, 0);
  const MatrixRM shifted = q.rowwise() + shift;
  GenerativeMetrics g = generative_metrics(shifted, q);
  EXPECT_NEAR(g.mean_rel_err, 0.5 / std::sqrt(trace_q), 1e-12);
  EXPECT_NEAR(g.mean_rel_err_raw, 0.5 / mu_q.norm(), 1e-12);
  EXPECT_NEAR(g.cov_rel_err, 0.0, 1e-12);

  const MatrixRM scaled = (2.0 * (q.rowwise() - mu_q)).rowwise() + mu_q;  // covariance x4
  g = generative_metrics(scaled, q);
  EXPECT_NEAR(g.mean_rel_err, 0.0, 1e-12);
  EXPECT_NEAR(g.cov_rel_err, 3.0, 1e-12);
}

TEST(Wasserstein1, UnequalSizesExact) {
  EXPECT_NEAR(wasserstein1_1d(Eigen::Vector2d(0, 1), Eigen::Vector3d(0, 0.5, 1)), 1.0 / 6, 1e-15);
  EXPECT_NEAR(wasserstein1_1d(Eigen::VectorXd::Constant(1, 0.0), Eigen::Vector2d(3, 1)), 2.0, 1e-15);
  EXPECT_NEAR(wasserstein1_1d(Eigen::Vector2d(3, 1), Eigen::VectorXd::Constant(1, 0.0)), 2.0, 1e-15);
}

TEST(StandardiseOutputs, UsesTrainingStatistics) {
  MatrixRM y(2, 2);
  y << 1, 10, 3, 30;
  const MatrixRM z = standardise_outputs(y, Eigen::Vector2d(2, 20), Eigen::Vector2d(1, 10));
  MatrixRM expect(2, 2);
  expect << -1, -1, 1, 1;
  EXPECT_EQ(z, expect);
  EXPECT_NE(error_of([&] { standardise_outputs(y, Eigen::Vector2d(2, 20), Eigen::Vector2d(1, 0)); })
                .find("std of output 1 is 0; expected a positive finite value"),
            std::string::npos);
}

TEST(GenerativeMetrics, ErrorsNameTheShapes) {
  const MatrixRM a = normal_matrix(5, 3, 7), b = normal_matrix(6, 4, 8);
  EXPECT_NE(error_of([&] { generative_metrics(a, b); }).find("samples have 3 outputs but truth has 4"),
            std::string::npos);
  EXPECT_NE(error_of([&] { generative_metrics(a.topRows(1), a); })
                .find("1 samples and 5 true outputs; need at least 2"),
            std::string::npos);
  MatrixRM c = a;
  c(2, 1) = std::nan("");
  EXPECT_NE(error_of([&] { generative_metrics(c, a); }).find("samples contain non-finite values"), std::string::npos);
}

}  // namespace ved
