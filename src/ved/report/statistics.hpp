#pragma once
// Intervals for the claims study (docs/claims.md): a two-level bootstrap over training
// seeds and held-out test rows.
//
//   Bootstrap boot(n_test_rows);                          // 2,000 replicates, fixed seed
//   ArmSample a = ...;                                     // per seed: per-row squared errors
//   Estimate e = boot.rel_error(a);                        // mean over seeds, 95% interval
//   Estimate d = boot.relative_change(a, b);               // err(a) / err(b) - 1, paired rows
//
// Each replicate resamples the test rows with replacement (the same rows for every arm, so
// comparisons between arms are paired on the test set) and, independently for each arm, its
// training seeds with replacement (trainings of different arms are independent). An arm's
// value in a replicate is the mean over its resampled seeds of sqrt(sum sq_err / sum sq_dev)
// over the resampled rows. Intervals are the replicates' 2.5% and 97.5% percentiles. With
// few seeds the seed level is coarse (3 seeds give 10 distinct means); the interval then
// understates seed-to-seed spread by about sqrt((S - 1) / S), which docs/claims.md states.
//
// Quantities measured once per seed (and per prior draw), such as generative metrics, are
// resampled over seeds and draws only (seed_level).
#include <Eigen/Core>

#include <cstdint>
#include <string>
#include <vector>

namespace ved {

// One arm's per-row terms of rel_l2_fluct: one [N] vector per training seed.
struct ArmSample {
  std::vector<Eigen::VectorXd> sq_err;
  std::vector<Eigen::VectorXd> sq_dev;
  uint64_t id = 0;  // decorrelates the seed resampling of different arms
  int seeds() const { return static_cast<int>(sq_err.size()); }
};

struct Estimate {
  double mean = 0;  // the point estimate (all rows, all seeds)
  double lo = 0;    // 2.5% percentile of the bootstrap replicates
  double hi = 0;    // 97.5% percentile
  int seeds = 0;
  bool valid() const { return seeds > 0; }
};

class Bootstrap {
 public:
  explicit Bootstrap(Eigen::Index rows, int replicates = 2000, uint64_t seed = 20261203);

  Eigen::Index rows() const { return rows_; }
  int replicates() const { return replicates_; }

  // Replicate values of an arm's error; [replicates], and its point estimate.
  Eigen::VectorXd rel_error_replicates(const ArmSample& a) const;
  static double rel_error_point(const ArmSample& a);

  Estimate rel_error(const ArmSample& a) const;
  // err(a) / err(b) - 1 (negative: a is better), rows paired.
  Estimate relative_change(const ArmSample& a, const ArmSample& b) const;
  // Any combination of arms: f maps the arms' errors (in order) to one number; the same f is
  // applied to the point estimates and to every replicate. Used for claim 3's main effects.
  template <class F>
  Estimate combine(const std::vector<const ArmSample*>& arms, F f) const;

  // Seed-level quantities: values[s] holds one or more values (e.g. prior draws) of seed s.
  // Replicates resample seeds, then values within each seed; point = mean of seed means.
  Eigen::VectorXd seed_level_replicates(const std::vector<std::vector<double>>& values, uint64_t id) const;
  static double seed_level_point(const std::vector<std::vector<double>>& values);
  Estimate seed_level(const std::vector<std::vector<double>>& values, uint64_t id) const;
  // mean(a) / mean(b) - 1 and mean(a) - mean(b) for seed-level quantities.
  Estimate seed_level_relative_change(const std::vector<std::vector<double>>& a, uint64_t id_a,
                                      const std::vector<std::vector<double>>& b, uint64_t id_b) const;
  Estimate seed_level_difference(const std::vector<std::vector<double>>& a, uint64_t id_a,
                                 const std::vector<std::vector<double>>& b, uint64_t id_b) const;

 private:
  Eigen::Index rows_;
  int replicates_;
  uint64_t seed_;
  Eigen::MatrixXd counts_;  // [rows, replicates]: how often each row is drawn in each replicate
};

// The 2.5% and 97.5% percentiles of replicates around a point estimate.
Estimate percentile_interval(double point, const Eigen::VectorXd& replicates, int seeds);

// Which side of a margin an interval lies on: "below" (hi < margin), "above" (lo > margin)
// or "across".
std::string side_of(const Estimate& e, double margin);

template <class F>
Estimate Bootstrap::combine(const std::vector<const ArmSample*>& arms, F f) const {
  std::vector<Eigen::VectorXd> reps;
  std::vector<double> points;
  int seeds = 1 << 30;
  for (const ArmSample* a : arms) {
    reps.push_back(rel_error_replicates(*a));
    points.push_back(rel_error_point(*a));
    seeds = std::min(seeds, a->seeds());
  }
  Eigen::VectorXd out(replicates_);
  std::vector<double> v(arms.size());
  for (int b = 0; b < replicates_; ++b) {
    for (size_t k = 0; k < arms.size(); ++k) v[k] = reps[k][b];
    out[b] = f(v);
  }
  return percentile_interval(f(points), out, seeds);
}

}  // namespace ved
