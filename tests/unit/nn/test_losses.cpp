// The VED loss terms (docs/method.md §2) against independent values: closed-form KL vs Monte Carlo,
// the covariance penalty of a batch computed by hand, gradients vs finite differences.
#include <gtest/gtest.h>

#include <cmath>

#include "ved/nn/losses.hpp"

namespace ved {
namespace {
const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);
}

TEST(VedLoss, ReconstructionIsBatchMeanOfSummedSquares) {
  torch::Tensor y = torch::tensor({{1.0, 2.0, 3.0}, {0.0, 0.0, 0.0}}, kF64);
  torch::Tensor p = torch::tensor({{1.0, 0.0, 3.0}, {1.0, 1.0, 1.0}}, kF64);
  // sample 0: 4, sample 1: 3 -> mean 3.5
  EXPECT_DOUBLE_EQ(reconstruction_loss(p, y).item<double>(), 3.5);
}

TEST(VedLoss, ClosedFormKlMatchesMonteCarlo) {
  // KL(N(μ, σ²) ‖ N(0, 1)) = E_q[log q(z) − log p(z)], estimated with 400k draws per sample.
  torch::manual_seed(3);
  torch::Tensor mu = torch::tensor({{0.5, -1.0, 2.0}, {0.0, 0.3, -0.7}}, kF64);
  torch::Tensor logvar = torch::tensor({{-1.0, 0.5, 0.0}, {1.2, -2.0, 0.1}}, kF64);
  const int64_t n = 400000;
  torch::Tensor sigma = torch::exp(0.5 * logvar);
  torch::Tensor eps = torch::randn({n, 2, 3}, kF64);
  torch::Tensor z = mu + sigma * eps;
  // log q − log p per dimension, summed over dimensions: [n, 2]
  torch::Tensor log_ratio = (-0.5 * eps.square() - 0.5 * logvar + 0.5 * z.square()).sum(2);
  torch::Tensor per_sample = log_ratio.mean(0);                // [2]
  double mc = per_sample.mean().item<double>();                 // batch mean
  double se = (log_ratio.mean(1).std() / std::sqrt(static_cast<double>(n))).item<double>();
  double closed = kl_divergence(mu, logvar).item<double>();
  EXPECT_NEAR(closed, mc, 4 * se) << "standard error " << se;
  // And by hand for one dimension: ½(μ² + σ² − log σ² − 1) with μ = 1, log σ² = 0 is ½.
  EXPECT_DOUBLE_EQ(kl_divergence(torch::ones({1, 1}, kF64), torch::zeros({1, 1}, kF64)).item<double>(), 0.5);
}

TEST(VedLoss, CovariancePenaltyOfAKnownBatch) {
  // μ rows (1, 0), (0, 1), (−1, −1): mean 0, unbiased covariance [[1, .5], [.5, 1]];
  // σ² = 0.5 everywhere adds 0.5 to the diagonal: C = [[1.5, .5], [.5, 1.5]].
  torch::Tensor mu = torch::tensor({{1.0, 0.0}, {0.0, 1.0}, {-1.0, -1.0}}, kF64);
  torch::Tensor logvar = torch::full({3, 2}, std::log(0.5), kF64);
  torch::Tensor c = aggregate_covariance(mu, logvar);
  EXPECT_TRUE(torch::allclose(c, torch::tensor({{1.5, 0.5}, {0.5, 1.5}}, kF64)));
  CovariancePenalty p = covariance_penalty(mu, logvar);
  EXPECT_NEAR(p.offdiag.item<double>(), 2 * 0.25, 1e-15);  // C₁₂² + C₂₁²
  EXPECT_NEAR(p.diag.item<double>(), 2 * 0.25, 1e-15);     // (1.5 − 1)² twice
  // Weighted total with separate weights: REC 0 (perfect prediction), β = 0.
  torch::Tensor y = torch::zeros({3, 4}, kF64);
  LossTerms t = ved_loss(y, y, mu, logvar, {0.0, 2.0, 3.0});
  EXPECT_NEAR(t.total.item<double>(), 2.0 * 0.5 + 3.0 * 0.5, 1e-14);
  // β·KL by hand: per sample ½ Σ (μ² + 0.5 − log 0.5 − 1).
  double kl = 0;
  for (double m2 : {1.0, 1.0, 2.0}) kl += 0.5 * (m2 + 2 * (0.5 - std::log(0.5) - 1));
  EXPECT_NEAR(t.kl.item<double>(), kl / 3, 1e-14);
}

TEST(VedLoss, CovarianceNeedsTwoSamples) {
  EXPECT_ANY_THROW(covariance_penalty(torch::zeros({1, 3}, kF64), torch::zeros({1, 3}, kF64)));
}

