#include "ved/baselines/nonlinear.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ved/baselines/dense.hpp"
#include "ved/util/error.hpp"

namespace ved {

using namespace dense;  // the shared BLAS/LAPACK kernels and standardisation

namespace {

// Eigenvalues below this share of the largest are numerical noise: a code divided by
// sqrt(lambda) (kernel PCA) or scaled by lambda^t (diffusion maps) would be meaningless.
constexpr double kEigenFloor = 1e-10;
// Test rows are embedded in blocks of this many, bounding the [rows, N] kernel block.
constexpr Eigen::Index kEmbedBlock = 1024;

// ||a_i - b_j||^2 [M, N] (column-major) from the inner products; rounding can make an
// entry slightly negative, so it is clamped at 0.
Eigen::MatrixXd squared_distances(const MatrixRM& a, const MatrixRM& b, const Eigen::VectorXd& b_sq) {
  Eigen::MatrixXd d2 = inner_rows(a, b);
  const Eigen::VectorXd a_sq = a.rowwise().squaredNorm();
  for (Eigen::Index j = 0; j < d2.cols(); ++j)
    for (Eigen::Index i = 0; i < d2.rows(); ++i) d2(i, j) = std::max(a_sq[i] + b_sq[j] - 2 * d2(i, j), 0.0);
  return d2;
}

// The same among the rows of a [N, n]: symmetric, zero diagonal.
Eigen::MatrixXd training_squared_distances(const MatrixRM& a, const Eigen::VectorXd& a_sq) {
  Eigen::MatrixXd d2 = gram_rows(a);
  for (Eigen::Index j = 0; j < d2.cols(); ++j) {
    for (Eigen::Index i = 0; i < d2.rows(); ++i) d2(i, j) = std::max(a_sq[i] + a_sq[j] - 2 * d2(i, j), 0.0);
    d2(j, j) = 0;
  }
  return d2;
}

// Lower median of sqrt(d2_ij) over the pairs i < j (sqrt is monotone, so of d2 first).
double median_pair_distance(const Eigen::MatrixXd& d2) {
  const Eigen::Index n = d2.rows();
  std::vector<double> pairs;
  pairs.reserve(static_cast<size_t>(n) * static_cast<size_t>(n - 1) / 2);
  for (Eigen::Index j = 0; j < n; ++j)
    for (Eigen::Index i = j + 1; i < n; ++i) pairs.push_back(d2(i, j));
  const auto mid = pairs.begin() + static_cast<std::ptrdiff_t>((pairs.size() - 1) / 2);
  std::nth_element(pairs.begin(), mid, pairs.end());
  return std::sqrt(*mid);
}

// exp(-d2 / (2 h^2)) in place.
void gaussian_in_place(Eigen::MatrixXd& d2, double h) {
  const double scale = -0.5 / (h * h);
  d2 = (d2.array() * scale).exp().matrix();
}

// Checked before any kernel is computed; `what` names the caller.
void check_bandwidth_options(double factor, double fixed, const char* what) {
  VED_CHECK(std::isfinite(fixed) && fixed >= 0,
            what << ": bandwidth " << fixed << "; expected a finite h > 0, or 0 for the median heuristic");
  VED_CHECK(fixed > 0 || (std::isfinite(factor) && factor > 0),
            what << ": bandwidth factor " << factor << "; expected a finite value > 0 (h = factor * median pairwise "
                 << "distance)");
}

// h from the options and the training median distance.
double choose_bandwidth(double median, double factor, double fixed, const char* what) {
  if (fixed > 0) return fixed;
  VED_CHECK(median > 0, what << ": the median pairwise distance of the training inputs is 0 (more than half the "
                                "pairs coincide); give an explicit bandwidth h > 0");
  return factor * median;
}

// After the Gaussian: a kernel with no off-diagonal entry above 1e-12 links no two points.
void check_not_disconnected(const Eigen::MatrixXd& k, double h, double median, const char* what) {
  double largest = 0;
  for (Eigen::Index j = 0; j < k.cols(); ++j)
    for (Eigen::Index i = j + 1; i < k.rows(); ++i) largest = std::max(largest, k(i, j));
  VED_CHECK(largest > 1e-12, what << ": bandwidth h = " << h << " is too small for these inputs (median pairwise "
                                  << "distance " << median << "): no two training points have a kernel value above "
                                  << "1e-12; raise the bandwidth");
}

// Flips each column so that its entry of largest magnitude is positive: a deterministic
// sign, independent of the LAPACK build.
void fix_signs(Eigen::MatrixXd& v) {
  for (Eigen::Index c = 0; c < v.cols(); ++c) {
    Eigen::Index at = 0;
    v.col(c).cwiseAbs().maxCoeff(&at);
    if (v(at, c) < 0) v.col(c) *= -1;
  }
}

void check_inputs(const MatrixRM& x, const KernelEmbeddingOptions& opt, const char* what) {
  VED_CHECK(x.rows() >= 2, what << ": " << x.rows() << " training rows; need at least 2");
  VED_CHECK(x.cols() >= 1, what << ": x has no columns");
  VED_CHECK(x.allFinite(), what << ": the training inputs contain NaN or Inf");
  VED_CHECK(opt.max_latent >= 0 && opt.max_latent <= x.rows() - 1,
            what << ": " << opt.max_latent << " components requested but " << x.rows() << " training rows give at most N - 1 = "
                 << x.rows() - 1 << "; use a latent size up to " << x.rows() - 1 << " or more training rows");
  check_bandwidth_options(opt.bandwidth_factor, opt.bandwidth, what);
}

// Standardisation, centres, distances, median and bandwidth shared by both embeddings;
// returns the training kernel matrix K [N, N].
Eigen::MatrixXd training_kernel(const MatrixRM& x, const KernelEmbeddingOptions& opt, KernelEmbedding& e,
                                const char* what) {
  column_mean_scale(x, e.x_mean, e.x_scale);
  e.centres = standardise(x, e.x_mean, e.x_scale);
  e.centre_sq_norms = e.centres.rowwise().squaredNorm();
  Eigen::MatrixXd k = training_squared_distances(e.centres, e.centre_sq_norms);
  e.median_distance = median_pair_distance(k);
  e.bandwidth = choose_bandwidth(e.median_distance, opt.bandwidth_factor, opt.bandwidth, what);
  gaussian_in_place(k, e.bandwidth);
  check_not_disconnected(k, e.bandwidth, e.median_distance, what);
  return k;
}

Eigen::Index checked_latent(const KernelEmbedding& e, Eigen::Index r) {
  VED_CHECK(r >= 1 && r <= e.max_latent(),
            e.method << ": latent size " << r << " out of range [1, " << e.max_latent() << "] (the embedding was fitted with "
                     << e.max_latent() << " coordinates on " << e.n_train() << " training rows)");
  return r;
}

}  // namespace

// ---- KernelEmbedding

MatrixRM KernelEmbedding::embed(const MatrixRM& x, Eigen::Index r) const {
  checked_latent(*this, r);
  VED_CHECK(x.cols() == n_inputs(), method << ": x has " << x.cols() << " features; the embedding was fitted on "
                                           << n_inputs());
  VED_CHECK(x.allFinite(), method << ": the inputs to embed contain NaN or Inf");
  MatrixRM z(x.rows(), r);
  for (Eigen::Index begin = 0; begin < x.rows(); begin += kEmbedBlock) {
    const Eigen::Index rows = std::min(kEmbedBlock, x.rows() - begin);
    const MatrixRM xs = standardise(x.middleRows(begin, rows), x_mean, x_scale);
    Eigen::MatrixXd k = squared_distances(xs, centres, centre_sq_norms);  // [rows, N]
    gaussian_in_place(k, bandwidth);
    if (method == "kpca") {
      // Centred test kernel: k(x, x_j) - mean_i K_ij - mean_j k(x, x_j) + mean(K).
      const Eigen::VectorXd row_mean = k.rowwise().mean();
      k.rowwise() -= kernel_col_mean.transpose();
      k.colwise() -= row_mean;
      k.array() += kernel_mean;
    } else {
      // Row of the Markov matrix for a new point, built as for the training rows.
      const Eigen::VectorXd q = k.rowwise().sum();
      for (Eigen::Index i = 0; i < rows; ++i)
        VED_CHECK(q[i] > 0, method << ": input row " << begin + i << " has kernel value 0 to every training input "
                                   << "(bandwidth h = " << bandwidth << "); it is far outside the training set, or "
                                   << "the bandwidth is too small");
      const Eigen::ArrayXd qa = q.array().pow(-dmaps_alpha), da = degree.array().pow(-dmaps_alpha);
      k.array().colwise() *= qa;
      k.array().rowwise() *= da.transpose();
      const Eigen::VectorXd d = k.rowwise().sum();
      k.array().colwise() /= d.array();
    }
    z.middleRows(begin, rows) = product(k, false, extension.leftCols(r), false);
  }
  return z;
}

// ---- Kernel PCA

KernelEmbedding fit_kernel_pca(const MatrixRM& x, const KernelEmbeddingOptions& opt) {
  check_inputs(x, opt, "fit_kernel_pca");
  set_threads(opt.threads);
  KernelEmbedding e;
  e.method = "kpca";
  Eigen::MatrixXd k = training_kernel(x, opt, e, "fit_kernel_pca");
  const Eigen::Index n = x.rows();

  // 1. Centre: K~ = H K H.
  e.kernel_col_mean = k.colwise().mean().transpose();
  e.kernel_mean = e.kernel_col_mean.mean();
  k.rowwise() -= e.kernel_col_mean.transpose();
  k.colwise() -= e.kernel_col_mean;
  k.array() += e.kernel_mean;
  e.kernel_trace = k.trace();
  VED_CHECK(e.kernel_trace > 1e-10 * static_cast<double>(n),
            "fit_kernel_pca: bandwidth h = " << e.bandwidth << " is too large for these inputs (median pairwise distance "
                                             << e.median_distance << "): the kernel is constant to rounding; lower the "
                                             << "bandwidth");

  // 2. Leading eigenpairs; the centred matrix has rank at most N - 1 (1 is in its null space).
  const Eigen::Index wanted = opt.max_latent > 0 ? opt.max_latent : n - 1;
  Eigenpairs eig = symmetric_eigen_top(k, wanted, "centred kernel matrix");
  Eigen::Index kept = 0;
  while (kept < wanted && eig.values[kept] > kEigenFloor * eig.values[0]) ++kept;
  VED_CHECK(kept >= 1, "fit_kernel_pca: the centred kernel matrix has no positive eigenvalue (bandwidth h = "
                           << e.bandwidth << ")");
  e.eigenvalues = eig.values.head(kept);
  Eigen::MatrixXd v = eig.vectors.leftCols(kept);
  fix_signs(v);

  // 3. Training codes V sqrt(lambda); new inputs through V / sqrt(lambda).
  const Eigen::VectorXd root = e.eigenvalues.cwiseSqrt();
  e.train_embedding = v * root.asDiagonal();
  e.extension = v * root.cwiseInverse().asDiagonal();
  return e;
}

// ---- Diffusion maps

KernelEmbedding fit_diffusion_map(const MatrixRM& x, const KernelEmbeddingOptions& opt) {
  check_inputs(x, opt, "fit_diffusion_map");
  VED_CHECK(std::isfinite(opt.dmaps_alpha) && opt.dmaps_alpha >= 0 && opt.dmaps_alpha <= 1,
            "fit_diffusion_map: alpha = " << opt.dmaps_alpha << "; expected a value in [0, 1] (1: Laplace-Beltrami, "
                                          << "0: graph Laplacian, 0.5: Fokker-Planck)");
  VED_CHECK(std::isfinite(opt.diffusion_time) && opt.diffusion_time >= 0,
            "fit_diffusion_map: diffusion time t = " << opt.diffusion_time << "; expected a finite value >= 0");
  set_threads(opt.threads);
  KernelEmbedding e;
  e.method = "dmaps";
  e.dmaps_alpha = opt.dmaps_alpha;
  e.diffusion_time = opt.diffusion_time;
  Eigen::MatrixXd k = training_kernel(x, opt, e, "fit_diffusion_map");
  const Eigen::Index n = x.rows();

  // 1. alpha-normalisation K^a = Q^-a K Q^-a, then S = D^-1/2 K^a D^-1/2.
  e.degree = k.rowwise().sum();
  const Eigen::ArrayXd qa = e.degree.array().pow(-e.dmaps_alpha);
  k.array().colwise() *= qa;
  k.array().rowwise() *= qa.transpose();
  const Eigen::VectorXd d = k.rowwise().sum();
  const Eigen::ArrayXd d_root_inv = d.array().rsqrt();
  k.array().colwise() *= d_root_inv;
  k.array().rowwise() *= d_root_inv.transpose();

  // 2. The trivial pair (1, u0 = sqrt(d / sum d)) is known: record its Rayleigh quotient
  // and deflate it, S - u0 u0', so that the leading eigenpairs are the nontrivial ones.
  const Eigen::VectorXd u0 = (d / d.sum()).cwiseSqrt();
  e.trivial_eigenvalue = u0.dot(k * u0);
  k.noalias() -= u0 * u0.transpose();

  const Eigen::Index wanted = opt.max_latent > 0 ? opt.max_latent : n - 1;
  Eigenpairs eig = symmetric_eigen_top(k, wanted, "deflated diffusion matrix");
  Eigen::Index kept = 0;
  while (kept < wanted && eig.values[kept] > kEigenFloor) ++kept;
  VED_CHECK(kept >= 1, "fit_diffusion_map: no nontrivial eigenvalue above " << kEigenFloor << ": bandwidth h = "
                                                                            << e.bandwidth << " is too large for these "
                                                                            << "inputs (median pairwise distance "
                                                                            << e.median_distance << "); lower the "
                                                                            << "bandwidth");
  // Eigenvalues of a PSD matrix deflated by its top pair are <= 1 up to rounding.
  e.eigenvalues = eig.values.head(kept).cwiseMin(1.0);
  Eigen::MatrixXd psi = eig.vectors.leftCols(kept);
  fix_signs(psi);
  psi.array().colwise() /= u0.array();  // right eigenvectors of P, pi-orthonormal

  // 3. Codes lambda^t psi; the Nystroem extension averages psi over a new point's Markov
  // row and divides by lambda once: lambda^(t - 1).
  const Eigen::VectorXd scale_t = e.eigenvalues.array().pow(e.diffusion_time).matrix();
  const Eigen::VectorXd scale_ext = e.eigenvalues.array().pow(e.diffusion_time - 1).matrix();
  e.train_embedding = psi * scale_t.asDiagonal();
  e.extension = psi * scale_ext.asDiagonal();
  return e;
}

// ---- Linear decoder

LinearDecoder fit_linear_decoder(const MatrixRM& z, const MatrixRM& y) {
  check_training_data(z, y, "fit_linear_decoder");
  LinearDecoder dec;
  column_mean_scale(y, dec.y_mean, dec.y_scale);
  const MatrixRM ys = standardise(y, dec.y_mean, dec.y_scale);
  dec.z_mean = z.colwise().mean().transpose();
  const MatrixRM zc = z.rowwise() - dec.z_mean.transpose();
  dec.chol = nested_cholesky(gram(zc));
  const Eigen::Index k = dec.chol.rows();
  VED_CHECK(k >= 1, "fit_linear_decoder: the codes are constant on the " << z.rows() << " training rows");
  dec.coef = cross(zc, ys).topRows(k);
  triangular_solve("L", "N", dec.chol, dec.coef);  // L^-1 Z_c'Y_s
  dec.z_mean.conservativeResize(k);
  return dec;
}

MatrixRM LinearDecoder::decode(const MatrixRM& z) const {
  MatrixRM out;
  decode_sweep(z, {z.cols()}, [&](Eigen::Index, const MatrixRM& y_hat) { out = y_hat; });
  return out;
}

void LinearDecoder::decode_sweep(const MatrixRM& z, const std::vector<Eigen::Index>& latents,
                                 const std::function<void(Eigen::Index, const MatrixRM&)>& visit) const {
  if (latents.empty()) return;
  for (size_t i = 0; i < latents.size(); ++i) {
    VED_CHECK(latents[i] >= 1 && latents[i] <= max_latent(),
              "linear decoder: latent size " << latents[i] << " out of range [1, " << max_latent() << "]");
    VED_CHECK(i == 0 || latents[i] > latents[i - 1], "linear decoder: latent sizes must be strictly increasing; got "
                                                         << latents[i - 1] << " then " << latents[i]);
  }
  const Eigen::Index r_max = latents.back();
  VED_CHECK(z.cols() >= r_max, "linear decoder: codes have " << z.cols() << " columns; need " << r_max);
  // W = (z - zbar)_{:r} L_r^-T; L^-T is upper triangular, so column j of W needs only the
  // leading j + 1 columns of L: one solve with L_{r_max} serves every r.
  Eigen::MatrixXd w = (z.leftCols(r_max).rowwise() - z_mean.head(r_max).transpose()).eval();
  triangular_solve("R", "T", Eigen::MatrixXd(chol.topLeftCorner(r_max, r_max)), w);
  MatrixRM ys = MatrixRM::Zero(z.rows(), y_mean.size());
  Eigen::Index done = 0;
  for (Eigen::Index r : latents) {
    ys.noalias() += w.middleCols(done, r - done) * coef.middleRows(done, r - done);
    done = r;
    visit(r, unstandardise(ys, y_mean, y_scale));
  }
}

// ---- Kernel ridge decoder

std::vector<double> default_kernel_ridge_alphas() {
  std::vector<double> a;
  for (int i = 0; i <= 32; ++i) a.push_back(std::pow(10.0, -6.0 + 0.25 * i));
  return a;
}

KernelRidgeDecoder fit_kernel_ridge_decoder(const MatrixRM& z, const MatrixRM& y, const KernelRidgeOptions& opt) {
  check_training_data(z, y, "fit_kernel_ridge_decoder");
  VED_CHECK(std::isfinite(opt.alpha), "fit_kernel_ridge_decoder: alpha = " << opt.alpha << "; expected a finite value");
  for (double a : opt.alphas)
    VED_CHECK(std::isfinite(a) && a >= 0, "fit_kernel_ridge_decoder: grid alpha " << a << "; each must be finite and >= 0");
  check_bandwidth_options(opt.bandwidth_factor, opt.bandwidth, "fit_kernel_ridge_decoder");
  set_threads(opt.threads);
  KernelRidgeDecoder dec;
  column_mean_scale(y, dec.y_mean, dec.y_scale);
  const Eigen::MatrixXd ys = standardise(y, dec.y_mean, dec.y_scale);  // [N, m] column-major
  dec.centres = z;
  dec.centre_sq_norms = z.rowwise().squaredNorm();
  Eigen::MatrixXd k = training_squared_distances(dec.centres, dec.centre_sq_norms);
  dec.median_distance = median_pair_distance(k);
  dec.bandwidth = choose_bandwidth(dec.median_distance, opt.bandwidth_factor, opt.bandwidth, "fit_kernel_ridge_decoder");
  gaussian_in_place(k, dec.bandwidth);
  const Eigen::Index n = z.rows();

  if (opt.alpha >= 0) {
    dec.alpha = opt.alpha;
    dec.selection = "fixed";
    k.diagonal().array() += opt.alpha;
    VED_CHECK(cholesky_in_place(k), "fit_kernel_ridge_decoder: K + alpha I is not positive definite for alpha = "
                                        << opt.alpha << "; use alpha > 0");
    dec.dual = ys;
    triangular_solve("L", "N", k, dec.dual);
    triangular_solve("L", "T", k, dec.dual);
    return dec;
  }

  // GCV (Golub, Heath & Wahba 1979) on the eigendecomposition K = U diag(s) U'. The fit of
  // y is ybar + S (y - ybar), S = K (K + alpha I)^-1 = U diag(s / (s + alpha)) U', so its hat
  // matrix is H = 11'/N + S (I - 11'/N): ||(I - H) y||^2 = ||(I - S) Y_s||^2
  // = sum_j (alpha / (s_j + alpha))^2 ||(U'Y_s)_j||^2 and tr H = 1 + tr S - 1'S1 / N (the
  // mean's degree of freedom, 1 - 1'S1/N, is about 0 for small alpha and 1 for large).
  // A Gaussian K has full rank, so 1 - tr H / N and ||(I - S) Y_s|| both vanish as alpha -> 0
  // and the score tends to a finite limit (flat at the grid's low edge once alpha << every
  // s_j: the interpolating fit); it does not fall to 0 there, as ridge's GCV did on N <= n
  // rows while its tr H lacked the intercept's 1 (docs/baselines.md).
  dec.selection = "gcv";
  dec.alphas = opt.alphas.empty() ? default_kernel_ridge_alphas() : opt.alphas;
  Eigenpairs eig = symmetric_eigen(k, "kernel matrix of the codes");
  const Eigen::ArrayXd s = eig.values.array().max(0.0);  // PSD up to rounding
  const Eigen::MatrixXd uty = product(eig.vectors, true, ys, false);  // [N, m]
  const Eigen::ArrayXd c2 = uty.rowwise().squaredNorm().array();
  const Eigen::ArrayXd ones2 = (eig.vectors.colwise().sum().transpose()).array().square();  // (U'1)_j^2
  const double big_n = static_cast<double>(n), count = static_cast<double>(ys.size());
  dec.scores.resize(dec.alphas.size());
  for (size_t i = 0; i < dec.alphas.size(); ++i) {
    const double a = dec.alphas[i];
    const double rss = ((a / (s + a)).square() * c2).sum();
    const Eigen::ArrayXd f = s / (s + a);  // eigenvalues of S
    const double trace_h = 1.0 + f.sum() - (f * ones2).sum() / big_n;
    const double denom = 1.0 - trace_h / big_n;
    dec.scores[i] = denom > 0 && std::isfinite(rss) ? rss / count / (denom * denom)
                                                    : std::numeric_limits<double>::infinity();
  }
  const size_t best = static_cast<size_t>(std::min_element(dec.scores.begin(), dec.scores.end()) - dec.scores.begin());
  VED_CHECK(std::isfinite(dec.scores[best]), "fit_kernel_ridge_decoder: every alpha of the grid interpolates the "
                                             "training rows exactly (GCV undefined); give larger --krr-alphas");
  dec.alpha = dec.alphas[best];
  const auto [lo, hi] = std::minmax_element(dec.alphas.begin(), dec.alphas.end());
  dec.alpha_at_grid_edge = dec.alphas.size() > 1 && (dec.alpha == *lo || dec.alpha == *hi);
  const Eigen::VectorXd shrink = (s + dec.alpha).inverse().matrix();
  dec.dual = product(eig.vectors, false, shrink.asDiagonal() * uty, false);
  return dec;
}

MatrixRM KernelRidgeDecoder::predict(const MatrixRM& z) const {
  return unstandardise(predict_standardised(z), y_mean, y_scale);
}

MatrixRM KernelRidgeDecoder::predict_standardised(const MatrixRM& z) const {
  VED_CHECK(z.cols() == n_latent(), "kernel ridge decoder: codes have " << z.cols() << " columns; it was fitted on "
                                                                         << n_latent());
  MatrixRM ys(z.rows(), y_mean.size());
  for (Eigen::Index begin = 0; begin < z.rows(); begin += kEmbedBlock) {
    const Eigen::Index rows = std::min(kEmbedBlock, z.rows() - begin);
    Eigen::MatrixXd k = squared_distances(z.middleRows(begin, rows), centres, centre_sq_norms);
    gaussian_in_place(k, bandwidth);
    ys.middleRows(begin, rows) = product(k, false, dual, false);
  }
  return ys;
}

// ---- Kernel regression of y on x (kernel ridge and kernel reduced-rank ridge)

KernelRegression fit_kernel_regression(const MatrixRM& x, const MatrixRM& y, const KernelRidgeOptions& opt) {
  check_training_data(x, y, "fit_kernel_regression");
  KernelRegression kr;
  column_mean_scale(x, kr.x_mean, kr.x_scale);
  kr.krr = fit_kernel_ridge_decoder(standardise(x, kr.x_mean, kr.x_scale), y, opt);
  // Fitted standardised outputs: (K + alpha I) D = Y_s, so K D = Y_s - alpha D.
  const MatrixRM fitted =
      standardise(y, kr.krr.y_mean, kr.krr.y_scale) - MatrixRM(kr.krr.alpha * kr.krr.dual);  // [N, m]
  Eigen::MatrixXd g = gram(fitted);
  Eigenpairs e = symmetric_eigen(g, "Gram matrix of the fitted outputs");
  Eigen::Index k = 0;
  const double floor = 1e-12 * std::max(e.values.size() ? e.values[0] : 0.0, 0.0);
  while (k < e.values.size() && e.values[k] > floor && e.values[k] > 0) ++k;
  VED_CHECK(k >= 1, "fit_kernel_regression: the kernel ridge fit is 0 on the training rows (alpha = " << kr.krr.alpha
                                                                                                    << ")");
  kr.directions = e.vectors.leftCols(k);
  kr.spectrum = e.values.head(k) / e.values.cwiseMax(0.0).sum();
  return kr;
}

MatrixRM KernelRegression::predict(const MatrixRM& x) const {
  VED_CHECK(x.cols() == n_inputs(), "kernel ridge: x has " << x.cols() << " features; the model was fitted on "
                                                           << n_inputs());
  return krr.predict(standardise(x, x_mean, x_scale));
}

MatrixRM KernelRegression::encode(const MatrixRM& x, Eigen::Index r) const {
  VED_CHECK(r >= 1 && r <= max_latent(), "kernel reduced-rank regression: latent size " << r << " out of range [1, "
                                                                                        << max_latent() << "]");
  VED_CHECK(x.cols() == n_inputs(), "kernel reduced-rank regression: x has " << x.cols()
                                                                             << " features; the model was fitted on "
                                                                             << n_inputs());
  return krr.predict_standardised(standardise(x, x_mean, x_scale)) * directions.leftCols(r);
}

void KernelRegression::predict_sweep(const MatrixRM& x, const std::vector<Eigen::Index>& latents,
                                     const std::function<void(Eigen::Index, const MatrixRM&)>& visit) const {
  if (latents.empty()) return;
  for (size_t i = 0; i < latents.size(); ++i) {
    VED_CHECK(latents[i] >= 1 && latents[i] <= max_latent(),
              "kernel reduced-rank regression: latent size " << latents[i] << " out of range [1, " << max_latent()
                                                             << "] (the rank of the fitted training outputs)");
    VED_CHECK(i == 0 || latents[i] > latents[i - 1],
              "kernel reduced-rank regression: latent sizes must be strictly increasing; got " << latents[i - 1]
                                                                                               << " then " << latents[i]);
  }
  const MatrixRM z = encode(x, latents.back());  // [M, r_max]
  MatrixRM ys = MatrixRM::Zero(x.rows(), directions.rows());
  Eigen::Index done = 0;
  for (Eigen::Index r : latents) {
    ys.noalias() += z.middleCols(done, r - done) * directions.middleCols(done, r - done).transpose();
    done = r;
    visit(r, unstandardise(ys, krr.y_mean, krr.y_scale));
  }
}

}  // namespace ved
