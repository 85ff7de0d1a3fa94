#include "ved/nn/model.hpp"

#include <ATen/autocast_mode.h>

#include <cmath>

#include "ved/util/error.hpp"

namespace ved {
namespace nn = torch::nn;

Activation parse_activation(const std::string& name) {
  if (name == "relu") return Activation::kRelu;
  if (name == "leaky_relu") return Activation::kLeakyRelu;
  if (name == "elu") return Activation::kElu;
  if (name == "gelu") return Activation::kGelu;
  if (name == "silu") return Activation::kSilu;
  if (name == "tanh") return Activation::kTanh;
  VED_FAIL("activation '" << name << "' is not one of: relu, leaky_relu, elu, gelu, silu, tanh");
}

torch::Tensor activate(const torch::Tensor& x, Activation a) {
  switch (a) {
    case Activation::kRelu: return torch::relu(x);
    case Activation::kLeakyRelu: return torch::leaky_relu(x, 0.01);
    case Activation::kElu: return torch::elu(x);
    // LibTorch 1.13's CPU gelu backward returns garbage (up to inf) for channels-last
    // activations (a 1e13 gradient at initialisation; cf. pytorch/pytorch#107876), so the
    // exact erf form is composed from elementwise ops, whose gradients respect strides.
    case Activation::kGelu: return 0.5 * x * (1 + torch::erf(x * M_SQRT1_2));
    case Activation::kSilu: return torch::silu(x);
    case Activation::kTanh: return torch::tanh(x);
  }
  return x;
}

namespace {

nn::Conv2d make_conv(int in, int out, int kernel, int stride) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2));
}

// Normalisation after a convolution; empty for "none". Group norm uses min(8, C) groups.
nn::AnyModule make_norm(const std::string& norm, int channels) {
  if (norm == "batch") return nn::AnyModule(nn::BatchNorm2d(channels));
  if (norm == "group") return nn::AnyModule(nn::GroupNorm(std::min(8, channels), channels));
  return nn::AnyModule();
}

torch::Tensor maybe_norm(nn::AnyModule& norm, const torch::Tensor& x) {
  return norm.is_empty() ? x : norm.forward(x);
}

}  // namespace

torch::Tensor conv_forward(nn::Conv2d& conv, const torch::Tensor& x, int stride, bool channels_last) {
  // Under bf16 autocast (--precision bf16) oneDNN's NCHW kernels were faster: 1,750 vs
  // 1,450-1,510 samples/s at batch 64, equal at 256 (bench_train_step, 1 thread).
  if (!channels_last || !x.is_cpu() || at::autocast::is_cpu_enabled()) return conv->forward(x);
  const auto nhwc = torch::MemoryFormat::ChannelsLast;
  const int64_t pad = conv->weight.size(-1) / 2;
  return torch::conv2d(x.contiguous(nhwc), conv->weight.contiguous(nhwc), conv->bias, {stride, stride}, {pad, pad});
}

ResidualBlockImpl::ResidualBlockImpl(int channels, int kernel, Activation act, const std::string& norm, bool skip)
    : act_(act), skip_(skip) {
  conv1_ = register_module("conv1", make_conv(channels, channels, kernel, 1));
  conv2_ = register_module("conv2", make_conv(channels, channels, kernel, 1));
  norm1_ = make_norm(norm, channels);
  norm2_ = make_norm(norm, channels);
  if (!norm1_.is_empty()) {
    register_module("norm1", norm1_.ptr());
    register_module("norm2", norm2_.ptr());
  }
}

torch::Tensor ResidualBlockImpl::forward(const torch::Tensor& x, bool channels_last) {
  torch::Tensor h = activate(maybe_norm(norm1_, conv_forward(conv1_, x, 1, channels_last)), act_);
  h = maybe_norm(norm2_, conv_forward(conv2_, h, 1, channels_last));
  return activate(skip_ ? x + h : h, act_);
}

