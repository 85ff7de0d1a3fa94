#include "ved/field/random_field.hpp"

#include <Eigen/Cholesky>  // LLT for the likelihood and kriging solves

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "ved/util/blas_threads.hpp"
#include "ved/util/error.hpp"

// LAPACK symmetric eigensolvers (OpenBLAS). The trailing size_t arguments are the hidden
// lengths of the character arguments in the gfortran calling convention.
extern "C" {
void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda,
             double* w, double* work, const int* lwork, int* iwork, const int* liwork,
             int* info, size_t jobz_len, size_t uplo_len);
void dsyevr_(const char* jobz, const char* range, const char* uplo, const int* n, double* a,
             const int* lda, const double* vl, const double* vu, const int* il, const int* iu,
             const double* abstol, int* m, double* w, double* z, const int* ldz, int* isuppz,
             double* work, const int* lwork, int* iwork, const int* liwork, int* info,
             size_t jobz_len, size_t range_len, size_t uplo_len);
}

namespace ved {

namespace {

constexpr double kSqrt5 = 2.23606797749978969641;
constexpr double kLog2Pi = 1.83787706640934548356;
constexpr double kInvGolden = 0.61803398874989484820;

void check_params(const MaternParams& p, const char* where) {
  VED_CHECK(std::isfinite(p.sigma) && p.sigma > 0,
            where << ": sigma = " << p.sigma << "; expected a finite value > 0");
  VED_CHECK(std::isfinite(p.length) && p.length > 0,
            where << ": length = " << p.length << "; expected a finite value > 0");
  VED_CHECK(std::isfinite(p.mean), where << ": mean = " << p.mean << "; expected a finite value");
  VED_CHECK(std::isfinite(p.nugget) && p.nugget >= 0,
            where << ": nugget = " << p.nugget << "; expected a finite value >= 0");
}

void check_points(const Eigen::Matrix2Xd& points, const char* where) {
  VED_CHECK(points.cols() >= 1, where << ": no points given");
  VED_CHECK(points.allFinite(), where << ": point coordinates contain NaN or Inf");
}

void check_dense_size(Eigen::Index n, const char* where) {
  VED_CHECK(n <= kMaxDenseFieldPoints,
            where << ": " << n << " points is too many for a dense covariance (limit "
                  << kMaxDenseFieldPoints << ", about " << 24.0 * double(n) * double(n) / 1e9
                  << " GB needed); use a coarser mesh for the random field");
}

// Eigenpairs of a symmetric matrix, eigenvalues descending, vectors as columns.
struct SymmetricEigen {
  Eigen::VectorXd values;   // [k]
  Eigen::MatrixXd vectors;  // [n, k]
};

// The k largest eigenpairs of the symmetric matrix `a` [n, n], reading only its lower
// triangle; `a` is overwritten. Measured on the 1475-cell Hanford covariance (2 cores,
// OpenBLAS 0.3.21): Eigen's SelfAdjointEigenSolver 2.1 s, dsyevd 0.3 s, dsyevr for the top
// 1000 by index 0.9 s but for the top 10 also 0.3 s. dsyevr's index range runs bisection and
// inverse iteration, which loses to divide and conquer beyond about n/3 vectors.
SymmetricEigen top_eigenpairs(Eigen::MatrixXd& a, int k) {
  const int n = static_cast<int>(a.rows());
  Eigen::VectorXd w(n);  // ascending
  Eigen::MatrixXd z;     // [n, m] ascending
  int m = 0;
  int info = 0;
  int lwork = -1, liwork = -1, iwork_query = 0;
  double work_query = 0;
  if (3 * k <= n) {
    const int il = n - k + 1, iu = n;
    const double vl = 0, vu = 0, abstol = 0;
    z.resize(n, k);
    std::vector<int> isuppz(2 * static_cast<size_t>(k));
    dsyevr_("V", "I", "L", &n, a.data(), &n, &vl, &vu, &il, &iu, &abstol, &m, w.data(),
            z.data(), &n, isuppz.data(), &work_query, &lwork, &iwork_query, &liwork, &info, 1,
            1, 1);
    VED_CHECK(info == 0, "LAPACK dsyevr workspace query failed (info = " << info << ")");
    lwork = static_cast<int>(work_query);
    liwork = iwork_query;
    std::vector<double> work(lwork);
    std::vector<int> iwork(liwork);
    dsyevr_("V", "I", "L", &n, a.data(), &n, &vl, &vu, &il, &iu, &abstol, &m, w.data(),
            z.data(), &n, isuppz.data(), work.data(), &lwork, iwork.data(), &liwork, &info, 1,
            1, 1);
    VED_CHECK(info == 0 && m == k, "LAPACK dsyevr failed on a " << n << "x" << n
                                       << " covariance (info = " << info << ", found " << m
                                       << " of " << k << " eigenpairs)");
  } else {
    dsyevd_("V", "L", &n, a.data(), &n, w.data(), &work_query, &lwork, &iwork_query, &liwork,
            &info, 1, 1);
    VED_CHECK(info == 0, "LAPACK dsyevd workspace query failed (info = " << info << ")");
    lwork = static_cast<int>(work_query);
    liwork = iwork_query;
    std::vector<double> work(lwork);
    std::vector<int> iwork(liwork);
    dsyevd_("V", "L", &n, a.data(), &n, w.data(), work.data(), &lwork, iwork.data(), &liwork,
            &info, 1, 1);
    VED_CHECK(info == 0, "LAPACK dsyevd failed on a " << n << "x" << n
                                                      << " covariance (info = " << info << ")");
    m = n;
  }
  const Eigen::MatrixXd& vecs = (m == n) ? a : z;  // dsyevd leaves the vectors in a
  SymmetricEigen out;
  out.values.resize(k);
  out.vectors.resize(n, k);
  for (int j = 0; j < k; ++j) {
    out.values[j] = w[m - 1 - j];
    out.vectors.col(j) = vecs.col(m - 1 - j);
  }
  return out;
}

// Full eigendecomposition (ascending order is irrelevant to callers), for small matrices.
SymmetricEigen all_eigenpairs(Eigen::MatrixXd a) {
  return top_eigenpairs(a, static_cast<int>(a.rows()));
}

// KL modes from eigenpairs: fix each vector's sign (largest-magnitude entry positive; the
// first one on ties) and scale by sqrt(eigenvalue). Eigenvalues below 0 come only from
// rounding (the covariance is positive semi-definite) and are clamped to 0, the same
// effect as the original authors' sqrt(abs(.)) for these tiny values but without turning
// noise into variance.
KlExpansion to_kl(SymmetricEigen eig, Eigen::VectorXd mean, double total_variance) {
  KlExpansion kl;
  const Eigen::Index k = eig.values.size();
  for (Eigen::Index j = 0; j < k; ++j) {
    Eigen::Index imax = 0;
    eig.vectors.col(j).cwiseAbs().maxCoeff(&imax);
    if (eig.vectors(imax, j) < 0) eig.vectors.col(j) = -eig.vectors.col(j);
    eig.values[j] = std::max(eig.values[j], 0.0);
    eig.vectors.col(j) *= std::sqrt(eig.values[j]);
  }
  kl.mean = std::move(mean);
  kl.modes = std::move(eig.vectors);
  kl.eigenvalues = std::move(eig.values);
  kl.total_variance = total_variance;
  return kl;
}

// Brent's method (parabolic steps, golden-section fallback; Numerical Recipes' `brent`) for
// a maximum of f on [a, b] to absolute tolerance tol in x. Callers record the best point
// inside f, so nothing is returned.
template <class F>
void brent_max(F f, double a, double b, double tol) {
  const double c_gold = 1 - kInvGolden;
  double x = a + c_gold * (b - a), w = x, v = x;
  double fx = -f(x), fw = fx, fv = fx;  // minimise -f
  double d = 0, e = 0;
  for (int iter = 0; iter < 200; ++iter) {
    const double xm = 0.5 * (a + b), tol2 = 2 * tol;
    if (std::abs(x - xm) <= tol2 - 0.5 * (b - a)) return;
    bool golden = true;
    if (std::abs(e) > tol) {
      double r = (x - w) * (fx - fv), q = (x - v) * (fx - fw), p = (x - v) * q - (x - w) * r;
      q = 2 * (q - r);
      if (q > 0) p = -p;
      q = std::abs(q);
      const double e_prev = e;
      e = d;
      if (std::abs(p) < std::abs(0.5 * q * e_prev) && p > q * (a - x) && p < q * (b - x)) {
        d = p / q;
        const double u = x + d;
        if (u - a < tol2 || b - u < tol2) d = xm >= x ? tol : -tol;
        golden = false;
      }
    }
    if (golden) {
      e = x >= xm ? a - x : b - x;
      d = c_gold * e;
    }
    const double u = std::abs(d) >= tol ? x + d : x + (d >= 0 ? tol : -tol);
    const double fu = -f(u);
    if (fu <= fx) {
      (u >= x ? a : b) = x;
      v = w;
      fv = fw;
      w = x;
      fw = fx;
      x = u;
      fx = fu;
    } else {
      (u < x ? a : b) = u;
      if (fu <= fw || w == x) {
        v = w;
        fv = fw;
        w = u;
        fw = fu;
      } else if (fu <= fv || v == x || v == w) {
        v = u;
        fv = fu;
      }
    }
  }
}

// Gaussian log-likelihood of the observations as a function of (sigma, mean) for one
// correlation length, in the eigenbasis of the correlation matrix R = Q diag(lambda) Q^T:
// covariance sigma^2 R + nugget I = Q diag(sigma^2 lambda + nugget) Q^T, so each
// evaluation is O(n) and the nugget stays an absolute variance (no ratio approximation).
class LengthProfile {
 public:
  LengthProfile(const Eigen::Matrix2Xd& points, const Eigen::VectorXd& values, double length,
                double nugget)
      : nugget_(nugget) {
    SymmetricEigen eig = all_eigenpairs(matern52_covariance(points, points, 1.0, length));
    // R is positive semi-definite; negative eigenvalues are rounding.
    lambda_ = eig.values.cwiseMax(0.0);
    y_ = eig.vectors.transpose() * values;
    one_ = eig.vectors.transpose() * Eigen::VectorXd::Ones(values.size());
  }

