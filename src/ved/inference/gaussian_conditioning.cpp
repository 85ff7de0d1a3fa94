#include "ved/inference/gaussian_conditioning.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>

#include "ved/util/error.hpp"

namespace ved::inference {
namespace {

// Centred copy of y (column-major for the products) and the column means.
Eigen::MatrixXd centred(const MatrixRM& y, Eigen::VectorXd* mean) {
  *mean = y.colwise().mean().transpose();
  Eigen::MatrixXd x = y;
  x.rowwise() -= mean->transpose();
  return x;
}

}  // namespace

GaussianPrior ledoit_wolf_prior(const MatrixRM& y_train) {
  const Eigen::Index n = y_train.rows(), p = y_train.cols();
  VED_CHECK(n >= 2 && p >= 1, "Ledoit-Wolf covariance: need at least 2 training rows and 1 output (got "
                                  << n << " x " << p << ")");
  GaussianPrior g;
  Eigen::MatrixXd x = centred(y_train, &g.mean);
  // Standardise (divisor n, as the sample covariance below); constant outputs keep scale 1.
  Eigen::VectorXd sd = (x.array().square().colwise().sum() / static_cast<double>(n)).sqrt().transpose();
  for (Eigen::Index j = 0; j < p; ++j)
    if (!(sd[j] > 0)) sd[j] = 1;
  x = x * sd.cwiseInverse().asDiagonal();
  const Eigen::MatrixXd s = x.transpose() * x / static_cast<double>(n);  // [p, p]
  const double mu = s.trace() / static_cast<double>(p);
  // δ² = ||S - μI||²_F / p; β̄² = (1/n²) Σ_k ||x_k x_kᵀ - S||²_F / p = (Σ_k ||x_k||⁴ / n - ||S||²_F) / (p n).
  const double s_norm2 = s.squaredNorm();
  const double delta = (s_norm2 - 2 * mu * s.trace() + static_cast<double>(p) * mu * mu) / static_cast<double>(p);
  const double sum_x4 = x.rowwise().squaredNorm().array().square().sum();
  double beta = (sum_x4 / static_cast<double>(n) - s_norm2) / (static_cast<double>(p) * static_cast<double>(n));
  beta = std::min(beta, delta);
  g.shrinkage = delta > 0 ? std::max(0.0, beta / delta) : 1.0;
  Eigen::MatrixXd c = (1 - g.shrinkage) * s;
  c.diagonal().array() += g.shrinkage * mu;
  g.cov = sd.asDiagonal() * c * sd.asDiagonal();
  return g;
}

GaussianPrior ppca_prior(const MatrixRM& y_train, int rank) {
  const Eigen::Index n = y_train.rows(), p = y_train.cols();
  VED_CHECK(n >= 2 && p >= 1, "PCA prior: need at least 2 training rows and 1 output (got " << n << " x " << p << ")");
  VED_CHECK(rank >= 1, "PCA prior: rank " << rank << " must be at least 1");
  GaussianPrior g;
  Eigen::MatrixXd x = centred(y_train, &g.mean);
  const Eigen::MatrixXd s = x.transpose() * x / static_cast<double>(n - 1);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(s);
  VED_CHECK(eig.info() == Eigen::Success, "PCA prior: the eigen-decomposition of the " << p << " x " << p
                                                                                      << " training covariance failed");
  // Eigenvalues ascending: the leading r are the last r.
  const Eigen::Index r = std::min<Eigen::Index>(rank, p);
  const Eigen::VectorXd lambda = eig.eigenvalues().cwiseMax(0.0);
  double sigma2 = r < p ? lambda.head(p - r).mean() : 0.0;
  sigma2 = std::max(sigma2, 1e-10 * std::max(lambda.sum(), 1e-300) / static_cast<double>(p));
  const Eigen::MatrixXd u = eig.eigenvectors().rightCols(r);  // [p, r]
  const Eigen::VectorXd keep = (lambda.tail(r).array() - sigma2).cwiseMax(0.0).matrix();
  g.cov = u * keep.asDiagonal() * u.transpose();
  g.cov.diagonal().array() += sigma2;
  g.residual_var = sigma2;
  return g;
}

GaussianPosterior condition_gaussian(const GaussianPrior& prior, const std::vector<int64_t>& index,
                                     const MatrixRM& value, const Eigen::VectorXd& noise_var) {
  const Eigen::Index m = prior.mean.size(), k = static_cast<Eigen::Index>(index.size());
  VED_CHECK(value.cols() == k && noise_var.size() == k,
            "Gaussian conditioning: " << k << " observed outputs but values of width " << value.cols()
                                      << " and " << noise_var.size() << " noise variances");
  Eigen::MatrixXd c_mo(m, k);  // Σ[:, o]
  Eigen::MatrixXd c_oo(k, k);  // Σ[o, o] + diag(noise)
  Eigen::VectorXd mu_o(k);
  for (Eigen::Index j = 0; j < k; ++j) {
    VED_CHECK(index[j] >= 0 && index[j] < m, "Gaussian conditioning: output index " << index[j] << " outside [0, " << m << ")");
    c_mo.col(j) = prior.cov.col(index[j]);
    mu_o[j] = prior.mean[index[j]];
    for (Eigen::Index i = 0; i < k; ++i) c_oo(i, j) = prior.cov(index[i], index[j]);
    c_oo(j, j) += noise_var[j];
  }
  Eigen::LLT<Eigen::MatrixXd> llt(c_oo);
  VED_CHECK(llt.info() == Eigen::Success,
            "Gaussian conditioning: the prior covariance of the " << k << " observed outputs plus noise is not "
                                                                  << "positive definite; give a positive --noise");
  const Eigen::MatrixXd gain = llt.solve(c_mo.transpose()).transpose();  // [m, k] Σ[:, o] K⁻¹
  GaussianPosterior post;
  post.mean.resize(value.rows(), m);
  for (Eigen::Index c = 0; c < value.rows(); ++c)
    post.mean.row(c) = (prior.mean + gain * (value.row(c).transpose() - mu_o)).transpose();
  // Var[y_i | y_obs] = Σ_ii - Σ_j gain_ij Σ[i, o_j]; clipped at 0 against rounding.
  Eigen::VectorXd var = prior.cov.diagonal() - (gain.array() * c_mo.array()).rowwise().sum().matrix();
  post.std = var.cwiseMax(0.0).cwiseSqrt().transpose().replicate(value.rows(), 1);
  return post;
}

}  // namespace ved::inference
