// libFuzzer target: TOML run files through ved's --config expansion (apps/ved/config.cpp)
// and then CLI11's parse, as `ved generate --config FILE` does. toml++ is compiled
// header-only here so that its parser is instrumented too.
//
//   build-checked/tests/fuzz/fuzz_config -max_total_time=60 tests/fuzz/corpus/fuzz_config
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "config.hpp"
#include "fuzz_util.hpp"

namespace {

// A verb with each kind of option ved's verbs have: counts, reals, text, lists, flags.
struct Options {
  int samples = 100;
  uint64_t seed = 1;
  double sigma = 0.0;
  std::string mesh = "hanford";
  std::vector<int> encoder_stages;
  std::vector<std::string> pump;
  bool head = false;
};

void add_verb(CLI::App& app, Options& o) {
  app.require_subcommand(1);
  app.option_defaults()->always_capture_default();
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  CLI::App* cmd = app.add_subcommand("generate", "fuzzed verb");
  cmd->add_option("--samples", o.samples, "count");
  cmd->add_option("--seed", o.seed, "seed");
  cmd->add_option("--sigma", o.sigma, "real");
  cmd->add_option("--mesh", o.mesh, "text");
  cmd->add_option("--encoder-stages", o.encoder_stages, "list")->delimiter(',');
  cmd->add_option("--pump", o.pump, "repeated text")->delimiter(',');
  cmd->add_flag("--head", o.head, "flag");
  cmd->add_option("--config", "TOML file");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ved::fuzz::TempInput file(data, size, ".toml");
  CLI::App app{"fuzz"};
  Options o;
  add_verb(app, o);
  std::vector<std::string> args;
  try {
    args = ved::app::expand_config({"generate", "--config", file.path(), "--samples", "5"}, app);
  } catch (const ved::Error& e) {
    ved::fuzz::rejected(e);
    return 0;
  }
  std::reverse(args.begin(), args.end());  // CLI11 consumes a reversed vector
  try {
    app.parse(args);
  } catch (const CLI::ParseError&) {
    // A value of the wrong type: main prints CLI11's message, as on the command line.
  }
  return 0;
}
