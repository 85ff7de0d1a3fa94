#pragma once
// Helpers shared by the verbs: thread-count defaults and field-array loading.
#include <string>
#include <vector>

#include "ved/util/array.hpp"

namespace ved::app {

// Number of hardware threads (at least 1): the default for every --threads option.
int default_threads();

// Loads a [K, cells] (or [cells]) array from FILE.npy or FILE.h5:/path and checks that
// each row has `n_cols` entries; `what` names the option in errors.
MatrixRM load_rows(const std::string& spec, long n_cols, const std::string& what);

// Path of the running `ved` program (child runs of sweep and demo call it).
std::string self_path();

// Runs argv (argv[0] a path) with stdin from /dev/null, stdout to `out` (truncated) and
// stderr appended to `err`; returns the exit status, or 128 + signal.
int spawn_wait(const std::vector<std::string>& argv, const std::string& out, const std::string& err);

}  // namespace ved::app
