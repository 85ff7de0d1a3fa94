#pragma once
// Adam and AdamW with state we can checkpoint (LibTorch's optimiser state layout differs
// between 1.13 and 2.x), and gradient-norm clipping that returns the norm as a tensor
// (no device synchronisation). The update is PyTorch's, operation for operation:
//
//   m ← β₁ m + (1 − β₁) g,  v ← β₂ v + (1 − β₂) g²,
//   p ← p − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
//   Adam: g ← g + wd·p before the moments;  AdamW: p ← p (1 − lr·wd) before the update.
//
//   Adam opt(model->parameters(), {.lr = 1e-3});
//   opt.zero_grad(); loss.backward(); clip_grad_norm(model->parameters(), 1.0); opt.step();
#include <torch/torch.h>

#include <vector>

namespace ved {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool decoupled = false;  // true: AdamW
};

class Adam {
 public:
  Adam(std::vector<torch::Tensor> params, const AdamOptions& options);

  void zero_grad();
  void step();

  double lr() const { return options_.lr; }
  void set_lr(double lr) { options_.lr = lr; }
  const AdamOptions& options() const { return options_; }
  const std::vector<torch::Tensor>& params() const { return params_; }

  // State, for checkpoints: one exp_avg / exp_avg_sq per parameter, in `params` order.
  int64_t steps() const { return steps_; }
  const std::vector<torch::Tensor>& exp_avg() const { return exp_avg_; }
  const std::vector<torch::Tensor>& exp_avg_sq() const { return exp_avg_sq_; }
  // Copies the given moments into the state (shapes must match the parameters).
  void set_state(int64_t steps, const std::vector<torch::Tensor>& exp_avg,
                 const std::vector<torch::Tensor>& exp_avg_sq);

 private:
  std::vector<torch::Tensor> params_;
  std::vector<torch::Tensor> exp_avg_, exp_avg_sq_;
  AdamOptions options_;
  int64_t steps_ = 0;
};

// Scales all gradients so that their joint L2 norm is at most max_norm (max_norm <= 0:
// no scaling). Returns the norm before clipping, a scalar tensor on the parameters' device.
torch::Tensor clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm);

}  // namespace ved
