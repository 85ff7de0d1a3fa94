// ved: variational encoder-decoders for physical input -> output maps.
//
//   ved generate --samples 4000 --seed 1 --out hanford.h5
//   ved solve --input fields.h5:/x --out heads.h5
//   ved info hanford.h5
//
// `ved <verb> --help` lists every option with its default.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "commands.hpp"
#include "config.hpp"
#include "ved/util/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"ved: learn low-dimensional latent representations of physical input->output maps "
               "with variational encoder-decoders (VEDs)."};
  app.require_subcommand(1);
  app.option_defaults()->always_capture_default();
  app.set_version_flag("--version", "ved 0.1.0");
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  ved::app::add_info_command(app);
  ved::app::add_solve_command(app);
  ved::app::add_map2grid_command(app);
  ved::app::add_generate_command(app);
  ved::app::add_sweep_command(app);
  ved::app::add_baseline_command(app);
  ved::app::add_report_command(app);
  ved::app::add_demo_command(app);
#ifdef VED_HAVE_TRAIN
  ved::app::add_train_command(app);
  ved::app::add_eval_command(app);
  ved::app::add_predict_command(app);
  ved::app::add_sample_command(app);
#endif
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
    sub->add_option("--config", "TOML file with values for this command's options (flags win)");

  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    args = ved::app::expand_config(args, app);
    std::reverse(args.begin(), args.end());  // CLI11 consumes a reversed vector
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const ved::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
