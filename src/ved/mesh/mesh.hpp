#pragma once
// Unstructured 2-D meshes (MRST conventions, 0-based here) and the flow problem on them.
//
//   Site site = load_site("hanford");            // mesh + boundary conditions + wells
//   Site grid = make_structured_site({.nx = 64, .ny = 64});
//
// A Site owns everything; nothing keeps references into it.
#include <Eigen/Core>
#include <string>
#include <vector>

namespace ved {

struct Mesh {
  std::string name;
  int n_cells = 0;
  int n_faces = 0;
  int n_nodes = 0;
  Eigen::Matrix2Xd cell_centroids;  // [2, cells]
  Eigen::VectorXd cell_volumes;     // [cells] (areas in 2-D)
  Eigen::Matrix2Xd face_centroids;  // [2, faces]
  // [2, faces] normal scaled by face length, pointing from face_cells(0, f) to face_cells(1, f)
  Eigen::Matrix2Xd face_normals;
  Eigen::VectorXd face_areas;       // [faces] face lengths
  Eigen::Matrix2Xi face_cells;      // [2, faces] adjacent cells, -1 where there is none
  Eigen::Matrix2Xd node_coords;     // [2, nodes]
  std::vector<int> cell_node_ptr;   // CSR: nodes of cell c are cell_nodes[ptr[c] .. ptr[c+1])
  std::vector<int> cell_nodes;      //   in boundary order (for plotting)
  // Set for meshes made by make_structured_mesh: cell (i, j) is i + nx * j.
  int grid_nx = 0;
  int grid_ny = 0;

  bool is_boundary_face(int f) const { return face_cells(0, f) < 0 || face_cells(1, f) < 0; }
  int n_interior_faces() const;
};

enum class BcKind : char { kNoFlow = 0, kDirichlet = 'D', kNeumann = 'N' };

// Boundary conditions on boundary faces; faces not listed are no-flow.
struct BoundaryConditions {
  std::vector<int> face;       // 0-based face ids
  std::vector<BcKind> kind;
  std::vector<double> value;   // head [m] for Dirichlet, inflow [m^3/d] for Neumann
  double neumann_inflow() const;
  int count(BcKind k) const;
};

struct Site {
  Mesh mesh;
  BoundaryConditions bc;
  std::vector<int> wells;               // 0-based observation cells
  Eigen::VectorXd reference_log_t;      // optional reference field (empty if none)
  std::string source;                   // where it was loaded from
};

// Structured rectangle [0, lx] x [0, ly] with nx x ny cells. Faces: the (nx+1)*ny vertical
// faces first (x-normal), then the nx*(ny+1) horizontal ones.
Mesh make_structured_mesh(int nx, int ny, double lx = 1.0, double ly = 1.0);

struct SideCondition {
  BcKind kind = BcKind::kNoFlow;
  double value = 0.0;  // head, or total inflow over the side (split by face length)
};

struct StructuredSiteOptions {
  int nx = 32;
  int ny = 32;
  double lx = 1.0;
  double ly = 1.0;
  SideCondition west{BcKind::kDirichlet, 1.0};
  SideCondition east{BcKind::kDirichlet, 0.0};
  SideCondition south{};
  SideCondition north{};
};
// Wells default to every cell.
Site make_structured_site(const StructuredSiteOptions& opt);

// Checks indices, sizes and geometry; throws ved::Error naming `where` and the bad entry.
void validate(const Mesh& mesh, const std::string& where);
void validate(const BoundaryConditions& bc, const Mesh& mesh, const std::string& where);

}  // namespace ved