  struct Point {
    double log_likelihood = -std::numeric_limits<double>::infinity();
    double sigma = 0;
    double mean = 0;
  };

  // Likelihood at sigma = exp(u), with the mean at its GLS estimate.
  Point at(double u) const {
    const double s2 = std::exp(2 * u);
    const Eigen::ArrayXd d = s2 * lambda_.array() + nugget_;
    const double mean = (one_.array() * y_.array() / d).sum() / (one_.array().square() / d).sum();
    const double quad = ((y_.array() - mean * one_.array()).square() / d).sum();
    const double n = static_cast<double>(lambda_.size());
    Point p;
    p.log_likelihood = -0.5 * quad - 0.5 * d.log().sum() - 0.5 * n * kLog2Pi;
    p.sigma = std::exp(u);
    p.mean = mean;
    return p;
  }

  // Maximise over sigma: a log grid of +-7 (a factor of 1100) around the nugget-free
  // closed form sigma^2 = r^T R^-1 r / n, then Brent's method on the best grid cell.
  Point best() const {
    const double n = static_cast<double>(lambda_.size());
    const double floor = std::max(nugget_, 1e-12 * lambda_.maxCoeff());
    const Eigen::ArrayXd d0 = lambda_.array().max(floor);
    const double mean0 = (one_.array() * y_.array() / d0).sum() / (one_.array().square() / d0).sum();
    const double s2_0 = ((y_.array() - mean0 * one_.array()).square() / d0).sum() / n;
    const double u0 = 0.5 * std::log(std::max(s2_0, 1e-300));
    const int n_grid = 57;
    const double half_width = 7.0, step = 2 * half_width / (n_grid - 1);
    Point best_point;
    double best_u = u0;
    for (int i = 0; i < n_grid; ++i) {
      const double u = u0 - half_width + step * i;
      Point p = at(u);
      if (p.log_likelihood > best_point.log_likelihood) {
        best_point = p;
        best_u = u;
      }
    }
    brent_max(
        [&](double u) {
          Point p = at(u);
          if (p.log_likelihood > best_point.log_likelihood) best_point = p;
          return p.log_likelihood;
        },
        best_u - step, best_u + step, 1e-9);
    return best_point;
  }

