#pragma once
// Generative-quality metrics (docs/method.md §9.2): how close the outputs decoded from prior samples
// z ~ N(0, I) are, as a distribution, to held-out true outputs.
//
//   MatrixRM p = standardise_outputs(decoded, y_train_mean, y_train_std);  // [M, m], optional
//   MatrixRM q = standardise_outputs(y_test, y_train_mean, y_train_std);   // [N, m]
//   GenerativeMetrics g = generative_metrics(p, q);
//   // g.mmd2_gaussian, g.energy_distance, g.wasserstein1, g.cov_rel_err, ...
//
// Every metric is zero (MMD²: zero in expectation) when the two samples come from the same
// distribution and grows with the mismatch. The pairwise terms cost O((M + N)² m), about
// 5 GFLOP for M = N = 2000, m = 323 (0.6 s on one core), run in row blocks on all OpenMP
// threads with memory O(block · (M + N)). Results do not depend on the thread count.
#include <Eigen/Core>

#include "ved/util/array.hpp"

namespace ved {

struct GenerativeOptions {
  // Gaussian kernel k(x, y) = exp(-|x - y|² / (2 h²)). h <= 0: median heuristic (Gretton et
  // al. 2012) on the truth alone, h = the median pairwise Euclidean distance in Q, so that
  // every model scored against the same held-out set is scored with the same kernel.
  double gaussian_bandwidth = 0;
  // The median is taken over the pairs of at most this many true points, an evenly
  // strided subsample when N is larger: 0.04% off the exact median for M = N = 2000,
  // m = 323 (distances concentrate), a few % in 3-D; exact costs about 2.5x the run time.
  int median_max_points = 1000;
  // Inverse multiquadric kernel k(x, y) = (1 + |x - y|² / c²)^(-1/2), so k(x, x) = 1.
  // c² <= 0: c² = 2 m v̄ with v̄ the mean per-output variance of the truth Q, i.e. c² ≈ 2m on
  // standardised outputs. This is the dimension-scaled choice of Tolstikhin et al. (WAE,
  // 2018): c² is the expected |x - y|² of two independent draws, so the kernel neither
  // saturates nor flattens as m grows. Q alone sets it, so every model scored on the
  // same test set is scored with the same kernel.
  double imq_c2 = 0;
};

struct GenerativeMetrics {
  double mmd2_gaussian = 0;    // unbiased U-statistic MMD², Gaussian kernel (can dip below 0)
  double mmd2_imq = 0;         // unbiased U-statistic MMD², IMQ kernel
  double energy_distance = 0;  // 2E|X-Y| - E|X-X'| - E|Y-Y'| (V-statistic, >= 0; its sqrt is a metric)
  double wasserstein1 = 0;     // mean over the m outputs of the exact 1-D W1 between marginals
  // |mu_P - mu_Q| / sqrt(tr C_Q): the mean error in units of the RMS fluctuation
  // sqrt(E|y - mu_Q|²). Not / |mu_Q - ybar| with ybar the training mean: that is sampling
  // noise, about sqrt(tr C_Q / N), not a scale.
  double mean_rel_err = 0;
  double mean_rel_err_raw = 0; // |mu_P - mu_Q| / |mu_Q|; meaningless where mu_Q ≈ 0 (standardised outputs)
  double cov_rel_err = 0;      // |C_P - C_Q|_F / |C_Q|_F, unbiased sample covariances
  double gaussian_bandwidth = 0;  // h actually used
  double imq_c2 = 0;              // c² actually used
  Eigen::Index n_samples = 0;     // M
  Eigen::Index n_truth = 0;       // N
};

// samples P: [M, m] generated outputs; truth Q: [N, m] held-out outputs; same units (both
// physical or both standardised). Needs M, N >= 2.
GenerativeMetrics generative_metrics(const MatrixRM& samples, const MatrixRM& truth,
                                     const GenerativeOptions& opts = {});

// (y - train_mean) / train_std per column; y: [N, m], train_mean, train_std: [m].
// Apply it to both samples and truth so that every output weighs the same in the
// multivariate metrics (raw heads are dominated by the wells with the largest spread).
MatrixRM standardise_outputs(const MatrixRM& y, const Eigen::VectorXd& train_mean, const Eigen::VectorXd& train_std);

// Exact 1-D Wasserstein-1 distance between two empirical distributions of any sizes:
// the integral of |F_a - F_b| (as scipy.stats.wasserstein_distance).
double wasserstein1_1d(const Eigen::VectorXd& a, const Eigen::VectorXd& b);

}  // namespace ved
