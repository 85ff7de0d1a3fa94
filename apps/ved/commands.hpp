#pragma once
// Each verb lives in cmd_<verb>.cpp and registers itself on the top-level CLI11 app:
//
//   void add_train_command(CLI::App& app);   // adds "train", its options and its callback
//
// Options are bound to one struct with defaults per verb; a `--config FILE.toml` given to
// any verb supplies values for the same options (command-line flags win).
namespace CLI {
class App;
}

namespace ved::app {

void add_info_command(CLI::App& app);
void add_solve_command(CLI::App& app);
void add_map2grid_command(CLI::App& app);
void add_generate_command(CLI::App& app);
void add_sweep_command(CLI::App& app);
void add_baseline_command(CLI::App& app);
void add_report_command(CLI::App& app);
void add_demo_command(CLI::App& app);
void add_invert_command(CLI::App& app);

// Built with LibTorch only (VED_HAVE_TRAIN).
void add_train_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_predict_command(CLI::App& app);
void add_sample_command(CLI::App& app);
void add_export_command(CLI::App& app);
void add_condition_command(CLI::App& app);

}  // namespace ved::app
