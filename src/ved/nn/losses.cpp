#include "ved/nn/losses.hpp"

#include "ved/util/error.hpp"

namespace ved {

torch::Tensor reconstruction_loss(const torch::Tensor& y_pred, const torch::Tensor& y) {
  VED_CHECK(y_pred.sizes() == y.sizes(), "reconstruction: prediction " << y_pred.sizes() << " vs target " << y.sizes());
  // Σ over all entries / B == mean over the batch of the per-sample sum.
  return (y_pred - y).square().sum() / static_cast<double>(y.size(0));
}

torch::Tensor kl_divergence(const torch::Tensor& mu, const torch::Tensor& logvar) {
  const double b = static_cast<double>(mu.size(0));
  return 0.5 * (mu.square() + logvar.exp() - logvar - 1.0).sum() / b;
}

torch::Tensor aggregate_covariance(const torch::Tensor& mu, const torch::Tensor& logvar) {
  const int64_t b = mu.size(0);
  VED_CHECK(b >= 2, "the covariance penalty needs at least 2 samples per batch; got " << b);
  torch::Tensor centred = mu - mu.mean(0, /*keepdim=*/true);                          // [B, r]
  torch::Tensor cov = torch::mm(centred.t(), centred) / static_cast<double>(b - 1);  // [r, r]
  return cov + torch::diag(logvar.exp().mean(0));
}

CovariancePenalty covariance_penalty(const torch::Tensor& mu, const torch::Tensor& logvar) {
  torch::Tensor c = aggregate_covariance(mu, logvar);
  torch::Tensor d = torch::diagonal(c);
  CovariancePenalty p;
  p.offdiag = (c - torch::diag(d)).square().sum();  // zeroes the diagonal, no cancellation
  p.diag = (d - 1.0).square().sum();
  return p;
}

LossTerms ved_loss(const torch::Tensor& y_pred, const torch::Tensor& y, const torch::Tensor& mu,
                   const torch::Tensor& logvar, const LossWeights& w) {
  LossTerms t;
  t.rec = reconstruction_loss(y_pred, y);
  t.kl = kl_divergence(mu, logvar);
  CovariancePenalty p = covariance_penalty(mu, logvar);
  t.cov_offdiag = p.offdiag;
  t.cov_diag = p.diag;
  t.total = t.rec + w.beta * t.kl + w.lambda_offdiag * t.cov_offdiag + w.lambda_diag * t.cov_diag;
  return t;
}

}  // namespace ved
