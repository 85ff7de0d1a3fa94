// ved invert: the posterior of log-transmissivity fields given observed outputs at the
// wells (docs/inference.md): pCN over the KL coefficients of the generator's prior with the
// exact forward model, or delayed-acceptance pCN screened by a trained VED (--surrogate).
//
//   ved invert --observed wells.h5 --system steady --noise 0.5 --out post.h5
//   ved invert --observed wells.h5 --prior train.h5 --surrogate run/ --noise 0.5 --out post.h5
//   mpirun -np 4 ved invert ...                       # chains spread over the ranks
#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli_util.hpp"
#include "commands.hpp"
#include "ved/data/dataset.hpp"
#include "ved/data/generate.hpp"
#include "ved/inference/invert.hpp"
#include "ved/mesh/site_io.hpp"
#include "ved/util/atomic_file.hpp"
#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"
#include "ved/util/mpi.hpp"
#ifdef VED_HAVE_TRAIN
#include "ved/train/trained_model.hpp"
#include "ved/train/trainer.hpp"  // set_torch_threads
#endif

namespace ved::app {
namespace {
using inference::ChainState;
using inference::PcnOptions;

struct InvertCli {
  std::string observed;
  std::string out;
  std::string system = "steady";
  std::string surrogate;            // VED run folder (delayed acceptance)
  std::string prior;                // dataset whose random-field model is the prior
  std::string truth;                // FILE.h5:/x or .npy [N, cells]: true fields (coverage)
  std::string mesh = "hanford";
  double noise = 0;
  GenerateOptions gen;              // random-field settings when no --prior
  inference::InvertOptions inv;
  bool json = false;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The random-field settings a dataset was generated with, so that the prior is the same
// fit and the same KL modes; the system must match too.
void prior_from_dataset(InvertCli& o, const SystemModel& system) {
  auto f = h5::File::open_read(o.prior);
  VED_CHECK(f.has_attr("/", "generator"), o.prior << ": no 'generator' attribute; --prior needs a dataset written by "
                                                     "ved generate");
  nlohmann::json g;
  try {
    g = nlohmann::json::parse(f.attr_string("/", "generator"));
  } catch (const nlohmann::json::exception& e) {
    VED_FAIL(o.prior << ": attribute 'generator' is not JSON (" << e.what() << ")");
  }
  auto need = [&](const char* key) -> const nlohmann::json& {
    VED_CHECK(g.contains(key), o.prior << ": attribute 'generator' has no '" << key << "'");
    return g.at(key);
  };
  const std::string mesh = need("mesh").get<std::string>();
  VED_CHECK(mesh == o.mesh, o.prior << ": generated on mesh '" << mesh << "'; --mesh is '" << o.mesh << "'");
  const std::string sys = g.value("system", std::string("steady"));
  VED_CHECK(sys == o.system, o.prior << ": generated with --system " << sys << "; --system is " << o.system);
  if (g.contains("physics")) {
    nlohmann::json mine = nlohmann::json::parse(system.describe_json());
    VED_CHECK(g["physics"] == mine, o.prior << ": generated with physics settings " << g["physics"].dump()
                                            << "; ved invert's " << o.system << " system is " << mine.dump());
  }
  o.gen.modes = need("modes").get<int>();
  o.gen.conditional = need("conditional").get<bool>();
  o.gen.obs_set = g.value("obs_set", 0);
  const std::string obs_file = g.value("obs_file", std::string());
  int size = 0;
  if (std::sscanf(obs_file.c_str(), "yobs_%d_1x.npy", &size) == 1) o.gen.obs_size = size;
  if (need("fitted").get<bool>()) {
    o.gen.sigma = o.gen.length = 0;  // the fit is deterministic: refit, then check below
  } else {
    o.gen.sigma = need("sigma").get<double>();
    o.gen.length = need("length").get<double>();
    o.gen.mean = need("mean").get<double>();
  }
}

std::string describe_prior(const GeneratorModel& m, const GenerateOptions& g) {
  nlohmann::json j = {{"kind", "matern52_kl"},
                      {"sigma", m.params.sigma},
                      {"length", m.params.length},
                      {"mean", m.params.mean},
                      {"modes", m.kl.n_modes()},
                      {"variance_fraction", m.kl.variance_fraction()},
                      {"conditional", g.conditional},
                      {"fitted", m.fitted},
                      {"obs_file", std::filesystem::path(m.obs_file).filename().string()},
                      {"obs_set", g.obs_set}};
  return j.dump();
}

void run_invert(InvertCli& o) {
  const mpi::World w = mpi::world();
  if (w.rank == 0) check_output_path(o.out);
  VED_CHECK(o.system == "steady" || o.system == "transient",
            "--system '" << o.system << "': ved invert supports steady and transient");
  VED_CHECK(o.noise > 0 && std::isfinite(o.noise), "--noise " << o.noise << ": give the observation noise sigma "
                                                              "(> 0, in the outputs' units, e.g. 0.5 for heads in m)");
  VED_CHECK(o.inv.pcn.threads >= 1, "--threads " << o.inv.pcn.threads << ": must be at least 1");
  auto t0 = std::chrono::steady_clock::now();
  Site site = load_site(o.mesh);
  SystemOptions sys_opt;
  sys_opt.system = o.system;
  SystemModel system(site, sys_opt);
  const long m = system.n_outputs();
  // The observations first: a bad file fails before any expensive set-up.
  inference::Observations obs = inference::read_observations(o.observed, m);
  VED_CHECK(obs.n_cases() >= 1 && obs.n_observed() >= 1, o.observed << ": no observations");

#ifdef VED_HAVE_TRAIN
  std::unique_ptr<TrainedModel> ved_model;
  if (!o.surrogate.empty()) {
    ved_model = std::make_unique<TrainedModel>(o.surrogate);
    if (o.prior.empty() && !ved_model->meta().data.empty() && std::filesystem::exists(ved_model->meta().data))
      o.prior = ved_model->meta().data;  // the prior the surrogate was trained under
  }
#else
  VED_CHECK(o.surrogate.empty(), "--surrogate needs ved built with LibTorch (VED_WITH_TORCH=ON)");
#endif
  if (!o.prior.empty()) prior_from_dataset(o, system);
  GeneratorModel prior = make_generator_model(site, o.gen);
  if (!o.prior.empty()) {
    // Every rank and the dataset must hold the same prior.
    auto f = h5::File::open_read(o.prior);
    auto g = nlohmann::json::parse(f.attr_string("/", "generator"));
    auto close = [](double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(b)); };
    VED_CHECK(close(prior.params.sigma, g["sigma"].get<double>()) && close(prior.params.length, g["length"].get<double>()),
              o.prior << ": its random field has sigma " << g["sigma"] << ", length " << g["length"]
                      << "; rebuilt here: sigma " << prior.params.sigma << ", length " << prior.params.length);
  }
  if (w.size > 1) {
    mpi::broadcast(prior.kl.modes.data(), prior.kl.modes.size());
    mpi::broadcast(prior.kl.mean.data(), prior.kl.mean.size());
  }
  const int cells = site.mesh.n_cells;

