#pragma once
// Loading flow problems: the embedded Hanford model, a folder of MRST-style .mat files, or
// a structured grid spec.
//
//   Site s = load_site("hanford");          // data/hanford shipped with ved
//   Site s = load_site("path/to/model/");   // geom*.mat, bc*.mat, well_cells*.mat
//   Site s = load_site("grid:64x48");       // unit square, west h=1, east h=0
//   Site s = load_site("my_mesh.npz");      // a cell graph: centroids + adjacency (Map2Grid only)
#include <string>
#include <vector>

#include "ved/mesh/mesh.hpp"

namespace ved {

// Folder of the data shipped with ved ($VED_DATA_DIR overrides the build-time location).
std::string data_dir();

Site load_site(const std::string& spec);

// A user's mesh as a cell graph, for Map2Grid only: FILE.npz (arrays "centroids" [cells, 2]
// and "adjacency" [pairs, 2] of 0-based cells sharing a face) or FILE.h5 (/centroids,
// /adjacency). Face geometry is left empty.
Mesh load_cell_graph(const std::string& path);

Mesh load_mrst_mesh(const std::string& path);
BoundaryConditions load_mrst_bc(const std::string& path, const Mesh& mesh);
std::vector<int> load_well_cells(const std::string& path, int n_cells);
Eigen::VectorXd load_mrst_field(const std::string& path, const std::string& name, int n_cells);
// yobs_*.npy: int64 [sets, n] 0-based observation cells.
std::vector<std::vector<int>> load_observation_sets(const std::string& path, int n_cells);

}  // namespace ved
