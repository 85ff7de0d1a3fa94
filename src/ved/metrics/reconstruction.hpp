#pragma once
// Reconstruction metrics (docs/method.md §9.1), shared by the VED and every baseline so that all
// methods are scored by the same code.
//
//   ReconstructionMetrics m = reconstruction_metrics(y_test, y_pred, y_train_mean);
#include <Eigen/Core>

#include "ved/util/array.hpp"

namespace ved {

struct ReconstructionMetrics {
  double rel_l2 = 0;        // ||Y - Yhat||_F / ||Y||_F over the whole split
  double rel_l2_fluct = 0;  // ||(Y - ybar) - (Yhat - ybar)||_F / ||Y - ybar||_F, ybar = training mean
  double r2 = 0;            // 1 - SS_res / SS_tot per output (about the split's own mean), averaged
  double rmse = 0;          // root mean squared error over all entries
};

// y_true, y_pred: [N, m] in physical units; y_train_mean: [m].
ReconstructionMetrics reconstruction_metrics(const MatrixRM& y_true, const MatrixRM& y_pred,
                                             const Eigen::VectorXd& y_train_mean);

// Per-row terms of rel_l2_fluct, for intervals by resampling rows (report/statistics.hpp):
// rel_l2_fluct = sqrt(sum(sq_err) / sum(sq_dev)) over any subset of the rows.
struct RowErrors {
  Eigen::VectorXd sq_err;  // [N] sum_j (y_ij - yhat_ij)²
  Eigen::VectorXd sq_dev;  // [N] sum_j (y_ij - ybar_j)², ybar = training mean
};
RowErrors row_errors(const MatrixRM& y_true, const MatrixRM& y_pred, const Eigen::VectorXd& y_train_mean);

}  // namespace ved
