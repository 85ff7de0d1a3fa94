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

namespace {

// The shard's sums with their autograd history (float64), in ved_loss_shard_sums' layout.
struct ShardSums {
  torch::Tensor rec, kl, mu_sum, var_sum, mu_outer;
};

ShardSums shard_sums(const torch::Tensor& y_pred, const torch::Tensor& y, const torch::Tensor& mu,
                     const torch::Tensor& logvar) {
  VED_CHECK(y_pred.sizes() == y.sizes(), "reconstruction: prediction " << y_pred.sizes() << " vs target " << y.sizes());
  ShardSums s;
  s.rec = (y_pred - y).square().sum().to(torch::kFloat64);
  s.kl = (0.5 * (mu.square() + logvar.exp() - logvar - 1.0).sum()).to(torch::kFloat64);
  const torch::Tensor mu64 = mu.to(torch::kFloat64);
  s.mu_sum = mu64.sum(0);
  s.var_sum = logvar.to(torch::kFloat64).exp().sum(0);
  s.mu_outer = torch::mm(mu64.t(), mu64);
  return s;
}

}  // namespace

torch::Tensor ved_loss_shard_sums(const torch::Tensor& y_pred, const torch::Tensor& y, const torch::Tensor& mu,
                                  const torch::Tensor& logvar) {
  torch::NoGradGuard no_grad;
  ShardSums s = shard_sums(y_pred, y, mu, logvar);
  return torch::cat({s.rec.reshape({1}), s.kl.reshape({1}), s.mu_sum, s.var_sum, s.mu_outer.reshape({-1})});
}

ShardLoss ved_loss_shard(const torch::Tensor& y_pred, const torch::Tensor& y, const torch::Tensor& mu,
                         const torch::Tensor& logvar, const LossWeights& w, int64_t global_batch,
                         const torch::Tensor& global_sums) {
  const int64_t r = mu.size(1);
  VED_CHECK(global_batch >= 2, "the covariance penalty needs at least 2 samples per batch; got " << global_batch);
  VED_CHECK(global_sums.dim() == 1 && global_sums.size(0) == 2 + 2 * r + r * r,
            "global loss sums have " << global_sums.numel() << " entries; expected " << 2 + 2 * r + r * r);
  const torch::Tensor g = global_sums.to(mu.device(), torch::kFloat64);
  const double b = static_cast<double>(global_batch);
  ShardSums s = shard_sums(y_pred, y, mu, logvar);
  // The global sums, differentiable through this shard's part only: the other shards'
  // samples are constants here, and their own processes differentiate them.
  auto with_grad = [](const torch::Tensor& local, const torch::Tensor& global) {
    return local + (global.reshape(local.sizes()) - local.detach());
  };
  const torch::Tensor mu_sum = with_grad(s.mu_sum, g.narrow(0, 2, r));
  const torch::Tensor var_sum = with_grad(s.var_sum, g.narrow(0, 2 + r, r));
  const torch::Tensor mu_outer = with_grad(s.mu_outer, g.narrow(0, 2 + 2 * r, r * r));
  // C = Cov_b(μ) (unbiased) + diag(mean_b σ²), from the sums.
  const torch::Tensor c = (mu_outer - torch::outer(mu_sum, mu_sum) / b) / (b - 1.0) + torch::diag(var_sum / b);
  const torch::Tensor d = torch::diagonal(c);
  const torch::Tensor cov_offdiag = (c - torch::diag(d)).square().sum();
  const torch::Tensor cov_diag = (d - 1.0).square().sum();

  ShardLoss out;
  const torch::Tensor cov = w.lambda_offdiag * cov_offdiag + w.lambda_diag * cov_diag;
  out.objective = (s.rec / b + w.beta * s.kl / b + cov).to(mu.scalar_type());
  LossTerms& t = out.global;
  t.rec = (g[0] / b).to(mu.scalar_type());
  t.kl = (g[1] / b).to(mu.scalar_type());
  t.cov_offdiag = cov_offdiag.detach().to(mu.scalar_type());
  t.cov_diag = cov_diag.detach().to(mu.scalar_type());
  t.total = t.rec + w.beta * t.kl + w.lambda_offdiag * t.cov_offdiag + w.lambda_diag * t.cov_diag;
  return out;
}

}  // namespace ved
