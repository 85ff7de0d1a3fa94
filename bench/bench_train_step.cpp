// Training-step benchmark of the default model (docs/method.md §3) against PyTorch eager
// (bench/train_reference.py) on the same device, batch sizes and threads, in the same run.
//
//   bench_train_step [--device cpu|cuda] [--batches 64,256] [--steps 100] [--threads 1]
//                    [--precision fp32|bf16|tf32] [--graph] [--python /usr/bin/python3]
//                    [--json out.json]
//
// --precision as `ved train --precision`; the reference uses the same (torch.autocast for
// bf16, allow_tf32 for tf32).
//
// The data are resident on the device and each mini-batch is gathered by index, as in
// ved's trainer. With --graph (CUDA builds), the whole step — gather, forward, loss,
// backward, Adam — is captured once in a CUDA graph and replayed: the step-dependent Adam
// scalars live in a device tensor refreshed before each replay, so the replayed update is
// exactly Adam's. A parity check runs a few steps eagerly and by replay from the same
// weights and noise and prints the largest parameter difference.
#include <torch/torch.h>

#ifdef VED_HAVE_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "ved/nn/losses.hpp"
#include "ved/nn/model.hpp"
#include "ved/nn/optim.hpp"
#include "ved/nn/precision.hpp"

namespace {

using Clock = std::chrono::steady_clock;

void sync(const torch::Device& d) {
#ifdef VED_HAVE_CUDA
  if (d.is_cuda()) torch::cuda::synchronize();
#else
  (void)d;
#endif
}

ved::ModelConfig reference_config() {
  ved::ModelConfig c;  // docs/method.md §3 defaults
  c.input_channels = 1;
  c.input_height = 69;
  c.input_width = 54;
  c.output_features = 323;
  c.latent = 50;
  return c;
}

struct Data {
  torch::Tensor x, y;  // [N, 1, 69, 54], [N, 323] on the device
};

// One eager step exactly as the trainer does it (its --precision included).
void eager_step(ved::Ved& model, ved::Adam& opt, const Data& d, const torch::Tensor& idx, const torch::Tensor& eps,
                const ved::LossWeights& w, ved::Precision precision) {
  auto xb = d.x.index_select(0, idx), yb = d.y.index_select(0, idx);
  ved::VedOutput out = ved::forward_in_precision(*model, xb, eps, precision);
  auto t = ved::ved_loss(out.y, yb, out.mu, out.logvar, w);
  opt.zero_grad();
  t.total.backward();
  opt.step();
}

#ifdef VED_HAVE_CUDA
// Adam whose step-dependent scalars are device tensors, so that a captured update stays
// correct on every replay.
struct GraphAdam {
  std::vector<torch::Tensor> params, m, v;
  torch::Tensor scal;       // [2] device: lr / (1 - b1^t), 1 / sqrt(1 - b2^t)
  torch::Tensor scal_host;  // pinned host copy
  double lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  int64_t t = 0;
  explicit GraphAdam(std::vector<torch::Tensor> p) : params(std::move(p)) {
    for (auto& q : params) {
      m.push_back(torch::zeros_like(q));
      v.push_back(torch::zeros_like(q));
    }
    scal = torch::zeros({2}, params[0].options());
    scal_host = torch::zeros({2}, torch::TensorOptions().dtype(torch::kFloat).pinned_memory(true));
  }
  void advance() {  // outside the graph, before each replay
    ++t;
    scal_host[0] = lr / (1 - std::pow(b1, t));
    scal_host[1] = 1 / std::sqrt(1 - std::pow(b2, t));
    scal.copy_(scal_host, /*non_blocking=*/true);
  }
  void update() {  // captured
    torch::NoGradGuard ng;
    for (size_t i = 0; i < params.size(); ++i) {
      const auto& g = params[i].grad();
      m[i].mul_(b1).add_(g, 1 - b1);
      v[i].mul_(b2).addcmul_(g, g, 1 - b2);
      auto denom = (v[i].sqrt() * scal[1]).add_(eps);
      params[i].sub_(m[i] / denom * scal[0]);
    }
  }
};
#endif

}  // namespace

