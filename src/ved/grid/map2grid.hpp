#pragma once
// Map2Grid (docs/method.md §4): places each cell of a quadrilateral mesh on a pixel by walking the
// cell-adjacency graph from a seed cell, one pixel per step along the axis of the larger
// centroid difference, so that a field on the mesh becomes an image for a convolutional
// encoder without interpolation. The walk follows the dataset authors' map2grid: sweeps
// over the cells in index order, each placed cell placing its unplaced neighbours; a
// placed cell that a neighbour would put elsewhere is also drawn on that second pixel
// (a "conflict" entry). On Hanford this gives their 69x54 image with 1473 filled pixels.
//
//   GridMap map = compute_grid_map(site.mesh);         // once per mesh
//   map.to_image(field, image);                          // [cells] -> [H*W]
//
// Row index = y step, column index = x step (row 0 holds the smallest y).
#include <cstdint>
#include <vector>

namespace ved {

struct Mesh;

struct GridMap {
  int height = 0;
  int width = 0;
  std::vector<int> cell_pixel;    // [cells] first pixel of each cell, row * width + col
  // Every (cell, pixel) entry: one per cell plus one per conflict.
  std::vector<int> entry_cell;
  std::vector<int> entry_pixel;
  std::vector<int> pixel_count;   // [height * width] entries on each pixel (0 = outside)

  int n_pixels() const { return height * width; }
  int n_cells() const { return static_cast<int>(cell_pixel.size()); }
  int n_filled() const;           // pixels holding at least one cell
  int n_shared_cells() const;     // cells with an entry on a pixel that holds several entries
  int n_conflicts() const { return static_cast<int>(entry_cell.size()) - n_cells(); }
  std::vector<uint8_t> mask() const;  // [H*W] 1 inside the mesh

  // field [cells] -> image [H*W]: mean of the entries on each pixel, `outside` elsewhere.
  void to_image(const double* field, double* image, double outside = 0.0) const;
  void to_image(const float* field, float* image, float outside = 0.0f) const;
};

// Throws ved::Error for an ambiguous step (|dx| == |dy|) or a disconnected mesh.
// Structured meshes map to the identity grid (cell i + nx*j -> row j, column i).
GridMap compute_grid_map(const Mesh& mesh, int seed_cell = 0);

}  // namespace ved
