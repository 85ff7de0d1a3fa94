#pragma once
// Linear baselines (docs/method.md §8), fitted in closed form: a CCA encoder or PCA(x) with a
// least-squares decoder to y, and full-rank ridge regression x -> y.
//
//   LatentLinearModel cca = fit_cca(x_train, y_train);      // every r at once
//   MatrixRM y_hat = cca.predict(x_test, 147);               // [N_test, m]
//   cca.predict_sweep(x_test, {1, 2, 5, 50, 300},            // cheap per extra r
//                     [&](Eigen::Index r, const MatrixRM& y_hat) { ... });
//   RidgeModel ridge = fit_ridge(x_train, y_train, x_val, y_val);   // alpha on validation
//   MatrixRM y_ridge = ridge.predict(x_test);
//
// Preprocessing (all methods): every column of x and of y is standardised with the
// training mean and population standard deviation (a constant column gets scale 1), as the
// VED trainer does. PCA and ridge depend on this choice (x features are weighted by their
// spread otherwise); CCA with zero ridge does not. Predictions are returned in y's units.
//
// Nesting in r. An encoder is a matrix A [n, k] acting on standardised x; z_r = x_s A_{:, :r}.
// The decoder for r is the least-squares fit of standardised y on z_r (the intercept is
// the training mean, since z has mean zero on the training set): B_r = (Z_r'Z_r)^-1 Z_r'Y.
// With the Cholesky factor L L' = Z'Z, the leading r x r block of L is the factor of
// Z_r'Z_r, so y_s = x_s (A L^-T)_{:, :r} (L^-1 Z'Y)_{:r, :} for every r from one fit: the
// prediction for r + 1 is the prediction for r plus one rank-1 term.
//
// Cost at Hanford size (N = 3000, n = 1475, m = 323): one fit factorises x's covariance
// once (CCA: Cholesky, about 10 GFLOP in all, x'x and x'y being half of it; PCA and ridge:
// symmetric eigendecomposition); the heavy products and the factorisations are
// OpenBLAS/LAPACK calls. Measured on the 2-core build machine while shared (1 thread):
// CCA fit 0.4-0.9 s, PCA 1.4 s, ridge with GCV 1.1-1.8 s (with leave-one-out, the default
// without validation rows, about 3x that); `ved baseline --latent 1:300` 2.7 s in all
// (bench/bench_baselines.cpp compares with NumPy and scikit-learn).
#include <Eigen/Core>

#include <functional>
#include <string>
#include <vector>

#include "ved/util/array.hpp"

namespace ved {

struct LinearFitOptions {
  // CCA whitening: eps * I is added to the correlation matrices of standardised x and y
  // (unit diagonal) before the Cholesky factorisation, so eps is relative to unit variance.
  // It must be > 0 when x (or y) is rank deficient, e.g. Hanford fields drawn from a
  // 1000-mode KL expansion on 1475 cells.
  double cca_ridge_x = 1e-4;
  double cca_ridge_y = 1e-4;
  Eigen::Index max_latent = 0;  // keep at most this many directions (0 = all available)
  int threads = 0;              // BLAS and Eigen threads (0 = leave the current setting)
};

// A linear encoder x -> z in R^r and a linear decoder z -> y, for every r up to
// max_latent() at once. Plain data: fit_cca/fit_pca/fit_reduced_rank fill it, the methods
// only read it. The decoder is the least-squares fit of y on z_r (cca, pca) or, for rrr,
// the rank-r truncation of ridge regression (coef = D V', not a least-squares refit).
struct LatentLinearModel {
  std::string method;        // "cca", "pca" or "rrr"
  Eigen::VectorXd x_mean;    // [n] training mean of x
  Eigen::VectorXd x_scale;   // [n] training standard deviation of x (1 if constant)
  Eigen::VectorXd y_mean;    // [m]
  Eigen::VectorXd y_scale;   // [m]
  Eigen::MatrixXd encoder;   // [n, k] A: z = x_s A, directions in order of importance
  Eigen::MatrixXd chol;      // [k, k] lower-triangular L, L L' = Z'Z over the training set
  Eigen::MatrixXd orth;      // [n, k] A L^-T: x_s -> training-orthonormal coordinates
  Eigen::MatrixXd coef;      // [k, m] L^-1 Z'Y_s (rrr: D V'): decoder in those coordinates
  // cca: canonical correlations (descending; shrunk slightly by the ridge);
  // pca: fraction of x's (standardised) variance explained by each component;
  // rrr: fraction of the fitted (ridge) standardised outputs' sum of squares in each direction.
  Eigen::VectorXd spectrum;  // [k]
  Eigen::Index n_train = 0;
  double cca_ridge_x = 0;    // cca: the ridges it was fitted with
  double cca_ridge_y = 0;

