#pragma once
// Gaussian priors on a model's outputs, fitted to training outputs, and their exact
// conditioning on observed outputs: the baselines of `ved condition` (torch-free).
//
//   GaussianPrior g = ledoit_wolf_prior(y_train);          // mean + shrinkage covariance
//   GaussianPrior p = ppca_prior(y_train, 50);             // probabilistic PCA of rank 50
//   GaussianPosterior post = condition_gaussian(g, obs.index, obs.value, noise_var);
//   post.mean, post.std                                    // [N, m] over every output
#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "ved/util/array.hpp"

namespace ved::inference {

struct GaussianPrior {
  Eigen::VectorXd mean;  // [m]
  Eigen::MatrixXd cov;   // [m, m], symmetric positive definite
  double shrinkage = 0;  // Ledoit-Wolf: weight of the target; PPCA: 0
  double residual_var = 0;  // PPCA: σ² of the discarded directions; Ledoit-Wolf: 0
};

// Ledoit & Wolf (2004): the outputs are standardised by their sample standard deviations,
// the sample covariance (divisor n) of the standardised outputs is shrunk towards its
// scaled identity μI with the optimal weight, and the result is scaled back: a covariance
// shrunk towards the diagonal of the sample covariance. y_train: [n, m], n ≥ 2.
GaussianPrior ledoit_wolf_prior(const MatrixRM& y_train);

// Probabilistic PCA (Tipping & Bishop 1999) of rank r: C = U_r Λ_r U_rᵀ + σ² (I - U_r U_rᵀ)
// with σ² the mean of the m - r discarded eigenvalues of the sample covariance
// (divisor n - 1). r ≥ 1; r ≥ m gives the sample covariance itself (plus 1e-10 of its
// trace per output, so that it can be factorised).
GaussianPrior ppca_prior(const MatrixRM& y_train, int rank);

struct GaussianPosterior {
  MatrixRM mean;  // [N, m] E[y | y_obs]
  MatrixRM std;   // [N, m] sqrt(Var[y | y_obs]) (the same for every case)
};

// y ~ N(prior), y_obs = y[index] + e, e ~ N(0, diag(noise_var)): the conditional
// distribution of every output (observed ones included), case by case. index: [k] output
// indices; value: [N, k]; noise_var: [k] (zeros allowed when the prior covariance is
// positive definite on the observed outputs).
GaussianPosterior condition_gaussian(const GaussianPrior& prior, const std::vector<int64_t>& index,
                                     const MatrixRM& value, const Eigen::VectorXd& noise_var);

}  // namespace ved::inference
