#pragma once
// Solute transport by advection and dispersion (docs/systems.md) in the steady TPFA flow field
// (docs/method.md §5): cell-centred finite volumes, upwind advection on the Darcy face fluxes,
// two-point dispersion with the Scheidegger tensor, backward Euler in time:
//
//   phi b V (c^{n+1} - c^n) / dt + sum_f [ Q_f c_up - phi b D_f g_f (c_nb - c) ] = source
//
// phi porosity, b aquifer thickness [m], V cell area [m^2], Q_f the face flux [m^3/d],
// D_f = alpha_T |v| + (alpha_L - alpha_T) v_n^2 / |v| + D_m at the face (v pore velocity,
// v_n its normal component, taken exactly from Q_f), g_f the TPFA geometric
// transmissibility (harmonic over the two half-faces). Cross terms of the dispersion
// tensor are dropped (exact on K-orthogonal grids with flow along a grid axis). Implicit
// upwind is unconditionally stable, so there is no CFL limit; its numerical dispersion is
// about |v| dx / 2 + |v|^2 dt / 2 (docs/systems.md).
//
// Boundaries: water leaving the domain carries the cell's concentration (no dispersive
// flux: free exit); water entering (Neumann inflow, or Dirichlet faces with inflow)
// carries `inflow_concentration`. With InflowCondition::kFlux (default) that is all: the
// solute flux in is Q c_in (third-type condition, continuous as Q changes sign). With
// kFixed the face also holds c = c_in for dispersion (first-type, Ogata–Banks' condition).
//
//   TransportOptions opt;
//   opt.sources = {{/*cell=*/40, /*value=*/1.0}};     // concentration held at 1 from t = 0
//   TransportSolver solver(site, opt);
//   auto ws = solver.make_workspace();                 // one per thread
//   solver.solve(log_t, obs, breakthrough, arrival, *ws);
//
// Each field costs one steady TPFA solve, one sparse LU factorisation (SuiteSparse KLU,
// ordering analysed once per workspace) per distinct (step size, active held sources), and
// one triangular solve per step.
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "ved/flow/tpfa.hpp"
#include "ved/flow/transient.hpp"  // TimeGrid

namespace ved {

enum class SourceKind {
  kConcentration,  // the cell's concentration is held at `value` while active
  kMassRate,       // `value` [mass/d] enters the cell while active
};

enum class InflowCondition {
  kFlux,   // third type: solute flux in = Q c_in, no dispersion across the boundary
  kFixed,  // first type: c = c_in on inflow faces, for advection and dispersion
};

struct SoluteSource {
  int cell = -1;
  double value = 1.0;
  double start = 0;                                      // [d] active on [start, end)
  double end = std::numeric_limits<double>::infinity();  // [d]
};

struct TransportOptions {
  double porosity = 0.1;                // phi [-], effective
  double thickness = 20;                // b [m] saturated thickness (pore volume phi b V)
  double length_unit = 1.0;             // metres per mesh coordinate unit
  double dispersivity_long = 100;       // alpha_L [m]
  double dispersivity_trans = 10;       // alpha_T [m]
  double diffusion = 0;                 // D_m [m^2/d] molecular diffusion (times tortuosity)
  double total_time = 18250;            // [d] 50 years
  int steps = 50;                       // backward Euler steps
  double dt_growth = 1.0;               // step size ratio between groups of steps (1 = uniform)
  int dt_growth_every = 1;              // steps per group
  int save_every = 5;                   // record every k-th step (steps must be a multiple)
  SourceKind source_kind = SourceKind::kConcentration;
  std::vector<SoluteSource> sources;
  double inflow_concentration = 0;      // of water entering through the boundary
  InflowCondition inflow_condition = InflowCondition::kFlux;
  double threshold = 0.05;              // arrival: first time c exceeds this
  // Pumping (rate < 0) and injection (> 0) wells [m^3/d] at constant rates (the flow is
  // steady): they enter the flow solve as point sources, pumped water leaves with its
  // cell's concentration, injected water carries `injection_concentration`.
  std::vector<WellRate> wells;
  double injection_concentration = 0;
  std::vector<double> initial_concentration;  // [cells]; empty = zero
};

// Mass budget of a run [mass], for conservation checks: final - initial =
// source + boundary_in - boundary_out + wells_in - wells_out up to round-off.
struct TransportBudget {
  double mass_initial = 0;
  double mass_final = 0;
  double source = 0;        // mass added by sources (held-concentration cells: what it took)
  double boundary_in = 0;   // advective + dispersive inflow through inflow faces
  double boundary_out = 0;  // advective outflow through outflow faces
  double wells_in = 0;      // carried in by injection wells
  double wells_out = 0;     // taken out by pumping wells
};

class TransportSolver {
 public:
  struct Workspace;  // TPFA workspace, sparse LU, state vectors