  inference::InversionProblem p;
  p.kl = &prior.kl;
  p.system = &system;
  p.index = obs.index;
  p.noise = o.noise;
#ifdef VED_HAVE_TRAIN
  if (ved_model) {
    VED_CHECK(ved_model->n_inputs() == cells, o.surrogate << ": the VED takes " << ved_model->n_inputs()
                                                          << " inputs; the " << o.mesh << " field has " << cells
                                                          << " cells");
    VED_CHECK(ved_model->n_outputs() == m, o.surrogate << ": the VED predicts " << ved_model->n_outputs()
                                                       << " outputs; the " << o.system << " system has " << m);
    // One intra-op thread per chain thread: the chains are the parallelism.
    set_torch_threads(1);
    const TrainedModel* vm = ved_model.get();
    p.surrogate = [vm, cells, m](const double* field, double* y, int) {
      MatrixRM x = Eigen::Map<const MatrixRM>(field, 1, cells);
      MatrixRM pred = vm->predict(x);
      std::copy(pred.data(), pred.data() + m, y);
    };
    const Eigen::VectorXd& s = ved_model->meta().noise_std;
    if (s.size() == m) {
      p.surrogate_variance.resize(obs.n_observed());
      for (int64_t j = 0; j < obs.n_observed(); ++j) p.surrogate_variance[j] = s[obs.index[j]] * s[obs.index[j]];
    }
  }
#endif

  MatrixRM truth;
  if (!o.truth.empty()) {
    truth = load_rows(o.truth, cells, "--truth");
    VED_CHECK(truth.rows() == obs.n_cases(), "--truth " << o.truth << ": " << truth.rows() << " fields for "
                                                        << obs.n_cases() << " observed cases in " << o.observed);
  }

