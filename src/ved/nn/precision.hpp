#pragma once
// Mixed precision for training steps (TrainOptions::precision).
//
//   VedOutput out = forward_in_precision(*model, xb, eps, Precision::kBf16);
//   loss = ved_loss(out.y, ...);                       // outputs are fp32: the loss in fp32
//
// bf16 keeps fp32 weights, gradients and optimiser state: autocast casts the inputs of
// convolutions and matrix products to bfloat16 (oneDNN's AVX-512 BF16 kernels on CPUs that
// have them, tensor cores on GPUs) and autograd casts their gradients back. tf32 lets CUDA
// matrix products and cuDNN convolutions use TF32 tensor cores (no effect on CPU).
#include <torch/torch.h>

#include <string>

#include "ved/nn/model.hpp"

namespace ved {

enum class Precision { kFp32, kBf16, kTf32 };
Precision parse_precision(const std::string& name);  // fp32 | bf16 | tf32

// Process-wide switches of a precision (TF32 for CUDA matrix products and convolutions);
// call once before training.
void apply_precision(Precision p);

// Autocast to bfloat16 on `device` while alive, for Precision::kBf16; nothing otherwise.
class AutocastScope {
 public:
  AutocastScope(Precision p, const torch::Device& device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  bool cuda_ = false;
  bool was_enabled_ = false;
  at::ScalarType was_dtype_ = at::kFloat;
};

// The training forward pass in precision `p`: under AutocastScope for bf16, with the
// outputs cast back to fp32 so that the loss and its statistics are computed in fp32.
VedOutput forward_in_precision(VedImpl& model, const torch::Tensor& x, const torch::Tensor& eps, Precision p);

}  // namespace ved
