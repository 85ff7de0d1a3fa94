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
  std::string methods = "ved";            // ved, cca, pca, ridge, kpca, dmaps, kpca-krr, dmaps-krr
  std::string latent = "50";              // comma lists: each combination is one run
  std::string beta = "1e-3";
  std::string lambda = "1e-2";
  std::string train_size = "0";           // rows of --data used for training (0 = all)
  std::string seeds = "1";
  std::vector<std::string> grid;          // extra train options: "decoder-layers=1,3"
  std::vector<std::string> presets;       // named architectures "NAME:--train --args" (one axis)
  int epochs = 150;
  int parallel = 1;                       // runs at a time
  int threads = 1;                        // threads per run
  std::string train_args;                 // extra arguments for every `ved train`
  std::string eval_args;                  // extra arguments for every `ved eval`
  std::string out;
  int world_rank = 0;                     // this process's share: runs with index % size == rank
  int world_size = 1;
};

struct SweepRun {
  size_t index = 0;
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
void add_sweep_options(CLI::App& cmd, SweepOptions& o);

}  // namespace ved::app
