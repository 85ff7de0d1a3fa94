#pragma once
// The grid of a sweep: which runs, with which options, under which folder names.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace ved::app {

struct SweepOptions {
  std::string data;                       // training dataset
  std::string test;                       // test dataset (every row is scored)
  std::string mesh;                       // `ved train --mesh` for every VED ("" = the file's own)
  std::string methods = "ved";            // ved or a baseline (see add_sweep_options)
  std::string latent = "50";              // comma lists: each combination is one run
  std::string beta = "1e-3";
  std::string lambda = "1e-2";
  std::string train_size = "0";           // rows of --data used for training (0 = all)
  std::string seeds = "1";
  std::vector<std::string> grid;          // extra train options: "decoder-layers=1,3"
  std::vector<std::string> presets;       // named architectures "NAME:--train --args" (one axis)
  int epochs = 150;
  // > 0: an optimiser-step budget per VED instead of --epochs, so that every training size
  // gets the same number of steps (epochs = ceil(steps / batches per epoch)).
  int steps = 0;
  int batch = 64;                         // `ved train --batch` (for the step budget)
  double val_fraction = 0.1;              // `ved train --val-fraction` (for the step budget)
  std::string study;                      // "claims": the claims study's grids (docs/claims.md)
  std::string scale = "default";          // quick | default | full (with --study)
  int parallel = 1;                       // runs at a time
  int threads = 1;                        // threads per run
  std::string train_args;                 // extra arguments for every `ved train`
  std::string eval_args;                  // extra arguments for every `ved eval`
  bool row_errors = false;                // baselines keep per-test-row errors (ved: --eval-args)
  std::string out;
  int world_rank = 0;                     // this process's share: runs with index % size == rank
  int world_size = 1;
};

struct SweepRun {
  size_t index = 0;
  size_t grid = 0;                        // which grid of a study (index into its SweepOptions)
  std::string method;
  std::string key;                        // folder name under OUT/runs
  nlohmann::json params;                  // the grid values of this run
  std::vector<std::pair<std::string, std::string>> train_options;  // --name value
  std::string preset_args;                // extra `ved train` arguments of the preset
};

// n_rows: rows of --data (bounds the latent sizes a linear baseline can have).
std::vector<SweepRun> make_plan(const SweepOptions& o, long n_rows);
std::vector<std::string> train_command(const SweepRun& run, const SweepOptions& o, const std::string& exe,
                                       const std::string& dir);
// One `ved baseline` call for all `latents` of run's method and training size.
std::vector<std::string> baseline_command(const SweepRun& run, const SweepOptions& o, const std::string& exe,
                                          const std::vector<int>& latents);
std::vector<std::string> split_words(const std::string& s);
// Epochs that give at least o.steps optimiser steps on n_train rows (o.steps > 0).
int epochs_for_steps(const SweepOptions& o, long n_train, uint64_t seed);

// The claims study (docs/claims.md) as ordinary grids over `base`'s data, test set and
// execution settings: baselines over r, the (β, λ) arms at several training sizes with one
// optimiser-step budget, and the architecture ablation. n_rows: rows of --data; m: outputs.
struct StudyScale {
  std::string name;
  std::vector<long> sizes;                // training sizes (the first rows of --data)
  std::string seeds;
  int steps = 0;
  std::string baseline_latents, krr_latents;
  std::string betas, lambdas;             // the ladders
  int gen_draws = 1;
  bool ablation_grid = false;             // encoder depth x decoder depth (else the claim-4 pair)
};
StudyScale study_scale(const std::string& scale, long n_rows);
std::vector<SweepOptions> claims_study(const SweepOptions& base, long n_rows, int n_outputs);
// The combined plan of several grids; runs with the same folder name are planned once.
std::vector<SweepRun> make_study_plan(const std::vector<SweepOptions>& grids, long n_rows);
void add_sweep_options(CLI::App& cmd, SweepOptions& o);

}  // namespace ved::app
