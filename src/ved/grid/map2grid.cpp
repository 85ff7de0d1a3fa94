#include "ved/grid/map2grid.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "ved/mesh/mesh.hpp"
#include "ved/util/error.hpp"

namespace ved {

int GridMap::n_filled() const {
  return static_cast<int>(std::count_if(pixel_count.begin(), pixel_count.end(), [](int c) { return c > 0; }));
}

int GridMap::n_shared_cells() const {
  std::set<int> cells;
  for (size_t e = 0; e < entry_cell.size(); ++e)
    if (pixel_count[entry_pixel[e]] > 1) cells.insert(entry_cell[e]);
  return static_cast<int>(cells.size());
}

std::vector<uint8_t> GridMap::mask() const {
  std::vector<uint8_t> m(pixel_count.size());
  for (size_t i = 0; i < m.size(); ++i) m[i] = pixel_count[i] > 0;
  return m;
}

namespace {
template <class T>
void fill_image(const GridMap& g, const T* field, T* image, T outside) {
  std::fill(image, image + g.n_pixels(), T(0));
  for (size_t e = 0; e < g.entry_cell.size(); ++e) image[g.entry_pixel[e]] += field[g.entry_cell[e]];
  for (int p = 0; p < g.n_pixels(); ++p)
    image[p] = g.pixel_count[p] > 0 ? image[p] / static_cast<T>(g.pixel_count[p]) : outside;
}
}  // namespace

void GridMap::to_image(const double* field, double* image, double outside) const {
  fill_image(*this, field, image, outside);
}
void GridMap::to_image(const float* field, float* image, float outside) const {
  fill_image(*this, field, image, outside);
}

GridMap compute_grid_map(const Mesh& mesh, int seed_cell) {
  const int n = mesh.n_cells;
  VED_CHECK(seed_cell >= 0 && seed_cell < n, "map2grid: seed cell " << seed_cell << " out of range [0, " << n << ")");
  std::vector<int> px(n, 0), py(n, 0);
  std::vector<int> conflict_cell, conflict_x, conflict_y;
  if (mesh.grid_nx > 0) {
    for (int c = 0; c < n; ++c) {
      px[c] = c % mesh.grid_nx;
      py[c] = c / mesh.grid_nx;
    }
  } else {
    std::vector<std::set<int>> adj(n);  // sorted, unique neighbours
    for (int f = 0; f < mesh.n_faces; ++f) {
      int a = mesh.face_cells(0, f), b = mesh.face_cells(1, f);
      if (a >= 0 && b >= 0) {
        adj[a].insert(b);
        adj[b].insert(a);
      }
    }
    std::vector<char> placed(n, 0), conflict(n, 0);
    std::vector<int> cx(n, 0), cy(n, 0);
    placed[seed_cell] = 1;
    int n_placed = 1;
    // Sweeps in index order; a sweep that places nothing new means the rest is unreachable.
    for (bool progress = true; n_placed < n && progress;) {
      progress = false;
      for (int c = 0; c < n; ++c) {
        if (!placed[c]) continue;
        for (int nb : adj[c]) {
          double dx = mesh.cell_centroids(0, nb) - mesh.cell_centroids(0, c);
          double dy = mesh.cell_centroids(1, nb) - mesh.cell_centroids(1, c);
          VED_CHECK(std::abs(dx) != std::abs(dy),
                    "map2grid: ambiguous step from cell " << c << " to cell " << nb << " (|dx| = |dy| = "
                                                          << std::abs(dx) << "); the mesh is not grid-like there");
          int x = px[c] + (std::abs(dx) > std::abs(dy) ? (dx > 0 ? 1 : -1) : 0);
          int y = py[c] + (std::abs(dy) > std::abs(dx) ? (dy > 0 ? 1 : -1) : 0);
          if (!placed[nb]) {
            px[nb] = x;
            py[nb] = y;
            placed[nb] = 1;
            ++n_placed;
            progress = true;
          } else if (x != px[nb] || y != py[nb]) {
            conflict[nb] = 1;
            cx[nb] = x;
            cy[nb] = y;
          }
        }
      }
    }
    VED_CHECK(n_placed == n, "map2grid: only " << n_placed << " of " << n << " cells are connected to cell "
                                               << seed_cell << "; the mesh must be connected");
    for (int c = 0; c < n; ++c)
      if (conflict[c]) {
        conflict_cell.push_back(c);
        conflict_x.push_back(cx[c]);
        conflict_y.push_back(cy[c]);
      }
  }
  GridMap g;
  g.entry_cell.resize(n);
  for (int c = 0; c < n; ++c) g.entry_cell[c] = c;
  std::vector<int> ex = px, ey = py;
  for (size_t i = 0; i < conflict_cell.size(); ++i) {
    g.entry_cell.push_back(conflict_cell[i]);
    ex.push_back(conflict_x[i]);
    ey.push_back(conflict_y[i]);
  }
  int x0 = *std::min_element(ex.begin(), ex.end()), y0 = *std::min_element(ey.begin(), ey.end());
  g.width = *std::max_element(ex.begin(), ex.end()) - x0 + 1;
  g.height = *std::max_element(ey.begin(), ey.end()) - y0 + 1;
  g.pixel_count.assign(static_cast<size_t>(g.width) * g.height, 0);
  g.entry_pixel.resize(ex.size());
  for (size_t e = 0; e < ex.size(); ++e) {
    g.entry_pixel[e] = (ey[e] - y0) * g.width + (ex[e] - x0);
    ++g.pixel_count[g.entry_pixel[e]];
  }
  g.cell_pixel.assign(g.entry_pixel.begin(), g.entry_pixel.begin() + n);
  return g;
}

}  // namespace ved
