#include "ved/baselines/dense.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ved/util/blas_threads.hpp"
#include "ved/util/error.hpp"

// BLAS and LAPACK (OpenBLAS on Debian). The products with x and the factorisations are
// 3-5x faster here than Eigen's kernels compiled without -march flags, and LAPACK's dsyevd
// is 5-7x faster than Eigen's SelfAdjointEigenSolver at n = 1475. The trailing size_t
// arguments are the hidden lengths of the character arguments (gfortran convention).
extern "C" {
void dgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
            const double* alpha, const double* a, const int* lda, const double* b, const int* ldb,
            const double* beta, double* c, const int* ldc, size_t, size_t);
void dsyrk_(const char* uplo, const char* trans, const int* n, const int* k, const double* alpha,
            const double* a, const int* lda, const double* beta, double* c, const int* ldc, size_t,
            size_t);
void dtrsm_(const char* side, const char* uplo, const char* transa, const char* diag, const int* m,
            const int* n, const double* alpha, const double* a, const int* lda, double* b,
            const int* ldb, size_t, size_t, size_t, size_t);
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info, size_t);
void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda,
             double* w, double* work, const int* lwork, int* iwork, const int* liwork, int* info,
             size_t, size_t);
void dsyevr_(const char* jobz, const char* range, const char* uplo, const int* n, double* a,
             const int* lda, const double* vl, const double* vu, const int* il, const int* iu,
             const double* abstol, int* m, double* w, double* z, const int* ldz, int* isuppz,
             double* work, const int* lwork, int* iwork, const int* liwork, int* info, size_t,
             size_t, size_t);
}

