#include "sweep_plan.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "ved/data/split.hpp"
#include "ved/nn/model_config.hpp"
#include "ved/util/error.hpp"

namespace ved::app {
namespace {

std::vector<std::string> split_list(const std::string& s, const std::string& what) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) {
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) out.push_back(item);
  }
  VED_CHECK(!out.empty(), what << " '" << s << "': expected a comma-separated list with at least one value");
  return out;
}

const std::vector<std::string> kBaselines = {"cca", "rrr", "pca", "ridge", "kpca", "dmaps", "kpca-krr", "dmaps-krr",
                                             "krrr", "kridge"};

bool is_baseline(const std::string& m) { return std::find(kBaselines.begin(), kBaselines.end(), m) != kBaselines.end(); }

// Full-rank methods have no latent size: one run per training size.
bool is_full_rank(const std::string& m) { return m == "ridge" || m == "kridge"; }

}  // namespace

std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string w; ss >> w;) out.push_back(w);
  return out;
}

std::vector<SweepRun> make_plan(const SweepOptions& o, long n_rows) {
  auto methods = split_list(o.methods, "--methods");
  for (const auto& m : methods)
    VED_CHECK(m == "ved" || is_baseline(m), "--methods: unknown method '" << m
                                                                          << "'; expected ved, cca, rrr, pca, ridge, kpca, "
                                                                             "dmaps, kpca-krr, dmaps-krr, krrr or kridge");
  auto latents = split_list(o.latent, "--latent");
  auto betas = split_list(o.beta, "--beta");
  auto lambdas = split_list(o.lambda, "--lambda");
  auto sizes = split_list(o.train_size, "--train-size");
  auto seeds = split_list(o.seeds, "--seeds");
  // Extra grid axes "name=v1,v2".
  std::vector<std::pair<std::string, std::vector<std::string>>> extra;
  for (const auto& g : o.grid) {
    size_t eq = g.find('=');
    VED_CHECK(eq != std::string::npos && eq > 0, "--grid '" << g << "': expected NAME=V1,V2 (a `ved train` option)");
    extra.emplace_back(g.substr(0, eq), split_list(g.substr(eq + 1), "--grid " + g.substr(0, eq)));
  }
  // Presets "NAME:ARGS" form one more axis; without presets there is one unnamed one.
  std::vector<std::pair<std::string, std::string>> presets;
  for (const auto& p : o.presets) {
    size_t colon = p.find(':');
    VED_CHECK(colon != std::string::npos && colon > 0,
              "--preset '" << p << "': expected NAME:ARGS, e.g. deep-encoder:--encoder-blocks 2 --decoder-hidden 256");
    presets.emplace_back(p.substr(0, colon), p.substr(colon + 1));
  }
  if (presets.empty()) presets.emplace_back("", "");
  std::vector<SweepRun> plan;
  for (const auto& method : methods) {
    bool ved = method == "ved";
    // Baselines have no β, λ, seeds or architecture: one run per (r, size).
    std::vector<std::string> b = ved ? betas : std::vector<std::string>{"-"};
    std::vector<std::string> l = ved ? lambdas : std::vector<std::string>{"-"};
    std::vector<std::string> s = ved ? seeds : std::vector<std::string>{seeds[0]};
    size_t n_extra = 1;
    if (ved)
      for (const auto& e : extra) n_extra *= e.second.size();
    const auto& run_presets = ved ? presets : std::vector<std::pair<std::string, std::string>>{{"", ""}};
    // Ridge has no latent size: one run per training-set size.
    const std::vector<std::string> method_latents = is_full_rank(method) ? std::vector<std::string>{"0"} : latents;
    for (const auto& r : method_latents)
      for (const auto& be : b)
        for (const auto& la : l)
          for (const auto& n : sizes)
            for (const auto& seed : s)
              for (const auto& [preset, preset_args] : run_presets)
              for (size_t x = 0; x < n_extra; ++x) {
                // A linear embedding of n rows has at most n - 1 directions.
                long n_train = std::stol(n) > 0 ? std::min(std::stol(n), n_rows) : n_rows;
                if (!ved && !is_full_rank(method) && std::stol(r) >= n_train) continue;
                SweepRun run;
                run.method = method;
                run.params = {{"latent", std::stoi(r)}, {"train_size", std::stol(n)}, {"seed", std::stol(seed)}};
                if (ved && o.steps > 0) {
                  run.params["n_train"] = n_train;
                  run.params["steps"] = o.steps;
                }
                std::string key = is_full_rank(method) ? method + "_n" + n : method + "_r" + r + "_n" + n;
                if (ved) {
                  run.params["beta"] = std::stod(be);
                  run.params["lambda"] = std::stod(la);
                  key += "_b" + be + "_l" + la + "_s" + seed;
                  if (!preset.empty()) {
                    run.params["preset"] = preset;
                    run.preset_args = preset_args;
                    key += "_" + preset;
                  }
                  size_t rest = x;
                  for (const auto& [name, values] : extra) {
                    const std::string& v = values[rest % values.size()];
                    rest /= values.size();
                    run.train_options.emplace_back(name, v);
                    run.params[name] = v;
                    key += "_" + name + v;
                  }
                }
                for (char& c : key)
                  if (c == ',' || c == '/' || c == ' ') c = '-';
                run.key = key;
                run.index = plan.size();
                plan.push_back(std::move(run));
              }
  }
  return plan;
}

