#include "ved/report/statistics.hpp"

#include <algorithm>
#include <cmath>

#include "ved/util/error.hpp"
#include "ved/util/rng.hpp"

namespace ved {
namespace {

// A cheap, well-mixed stream per replicate (SplitMix64), cheaper to seed than mt19937.
struct Stream {
  uint64_t state;
  uint64_t operator()() { return mix_seed(state++, 0); }
};

// Uniform index in [0, n) (n is small next to 2^64; the bias is negligible).
Eigen::Index draw(Stream& engine, Eigen::Index n) {
  return static_cast<Eigen::Index>(engine() % static_cast<uint64_t>(n));
}

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

void check_arm(const ArmSample& a, Eigen::Index rows) {
  VED_CHECK(a.seeds() > 0 && a.sq_dev.size() == a.sq_err.size(), "bootstrap: an arm without seeds");
  for (size_t s = 0; s < a.sq_err.size(); ++s)
    VED_CHECK(a.sq_err[s].size() == rows && a.sq_dev[s].size() == rows,
              "bootstrap: seed " << s << " of an arm scores " << a.sq_err[s].size() << " rows; expected " << rows
                                 << " (every run must be scored on the same test rows)");
}

}  // namespace

Bootstrap::Bootstrap(Eigen::Index rows, int replicates, uint64_t seed)
    : rows_(rows), replicates_(replicates), seed_(seed), counts_(Eigen::MatrixXd::Zero(rows, replicates)) {
  VED_CHECK(rows >= 2 && replicates >= 100, "bootstrap: " << rows << " rows and " << replicates
                                                          << " replicates; need at least 2 rows and 100 replicates");
  for (int b = 0; b < replicates_; ++b) {
    Stream engine{mix_seed(seed_, static_cast<uint64_t>(b))};
    for (Eigen::Index i = 0; i < rows_; ++i) counts_(draw(engine, rows_), b) += 1;
  }
}

double Bootstrap::rel_error_point(const ArmSample& a) {
  double sum = 0;
  for (size_t s = 0; s < a.sq_err.size(); ++s) sum += std::sqrt(a.sq_err[s].sum() / a.sq_dev[s].sum());
  return sum / static_cast<double>(a.sq_err.size());
}

Eigen::VectorXd Bootstrap::rel_error_replicates(const ArmSample& a) const {
  check_arm(a, rows_);
  const Eigen::MatrixXd& w = counts_;
  // per_seed(b, s): the error of seed s on replicate b's rows.
  Eigen::MatrixXd per_seed(replicates_, a.seeds());
  for (int s = 0; s < a.seeds(); ++s) {
    const Eigen::VectorXd err = w.transpose() * a.sq_err[static_cast<size_t>(s)];
    const Eigen::VectorXd dev = w.transpose() * a.sq_dev[static_cast<size_t>(s)];
    per_seed.col(s) = (err.array() / dev.array()).sqrt().matrix();
  }
  Eigen::VectorXd out(replicates_);
  for (int b = 0; b < replicates_; ++b) {
    Stream engine{mix_seed(seed_ ^ mix_seed(a.id, 7), static_cast<uint64_t>(b))};
    double sum = 0;
    for (int k = 0; k < a.seeds(); ++k) sum += per_seed(b, draw(engine, a.seeds()));
    out[b] = sum / a.seeds();
  }
  return out;
}

Estimate Bootstrap::rel_error(const ArmSample& a) const {
  return percentile_interval(rel_error_point(a), rel_error_replicates(a), a.seeds());
}

Estimate Bootstrap::relative_change(const ArmSample& a, const ArmSample& b) const {
  return combine({&a, &b}, [](const std::vector<double>& v) { return v[0] / v[1] - 1.0; });
}

double Bootstrap::seed_level_point(const std::vector<std::vector<double>>& values) {
  double sum = 0;
  for (const auto& v : values) sum += mean_of(v);
  return sum / static_cast<double>(values.size());
}

Eigen::VectorXd Bootstrap::seed_level_replicates(const std::vector<std::vector<double>>& values, uint64_t id) const {
  VED_CHECK(!values.empty(), "bootstrap: a seed-level quantity without seeds");
  for (const auto& v : values) VED_CHECK(!v.empty(), "bootstrap: a seed without values");
  const Eigen::Index n = static_cast<Eigen::Index>(values.size());
  Eigen::VectorXd out(replicates_);
  for (int b = 0; b < replicates_; ++b) {
    Stream engine{mix_seed(seed_ ^ mix_seed(id, 11), static_cast<uint64_t>(b))};
    double sum = 0;
    for (Eigen::Index k = 0; k < n; ++k) {
      const auto& v = values[static_cast<size_t>(draw(engine, n))];
      const Eigen::Index d = static_cast<Eigen::Index>(v.size());
      double inner = 0;
      for (Eigen::Index t = 0; t < d; ++t) inner += v[static_cast<size_t>(draw(engine, d))];
      sum += inner / static_cast<double>(d);
    }
    out[b] = sum / static_cast<double>(n);
  }
  return out;
}

Estimate Bootstrap::seed_level(const std::vector<std::vector<double>>& values, uint64_t id) const {
  return percentile_interval(seed_level_point(values), seed_level_replicates(values, id),
                             static_cast<int>(values.size()));
}

Estimate Bootstrap::seed_level_relative_change(const std::vector<std::vector<double>>& a, uint64_t id_a,
                                               const std::vector<std::vector<double>>& b, uint64_t id_b) const {
  const Eigen::VectorXd ra = seed_level_replicates(a, id_a), rb = seed_level_replicates(b, id_b);
  return percentile_interval(seed_level_point(a) / seed_level_point(b) - 1.0, (ra.array() / rb.array() - 1.0).matrix(),
                             static_cast<int>(std::min(a.size(), b.size())));
}

Estimate Bootstrap::seed_level_difference(const std::vector<std::vector<double>>& a, uint64_t id_a,
                                          const std::vector<std::vector<double>>& b, uint64_t id_b) const {
  const Eigen::VectorXd ra = seed_level_replicates(a, id_a), rb = seed_level_replicates(b, id_b);
  return percentile_interval(seed_level_point(a) - seed_level_point(b), ra - rb,
                             static_cast<int>(std::min(a.size(), b.size())));
}

Estimate percentile_interval(double point, const Eigen::VectorXd& replicates, int seeds) {
  std::vector<double> v(replicates.data(), replicates.data() + replicates.size());
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
  VED_CHECK(!v.empty(), "bootstrap: every replicate is non-finite");
  std::sort(v.begin(), v.end());
  // Linear interpolation between order statistics (numpy's default percentile).
  auto quantile = [&](double q) {
    const double pos = q * static_cast<double>(v.size() - 1);
    const size_t i = static_cast<size_t>(std::floor(pos));
    const double f = pos - static_cast<double>(i);
    return i + 1 < v.size() ? v[i] * (1 - f) + v[i + 1] * f : v[i];
  };
  return {point, quantile(0.025), quantile(0.975), seeds};
}

std::string side_of(const Estimate& e, double margin) {
  if (e.hi < margin) return "below";
  if (e.lo > margin) return "above";
  return "across";
}

}  // namespace ved
