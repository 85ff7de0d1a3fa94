#include "ved/nn/optim.hpp"

#include <cmath>

#include "ved/util/error.hpp"

namespace ved {

Adam::Adam(std::vector<torch::Tensor> params, const AdamOptions& options)
    : params_(std::move(params)), options_(options) {
  VED_CHECK(options.lr >= 0 && options.eps > 0 && options.beta1 >= 0 && options.beta1 < 1 &&
                options.beta2 >= 0 && options.beta2 < 1 && options.weight_decay >= 0,
            "invalid Adam options: lr " << options.lr << ", betas (" << options.beta1 << ", " << options.beta2
                                        << "), eps " << options.eps << ", weight decay " << options.weight_decay);
  for (const auto& p : params_) {
    exp_avg_.push_back(torch::zeros_like(p, torch::MemoryFormat::Preserve));
    exp_avg_sq_.push_back(torch::zeros_like(p, torch::MemoryFormat::Preserve));
  }
}

void Adam::zero_grad() {
  for (auto& p : params_)
    if (p.grad().defined()) p.mutable_grad().zero_();
}

void Adam::step() {
  torch::NoGradGuard no_grad;
  ++steps_;
  const double b1 = options_.beta1, b2 = options_.beta2;
  const double bias_correction1 = 1.0 - std::pow(b1, static_cast<double>(steps_));
  const double bias_correction2_sqrt = std::sqrt(1.0 - std::pow(b2, static_cast<double>(steps_)));
  const double step_size = options_.lr / bias_correction1;
  for (size_t i = 0; i < params_.size(); ++i) {
    torch::Tensor& p = params_[i];
    if (!p.grad().defined()) continue;
    torch::Tensor g = p.grad();
    if (options_.weight_decay != 0) {
      if (options_.decoupled) p.mul_(1.0 - options_.lr * options_.weight_decay);
      else g = g.add(p, options_.weight_decay);
    }
    exp_avg_[i].mul_(b1).add_(g, 1.0 - b1);
    exp_avg_sq_[i].mul_(b2).addcmul_(g, g, 1.0 - b2);
    torch::Tensor denom = (exp_avg_sq_[i].sqrt() / bias_correction2_sqrt).add_(options_.eps);
    p.addcdiv_(exp_avg_[i], denom, -step_size);
  }
}

void Adam::set_state(int64_t steps, const std::vector<torch::Tensor>& exp_avg,
                     const std::vector<torch::Tensor>& exp_avg_sq) {
  VED_CHECK(exp_avg.size() == params_.size() && exp_avg_sq.size() == params_.size(),
            "optimiser state has " << exp_avg.size() << " moments for " << params_.size() << " parameters");
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    VED_CHECK(exp_avg[i].sizes() == params_[i].sizes() && exp_avg_sq[i].sizes() == params_[i].sizes(),
              "optimiser state for parameter " << i << " has shape " << exp_avg[i].sizes() << "; expected "
                                               << params_[i].sizes());
    exp_avg_[i].copy_(exp_avg[i]);
    exp_avg_sq_[i].copy_(exp_avg_sq[i]);
  }
  steps_ = steps;
}

torch::Tensor clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> norms;
  for (const auto& p : params)
    if (p.grad().defined()) norms.push_back(p.grad().norm());
  if (norms.empty()) return torch::zeros({});
  torch::Tensor total = torch::stack(norms).norm();
  if (max_norm > 0) {
    // Scale by min(1, max_norm / (norm + 1e-6)) without reading the norm back to the host.
    torch::Tensor coef = (max_norm / (total + 1e-6)).clamp_max(1.0);
    for (const auto& p : params)
      if (p.grad().defined()) p.grad().mul_(coef);
  }
  return total;
}

}  // namespace ved
