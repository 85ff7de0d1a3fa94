#pragma once
// Dense kernels shared by the closed-form baselines (linear.cpp, nonlinear.cpp): thin
// wrappers over OpenBLAS/LAPACK for the products, factorisations and symmetric
// eigenproblems, and the standardisation every baseline applies with training statistics.
// Internal to ved_baselines: apps and tests use linear.hpp and nonlinear.hpp.
//
// Layout. A row-major [N, n] matrix (MatrixRM, samples as rows) is, in memory, the
// column-major [n, N] matrix of its transpose: that is how row-major data reach
// column-major BLAS without a copy. Column-major results are Eigen::MatrixXd.
#include <Eigen/Core>

#include "ved/util/array.hpp"

namespace ved::dense {

// Checked narrowing to LAPACK's 32-bit index.
int to_int(Eigen::Index i);

// BLAS and Eigen threads (threads <= 0: leave the current setting).
void set_threads(int threads);

// ---- Products.

Eigen::MatrixXd gram(const MatrixRM& a);                        // a'a [n, n] for a [N, n], both triangles
Eigen::MatrixXd cross(const MatrixRM& a, const MatrixRM& b);    // a'b [n, m] for a [N, n], b [N, m]
// a [N, n] times the first `cols` columns of b [n, >= cols]: [N, cols], row-major.
MatrixRM times(const MatrixRM& a, const Eigen::MatrixXd& b, Eigen::Index cols);
// op(a) op(b), op(.) the transpose where t_a / t_b is set.
Eigen::MatrixXd product(const Eigen::MatrixXd& a, bool t_a, const Eigen::MatrixXd& b, bool t_b);
Eigen::MatrixXd gram_cm(const Eigen::MatrixXd& a);              // a'a [k, k] for column-major a [rows, k]
Eigen::MatrixXd gram_rows(const MatrixRM& a);                    // a a' [N, N] for a [N, n], both triangles
// a b' [N, M] for a [N, n], b [M, n]: inner products of the rows.
Eigen::MatrixXd inner_rows(const MatrixRM& a, const MatrixRM& b);

// ---- Factorisations.

// In place: the lower Cholesky factor of the symmetric positive definite `a` (upper
// triangle zeroed). False if `a` is not positive definite.
bool cholesky_in_place(Eigen::MatrixXd& a);
// b := op(l)^-1 b (side "L") or b op(l)^-1 (side "R"), l lower triangular; op = l or l' ("T").
void triangular_solve(const char* side, const char* trans, const Eigen::MatrixXd& l, Eigen::MatrixXd& b);
// Cholesky factor of a Gram matrix g = Z'Z [k, k], stopping before the first column that is
// (numerically) a combination of the earlier ones: its residual variance is below 1e-10 of
// its own. Returns the leading factor [r, r], r <= k; the leading block of a nested
// least-squares fit with r columns is factored by its leading r x r block.
Eigen::MatrixXd nested_cholesky(const Eigen::MatrixXd& g);

struct Eigenpairs {
  Eigen::VectorXd values;   // [k] descending
  Eigen::MatrixXd vectors;  // [n, k]
};

// All eigenpairs of the symmetric `a` [n, n] (lower triangle read), descending, by LAPACK
// dsyevd; `a` is destroyed. `what` names the matrix in error messages.
Eigenpairs symmetric_eigen(Eigen::MatrixXd& a, const char* what = "symmetric matrix");
// The k largest eigenpairs (1 <= k <= n), descending, by dsyevr (MRRR on the selected
// index range; about half the cost of all pairs when k << n); `a` is destroyed.
Eigenpairs symmetric_eigen_top(Eigen::MatrixXd& a, Eigen::Index k, const char* what = "symmetric matrix");

// ---- Preprocessing (training statistics; a constant column gets scale 1).

void column_mean_scale(const MatrixRM& a, Eigen::VectorXd& mean, Eigen::VectorXd& scale);
MatrixRM standardise(const MatrixRM& a, const Eigen::VectorXd& mean, const Eigen::VectorXd& scale);
MatrixRM unstandardise(const MatrixRM& a, const Eigen::VectorXd& mean, const Eigen::VectorXd& scale);
// Same row counts, at least 2 rows, 1 input and 1 output, all finite; `what` names the caller.
void check_training_data(const MatrixRM& x, const MatrixRM& y, const char* what);

}  // namespace ved::dense
