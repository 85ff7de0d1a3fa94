#include "ved/baselines/linear.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "ved/baselines/dense.hpp"
#include "ved/util/error.hpp"

// BLAS and LAPACK (OpenBLAS on Debian) for the thin SVD and the PCA route through x x';
// the other kernels are in dense.hpp. The trailing size_t arguments are the hidden lengths
// of the character arguments (gfortran convention).
extern "C" {
void dgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
            const double* alpha, const double* a, const int* lda, const double* b, const int* ldb,
            const double* beta, double* c, const int* ldc, size_t, size_t);
void dgesdd_(const char* jobz, const int* m, const int* n, double* a, const int* lda, double* s,
             double* u, const int* ldu, double* vt, const int* ldvt, double* work,
             const int* lwork, int* iwork, int* info, size_t);
}

namespace ved {

using namespace dense;  // the shared BLAS/LAPACK kernels and standardisation

namespace {

struct Svd {
  Eigen::VectorXd s;  // [k] descending
  Eigen::MatrixXd u;  // [rows, k]
  Eigen::MatrixXd v;  // [cols, k]
};

// Thin SVD (divide and conquer); `a` is destroyed.
Svd thin_svd(Eigen::MatrixXd& a) {
  const int m = to_int(a.rows()), n = to_int(a.cols()), k = std::min(m, n);
  Svd out;
  out.s.resize(k);
  out.u.resize(m, k);
  Eigen::MatrixXd vt(k, n);
  std::vector<int> iwork(8 * static_cast<size_t>(k));
  int lwork = -1, info = 0;
  double work_query = 0;
  const int ldvt = std::max(k, 1);
  dgesdd_("S", &m, &n, a.data(), &m, out.s.data(), out.u.data(), &m, vt.data(), &ldvt, &work_query,
          &lwork, iwork.data(), &info, 1);
  VED_CHECK(info == 0, "LAPACK dgesdd workspace query failed (info = " << info << ")");
  lwork = static_cast<int>(work_query);
  std::vector<double> work(static_cast<size_t>(std::max(lwork, 1)));
  dgesdd_("S", &m, &n, a.data(), &m, out.s.data(), out.u.data(), &m, vt.data(), &ldvt, work.data(),
          &lwork, iwork.data(), &info, 1);
  VED_CHECK(info == 0, "LAPACK dgesdd failed on the " << m << "x" << n
                                                     << " whitened cross-covariance (info = " << info << ")");
  out.v = vt.transpose();
  return out;
}

// Fills chol, orth and coef from the encoder (already truncated), g = Z'Z and zty = Z'Y_s.
void finish_decoder(LatentLinearModel& model, const Eigen::MatrixXd& g, const Eigen::MatrixXd& zty) {
  model.chol = nested_cholesky(g);
  const Eigen::Index k = model.chol.rows();
  model.encoder.conservativeResize(Eigen::NoChange, k);
  model.spectrum.conservativeResize(k);
  model.orth = model.encoder;
  triangular_solve("R", "T", model.chol, model.orth);  // A L^-T
  model.coef = zty.topRows(k);
  triangular_solve("L", "N", model.chol, model.coef);  // L^-1 Z'Y_s
}

// Eigenpairs of x_s'x_s [n, n] from whichever of x_s'x_s and x_s x_s' is smaller, the
// eigenvalues above 1e-10 of the largest (the numerical rank).
struct Spectrum {
  Eigen::VectorXd s2;       // [k] squared singular values of x_s, descending
  Eigen::MatrixXd v;        // [n, k] right singular vectors
  double total = 0;         // ||x_s||_F^2
};

Spectrum spectrum_of(const MatrixRM& xs) {
  Spectrum out;
  out.total = xs.squaredNorm();
  if (xs.rows() >= xs.cols()) {
    Eigen::MatrixXd c = gram(xs);
    Eigenpairs e = symmetric_eigen(c, "covariance");
    out.s2 = e.values;
    out.v = std::move(e.vectors);
  } else {
    // x_s x_s' = U S^2 U' [N, N]; then V = x_s' U S^-1.
    const int n = to_int(xs.cols()), big_n = to_int(xs.rows());
    Eigen::MatrixXd c = gram_rows(xs);
    Eigenpairs e = symmetric_eigen(c, "Gram matrix");
    const double one = 1, zero = 0;
    out.s2 = e.values;
    out.v.resize(n, big_n);
    dgemm_("N", "N", &n, &big_n, &big_n, &one, xs.data(), &n, e.vectors.data(), &big_n, &zero,
           out.v.data(), &n, 1, 1);
  }
  Eigen::Index k = 0;
  const double floor = 1e-10 * std::max(out.s2.size() ? out.s2[0] : 0.0, 0.0);
  while (k < out.s2.size() && out.s2[k] > floor && out.s2[k] > 0) ++k;
  out.s2.conservativeResize(k);
  out.v.conservativeResize(Eigen::NoChange, k);
  if (xs.rows() < xs.cols()) out.v = out.v * out.s2.cwiseSqrt().cwiseInverse().asDiagonal();
  return out;
}

// Below this, 1 - H_ii counts as 0: row i is interpolated (alpha = 0 with N <= n) and its
// leave-one-out residual e_i / (1 - H_ii) is 0 / 0.
constexpr double kLeverageFloor = 1e-12;

// Scores model.alphas without validation rows, by exact leave-one-out ("loo") or GCV
// ("gcv"), for ridge with an intercept: the centring of x_s and y_s is the intercept's
// least-squares estimate, so the hat matrix is H = 11'/N + U diag(s^2 / (s^2 + alpha)) U'
// with x_s = U S V' (rank k; U is orthogonal to 1 because x_s is centred). Its residual is
// E = (I - H) Y_s = R + U diag(alpha / (s^2 + alpha)) C, C = U'Y_s = S^-1 Q and R = Y_s - U C
// the part of Y_s that no alpha fits. xs [N, n], ys [N, m], q = V'x_s'y_s [k, m].
void score_without_validation(const MatrixRM& xs, const MatrixRM& ys, const Spectrum& sp, const Eigen::MatrixXd& q,
                              const std::string& criterion, RidgeModel& model) {
  const Eigen::Index big_n = xs.rows(), k = sp.s2.size(), m = ys.cols();
  const double n_rows = static_cast<double>(big_n), count = static_cast<double>(ys.size());
  const Eigen::VectorXd s_inv = sp.s2.cwiseSqrt().cwiseInverse();
  const MatrixRM u = times(xs, sp.v, k) * s_inv.asDiagonal();  // [N, k] left singular vectors
  const Eigen::MatrixXd c = s_inv.asDiagonal() * q;              // [k, m] U'Y_s
  const MatrixRM outside = ys - times(u, c, m);                  // [N, m] R, computed (not ||Y||^2 - ||C||^2)
  const Eigen::ArrayXd s2 = sp.s2.array();
  model.selection = criterion;
  if (criterion == "gcv") {
    // GCV (Golub, Heath & Wahba 1979): (||E||^2 / (N m)) / (1 - tr H / N)^2 with
    // tr H = 1 + sum_k s_k^2 / (s_k^2 + alpha). The 1 is the intercept: without it, when
    // N <= n (k = N - 1) the denominator tends to (1/N)^2 instead of 0 as alpha -> 0 while
    // ||E||^2 -> 0, and GCV picks the grid's smallest alpha (near-interpolation).
    const double rss_outside = outside.squaredNorm();
    const Eigen::ArrayXd c2 = c.rowwise().squaredNorm().array();
    for (size_t i = 0; i < model.alphas.size(); ++i) {
      const double a = model.alphas[i];
      const double rss = rss_outside + ((a / (s2 + a)).square() * c2).sum();
      const double denom = 1.0 - (1.0 + (s2 / (s2 + a)).sum()) / n_rows;
      model.scores[i] = denom > 0 ? rss / count / (denom * denom) : std::numeric_limits<double>::infinity();
    }
    return;
  }
  // Exact leave-one-out: the residual of row i from the fit without it is E_i / (1 - H_ii)
  // (a penalised least-squares fit, here with an unpenalised intercept), and
  // 1 - H_ii = (1 - 1/N - ||U_i||^2) + sum_k U_ik^2 alpha / (s_k^2 + alpha). The first term is
  // row i's leverage outside span(U); it is 0 when x_s spans the centred rows (k = N - 1).
  // Exact for x standardised with all N rows' statistics (only the intercept is refitted
  // per fold). Cost per alpha: one [N, k] x [k, m] product.
  const MatrixRM u2 = u.cwiseAbs2();  // [N, k]
  Eigen::VectorXd leverage_outside = (1.0 - 1.0 / n_rows - u2.rowwise().sum().array()).cwiseMax(0.0).matrix();  // [N]
  if (k == big_n - 1) leverage_outside.setZero();
  for (size_t i = 0; i < model.alphas.size(); ++i) {
    const double a = model.alphas[i];
    const Eigen::VectorXd keep = (a / (s2 + a)).matrix();  // [k] 1 - shrinkage factor
    const Eigen::VectorXd one_minus_h = leverage_outside + u2 * keep;  // [N]
    if (one_minus_h.minCoeff() <= kLeverageFloor) {
      model.scores[i] = std::numeric_limits<double>::infinity();
      continue;
    }
    const MatrixRM e = outside + times(u, keep.asDiagonal() * c, m);  // [N, m] E
    model.scores[i] = (e.rowwise().squaredNorm().array() / one_minus_h.array().square()).sum() / count;
  }
}

// "fold training sets of A to B rows" for K contiguous folds of N rows.
std::string kept_rows_text(Eigen::Index big_n, int folds) {
  Eigen::Index lo = big_n, hi = 0;
  for (int f = 0; f < folds; ++f) {
    const Eigen::Index kept = big_n - (big_n * (f + 1) / folds - big_n * f / folds);
    lo = std::min(lo, kept);
    hi = std::max(hi, kept);
  }
  return "fold training sets of " + std::to_string(lo) + (lo == hi ? "" : " to " + std::to_string(hi)) + " rows";
}

Eigen::Index checked_latent(const LatentLinearModel& m, Eigen::Index r) {
  VED_CHECK(r >= 1 && r <= m.max_latent(),
            m.method << ": latent size " << r << " out of range [1, " << m.max_latent() << "]"
                     << (m.method == "cca"   ? " (CCA has at most min(n, m) = "
                         : m.method == "rrr" ? " (reduced-rank regression has at most rank(Yhat) = "
                                             : " (PCA has at most rank(x) = ")
                     << m.max_latent() << " usable directions on this training set)");
  return r;
}

}  // namespace

// ---- LatentLinearModel

MatrixRM LatentLinearModel::encode(const MatrixRM& x, Eigen::Index r) const {
  checked_latent(*this, r);
  VED_CHECK(x.cols() == n_inputs(), method << ": x has " << x.cols() << " features; the model was fitted on "
                                           << n_inputs());
  return times(standardise(x, x_mean, x_scale), encoder, r);
}

MatrixRM LatentLinearModel::decode(const MatrixRM& z) const {
  const Eigen::Index r = checked_latent(*this, z.cols());
  // y_s = z L_r^-T (L_r^-1 Z_r'Y_s) = z L_r^-T coef_r.
  Eigen::MatrixXd zt = z.transpose();  // [r, N]
  chol.topLeftCorner(r, r).triangularView<Eigen::Lower>().solveInPlace(zt);  // L_r^-1 z'
  MatrixRM ys = zt.transpose() * coef.topRows(r);
  return unstandardise(ys, y_mean, y_scale);
}

MatrixRM LatentLinearModel::predict(const MatrixRM& x, Eigen::Index r) const {
  checked_latent(*this, r);
  VED_CHECK(x.cols() == n_inputs(), method << ": x has " << x.cols() << " features; the model was fitted on "
                                           << n_inputs());
  const MatrixRM w = times(standardise(x, x_mean, x_scale), orth, r);  // [N, r]
  MatrixRM ys = w * coef.topRows(r);
  return unstandardise(ys, y_mean, y_scale);
}

void LatentLinearModel::predict_sweep(const MatrixRM& x, const std::vector<Eigen::Index>& latents,
                                      const std::function<void(Eigen::Index, const MatrixRM&)>& visit) const {
  if (latents.empty()) return;
  for (size_t i = 0; i < latents.size(); ++i) {
    checked_latent(*this, latents[i]);
    VED_CHECK(i == 0 || latents[i] > latents[i - 1],
              method << ": latent sizes must be strictly increasing for a sweep; got " << latents[i - 1]
                     << " then " << latents[i]);
  }
  VED_CHECK(x.cols() == n_inputs(), method << ": x has " << x.cols() << " features; the model was fitted on "
                                           << n_inputs());
  const Eigen::Index r_max = latents.back();
  const MatrixRM w = times(standardise(x, x_mean, x_scale), orth, r_max);  // [N, r_max]
  MatrixRM ys = MatrixRM::Zero(x.rows(), n_outputs());
  Eigen::Index done = 0;
  for (Eigen::Index r : latents) {
    // Rank-(r - done) update: the columns done..r-1 of the orthonormal coordinates.
    ys.noalias() += w.middleCols(done, r - done) * coef.middleRows(done, r - done);
    done = r;
    visit(r, unstandardise(ys, y_mean, y_scale));
  }
}

// ---- CCA

namespace {

// Standardisation and correlation matrices of a training set: everything CCA needs, so
// that several ridges can be fitted from one pass over the rows.
struct CcaMoments {
  Eigen::VectorXd x_mean, x_scale, y_mean, y_scale;
  Eigen::MatrixXd cxx;  // [n, n] correlation of x (unit diagonal up to constant columns)
  Eigen::MatrixXd cyy;  // [m, m]
  Eigen::MatrixXd cxy;  // [n, m]
  Eigen::Index n_train = 0;
};

CcaMoments cca_moments(const MatrixRM& x, const MatrixRM& y) {
  CcaMoments mo;
  mo.n_train = x.rows();
  column_mean_scale(x, mo.x_mean, mo.x_scale);
  column_mean_scale(y, mo.y_mean, mo.y_scale);
  const MatrixRM xs = standardise(x, mo.x_mean, mo.x_scale);  // [N, n]
  const MatrixRM ys = standardise(y, mo.y_mean, mo.y_scale);  // [N, m]
  const double big_n = static_cast<double>(x.rows());
  mo.cxx = gram(xs) / big_n;
  mo.cyy = gram(ys) / big_n;
  mo.cxy = cross(xs, ys) / big_n;
  return mo;
}

// Which side was not positive definite, if any.
enum class CcaFailure { none, x, y };

// Regularised CCA from the moments (Vinod 1976); fills `model` unless a ridged correlation
// matrix is not positive definite.
CcaFailure cca_from_moments(const CcaMoments& mo, double eps_x, double eps_y, Eigen::Index max_latent,
                            LatentLinearModel& model) {
  const double big_n = static_cast<double>(mo.n_train);
  // 1. Ridged correlation matrices and their Cholesky factors.
  Eigen::MatrixXd lx = mo.cxx;
  Eigen::MatrixXd ly = mo.cyy;
  lx.diagonal().array() += eps_x;
  ly.diagonal().array() += eps_y;
  if (!cholesky_in_place(lx)) return CcaFailure::x;
  if (!cholesky_in_place(ly)) return CcaFailure::y;

  // 2. Whitened cross-covariance K = L_x^-1 C_xy L_y^-T = U S V'.
  Eigen::MatrixXd k = mo.cxy;
  triangular_solve("L", "N", lx, k);
  triangular_solve("R", "T", ly, k);
  Svd svd = thin_svd(k);
  Eigen::Index kk = svd.s.size();
  if (max_latent > 0) kk = std::min(kk, max_latent);

  model = LatentLinearModel{};
  model.method = "cca";
  model.n_train = mo.n_train;
  model.x_mean = mo.x_mean;
  model.x_scale = mo.x_scale;
  model.y_mean = mo.y_mean;
  model.y_scale = mo.y_scale;
  model.cca_ridge_x = eps_x;
  model.cca_ridge_y = eps_y;

  // 3. Encoder A = L_x^-T U: canonical directions of standardised x.
  model.encoder = svd.u.leftCols(kk);
  triangular_solve("L", "T", lx, model.encoder);
  model.spectrum = svd.s.head(kk);

  // 4. Decoder inputs without touching x again. A'(C_xx + eps I)A = U'U = I, so
  // Z'Z = N A'C_xx A = N (I - eps A'A); and A'C_xy = U'K L_y' = S V' L_y'.
  Eigen::MatrixXd g = big_n * (Eigen::MatrixXd::Identity(kk, kk) - eps_x * gram_cm(model.encoder));
  const Eigen::MatrixXd zty = big_n * model.spectrum.asDiagonal() * svd.v.leftCols(kk).transpose() *
                              ly.triangularView<Eigen::Lower>().transpose();
  finish_decoder(model, g, zty);
  return CcaFailure::none;
}

void check_ridges(double eps_x, double eps_y, const char* what) {
  VED_CHECK(eps_x >= 0 && eps_y >= 0 && std::isfinite(eps_x) && std::isfinite(eps_y),
            what << ": ridge x = " << eps_x << ", y = " << eps_y << "; each must be finite and >= 0");
}

}  // namespace

LatentLinearModel fit_cca(const MatrixRM& x, const MatrixRM& y, const LinearFitOptions& opt) {
  check_training_data(x, y, "fit_cca");
  check_ridges(opt.cca_ridge_x, opt.cca_ridge_y, "fit_cca");
  VED_CHECK(opt.max_latent >= 0, "fit_cca: max_latent = " << opt.max_latent << "; expected >= 0 (0 = all)");
  set_threads(opt.threads);
  LatentLinearModel model;
  const CcaFailure failed = cca_from_moments(cca_moments(x, y), opt.cca_ridge_x, opt.cca_ridge_y, opt.max_latent, model);
  VED_CHECK(failed != CcaFailure::x, "fit_cca: the covariance of x (" << x.cols() << " features, " << x.rows()
                                         << " rows) plus ridge " << opt.cca_ridge_x
                                         << " is not positive definite; x is rank deficient: raise --cca-ridge-x");
  VED_CHECK(failed != CcaFailure::y, "fit_cca: the covariance of y (" << y.cols() << " outputs, " << y.rows()
                                         << " rows) plus ridge " << opt.cca_ridge_y
                                         << " is not positive definite; y is rank deficient: raise --cca-ridge-y");
  VED_CHECK(model.max_latent() >= 1, "fit_cca: no usable canonical direction (x or y constant on the training rows?)");
  return model;
}

// ---- CCA with eps by cross-validation

std::vector<double> default_cca_eps_grid() {
  std::vector<double> g;
  for (int i = 0; i <= 8; ++i) g.push_back(std::pow(10.0, -4.0 + 0.75 * i));
  return g;
}

const LatentLinearModel& CcaCvModel::model_for(Eigen::Index r) const {
  const auto it = std::find(cv.latents.begin(), cv.latents.end(), r);
  VED_CHECK(it != cv.latents.end(), "cca (cross-validated): latent size " << r << " was not among the sizes fitted");
  return models[model_of[static_cast<size_t>(it - cv.latents.begin())]];
}

void CcaCvModel::predict_sweep(const MatrixRM& x,
                               const std::function<void(Eigen::Index, const MatrixRM&)>& visit) const {
  // One sweep per model over the sizes it serves, collected, then visited in ascending r.
  std::vector<MatrixRM> y_hat(cv.latents.size());
  for (size_t mi = 0; mi < models.size(); ++mi) {
    std::vector<Eigen::Index> mine;
    for (size_t i = 0; i < cv.latents.size(); ++i)
      if (model_of[i] == mi) mine.push_back(cv.latents[i]);
    models[mi].predict_sweep(x, mine, [&](Eigen::Index r, const MatrixRM& p) {
      y_hat[static_cast<size_t>(std::find(cv.latents.begin(), cv.latents.end(), r) - cv.latents.begin())] = p;
    });
  }
  for (size_t i = 0; i < cv.latents.size(); ++i) visit(cv.latents[i], y_hat[i]);
}

CcaCvModel fit_cca_cv(const MatrixRM& x, const MatrixRM& y, const std::vector<Eigen::Index>& latents,
                      const LinearFitOptions& opt, const CcaCvOptions& cvo) {
  check_training_data(x, y, "fit_cca_cv");
  VED_CHECK(!latents.empty(), "fit_cca_cv: no latent sizes to select eps for");
  for (size_t i = 0; i < latents.size(); ++i)
    VED_CHECK(latents[i] >= 1 && (i == 0 || latents[i] > latents[i - 1]),
              "fit_cca_cv: latent sizes must be >= 1 and strictly increasing; got " << latents[i] << " at position " << i);
  const Eigen::Index big_n = x.rows();
  VED_CHECK(cvo.folds >= 2 && cvo.folds <= big_n / 2,
            "fit_cca_cv: " << cvo.folds << " folds for " << big_n << " training rows; expected 2 to " << big_n / 2
                           << " (each fold needs at least 2 rows)");
  CcaCvModel out;
  CcaCvResult& cv = out.cv;
  cv.eps_grid = cvo.eps_grid.empty() ? default_cca_eps_grid() : cvo.eps_grid;
  for (double e : cv.eps_grid)
    VED_CHECK(std::isfinite(e) && e > 0, "fit_cca_cv: grid eps " << e << "; each must be finite and > 0");
  if (!cvo.tune_y) check_ridges(0, opt.cca_ridge_y, "fit_cca_cv");
  cv.latents = latents;
  cv.folds = cvo.folds;
  cv.tune_y = cvo.tune_y;
  set_threads(opt.threads);
  const Eigen::Index n_grid = static_cast<Eigen::Index>(cv.eps_grid.size());
  const Eigen::Index n_lat = static_cast<Eigen::Index>(latents.size());
  const Eigen::Index r_max = latents.back();
  auto eps_y_of = [&](double eps) { return cvo.tune_y ? eps : opt.cca_ridge_y; };

  // Scores in the units of y standardised with every training row, the same for all folds.
  Eigen::VectorXd y_mean, y_scale;
  column_mean_scale(y, y_mean, y_scale);
  const Eigen::ArrayXd inv_scale = y_scale.cwiseInverse().array();
  cv.scores = Eigen::MatrixXd::Zero(n_grid, n_lat);
  for (int f = 0; f < cvo.folds; ++f) {
    // Fold f: rows [begin, end) held out, contiguous.
    const Eigen::Index begin = big_n * f / cvo.folds, end = big_n * (f + 1) / cvo.folds;
    const Eigen::Index held = end - begin, kept = big_n - held;
    MatrixRM x_fit(kept, x.cols()), y_fit(kept, y.cols());
    x_fit << x.topRows(begin), x.bottomRows(big_n - end);
    y_fit << y.topRows(begin), y.bottomRows(big_n - end);
    const MatrixRM x_held = x.middleRows(begin, held), y_held = y.middleRows(begin, held);
    const CcaMoments mo = cca_moments(x_fit, y_fit);
    const double count = static_cast<double>(held * y.cols());
    for (Eigen::Index g = 0; g < n_grid; ++g) {
      const double eps = cv.eps_grid[static_cast<size_t>(g)];
      LatentLinearModel m;
      const bool ok = cca_from_moments(mo, eps, eps_y_of(eps), r_max, m) == CcaFailure::none;
      // Sizes this fold's model cannot serve score +inf for this eps.
      std::vector<Eigen::Index> served;
      for (Eigen::Index i = 0; i < n_lat; ++i) {
        if (ok && latents[static_cast<size_t>(i)] <= m.max_latent())
          served.push_back(latents[static_cast<size_t>(i)]);
        else
          cv.scores(g, i) = std::numeric_limits<double>::infinity();
      }
      if (served.empty()) continue;
      Eigen::Index i = 0;
      m.predict_sweep(x_held, served, [&](Eigen::Index, const MatrixRM& p) {
        const double sse = ((p - y_held).array().rowwise() * inv_scale.transpose()).square().sum();
        cv.scores(g, i++) += sse / count / cvo.folds;
      });
    }
  }

  // Per r the eps of lowest mean score (the first of equal ones); one refit per distinct eps.
  cv.eps.resize(latents.size());
  cv.eps_at_grid_edge.resize(latents.size());
  out.model_of.resize(latents.size());
  const auto [lo, hi] = std::minmax_element(cv.eps_grid.begin(), cv.eps_grid.end());
  std::vector<double> fitted_eps;
  for (Eigen::Index i = 0; i < n_lat; ++i) {
    Eigen::Index best = 0;
    cv.scores.col(i).minCoeff(&best);
    VED_CHECK(std::isfinite(cv.scores(best, i)),
              "fit_cca_cv: latent size " << latents[static_cast<size_t>(i)] << ": no eps of the grid gives that many usable "
                                         << "canonical directions on every fold (" << kept_rows_text(big_n, cvo.folds)
                                         << "); use fewer folds or smaller latent sizes");
    const double eps = cv.eps_grid[static_cast<size_t>(best)];
    cv.eps[static_cast<size_t>(i)] = eps;
    cv.eps_at_grid_edge[static_cast<size_t>(i)] = cv.eps_grid.size() > 1 && (eps == *lo || eps == *hi);
    const auto at = std::find(fitted_eps.begin(), fitted_eps.end(), eps);
    if (at != fitted_eps.end()) {
      out.model_of[static_cast<size_t>(i)] = static_cast<size_t>(at - fitted_eps.begin());
      continue;
    }
    out.model_of[static_cast<size_t>(i)] = fitted_eps.size();  // the model fitted below for this eps
    fitted_eps.push_back(eps);
  }
  const CcaMoments all = cca_moments(x, y);
  for (size_t mi = 0; mi < fitted_eps.size(); ++mi) {
    Eigen::Index r_needed = 0;
    for (size_t i = 0; i < latents.size(); ++i)
      if (out.model_of[i] == mi) r_needed = latents[i];
    LatentLinearModel m;
    const CcaFailure failed = cca_from_moments(all, fitted_eps[mi], eps_y_of(fitted_eps[mi]), r_max, m);
    VED_CHECK(failed == CcaFailure::none, "fit_cca_cv: the correlation matrix of " << (failed == CcaFailure::x ? "x" : "y")
                                              << " plus the selected ridge " << fitted_eps[mi]
                                              << " is not positive definite on all " << big_n << " training rows");
    VED_CHECK(m.max_latent() >= r_needed, "fit_cca_cv: with the selected eps " << fitted_eps[mi] << ", CCA on all "
                                              << big_n << " training rows has " << m.max_latent()
                                              << " usable directions; latent size " << r_needed << " needs more");
    out.models.push_back(std::move(m));
  }
  return out;
}

// ---- PCA

LatentLinearModel fit_pca(const MatrixRM& x, const MatrixRM& y, const LinearFitOptions& opt) {
  check_training_data(x, y, "fit_pca");
  VED_CHECK(opt.max_latent >= 0, "fit_pca: max_latent = " << opt.max_latent << "; expected >= 0 (0 = all)");
  set_threads(opt.threads);
  LatentLinearModel model;
  model.method = "pca";
  model.n_train = x.rows();
  column_mean_scale(x, model.x_mean, model.x_scale);
  column_mean_scale(y, model.y_mean, model.y_scale);
  const MatrixRM xs = standardise(x, model.x_mean, model.x_scale);
  const MatrixRM ys = standardise(y, model.y_mean, model.y_scale);

  Spectrum sp = spectrum_of(xs);
  VED_CHECK(sp.s2.size() >= 1, "fit_pca: x is constant on the " << x.rows() << " training rows; nothing to encode");
  Eigen::Index kk = sp.s2.size();
  if (opt.max_latent > 0) kk = std::min(kk, opt.max_latent);
  model.encoder = sp.v.leftCols(kk);
  model.spectrum = sp.s2.head(kk) / sp.total;
  // Z = x_s V has orthogonal columns, Z'Z = S^2: the Cholesky factor is S.
  const Eigen::VectorXd s = sp.s2.head(kk).cwiseSqrt();
  model.chol = s.asDiagonal();
  model.orth = model.encoder * s.cwiseInverse().asDiagonal();
  const Eigen::MatrixXd xty = cross(xs, ys);  // [n, m]
  model.coef = s.cwiseInverse().asDiagonal() * product(model.encoder, true, xty, false);
  return model;
}

// ---- Ridge

std::vector<double> default_ridge_alphas(Eigen::Index n_train) {
  std::vector<double> a;
  for (int i = 0; i <= 45; ++i) a.push_back(static_cast<double>(n_train) * std::pow(10.0, -6.0 + 0.2 * i));
  return a;
}

MatrixRM RidgeModel::predict(const MatrixRM& x) const {
  VED_CHECK(x.cols() == x_mean.size(),
            "ridge: x has " << x.cols() << " features; the model was fitted on " << x_mean.size());
  return unstandardise(times(standardise(x, x_mean, x_scale), weights, weights.cols()), y_mean, y_scale);
}

RidgeModel fit_ridge(const MatrixRM& x, const MatrixRM& y, const MatrixRM& x_val, const MatrixRM& y_val,
                     const RidgeOptions& opt) {
  check_training_data(x, y, "fit_ridge");
  VED_CHECK(x_val.rows() == y_val.rows(),
            "fit_ridge: validation x has " << x_val.rows() << " rows but y has " << y_val.rows());
  VED_CHECK(x_val.rows() == 0 || (x_val.cols() == x.cols() && y_val.cols() == y.cols()),
            "fit_ridge: validation data are " << x_val.cols() << " -> " << y_val.cols() << " but training data "
                                              << x.cols() << " -> " << y.cols());
  VED_CHECK(std::isfinite(opt.alpha), "fit_ridge: alpha = " << opt.alpha << "; expected a finite value");
  VED_CHECK(opt.criterion == "loo" || opt.criterion == "gcv",
            "fit_ridge: criterion '" << opt.criterion << "' is not one of: loo, gcv");
  for (double a : opt.alphas)
    VED_CHECK(std::isfinite(a) && a >= 0, "fit_ridge: grid alpha " << a << "; each must be finite and >= 0");
  set_threads(opt.threads);
  RidgeModel model;
  column_mean_scale(x, model.x_mean, model.x_scale);
  column_mean_scale(y, model.y_mean, model.y_scale);
  const MatrixRM xs = standardise(x, model.x_mean, model.x_scale);
  const MatrixRM ys = standardise(y, model.y_mean, model.y_scale);

  // x_s = U S V' (rank k): W(alpha) = V diag(1 / (s^2 + alpha)) Q with Q = V'x_s'y_s [k, m].
  Spectrum sp = spectrum_of(xs);
  const Eigen::Index k = sp.s2.size();
  VED_CHECK(k >= 1, "fit_ridge: x is constant on the " << x.rows() << " training rows; nothing to regress on");
  const Eigen::MatrixXd q = product(sp.v, true, cross(xs, ys), false);  // [k, m]
  auto shrink = [&](double alpha) { return (sp.s2.array() + alpha).inverse().matrix().eval(); };

  if (opt.alpha >= 0) {
    model.alpha = opt.alpha;
    model.selection = "fixed";
  } else {
    model.alphas = opt.alphas.empty() ? default_ridge_alphas(x.rows()) : opt.alphas;
    model.scores.resize(model.alphas.size());
    if (x_val.rows() > 0) {
      // Validation MSE for every alpha in O(k^2) each: with P = x_v V [N_v, k],
      // ||Y_v - P D Q||^2 = ||Y_v||^2 - 2 sum_j d_j <(P'Y_v)_j, Q_j> + d'((P'P) o (QQ')) d.
      model.selection = "validation";
      const MatrixRM xv = standardise(x_val, model.x_mean, model.x_scale);
      const MatrixRM yv = standardise(y_val, model.y_mean, model.y_scale);
      const MatrixRM p = times(xv, sp.v, k);             // [N_v, k]
      const Eigen::MatrixXd pty = cross(p, yv);          // [k, m]
      const Eigen::MatrixXd qqt = product(q, false, q, true);  // [k, k]
      const Eigen::MatrixXd quad = gram(p).cwiseProduct(qqt);
      const Eigen::VectorXd lin = pty.cwiseProduct(q).rowwise().sum();
      const double yy = yv.squaredNorm(), count = static_cast<double>(yv.size());
      for (size_t i = 0; i < model.alphas.size(); ++i) {
        const Eigen::VectorXd d = shrink(model.alphas[i]);
        const double sse = yy - 2 * d.dot(lin) + d.dot(quad * d);
        model.scores[i] = std::max(sse, 0.0) / count;
      }
    } else {
      score_without_validation(xs, ys, sp, q, opt.criterion, model);
    }
    const size_t best =
        static_cast<size_t>(std::min_element(model.scores.begin(), model.scores.end()) - model.scores.begin());
    VED_CHECK(std::isfinite(model.scores[best]),
              "fit_ridge: no alpha of the grid has a finite " << model.selection << " score (alpha = 0 interpolates the "
                                                               << x.rows() << " training rows); give alphas > 0");
    model.alpha = model.alphas[best];
    const auto [lo, hi] = std::minmax_element(model.alphas.begin(), model.alphas.end());
    model.alpha_at_grid_edge = model.alphas.size() > 1 && (model.alpha == *lo || model.alpha == *hi);
  }
  model.weights = product(sp.v, false, shrink(model.alpha).asDiagonal() * q, false);
  return model;
}

// ---- Reduced-rank ridge regression

ReducedRankFit fit_reduced_rank(const MatrixRM& x, const MatrixRM& y, const MatrixRM& x_val, const MatrixRM& y_val,
                                const RidgeOptions& opt, Eigen::Index max_latent) {
  VED_CHECK(max_latent >= 0, "fit_reduced_rank: max_latent = " << max_latent << "; expected >= 0 (0 = all)");
  ReducedRankFit out;
  out.ridge = fit_ridge(x, y, x_val, y_val, opt);
  const RidgeModel& ridge = out.ridge;
  const Eigen::Index m = y.cols();
  // Fitted standardised training outputs Yhat = X_s W [N, m]; its right singular vectors
  // and squared singular values are the eigenpairs of Yhat'Yhat [m, m].
  const MatrixRM fitted = times(standardise(x, ridge.x_mean, ridge.x_scale), ridge.weights, m);
  Eigen::MatrixXd g = gram(fitted);
  Eigenpairs e = symmetric_eigen(g, "Gram matrix of the fitted outputs");
  Eigen::Index k = 0;
  const double floor = 1e-12 * std::max(e.values.size() ? e.values[0] : 0.0, 0.0);
  while (k < e.values.size() && e.values[k] > floor && e.values[k] > 0) ++k;
  VED_CHECK(k >= 1, "fit_reduced_rank: the ridge fit is 0 on the training rows (alpha = " << ridge.alpha
                                                                                         << "); nothing to truncate");
  if (max_latent > 0) k = std::min(k, max_latent);
  LatentLinearModel& model = out.model;
  model.method = "rrr";
  model.n_train = x.rows();
  model.x_mean = ridge.x_mean;
  model.x_scale = ridge.x_scale;
  model.y_mean = ridge.y_mean;
  model.y_scale = ridge.y_scale;
  const Eigen::MatrixXd v = e.vectors.leftCols(k);           // [m, k] V
  const Eigen::VectorXd d = e.values.head(k).cwiseSqrt();    // [k] singular values of Yhat
  model.encoder = ridge.weights * v;                         // [n, k] W V
  model.chol = d.asDiagonal();                               // Z = Yhat V = P D: Z'Z = D^2
  model.orth = model.encoder * d.cwiseInverse().asDiagonal();  // W V D^-1
  model.coef = d.asDiagonal() * v.transpose();               // [k, m] D V': prediction x_s W V_r V_r'
  model.spectrum = e.values.head(k) / e.values.cwiseMax(0.0).sum();
  return out;
}

}  // namespace ved
