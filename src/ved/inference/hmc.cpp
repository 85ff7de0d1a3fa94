#include "ved/inference/hmc.hpp"

#include <ATen/CPUGeneratorImpl.h>  // seeded generator for momenta and acceptance draws
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "ved/inference/chain_diagnostics.hpp"
#include "ved/nn/model.hpp"
#include "ved/nn/tensor_io.hpp"
#include "ved/train/model_file.hpp"
#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"

namespace ved::inference {
namespace {

constexpr double kDivergence = 1000;  // energy error that marks a divergent trajectory

// Dual averaging of log step sizes, one per chain (Hoffman & Gelman 2014, Alg. 5).
struct DualAveraging {
  Eigen::ArrayXd mu, h_bar, log_eps, log_eps_bar;
  double t = 0;
  double delta = 0.8;
  static constexpr double kGamma = 0.05, kT0 = 10, kKappa = 0.75;

  void restart(const Eigen::ArrayXd& eps) {
    mu = (10 * eps).log();
    h_bar = Eigen::ArrayXd::Zero(eps.size());
    log_eps = eps.log();
    log_eps_bar = Eigen::ArrayXd::Zero(eps.size());
    t = 0;
  }
  void update(const Eigen::ArrayXd& accept_prob) {
    t += 1;
    const double w = 1 / (t + kT0);
    h_bar = (1 - w) * h_bar + w * (delta - accept_prob);
    log_eps = mu - std::sqrt(t) / kGamma * h_bar;
    const double eta = std::pow(t, -kKappa);
    log_eps_bar = eta * log_eps + (1 - eta) * log_eps_bar;
  }
};

Eigen::ArrayXd to_array(const torch::Tensor& t) {
  torch::Tensor c = t.detach().to(torch::kFloat64).contiguous();
  return Eigen::Map<const Eigen::ArrayXd>(c.data_ptr<double>(), c.numel());
}

torch::Tensor to_tensor(const Eigen::ArrayXd& a) {
  return torch::from_blob(const_cast<double*>(a.data()), {a.size()}, torch::kFloat64).clone();
}

// The batched target: rows are (case, chain) pairs, case-major. The decoder runs in
// float32 (its stored precision) with its output layer cut to the observed rows (a
// fraction of the work when few outputs are observed); the potential is accumulated in
// float64. load() checks the cut decoder against the full one.
struct Target {
  std::vector<torch::Tensor> weight, bias;  // hidden layers, then the observed rows of the output layer
  Activation act = Activation::kRelu;
  torch::Tensor obs;    // [B, k] standardised observations of each row's case (float64)
  torch::Tensor prec;   // [k] 1 / τ² (float64)
  int64_t evaluations = 0;  // gradients, counted per row

  void load(const std::string& model_path, const std::vector<int64_t>& index) {
    const std::string path = resolve_model_path(model_path);
    auto f = h5::File::open_read(path);
    ModelMeta meta = read_model_meta(f);
    Ved model(meta.config);
    load_module(f, "", *model);
    model->eval();
    for (int64_t i : index)
      VED_CHECK(i >= 0 && i < meta.config.output_features,
                "latent posterior: output index " << i << " outside [0, " << meta.config.output_features << ")");
    act = parse_activation(meta.config.activation);
    torch::NoGradGuard no_grad;
    auto params = model->named_parameters();
    const auto idx = torch::tensor(index, torch::kInt64);
    for (size_t i = 0; i < meta.config.decoder_hidden.size(); ++i) {
      weight.push_back(params["decoder_fc" + std::to_string(i) + ".weight"].detach().clone());
      bias.push_back(params["decoder_fc" + std::to_string(i) + ".bias"].detach().clone());
    }
    weight.push_back(params["decoder_out.weight"].detach().index_select(0, idx).clone());
    bias.push_back(params["decoder_out.bias"].detach().index_select(0, idx).clone());
    // The cut decoder must be the model's decoder: compare on random codes.
    torch::Tensor z = torch::randn({8, meta.config.latent});
    torch::Tensor full = model->decode(z).index_select(1, idx);
    const double err = (decode(z) - full).abs().max().item<double>();
    VED_CHECK(err <= 1e-4 * (1 + full.abs().max().item<double>()),
              path << ": the decoder differs from a stack of linear layers with " << meta.config.activation
                   << " activations (max difference " << err << "); ved condition does not support this architecture");
  }