int main(int argc, char** argv) {
  std::string device = "cpu", batches = "64,256", python = "/usr/bin/python3", json_out, precision = "fp32";
  int steps = 100, warmup = 10, threads = 1, samples = 8192;
  bool graph = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return std::string(i + 1 < argc ? argv[++i] : ""); };
    if (a == "--device") device = next();
    else if (a == "--batches") batches = next();
    else if (a == "--steps") steps = std::stoi(next());
    else if (a == "--warmup") warmup = std::stoi(next());
    else if (a == "--threads") threads = std::stoi(next());
    else if (a == "--samples") samples = std::stoi(next());
    else if (a == "--graph") graph = true;
    else if (a == "--precision") precision = next();
    else if (a == "--python") python = next();
    else if (a == "--json") json_out = next();
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  torch::set_num_threads(threads);
  const ved::Precision prec = ved::parse_precision(precision);
  ved::apply_precision(prec);
  torch::Device dev = ved::parse_device(device);
  torch::manual_seed(0);
  Data d{torch::randn({samples, 1, 69, 54}, torch::TensorOptions().device(dev)),
         torch::randn({samples, 323}, torch::TensorOptions().device(dev))};
  ved::LossWeights w;  // β = 1e-3, λ = 1e-2
  nlohmann::json res = {{"device", device}, {"threads", threads}, {"steps", steps}, {"precision", precision}};
  for (int b : ved::parse_int_list(batches, "--batches")) {
    ved::Ved model(reference_config());
    model->to(dev);
    res["parameters"] = ved::count_parameters(*model);
    ved::Adam opt(model->parameters(), {});
    auto perm = torch::randperm(samples, torch::TensorOptions().dtype(torch::kLong).device(dev));
    auto idx_at = [&](int i) { return perm.narrow(0, (static_cast<int64_t>(i) * b) % (samples - b), b); };
    for (int i = 0; i < warmup; ++i) eager_step(model, opt, d, idx_at(i), torch::randn({b, 50}, d.y.options()), w, prec);
    sync(dev);
    auto t0 = Clock::now();
    for (int i = 0; i < steps; ++i) eager_step(model, opt, d, idx_at(i), torch::randn({b, 50}, d.y.options()), w, prec);
    sync(dev);
    double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    res["ved_samples_per_s_b" + std::to_string(b)] = steps * b / dt;
    std::printf("ved eager  b=%5d: %9.0f samples/s (%.3f ms/step)\n", b, steps * b / dt, 1e3 * dt / steps);
#ifdef VED_HAVE_CUDA
    if (graph && dev.is_cuda()) {
      torch::manual_seed(1);
      ved::Ved gm(reference_config());
      gm->to(dev);
      GraphAdam gopt(gm->parameters());
      auto idx = idx_at(0).clone();               // static inputs, refreshed before replays
      auto eps = torch::randn({b, 50}, d.y.options());
      auto side = c10::cuda::getStreamFromPool();
      at::cuda::CUDAGraph g;
      auto body = [&] {
        auto xb = d.x.index_select(0, idx), yb = d.y.index_select(0, idx);
        auto out = gm->forward(xb, eps);
        auto t = ved::ved_loss(out.y, yb, out.mu, out.logvar, w);
        for (auto& p : gm->parameters())
          if (p.grad().defined()) p.grad().zero_();
        t.total.backward();
        gopt.update();
      };
      {
        c10::cuda::CUDAStreamGuard guard(side);
        // Warm-up on the side stream allocates gradients and workspaces before capture;
        // the parameters it changes are restored below.
        std::vector<torch::Tensor> saved;
        for (auto& p : gm->parameters()) saved.push_back(p.detach().clone());
        for (int i = 0; i < 3; ++i) {
          gopt.advance();
          body();
        }
        torch::NoGradGuard ng;
        auto ps = gm->parameters();
        for (size_t i = 0; i < ps.size(); ++i) {
          ps[i].copy_(saved[i]);
          gopt.m[i].zero_();
          gopt.v[i].zero_();
        }
        gopt.t = 0;
        torch::cuda::synchronize();
        g.capture_begin();
        body();
        g.capture_end();
      }
      torch::cuda::synchronize();
      // Parity: k steps by replay vs the same k steps eagerly (ved::Adam) from the same start.
      const int k = 5;
      ved::Ved em(reference_config());
      em->to(dev);
      {
        torch::NoGradGuard ng;
        auto src = gm->parameters(), dst = em->parameters();
        for (size_t i = 0; i < src.size(); ++i) dst[i].copy_(src[i]);
      }
      ved::Adam eopt(em->parameters(), {});
      for (int i = 0; i < k; ++i) {
        auto ii = idx_at(i);
        auto e = torch::randn({b, 50}, d.y.options());
        idx.copy_(ii);
        eps.copy_(e);
        gopt.advance();
        g.replay();
        eager_step(em, eopt, d, ii, e, w, prec);
      }
      torch::cuda::synchronize();
      double max_diff = 0, max_abs = 0;
      {
        auto a = gm->parameters(), c = em->parameters();
        for (size_t i = 0; i < a.size(); ++i) {
          max_diff = std::max(max_diff, (a[i] - c[i]).abs().max().item<double>());
          max_abs = std::max(max_abs, c[i].abs().max().item<double>());
        }
      }
      res["graph_parity_max_abs_diff_b" + std::to_string(b)] = max_diff;
      auto t1 = Clock::now();
      for (int i = 0; i < steps; ++i) {
        idx.copy_(idx_at(i), true);
        at::randn_out(eps, {b, 50});  // fresh noise, outside the graph
        gopt.advance();
        g.replay();
      }
      torch::cuda::synchronize();
      double dg = std::chrono::duration<double>(Clock::now() - t1).count();
      res["ved_graph_samples_per_s_b" + std::to_string(b)] = steps * b / dg;
      std::printf("ved graph  b=%5d: %9.0f samples/s (%.3f ms/step); parity after %d steps: max |dp| = %.2e (max |p| %.2f)\n",
                  b, steps * b / dg, 1e3 * dg / steps, k, max_diff, max_abs);
    }
#else
    (void)graph;
#endif
  }
  // The PyTorch eager reference, same device, batches and threads, in the same run.
  std::string cmd = python + " " + VED_SOURCE_DIR + "/bench/train_reference.py --device " + (dev.is_cuda() ? "cuda" : "cpu") +
                    " --batches " + batches + " --steps " + std::to_string(steps) + " --threads " + std::to_string(threads) + " --precision " + precision;
  std::string out = ved::bench::run(cmd);
  try {
    auto ref = nlohmann::json::parse(out.substr(out.rfind('{')));
    res["reference"] = ref;
    for (int b : ved::parse_int_list(batches, "--batches")) {
      std::string k = "samples_per_s_b" + std::to_string(b);
      double r = ref[k], v = res["ved_" + k];
      res["ratio_eager_b" + std::to_string(b)] = v / r;
      std::printf("pytorch    b=%5d: %9.0f samples/s  -> ved/pytorch = %.2fx", b, r, v / r);
      if (res.contains("ved_graph_" + k)) {
        double gv = res["ved_graph_" + k];
        res["ratio_graph_b" + std::to_string(b)] = gv / r;
        std::printf(", ved graph/pytorch = %.2fx", gv / r);
      }
      std::printf("\n");
    }
  } catch (const std::exception& e) {
    std::printf("PyTorch reference unavailable (%s): %s\n", e.what(), out.c_str());
  }
  if (!json_out.empty()) std::ofstream(json_out) << res.dump(2) << "\n";
  return 0;
}
