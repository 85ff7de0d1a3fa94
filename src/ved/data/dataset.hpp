#pragma once
// The dataset file (docs/method.md §7, docs/data-format.md): one HDF5 file, readable by h5py.
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

// Where a command's rows come from: a dataset file (--data), or separate arrays for the
// inputs and outputs (--x/--y), each "FILE.npy", "FILE.npz:name" or "FILE.h5:/path".
//   x [N, n]        vectors (cells of a mesh, or plain features)
//   x [N, H, W]     images, x [N, C, H, W] multi-channel images
//   y [N, m]        outputs ([N] is one output; [N, a, b, ...] is flattened, shape kept)
struct DataSource {
  std::string data;
  std::string x;
  std::string y;
  bool from_arrays() const { return !x.empty() || !y.empty(); }
  // What to write into logs and model files: the file, or "x=SRC y=SRC".
  std::string describe() const;
};

// Checks that exactly one form is given (`what` names the options in errors, e.g.
// "--data or --x/--y") and loads it; arrays get x_shape, a "y_shape" text attribute for
// y with more than 2 dimensions, and the same finiteness and row-count checks as files.
Dataset load_data(const DataSource& src, const ReadOptions& opt = {});

// Rows [begin, end) of every per-sample array.
Dataset slice_rows(const Dataset& d, Eigen::Index begin, Eigen::Index end);

}  // namespace ved
