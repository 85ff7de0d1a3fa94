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

}  // namespace ved::app
