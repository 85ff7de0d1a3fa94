#pragma once
// Steady confined flow div(T grad h) = 0, T = exp(Y), on a Site with the cell-centred
// two-point flux approximation (docs/method.md §5). The sparsity pattern and its symbolic Cholesky
// factorisation (CHOLMOD) are computed once here; each field then costs one numeric
// factorisation and one solve.
//
//   TpfaSolver solver(site);
//   solver.solve_batch(log_t.data(), n_fields, head.data(), /*threads=*/2);
//
//   auto ws = solver.make_workspace();             // one per thread
//   solver.solve(log_t_row, head_row, *ws);
//
// The solver copies what it needs from the Site; it owns no references to it.
//
// Solvers on the same operator (flow/transient.cpp, flow/transport.cpp) use the steps of
// solve() separately: set_field, factorize (with a diagonal shift), boundary_rhs,
// solve_factored.
#include <memory>
#include <string>
#include <vector>

#include "ved/mesh/mesh.hpp"

namespace ved {

// Geometric half-transmissibility of cell c at face f, per unit T (docs/method.md §5):
// (d_cf . N_f) / |d_cf|^2 with N_f oriented out of c. Throws if it is not positive;
// `where` names the mesh in the message.
double tpfa_half_transmissibility(const Mesh& mesh, int cell, int face, const std::string& where);

struct FluxBalance {
  double neumann_inflow = 0;     // [m^3/d] into the domain through Neumann faces
  double dirichlet_outflow = 0;  // [m^3/d] out of the domain through Dirichlet faces
};

class TpfaSolver {
 public:
  struct Workspace;  // numeric factor + matrix values + solve buffers (CHOLMOD)

  explicit TpfaSolver(const Site& site);
  ~TpfaSolver();
  TpfaSolver(const TpfaSolver&) = delete;
  TpfaSolver& operator=(const TpfaSolver&) = delete;

  int n_cells() const { return n_cells_; }
  size_t factor_nnz() const;  // non-zeros of the Cholesky factor (fill-in)

  std::unique_ptr<Workspace, void (*)(Workspace*)> make_workspace() const;

  // log_t: [cells] natural-log transmissivity; head: [cells] output. The field is
  // centred internally (equivalent scaling, docs/method.md §5) for conditioning.
  void solve(const double* log_t, double* head, Workspace& ws) const;

  // Fields [K, cells] row-major → heads [K, cells]; `threads` workers, each with its own
  // workspace. Results do not depend on the thread count. Errors name field
  // `first_field + k` (for batches that are blocks of a larger set).
  void solve_batch(const double* log_t, size_t n_fields, double* head, int threads, size_t first_field = 0) const;

  // The steps of solve(), for solvers that add storage or sources to the same operator.
  // set_field: centred transmissivities exp(log_t - mean) into ws; returns the mean.
  double set_field(const double* log_t, Workspace& ws) const;
  // factorize: numeric factorisation of A(T_centred) + diag(shift); shift [cells] in cell
  // order, or null for none.
  void factorize(const double* shift, Workspace& ws) const;
  // boundary_rhs: b [cells] of the boundary conditions in centred units (Dirichlet
  // alpha*h_D, Neumann flux * exp(-mean)), for the field last given to set_field.
  void boundary_rhs(double mean, const Workspace& ws, double* b) const;
  // solve_factored: x = (A + diag(shift))^-1 rhs with the factor in ws; [cells], cell order.
  void solve_factored(const double* rhs, double* x, Workspace& ws) const;

  // Boundary fluxes of a solution, for mass-balance checks.
  FluxBalance boundary_fluxes(const double* log_t, const double* head) const;
  // Darcy flux through every face [faces], positive from face_cells(0,f) to face_cells(1,f)
  // (outward on boundary faces).
  std::vector<double> face_fluxes(const double* log_t, const double* head) const;

 private:
  struct Pattern;
  void build_pattern(const std::vector<int>& row_of_cell);
  int n_cells_ = 0;
  int n_faces_ = 0;
  // Interior faces: cells and geometric half-transmissibilities (alpha / T).
  std::vector<int> face_id_, cell1_, cell2_;
  std::vector<double> g1_, g2_;
  // Dirichlet and Neumann faces.
  std::vector<int> dir_face_, dir_cell_;
  std::vector<double> dir_g_, dir_head_;
  std::vector<int> neu_face_, neu_cell_;
  std::vector<double> neu_flux_;
  std::unique_ptr<Pattern> pattern_;
};

}  // namespace ved