int epochs_for_steps(const SweepOptions& o, long n_train, uint64_t seed) {
  const long train_rows = static_cast<long>(split_rows(n_train, o.val_fraction, 0.0, seed).train.size());
  const long batches = train_rows / o.batch;  // the last partial batch is dropped
  VED_CHECK(batches >= 1, n_train << " training rows give " << train_rows << " rows after the validation split, fewer "
                                  << "than one batch of " << o.batch);
  return static_cast<int>((o.steps + batches - 1) / batches);
}

std::vector<std::string> train_command(const SweepRun& run, const SweepOptions& o, const std::string& exe,
                                       const std::string& dir) {
  std::vector<std::string> cmd = {exe, "train", "--data", o.data, "--out", dir, "--quiet",
                                  "--latent", std::to_string(run.params["latent"].get<int>()),
                                  "--beta", std::to_string(run.params["beta"].get<double>()),
                                  "--lambda", std::to_string(run.params["lambda"].get<double>()),
                                  "--seed", std::to_string(run.params["seed"].get<long>()),
                                  "--epochs", std::to_string(o.epochs),
                                  "--threads", std::to_string(o.threads)};
  long n = run.params["train_size"].get<long>();
  if (o.steps > 0) {
    VED_CHECK(run.params.contains("n_train"), "run " << run.key << ": a step budget needs the training size");
    cmd[std::find(cmd.begin(), cmd.end(), "--epochs") - cmd.begin() + 1] =
        std::to_string(epochs_for_steps(o, run.params["n_train"].get<long>(), run.params["seed"].get<long>()));
  }
  if (n > 0) {
    cmd.push_back("--rows");
    cmd.push_back("0:" + std::to_string(n));
  }
  if (!o.mesh.empty()) {
    cmd.push_back("--mesh");
    cmd.push_back(o.mesh);
  }
  for (const auto& [name, value] : run.train_options) {
    cmd.push_back("--" + name);
    cmd.push_back(value);
  }
  for (const auto& a : split_words(o.train_args)) cmd.push_back(a);
  for (const auto& a : split_words(run.preset_args)) cmd.push_back(a);
  // An interrupted run continues from its checkpoint.
  if (std::filesystem::exists(std::filesystem::path(dir) / "checkpoint.h5")) cmd.push_back("--resume");
  return cmd;
}

std::vector<std::string> baseline_command(const SweepRun& run, const SweepOptions& o, const std::string& exe,
                                          const std::vector<int>& latents) {
  // "kpca-krr" = kernel PCA with a kernel-ridge decoder (likewise dmaps-krr).
  const bool krr = run.method.size() > 4 && run.method.compare(run.method.size() - 4, 4, "-krr") == 0;
  const std::string method = krr ? run.method.substr(0, run.method.size() - 4) : run.method;
  std::vector<std::string> cmd = {exe, "baseline", "--method", method, "--data", o.data, "--test", o.test,
                                  "--threads", std::to_string(o.threads), "--json"};
  if (krr) {
    cmd.push_back("--decoder");
    cmd.push_back("krr");
  }
  if (o.row_errors) cmd.push_back("--row-errors");
  if (!is_full_rank(run.method)) {
    std::string list;
    for (int r : latents) list += (list.empty() ? "" : ",") + std::to_string(r);
    cmd.push_back("--latent");
    cmd.push_back(list);
  }
  long n = run.params["train_size"].get<long>();
  if (n > 0) {
    cmd.push_back("--rows");
    cmd.push_back("0:" + std::to_string(n));
  }
  return cmd;
}

