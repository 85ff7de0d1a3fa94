#include "ved/mesh/mesh.hpp"

#include <cmath>

#include "ved/util/error.hpp"

namespace ved {

int Mesh::n_interior_faces() const {
  int n = 0;
  for (int f = 0; f < n_faces; ++f) n += !is_boundary_face(f);
  return n;
}

double BoundaryConditions::neumann_inflow() const {
  double q = 0;
  for (size_t i = 0; i < face.size(); ++i)
    if (kind[i] == BcKind::kNeumann) q += value[i];
  return q;
}

int BoundaryConditions::count(BcKind k) const {
  int n = 0;
  for (BcKind x : kind) n += x == k;
  return n;
}

Mesh make_structured_mesh(int nx, int ny, double lx, double ly) {
  VED_CHECK(nx >= 1 && ny >= 1, "structured mesh: nx = " << nx << ", ny = " << ny
                                                          << "; both must be at least 1");
  VED_CHECK(lx > 0 && ly > 0, "structured mesh: lx = " << lx << ", ly = " << ly
                                                       << "; both must be positive");
  Mesh m;
  m.name = "grid" + std::to_string(nx) + "x" + std::to_string(ny);
  m.grid_nx = nx;
  m.grid_ny = ny;
  m.n_cells = nx * ny;
  m.n_nodes = (nx + 1) * (ny + 1);
  const int n_vert = (nx + 1) * ny, n_horz = nx * (ny + 1);
  m.n_faces = n_vert + n_horz;
  const double dx = lx / nx, dy = ly / ny;
  auto cell = [nx](int i, int j) { return i + nx * j; };
  auto node = [nx](int i, int j) { return i + (nx + 1) * j; };

  m.cell_centroids.resize(2, m.n_cells);
  m.cell_volumes.setConstant(m.n_cells, dx * dy);
  m.cell_node_ptr.resize(m.n_cells + 1);
  m.cell_nodes.reserve(4 * m.n_cells);
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i < nx; ++i) {
      int c = cell(i, j);
      m.cell_centroids.col(c) << (i + 0.5) * dx, (j + 0.5) * dy;
      m.cell_node_ptr[c] = 4 * c;
      for (int n : {node(i, j), node(i + 1, j), node(i + 1, j + 1), node(i, j + 1)})
        m.cell_nodes.push_back(n);
    }
  m.cell_node_ptr[m.n_cells] = 4 * m.n_cells;
  m.node_coords.resize(2, m.n_nodes);
  for (int j = 0; j <= ny; ++j)
    for (int i = 0; i <= nx; ++i) m.node_coords.col(node(i, j)) << i * dx, j * dy;

  m.face_centroids.resize(2, m.n_faces);
  m.face_normals.resize(2, m.n_faces);
  m.face_areas.resize(m.n_faces);
  m.face_cells.resize(2, m.n_faces);
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i <= nx; ++i) {
      int f = i + (nx + 1) * j;
      m.face_centroids.col(f) << i * dx, (j + 0.5) * dy;
      m.face_normals.col(f) << dy, 0.0;
      m.face_areas[f] = dy;
      m.face_cells.col(f) << (i > 0 ? cell(i - 1, j) : -1), (i < nx ? cell(i, j) : -1);
    }
  for (int j = 0; j <= ny; ++j)
    for (int i = 0; i < nx; ++i) {
      int f = n_vert + i + nx * j;
      m.face_centroids.col(f) << (i + 0.5) * dx, j * dy;
      m.face_normals.col(f) << 0.0, dx;
      m.face_areas[f] = dx;
      m.face_cells.col(f) << (j > 0 ? cell(i, j - 1) : -1), (j < ny ? cell(i, j) : -1);
    }
  return m;
}

