#include "ved/train/trained_model.hpp"

#include <ATen/CPUGeneratorImpl.h>  // seeded generator for sampling z
#include <torch/torch.h>

#include <cstdio>
#include <optional>

#include "ved/nn/model.hpp"
#include "ved/nn/script.hpp"
#include "ved/nn/tensor_io.hpp"
#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"

namespace ved {
namespace {

constexpr int64_t kChunk = 512;  // rows per forward pass

MatrixRM to_matrix(const torch::Tensor& t) {
  torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  MatrixRM m(c.size(0), c.size(1));
  std::copy(c.data_ptr<double>(), c.data_ptr<double>() + c.numel(), m.data());
  return m;
}

// Standardised [n, m] outputs -> physical units.
MatrixRM unstandardise(const torch::Tensor& y, const OutputTransform& t) {
  MatrixRM m = to_matrix(y);
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    m.row(i) = (m.row(i).array() * t.scale.transpose().array() + t.mean.transpose().array()).matrix();
  return m;
}

}  // namespace

struct TrainedModel::Impl {
  ModelMeta meta;
  std::string path;
  torch::Device device{torch::kCPU};
  Ved model{nullptr};
  // CPU: the network frozen and optimised for inference (nn/script.hpp); empty = eager.
  std::optional<torch::jit::Module> fast;

  // The encoding of a chunk of model inputs, and the decoded mean when `with_y`.
  struct Forward {
    Encoding e;
    torch::Tensor y;
  };
  Forward forward(const torch::Tensor& x, bool with_y) {
    if (fast) {
      auto out = fast->forward({x}).toTuple();
      return {{out->elements()[0].toTensor(), out->elements()[1].toTensor()}, out->elements()[2].toTensor()};
    }
    Forward f{model->encode(x), {}};
    if (with_y) f.y = model->decode(f.e.mu);
    return f;
  }

