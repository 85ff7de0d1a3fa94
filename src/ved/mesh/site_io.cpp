#include "ved/mesh/site_io.hpp"

#include <cstdlib>
#include <filesystem>
#include <regex>

#include <cmath>

#include "ved/util/array_source.hpp"
#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"
#include "ved/util/npy.hpp"

namespace ved {
namespace fs = std::filesystem;

namespace {

// MATLAB stores an m x n array column-major, which HDF5 shows as [n][m]. Reads a
// [rows, count] block ("count" the number of items) and checks its shape.
std::vector<double> read_block(const h5::File& f, const std::string& name, size_t rows,
                               size_t count, std::vector<size_t>* dims_out = nullptr) {
  std::vector<size_t> dims;
  std::vector<double> v = f.read_double(name, &dims);
  size_t total = 1;
  for (size_t d : dims) total *= d;
  if (count > 0) {
    VED_CHECK(total == rows * count, f.path() << ": '" << name << "' holds " << total
                                              << " values; expected " << rows << " x " << count);
  }
  if (dims_out) *dims_out = dims;
  return v;
}

int read_count(const h5::File& f, const std::string& name) {
  std::vector<double> v = read_block(f, name, 1, 1);
  VED_CHECK(v[0] >= 1 && v[0] < 1e9 && v[0] == std::floor(v[0]),
            f.path() << ": '" << name << "' = " << v[0] << "; expected a positive count");
  return static_cast<int>(v[0]);
}

std::string find_one(const std::string& dir, const std::string& pattern, bool required) {
  std::regex re(pattern);
  std::vector<std::string> hits;
  for (const auto& e : fs::directory_iterator(dir))
    if (std::regex_match(e.path().filename().string(), re)) hits.push_back(e.path().string());
  std::sort(hits.begin(), hits.end());
  VED_CHECK(!required || !hits.empty(),
            dir << ": no file matching '" << pattern << "'; a mesh folder needs geom*.mat, bc*.mat and well_cells*.mat");
  VED_CHECK(hits.size() <= 1, dir << ": several files match '" << pattern << "' (" << hits[0]
                                  << ", " << hits[1] << "); keep one");
  return hits.empty() ? "" : hits[0];
}

}  // namespace

std::string data_dir() {
  const char* env = std::getenv("VED_DATA_DIR");
  std::string dir = env && *env ? env : VED_DATA_DIR;
  VED_CHECK(fs::is_directory(dir), "data folder '" << dir
                                                   << "' not found; set VED_DATA_DIR to the 'data' folder of the ved source tree");
  return dir;
}

Mesh load_mrst_mesh(const std::string& path) {
  auto f = h5::File::open_read(path);
  Mesh m;
  m.name = fs::path(path).stem().string();
  m.n_cells = read_count(f, "/cells/num");
  m.n_faces = read_count(f, "/faces/num");
  m.n_nodes = f.has("/nodes/num") ? read_count(f, "/nodes/num") : 0;
  const int C = m.n_cells, F = m.n_faces;

  auto cc = read_block(f, "/cells/centroids", 2, C);
  m.cell_centroids = Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(cc.data(), 2, C);
  auto vol = read_block(f, "/cells/volumes", 1, C);
  m.cell_volumes = Eigen::Map<Eigen::VectorXd>(vol.data(), C);
  auto fc = read_block(f, "/faces/centroids", 2, F);
  m.face_centroids = Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(fc.data(), 2, F);
  auto fn = read_block(f, "/faces/normals", 2, F);
  m.face_normals = Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(fn.data(), 2, F);
  auto fa = read_block(f, "/faces/areas", 1, F);
  m.face_areas = Eigen::Map<Eigen::VectorXd>(fa.data(), F);
  auto nb = read_block(f, "/faces/neighbors", 2, F);
  m.face_cells.resize(2, F);
  for (int k = 0; k < 2; ++k)
    for (int j = 0; j < F; ++j) {
      double v = nb[k * F + j];
      VED_CHECK(v >= 0 && v <= C && v == std::floor(v),
                path << ": faces/neighbors(" << k + 1 << ", " << j + 1 << ") = " << v
                     << " out of range [0, " << C << "] (0 = no neighbour)");
      m.face_cells(k, j) = static_cast<int>(v) - 1;
    }
  if (m.n_nodes > 0 && f.has("/nodes/coords")) {
    auto nc = read_block(f, "/nodes/coords", 2, m.n_nodes);
    m.node_coords = Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(nc.data(), 2, m.n_nodes);
  }
  if (m.n_nodes > 0 && f.has("/cells/nodes")) {
    std::vector<size_t> dims;
    auto cn = f.read_double("/cells/nodes", &dims);
    // Quadrilateral meshes store cells/nodes as a [k, cells] block (k nodes per cell).
    if (dims.size() == 2 && dims[1] == static_cast<size_t>(C)) {
      int k = static_cast<int>(dims[0]);
      m.cell_node_ptr.resize(C + 1);
      for (int c = 0; c < C; ++c) {
        m.cell_node_ptr[c] = k * c;
        for (int i = 0; i < k; ++i) {
          double v = cn[i * C + c];
          VED_CHECK(v >= 1 && v <= m.n_nodes, path << ": cells/nodes(" << i + 1 << ", " << c + 1
                                                   << ") = " << v << " out of range [1, " << m.n_nodes << "]");
          m.cell_nodes.push_back(static_cast<int>(v) - 1);
        }
      }
      m.cell_node_ptr[C] = k * C;
    }
  }
  validate(m, path);
  return m;
}

BoundaryConditions load_mrst_bc(const std::string& path, const Mesh& mesh) {
  auto f = h5::File::open_read(path);
  std::vector<size_t> d1, d2, d3;
  auto idx = f.read_int("/index", &d1);
  auto kind = f.read_int("/kind", &d2);
  auto val = f.read_double("/value", &d3);
  VED_CHECK(idx.size() == kind.size() && idx.size() == val.size(),
            path << ": index, kind and value hold " << idx.size() << ", " << kind.size() << " and "
                 << val.size() << " entries; expected equal lengths");
  BoundaryConditions bc;
  for (size_t i = 0; i < idx.size(); ++i) {
    VED_CHECK(kind[i] == 'D' || kind[i] == 'N',
              path << ": kind(" << i + 1 << ") = " << kind[i] << "; expected 68 ('D') or 78 ('N')");
    VED_CHECK(idx[i] >= 1 && idx[i] <= mesh.n_faces, path << ": face " << idx[i] << " out of range [1, "
                                                          << mesh.n_faces << "]; does it match the mesh?");
    bc.face.push_back(static_cast<int>(idx[i]) - 1);
    bc.kind.push_back(static_cast<BcKind>(kind[i]));
    bc.value.push_back(val[i]);
  }
  validate(bc, mesh, path);
  return bc;
}

std::vector<int> load_well_cells(const std::string& path, int n_cells) {
  auto f = h5::File::open_read(path);
  VED_CHECK(f.has("/well_cells"), path << ": dataset 'well_cells' not found");
  auto v = f.read_int("/well_cells", nullptr);
  VED_CHECK(!v.empty(), path << ": 'well_cells' is empty");
  std::vector<int> wells;
  for (size_t i = 0; i < v.size(); ++i) {
    VED_CHECK(v[i] >= 1 && v[i] <= n_cells, path << ": well_cells(" << i + 1 << ") = " << v[i]
                                                 << " out of range [1, " << n_cells << "]");
    wells.push_back(static_cast<int>(v[i]) - 1);
  }
  return wells;
}

Eigen::VectorXd load_mrst_field(const std::string& path, const std::string& name, int n_cells) {
  auto f = h5::File::open_read(path);
  auto v = read_block(f, "/" + name, 1, n_cells);
  Eigen::VectorXd out = Eigen::Map<Eigen::VectorXd>(v.data(), n_cells);
  VED_CHECK(out.allFinite(), path << ": '" << name << "' contains NaN or Inf");
  return out;
}

std::vector<std::vector<int>> load_observation_sets(const std::string& path, int n_cells) {
  npy::Array a = npy::read(path);
  VED_CHECK(a.dims.size() == 2 || a.dims.size() == 1,
            path << ": expected an int array [sets, n] of cell indices; found " << a.dims.size() << " dimensions");
  size_t sets = a.dims.size() == 2 ? a.dims[0] : 1;
  size_t n = a.dims.back();
  // With n >= 1 the number of sets is bounded by the values in the file; (huge, 0) is not.
  VED_CHECK(n >= 1 && sets >= 1, path << ": shape [" << sets << ", " << n
                                      << "] holds no observation cells; expected [sets, n] with n >= 1");
  std::vector<std::vector<int>> out(sets);
  for (size_t s = 0; s < sets; ++s)
    for (size_t i = 0; i < n; ++i) {
      double v = a.data[s * n + i];
      VED_CHECK(v >= 0 && v < n_cells && v == std::floor(v),
                path << ": entry [" << s << ", " << i << "] = " << v << " is not a cell index in [0, " << n_cells << ")");
      out[s].push_back(static_cast<int>(v));
    }
  return out;
}

Mesh load_cell_graph(const std::string& path) {
  const bool npz = path.size() > 4 && path.compare(path.size() - 4, 4, ".npz") == 0;
  LoadedArray c = load_array({path, npz ? "centroids" : "/centroids"});
  LoadedArray a = load_array({path, npz ? "adjacency" : "/adjacency"});
  auto shape = [](const std::vector<size_t>& dims) {
    std::string s = "[";
    for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
    return s + "]";
  };
  VED_CHECK(c.dims.size() == 2 && c.dims[1] == 2 && c.dims[0] > 0,
            path << ": 'centroids' must be [cells, 2] (x, y of each cell) with cells >= 1; found " << shape(c.dims));
  VED_CHECK(a.dims.size() == 2 && a.dims[1] == 2,
            path << ": 'adjacency' must be [pairs, 2] (0-based cells sharing a face); found " << shape(a.dims));
  VED_CHECK(c.dims[0] < (1u << 30) && a.dims[0] < (1u << 30),
            path << ": " << c.dims[0] << " cells and " << a.dims[0] << " pairs; at most 2^30 - 1 of each");
  Mesh m;
  m.name = path;
  m.n_cells = static_cast<int>(c.dims[0]);
  m.n_faces = static_cast<int>(a.dims[0]);
  m.cell_centroids.resize(2, m.n_cells);
  for (int i = 0; i < m.n_cells; ++i) {
    for (int k = 0; k < 2; ++k) {
      const double v = c.data[2 * static_cast<size_t>(i) + k];
      VED_CHECK(std::isfinite(v), path << ": 'centroids' row " << i << " is not finite");
      m.cell_centroids(k, i) = v;
    }
  }
  m.cell_volumes = Eigen::VectorXd::Ones(m.n_cells);
  m.face_cells.resize(2, m.n_faces);
  for (int f = 0; f < m.n_faces; ++f) {
    for (int k = 0; k < 2; ++k) {
      const double v = a.data[2 * static_cast<size_t>(f) + k];
      VED_CHECK(v == std::floor(v) && v >= 0 && v < m.n_cells,
                path << ": 'adjacency' row " << f << " names cell " << v << "; expected 0-based cells in [0, "
                     << m.n_cells << ")");
      m.face_cells(k, f) = static_cast<int>(v);
    }
    VED_CHECK(m.face_cells(0, f) != m.face_cells(1, f),
              path << ": 'adjacency' row " << f << " joins cell " << m.face_cells(0, f) << " to itself");
  }
  return m;
}

Site load_site(const std::string& spec) {
  // A single file: the mesh of an MRST geometry file, or a cell graph (centroids +
  // adjacency) — enough to draw fields into images, not to solve flow.
  if (fs::is_regular_file(spec)) {
    Site s;
    s.source = spec;
    const bool mat = spec.size() > 4 && spec.compare(spec.size() - 4, 4, ".mat") == 0;
    s.mesh = mat ? load_mrst_mesh(spec) : load_cell_graph(spec);
    return s;
  }
  std::smatch m;
  static const std::regex kGrid(R"(grid:(\d+)x(\d+))");
  if (std::regex_match(spec, m, kGrid)) {
    StructuredSiteOptions opt;
    opt.nx = std::stoi(m[1]);
    opt.ny = std::stoi(m[2]);
    // The spec itself as the source: datasets record it as their mesh, and load_site must
    // read it back from there (`ved train --mesh auto`, `ved invert --prior`).
    Site s = make_structured_site(opt);
    s.source = spec;
    return s;
  }
  std::string dir = spec == "hanford" ? data_dir() + "/hanford" : spec;
  VED_CHECK(fs::is_directory(dir), "mesh '" << spec << "': expected 'hanford', 'grid:NXxNY', a folder holding geom*.mat, "
                                             "bc*.mat and well_cells*.mat, an MRST geometry .mat file, or a cell file "
                                             "(.npz or .h5 with centroids [cells, 2] and adjacency [pairs, 2])");
  Site s;
  s.source = spec;
  s.mesh = load_mrst_mesh(find_one(dir, R"(geom.*\.mat)", true));
  if (spec == "hanford") s.mesh.name = "hanford";
  s.bc = load_mrst_bc(find_one(dir, R"(bc.*\.mat)", true), s.mesh);
  s.wells = load_well_cells(find_one(dir, R"(well_cells.*\.mat)", true), s.mesh.n_cells);
  std::string ref = find_one(dir, R"(conduct_log.*\.mat)", false);
  if (!ref.empty()) s.reference_log_t = load_mrst_field(ref, "conduct_log", s.mesh.n_cells);
  return s;
}

}  // namespace ved