  // [B, r] codes (any float type) -> [B, k] observed outputs, float32, standardised.
  torch::Tensor decode(const torch::Tensor& z) const {
    torch::Tensor h = z.to(torch::kFloat32);
    for (size_t i = 0; i + 1 < weight.size(); ++i) h = activate(torch::linear(h, weight[i], bias[i]), act);
    return torch::linear(h, weight.back(), bias.back());
  }

  // U(z) = ½|z|² + ½ Σ_j (g_j(z) - u_j)² / τ_j² per row, and its gradient (float64).
  void eval(const torch::Tensor& z, torch::Tensor* u, torch::Tensor* grad) {
    torch::Tensor zz = z.detach().requires_grad_(true);
    torch::Tensor pred = decode(zz).to(torch::kFloat64);
    torch::Tensor pot = 0.5 * zz.square().sum(1) + 0.5 * ((pred - obs).square() * prec).sum(1);
    *grad = torch::autograd::grad({pot.sum()}, {zz})[0].detach();
    *u = pot.detach();
    evaluations += z.size(0);
  }
};

struct Trajectory {
  torch::Tensor z, u, grad;  // proposal
  torch::Tensor log_ratio;   // H0 - H1 per row (-inf where not finite)
  torch::Tensor energy_error;
};

// One leapfrog trajectory of `steps` steps of size eps [B] with inverse mass minv [B, r].
Trajectory leapfrog(Target& target, const torch::Tensor& z, const torch::Tensor& u, const torch::Tensor& grad,
                    const torch::Tensor& p0, const torch::Tensor& eps, const torch::Tensor& minv, int steps) {
  const torch::Tensor e = eps.unsqueeze(1);
  Trajectory t;
  torch::Tensor p = p0 - 0.5 * e * grad;
  t.z = z;
  for (int l = 0; l < steps; ++l) {
    t.z = t.z + e * minv * p;
    target.eval(t.z, &t.u, &t.grad);
    if (l + 1 < steps) p = p - e * t.grad;
  }
  p = p - 0.5 * e * t.grad;
  const torch::Tensor h0 = u + 0.5 * (p0.square() * minv).sum(1);
  const torch::Tensor h1 = t.u + 0.5 * (p.square() * minv).sum(1);
  t.energy_error = h1 - h0;
  t.log_ratio = torch::where(torch::isfinite(t.energy_error), -t.energy_error,
                             torch::full_like(t.energy_error, -std::numeric_limits<double>::infinity()));
  return t;
}

// Samples one batch of cases [case0, case0 + n_cases) into `post`.
void sample_batch(Target& target, const LatentLikelihood& lik, const HmcOptions& opt, int64_t case0,
                  int64_t n_cases, uint64_t seed, LatentPosterior& post) {
  const int64_t C = opt.chains, B = n_cases * C, r = target.weight.front().size(1);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  {
    torch::Tensor obs = torch::from_blob(const_cast<double*>(lik.value.data()) + case0 * lik.value.cols(),
                                         {n_cases, lik.value.cols()}, f64);
    target.obs = obs.repeat_interleave(C, 0).contiguous();  // [B, k]
  }
  torch::Tensor z = torch::randn({B, r}, gen, f64);  // initial points drawn from the prior
  torch::Tensor u, grad;
  target.eval(z, &u, &grad);
  torch::Tensor minv = torch::ones({B, r}, f64);

  // A first step size per chain: double or halve until one leapfrog step's acceptance
  // probability crosses 1/2 (Hoffman & Gelman 2014, Alg. 4).
  Eigen::ArrayXd eps = Eigen::ArrayXd::Constant(B, 0.5);
  {
    Eigen::ArrayXd dir = Eigen::ArrayXd::Zero(B);
    Eigen::Array<bool, Eigen::Dynamic, 1> done = Eigen::Array<bool, Eigen::Dynamic, 1>::Constant(B, false);
    for (int it = 0; it < 40 && !done.all(); ++it) {
      torch::Tensor p0 = torch::randn({B, r}, gen, f64);
      Trajectory t = leapfrog(target, z, u, grad, p0, to_tensor(eps), minv, 1);
      Eigen::ArrayXd lr = to_array(t.log_ratio);
      for (int64_t b = 0; b < B; ++b) {
        if (done[b]) continue;
        const bool high = lr[b] > std::log(0.5);
        if (dir[b] == 0) dir[b] = high ? 1 : -1;
        if ((dir[b] > 0) != high) {
          done[b] = true;
          continue;
        }
        eps[b] *= dir[b] > 0 ? 2.0 : 0.5;
        eps[b] = std::clamp(eps[b], 1e-8, 100.0);
      }
    }
  }

  DualAveraging da;
  da.delta = opt.target_accept;
  da.restart(eps);
  // Warm-up: step size only in the first 15% and the last 10%; in between two windows end
  // with the inverse mass matrix set to the variance of their draws (then step size restarts).
  const int w = opt.warmup;
  const int window_1 = static_cast<int>(0.15 * w), window_2 = static_cast<int>(0.45 * w), window_end = static_cast<int>(0.9 * w);
  torch::Tensor sum = torch::zeros({B, r}, f64), sum2 = torch::zeros({B, r}, f64);
  int n_window = 0;

  const int64_t S = opt.samples;
  std::vector<MatrixRM*> out(static_cast<size_t>(n_cases));
  for (int64_t c = 0; c < n_cases; ++c) {
    post.draws[case0 + c].resize(C * S, r);
    out[c] = &post.draws[case0 + c];
  }
  Eigen::ArrayXd accept_sum = Eigen::ArrayXd::Zero(B);
  std::vector<int64_t> divergent(static_cast<size_t>(n_cases), 0);

  for (int it = 0; it < w + S; ++it) {
    const bool warm = it < w;
    Eigen::ArrayXd step = warm ? da.log_eps.exp() : eps;
    if (!warm) {  // jitter ±10% so that no chain is locked into a periodic trajectory
      step *= 0.9 + 0.2 * to_array(torch::rand({B}, gen, f64));
    }
    torch::Tensor p0 = torch::randn({B, r}, gen, f64) / minv.sqrt();
    Trajectory t = leapfrog(target, z, u, grad, p0, to_tensor(step), minv, opt.leapfrog);
    torch::Tensor log_u = torch::log(torch::rand({B}, gen, f64));
    torch::Tensor take = log_u < t.log_ratio;  // [B] bool
    torch::Tensor take2 = take.unsqueeze(1);
    z = torch::where(take2, t.z, z);
    u = torch::where(take, t.u, u);
    grad = torch::where(take2, t.grad, grad);
    Eigen::ArrayXd prob = to_array(torch::clamp(t.log_ratio, -1e300, 0.0).exp());
    if (warm) {
      da.update(prob);
      if (it >= window_1 && it < window_end) {
        sum += z;
        sum2 += z.square();
        ++n_window;
        if (it + 1 == window_2 || it + 1 == window_end) {
          // Stan's regularised variance: shrink towards 1e-3 while the window is short.
          const double n = n_window;
          torch::Tensor var = (sum2 - sum.square() / n) / std::max(n - 1, 1.0);
          minv = (n / (n + 5)) * var + 1e-3 * (5 / (n + 5));
          sum.zero_();
          sum2.zero_();
          n_window = 0;
          da.restart(da.log_eps.exp());
        }
      }
      if (it + 1 == w) eps = da.log_eps_bar.exp();
      continue;
    }
    accept_sum += prob;
    Eigen::ArrayXd err = to_array(t.energy_error);
    torch::Tensor zc = z.contiguous();
    const double* zp = zc.data_ptr<double>();
    const int64_t s = it - w;
    for (int64_t b = 0; b < B; ++b) {
      const int64_t c = b / C, chain = b % C;
      out[c]->row(chain * S + s) = Eigen::Map<const Eigen::RowVectorXd>(zp + b * r, r);
      if (!(err[b] < kDivergence)) ++divergent[c];
    }
  }
  for (int64_t b = 0; b < B; ++b) {
    const int64_t c = b / C, chain = b % C;
    post.accept(case0 + c, chain) = accept_sum[b] / static_cast<double>(std::max<int64_t>(S, 1));
    post.step_size(case0 + c, chain) = eps[b];
  }
  for (int64_t c = 0; c < n_cases; ++c) post.divergent[case0 + c] = divergent[c];
}

}  // namespace

LatentPosterior sample_latent_posterior(const std::string& model_path, const LatentLikelihood& lik,
                                        const HmcOptions& opt) {
  VED_CHECK(opt.chains >= 2, "--chains " << opt.chains << ": need at least 2 chains for R-hat");
  VED_CHECK(opt.samples >= 4, "--samples " << opt.samples << ": need at least 4 draws per chain");
  VED_CHECK(opt.warmup >= 0 && opt.leapfrog >= 1, "--warmup " << opt.warmup << " and --leapfrog " << opt.leapfrog
                                                              << " must be at least 0 and 1");
  VED_CHECK(opt.target_accept > 0 && opt.target_accept < 1, "--target-accept " << opt.target_accept << " must lie in (0, 1)");
  const int64_t n = lik.value.rows(), k = static_cast<int64_t>(lik.index.size());
  VED_CHECK(lik.value.cols() == k && lik.noise_std.size() == k && k >= 1,
            "latent posterior: " << k << " observed outputs, values of width " << lik.value.cols() << " and "
                                 << lik.noise_std.size() << " noise levels");
  VED_CHECK((lik.noise_std.array() > 0).all() && lik.noise_std.allFinite(),
            "latent posterior: the observation noise must be positive (the likelihood needs τ > 0)");
  const auto t0 = std::chrono::steady_clock::now();

  Target target;
  target.load(model_path, lik.index);
  const int64_t r = target.weight.front().size(1);
  target.prec = torch::from_blob(const_cast<double*>(lik.noise_std.data()), {k}, torch::kFloat64).clone().square().reciprocal();

  LatentPosterior post;
  post.draws.resize(static_cast<size_t>(n));
  post.accept.resize(n, opt.chains);
  post.step_size.resize(n, opt.chains);
  post.ess.resize(n, r);
  post.rhat.resize(n, r);
  post.divergent.assign(static_cast<size_t>(n), 0);
  const int64_t per_batch = std::max(1, opt.cases_per_batch);
  for (int64_t c0 = 0; c0 < n; c0 += per_batch) {
    const int64_t nc = std::min(per_batch, n - c0);
    // One stream per batch: the draws of a case depend on the seed and its batch only.
    sample_batch(target, lik, opt, c0, nc, opt.seed * 1000003ULL + static_cast<uint64_t>(c0 / per_batch), post);
    for (int64_t c = c0; c < c0 + nc; ++c)
      for (int64_t d = 0; d < r; ++d) {
        ChainDiagnostics dg = chain_diagnostics(post.draws[c].col(d), opt.chains);
        post.ess(c, d) = dg.ess;
        post.rhat(c, d) = dg.rhat;
      }
  }
  post.gradient_evaluations = target.evaluations;
  post.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return post;
}

}  // namespace ved::inference
