#pragma once
// Predictive summaries and scores of conditional predictions (torch-free): per-output
// mean, standard deviation and quantiles from samples or from a Gaussian, and, against
// held-out truth on the unobserved outputs, the relative L2 error of the mean, the CRPS
// and the coverage of the central 50% and 90% intervals.
//
//   PredictiveSummary s(n_cases, m);
//   s.set_from_samples(c, samples);                  // [S, m] draws for case c
//   PredictiveSummary g = gaussian_summary(post.mean, post.std);
//   ConditionMetrics a = condition_metrics(s, truth, unobserved, train_mean);
#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "ved/util/array.hpp"

namespace ved::inference {

struct PredictiveSummary {
  PredictiveSummary() = default;
  PredictiveSummary(Eigen::Index n_cases, Eigen::Index n_outputs);

  MatrixRM mean, std;                 // [N, m] (std with divisor S - 1 for samples)
  MatrixRM q05, q25, q50, q75, q95;   // [N, m] quantiles (linear interpolation between order statistics)
  // [N, m] CRPS against the truth, when a truth was given (else empty): from the samples
  // (energy form, E|X - y| - E|X - X'|/2 over the empirical distribution) or in closed form.
  MatrixRM crps;

  // Summarises the draws [S, m] of case `c`; with `truth` ([m]) also its CRPS.
  void set_from_samples(Eigen::Index c, const MatrixRM& samples, const double* truth = nullptr);
};

// Quantiles and CRPS of independent Gaussians N(mean, std²) per entry; truth [N, m] or empty.
PredictiveSummary gaussian_summary(const MatrixRM& mean, const MatrixRM& std, const MatrixRM& truth = MatrixRM());

// CRPS of N(mu, sigma²) at y (Gneiting & Raftery 2007, eq. 21); sigma = 0 gives |y - mu|.
double crps_gaussian(double mu, double sigma, double y);
// CRPS of the empirical distribution of `sorted` (ascending) at y.
double crps_sorted_samples(const std::vector<double>& sorted, double y);

struct ConditionMetrics {
  double rel_l2 = 0;        // ||mean - y||_F / ||y||_F over the unobserved outputs of every case
  double rel_l2_fluct = 0;  // the same on fluctuations about the training mean: ||mean - y|| / ||y - ȳ||
  double crps = 0;          // mean CRPS (outputs' units)
  double coverage50 = 0;    // fraction of truths inside [q25, q75]
  double coverage90 = 0;    // fraction of truths inside [q05, q95]
  double width90 = 0;       // mean width q95 - q05
  int64_t n_values = 0;     // cases x unobserved outputs scored
};

// Scores `s` against `truth` [N, m] on the outputs listed in `unobserved`; s.crps must be
// filled (summaries built with the truth). train_mean: [m].
ConditionMetrics condition_metrics(const PredictiveSummary& s, const MatrixRM& truth,
                                   const std::vector<int64_t>& unobserved, const Eigen::VectorXd& train_mean);

}  // namespace ved::inference
