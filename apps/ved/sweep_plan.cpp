#include "sweep_plan.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <sstream>

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

bool is_baseline(const std::string& m) {
  return m == "cca" || m == "pca" || m == "ridge" || m == "kpca" || m == "dmaps" || m == "kpca-krr" || m == "dmaps-krr";
}

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
                                                                          << "'; expected ved, cca, pca, ridge, kpca, dmaps, "
                                                                             "kpca-krr or dmaps-krr");
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
    const std::vector<std::string> method_latents = method == "ridge" ? std::vector<std::string>{"0"} : latents;
    for (const auto& r : method_latents)
      for (const auto& be : b)
        for (const auto& la : l)
          for (const auto& n : sizes)
            for (const auto& seed : s)
              for (const auto& [preset, preset_args] : run_presets)
              for (size_t x = 0; x < n_extra; ++x) {
                // A linear embedding of n rows has at most n - 1 directions.
                long n_train = std::stol(n) > 0 ? std::min(std::stol(n), n_rows) : n_rows;
                if (!ved && method != "ridge" && std::stol(r) >= n_train) continue;
                SweepRun run;
                run.method = method;
                run.params = {{"latent", std::stoi(r)}, {"train_size", std::stol(n)}, {"seed", std::stol(seed)}};
                std::string key = method == "ridge" ? method + "_n" + n : method + "_r" + r + "_n" + n;
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
  if (n > 0) {
    cmd.push_back("--rows");
    cmd.push_back("0:" + std::to_string(n));
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
  if (run.method != "ridge") {
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

void add_sweep_options(CLI::App& cmd, SweepOptions& o) {
  cmd.add_option("--data", o.data, "Training dataset (HDF5)")->required();
  cmd.add_option("--test", o.test, "Test dataset: every row is scored")->required();
  cmd.add_option("--methods", o.methods, "Comma list of ved, cca, pca, ridge, kpca, dmaps, kpca-krr, dmaps-krr "
                                         "(kernel embeddings with a kernel-ridge decoder)");
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
  cmd.add_option("--out", o.out, "Sweep folder (runs/, results.csv)")->required();
}

}  // namespace ved::app