  // Throws ved::Error on invalid options (with the value and the valid range).
  TransportSolver(const Site& site, const TransportOptions& opt);
  ~TransportSolver();
  TransportSolver(const TransportSolver&) = delete;
  TransportSolver& operator=(const TransportSolver&) = delete;

  int n_cells() const { return n_cells_; }
  const TimeGrid& time_grid() const { return grid_; }
  size_t n_saved() const { return grid_.saved.size(); }
  std::vector<double> saved_times() const { return grid_.saved_times(); }  // [saved] days
  const TpfaSolver& flow() const { return flow_; }

  std::unique_ptr<Workspace, void (*)(Workspace*)> make_workspace() const;

  // log_t [cells] -> steady heads -> Darcy fluxes -> concentrations. Outputs (each may be
  // null): breakthrough [obs, saved] row-major, c at the obs cells after each saved step;
  // arrival [obs], the first time c exceeds `threshold` (linear between steps; +inf if it
  // never does); head [cells] the steady heads; final [cells] c(total_time); budget.
  void solve(const double* log_t, const std::vector<int>& obs, double* breakthrough, double* arrival,
             Workspace& ws, double* head = nullptr, double* final = nullptr,
             TransportBudget* budget = nullptr) const;

  // The same from given face fluxes [faces] (m^3/d, positive from face_cells(0, f) to
  // face_cells(1, f), outward on boundary faces: TpfaSolver::face_fluxes).
  void solve_fluxes(const double* face_flux, const std::vector<int>& obs, double* breakthrough, double* arrival,
                    Workspace& ws, double* final = nullptr, TransportBudget* budget = nullptr) const;

 private:
  // Set-up steps of the constructor.
  void build_geometry(const Site& site);
  void build_pattern();
  void schedule_sources();
  // Steps of solve_fluxes: checks, cell velocities, face dispersion and boundary terms, the
  // initial state, then per time step assemble (when dt or the held sources change),
  // take_step, record_arrivals and add_step_budget.
  void check_inputs(const double* face_flux, const std::vector<int>& obs) const;
  void cell_velocities(const double* face_flux, Workspace& ws) const;
  void face_dispersion(const double* face_flux, Workspace& ws) const;
  void start_state(const std::vector<int>& obs, double* arrival, Workspace& ws, TransportBudget* budget) const;
  void assemble(const double* face_flux, double dt, const std::vector<char>& held, Workspace& ws) const;
  void take_step(size_t k, Workspace& ws) const;
  void record_arrivals(size_t k, const std::vector<int>& obs, double* arrival, const Workspace& ws) const;
  void add_step_budget(size_t k, const double* face_flux, Workspace& ws, TransportBudget& budget) const;
  int n_cells_ = 0;
  TpfaSolver flow_;
  TransportOptions opt_;
  TimeGrid grid_;
  // Geometry in metres.
  std::vector<double> pore_volume_;              // [cells] phi b V [m^3]
  std::vector<int> face_c1_, face_c2_;           // [faces] adjacent cells (-1 none)
  std::vector<double> face_g_;                   // [faces] geometric transmissibility (harmonic; boundary: half)
  std::vector<double> face_len_;                 // [faces] length [m]
  std::vector<double> face_nx_, face_ny_;        // [faces] unit normal, face_cells(0) -> (1)
  std::vector<double> cell_dx_, cell_dy_;        // [faces*2] face centroid - cell centroid [m], per side
  // Sparse pattern: value positions of the diagonal and of the two off-diagonal entries
  // of each interior face.
  std::vector<int> diag_pos_, off12_pos_, off21_pos_;
  std::vector<int> held_cell_;                   // cells of concentration sources (may repeat)
  std::vector<std::vector<char>> step_held_;     // [steps][held source] active
  std::vector<std::vector<std::pair<int, double>>> step_mass_;  // [steps] (cell, mean rate)
  std::vector<std::pair<int, double>> well_q_;   // (cell, net well rate [m^3/d]), one entry per cell
  struct Pattern;
  std::shared_ptr<const Pattern> pattern_;
};

}  // namespace ved
