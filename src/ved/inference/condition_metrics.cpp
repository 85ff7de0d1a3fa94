#include "ved/inference/condition_metrics.hpp"

#include <algorithm>
#include <cmath>

#include "ved/util/error.hpp"

namespace ved::inference {
namespace {

constexpr double kZ75 = 0.6744897501960817;  // Φ⁻¹(0.75)
constexpr double kZ95 = 1.6448536269514722;  // Φ⁻¹(0.95)

// numpy's default ("linear") quantile of ascending values.
double quantile_sorted(const std::vector<double>& v, double p) {
  const double h = p * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (h - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

}  // namespace

PredictiveSummary::PredictiveSummary(Eigen::Index n_cases, Eigen::Index n_outputs)
    : mean(n_cases, n_outputs), std(n_cases, n_outputs), q05(n_cases, n_outputs), q25(n_cases, n_outputs),
      q50(n_cases, n_outputs), q75(n_cases, n_outputs), q95(n_cases, n_outputs) {}

double crps_gaussian(double mu, double sigma, double y) {
  if (!(sigma > 0)) return std::abs(y - mu);
  const double z = (y - mu) / sigma;
  const double pdf = std::exp(-0.5 * z * z) / std::sqrt(2 * M_PI);
  const double cdf = 0.5 * std::erfc(-z / std::sqrt(2.0));
  return sigma * (z * (2 * cdf - 1) + 2 * pdf - 1 / std::sqrt(M_PI));
}

double crps_sorted_samples(const std::vector<double>& sorted, double y) {
  // E|X - y| - ½ E|X - X'| with E|X - X'| = (2/S²) Σ_i (2i - S - 1) x_(i), i = 1..S.
  const double s = static_cast<double>(sorted.size());
  double abs_dev = 0, spread = 0;
  for (size_t i = 0; i < sorted.size(); ++i) {
    abs_dev += std::abs(sorted[i] - y);
    spread += (2.0 * static_cast<double>(i + 1) - s - 1) * sorted[i];
  }
  return abs_dev / s - spread / (s * s);
}

void PredictiveSummary::set_from_samples(Eigen::Index c, const MatrixRM& samples, const double* truth) {
  const Eigen::Index n_draws = samples.rows(), m = samples.cols();
  VED_CHECK(n_draws >= 2 && m == mean.cols(), "predictive summary: " << n_draws << " draws of " << m
                                                                     << " outputs; need at least 2 draws of " << mean.cols());
  if (truth && crps.size() == 0) crps = MatrixRM::Zero(mean.rows(), mean.cols());
  std::vector<double> v(static_cast<size_t>(n_draws));
  for (Eigen::Index j = 0; j < m; ++j) {
    for (Eigen::Index s = 0; s < n_draws; ++s) v[static_cast<size_t>(s)] = samples(s, j);
    std::sort(v.begin(), v.end());
    double sum = 0;
    for (double a : v) sum += a;
    const double mu = sum / static_cast<double>(n_draws);
    double ss = 0;
    for (double a : v) ss += (a - mu) * (a - mu);
    mean(c, j) = mu;
    std(c, j) = std::sqrt(ss / static_cast<double>(n_draws - 1));
    q05(c, j) = quantile_sorted(v, 0.05);
    q25(c, j) = quantile_sorted(v, 0.25);
    q50(c, j) = quantile_sorted(v, 0.50);
    q75(c, j) = quantile_sorted(v, 0.75);
    q95(c, j) = quantile_sorted(v, 0.95);
    if (truth) crps(c, j) = crps_sorted_samples(v, truth[j]);
  }
}

PredictiveSummary gaussian_summary(const MatrixRM& mean, const MatrixRM& std, const MatrixRM& truth) {
  PredictiveSummary s;
  s.mean = mean;
  s.std = std;
  s.q05 = mean - kZ95 * std;
  s.q25 = mean - kZ75 * std;
  s.q50 = mean;
  s.q75 = mean + kZ75 * std;
  s.q95 = mean + kZ95 * std;
  if (truth.size() > 0) {
    VED_CHECK(truth.rows() == mean.rows() && truth.cols() == mean.cols(),
              "truth has shape [" << truth.rows() << ", " << truth.cols() << "]; predictions [" << mean.rows() << ", "
                                  << mean.cols() << "]");
    s.crps.resize(mean.rows(), mean.cols());
    for (Eigen::Index c = 0; c < mean.rows(); ++c)
      for (Eigen::Index j = 0; j < mean.cols(); ++j) s.crps(c, j) = crps_gaussian(mean(c, j), std(c, j), truth(c, j));
  }
  return s;
}

ConditionMetrics condition_metrics(const PredictiveSummary& s, const MatrixRM& truth,
                                   const std::vector<int64_t>& unobserved, const Eigen::VectorXd& train_mean) {
  VED_CHECK(truth.rows() == s.mean.rows() && truth.cols() == s.mean.cols(),
            "truth has shape [" << truth.rows() << ", " << truth.cols() << "]; predictions [" << s.mean.rows() << ", "
                                << s.mean.cols() << "]");
  VED_CHECK(s.crps.rows() == truth.rows() && s.crps.cols() == truth.cols(), "predictive summary has no CRPS values");
  VED_CHECK(train_mean.size() == truth.cols(), "training mean has " << train_mean.size() << " outputs; truth " << truth.cols());
  ConditionMetrics a;
  double err2 = 0, y2 = 0, fl2 = 0;
  for (Eigen::Index c = 0; c < truth.rows(); ++c)
    for (int64_t j : unobserved) {
      const double y = truth(c, j);
      err2 += (s.mean(c, j) - y) * (s.mean(c, j) - y);
      y2 += y * y;
      fl2 += (y - train_mean[j]) * (y - train_mean[j]);
      a.crps += s.crps(c, j);
      a.coverage50 += (y >= s.q25(c, j) && y <= s.q75(c, j)) ? 1 : 0;
      a.coverage90 += (y >= s.q05(c, j) && y <= s.q95(c, j)) ? 1 : 0;
      a.width90 += s.q95(c, j) - s.q05(c, j);
      ++a.n_values;
    }
  VED_CHECK(a.n_values > 0, "no unobserved outputs to score: every output is observed");
  const double n = static_cast<double>(a.n_values);
  a.rel_l2 = y2 > 0 ? std::sqrt(err2 / y2) : std::sqrt(err2);
  a.rel_l2_fluct = fl2 > 0 ? std::sqrt(err2 / fl2) : std::sqrt(err2);
  a.crps /= n;
  a.coverage50 /= n;
  a.coverage90 /= n;
  a.width90 /= n;
  return a;
}

}  // namespace ved::inference
