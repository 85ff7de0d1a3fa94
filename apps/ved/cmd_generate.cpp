// ved generate: N random log-transmissivity fields and their responses (steady heads,
// transient heads, solute concentrations at the wells) -> one dataset file.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "cli_util.hpp"
#include "commands.hpp"
#include "ved/data/generate.hpp"
#include "ved/mesh/site_io.hpp"
#include "ved/util/atomic_file.hpp"
#include "ved/util/error.hpp"
#include "ved/util/mpi.hpp"
#include "ved/util/progress.hpp"
#include "ved/util/timing.hpp"

namespace ved::app {
namespace {

struct GenerateCli {
  GenerateOptions gen;
  std::string mesh = "hanford";
  std::string out;
  // Physical systems (docs/systems.md). Options shared by transient and transport: 0 = the
  // chosen system's default.
  double time = 0;
  int steps = 0;
  double dt_growth = 0;
  int dt_growth_every = 0;
  int save_every = 0;
  std::string storativity;  // number, or FILE.npy / FILE.h5:/path with [cells]
  std::vector<std::string> pump, source;
  std::string source_kind = "concentration";
  std::string inflow_condition = "flux";
};

// Applies the CLI's physics options to the chosen system's options.
void apply_system_cli(GenerateCli& o, const Site& site) {
  SystemOptions& sys = o.gen.system;
  const bool transient = sys.system == "transient";
  auto shared = [&](auto& t) {
    if (o.time != 0) t.total_time = o.time;
    if (o.steps != 0) t.steps = o.steps;
    if (o.dt_growth != 0) t.dt_growth = o.dt_growth;
    if (o.dt_growth_every != 0) t.dt_growth_every = o.dt_growth_every;
    if (o.save_every != 0) t.save_every = o.save_every;
  };
  if (transient) shared(sys.transient);
  else shared(sys.transport);
  if (!o.storativity.empty()) {
    char* end = nullptr;
    double v = std::strtod(o.storativity.c_str(), &end);
    if (end == o.storativity.c_str() + o.storativity.size()) {
      sys.transient.storativity = v;
    } else {
      MatrixRM f = load_rows(o.storativity, site.mesh.n_cells, "--storativity");
      VED_CHECK(f.rows() == 1, "--storativity " << o.storativity << ": expected one row of " << site.mesh.n_cells
                                                << " values, got " << f.rows() << " rows");
      sys.transient.storativity_field.assign(f.data(), f.data() + f.size());
    }
  }
  // Transient: a schedule of rates; transport: steady pumping that shapes the plume's flow.
  for (const auto& p : o.pump)
    (sys.system == "transport" ? sys.transport.wells : sys.transient.wells).push_back(parse_well_rate(p, "--pump"));
  for (const auto& s : o.source) sys.transport.sources.push_back(parse_solute_source(s, "--source"));
  VED_CHECK(o.source_kind == "concentration" || o.source_kind == "mass",
            "--source-kind '" << o.source_kind << "': expected concentration or mass");
  sys.transport.source_kind = o.source_kind == "mass" ? SourceKind::kMassRate : SourceKind::kConcentration;
  VED_CHECK(o.inflow_condition == "flux" || o.inflow_condition == "fixed",
            "--inflow-condition '" << o.inflow_condition << "': expected flux or fixed");
  sys.transport.inflow_condition = o.inflow_condition == "fixed" ? InflowCondition::kFixed : InflowCondition::kFlux;
  bool physics_given = o.time != 0 || o.steps != 0 || o.dt_growth != 0 || o.dt_growth_every != 0 || o.save_every != 0;
  VED_CHECK(sys.system != "steady" || (!physics_given && o.pump.empty() && o.source.empty() && o.storativity.empty()),
            "--time, --steps, --dt-growth, --dt-growth-every, --save-every, --pump, --source and --storativity need "
            "--system transient or transport");
}

void print_summary(const Dataset& d, const GeneratorModel& model, double t_model, double t_gen,
                   const std::string& out) {
  std::printf("random field: Matern-5/2, sigma %.4f, length %.5f, mean %.4f (%s), %d KL modes holding %.2f%% of the variance\n",
              model.params.sigma, model.params.length, model.params.mean,
              model.fitted ? "maximum-likelihood fit" : "given", model.kl.n_modes(),
              100 * model.kl.variance_fraction());
  auto attr = [&](const char* key) {
    auto it = d.text_attrs.find(key);
    return it == d.text_attrs.end() ? std::string() : it->second;
  };
  std::printf("dataset: %ld samples, x [%ld, %ld] log-transmissivity %.3f .. %.3f, y [%ld, %ld] (%s system, per sample "
              "%s: %s at the wells)\n",
              static_cast<long>(d.x.rows()), static_cast<long>(d.x.rows()), static_cast<long>(d.x.cols()),
              d.x.minCoeff(), d.x.maxCoeff(), static_cast<long>(d.y.rows()), static_cast<long>(d.y.cols()),
              attr("system").c_str(), attr("y_shape").c_str(), attr("y_quantity").c_str());
  if (!attr("y_times").empty()) std::printf("times [d]: %s\n", attr("y_times").c_str());
  // Quantiles over all outputs and samples: the upper tail matters for learning.
  std::vector<double> v(d.y.data(), d.y.data() + d.y.size());
  auto q = [&](double p) {
    size_t i = static_cast<size_t>(p * (v.size() - 1));
    std::nth_element(v.begin(), v.begin() + i, v.end());
    return v[i];
  };
  std::printf("y, %s: min %.4g, 5%% %.4g, median %.4g, 95%% %.4g, 99.9%% %.4g, max %.4g\n", attr("y_quantity").c_str(),
              q(0.0), q(0.05), q(0.5), q(0.95), q(0.999), q(1.0));
  std::printf("time: random-field model %.2f s, %ld realisations %.2f s (%.0f /s) -> %s\n", t_model,
              static_cast<long>(d.x.rows()), t_gen, d.x.rows() / t_gen, out.c_str());
}

// Under MPI, rank r computes whole blocks of realisations [begin, end) and rank 0 gathers
// and writes them: each realisation is computed exactly as in a single process.
Dataset generate_distributed(const Site& site, GeneratorModel& model, const GenerateOptions& opt, Progress& progress) {
  const mpi::World w = mpi::world();
  // Every rank uses rank 0's random-field model (bit-identical KL on every rank).
  mpi::broadcast(model.kl.modes.data(), model.kl.modes.size());
  mpi::broadcast(model.kl.mean.data(), model.kl.mean.size());
  const long n_blocks = (opt.samples + kGenerateBlock - 1) / kGenerateBlock;
  const long b0 = n_blocks * w.rank / w.size, b1 = n_blocks * (w.rank + 1) / w.size;
  const long begin = std::min(opt.samples, b0 * kGenerateBlock), end = std::min(opt.samples, b1 * kGenerateBlock);
  GenerateOptions local = opt;
  local.first = opt.first + begin;
  local.samples = std::max(end - begin, 1L);  // an empty share computes one row and drops it
  Dataset d = generate_dataset(site, model, local, [&](long n) { if (w.rank == 0) progress.advance(n * w.size); });
  const long rows = end - begin;
  auto gather = [&](MatrixRM& m) {
    if (m.size() == 0) return;
    std::vector<double> all;
    mpi::gather_rows(m.data(), rows, m.cols(), &all);
    if (w.rank == 0) m = Eigen::Map<MatrixRM>(all.data(), opt.samples, m.cols());
  };
  gather(d.x);
  gather(d.y);
  gather(d.xi);
  gather(d.head);
  if (w.rank == 0) set_generated_extent(d, opt.samples, opt.first);
  return d;
}

void run_generate(GenerateCli& o) {
  const mpi::World w = mpi::world();
  if (w.rank == 0) check_output_path(o.out);
  VED_CHECK(o.gen.samples >= 1, "--samples " << o.gen.samples << ": must be at least 1");
  VED_CHECK(o.gen.threads >= 1, "--threads " << o.gen.threads << ": must be at least 1");
  auto t0 = std::chrono::steady_clock::now();
  Site site = load_site(o.mesh);
  apply_system_cli(o, site);
  GeneratorModel model = make_generator_model(site, o.gen);
  double t_model = seconds_since(t0);
  auto t1 = std::chrono::steady_clock::now();
  Progress progress("generate", static_cast<size_t>(o.gen.samples), w.rank == 0);
  Dataset d = w.size > 1 ? generate_distributed(site, model, o.gen, progress)
                         : generate_dataset(site, model, o.gen, [&](long n) { progress.advance(n); });
  progress.finish();
  double t_gen = seconds_since(t1);
  if (w.rank != 0) return;
  write_dataset(o.out, d);
  print_summary(d, model, t_model, t_gen, o.out);
  if (w.size > 1) std::printf("generated on %d MPI ranks\n", w.size);
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto o = std::make_shared<GenerateCli>();
  o->gen.threads = default_threads();
  CLI::App* cmd = app.add_subcommand("generate", "Generate a dataset: random log-transmissivity fields (x), their KL "
                                                 "coefficients (xi) and the response at the wells (y): steady heads, "
                                                 "transient heads under pumping, or solute breakthrough");
  cmd->add_option("--samples", o->gen.samples, "Number of realisations N");
  cmd->add_option("--seed", o->gen.seed, "Random seed (realisation i uses the stream (seed, i))");
  cmd->add_option("--first", o->gen.first, "Index of the first realisation (e.g. a test set: --first 3000 continues a 3000-sample training set)");
  cmd->add_option("--threads", o->gen.threads, "Worker threads (the result does not depend on it)");
  cmd->add_flag("--conditional", o->gen.conditional, "Condition the fields on the observations (kriging)");
  cmd->add_option("--modes", o->gen.modes, "Karhunen-Loeve modes kept");
  cmd->add_option("--mesh", o->mesh, "hanford, grid:NXxNY, or a folder with MRST .mat files");
  cmd->add_option("--obs-size", o->gen.obs_size, "Observation file yobs_<n>_1x.npy to fit/condition on (10, 25, 50, 100, 200)");
  cmd->add_option("--obs-set", o->gen.obs_set, "Row of the observation file");
  cmd->add_option("--sigma", o->gen.sigma, "Field standard deviation (with --length: skip the maximum-likelihood fit)");
  cmd->add_option("--length", o->gen.length, "Correlation length in mesh coordinates (with --sigma)");
  cmd->add_option("--mean", o->gen.mean, "Field mean with --sigma/--length (0 = mean of the reference field)");
  cmd->add_flag("--head", o->gen.store_head, "Also store the full head fields /head [N, cells] (transient: at the end)");
  // Physical system (docs/systems.md).
  SystemOptions& sys = o->gen.system;
  cmd->add_option("--system", sys.system, "steady (heads), transient (heads under pumping over time) or transport "
                                          "(solute at the wells)");
  cmd->add_option("--length-unit", sys.length_unit, "Metres per mesh coordinate unit (0 = site default: Hanford 50000, "
                                                    "else 1)");
  cmd->add_option("--time", o->time, "Simulated time [d] (0 = default: transient 30, transport 18250)");
  cmd->add_option("--steps", o->steps, "Time steps (0 = default: transient 20, transport 50)");
  cmd->add_option("--dt-growth", o->dt_growth, "Step size ratio between groups of steps, 1 = uniform (0 = default: "
                                               "transient 2, transport 1)");
  cmd->add_option("--dt-growth-every", o->dt_growth_every, "Steps per group of equal size: one factorisation each "
                                                           "(0 = default: transient 4, transport 1)");
  cmd->add_option("--save-every", o->save_every, "Record y every k-th step; must divide --steps (0 = default: "
                                                 "transient 2, transport 5)");
  cmd->add_option("--storativity", o->storativity, "Transient: storativity S, a number (default 1e-4) or "
                                                   "FILE.npy / FILE.h5:/path with one value per cell");
  cmd->add_option("--pump", o->pump, "Transient: well CELL:RATE[@START-END]; transport: steady well CELL:RATE (m^3/d, < 0 pumps, > 0 injects clean water; days; repeat or "
                                     "comma-separate; entries on one cell add up). Default: Hanford 376, 252, 918 at "
                                     "-2000; other meshes the central cell")
      ->delimiter(',')
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--porosity", sys.transport.porosity, "Transport: effective porosity");
  cmd->add_option("--thickness", sys.transport.thickness, "Transport: saturated thickness [m]");
  cmd->add_option("--alpha-l", sys.transport.dispersivity_long, "Transport: longitudinal dispersivity [m]");
  cmd->add_option("--alpha-t", sys.transport.dispersivity_trans, "Transport: transverse dispersivity [m]");
  cmd->add_option("--diffusion", sys.transport.diffusion, "Transport: molecular diffusion [m^2/d]");
  cmd->add_option("--source", o->source, "Transport: source CELL[:VALUE][@START-END] (VALUE default 1; repeat or "
                                         "comma-separate). Default: Hanford 411 (western inflow); other meshes the "
                                         "cell at 10%/50% of the bounding box")
      ->delimiter(',')
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--source-kind", o->source_kind, "Transport: concentration (held at VALUE) or mass (VALUE per day)");
  cmd->add_option("--inflow-concentration", sys.transport.inflow_concentration,
                  "Transport: concentration of water entering through the boundary");
  cmd->add_option("--inflow-condition", o->inflow_condition, "Transport: flux (third type: Q c_in enters) or fixed "
                                                             "(c = c_in on inflow faces, Ogata-Banks)");
  cmd->add_option("--transport-output", sys.transport_output, "Transport: breakthrough (c at the wells over time) or "
                                                               "arrival (first time c > --threshold; never = --time)");
  cmd->add_option("--threshold", sys.transport.threshold, "Transport: arrival threshold concentration");
  cmd->add_option("--concentration-floor", sys.concentration_floor, "Transport: breakthrough values below this are "
                                                                    "stored as 0");
  cmd->add_option("--out", o->out, "Output dataset (HDF5)")->required();
  cmd->callback([o] { run_generate(*o); });
}

}  // namespace ved::app