  Eigen::Index max_latent() const { return encoder.cols(); }
  Eigen::Index n_inputs() const { return x_mean.size(); }
  Eigen::Index n_outputs() const { return y_mean.size(); }

  MatrixRM encode(const MatrixRM& x, Eigen::Index r) const;  // [N, n] -> z [N, r]
  MatrixRM decode(const MatrixRM& z) const;                   // z [N, r] -> y [N, m], r = z.cols()
  MatrixRM predict(const MatrixRM& x, Eigen::Index r) const;  // decode(encode(x, r))
  // Calls visit(r, y_hat) for each r of `latents` (ascending, each in [1, max_latent()]),
  // y_hat [N, m] in y's units; one product with x plus O(N m) per step of r.
  void predict_sweep(const MatrixRM& x, const std::vector<Eigen::Index>& latents,
                     const std::function<void(Eigen::Index, const MatrixRM&)>& visit) const;
};

// CCA encoder (Hotelling; regularised as in Vinod 1976): with C_xx + eps_x I = L_x L_x',
// C_yy + eps_y I = L_y L_y' and the SVD L_x^-1 C_xy L_y^-T = U S V', the encoder is
// A = L_x^-T U (canonical directions of x) and S holds the canonical correlations.
// k = min(n, m, N - 1) directions, fewer if later ones are linearly dependent on the
// training set (then the decoder could not use them).
LatentLinearModel fit_cca(const MatrixRM& x, const MatrixRM& y, const LinearFitOptions& opt = {});

// ---- CCA with its ridge chosen by K-fold cross-validation.
//
// Every eps of the grid is fitted on K - 1 contiguous folds of the training rows and scored
// on the held-out fold by the mean squared error of standardised y (the scales of all the
// training rows, so every fold is scored in the same units), for every latent size at once
// (predict_sweep). eps is chosen per r by the mean over folds, then the model for r is the
// fit on all training rows with that eps. Each fold is standardised with its own training
// rows' statistics, as the final fit is with all of them.
//
// Which ridge is tuned (tune_y). By default only eps_x, the ridge on x's correlation matrix,
// with eps_y fixed at LinearFitOptions::cca_ridge_y: x is the side that needs it (Hanford:
// n = 1475 inputs of rank <= 1000 on 2400 fold rows; y has m = 323 outputs), and a large
// eps_y turns the method into another one: as eps_y -> infinity, C_yy + eps_y I ~ eps_y I,
// the whitened cross-covariance tends to L_x^-1 C_xy / sqrt(eps_y), and the encoder to the
// x directions of reduced-rank regression (exactly so at eps_x = 0; Izenman 1975), which is
// a separate baseline (fit_reduced_rank). With tune_y = true, one shared eps_x = eps_y = eps
// is searched instead.
struct CcaCvOptions {
  std::vector<double> eps_grid;  // empty: default_cca_eps_grid()
  int folds = 5;                 // K >= 2, contiguous blocks of rows in file order
  bool tune_y = false;           // false: eps on x only; true: the same eps on x and y
};

struct CcaCvResult {
  std::vector<double> eps_grid;       // [G] as searched
  std::vector<Eigen::Index> latents;  // [L] the sizes scored, ascending
  // [G, L] mean over folds of the held-out MSE of standardised y; +inf where some fold had
  // fewer than r usable directions (or x + eps was not positive definite on a fold).
  Eigen::MatrixXd scores;
  std::vector<double> eps;            // [L] chosen eps per latent size (lowest score)
  std::vector<bool> eps_at_grid_edge; // [L] the chosen eps is the grid's smallest or largest
  int folds = 0;
  bool tune_y = false;
};

// CCA models for a list of latent sizes, each with its cross-validated eps: one fit on all
// training rows per distinct chosen eps.
struct CcaCvModel {
  CcaCvResult cv;
  std::vector<LatentLinearModel> models;  // one per distinct chosen eps
  std::vector<size_t> model_of;           // [L] index into models for cv.latents[i]

