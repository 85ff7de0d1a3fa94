#pragma once
// Nonlinear baselines (docs/method.md §8: the paper's open question): kernel PCA and diffusion maps of x,
// extended to new inputs out of sample, each followed by a decoder to y.
//
//   KernelEmbeddingOptions opt;
//   opt.max_latent = 300;                                            // one fit serves r <= 300
//   KernelEmbedding kpca = fit_kernel_pca(x_train, opt);              // or fit_diffusion_map
//   MatrixRM z_test = kpca.embed(x_test, 300);                        // [N_test, 300]
//   LinearDecoder dec = fit_linear_decoder(kpca.train_embedding, y_train);   // nested in r
//   dec.decode_sweep(z_test, {5, 50, 300},
//                    [&](Eigen::Index r, const MatrixRM& y_hat) { ... });   // y's units
//   KernelRidgeDecoder krr = fit_kernel_ridge_decoder(kpca.train_embedding.leftCols(50), y_train);
//   MatrixRM y_krr = krr.predict(z_test.leftCols(50));
//
// Conventions (both embeddings). x is standardised with the training mean and population
// standard deviation, as for the linear baselines. The kernel is Gaussian on standardised x,
//   k(a, b) = exp(-||a - b||^2 / (2 h^2)),   h = bandwidth_factor * median_{i<j} ||x_i - x_j||
// (the median heuristic; lower median over the N(N-1)/2 training pairs), or h given
// directly. In sklearn's terms gamma = 1 / (2 h^2); Coifman and Lafon's epsilon is 2 h^2.
//
// Kernel PCA (Schoelkopf, Smola & Mueller 1998). K~ = H K H with H = I - 11'/N;
// K~ = V diag(lambda) V'. Training codes z_i = sqrt(lambda) V_i (sklearn's fit_transform);
// a new x has the centred kernel row k~(x)_j = k(x, x_j) - mean_i K_ij - mean_j k(x, x_j) + mean(K)
// and code z(x) = k~(x)' V diag(lambda)^-1/2 (sklearn's transform), which reproduces the
// training codes at training inputs.
//
// Diffusion maps (Coifman & Lafon 2006). q_i = sum_j K_ij; alpha-normalised kernel
// K^a_ij = K_ij / (q_i q_j)^alpha (alpha = 1: the geometry independently of the sampling
// density; 0: the graph Laplacian; 1/2: Fokker-Planck); d_i = sum_j K^a_ij; Markov matrix
// P = D^-1 K^a. P is similar to the symmetric S = D^-1/2 K^a D^-1/2 = U diag(lambda) U', whose
// eigenvalues lie in [0, 1] (K^a is positive semi-definite), the trivial one lambda_0 = 1
// with u_0 = sqrt(d / sum d). Right eigenvectors psi_k = u_k / u_0 (psi_0 = 1,
// sum_i pi_i psi_k(i)^2 = 1 with pi = d / sum d); diffusion coordinates
// z_k = lambda_k^t psi_k, k = 1..r. Nystroem extension: with p(x, x_j) the row of P
// built the same way for a new x, z_k(x) = lambda_k^(t-1) sum_j p(x, x_j) psi_k(x_j), exact
// at training inputs. t scales coordinate k by lambda_k^t: a linear decoder is invariant to
// it; kernel ridge on the codes is not (distances between codes are diffusion distances).
//
// Decoders. fit_linear_decoder: least squares of standardised y on [1, z_1..z_r], nested in
// r as in linear.hpp (one Cholesky factor of the centred Gram matrix of the codes serves
// every r). fit_kernel_ridge_decoder: Gaussian kernel ridge regression of standardised y on
// the r codes (no scaling of the codes), bandwidth by the median heuristic on the training
// codes, alpha chosen by generalised cross-validation; one fit per r.
//
// Signs: each eigenvector is flipped so that its entry of largest magnitude is positive.
//
// Cost at Hanford size (N = 3000 training rows, n = 1475): the N x N kernel (one BLAS
// dsyrk, 13 GFLOP) and the top eigenpairs of it (LAPACK dsyevr, O(N^3)); embedding new rows
// costs one [N_test, n] x [n, N] product. A kernel ridge decoder adds a full N x N
// eigendecomposition per r. Measured times are in docs/baselines.md.
#include <Eigen/Core>

#include <functional>
#include <string>
#include <vector>

#include "ved/util/array.hpp"

