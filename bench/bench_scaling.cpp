// Scaling benchmark: how the costs grow with the problem (issue "Performance").
//
//   bench_scaling [--quick] [--json out.json] [--model RUN] [--parts solver,inference,training]
//                 [--sizes 64,128,256,512,1000] [--fields 10000] [--train-n 750,1500,3000,6000]
//                 [--latents 10,50,147] [--batches 16,64,256,1024] [--repeats 3]
//
// 1. Solver vs structured-mesh size: make_structured_site nx x nx (west: inflow 1, east:
//    head 0), set-up (pattern + AMD + symbolic analysis), assembly + numeric factorisation +
//    solve per field (median over repeats), nnz(L), time per cell; checks finite heads and mass
//    balance (Neumann inflow = Dirichlet outflow). One thread.
// 2. Inference vs the solver on Hanford: heads at the 323 wells for --fields generated
//    fields, TrainedModel::predict (a default model trained for one epoch here, or --model)
//    against TpfaSolver::solve_batch, 1 and 2 threads each, median of --repeats.
// 3. Training throughput of the default model (Trainer API, val_fraction 0, 1 thread)
//    against the training-set size N (r = 50, batch 64) and over r x batch at N = 3000
//    (1,500 with --quick). Each run has one warm-up epoch, excluded, then --repeats epochs
//    (median); --quick runs one epoch and keeps it.
//
// The datasets come from the library (generate_dataset, seed 1), not from `ved generate`.
// --quick: sizes 64..256, 1,000 fields, N 750..3000, one repeat (under a minute).
#include <unistd.h>  // getpid

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.hpp"
#include "ved/data/dataset.hpp"
#include "ved/data/generate.hpp"
#include "ved/flow/tpfa.hpp"
#include "ved/mesh/mesh.hpp"
#include "ved/mesh/site_io.hpp"
#include "ved/train/trained_model.hpp"
#include "ved/train/trainer.hpp"
#include "ved/util/array.hpp"
#include "ved/util/blas_threads.hpp"
#include "ved/util/error.hpp"
#include "ved/util/parse.hpp"
#include "ved/util/rng.hpp"

namespace {

namespace fs = std::filesystem;
using ved::bench::now;
using nlohmann::json;

struct Options {
  bool quick = false;
  std::string json_out;
  std::string model;                       // run folder for part 2 ("" = train one here)
  std::string parts = "solver,inference,training";
  std::vector<int> sizes = {64, 128, 256, 512, 1000};
  long fields = 10000;                     // part 2
  std::vector<int> train_n = {750, 1500, 3000, 6000};
  std::vector<int> latents = {10, 50, 147};
  std::vector<int> batches = {16, 64, 256, 1024};
  int grid_n = 3000;                       // N of the r x batch grid
  int repeats = 3;
  double solve_budget_s = 2.0;             // part 1: time spent on repeats per size
};

const char* const kHelp =
    "bench_scaling: solver vs mesh size, inference vs solver, training vs N, r and batch.\n"
    "  --quick            small sizes, one repeat (smoke run, < 1 min)\n"
    "  --json FILE        write the results as JSON\n"
    "  --model RUN        run folder or model file for the inference part (default: train\n"
    "                     a default model for one epoch on 750 generated samples)\n"
    "  --parts LIST       any of solver,inference,training (default: all)\n"
    "  --sizes LIST       structured grids nx = ny (default 64,128,256,512,1000)\n"
    "  --fields N         Hanford fields for the inference part (default 10000)\n"
    "  --train-n LIST     training-set sizes (default 750,1500,3000,6000)\n"
    "  --latents LIST     latent sizes r (default 10,50,147)\n"
    "  --batches LIST     batch sizes (default 16,64,256,1024)\n"
    "  --grid-n N         N of the r x batch grid (default 3000)\n"
    "  --repeats K        repeats for medians (default 3)\n";

std::vector<int> parse_list(const std::string& s, const std::string& what) {
  std::vector<int> v;
  for (const std::string& t : ved::split_list(s)) {
    const std::optional<int64_t> k = ved::try_parse_integer(t, 1, std::numeric_limits<int>::max());
    VED_CHECK(k, what << " " << s << ": '" << t << "' is not a positive integer");
    v.push_back(static_cast<int>(*k));
  }
  VED_CHECK(!v.empty(), what << ": empty list");
  return v;
}

int parse_int(const std::string& s, const std::string& what) {
  const std::vector<int> v = parse_list(s, what);
  VED_CHECK(v.size() == 1, what << " " << s << ": expected one positive integer");
  return v[0];
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--quick") {
      o.quick = true;
      o.sizes = {64, 128, 256};
      o.fields = 1000;
      o.train_n = {750, 1500, 3000};
      o.grid_n = 1500;
      o.repeats = 1;
      o.solve_budget_s = 0.3;
    }
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") continue;
    if (a == "--help" || a == "-h") {
      std::fputs(kHelp, stdout);
      std::exit(0);
    }
    VED_CHECK(i + 1 < argc, a << " needs a value; see --help");
    const std::string v = argv[++i];
    if (a == "--json") o.json_out = v;
    else if (a == "--model") o.model = v;
    else if (a == "--parts") o.parts = v;
    else if (a == "--sizes") o.sizes = parse_list(v, a);
    else if (a == "--fields") o.fields = parse_int(v, a);
    else if (a == "--train-n") o.train_n = parse_list(v, a);
    else if (a == "--latents") o.latents = parse_list(v, a);
    else if (a == "--batches") o.batches = parse_list(v, a);
    else if (a == "--grid-n") o.grid_n = parse_int(v, a);
    else if (a == "--repeats") o.repeats = parse_int(v, a);
    else VED_FAIL("unknown option " << a << "; see --help");
  }
  std::stringstream ss(o.parts);
  for (std::string t; std::getline(ss, t, ',');)
    VED_CHECK(t == "solver" || t == "inference" || t == "training",
              "--parts " << o.parts << ": unknown part '" << t << "'; choose from solver,inference,training");
  return o;
}

