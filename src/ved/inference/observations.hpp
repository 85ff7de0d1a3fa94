#pragma once
// Observed values of a subset of a model's outputs, for one or many cases: the input of
// `ved condition` and `ved invert`. Torch-free.
//
//   Observations obs = read_observations("wells.h5", /*n_outputs=*/323);
//   obs.index   // [k] 0-based output indices, as given in the file (distinct)
//   obs.value   // [N, k] observed values, row c = case c, column j = output obs.index[j]
//
// File formats (docs/data-format.md):
//   HDF5  /index [k] integers, /value [N, k] numbers ([k] is read as one case)
//   CSV   one case: lines "index,value" (an optional header line "index,value"; blank
//         lines and lines starting with '#' are skipped)
// Every problem (missing field, index outside [0, n_outputs), repeated index, NaN or
// infinite value, /value whose row length differs from /index's) throws ved::Error naming
// the file, the field and the expected and found values.
#include <cstdint>
#include <string>
#include <vector>

#include "ved/util/array.hpp"

namespace ved::inference {

struct Observations {
  std::vector<int64_t> index;  // [k] 0-based output indices
  MatrixRM value;              // [N, k] observed values, in the outputs' units
  std::string source;          // the file they came from (for messages)

  int64_t n_cases() const { return value.rows(); }
  int64_t n_observed() const { return static_cast<int64_t>(index.size()); }
};

// Reads `path` (HDF5 when it has the HDF5 signature, CSV when it ends in ".csv") and
// checks every index against [0, n_outputs).
Observations read_observations(const std::string& path, int64_t n_outputs);

// Writes `obs` as HDF5 (/index int64 [k], /value float64 [N, k]), atomically.
void write_observations(const std::string& path, const Observations& obs);

// The output indices in [0, n_outputs) that `index` does not contain, ascending.
std::vector<int64_t> unobserved_indices(const std::vector<int64_t>& index, int64_t n_outputs);

}  // namespace ved::inference