StudyScale study_scale(const std::string& scale, long n_rows) {
  VED_CHECK(scale == "quick" || scale == "default" || scale == "full",
            "--scale '" << scale << "': expected quick, default or full");
  StudyScale s;
  s.name = scale;
  // Training sizes: 750, 1500, 3000, ... below the rows the data has, then all rows (on
  // small data, a quarter and a half of the rows first).
  std::vector<long> sizes;
  for (long n = std::min<long>(750, n_rows / 4); n > 0 && n < n_rows; n *= 2) sizes.push_back(n);
  sizes.push_back(n_rows);
  if (scale != "full" && sizes.size() > 3) sizes = {sizes.front(), sizes[sizes.size() / 2], sizes.back()};
  s.sizes = sizes;
  s.baseline_latents = "5,10,25,50,100,147,300";
  s.krr_latents = "10,25,50,100,147";
  s.betas = "0,1e-3,1e-2,1e-1,1";
  s.lambdas = "0,1e-2,1e-1,1";
  if (scale == "quick") {
    s.seeds = "1,2";
    s.steps = 40;
    s.baseline_latents = "5,10,25,50,147";
    s.krr_latents = "25,50";
    s.betas = "0,1e-3,1";
    s.lambdas = "0,1e-2,1";
    s.gen_draws = 2;
  } else if (scale == "default") {
    s.seeds = "1,2,3";
    s.steps = 1200;
    s.gen_draws = 5;
  } else {
    s.seeds = "1,2,3,4,5";
    s.steps = 12000;
    s.gen_draws = 10;
    s.ablation_grid = true;
  }
  return s;
}

namespace {

// Decoder width w for `layers` hidden layers of width w such that a model with `blocks`
// residual blocks per stage has (nearly) the reference model's parameter count.
int matched_width(ModelConfig ref, int blocks, int layers) {
  const int64_t target = count_parameters(ref);
  int best = 1;
  int64_t best_gap = -1;
  for (int w = 8; w <= 4096; ++w) {
    ModelConfig c = ref;
    c.blocks = blocks;
    c.decoder_hidden.assign(static_cast<size_t>(layers), w);
    const int64_t gap = std::llabs(count_parameters(c) - target);
    if (best_gap < 0 || gap < best_gap) best = w, best_gap = gap;
  }
  return best;
}

std::string preset(const std::string& name, int blocks, int layers, int width) {
  std::string widths;
  for (int k = 0; k < layers; ++k) widths += (k ? "," : "") + std::to_string(width);
  return name + ":--encoder-blocks " + std::to_string(blocks) + " --decoder-hidden " + widths;
}

}  // namespace

std::vector<SweepOptions> claims_study(const SweepOptions& base, long n_rows, int n_outputs) {
  const StudyScale sc = study_scale(base.scale, n_rows);
  auto join = [](const std::vector<long>& v) {
    std::string out;
    for (long x : v) out += (out.empty() ? "" : ",") + std::to_string(x);
    return out;
  };
  const std::string largest = std::to_string(sc.sizes.back());
  SweepOptions common = base;
  common.study.clear();
  common.steps = sc.steps;
  common.seeds = sc.seeds;
  common.grid.clear();
  common.presets.clear();
  // Model selection on validation rows only: the weights of the lowest validation loss.
  common.train_args = "--batch " + std::to_string(base.batch) + " --val-fraction " + std::to_string(base.val_fraction) +
                      " --keep best" + (base.train_args.empty() ? "" : " " + base.train_args);
  common.row_errors = true;
  common.eval_args = "--row-errors --gen-draws " + std::to_string(sc.gen_draws) +
                     (base.eval_args.empty() ? "" : " " + base.eval_args);
  std::vector<SweepOptions> grids;
  auto add = [&](const std::string& methods, const std::string& latent, const std::string& sizes,
                 const std::string& beta = "0", const std::string& lambda = "0") {
    SweepOptions g = common;
    g.methods = methods;
    g.latent = latent;
    g.train_size = sizes;
    g.beta = beta;
    g.lambda = lambda;
    grids.push_back(g);
    return &grids.back();
  };
  // Claim 1 and the open question: every baseline over r at the largest size.
  add("cca,rrr,pca,ridge,kpca,dmaps", sc.baseline_latents, largest);
  add("kpca-krr,dmaps-krr,krrr", sc.krr_latents, largest);
  add("kridge", "0", largest);
  // Claims 2 and 3: the four (β, λ) arms at every size, the ladders at the largest.
  add("ved", "50", join(sc.sizes), "0,1e-3", "0,1e-2");
  add("ved", "50", largest, sc.betas, "0");
  add("ved", "50", largest, "0,1e-3", sc.lambdas);
  // Claim 4 (and the ablation of encoder depth x decoder depth at full scale): every
  // architecture at the reference model's parameter count, at (β, λ) = (1e-3, 1e-2).
  ModelConfig ref;
  ref.input_height = ref.input_width = 32;  // the image size cancels: the same in every variant
  ref.output_features = n_outputs;
  ref.latent = 50;
  SweepOptions* arch = add("ved", "50", largest, "1e-3", "1e-2");
  arch->presets = {preset("deep-encoder", 2, 1, matched_width(ref, 2, 1)),
                   preset("deep-decoder", 0, 3, matched_width(ref, 0, 3))};
  // Residual against plain blocks at the reference architecture (identical parameter count).
  arch->presets.push_back("plain-blocks:--encoder-skip false");
  if (sc.ablation_grid)
    for (int b = 0; b <= 2; ++b)
      for (int k = 1; k <= 3; ++k)
        if (!(b == 1 && k == 2) && !(b == 2 && k == 1) && !(b == 0 && k == 3))
          arch->presets.push_back(preset("e" + std::to_string(b) + "d" + std::to_string(k), b, k, matched_width(ref, b, k)));
  return grids;
}