namespace ved {

struct KernelEmbeddingOptions {
  double bandwidth_factor = 1.0;  // h = factor * median pairwise distance of standardised training x
  double bandwidth = 0;           // > 0: h itself (bandwidth_factor is then ignored)
  double dmaps_alpha = 1.0;       // diffusion maps: density normalisation, in [0, 1]
  double diffusion_time = 1.0;    // diffusion maps: t >= 0
  Eigen::Index max_latent = 0;    // coordinates to compute (0 = N - 1, every one there is)
  int threads = 0;                // BLAS and Eigen threads (0 = leave the current setting)
};

// A kernel embedding x -> z in R^r for every r up to max_latent() at once. Plain data:
// fit_kernel_pca / fit_diffusion_map fill it, the methods only read it. It keeps the
// standardised training inputs (the kernel's centres): N x n doubles.
struct KernelEmbedding {
  std::string method;               // "kpca" or "dmaps"
  Eigen::VectorXd x_mean;           // [n] training mean of x
  Eigen::VectorXd x_scale;          // [n] training standard deviation of x (1 if constant)
  MatrixRM centres;                 // [N, n] standardised training inputs
  Eigen::VectorXd centre_sq_norms;  // [N] their squared norms
  double median_distance = 0;       // lower median of ||x_i - x_j||, i < j, standardised x
  double bandwidth = 0;             // h of the Gaussian kernel
  // kpca: eigenvalues of the centred kernel matrix, descending, > 0 (their sum over all
  // components is kernel_trace); dmaps: the nontrivial eigenvalues of P, descending, in (0, 1].
  Eigen::VectorXd eigenvalues;      // [k]
  Eigen::MatrixXd extension;        // [N, k] code of x = (processed kernel row of x) * extension
  MatrixRM train_embedding;         // [N, k] codes of the training rows
  // kpca only: centring statistics of the training kernel matrix K.
  Eigen::VectorXd kernel_col_mean;  // [N] mean_i K_ij
  double kernel_mean = 0;           // mean of K
  double kernel_trace = 0;          // trace of H K H: the kernel variance of the training set
  // dmaps only.
  Eigen::VectorXd degree;           // [N] q_j = sum_i K_ij, for the alpha-normalisation
  double dmaps_alpha = 1.0;
  double diffusion_time = 1.0;
  double trivial_eigenvalue = 1.0;  // the largest eigenvalue of P: 1 up to rounding

  Eigen::Index max_latent() const { return eigenvalues.size(); }
  Eigen::Index n_inputs() const { return x_mean.size(); }
  Eigen::Index n_train() const { return centres.rows(); }

  // Codes of new inputs: x [M, n] -> z [M, r], r in [1, max_latent()].
  MatrixRM embed(const MatrixRM& x, Eigen::Index r) const;
};

// Kernel PCA of standardised x. k = min(max_latent, N - 1) components, fewer where the
// eigenvalues of the centred kernel matrix fall below 1e-12 of the largest.
KernelEmbedding fit_kernel_pca(const MatrixRM& x, const KernelEmbeddingOptions& opt = {});

// Diffusion map of standardised x. k = min(max_latent, N - 1) nontrivial coordinates,
// fewer where eigenvalues fall below 1e-12 (a coordinate scaled by lambda^t would vanish).
KernelEmbedding fit_diffusion_map(const MatrixRM& x, const KernelEmbeddingOptions& opt = {});

// Least squares of standardised y on [1, z_1..z_r] for every r at once (see linear.hpp's
// nesting): with Z_c the centred training codes and L L' = Z_c'Z_c, the prediction for r is
// (z - zbar)_{:r} L_r^-T (L^-1 Z_c'Y_s)_{:r}.
struct LinearDecoder {
  Eigen::VectorXd z_mean;           // [k] training mean of the codes
  Eigen::VectorXd y_mean, y_scale;  // [m] training statistics of y
  Eigen::MatrixXd chol;             // [k, k] lower-triangular L
  Eigen::MatrixXd coef;             // [k, m] L^-1 Z_c'Y_s

