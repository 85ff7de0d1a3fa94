#pragma once
// The VED network (docs/method.md §2, §3): encoder q_φ(z|x) = N(μ(x), diag σ²(x)) and a fully
// connected decoder f_θ(z). Everything is in standardised units; see train/ for the
// transforms to and from physical units.
//
//   Ved model(config);                          // ModelConfig from nn/model_config.hpp
//   auto [mu, logvar] = model->encode(x);       // x [B, C, H, W] (conv) or [B, n] (mlp)
//   torch::Tensor y = model->decode(mu);        // [B, m]; evaluation uses z = μ(x)
//   VedOutput out = model->forward(x, eps);     // training: z = μ + σ ⊙ eps
#include <torch/torch.h>

#include <string>
#include <vector>

#include "ved/nn/model_config.hpp"

namespace ved {

struct Encoding {
  torch::Tensor mu;      // [B, r]
  torch::Tensor logvar;  // [B, r] log σ², clamped to [logvar_min, logvar_max]
};

struct VedOutput {
  torch::Tensor y;       // [B, m] decoded outputs (standardised)
  torch::Tensor mu;      // [B, r]
  torch::Tensor logvar;  // [B, r]
};

enum class Activation { kRelu, kLeakyRelu, kElu, kGelu, kSilu, kTanh };
Activation parse_activation(const std::string& name);
torch::Tensor activate(const torch::Tensor& x, Activation a);

// A convolution with padding kernel / 2. On CPU, when `channels_last`, input and weight are
// handed to it in channels-last (NHWC) layout, so oneDNN skips its layout conversions: a
// training step of the default model is about 1.35x faster. The weights stay NCHW (the
// conversion is a cheap copy per call that autograd sees through); other devices get the
// tensors as they are. Results agree with the NCHW path up to rounding.
torch::Tensor conv_forward(torch::nn::Conv2d& conv, const torch::Tensor& x, int stride, bool channels_last);

// x + conv(act(conv(x))), then act (docs/method.md §3), optionally with normalisation after each conv.
class ResidualBlockImpl : public torch::nn::Module {
 public:
  // skip = false: the plain block act(norm2(conv2(act(norm1(conv1(x)))))), same parameters.
  ResidualBlockImpl(int channels, int kernel, Activation act, const std::string& norm, bool skip = true);
  torch::Tensor forward(const torch::Tensor& x, bool channels_last = true);

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::AnyModule norm1_, norm2_;
  Activation act_;
  bool skip_ = true;
};
TORCH_MODULE(ResidualBlock);

class VedImpl : public torch::nn::Module {
 public:
  explicit VedImpl(const ModelConfig& config);

  Encoding encode(const torch::Tensor& x);
  torch::Tensor decode(const torch::Tensor& z);
  // z = μ + exp(½ log σ²) ⊙ eps, eps [B, r] ~ N(0, I) supplied by the caller (its RNG).
  VedOutput forward(const torch::Tensor& x, const torch::Tensor& eps);

  const ModelConfig& config() const { return config_; }

  // Channels-last convolutions on CPU (see conv_forward); on by default. Off only to
  // compare the layouts.
  void set_channels_last(bool on) { channels_last_ = on; }
  bool channels_last() const { return channels_last_; }

 private:
  torch::Tensor conv_features(const torch::Tensor& x);  // [B, C, H, W] -> [B, features]

  ModelConfig config_;
  Activation act_;
  bool channels_last_ = true;
  // conv encoder
  torch::nn::Conv2d stem_{nullptr};
  torch::nn::AnyModule stem_norm_;
  std::vector<ResidualBlock> blocks_;          // stage-major, config.blocks per stage
  std::vector<torch::nn::Conv2d> downs_;       // one per stage
  std::vector<torch::nn::AnyModule> down_norms_;
  // fully connected parts
  std::vector<torch::nn::Linear> encoder_fc_;  // hidden layers before the head
  torch::nn::Linear head_{nullptr};            // -> [μ, log σ²] (2r)
  std::vector<torch::nn::Linear> decoder_fc_;  // hidden layers, then the output layer
};
TORCH_MODULE(Ved);

int64_t count_parameters(const torch::nn::Module& module);

// "cpu", "cuda", "cuda:N" -> a device; a clear error when LibTorch has no CUDA or no GPU.
torch::Device parse_device(const std::string& spec);

}  // namespace ved