bool has_part(const Options& o, const std::string& p) { return ("," + o.parts + ",").find("," + p + ",") != std::string::npos; }

double median(std::vector<double> v) {
  VED_CHECK(!v.empty(), "median of nothing");
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return f ? a + " " + b + " " + c : "unknown";
}

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

// Removes the scratch folder however the benchmark ends.
struct ScratchDir {
  fs::path path;
  ScratchDir() : path(fs::temp_directory_path() / ("ved_bench_scaling_" + std::to_string(getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// ---- 1. Solver vs structured-mesh size ---------------------------------------------

// Log-transmissivity of field k on a structured mesh: a smooth part from a few random
// Fourier modes plus i.i.d. noise, Y = a sin(2πx) + b cos(3πy) + c sin(2π(x + y)) + 0.5 ε,
// with a, b, c, ε ~ N(0, 1): standard deviation ≈ 1.2, jumps between neighbouring cells.
std::vector<double> structured_field(const ved::Mesh& m, uint64_t k) {
  ved::NormalStream rng(11, k);
  const double a = rng.normal(), b = rng.normal(), c = rng.normal();
  const double pi = 3.141592653589793;
  std::vector<double> y(m.n_cells);
  for (int j = 0; j < m.n_cells; ++j) {
    const double x0 = m.cell_centroids(0, j), x1 = m.cell_centroids(1, j);
    y[j] = a * std::sin(2 * pi * x0) + b * std::cos(3 * pi * x1) + c * std::sin(2 * pi * (x0 + x1)) + 0.5 * rng.normal();
  }
  return y;
}

json solver_scaling(const Options& o) {
  std::printf("\n== 1. TPFA solver vs structured-mesh size (1 thread; west inflow 1, east head 0)\n");
  std::printf("%-11s %9s %9s %11s %11s %8s %10s %9s\n", "grid", "cells", "setup s", "solve ms", "nnz(L)",
              "fill", "ns/cell", "balance");
  ved::ScopedBlasThreads one_blas_thread(1);  // supernodal factorisations call BLAS
  json rows = json::array();
  for (int nx : o.sizes) {
    ved::StructuredSiteOptions so;
    so.nx = so.ny = nx;
    so.west = {ved::BcKind::kNeumann, 1.0};
    so.east = {ved::BcKind::kDirichlet, 0.0};
    const ved::Site site = ved::make_structured_site(so);
    const int n = site.mesh.n_cells;

    double t0 = now();
    ved::TpfaSolver solver(site);
    const double t_setup = now() - t0;
    t0 = now();
    auto ws = solver.make_workspace();
    const double t_workspace = now() - t0;

    // The first solve is a warm-up; then repeats until the budget is spent (at least 3).
    std::vector<double> head(n), times;
    double balance_worst = 0, head_min = 1e300, head_max = -1e300;
    for (uint64_t k = 0;; ++k) {
      const std::vector<double> y = structured_field(site.mesh, k);
      t0 = now();
      solver.solve(y.data(), head.data(), *ws);
      const double dt = now() - t0;
      if (k > 0) times.push_back(dt);
      for (double h : head) {
        VED_CHECK(std::isfinite(h), nx << "x" << nx << " field " << k << ": a head is not finite");
        head_min = std::min(head_min, h);
        head_max = std::max(head_max, h);
      }
      const ved::FluxBalance fb = solver.boundary_fluxes(y.data(), head.data());
      const double balance = std::abs(fb.neumann_inflow - fb.dirichlet_outflow) / std::abs(fb.neumann_inflow);
      VED_CHECK(balance < 1e-6, nx << "x" << nx << " field " << k << ": inflow " << fb.neumann_inflow
                                    << " but outflow " << fb.dirichlet_outflow << " (mass balance broken)");
      balance_worst = std::max(balance_worst, balance);
      double spent = 0;
      for (double t : times) spent += t;
      if (times.size() >= 3 && (spent > o.solve_budget_s || times.size() >= 200)) break;
    }
    const double t_solve = median(times);
    const size_t nnz = solver.factor_nnz();
    std::printf("%4dx%-6d %9d %9.3f %11.3f %11zu %8.1f %10.1f %9.1e\n", nx, nx, n, t_setup, 1e3 * t_solve, nnz,
                double(nnz) / n, 1e9 * t_solve / n, balance_worst);
    std::fflush(stdout);
    rows.push_back({{"nx", nx},
                    {"cells", n},
                    {"setup_s", t_setup},
                    {"workspace_s", t_workspace},
                    {"solve_median_s", t_solve},
                    {"solve_min_s", *std::min_element(times.begin(), times.end())},
                    {"solves", times.size()},
                    {"factor_nnz", nnz},
                    {"ns_per_cell", 1e9 * t_solve / n},
                    {"mass_balance_rel_max", balance_worst},
                    {"head_min", head_min},
                    {"head_max", head_max}});
  }
  return rows;
}

// ---- Data for parts 2 and 3 ------------------------------------------------------------

ved::Dataset generate_hanford(const ved::Site& site, long samples) {
  ved::GenerateOptions g;
  g.samples = samples;
  g.seed = 1;
  g.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const double t0 = now();
  const ved::GeneratorModel model = ved::make_generator_model(site, g);
  ved::Dataset d = ved::generate_dataset(site, model, g);
  std::printf("generated %ld Hanford realisations in %.1f s (%d threads)\n", samples, now() - t0, g.threads);
  return d;
}

struct TrainRun {
  double samples_per_s = 0;   // median over the measured epochs
  double epoch_s = 0;         // median training seconds per epoch (no checkpoint writing)
  double wall_s = 0;          // the whole Trainer: data loading, all epochs, checkpoints, model.h5
  int samples_per_epoch = 0;  // whole batches only
  int measured_epochs = 0;
  std::string run_dir;
};

TrainRun train(const std::string& data, const fs::path& out, int n, int r, int batch, int epochs, bool skip_first) {
  ved::TrainOptions t;
  t.data = data;
  t.rows = "0:" + std::to_string(n);
  t.val_fraction = 0;
  t.model.latent = r;
  t.batch = batch;
  t.epochs = epochs;
  t.out = out.string();
  t.threads = 1;
  t.quiet = true;
  VED_CHECK(n >= batch, "N = " << n << " is smaller than batch " << batch << ": no whole batch to train on");
  const double t0 = now();
  {
    ved::Trainer trainer(t);
    trainer.run();
  }
  TrainRun res;
  res.wall_s = now() - t0;
  res.run_dir = out.string();
  std::ifstream log(out / "train.jsonl");
  std::vector<double> rate, secs;
  int e = 0;
  for (std::string line; std::getline(log, line); ++e) {
    if (e == 0 && skip_first) continue;
    const json j = json::parse(line);
    rate.push_back(j.at("samples_per_s").get<double>());
    secs.push_back(j.at("train_seconds").get<double>());
  }
  VED_CHECK(!rate.empty(), (out / "train.jsonl").string() << " holds no measured epoch");
  res.samples_per_s = median(rate);
  res.epoch_s = median(secs);
  res.samples_per_epoch = n / batch * batch;
  res.measured_epochs = static_cast<int>(rate.size());
  return res;
}

// ---- 2. Inference vs the solver ------------------------------------------------------------

json inference_vs_solver(const Options& o, const ved::Site& site, const ved::Dataset& d, const std::string& data,
                         const fs::path& scratch) {
  std::printf("\n== 2. Heads at the %zu Hanford wells for %ld fields: VED inference vs TPFA solves\n",
              site.wells.size(), o.fields);
  std::string model_path = o.model;
  if (model_path.empty()) {
    train(data, scratch / "model_run", 750, 50, 64, 1, false);
    model_path = (scratch / "model_run").string();
    std::printf("model: default architecture (r = 50) trained for 1 epoch on 750 samples\n");
  }
  const ved::TrainedModel model(model_path);                         // frozen, optimised (default)
  const ved::TrainedModel eager(model_path, "cpu", /*optimize=*/false);  // the eager network
  VED_CHECK(model.n_inputs() == d.x.cols() && model.n_outputs() == static_cast<int64_t>(site.wells.size()),
            model.path() << " maps " << model.n_inputs() << " inputs to " << model.n_outputs()
                         << " outputs; the benchmark needs a Hanford model (" << d.x.cols() << " cells -> "
                         << site.wells.size() << " wells)");
  const ved::MatrixRM x = d.x.topRows(o.fields);  // [fields, cells] log-transmissivity
  const ved::TpfaSolver solver(site);
  ved::MatrixRM head(o.fields, solver.n_cells());
  json out = {{"fields", o.fields}, {"model", model_path}, {"parameters", model.parameters()},
              {"latent", model.latent()}};
  const int max_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::printf("%-8s %14s %14s %14s %14s %14s %8s %8s\n", "threads", "predict s", "predict /s", "eager /s",
              "solve s", "solve /s", "ratio", "opt/eag");
  for (int threads : {1, 2}) {
    if (threads > max_threads) break;
    ved::set_torch_threads(threads);
    (void)model.predict(x.topRows(std::min<long>(64, o.fields)));  // warm-up
    (void)eager.predict(x.topRows(std::min<long>(64, o.fields)));
    solver.solve_batch(x.data(), std::min<long>(64, o.fields), head.data(), threads);
    std::vector<double> t_pred, t_eager, t_solve;
    ved::MatrixRM y_hat, y_eager;
    for (int k = 0; k < o.repeats; ++k) {
      double t0 = now();
      y_hat = model.predict(x);
      t_pred.push_back(now() - t0);
      t0 = now();
      y_eager = eager.predict(x);
      t_eager.push_back(now() - t0);
      t0 = now();
      solver.solve_batch(x.data(), o.fields, head.data(), threads);
      t_solve.push_back(now() - t0);
    }
    VED_CHECK(y_hat.allFinite(), "non-finite predictions from " << model.path());
    const double path_diff = (y_hat - y_eager).norm() / y_eager.norm();
    VED_CHECK(path_diff < 1e-5, "optimised and eager predictions differ by " << path_diff << " (relative)");
    // The solver must reproduce the dataset's heads at the wells (same fields, same solver).
    double diff = 0;
    for (long i = 0; i < o.fields; ++i)
      for (size_t w = 0; w < site.wells.size(); ++w) diff = std::max(diff, std::abs(head(i, site.wells[w]) - d.y(i, w)));
    VED_CHECK(diff < 1e-8, "solver heads differ from the dataset's by " << diff << " m");
    const double tp = median(t_pred), te = median(t_eager), ts = median(t_solve);
    std::printf("%-8d %14.3f %14.0f %14.0f %14.3f %14.0f %7.2fx %7.2fx\n", threads, tp, o.fields / tp, o.fields / te, ts,
                o.fields / ts, ts / tp, te / tp);
    std::fflush(stdout);
    const std::string s = std::to_string(threads) + "t";
    out["predict_s_" + s] = tp;
    out["predict_per_s_" + s] = o.fields / tp;
    out["solve_s_" + s] = ts;
    out["solve_per_s_" + s] = o.fields / ts;
    out["solve_over_predict_" + s] = ts / tp;
    out["predict_eager_per_s_" + s] = o.fields / te;
    out["optimized_over_eager_" + s] = te / tp;
  }
  std::printf("ratio = solver time / inference time (> 1: inference is faster); opt/eag = eager predict time /\n"
              "optimised predict time (TrainedModel's frozen TorchScript path against the eager network)\n");
  return out;
}

// ---- 3. Training vs N, r and batch ---------------------------------------------------------

json training_scaling(const Options& o, const std::string& data, const fs::path& scratch) {
  const int epochs = o.quick ? 1 : 1 + o.repeats;
  const bool skip_first = !o.quick;
  std::printf("\n== 3. Training the default model, 1 thread: %s\n",
              skip_first ? "median over the epochs after a warm-up epoch" : "one epoch, warm-up included (--quick)");
  std::printf("%6s %5s %6s %12s %10s %9s\n", "N", "r", "batch", "samples/s", "s/epoch", "wall s");
  json rows = json::array();
  int id = 0;
  auto one = [&](int n, int r, int batch, const char* sweep) {
    if (n < batch) {
      std::printf("%6d %5d %6d   skipped: N < batch\n", n, r, batch);
      return;
    }
    TrainRun t = train(data, scratch / ("run_" + std::to_string(id++)), n, r, batch, epochs, skip_first);
    std::printf("%6d %5d %6d %12.0f %10.2f %9.1f\n", n, r, batch, t.samples_per_s, t.epoch_s, t.wall_s);
    std::fflush(stdout);
    rows.push_back({{"sweep", sweep}, {"n", n}, {"latent", r}, {"batch", batch}, {"samples_per_s", t.samples_per_s},
                    {"epoch_s", t.epoch_s}, {"samples_per_epoch", t.samples_per_epoch},
                    {"measured_epochs", t.measured_epochs}, {"wall_s", t.wall_s}});
    fs::remove_all(t.run_dir);
  };
  for (int n : o.train_n) one(n, 50, 64, "n");
  for (int r : o.latents)
    for (int b : o.batches)
      if (!(r == 50 && b == 64 && std::find(o.train_n.begin(), o.train_n.end(), o.grid_n) != o.train_n.end()))
        one(o.grid_n, r, b, "latent_batch");
  return rows;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = parse_options(argc, argv);
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    json result = {{"quick", o.quick}, {"cores", cores}, {"cpu", cpu_model()}, {"load_average_start", load_average()}};
    std::printf("bench_scaling%s: %u cores (%s), load average %s\n", o.quick ? " --quick" : "", cores,
                cpu_model().c_str(), load_average().c_str());
    const double t_start = now();

    if (has_part(o, "solver")) {
      json rows = solver_scaling(o);
      result["solver"] = rows;
      const json& last = rows.back();
      result["solver_largest_cells"] = last["cells"];
      result["solver_largest_setup_s"] = last["setup_s"];
      result["solver_largest_solve_s"] = last["solve_median_s"];
    }

    if (has_part(o, "inference") || has_part(o, "training")) {
      ScratchDir scratch;
      const ved::Site site = ved::load_site("hanford");
      long samples = has_part(o, "inference") ? o.fields : 0;
      if (has_part(o, "training")) {
        for (int n : o.train_n) samples = std::max<long>(samples, n);
        samples = std::max<long>(samples, o.grid_n);
      }
      if (has_part(o, "inference") && o.model.empty()) samples = std::max<long>(samples, 750);
      const ved::Dataset d = generate_hanford(site, samples);
      const std::string data = (scratch.path / "hanford.h5").string();
      ved::write_dataset(data, d);

      if (has_part(o, "inference")) {
        json inf = inference_vs_solver(o, site, d, data, scratch.path);
        result["inference"] = inf;
        for (const char* k : {"predict_per_s_1t", "solve_per_s_1t", "solve_over_predict_1t", "predict_per_s_2t",
                              "solve_per_s_2t", "solve_over_predict_2t", "predict_eager_per_s_1t",
                              "predict_eager_per_s_2t", "optimized_over_eager_1t", "optimized_over_eager_2t"})
          if (inf.contains(k)) result[std::string("inference_") + k] = inf[k];
      }
      if (has_part(o, "training")) {
        json rows = training_scaling(o, data, scratch.path);
        result["training"] = rows;
        for (const json& r : rows)
          if (r["latent"] == 50 && r["batch"] == 64 && r["n"] == 3000) result["train_samples_per_s_n3000_r50_b64"] = r["samples_per_s"];
      }
    }

    result["load_average_end"] = load_average();
    result["wall_s"] = now() - t_start;
    std::printf("\ntotal %.1f s; load average at the end %s\n", now() - t_start, load_average().c_str());
    if (!o.json_out.empty()) {
      std::ofstream f(o.json_out);
      f << result.dump(2) << "\n";
      VED_CHECK(f.good(), "cannot write " << o.json_out);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
