#pragma once
// Gaussian random fields of log-transmissivity (SPEC §4): a Matérn-5/2 Gaussian process on
// cell centroids, fitted by maximum likelihood to observations, represented by a truncated
// Karhunen–Loève expansion Y = mean + Psi xi, xi ~ N(0, I).
//
//   GpFit fit = fit_matern52(centroids_obs, values_obs);            // sigma, length, mean
//   KlExpansion kl = build_kl(mesh.cell_centroids, fit.params, 1000);
//   KlExpansion klc = build_conditional_kl(mesh.cell_centroids, fit.params, obs_cells,
//                                          obs_values, 1000);       // kriging
//   Eigen::VectorXd y = kl.mean + kl.modes * xi;
#include <Eigen/Core>
#include <vector>

namespace ved {

struct MaternParams {
  double sigma = 1.6;     // marginal standard deviation
  double length = 0.03;   // correlation length, in mesh coordinates
  double mean = 0.0;      // constant mean
  double nugget = 1.49e-8;  // noise variance added to observation covariances (GPy's sqrt(eps))
};

// k(r) = sigma^2 (1 + sqrt5 r/l + 5 r^2 / (3 l^2)) exp(-sqrt5 r/l)
double matern52(double r, double sigma, double length);
// [a.cols(), b.cols()] covariance between point sets given as [2, n] columns.
Eigen::MatrixXd matern52_covariance(const Eigen::Matrix2Xd& a, const Eigen::Matrix2Xd& b,
                                    double sigma, double length);

struct GpFitOptions {
  double nugget = 1.49e-8;   // fixed noise variance
  double length_min = 1e-3;  // search bounds for the correlation length
  double length_max = 10.0;
};

struct GpFit {
  MaternParams params;
  double log_likelihood = 0;
};

// Maximum-likelihood fit of sigma, length and the constant mean to observations
// (values at points [2, n_obs]).
GpFit fit_matern52(const Eigen::Matrix2Xd& points, const Eigen::VectorXd& values,
                   const GpFitOptions& opt = {});

struct KlExpansion {
  Eigen::VectorXd mean;          // [cells]
  Eigen::MatrixXd modes;         // [cells, k] eigenvectors scaled by sqrt(eigenvalue)
  Eigen::VectorXd eigenvalues;   // [k] descending
  double total_variance = 0;     // trace of the full covariance
  double variance_fraction() const { return eigenvalues.sum() / total_variance; }
  int n_modes() const { return static_cast<int>(modes.cols()); }
};

// Unconditional field: mean = params.mean, covariance = Matérn-5/2 on `points`.
KlExpansion build_kl(const Eigen::Matrix2Xd& points, const MaternParams& params, int n_modes);

// Conditional (kriging) field given observations at cells `obs_cells` with `obs_values`.
KlExpansion build_conditional_kl(const Eigen::Matrix2Xd& points, const MaternParams& params,
                                 const std::vector<int>& obs_cells,
                                 const Eigen::VectorXd& obs_values, int n_modes);

}  // namespace ved
