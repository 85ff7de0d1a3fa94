#pragma once
// TOML configuration for any verb: `ved train --config run.toml --epochs 10`.
// Keys name the verb's long options (`latent = 50`, `val_fraction = 0.1`); a table
// `[encoder]` with key `stages` maps to `--encoder-stages`. Arrays become comma lists.
// Unknown keys are errors with a suggestion. Values from the file come before the
// command line's, so flags override the file.
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace ved::app {

// Returns argv with each `--config FILE` expanded in place into the file's options.
// `app` is used to look up which options the chosen verb accepts.
std::vector<std::string> expand_config(const std::vector<std::string>& args, CLI::App& app);

// The name of `known` nearest to `name` by edit distance when it is close enough to be a
// misspelling (at most max(2, |name| / 3) edits), else "".
std::string nearest_name(const std::string& name, const std::vector<std::string>& known);

// For args (argv without the program) that CLI11 rejected: one line per --option the chosen
// verb does not have, with the nearest option it does have; "" when every option is known.
std::string unknown_options_message(const std::vector<std::string>& args, CLI::App& app);

}  // namespace ved::app
