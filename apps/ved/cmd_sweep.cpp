// ved sweep: a grid of trainings and baselines, run in parallel as child `ved` processes,
// resumable (a run whose result.json exists is skipped), gathered into one CSV.
//
//   ved sweep --data train.h5 --test test.h5 --methods ved,cca,pca --latent 10,50
//             --beta 0,1e-3 --lambda 0,1e-2 --train-size 750,3000 --seeds 1,2 --out sweep/
#include <CLI/CLI.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <climits>
#include <cstdint>
#include <map>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "cli_util.hpp"
#include "commands.hpp"
#include "sweep_plan.hpp"
#include "ved/report/claims.hpp"
#include "ved/util/atomic_file.hpp"
#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"
#include "ved/util/mpi.hpp"

namespace ved::app {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string last_line(const std::string& text) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  size_t nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

json result_row(const SweepRun& run, const json& metrics, double secs) {
  json row = run.params;
  row["key"] = run.key;
  row["method"] = run.method;
  row["seconds"] = secs;
  // Scalars become the table's columns; arrays of numbers (per-row errors, per-draw
  // metrics) stay in result.json for the report's intervals.
  for (auto& [k, v] : metrics.items())
    if (!row.contains(k) && (v.is_number() || v.is_string() || v.is_boolean() || v.is_array())) row[k] = v;
  return row;
}

// Executes a task: one VED run (train + eval), or every latent size of one baseline and
// training size (one fit serves them all). Returns the rows it wrote; throws with the log
// tail on failure.
std::vector<json> execute(const std::vector<const SweepRun*>& task, const SweepOptions& o, const std::string& exe) {
  const SweepRun& first = *task.front();
  fs::path dir = fs::path(o.out) / "runs" / first.key;
  for (const SweepRun* run : task) fs::create_directories(fs::path(o.out) / "runs" / run->key);
  std::string err = (dir / "stderr.log").string();
  auto t0 = std::chrono::steady_clock::now();
  auto check = [&](int rc, const std::string& what) {
    if (rc == 0) return;
    std::string tail = last_line(read_file(err));
    VED_FAIL("run " << first.key << ": " << what << " exited with status " << rc << ": " << tail << " (log: " << err << ")");
  };
  std::vector<json> rows;
  if (first.method == "ved") {
    std::vector<std::string> train = train_command(first, o, exe, dir.string());
    check(spawn_wait(train, (dir / "train.out").string(), err), "ved train");
    std::vector<std::string> eval = {exe, "eval", "--model", dir.string(), "--data", o.test, "--split", "all", "--json"};
    if (!o.eval_args.empty()) for (const auto& a : split_words(o.eval_args)) eval.push_back(a);
    check(spawn_wait(eval, (dir / "eval.out").string(), err), "ved eval");
    json metrics = json::parse(last_line(read_file((dir / "eval.out").string())));
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rows.push_back(result_row(first, metrics, secs));
  } else {
    std::vector<int> latents;
    for (const SweepRun* run : task) latents.push_back(run->params["latent"].get<int>());
    std::vector<std::string> cmd = baseline_command(first, o, exe, latents);
    check(spawn_wait(cmd, (dir / "baseline.out").string(), err), "ved baseline");
    // JSON Lines, one object per latent size (ridge: one object).
    std::map<int, json> by_latent;
    std::istringstream lines(read_file((dir / "baseline.out").string()));
    for (std::string line; std::getline(lines, line);) {
      if (line.empty() || line[0] != '{') continue;
      json m = json::parse(line);
      by_latent[m.contains("latent") && m["latent"].is_number() ? m["latent"].get<int>() : 0] = m;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / task.size();
    for (const SweepRun* run : task) {
      int r = run->params["latent"].get<int>();
      VED_CHECK(by_latent.count(r), "run " << run->key << ": `ved baseline` printed no result for latent size " << r
                                           << " (log: " << err << ")");
      rows.push_back(result_row(*run, by_latent[r], secs));
    }
  }
  for (size_t i = 0; i < task.size(); ++i)
    write_text_atomic((fs::path(o.out) / "runs" / task[i]->key / "result.json").string(), rows[i].dump() + "\n");
  return rows;
}

void run_sweep(SweepOptions o) {
  // Under MPI each rank runs the runs with index % size == rank; rank 0 writes the table.
  o.world_rank = mpi::world().rank;
  o.world_size = mpi::world().size;
  VED_CHECK(!o.data.empty() && fs::exists(o.data), "--data " << o.data << ": file not found");
  VED_CHECK(!o.test.empty() && fs::exists(o.test), "--test " << o.test << ": file not found");
  VED_CHECK(o.parallel >= 1, "--parallel " << o.parallel << ": must be at least 1");
  fs::create_directories(fs::path(o.out) / "runs");
  long n_rows = 0;
  {
    auto f = h5::File::open_read(o.data);
    h5::ObjectInfo info = f.info("/y");
    VED_CHECK(!info.dims.empty(), o.data << ": '/y' has no rows");
    n_rows = static_cast<long>(info.dims[0]);
  }
  // A study is several grids run as one sweep (docs/claims.md); otherwise the one grid.
  std::vector<SweepOptions> grids = {o};
  if (!o.study.empty()) {
    VED_CHECK(o.study == "claims", "--study '" << o.study << "': expected claims");
    auto f = h5::File::open_read(o.data);
    h5::ObjectInfo y = f.info("/y");
    VED_CHECK(y.dims.size() == 2, o.data << ": '/y' has " << y.dims.size() << " dimensions; expected [rows, outputs]");
    grids = claims_study(o, n_rows, static_cast<int>(y.dims[1]));
    const StudyScale sc = study_scale(o.scale, n_rows);
    std::string sizes;
    for (long n : sc.sizes) sizes += (sizes.empty() ? "" : ", ") + std::to_string(n);
    std::printf("claims study, %s scale: training sizes %s, seeds %s, %d optimiser steps per VED\n", sc.name.c_str(),
                sizes.c_str(), sc.seeds.c_str(), sc.steps);
  }
  std::vector<SweepRun> plan = make_study_plan(grids, n_rows);
  const std::string exe = self_path();
  // Tasks: each VED run alone; a baseline's latent sizes at one training size together.
  std::vector<std::vector<const SweepRun*>> tasks;
  std::map<std::string, size_t> baseline_task;
  size_t done = 0, n_todo = 0, n_tasks = 0;  // tasks are dealt to MPI ranks in turn
  for (const auto& run : plan) {
    fs::path result = fs::path(o.out) / "runs" / run.key / "result.json";
    if (fs::exists(result)) {
      ++done;
      continue;
    }
    if (run.method == "ved") {
      if (static_cast<int>(n_tasks++ % o.world_size) == o.world_rank) {
        tasks.push_back({&run});
        ++n_todo;
      }
      continue;
    }
    std::string group = run.method + "_n" + std::to_string(run.params["train_size"].get<long>()) + "_g" +
                        std::to_string(run.grid);
    auto it = baseline_task.find(group);
    if (it == baseline_task.end()) {
      if (static_cast<int>(n_tasks++ % o.world_size) != o.world_rank) {
        baseline_task[group] = SIZE_MAX;
        continue;
      }
      it = baseline_task.emplace(group, tasks.size()).first;
      tasks.emplace_back();
    }
    if (it->second == SIZE_MAX) continue;
    tasks[it->second].push_back(&run);
    ++n_todo;
  }
  std::printf("sweep%s: %zu runs, %zu done, %zu to run here (%d in parallel)\n",
              o.world_size > 1 ? (" rank " + std::to_string(o.world_rank)).c_str() : "", plan.size(), done, n_todo,
              o.parallel);
  size_t finished = done;
  std::fflush(stdout);
  std::mutex mutex;
  std::atomic<size_t> next{0};
  std::vector<std::string> failures;
  auto worker = [&] {
    for (size_t i; (i = next++) < tasks.size();) {
      try {
        std::vector<json> rows = execute(tasks[i], grids[tasks[i].front()->grid], exe);
        std::lock_guard<std::mutex> lock(mutex);
        for (const json& row : rows)
          std::printf("[%zu/%zu] %s: rel_l2_fluct %.4f (%.1f s)\n", ++finished, plan.size(), row["key"].get<std::string>().c_str(),
                      row.value("rel_l2_fluct", std::nan("")), row.value("seconds", 0.0));
        std::fflush(stdout);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mutex);
        failures.push_back(e.what());
        std::fprintf(stderr, "error: %s\n", e.what());
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < std::min<int>(o.parallel, static_cast<int>(std::max<size_t>(tasks.size(), 1))); ++t)
    pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  // Failures are reported by the rank that saw them; the table waits for every rank.
  int my_failures = static_cast<int>(failures.size());
  double total_failures = my_failures;
  mpi::allreduce_sum(&total_failures, 1);
  if (o.world_rank != 0) {
    VED_CHECK(my_failures == 0, my_failures << " run(s) failed on rank " << o.world_rank << ". First: " << failures[0]);
    return;
  }
  // The table holds every finished run in the folder, so several sweeps can share one.
  ResultTable rows = read_sweep_results(o.out);
  std::string csv = (fs::path(o.out) / "results.csv").string();
  write_results_csv(csv, rows);
  std::printf("sweep: %zu of %zu runs of this grid complete; %zu runs in %s\n", finished, plan.size(), rows.size(),
              csv.c_str());
  VED_CHECK(total_failures == 0, total_failures << " run(s) failed; fix the cause and rerun the same command to "
                                                  "finish them (finished runs are kept)."
                                                  << (failures.empty() ? std::string() : " First: " + failures[0]));
}

}  // namespace

void add_sweep_command(CLI::App& app) {
  auto o = std::make_shared<SweepOptions>();
  CLI::App* cmd = app.add_subcommand("sweep", "Train and evaluate a grid of VEDs and baselines in parallel; "
                                              "resumable; writes OUT/results.csv");
  add_sweep_options(*cmd, *o);
  cmd->callback([o] { run_sweep(*o); });
}

}  // namespace ved::app
