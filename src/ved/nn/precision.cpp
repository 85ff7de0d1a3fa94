#include "ved/nn/precision.hpp"

#include <ATen/autocast_mode.h>

#include "ved/util/error.hpp"

namespace ved {

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::kFp32;
  if (name == "bf16") return Precision::kBf16;
  if (name == "tf32") return Precision::kTf32;
  VED_FAIL("precision '" << name << "' is not one of: fp32, bf16, tf32");
}

void apply_precision(Precision p) {
  const bool tf32 = p == Precision::kTf32;
  at::globalContext().setAllowTF32CuBLAS(tf32);
  at::globalContext().setAllowTF32CuDNN(tf32);
}

AutocastScope::AutocastScope(Precision p, const torch::Device& device) {
  if (p != Precision::kBf16) return;
  active_ = true;
  cuda_ = device.is_cuda();
  if (cuda_) {
    was_enabled_ = at::autocast::is_enabled();
    was_dtype_ = at::autocast::get_autocast_gpu_dtype();
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(true);
  } else {
    was_enabled_ = at::autocast::is_cpu_enabled();
    was_dtype_ = at::autocast::get_autocast_cpu_dtype();
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    at::autocast::set_cpu_enabled(true);
  }
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // The outermost scope frees the bfloat16 copies of the weights that autocast cached.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  if (cuda_) {
    at::autocast::set_enabled(was_enabled_);
    at::autocast::set_autocast_gpu_dtype(was_dtype_);
  } else {
    at::autocast::set_cpu_enabled(was_enabled_);
    at::autocast::set_autocast_cpu_dtype(was_dtype_);
  }
}

VedOutput forward_in_precision(VedImpl& model, const torch::Tensor& x, const torch::Tensor& eps, Precision p) {
  VedOutput out;
  {
    AutocastScope autocast(p, x.device());
    out = model.forward(x, eps);
  }
  if (p == Precision::kBf16) {
    out.y = out.y.to(torch::kFloat32);
    out.mu = out.mu.to(torch::kFloat32);
    out.logvar = out.logvar.to(torch::kFloat32);
  }
  return out;
}

}  // namespace ved
