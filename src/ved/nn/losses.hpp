#pragma once
// The VED loss (docs/method.md §2), averaged over a mini-batch of B samples:
//
//   L = REC + β·KL + λ_od·COV_od + λ_d·COV_d
//   REC    = (1/B) Σ_b Σ_j (ŷ_bj − y_bj)²                       (standardised outputs)
//   KL     = (1/B) Σ_b ½ Σ_i (μ_bi² + σ_bi² − log σ_bi² − 1)      KL(q(z|x) ‖ N(0, I))
//   C      = Cov_b(μ) (unbiased, B − 1) + diag((1/B) Σ_b σ_b²)   aggregate-posterior covariance
//   COV_od = Σ_{i≠j} C_ij²,   COV_d = Σ_i (C_ii − 1)²            (DIP-VAE-II)
//
//   LossTerms t = ved_loss(out.y, y, out.mu, out.logvar, weights);
//   t.total.backward();
//
// Works in any floating dtype (the gradient tests use double).
#include <torch/torch.h>

namespace ved {

struct LossWeights {
  double beta = 1e-3;            // KL weight
  double lambda_offdiag = 1e-2;  // off-diagonal covariance weight
  double lambda_diag = 1e-2;     // diagonal covariance weight
};

struct LossTerms {
  torch::Tensor total;        // scalar, the weighted sum that is minimised
  torch::Tensor rec;          // scalar REC
  torch::Tensor kl;           // scalar KL
  torch::Tensor cov_offdiag;  // scalar COV_od (unweighted)
  torch::Tensor cov_diag;     // scalar COV_d (unweighted)
};

// y_pred, y: [B, m].
torch::Tensor reconstruction_loss(const torch::Tensor& y_pred, const torch::Tensor& y);
// mu, logvar: [B, r].
torch::Tensor kl_divergence(const torch::Tensor& mu, const torch::Tensor& logvar);
// C = Cov_b(μ) + diag(mean_b σ²), [r, r]; needs B >= 2.
torch::Tensor aggregate_covariance(const torch::Tensor& mu, const torch::Tensor& logvar);

struct CovariancePenalty {
  torch::Tensor offdiag;  // Σ_{i≠j} C_ij²
  torch::Tensor diag;     // Σ_i (C_ii − 1)²
};
CovariancePenalty covariance_penalty(const torch::Tensor& mu, const torch::Tensor& logvar);

LossTerms ved_loss(const torch::Tensor& y_pred, const torch::Tensor& y, const torch::Tensor& mu,
                   const torch::Tensor& logvar, const LossWeights& w);

// Data-parallel training: a global batch of B samples is split into shards, one per
// process. Each shard contributes the sums the loss needs,
//
//   s = [Σ(ŷ − y)², ½Σ(μ² + σ² − log σ² − 1), Σ_b μ_b (r), Σ_b σ²_b (r), Σ_b μ_b μ_bᵀ (r×r)]
//
// (float64, detached); the caller adds them over all shards (MPI all-reduce) and passes
// the global sums to ved_loss_shard. Its `objective`, back-propagated on every shard, gives
// parameter gradients that add up over the shards to the gradient of the global-batch loss
// — the covariance penalty included, which uses the statistics of the whole batch.
torch::Tensor ved_loss_shard_sums(const torch::Tensor& y_pred, const torch::Tensor& y, const torch::Tensor& mu,
                                  const torch::Tensor& logvar);

struct ShardLoss {
  torch::Tensor objective;  // scalar to back-propagate on this shard
  LossTerms global;         // the global batch's loss terms (detached), as ved_loss reports them
};
ShardLoss ved_loss_shard(const torch::Tensor& y_pred, const torch::Tensor& y, const torch::Tensor& mu,
                         const torch::Tensor& logvar, const LossWeights& w, int64_t global_batch,
                         const torch::Tensor& global_sums);

}  // namespace ved
