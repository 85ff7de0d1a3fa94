#pragma once
// Mixed precision for training steps (TrainOptions::precision).
//
//   {
//     AutocastScope scope(Precision::kBf16, device);   // conv / linear run in bfloat16
//     out = model->forward(xb, eps);
//   }                                                  // back to fp32; weight casts freed
//   loss = ved_loss(out.y.to(kFloat32), ...);           // the loss in fp32
//
// bf16 keeps fp32 weights, gradients and optimiser state: autocast casts the inputs of
// convolutions and matrix products to bfloat16 (oneDNN's AVX-512 BF16 kernels on CPUs that
// have them, tensor cores on GPUs) and autograd casts their gradients back. tf32 lets CUDA
// matrix products and cuDNN convolutions use TF32 tensor cores (no effect on CPU).
#include <torch/torch.h>

#include <string>

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

}  // namespace ved