  // The chains of this process, and where they are checkpointed.
  const int chains = o.inv.pcn.chains;
  o.inv.chain_first = chains * w.rank / w.size;
  o.inv.chain_count = chains * (w.rank + 1) / w.size - o.inv.chain_first;
  o.inv.checkpoint_dir = o.out + ".chains";
  const PcnOptions& pc = o.inv.pcn;
  nlohmann::json sampler = {{"method", p.surrogate ? "delayed_acceptance_pcn" : "pcn"},
                            {"chains", pc.chains},
                            {"warmup", pc.warmup},
                            {"samples", pc.samples},
                            {"thin", pc.thin},
                            {"beta", pc.beta},
                            {"target_acceptance", pc.target_acceptance},
                            {"surrogate_steps", p.surrogate ? pc.surrogate_steps : 0},
                            {"seed", pc.seed}};
  const std::string prior_json = describe_prior(prior, o.gen);
  o.inv.fingerprint = sampler.dump() + "|" + prior_json + "|" + o.system + "|noise " + std::to_string(o.noise) +
                      "|surrogate " + o.surrogate + "|index " + nlohmann::json(obs.index).dump();
  if (w.rank == 0)
    std::printf("prior: Matern-5/2 sigma %.4f, length %.5f, %d KL modes (%.1f%% of the variance)%s; %s system, %ld "
                "outputs, %ld observed, %ld case(s); %s, %d chains x (%ld warm-up + %ld) iterations%s\n",
                prior.params.sigma, prior.params.length, prior.kl.n_modes(), 100 * prior.kl.variance_fraction(),
                o.prior.empty() ? "" : (" (as " + o.prior + ")").c_str(), o.system.c_str(), m,
                static_cast<long>(obs.n_observed()), static_cast<long>(obs.n_cases()),
                p.surrogate ? "delayed-acceptance pCN" : "pCN", pc.chains, pc.warmup, pc.samples,
                w.size > 1 ? (", over " + std::to_string(w.size) + " MPI ranks").c_str() : "");
  std::fflush(stdout);
  const double t_setup = seconds_since(t0);