namespace ved::dense {

int to_int(Eigen::Index i) {
  VED_CHECK(i <= std::numeric_limits<int>::max(),
            "baseline: dimension " << i << " exceeds the 32-bit LAPACK index range");
  return static_cast<int>(i);
}

void set_threads(int threads) {
  if (threads <= 0) return;
  Eigen::setNbThreads(threads);
  set_blas_threads(threads);
}

// ---- Dense kernels. A row-major [N, n] matrix is, in memory, the column-major [n, N]
// matrix of its transpose: that is how the row-major data reach column-major BLAS.

// a'a [n, n] for a [N, n] (both triangles filled).
Eigen::MatrixXd gram(const MatrixRM& a) {
  const int n = to_int(a.cols()), k = to_int(a.rows());
  Eigen::MatrixXd c = Eigen::MatrixXd::Zero(n, n);
  if (n == 0) return c;
  const double one = 1, zero = 0;
  dsyrk_("L", "N", &n, &k, &one, a.data(), &n, &zero, c.data(), &n, 1, 1);
  c.triangularView<Eigen::StrictlyUpper>() = c.transpose();
  return c;
}

// a'b [n, m] for a [N, n], b [N, m].
Eigen::MatrixXd cross(const MatrixRM& a, const MatrixRM& b) {
  const int n = to_int(a.cols()), m = to_int(b.cols()), k = to_int(a.rows());
  Eigen::MatrixXd c(n, m);
  if (n == 0 || m == 0) return c;
  const double one = 1, zero = 0;
  dgemm_("N", "T", &n, &m, &k, &one, a.data(), &n, b.data(), &m, &zero, c.data(), &n, 1, 1);
  return c;
}

// a [N, n] times the first `cols` columns of b [n, >= cols]: [N, cols], row-major.
MatrixRM times(const MatrixRM& a, const Eigen::MatrixXd& b, Eigen::Index cols) {
  const int n = to_int(a.cols()), rows = to_int(a.rows()), k = to_int(cols), ldb = to_int(b.rows());
  MatrixRM c(a.rows(), cols);
  if (rows == 0 || k == 0) return c;
  const double one = 1, zero = 0;
  if (n == 0) return c.setZero();
  // Row-major c' = b_:k' a'.
  dgemm_("T", "N", &k, &rows, &n, &one, b.data(), &ldb, a.data(), &n, &zero, c.data(), &k, 1, 1);
  return c;
}

// op(a) op(b) for column-major a and b, op(.) the transpose where t_a / t_b is set.
Eigen::MatrixXd product(const Eigen::MatrixXd& a, bool t_a, const Eigen::MatrixXd& b, bool t_b) {
  const int m = to_int(t_a ? a.cols() : a.rows()), k = to_int(t_a ? a.rows() : a.cols());
  const int n = to_int(t_b ? b.rows() : b.cols());
  VED_CHECK(k == (t_b ? b.cols() : b.rows()), "baseline: inner dimensions " << k << " and "
                                                  << (t_b ? b.cols() : b.rows()) << " differ");
  Eigen::MatrixXd c = Eigen::MatrixXd::Zero(m, n);
  if (m == 0 || n == 0 || k == 0) return c;
  const int lda = to_int(a.rows()), ldb = to_int(b.rows());
  const double one = 1, zero = 0;
  dgemm_(t_a ? "T" : "N", t_b ? "T" : "N", &m, &n, &k, &one, a.data(), &lda, b.data(), &ldb, &zero, c.data(), &m, 1, 1);
  return c;
}

// a'a for column-major a [rows, k]: [k, k], both triangles.
Eigen::MatrixXd gram_cm(const Eigen::MatrixXd& a) {
  const int k = to_int(a.cols()), rows = to_int(a.rows());
  Eigen::MatrixXd c = Eigen::MatrixXd::Zero(k, k);
  if (k == 0 || rows == 0) return c;
  const double one = 1, zero = 0;
  dsyrk_("L", "T", &k, &rows, &one, a.data(), &rows, &zero, c.data(), &k, 1, 1);
  c.triangularView<Eigen::StrictlyUpper>() = c.transpose();
  return c;
}

// In place: the lower Cholesky factor of the symmetric positive definite `a`.
bool cholesky_in_place(Eigen::MatrixXd& a) {
  const int n = to_int(a.rows());
  int info = 0;
  dpotrf_("L", &n, a.data(), &n, &info, 1);
  a.triangularView<Eigen::StrictlyUpper>().setZero();
  return info == 0;
}

// b := op(l)^-1 b (side "L") or b op(l)^-1 (side "R"), l lower triangular; op = l or l'.
void triangular_solve(const char* side, const char* trans, const Eigen::MatrixXd& l, Eigen::MatrixXd& b) {
  const int rows = to_int(b.rows()), cols = to_int(b.cols()), ldl = to_int(l.rows());
  if (rows == 0 || cols == 0) return;
  const double one = 1;
  dtrsm_(side, "L", trans, "N", &rows, &cols, &one, l.data(), &ldl, b.data(), &rows, 1, 1, 1, 1);
}

Eigenpairs symmetric_eigen(Eigen::MatrixXd& a, const char* what) {
  const int n = to_int(a.rows());
  Eigen::VectorXd w(n);
  int lwork = -1, liwork = -1, iwork_query = 0, info = 0;
  double work_query = 0;
  dsyevd_("V", "L", &n, a.data(), &n, w.data(), &work_query, &lwork, &iwork_query, &liwork, &info, 1, 1);
  VED_CHECK(info == 0, "LAPACK dsyevd workspace query failed (info = " << info << ")");
  lwork = static_cast<int>(work_query);
  liwork = iwork_query;
  std::vector<double> work(static_cast<size_t>(std::max(lwork, 1)));
  std::vector<int> iwork(static_cast<size_t>(std::max(liwork, 1)));
  dsyevd_("V", "L", &n, a.data(), &n, w.data(), work.data(), &lwork, iwork.data(), &liwork, &info, 1, 1);
  VED_CHECK(info == 0, "LAPACK dsyevd failed on a " << n << "x" << n << " " << what << " (info = " << info << ")");
  Eigenpairs out;
  out.values = w.reverse();
  out.vectors = a.rowwise().reverse();
  return out;
}

// ---- Preprocessing.

void column_mean_scale(const MatrixRM& a, Eigen::VectorXd& mean, Eigen::VectorXd& scale) {
  const double n = static_cast<double>(a.rows());
  mean = a.colwise().sum().transpose() / n;
  scale = ((a.rowwise() - mean.transpose()).colwise().squaredNorm().transpose() / n).cwiseSqrt();
  // Same rule as the VED's transforms: a constant column maps to 0.
  for (Eigen::Index j = 0; j < scale.size(); ++j)
    if (!(scale[j] > 1e-12 * std::max(1.0, std::abs(mean[j])))) scale[j] = 1.0;
}

MatrixRM standardise(const MatrixRM& a, const Eigen::VectorXd& mean, const Eigen::VectorXd& scale) {
  return (a.rowwise() - mean.transpose()).array().rowwise() / scale.transpose().array();
}

MatrixRM unstandardise(const MatrixRM& a, const Eigen::VectorXd& mean, const Eigen::VectorXd& scale) {
  return (a.array().rowwise() * scale.transpose().array()).rowwise() + mean.transpose().array();
}

void check_training_data(const MatrixRM& x, const MatrixRM& y, const char* what) {
  VED_CHECK(x.rows() == y.rows(), what << ": x has " << x.rows() << " rows but y has " << y.rows());
  VED_CHECK(x.rows() >= 2, what << ": " << x.rows() << " training rows; need at least 2");
  VED_CHECK(x.cols() >= 1 && y.cols() >= 1,
            what << ": x is " << x.rows() << "x" << x.cols() << " and y " << y.rows() << "x" << y.cols()
                 << "; need at least one input and one output");
  VED_CHECK(x.allFinite() && y.allFinite(), what << ": the training data contain NaN or Inf");
}

// Cholesky factor of the Gram matrix g = Z'Z [k, k] of the encoded training set, stopping
// before the first direction that is (numerically) a combination of the earlier ones on
// the training set: its residual variance is below 1e-10 of its own. Returns the leading
// factor [r, r], r <= k; the decoder cannot use directions from r on.
Eigen::MatrixXd nested_cholesky(const Eigen::MatrixXd& g) {
  Eigen::MatrixXd l = g;
  if (cholesky_in_place(l)) {
    // Each leading block's factor is the leading block of the whole factor.
    Eigen::Index r = 0;
    while (r < l.rows() && l(r, r) * l(r, r) > 1e-10 * g(r, r)) ++r;
    return r == l.rows() ? l : Eigen::MatrixXd(l.topLeftCorner(r, r));
  }
  // Column by column (left-looking), so that the factor of the leading block survives.
  const Eigen::Index k = g.rows();
  l.setZero(k, k);
  Eigen::Index r = 0;
  for (; r < k; ++r) {
    const double d = g(r, r) - l.row(r).head(r).squaredNorm();
    if (!(g(r, r) > 0) || !(d > 1e-10 * g(r, r))) break;
    l(r, r) = std::sqrt(d);
    for (Eigen::Index i = r + 1; i < k; ++i)
      l(i, r) = (g(i, r) - l.row(i).head(r).dot(l.row(r).head(r))) / l(r, r);
  }
  return l.topLeftCorner(r, r);
}

Eigen::MatrixXd gram_rows(const MatrixRM& a) {
  const int n = to_int(a.cols()), rows = to_int(a.rows());
  Eigen::MatrixXd c = Eigen::MatrixXd::Zero(a.rows(), a.rows());
  if (rows == 0 || n == 0) return c;
  const double one = 1, zero = 0;
  // The column-major view of a is a' [n, N]: c = (a')' a'.
  dsyrk_("L", "T", &rows, &n, &one, a.data(), &n, &zero, c.data(), &rows, 1, 1);
  c.triangularView<Eigen::StrictlyUpper>() = c.transpose();
  return c;
}

Eigen::MatrixXd inner_rows(const MatrixRM& a, const MatrixRM& b) {
  VED_CHECK(a.cols() == b.cols(), "baseline: rows of length " << a.cols() << " and " << b.cols() << " differ");
  const int n = to_int(a.cols()), rows_a = to_int(a.rows()), rows_b = to_int(b.rows());
  Eigen::MatrixXd c = Eigen::MatrixXd::Zero(a.rows(), b.rows());
  if (rows_a == 0 || rows_b == 0 || n == 0) return c;
  const double one = 1, zero = 0;
  dgemm_("T", "N", &rows_a, &rows_b, &n, &one, a.data(), &n, b.data(), &n, &zero, c.data(), &rows_a, 1, 1);
  return c;
}

Eigenpairs symmetric_eigen_top(Eigen::MatrixXd& a, Eigen::Index k, const char* what) {
  const int n = to_int(a.rows());
  VED_CHECK(k >= 1 && k <= n, "baseline: " << k << " eigenpairs requested of a " << n << "x" << n << " " << what);
  if (k == n) return symmetric_eigen(a, what);
  const int il = n - to_int(k) + 1, iu = n;
  const double vl = 0, vu = 0, abstol = 0;  // abstol 0: LAPACK's default accuracy
  int found = 0, info = 0, lwork = -1, liwork = -1, iwork_query = 0;
  double work_query = 0;
  Eigen::VectorXd w(n);
  Eigen::MatrixXd z(n, k);
  std::vector<int> isuppz(2 * static_cast<size_t>(k));
  dsyevr_("V", "I", "L", &n, a.data(), &n, &vl, &vu, &il, &iu, &abstol, &found, w.data(), z.data(), &n,
          isuppz.data(), &work_query, &lwork, &iwork_query, &liwork, &info, 1, 1, 1);
  VED_CHECK(info == 0, "LAPACK dsyevr workspace query failed (info = " << info << ")");
  lwork = static_cast<int>(work_query);
  liwork = iwork_query;
  std::vector<double> work(static_cast<size_t>(std::max(lwork, 1)));
  std::vector<int> iwork(static_cast<size_t>(std::max(liwork, 1)));
  dsyevr_("V", "I", "L", &n, a.data(), &n, &vl, &vu, &il, &iu, &abstol, &found, w.data(), z.data(), &n,
          isuppz.data(), work.data(), &lwork, iwork.data(), &liwork, &info, 1, 1, 1);
  VED_CHECK(info == 0 && found == k, "LAPACK dsyevr failed on a " << n << "x" << n << " " << what << " (info = "
                                                                  << info << ", " << found << " of " << k
                                                                  << " eigenpairs)");
  Eigenpairs out;
  out.values = w.head(k).reverse();  // ascending from LAPACK
  out.vectors = z.rowwise().reverse();
  return out;
}

}  // namespace ved::dense