std::vector<SweepRun> make_study_plan(const std::vector<SweepOptions>& grids, long n_rows) {
  std::vector<SweepRun> plan;
  std::set<std::string> keys;
  for (size_t g = 0; g < grids.size(); ++g)
    for (SweepRun& run : make_plan(grids[g], n_rows)) {
      if (!keys.insert(run.key).second) continue;
      run.grid = g;
      run.index = plan.size();
      plan.push_back(std::move(run));
    }
  return plan;
}

void add_sweep_options(CLI::App& cmd, SweepOptions& o) {
  cmd.add_option("--data", o.data, "Training dataset (HDF5)")->required();
  cmd.add_option("--test", o.test, "Test dataset: every row is scored")->required();
  cmd.add_option("--mesh", o.mesh, "Mesh of --data for every `ved train` (default: the file's 'mesh' attribute)");
  cmd.add_option("--methods", o.methods, "Comma list of ved, cca, rrr (reduced-rank regression), pca, ridge, kpca, "
                                         "dmaps, kpca-krr, dmaps-krr (kernel embeddings with a kernel-ridge decoder), "
                                         "krrr (kernel reduced-rank regression), kridge (kernel ridge)");
  cmd.add_flag("--row-errors", o.row_errors, "Keep per-test-row errors in each run's result.json (for intervals)");
  cmd.add_option("--latent", o.latent, "Comma list of latent sizes r");
  cmd.add_option("--beta", o.beta, "Comma list of KL weights (VED)");
  cmd.add_option("--lambda", o.lambda, "Comma list of covariance-penalty weights (VED)");
  cmd.add_option("--train-size", o.train_size, "Comma list of training-set sizes: the first n rows of --data (0 = all)");
  cmd.add_option("--seeds", o.seeds, "Comma list of seeds (VED)");
  cmd.add_option("--grid", o.grid, "Extra axis NAME=V1,V2 over a `ved train` option (repeatable)");
  cmd.add_option("--preset", o.presets, "Named architecture NAME:ARGS, an axis of the grid (repeatable), e.g. "
                                        "\"deep-encoder:--encoder-blocks 2 --decoder-hidden 256\"");
  cmd.add_option("--epochs", o.epochs, "Epochs per VED training");
  cmd.add_option("--parallel", o.parallel, "Runs at a time");
  cmd.add_option("--threads", o.threads, "Threads per run");
  cmd.add_option("--train-args", o.train_args, "Extra arguments for every `ved train`, e.g. \"--batch 128\"");
  cmd.add_option("--eval-args", o.eval_args, "Extra arguments for every `ved eval`");
  cmd.add_option("--steps", o.steps, "Optimiser steps per VED instead of --epochs: every training size gets the "
                                     "same budget (epochs = steps / batches per epoch, rounded up)");
  cmd.add_option("--batch", o.batch, "Batch size of `ved train`, for --steps");
  cmd.add_option("--val-fraction", o.val_fraction, "Validation fraction of `ved train`, for --steps");
  cmd.add_option("--study", o.study, "claims: run the claims study's whole design on --data and --test "
                                     "(docs/claims.md); the grid options are then set by --scale");
  cmd.add_option("--scale", o.scale, "With --study: quick (smoke test), default (about 30 minutes on 2 cores at "
                                     "3,000 + 1,000 rows) or full (the whole protocol; hours, for many cores or MPI)");
  cmd.add_option("--out", o.out, "Sweep folder (runs/, results.csv)")->required();
}

}  // namespace ved::app