  std::vector<inference::CaseResult> results;
  nlohmann::json cases = nlohmann::json::array();
  for (int64_t c = 0; c < obs.n_cases(); ++c) {
    auto tc = std::chrono::steady_clock::now();
    long resumed = 0;
    std::vector<ChainState> local = inference::sample_case(p, obs.value.row(c).transpose(), o.inv, static_cast<int>(c),
                                                           &resumed);
    std::vector<ChainState> all = inference::gather_chains(std::move(local), pc, prior.kl.n_modes(), m);
    if (w.rank != 0) continue;
    inference::CaseResult r = inference::summarise_case(p, all, pc.threads);
    r.seconds = seconds_since(tc);
    r.resumed_chains = resumed;
    const auto& s = r.chains;
    std::printf("case %ld: ESS %.0f (log-likelihood %.0f, field median %.0f, min %.0f), R-hat %.3f (field max %.3f); "
                "acceptance %.3f", static_cast<long>(c), r.ess, s.ess_log_lik, r.ess_field_median, r.ess_field_min,
                s.rhat_log_lik, r.rhat_field_max, s.acceptance);
    if (p.surrogate) std::printf(" (surrogate stage %.3f, exact stage %.3f)", s.acceptance_stage1, s.acceptance_stage2);
    std::printf("; %ld solves (%.1f per effective sample)", s.exact_calls, r.solver_calls_per_ess);
    if (p.surrogate) std::printf(", %ld surrogate calls", s.surrogate_calls);
    if (truth.size())
      std::printf("; truth inside the 90%% interval at %.1f%% of cells",
                  100 * inference::interval_coverage(truth.row(c).transpose(), r.field_q05, r.field_q95));
    std::printf("; %.1f s%s\n", r.seconds, resumed ? (" (" + std::to_string(resumed) + " chains resumed)").c_str() : "");
    // Unconverged chains give intervals that look like posteriors and are not: say so.
    // Thresholds as commonly used (Vehtari et al. 2021): R-hat below 1.01 (1.05 for the largest
    // of the many cells), and at least 100 effective samples.
    if (s.rhat_log_lik > 1.01 || r.rhat_field_max > 1.05 || r.ess < 100)
      std::fprintf(stderr,
                   "warning: case %ld has not converged (R-hat %.3f, field max %.3f; ESS %.0f): its intervals are not "
                   "yet credible; run longer chains (--warmup, --samples)\n",
                   static_cast<long>(c), s.rhat_log_lik, r.rhat_field_max, r.ess);
    std::fflush(stdout);
    cases.push_back({{"ess", r.ess}, {"ess_log_lik", s.ess_log_lik}, {"ess_field_median", r.ess_field_median},
                     {"rhat_log_lik", s.rhat_log_lik}, {"rhat_field_max", r.rhat_field_max},
                     {"acceptance", s.acceptance}, {"acceptance_stage1", s.acceptance_stage1},
                     {"acceptance_stage2", s.acceptance_stage2}, {"solver_calls", s.exact_calls},
                     {"surrogate_calls", s.surrogate_calls}, {"solver_calls_per_ess", r.solver_calls_per_ess},
                     {"seconds", r.seconds}, {"ess_per_second", r.seconds > 0 ? r.ess / r.seconds : 0.0}});
    if (truth.size())
      cases.back()["coverage90"] = inference::interval_coverage(truth.row(c).transpose(), r.field_q05, r.field_q95);
    results.push_back(std::move(r));
  }
  if (w.rank != 0) return;
  inference::InversionInfo info;
  info.mesh = o.mesh;
  info.system = o.system;
  info.y_shape_json = nlohmann::json(system.y_shape()).dump();
  info.wells = site.wells;
  info.prior_json = prior_json;
  info.options_json = sampler.dump();
  info.surrogate = o.surrogate;
  info.truth = truth;
  inference::write_inversion(o.out, p, obs, results, info);
  std::error_code ec;
  std::filesystem::remove_all(o.inv.checkpoint_dir, ec);  // the result is safe: chains no longer needed
  std::printf("wrote %s (%ld case(s), set-up %.1f s)\n", o.out.c_str(), static_cast<long>(obs.n_cases()), t_setup);
  if (o.json) {
    nlohmann::json j = {{"out", o.out}, {"system", o.system}, {"method", sampler["method"]}, {"cases", cases}};
    std::printf("%s\n", j.dump().c_str());
  }
}

}  // namespace

void add_invert_command(CLI::App& app) {
  auto o = std::make_shared<InvertCli>();
  o->inv.pcn.threads = default_threads();
  o->inv.pcn.thin = 2;
  CLI::App* cmd = app.add_subcommand("invert", "Posterior of the log-transmissivity field given observed outputs at the "
                                               "wells: pCN over the generator's KL coefficients with the exact solver, "
                                               "or delayed acceptance screened by a trained VED (--surrogate)");
  cmd->add_option("--observed", o->observed, "Observations: HDF5 /index [k] (0-based output indices) and /value [N, k], "
                                             "or CSV index,value lines for one case")
      ->required();
  cmd->add_option("--out", o->out, "Output HDF5: field and output posteriors, diagnostics")->required();
  cmd->add_option("--system", o->system, "Forward model: steady (heads) or transient (heads under pumping over time)");
  cmd->add_option("--noise", o->noise, "Observation noise standard deviation, in the outputs' units (required)")
      ->required();
  cmd->add_option("--surrogate", o->surrogate, "Trained VED run folder: delayed acceptance (the VED screens proposals, "
                                               "the solver corrects them); its training data is the default --prior");
  cmd->add_option("--prior", o->prior, "Dataset (ved generate) whose random-field model is the prior: same fit, same "
                                       "KL modes");
  cmd->add_option("--truth", o->truth, "True fields [N, cells] (FILE.h5:/x or .npy), for coverage and maps");
  cmd->add_option("--mesh", o->mesh, "hanford, grid:NXxNY, or a folder with MRST .mat files");
  cmd->add_option("--modes", o->gen.modes, "Without --prior: KL modes of the prior (as ved generate)");
  cmd->add_option("--sigma", o->gen.sigma, "Without --prior: field standard deviation (with --length: no fit)");
  cmd->add_option("--length", o->gen.length, "Without --prior: correlation length in mesh coordinates");
  cmd->add_option("--mean", o->gen.mean, "Without --prior: field mean with --sigma/--length (0 = reference field's)");
  cmd->add_option("--obs-size", o->gen.obs_size, "Without --prior: observation file the field model is fitted to");
  cmd->add_option("--obs-set", o->gen.obs_set, "Without --prior: row of that file");
  cmd->add_flag("--conditional", o->gen.conditional, "Without --prior: kriging prior conditioned on those observations");
  PcnOptions& pc = o->inv.pcn;
  cmd->add_option("--chains", pc.chains, "Independent chains (R-hat needs >= 2); run in parallel threads and over MPI "
                                         "ranks");
  cmd->add_option("--warmup", pc.warmup, "Warm-up iterations per chain (adapting the step), discarded");
  cmd->add_option("--samples", pc.samples, "Iterations per chain after warm-up");
  cmd->add_option("--thin", pc.thin, "Keep every thin-th iteration");
  cmd->add_option("--beta", pc.beta, "Initial pCN step in (0, 1]");
  cmd->add_option("--target-acceptance", pc.target_acceptance, "Acceptance rate the warm-up adapts the step to");
  cmd->add_option("--surrogate-steps", pc.surrogate_steps, "With --surrogate: surrogate pCN steps per exact check "
                                                           "(1 = Christen & Fox two-stage)");
  cmd->add_option("--seed", pc.seed, "Random seed (chain c, iteration t uses the stream (seed, c, t))");
  cmd->add_option("--threads", pc.threads, "Worker threads (the result does not depend on it)");
  cmd->add_option("--checkpoint-seconds", o->inv.checkpoint_seconds, "Seconds between chain checkpoints (OUT.chains/); "
                                                                     "a rerun of the same command resumes from them");
  cmd->add_flag("--json", o->json, "Also print one JSON line with the per-case diagnostics");
  cmd->callback([o] { run_invert(*o); });
}

}  // namespace ved::app