 private:
  double nugget_;
  Eigen::VectorXd lambda_;  // [n] eigenvalues of the unit-variance correlation matrix
  Eigen::VectorXd y_;       // [n] observations in the eigenbasis
  Eigen::VectorXd one_;     // [n] the constant-mean regressor in the eigenbasis
};

// Lower triangle of the covariance of `points` with themselves [n, n] (the strict upper
// triangle is left uninitialised): the eigensolver reads only the lower triangle, so this
// halves the exp() calls of a full matern52_covariance.
Eigen::MatrixXd lower_covariance(const Eigen::Matrix2Xd& points, double sigma, double length) {
  const Eigen::Index n = points.cols();
  Eigen::MatrixXd c(n, n);
  // Column j holds n - j entries; dynamic chunks balance the triangle across threads.
#pragma omp parallel for schedule(dynamic, 32) if (n > 300)
  for (Eigen::Index j = 0; j < n; ++j)
    for (Eigen::Index i = j; i < n; ++i)
      c(i, j) = matern52((points.col(i) - points.col(j)).norm(), sigma, length);
  return c;
}

}  // namespace

double matern52(double r, double sigma, double length) {
  const double x = kSqrt5 * std::abs(r) / length;
  return sigma * sigma * (1.0 + x + x * x / 3.0) * std::exp(-x);
}

Eigen::MatrixXd matern52_covariance(const Eigen::Matrix2Xd& a, const Eigen::Matrix2Xd& b,
                                    double sigma, double length) {
  VED_CHECK(std::isfinite(sigma) && sigma > 0 && std::isfinite(length) && length > 0,
            "matern52_covariance: sigma = " << sigma << ", length = " << length
                                            << "; both must be finite and > 0");
  const Eigen::Index na = a.cols(), nb = b.cols();
  Eigen::MatrixXd c(na, nb);
  // Columns are independent; the `if` keeps small calls (likelihood search) single-threaded.
#pragma omp parallel for schedule(static) if (na * nb > 100000)
  for (Eigen::Index j = 0; j < nb; ++j)
    for (Eigen::Index i = 0; i < na; ++i) c(i, j) = matern52((a.col(i) - b.col(j)).norm(), sigma, length);
  return c;
}

double matern52_log_likelihood(const Eigen::Matrix2Xd& points, const Eigen::VectorXd& values,
                               const MaternParams& params) {
  check_params(params, "matern52_log_likelihood");
  check_points(points, "matern52_log_likelihood");
  VED_CHECK(values.size() == points.cols(), "matern52_log_likelihood: " << values.size()
                                                << " values for " << points.cols() << " points");
  Eigen::MatrixXd k = matern52_covariance(points, points, params.sigma, params.length);
  k.diagonal().array() += params.nugget;
  Eigen::LLT<Eigen::MatrixXd> llt(k);
  VED_CHECK(llt.info() == Eigen::Success,
            "matern52_log_likelihood: covariance is not positive definite (sigma = "
                << params.sigma << ", length = " << params.length << ", nugget = " << params.nugget
                << "); increase the nugget or remove duplicate points");
  const Eigen::VectorXd r = values.array() - params.mean;
  const Eigen::VectorXd w = llt.matrixL().solve(r);
  const double log_det = 2.0 * llt.matrixL().toDenseMatrix().diagonal().array().log().sum();
  return -0.5 * w.squaredNorm() - 0.5 * log_det - 0.5 * double(values.size()) * kLog2Pi;
}

GpFit fit_matern52(const Eigen::Matrix2Xd& points, const Eigen::VectorXd& values,
                   const GpFitOptions& opt) {
  ScopedBlasThreads one_blas_thread(1);  // bit-identical whatever the thread count or MPI layout
  check_points(points, "fit_matern52");
  const Eigen::Index n = points.cols();
  VED_CHECK(values.size() == n,
            "fit_matern52: " << values.size() << " values for " << n << " points");
  VED_CHECK(n >= 3, "fit_matern52: " << n << " observations; need at least 3 to fit mean, "
                                     << "sigma and length (or set sigma and length in the config)");
  VED_CHECK(values.allFinite(), "fit_matern52: observed values contain NaN or Inf");
  VED_CHECK(values.maxCoeff() > values.minCoeff(),
            "fit_matern52: all " << n << " observations equal " << values[0]
                                 << "; nothing to fit (set sigma and length in the config)");
  VED_CHECK(std::isfinite(opt.nugget) && opt.nugget > 0,
            "fit_matern52: nugget = " << opt.nugget
                                      << "; expected > 0 (e.g. 1.49e-8, GPy's sqrt(machine eps))");
  VED_CHECK(opt.length_min > 0 && opt.length_max > opt.length_min && std::isfinite(opt.length_max),
            "fit_matern52: length bounds [" << opt.length_min << ", " << opt.length_max
                                            << "]; expected 0 < length_min < length_max");

  // Outer search over log length: a grid, which finds the global maximum among several local
  // ones, then Brent's method in the best grid cell. Each evaluation profiles out sigma and
  // the mean exactly (LengthProfile) at the cost of one n_obs x n_obs eigendecomposition.
  struct Candidate {
    LengthProfile::Point point;
    double length = 0;
  };
  Candidate best;
  double best_v = 0;
  auto evaluate = [&](double v) {
    Candidate c;
    c.length = std::exp(v);
    c.point = LengthProfile(points, values, c.length, opt.nugget).best();
    if (c.point.log_likelihood > best.point.log_likelihood) {
      best = c;
      best_v = v;
    }
    return c.point.log_likelihood;
  };
  const double v_lo = std::log(opt.length_min), v_hi = std::log(opt.length_max);
  const int n_grid = 31;
  const double step = (v_hi - v_lo) / (n_grid - 1);
  for (int i = 0; i < n_grid; ++i) evaluate(v_lo + step * i);
  brent_max(evaluate, std::max(v_lo, best_v - step), std::min(v_hi, best_v + step),
            1e-7);  // relative precision 1e-7 in length

  VED_CHECK(std::isfinite(best.point.log_likelihood),
            "fit_matern52: likelihood is not finite anywhere in length ["
                << opt.length_min << ", " << opt.length_max << "]; check the observations");
  GpFit fit;
  fit.params.sigma = best.point.sigma;
  fit.params.length = best.length;
  fit.params.mean = best.point.mean;
  fit.params.nugget = opt.nugget;
  fit.log_likelihood = best.point.log_likelihood;
  return fit;
}

namespace {
// The checks both KL builders make; returns the number of points.
Eigen::Index check_kl_inputs(const Eigen::Matrix2Xd& points, const MaternParams& params, int n_modes,
                             const char* where) {
  check_params(params, where);
  check_points(points, where);
  const Eigen::Index n = points.cols();
  check_dense_size(n, where);
  VED_CHECK(n_modes >= 1 && n_modes <= n,
            where << ": n_modes = " << n_modes << " out of range [1, " << n << "] (the number of points)");
  return n;
}
}  // namespace

KlExpansion build_kl(const Eigen::Matrix2Xd& points, const MaternParams& params, int n_modes) {
  ScopedBlasThreads one_blas_thread(1);  // bit-identical whatever the thread count or MPI layout
  const Eigen::Index n = check_kl_inputs(points, params, n_modes, "build_kl");
  Eigen::MatrixXd c = lower_covariance(points, params.sigma, params.length);
  const double total_variance = c.trace();
  return to_kl(top_eigenpairs(c, n_modes), Eigen::VectorXd::Constant(n, params.mean),
               total_variance);
}

KlExpansion build_conditional_kl(const Eigen::Matrix2Xd& points, const MaternParams& params,
                                 const std::vector<int>& obs_cells,
                                 const Eigen::VectorXd& obs_values, int n_modes) {
  ScopedBlasThreads one_blas_thread(1);  // bit-identical whatever the thread count or MPI layout
  const Eigen::Index n = check_kl_inputs(points, params, n_modes, "build_conditional_kl");
  const Eigen::Index n_obs = static_cast<Eigen::Index>(obs_cells.size());
  VED_CHECK(n_obs >= 1, "build_conditional_kl: no observation cells given");
  VED_CHECK(obs_values.size() == n_obs, "build_conditional_kl: " << obs_values.size()
                                            << " observed values for " << n_obs << " cells");
  VED_CHECK(obs_values.allFinite(), "build_conditional_kl: observed values contain NaN or Inf");
  std::vector<char> seen(n, 0);
  Eigen::Matrix2Xd obs_points(2, n_obs);
  for (Eigen::Index i = 0; i < n_obs; ++i) {
    const int cell = obs_cells[i];
    VED_CHECK(cell >= 0 && cell < n, "build_conditional_kl: observation cell " << cell
                                         << " (entry " << i << ") out of range [0, " << n - 1
                                         << "]; are the cells 0-based?");
    VED_CHECK(!seen[cell], "build_conditional_kl: observation cell "
                               << cell << " appears twice; give each cell once");
    seen[cell] = 1;
    obs_points.col(i) = points.col(cell);
  }

  // Kriging with K_oo = C_oo + nugget I = L L^T and B = L^-1 C_ox [n_obs, n]:
  // mean = m + B^T L^-1 (y - m), covariance = C - B^T B.
  Eigen::MatrixXd k_oo = matern52_covariance(obs_points, obs_points, params.sigma, params.length);
  k_oo.diagonal().array() += params.nugget;
  Eigen::LLT<Eigen::MatrixXd> llt(k_oo);
  VED_CHECK(llt.info() == Eigen::Success,
            "build_conditional_kl: observation covariance is not positive definite (sigma = "
                << params.sigma << ", length = " << params.length << ", nugget = " << params.nugget
                << "); increase the nugget");
  Eigen::MatrixXd b = matern52_covariance(obs_points, points, params.sigma, params.length);
  llt.matrixL().solveInPlace(b);
  const Eigen::VectorXd w =
      llt.matrixL().solve((obs_values.array() - params.mean).matrix().eval());
  Eigen::VectorXd mean = (b.transpose() * w).array() + params.mean;

  Eigen::MatrixXd c = lower_covariance(points, params.sigma, params.length);
  // Lower triangle only, the part the eigensolver reads.
  c.selfadjointView<Eigen::Lower>().rankUpdate(b.transpose(), -1.0);
  const double total_variance = c.trace();
  return to_kl(top_eigenpairs(c, n_modes), std::move(mean), total_variance);
}

}  // namespace ved