  const LatentLinearModel& model_for(Eigen::Index r) const;  // r must be one of cv.latents
  // Calls visit(r, y_hat) for every r of cv.latents, ascending; y_hat [N, m] in y's units.
  void predict_sweep(const MatrixRM& x, const std::function<void(Eigen::Index, const MatrixRM&)>& visit) const;
};

// latents: ascending, >= 1. opt.cca_ridge_x is ignored (searched); opt.cca_ridge_y is used
// unless cv.tune_y; opt.max_latent is ignored (latents.back() is kept).
CcaCvModel fit_cca_cv(const MatrixRM& x, const MatrixRM& y, const std::vector<Eigen::Index>& latents,
                      const LinearFitOptions& opt = {}, const CcaCvOptions& cv = {});

// The default eps grid: 10^t, t = -4, -3.25, ..., 2 (9 values).
std::vector<double> default_cca_eps_grid();

// PCA of standardised x (eigenvectors of its covariance, by decreasing variance),
// k = rank of the training x (eigenvalues above 1e-10 of the largest).
LatentLinearModel fit_pca(const MatrixRM& x, const MatrixRM& y, const LinearFitOptions& opt = {});

struct RidgeOptions {
  // alpha in sklearn's convention on standardised data: minimise
  // ||Y_s - X_s W||_F^2 + alpha ||W||_F^2 over the training rows.
  double alpha = -1;            // >= 0: use this value, no selection
  std::vector<double> alphas;   // grid to select from (empty: N * 10^t, t = -6, -5.8, ..., 3)
  // Without validation rows, alpha minimises the exact leave-one-out error ("loo") or
  // generalised cross-validation ("gcv") on the training rows; see fit_ridge.
  std::string criterion = "loo";
  int threads = 0;              // BLAS and Eigen threads (0 = leave the current setting)
};

struct RidgeModel {
  Eigen::VectorXd x_mean, x_scale;  // [n]
  Eigen::VectorXd y_mean, y_scale;  // [m]
  Eigen::MatrixXd weights;          // [n, m] standardised x -> standardised y
  double alpha = 0;
  // "fixed" (RidgeOptions::alpha), "validation" (lowest mean squared error of standardised y
  // on the validation rows), or without validation rows "loo" (leave-one-out) or "gcv"
  // (generalised cross-validation, Golub, Heath & Wahba 1979), as RidgeOptions::criterion.
  std::string selection;
  std::vector<double> alphas;       // the grid searched (empty for "fixed")
  std::vector<double> scores;       // per alpha: validation MSE, LOO MSE or GCV score (standardised y)
  bool alpha_at_grid_edge = false;  // the best alpha is the grid's smallest or largest

  MatrixRM predict(const MatrixRM& x) const;  // [N, n] -> [N, m] in y's units
};

// x_val and y_val may have zero rows; then alpha is chosen on the training rows by
// RidgeOptions::criterion, both computed from the SVD x_s = U S V' for every alpha of the
// grid, for ridge with an unpenalised intercept (the centring), hat matrix
// H = 11'/N + U diag(s^2 / (s^2 + alpha)) U':
//   loo: mean over rows and outputs of (E_ij / (1 - H_ii))^2, E = (I - H) Y_s: the exact
//        leave-one-out error for x standardised with all N rows (the intercept is refitted
//        per fold, the scales are not); one [N, k] x [k, m] product per alpha.
//   gcv: (||E||^2 / (N m)) / (1 - tr H / N)^2, tr H = 1 + sum_k s_k^2 / (s_k^2 + alpha): LOO
//        with every H_ii replaced by their mean; O(k m) per alpha.
// When N <= n, x_s has rank N - 1 and E -> 0 as alpha -> 0; both criteria then tend to a
// finite limit (1 - H_ii and 1 - tr H / N vanish at the same rate as E). The intercept's 1
// in tr H matters there: without it 1 - tr H / N -> 1/N and GCV falls to 0, selecting the
// grid's smallest alpha (near-interpolation). LOO is the default: it is exact rather than an
// average-leverage approximation; on Hanford both select the same alpha at N = 600 and 3000.
RidgeModel fit_ridge(const MatrixRM& x, const MatrixRM& y, const MatrixRM& x_val, const MatrixRM& y_val,
                     const RidgeOptions& opt = {});

// Reduced-rank ridge regression (Mukherjee & Zhu 2011): the ridge fit W (fit_ridge, its
// alpha selection included) truncated to rank r through the fitted standardised training
// outputs Yhat = X_s W = P D V' (SVD): W_r = W V_r V_r'. Encoder z = x_s W V_r, decoder V_r';
// every r from one fit, and at full rank (r = rank of Yhat) it is ridge itself. In the
// model, encoder = W V, chol = D (Z'Z = D^2 as for the other methods) and coef = D V'.
// k = the numerical rank of Yhat (squared singular values above 1e-12 of the largest).
struct ReducedRankFit {
  LatentLinearModel model;  // method "rrr"
  RidgeModel ridge;         // the full-rank fit it truncates (alpha and how it was chosen)
};
ReducedRankFit fit_reduced_rank(const MatrixRM& x, const MatrixRM& y, const MatrixRM& x_val, const MatrixRM& y_val,
                                const RidgeOptions& opt = {}, Eigen::Index max_latent = 0);

// The default alpha grid for n_train training rows: n_train * 10^t, t = -6, -5.8, ..., 3
// (x_s'x_s has trace n_train * n, so alpha / n_train is relative to a unit-variance feature).
std::vector<double> default_ridge_alphas(Eigen::Index n_train);

}  // namespace ved
