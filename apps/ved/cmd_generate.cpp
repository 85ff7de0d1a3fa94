// ved generate: N random log-transmissivity fields and their heads -> one dataset file.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>

#include "cli_util.hpp"
#include "commands.hpp"
#include "ved/data/generate.hpp"
#include "ved/mesh/site_io.hpp"
#include "ved/util/atomic_file.hpp"
#include "ved/util/error.hpp"
#include "ved/util/progress.hpp"

namespace ved::app {
namespace {

struct GenerateCli {
  GenerateOptions gen;
  std::string mesh = "hanford";
  std::string out;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void print_summary(const Dataset& d, const GeneratorModel& model, double t_model, double t_gen,
                   const std::string& out) {
  std::printf("random field: Matern-5/2, sigma %.4f, length %.5f, mean %.4f (%s), %d KL modes holding %.2f%% of the variance\n",
              model.params.sigma, model.params.length, model.params.mean,
              model.fitted ? "maximum-likelihood fit" : "given", model.kl.n_modes(),
              100 * model.kl.variance_fraction());
  std::printf("dataset: %ld samples, x [%ld, %ld] log-transmissivity %.3f .. %.3f, y [%ld, %ld] well heads\n",
              static_cast<long>(d.x.rows()), static_cast<long>(d.x.rows()), static_cast<long>(d.x.cols()),
              d.x.minCoeff(), d.x.maxCoeff(), static_cast<long>(d.y.rows()), static_cast<long>(d.y.cols()));
  // Head quantiles over all wells and samples: the upper tail matters for learning.
  std::vector<double> v(d.y.data(), d.y.data() + d.y.size());
  auto q = [&](double p) {
    size_t i = static_cast<size_t>(p * (v.size() - 1));
    std::nth_element(v.begin(), v.begin() + i, v.end());
    return v[i];
  };
  std::printf("well heads [m]: min %.2f, 5%% %.2f, median %.2f, 95%% %.2f, 99.9%% %.2f, max %.2f\n", q(0.0), q(0.05),
              q(0.5), q(0.95), q(0.999), q(1.0));
  std::printf("time: random-field model %.2f s, %ld realisations %.2f s (%.0f /s) -> %s\n", t_model,
              static_cast<long>(d.x.rows()), t_gen, d.x.rows() / t_gen, out.c_str());
}

void run_generate(GenerateCli& o) {
  check_output_path(o.out);
  VED_CHECK(o.gen.samples >= 1, "--samples " << o.gen.samples << ": must be at least 1");
  VED_CHECK(o.gen.threads >= 1, "--threads " << o.gen.threads << ": must be at least 1");
  auto t0 = std::chrono::steady_clock::now();
  Site site = load_site(o.mesh);
  GeneratorModel model = make_generator_model(site, o.gen);
  double t_model = seconds_since(t0);
  auto t1 = std::chrono::steady_clock::now();
  Progress progress("generate", static_cast<size_t>(o.gen.samples));
  Dataset d = generate_dataset(site, model, o.gen, [&](long n) { progress.advance(n); });
  progress.finish();
  double t_gen = seconds_since(t1);
  write_dataset(o.out, d);
  print_summary(d, model, t_model, t_gen, o.out);
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto o = std::make_shared<GenerateCli>();
  o->gen.threads = default_threads();
  CLI::App* cmd = app.add_subcommand("generate", "Generate a dataset: random log-transmissivity fields (x), their KL "
                                                 "coefficients (xi) and heads at the wells (y)");
  cmd->add_option("--samples", o->gen.samples, "Number of realisations N");
  cmd->add_option("--seed", o->gen.seed, "Random seed (realisation i uses the stream (seed, i))");
  cmd->add_option("--threads", o->gen.threads, "Worker threads (the result does not depend on it)");
  cmd->add_flag("--conditional", o->gen.conditional, "Condition the fields on the observations (kriging)");
  cmd->add_option("--modes", o->gen.modes, "Karhunen-Loeve modes kept");
  cmd->add_option("--mesh", o->mesh, "hanford, grid:NXxNY, or a folder with MRST .mat files");
  cmd->add_option("--obs-size", o->gen.obs_size, "Observation file yobs_<n>_1x.npy to fit/condition on (10, 25, 50, 100, 200)");
  cmd->add_option("--obs-set", o->gen.obs_set, "Row of the observation file");
  cmd->add_option("--sigma", o->gen.sigma, "Field standard deviation (with --length: skip the maximum-likelihood fit)");
  cmd->add_option("--length", o->gen.length, "Correlation length in mesh coordinates (with --sigma)");
  cmd->add_option("--mean", o->gen.mean, "Field mean with --sigma/--length (0 = mean of the reference field)");
  cmd->add_flag("--head", o->gen.store_head, "Also store the full head fields /head [N, cells]");
  cmd->add_option("--out", o->out, "Output dataset (HDF5)")->required();
  cmd->callback([o] { run_generate(*o); });
}

}  // namespace ved::app
