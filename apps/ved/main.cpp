// ved: variational encoder-decoders for physical input -> output maps.
//
//   ved generate --samples 4000 --seed 1 --out hanford.h5
//   ved solve --input fields.h5:/x --out heads.h5
//   ved info hanford.h5
//
// `ved <verb> --help` lists every option with its default.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "commands.hpp"
#include "config.hpp"
#include "ved/util/atomic_file.hpp"
#include "ved/util/error.hpp"
#include "ved/util/mpi.hpp"

int main(int argc, char** argv) {
  // Under mpirun/srun every rank runs the same command; alone, MPI is never touched.
  try {
    ved::mpi::init(&argc, &argv);
  } catch (const ved::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  const int rank = ved::mpi::world().rank;
  // Ctrl-C, SIGTERM and file-size limits never leave a partial output behind.
  ved::install_cleanup_handlers();
  // A failing rank aborts the job so that the other ranks never wait for it forever.
  auto fail = [rank](const char* what) {
    std::fprintf(stderr, "error%s: %s\n", ved::mpi::world().size > 1 ? (" (rank " + std::to_string(rank) + ")").c_str() : "",
                 what);
    if (ved::mpi::world().size > 1) ved::mpi::abort(1);
    return 1;
  };
  CLI::App app{"ved: learn low-dimensional latent representations of physical input->output maps "
               "with variational encoder-decoders (VEDs)."};
  app.require_subcommand(1);
  app.option_defaults()->always_capture_default();
  app.set_version_flag("--version", "ved " VED_VERSION);
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  ved::app::add_info_command(app);
  ved::app::add_solve_command(app);
  ved::app::add_map2grid_command(app);
  ved::app::add_generate_command(app);
  ved::app::add_sweep_command(app);
  ved::app::add_baseline_command(app);
  ved::app::add_report_command(app);
  ved::app::add_demo_command(app);
  ved::app::add_invert_command(app);
#ifdef VED_HAVE_TRAIN
  ved::app::add_train_command(app);
  ved::app::add_eval_command(app);
  ved::app::add_predict_command(app);
  ved::app::add_sample_command(app);
  ved::app::add_export_command(app);
  ved::app::add_condition_command(app);
#endif
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
    sub->add_option("--config", "TOML file with values for this command's options (flags win)");

  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    args = ved::app::expand_config(args, app);
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 consumes a reversed vector
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    // A misspelt option: name it with the nearest one the verb has, instead of CLI11's list
    // of "arguments not expected".
    const std::string unknown = dynamic_cast<const CLI::ExtrasError*>(&e) ? ved::app::unknown_options_message(args, app) : "";
    if (!unknown.empty()) {
      if (rank == 0) std::fprintf(stderr, "%s\n", unknown.c_str());
      ved::mpi::finalize();
      return e.get_exit_code();
    }
    int code = rank == 0 ? app.exit(e) : (e.get_exit_code() != 0);
    ved::mpi::finalize();
    return code;
  } catch (const ved::Error& e) {
    return fail(e.what());
  } catch (const std::bad_alloc&) {
    return fail("out of memory");
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  ved::mpi::finalize();
  return 0;
}