TEST(VedLoss, GradientsMatchFiniteDifferences) {
  torch::manual_seed(5);
  const int64_t b = 5, r = 3, m = 4;
  torch::Tensor pred = torch::randn({b, m}, kF64).requires_grad_();
  torch::Tensor y = torch::randn({b, m}, kF64);
  torch::Tensor mu = torch::randn({b, r}, kF64).requires_grad_();
  torch::Tensor logvar = (0.5 * torch::randn({b, r}, kF64)).requires_grad_();
  LossWeights w{0.3, 0.7, 1.3};
  auto loss = [&] { return ved_loss(pred, y, mu, logvar, w).total; };
  std::vector<torch::Tensor> inputs = {pred, mu, logvar};
  std::vector<torch::Tensor> grads = torch::autograd::grad({loss()}, inputs);
  const double h = 1e-6;
  torch::NoGradGuard no_grad;
  for (size_t k = 0; k < inputs.size(); ++k) {
    torch::Tensor flat = inputs[k].view(-1);
    torch::Tensor g = grads[k].reshape(-1);
    for (int64_t i = 0; i < flat.numel(); ++i) {
      double v = flat[i].item<double>();
      flat[i] = v + h;
      double up = loss().item<double>();
      flat[i] = v - h;
      double dn = loss().item<double>();
      flat[i] = v;
      double fd = (up - dn) / (2 * h);
      EXPECT_NEAR(g[i].item<double>(), fd, 1e-6 * std::max(1.0, std::abs(fd))) << "input " << k << " entry " << i;
    }
  }
}

// Data-parallel loss: a batch split into shards whose sums are added (as MPI all-reduce
// does) gives the full batch's loss terms, and the shards' gradients add up to the full
// batch's gradients, the covariance penalty of the whole batch included.
TEST(VedLoss, ShardsOfABatchAddUpToTheFullBatch) {
  torch::manual_seed(11);
  const int64_t b = 12, r = 4, m = 5;
  torch::Tensor mu = torch::randn({b, r}, kF64).requires_grad_(true);
  torch::Tensor logvar = (0.3 * torch::randn({b, r}, kF64)).requires_grad_(true);
  torch::Tensor pred = torch::randn({b, m}, kF64).requires_grad_(true);
  torch::Tensor y = torch::randn({b, m}, kF64);
  const LossWeights w{0.3, 0.7, 0.2};

  LossTerms full = ved_loss(pred, y, mu, logvar, w);
  full.total.backward();
  const torch::Tensor g_mu = mu.grad().clone(), g_lv = logvar.grad().clone(), g_pred = pred.grad().clone();
  mu.grad().zero_();
  logvar.grad().zero_();
  pred.grad().zero_();

  for (int64_t shards : {2, 3}) {
    const int64_t n = b / shards;
    torch::Tensor sums = torch::zeros({2 + 2 * r + r * r}, kF64);
    for (int64_t k = 0; k < shards; ++k)
      sums += ved_loss_shard_sums(pred.narrow(0, k * n, n), y.narrow(0, k * n, n), mu.narrow(0, k * n, n),
                                  logvar.narrow(0, k * n, n));
    for (int64_t k = 0; k < shards; ++k) {
      ShardLoss s = ved_loss_shard(pred.narrow(0, k * n, n), y.narrow(0, k * n, n), mu.narrow(0, k * n, n),
                                   logvar.narrow(0, k * n, n), w, b, sums);
      EXPECT_NEAR(s.global.total.item<double>(), full.total.item<double>(), 1e-12);
      EXPECT_NEAR(s.global.rec.item<double>(), full.rec.item<double>(), 1e-12);
      EXPECT_NEAR(s.global.kl.item<double>(), full.kl.item<double>(), 1e-12);
      EXPECT_NEAR(s.global.cov_offdiag.item<double>(), full.cov_offdiag.item<double>(), 1e-12);
      EXPECT_NEAR(s.global.cov_diag.item<double>(), full.cov_diag.item<double>(), 1e-12);
      s.objective.backward();  // gradients accumulate over the shards, as all-reduce adds them
    }
    EXPECT_TRUE(torch::allclose(mu.grad(), g_mu, 1e-10, 1e-12)) << shards;
    EXPECT_TRUE(torch::allclose(logvar.grad(), g_lv, 1e-10, 1e-12)) << shards;
    EXPECT_TRUE(torch::allclose(pred.grad(), g_pred, 1e-10, 1e-12)) << shards;
    mu.grad().zero_();
    logvar.grad().zero_();
    pred.grad().zero_();
  }
}

}  // namespace ved