  // Rows [row0, row0 + n) of raw x -> model input on the device.
  torch::Tensor input(const MatrixRM& x, int64_t row0, int64_t n) const {
    const InputTransform& in = meta.input;
    torch::Tensor t = torch::empty({n, in.n_model_inputs()}, torch::kFloat32);
    in.apply(x, row0, n, t.data_ptr<float>());
    if (meta.config.encoder == "conv") t = t.view({n, in.channels, in.height, in.width});
    return t.to(device);
  }
};

TrainedModel::TrainedModel(const std::string& path, const std::string& device, bool optimize)
    : impl_(std::make_unique<Impl>()) {
  Impl& i = *impl_;
  i.path = resolve_model_path(path);
  i.device = parse_device(device);
  auto f = h5::File::open_read(i.path);
  i.meta = read_model_meta(f);
  i.model = Ved(i.meta.config);
  i.model->to(i.device);
  load_module(f, "", *i.model);
  i.model->eval();
  if (optimize && i.device.is_cpu()) {
    try {
      i.fast = inference_module(*i.model);
    } catch (const std::exception& e) {  // a speed-up only: the eager network gives the same results
      std::fprintf(stderr, "warning: %s: running the network eagerly (the optimised CPU path failed: %s)\n",
                   i.path.c_str(), e.what());
    }
  }
}

TrainedModel::~TrainedModel() = default;
TrainedModel::TrainedModel(TrainedModel&&) noexcept = default;
TrainedModel& TrainedModel::operator=(TrainedModel&&) noexcept = default;

const ModelMeta& TrainedModel::meta() const { return impl_->meta; }
const std::string& TrainedModel::path() const { return impl_->path; }
int TrainedModel::latent() const { return impl_->meta.config.latent; }
int64_t TrainedModel::n_inputs() const { return impl_->meta.input.n_inputs; }
int64_t TrainedModel::n_outputs() const { return impl_->meta.config.output_features; }
int64_t TrainedModel::parameters() const { return count_parameters(*impl_->model); }
bool TrainedModel::optimized() const { return impl_->fast.has_value(); }

Encodings TrainedModel::encode(const MatrixRM& x) const {
  torch::NoGradGuard no_grad;
  Encodings out;
  const int64_t n = x.rows(), r = latent();
  out.mu.resize(n, r);
  out.logvar.resize(n, r);
  for (int64_t i = 0; i < n; i += kChunk) {
    const int64_t k = std::min(kChunk, n - i);
    Encoding e = impl_->forward(impl_->input(x, i, k), false).e;
    out.mu.middleRows(i, k) = to_matrix(e.mu);
    out.logvar.middleRows(i, k) = to_matrix(e.logvar);
  }
  return out;
}

MatrixRM TrainedModel::decode(const MatrixRM& z) const {
  torch::NoGradGuard no_grad;
  VED_CHECK(z.cols() == latent(), "latent codes have " << z.cols() << " columns; the model has r = " << latent());
  const int64_t n = z.rows();
  MatrixRM y(n, n_outputs());
  for (int64_t i = 0; i < n; i += kChunk) {
    const int64_t k = std::min(kChunk, n - i);
    torch::Tensor zt = torch::from_blob(const_cast<double*>(z.data()) + i * z.cols(), {k, z.cols()}, torch::kFloat64)
                           .to(impl_->device, torch::kFloat32);
    y.middleRows(i, k) = unstandardise(impl_->model->decode(zt), impl_->meta.output);
  }
  return y;
}

MatrixRM TrainedModel::predict(const MatrixRM& x) const {
  torch::NoGradGuard no_grad;
  const int64_t n = x.rows();
  MatrixRM y(n, n_outputs());
  for (int64_t i = 0; i < n; i += kChunk) {
    const int64_t k = std::min(kChunk, n - i);
    y.middleRows(i, k) = unstandardise(impl_->forward(impl_->input(x, i, k), true).y, impl_->meta.output);
  }
  return y;
}

PredictiveMoments TrainedModel::predict_moments(const MatrixRM& x, int n_samples, uint64_t seed) const {
  VED_CHECK(n_samples >= 2, "--samples " << n_samples << ": need at least 2 samples of z for a standard deviation");
  torch::NoGradGuard no_grad;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const int64_t n = x.rows(), r = latent();
  PredictiveMoments out;
  out.mean.resize(n, n_outputs());
  out.std.resize(n, n_outputs());
  out.std_latent.resize(n, n_outputs());
  const OutputTransform& t = impl_->meta.output;
  for (int64_t i = 0; i < n; i += kChunk) {
    const int64_t k = std::min(kChunk, n - i);
    Encoding e = impl_->forward(impl_->input(x, i, k), false).e;
    torch::Tensor sigma = torch::exp(0.5 * e.logvar);
    // Welford in double over the samples (standardised units).
    torch::Tensor mean = torch::zeros({k, n_outputs()}, torch::TensorOptions().dtype(torch::kFloat64).device(impl_->device));
    torch::Tensor m2 = torch::zeros_like(mean);
    for (int s = 0; s < n_samples; ++s) {
      torch::Tensor eps = torch::randn({k, r}, gen, torch::kFloat32).to(impl_->device);
      torch::Tensor y = impl_->model->decode(e.mu + sigma * eps).to(torch::kFloat64);
      torch::Tensor delta = y - mean;
      mean += delta / static_cast<double>(s + 1);
      m2 += delta * (y - mean);
    }
    out.mean.middleRows(i, k) = unstandardise(mean, t);
    MatrixRM sd = to_matrix((m2 / static_cast<double>(n_samples - 1)).sqrt());
    for (int64_t a = 0; a < k; ++a) out.std_latent.row(i + a) = (sd.row(a).array() * t.scale.transpose().array()).matrix();
  }
  const Eigen::VectorXd& noise = impl_->meta.noise_std;
  if (noise.size() == n_outputs())
    out.std = (out.std_latent.array().square().rowwise() + noise.transpose().array().square()).sqrt().matrix();
  else
    out.std = out.std_latent;  // a checkpoint of an unfinished run has no noise estimate
  return out;
}

MatrixRM TrainedModel::sample(int64_t n, uint64_t seed) const {
  VED_CHECK(n >= 1, "--samples " << n << " must be at least 1");
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  torch::Tensor z = torch::randn({n, static_cast<int64_t>(latent())}, gen, torch::kFloat64);
  MatrixRM zm(n, latent());
  std::copy(z.data_ptr<double>(), z.data_ptr<double>() + z.numel(), zm.data());
  return decode(zm);
}

}  // namespace ved
