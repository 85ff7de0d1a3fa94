#pragma once
// The dataset file (SPEC §4): one HDF5 file, readable by h5py.
//
//   /x     [N, n]      inputs (log-transmissivity per cell, or pixels of gridded inputs)
//   /y     [N, m]      outputs (heads at wells)
//   /xi    [N, k]      optional KL coefficients (independent ground-truth factors)
//   /head  [N, cells]  optional full head fields
//   /wells [m]         optional 0-based cells observed by y
//   /map2grid/{entry_cell, entry_pixel}  optional cell -> pixel map (attrs height, width)
//   attributes on "/": mesh, seed, generator (JSON), format = "ved-dataset", version.
//
//   Dataset d = read_dataset("train.h5");
//   write_dataset("out.h5", d);          // atomic: temp file + rename
#include <map>
#include <string>
#include <vector>

#include "ved/grid/map2grid.hpp"
#include "ved/util/array.hpp"

namespace ved {

struct Dataset {
  MatrixRM x;                      // [N, n]
  MatrixRM y;                      // [N, m]
  MatrixRM xi;                     // [N, k] or empty
  MatrixRM head;                   // [N, cells] or empty
  std::vector<int> wells;          // [m] or empty
  std::string mesh;                // mesh spec the inputs live on ("hanford", "grid:64x64", "" = none)
  std::vector<size_t> x_shape;     // per-sample shape of x, e.g. {n} or {H, W} or {C, H, W}
  bool has_grid_map = false;
  GridMap grid_map;                // valid when has_grid_map
  std::map<std::string, std::string> text_attrs;  // extra string attributes (generator, ...)
  std::map<std::string, double> number_attrs;     // extra numeric attributes (seed, ...)

  Eigen::Index n_samples() const { return x.rows(); }
};

struct ReadOptions {
  bool load_head = false;  // /head can be large; skip unless needed
};

Dataset read_dataset(const std::string& path, const ReadOptions& opt = {});
void write_dataset(const std::string& path, const Dataset& d);

// Rows [begin, end) of every per-sample array.
Dataset slice_rows(const Dataset& d, Eigen::Index begin, Eigen::Index end);

}  // namespace ved
