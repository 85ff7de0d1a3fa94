#pragma once
// What happens to the data before and after the network (torch-free): per-feature
// standardisation of x and y with training statistics, Map2Grid of mesh fields into
// images (docs/method.md §4, 0 = the centred mean outside the mesh), and the seeded split.
//
//   InputTransform tx = make_input_transform(dataset, "auto");   // grid map / image / vector
//   tx.fit(x_train);                                              // per-cell mean and std
//   tx.apply(x, 0, x.rows(), buffer.data());                      // [N, C*H*W] floats
//   Split s = make_split(n, 0.1, 0.0, seed);
#include <cstdint>
#include <string>
#include <vector>

#include "ved/data/dataset.hpp"
#include "ved/grid/map2grid.hpp"
#include "ved/data/split.hpp"
#include "ved/util/array.hpp"

namespace ved {

struct InputTransform {
  // "grid_map": x holds one value per mesh cell, drawn into an image by `grid_map`;
  // "image": x is already an image [C, H, W] (flattened); "vector": plain features.
  std::string kind = "vector";
  int64_t n_inputs = 0;       // raw features per sample
  int channels = 1;           // model input image (grid_map, image)
  int height = 0;
  int width = 0;
  GridMap grid_map;           // kind == "grid_map"
  Eigen::VectorXd mean;       // [n_inputs] training mean
  Eigen::VectorXd scale;      // [n_inputs] training std (1 where a feature is constant)

  bool is_image() const { return kind != "vector"; }
  int64_t n_model_inputs() const;  // C*H*W for images, n_inputs for vectors
  void fit(const MatrixRM& x_train);
  // Standardises rows [row0, row0 + n) of x and writes [n, n_model_inputs] floats.
  void apply(const MatrixRM& x, Eigen::Index row0, Eigen::Index n, float* out) const;
};

// Chooses the input representation. mesh_spec: "auto" (the dataset's stored grid map, its
// image shape, or its `mesh` attribute; else vector), "none" (vector), or a site spec for
// load_site ("hanford", "grid:NXxNY", a folder) whose Map2Grid is used.
InputTransform make_input_transform(const Dataset& d, const std::string& mesh_spec);

struct OutputTransform {
  Eigen::VectorXd mean;   // [m] training mean of y
  Eigen::VectorXd scale;  // [m] training std of y (1 where an output is constant)
  // per_output: each output scaled by its own std; otherwise one common scale.
  void fit(const MatrixRM& y_train, bool per_output = true);
  void apply(const MatrixRM& y, Eigen::Index row0, Eigen::Index n, float* out) const;  // standardise
  MatrixRM invert(const float* y_std, Eigen::Index n) const;                          // back to physical
};

// Per-feature mean and standard deviation (population, ddof = 0) over the given rows;
// a constant feature gets scale 1 so it maps to 0.
void column_stats(const MatrixRM& a, const std::vector<int64_t>& rows, Eigen::VectorXd* mean, Eigen::VectorXd* scale);

// A seeded random partition: round(n·test) test rows, round(n·val) validation rows, the
// rest train — the split every method shares (data/split.hpp).
using Split = DataSplit;
inline Split make_split(int64_t n, double val_fraction, double test_fraction, uint64_t seed) {
  return split_rows(n, val_fraction, test_fraction, seed);
}

// Deterministic shuffle of 0..n-1 for one epoch: stream `epoch` of the seed (so a resumed
// run draws the same order without storing generator state).
std::vector<int64_t> epoch_permutation(int64_t n, uint64_t seed, int64_t epoch);

MatrixRM take_rows(const MatrixRM& a, const std::vector<int64_t>& rows);

}  // namespace ved