Site make_structured_site(const StructuredSiteOptions& opt) {
  Site s;
  s.mesh = make_structured_mesh(opt.nx, opt.ny, opt.lx, opt.ly);
  s.source = "structured " + std::to_string(opt.nx) + "x" + std::to_string(opt.ny);
  const Mesh& m = s.mesh;
  const int n_vert = (opt.nx + 1) * opt.ny;
  auto add_side = [&](const SideCondition& sc, const std::vector<int>& faces) {
    if (sc.kind == BcKind::kNoFlow) return;
    double total_len = 0;
    for (int f : faces) total_len += m.face_areas[f];
    for (int f : faces) {
      s.bc.face.push_back(f);
      s.bc.kind.push_back(sc.kind);
      s.bc.value.push_back(sc.kind == BcKind::kNeumann ? sc.value * m.face_areas[f] / total_len
                                                       : sc.value);
    }
  };
  std::vector<int> west, east, south, north;
  for (int j = 0; j < opt.ny; ++j) {
    west.push_back((opt.nx + 1) * j);
    east.push_back(opt.nx + (opt.nx + 1) * j);
  }
  for (int i = 0; i < opt.nx; ++i) {
    south.push_back(n_vert + i);
    north.push_back(n_vert + i + opt.nx * opt.ny);
  }
  add_side(opt.west, west);
  add_side(opt.east, east);
  add_side(opt.south, south);
  add_side(opt.north, north);
  s.wells.resize(m.n_cells);
  for (int c = 0; c < m.n_cells; ++c) s.wells[c] = c;
  return s;
}

void validate(const Mesh& m, const std::string& where) {
  VED_CHECK(m.n_cells > 0 && m.n_faces > 0, where << ": mesh has " << m.n_cells << " cells and "
                                                  << m.n_faces << " faces; expected at least one of each");
  VED_CHECK(m.cell_centroids.cols() == m.n_cells && m.cell_volumes.size() == m.n_cells,
            where << ": cell arrays have " << m.cell_centroids.cols() << " centroids and "
                  << m.cell_volumes.size() << " volumes; expected " << m.n_cells);
  VED_CHECK(m.face_centroids.cols() == m.n_faces && m.face_normals.cols() == m.n_faces &&
                m.face_areas.size() == m.n_faces && m.face_cells.cols() == m.n_faces,
            where << ": face arrays disagree with faces/num = " << m.n_faces);
  VED_CHECK(m.cell_centroids.allFinite() && m.face_centroids.allFinite() &&
                m.face_normals.allFinite(),
            where << ": mesh geometry contains NaN or Inf");
  std::vector<int> faces_per_cell(m.n_cells, 0);
  for (int f = 0; f < m.n_faces; ++f) {
    int a = m.face_cells(0, f), b = m.face_cells(1, f);
    VED_CHECK(a >= -1 && a < m.n_cells && b >= -1 && b < m.n_cells,
              where << ": face " << f << " neighbours (" << a << ", " << b
                    << ") out of range [0, " << m.n_cells << ")");
    VED_CHECK(a >= 0 || b >= 0, where << ": face " << f << " has no neighbouring cell");
    VED_CHECK(a != b, where << ": face " << f << " joins cell " << a << " to itself");
    if (a >= 0) ++faces_per_cell[a];
    if (b >= 0) ++faces_per_cell[b];
  }
  for (int c = 0; c < m.n_cells; ++c)
    VED_CHECK(faces_per_cell[c] >= 3, where << ": cell " << c << " has " << faces_per_cell[c]
                                            << " faces; a 2-D cell needs at least 3");
}

void validate(const BoundaryConditions& bc, const Mesh& m, const std::string& where) {
  VED_CHECK(bc.face.size() == bc.kind.size() && bc.face.size() == bc.value.size(),
            where << ": index, kind and value have different lengths (" << bc.face.size() << ", "
                  << bc.kind.size() << ", " << bc.value.size() << ")");
  std::vector<char> seen(m.n_faces, 0);
  for (size_t i = 0; i < bc.face.size(); ++i) {
    int f = bc.face[i];
    VED_CHECK(f >= 0 && f < m.n_faces, where << ": face " << f + 1 << " out of range [1, "
                                             << m.n_faces << "]; does it match the mesh?");
    VED_CHECK(m.is_boundary_face(f), where << ": face " << f + 1
                                           << " is an interior face; conditions apply to boundary faces only");
    VED_CHECK(!seen[f], where << ": face " << f + 1 << " has two conditions");
    seen[f] = 1;
    VED_CHECK(std::isfinite(bc.value[i]), where << ": value of face " << f + 1 << " is not finite");
  }
  VED_CHECK(bc.count(BcKind::kDirichlet) > 0,
            where << ": no Dirichlet face; steady flow needs at least one fixed head");
}

}  // namespace ved