  // Codes beyond the first that is (numerically) a combination of the earlier ones on the
  // training set are dropped, so this may be below the number of code columns fitted on.
  Eigen::Index max_latent() const { return chol.rows(); }
  MatrixRM decode(const MatrixRM& z) const;  // z [M, r] -> y [M, m] in y's units, r = z.cols()
  // Calls visit(r, y_hat) for each r of `latents` (strictly increasing, each in
  // [1, max_latent()]); z [M, >= latents.back()]. One rank-(r - r_prev) update per step.
  void decode_sweep(const MatrixRM& z, const std::vector<Eigen::Index>& latents,
                    const std::function<void(Eigen::Index, const MatrixRM&)>& visit) const;
};

// z [N, k] training codes, y [N, m] in y's units.
LinearDecoder fit_linear_decoder(const MatrixRM& z, const MatrixRM& y);

struct KernelRidgeOptions {
  double bandwidth_factor = 1.0;  // h_z = factor * median pairwise distance of the training codes
  double bandwidth = 0;           // > 0: h_z itself (bandwidth_factor is then ignored)
  // sklearn's KernelRidge convention: dual coefficients (K + alpha I)^-1 Y_s.
  double alpha = -1;              // >= 0: use this value; < 0: select from `alphas` by GCV
  std::vector<double> alphas;     // grid (empty: 10^t, t = -6, -5.75, ..., 2)
  int threads = 0;                // BLAS and Eigen threads (0 = leave the current setting)
};

struct KernelRidgeDecoder {
  Eigen::VectorXd y_mean, y_scale;  // [m] training statistics of y
  MatrixRM centres;                 // [N, r] training codes
  Eigen::VectorXd centre_sq_norms;  // [N]
  double median_distance = 0;       // lower median distance between training codes
  double bandwidth = 0;             // h_z
  double alpha = 0;
  std::string selection;            // "fixed" or "gcv" (Golub, Heath & Wahba 1979)
  std::vector<double> alphas;       // the grid searched (empty for "fixed")
  std::vector<double> scores;       // GCV score per alpha
  bool alpha_at_grid_edge = false;  // the best alpha is the grid's smallest or largest
  Eigen::MatrixXd dual;             // [N, m] (K + alpha I)^-1 Y_s

  Eigen::Index n_latent() const { return centres.cols(); }
  MatrixRM predict(const MatrixRM& z) const;  // z [M, r] -> y [M, m] in y's units
  MatrixRM predict_standardised(const MatrixRM& z) const;  // the same, standardised y: K(z) dual
};

// z [N, r] training codes, y [N, m] in y's units.
KernelRidgeDecoder fit_kernel_ridge_decoder(const MatrixRM& z, const MatrixRM& y, const KernelRidgeOptions& opt = {});

// ---- Supervised kernel regression of y on x: kernel ridge, and its reduced-rank truncation.
//
//   KernelRegression kr = fit_kernel_regression(x_train, y_train);   // one fit serves both
//   MatrixRM y_full = kr.predict(x_test);                             // kernel ridge ("kridge")
//   kr.predict_sweep(x_test, {5, 50, 147}, visit);                    // rank r ("krrr")
//
// Kernel ridge regression of standardised y on standardised x with the Gaussian kernel of
// kernel PCA and diffusion maps (h = bandwidth_factor * median pairwise distance of the
// standardised training inputs, or h given) and alpha by GCV from the grid, exactly as the
// kernel ridge decoder on codes (fit_kernel_ridge_decoder, with the standardised x as the
// codes). Kernel reduced-rank ridge regression (Mukherjee & Zhu 2011, section 4) truncates
// it through the fitted standardised training outputs Yhat = K D = Y_s - alpha D (D the dual
// coefficients) = P S V' (SVD): the rank-r prediction is k(x)'D V_r V_r'. Encoder
// z = k(x)'D V_r (nonlinear in x), decoder V_r'; every r from one fit, and at r = rank(Yhat)
// it is kernel ridge itself. Cost at Hanford size: kernel ridge's N x N kernel and full
// eigendecomposition (GCV), then one m x m eigenproblem.
struct KernelRegression {
  Eigen::VectorXd x_mean, x_scale;  // [n] training statistics of x
  KernelRidgeDecoder krr;           // kernel ridge on standardised x (its centres)
  Eigen::MatrixXd directions;       // [m, k] V, by decreasing singular value of Yhat
  // Share of ||Yhat||_F^2 (standardised) in each direction, descending.
  Eigen::VectorXd spectrum;         // [k]

  Eigen::Index max_latent() const { return directions.cols(); }
  Eigen::Index n_inputs() const { return x_mean.size(); }
  MatrixRM predict(const MatrixRM& x) const;                   // kernel ridge: [M, n] -> [M, m] in y's units
  MatrixRM encode(const MatrixRM& x, Eigen::Index r) const;    // [M, n] -> z [M, r], z = k(x)'D V_r
  // Calls visit(r, y_hat) for each r of `latents` (strictly increasing, in [1, max_latent()]),
  // y_hat [M, m] in y's units: the rank-r truncation. One kernel evaluation for all r.
  void predict_sweep(const MatrixRM& x, const std::vector<Eigen::Index>& latents,
                     const std::function<void(Eigen::Index, const MatrixRM&)>& visit) const;
};

// x [N, n], y [N, m] in their units. opt as for the kernel ridge decoder (bandwidth and
// bandwidth_factor refer to standardised x). k = the numerical rank of Yhat (squared
// singular values above 1e-12 of the largest).
KernelRegression fit_kernel_regression(const MatrixRM& x, const MatrixRM& y, const KernelRidgeOptions& opt = {});

// The default alpha grid of fit_kernel_ridge_decoder: 10^t, t = -6, -5.75, ..., 2.
std::vector<double> default_kernel_ridge_alphas();

}  // namespace ved
