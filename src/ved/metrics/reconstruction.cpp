#include "ved/metrics/reconstruction.hpp"

#include <cmath>

#include "ved/util/error.hpp"

namespace ved {

ReconstructionMetrics reconstruction_metrics(const MatrixRM& y_true, const MatrixRM& y_pred,
                                             const Eigen::VectorXd& y_train_mean) {
  VED_CHECK(y_true.rows() == y_pred.rows() && y_true.cols() == y_pred.cols(),
            "metrics: truth is " << y_true.rows() << "x" << y_true.cols() << " but prediction is "
                                 << y_pred.rows() << "x" << y_pred.cols());
  VED_CHECK(y_train_mean.size() == y_true.cols(),
            "metrics: training mean has " << y_train_mean.size() << " entries; expected " << y_true.cols());
  VED_CHECK(y_true.rows() > 0, "metrics: no samples to score");
  ReconstructionMetrics m;
  const MatrixRM err = y_pred - y_true;
  const double err2 = err.squaredNorm();
  m.rel_l2 = std::sqrt(err2 / y_true.squaredNorm());
  const double fluct2 = (y_true.rowwise() - y_train_mean.transpose()).squaredNorm();
  m.rel_l2_fluct = std::sqrt(err2 / fluct2);
  m.rmse = std::sqrt(err2 / static_cast<double>(y_true.size()));
  const Eigen::RowVectorXd mean = y_true.colwise().mean();
  double r2_sum = 0;
  int counted = 0;
  for (Eigen::Index j = 0; j < y_true.cols(); ++j) {
    double ss_tot = (y_true.col(j).array() - mean[j]).square().sum();
    double ss_res = err.col(j).squaredNorm();
    if (ss_tot > 0) {
      r2_sum += 1.0 - ss_res / ss_tot;
      ++counted;
    }
  }
  m.r2 = counted ? r2_sum / counted : 0.0;
  return m;
}

RowErrors row_errors(const MatrixRM& y_true, const MatrixRM& y_pred, const Eigen::VectorXd& y_train_mean) {
  VED_CHECK(y_true.rows() == y_pred.rows() && y_true.cols() == y_pred.cols() && y_train_mean.size() == y_true.cols(),
            "metrics: truth is " << y_true.rows() << "x" << y_true.cols() << ", prediction " << y_pred.rows() << "x"
                                 << y_pred.cols() << ", training mean " << y_train_mean.size());
  RowErrors e;
  e.sq_err = (y_pred - y_true).rowwise().squaredNorm();
  e.sq_dev = (y_true.rowwise() - y_train_mean.transpose()).rowwise().squaredNorm();
  return e;
}

}  // namespace ved
