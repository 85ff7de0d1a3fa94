#pragma once
// Gaussian random fields of log-transmissivity (docs/method.md §6): a Matérn-5/2 Gaussian process on
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
// (values at points [2, n_obs]). The mean is the GLS estimate and sigma is maximised exactly
// for each length (nugget held fixed as an absolute variance); length is searched on a log
// grid over [length_min, length_max], then refined by golden section. Deterministic.
GpFit fit_matern52(const Eigen::Matrix2Xd& points, const Eigen::VectorXd& values,
                   const GpFitOptions& opt = {});

// Gaussian log-likelihood (natural log, with the -n/2 log 2pi term) of `values` at `points`
// [2, n] under mean params.mean and covariance Matérn-5/2 + params.nugget I. The quantity
// fit_matern52 maximises, computed here directly by Cholesky.
double matern52_log_likelihood(const Eigen::Matrix2Xd& points, const Eigen::VectorXd& values,
                               const MaternParams& params);

struct KlExpansion {
  Eigen::VectorXd mean;          // [cells]
  Eigen::MatrixXd modes;         // [cells, k] eigenvectors scaled by sqrt(eigenvalue)
  Eigen::VectorXd eigenvalues;   // [k] descending
  double total_variance = 0;     // trace of the full covariance
  double variance_fraction() const { return eigenvalues.sum() / total_variance; }
  int n_modes() const { return static_cast<int>(modes.cols()); }
};

// Largest number of points build_kl and build_conditional_kl accept: the dense covariance and
// its eigensolver need about 3 * 8 * n^2 bytes (9.6 GB at this limit).
constexpr int kMaxDenseFieldPoints = 20000;

// Unconditional field: mean = params.mean, covariance = Matérn-5/2 on `points` [2, n].
// Requires 1 <= n_modes <= n. Each mode's sign is fixed so that its largest-magnitude entry
// (the first, on ties) is positive, making datasets reproducible across runs (bitwise for a
// given machine and BLAS thread count; LAPACK's rounding depends on both).
// Eigenvalues below 0 can only come from rounding and are clamped to 0.
KlExpansion build_kl(const Eigen::Matrix2Xd& points, const MaternParams& params, int n_modes);

// Conditional (kriging) field given observations at cells `obs_cells` (0-based, distinct) with
// `obs_values`, noise variance params.nugget: mean m + C_xo (C_oo + nugget I)^-1 (y_o - m),
// covariance C - C_xo (C_oo + nugget I)^-1 C_ox. Rounding makes some eigenvalues of that
// covariance slightly negative; they are clamped to 0 (their modes are zero).
KlExpansion build_conditional_kl(const Eigen::Matrix2Xd& points, const MaternParams& params,
                                 const std::vector<int>& obs_cells,
                                 const Eigen::VectorXd& obs_values, int n_modes);

}  // namespace ved