VedImpl::VedImpl(const ModelConfig& config) : config_(config), act_(parse_activation(config.activation)) {
  validate(config_);
  const ModelConfig& c = config_;
  int64_t features = c.input_features;
  if (c.encoder == "conv") {
    stem_ = register_module("stem", make_conv(c.input_channels, c.stem_channels, c.kernel, 2));
    stem_norm_ = make_norm(c.norm, c.stem_channels);
    if (!stem_norm_.is_empty()) register_module("stem_norm", stem_norm_.ptr());
    int ch = c.stem_channels;
    for (size_t s = 0; s < c.stages.size(); ++s) {
      const std::string stage = "stage" + std::to_string(s);
      for (int b = 0; b < c.blocks; ++b)
        blocks_.push_back(register_module(stage + "_block" + std::to_string(b),
                                          ResidualBlock(ch, c.kernel, act_, c.norm, c.residual)));
      downs_.push_back(register_module(stage + "_down", make_conv(ch, c.stages[s], c.kernel, 2)));
      down_norms_.push_back(make_norm(c.norm, c.stages[s]));
      if (!down_norms_.back().is_empty()) register_module(stage + "_down_norm", down_norms_.back().ptr());
      ch = c.stages[s];
    }
    features = conv_shapes(c).back().features();
  }
  for (size_t i = 0; i < c.encoder_hidden.size(); ++i) {
    encoder_fc_.push_back(
        register_module("encoder_fc" + std::to_string(i), nn::Linear(features, c.encoder_hidden[i])));
    features = c.encoder_hidden[i];
  }
  head_ = register_module("head", nn::Linear(features, 2 * c.latent));
  int64_t in = c.latent;
  for (size_t i = 0; i < c.decoder_hidden.size(); ++i) {
    decoder_fc_.push_back(register_module("decoder_fc" + std::to_string(i), nn::Linear(in, c.decoder_hidden[i])));
    in = c.decoder_hidden[i];
  }
  decoder_fc_.push_back(register_module("decoder_out", nn::Linear(in, c.output_features)));
}

torch::Tensor VedImpl::conv_features(const torch::Tensor& x) {
  const ModelConfig& c = config_;
  VED_CHECK(x.dim() == 4 && x.size(1) == c.input_channels && x.size(2) == c.input_height &&
                x.size(3) == c.input_width,
            "encoder input has shape " << x.sizes() << "; expected [B, " << c.input_channels << ", "
                                       << c.input_height << ", " << c.input_width << "]");
  torch::Tensor h = activate(maybe_norm(stem_norm_, conv_forward(stem_, x, 2, channels_last_)), act_);
  size_t block = 0;
  for (size_t s = 0; s < downs_.size(); ++s) {
    for (int b = 0; b < c.blocks; ++b) h = blocks_[block++]->forward(h, channels_last_);
    h = activate(maybe_norm(down_norms_[s], conv_forward(downs_[s], h, 2, channels_last_)), act_);
  }
  return h.flatten(1);
}

Encoding VedImpl::encode(const torch::Tensor& x) {
  torch::Tensor h;
  if (config_.encoder == "conv") {
    h = conv_features(x);
  } else {
    VED_CHECK(x.dim() == 2 && x.size(1) == config_.input_features,
              "encoder input has shape " << x.sizes() << "; expected [B, " << config_.input_features << "]");
    h = x;
  }
  for (auto& fc : encoder_fc_) h = activate(fc->forward(h), act_);
  torch::Tensor out = head_->forward(h);  // [B, 2r]
  Encoding e;
  e.mu = out.narrow(1, 0, config_.latent);
  e.logvar = out.narrow(1, config_.latent, config_.latent).clamp(config_.logvar_min, config_.logvar_max);
  return e;
}

torch::Tensor VedImpl::decode(const torch::Tensor& z) {
  torch::Tensor h = z;
  for (size_t i = 0; i + 1 < decoder_fc_.size(); ++i) h = activate(decoder_fc_[i]->forward(h), act_);
  return decoder_fc_.back()->forward(h);
}

VedOutput VedImpl::forward(const torch::Tensor& x, const torch::Tensor& eps) {
  Encoding e = encode(x);
  torch::Tensor z = e.mu + torch::exp(0.5 * e.logvar) * eps;
  return {decode(z), e.mu, e.logvar};
}

torch::Device parse_device(const std::string& spec) {
  if (spec == "cpu") return torch::Device(torch::kCPU);
  VED_CHECK(spec == "cuda" || spec.rfind("cuda:", 0) == 0, "device '" << spec << "' is not one of: cpu, cuda, cuda:N");
  VED_CHECK(torch::cuda::is_available(),
            "device '" << spec << "' requested but this LibTorch has no CUDA support or sees no GPU "
                       << "(LibTorch " << TORCH_VERSION << "); build ved against a CUDA LibTorch (cmake "
                       << "-DCMAKE_PREFIX_PATH=<its cmake dir>, e.g. the output of python3 -c 'import torch; "
                       << "print(torch.utils.cmake_prefix_path)') or use --device cpu");
  torch::Device d(spec);
  VED_CHECK(!d.has_index() || d.index() < static_cast<int>(torch::cuda::device_count()),
            "device '" << spec << "' does not exist; this machine has " << torch::cuda::device_count() << " GPU(s)");
  return d;
}

int64_t count_parameters(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

}  // namespace ved
