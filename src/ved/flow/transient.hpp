#pragma once
// Transient confined flow S dh/dt = div(T grad h) + q (docs/systems.md) on the TPFA operator
// of TpfaSolver (docs/method.md §5), implicit Euler in time:
//
//   (S V / dt + A) h^{n+1} = S V / dt h^n + b + q^{n+1/2}
//
// with A, b the steady operator and boundary terms, S V the storage of each cell [m^2] and
// q the wells' rates averaged over the step. Each field costs one numeric factorisation per
// distinct step size (one in all with uniform steps) plus one for the initial steady state.
//
//   TransientOptions opt;
//   opt.total_time = 30;  opt.steps = 20;  opt.dt_growth = 2;  opt.dt_growth_every = 4;
//   opt.wells = {{/*cell=*/512, /*rate=*/-2000}};       // pumping 2000 m^3/d from t = 0
//   TransientSolver solver(site, opt);
//   auto ws = solver.make_workspace();                   // one per thread
//   solver.solve(log_t, obs_cells, y, *ws);              // y [obs, saved times]
//
// Units: T in m^2/d (as the Neumann fluxes are in m^3/d), time in days, cell areas in
// (length_unit m)^2. The solver copies what it needs from the Site.
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "ved/flow/tpfa.hpp"

namespace ved {

// Step sizes of a run: `steps` steps over `total_time`, the size multiplied by `growth`
// after every `growth_every` steps (growth 1 = uniform), and the steps after which the
// state is recorded (every `save_every`-th). Steps of equal size share one factorisation,
// so growth_every > 1 trades time resolution for fewer factorisations.
struct TimeGrid {
  std::vector<double> dt;     // [steps] step sizes
  std::vector<double> t_end;  // [steps] time at the end of each step
  std::vector<int> dt_id;     // [steps] index of the step's size among the distinct sizes
  int n_sizes = 0;            // distinct step sizes (numeric factorisations per field)
  std::vector<int> saved;     // steps after which outputs are recorded
  std::vector<double> saved_times() const;
};
// `what` prefixes error messages (e.g. "transient").
TimeGrid make_time_grid(double total_time, int steps, double growth, int growth_every, int save_every,
                        const std::string& what);

// Length of the overlap of [a0, a1) and [b0, b1).
double interval_overlap(double a0, double a1, double b0, double b1);

// One piece of a well's piecewise-constant schedule: `rate` on [start, end). A well with a
// schedule is several entries on the same cell; entries on one cell add up.
struct WellRate {
  int cell = -1;                                        // 0-based cell
  double rate = 0;                                      // [m^3/d] > 0 injection, < 0 pumping
  double start = 0;                                     // [d]
  double end = std::numeric_limits<double>::infinity(); // [d]
};

struct TransientOptions {
  double storativity = 1e-4;              // S [-] in every cell, unless storativity_field is set
  std::vector<double> storativity_field;  // [cells] optional S per cell
  double length_unit = 1.0;               // metres per mesh coordinate unit
  double total_time = 30;                 // [d] (Hanford: drawdown near steady after ~25 d)
  int steps = 20;                         // implicit Euler steps
  double dt_growth = 2.0;                 // step size ratio between groups of steps (1 = uniform)
  int dt_growth_every = 4;                // steps per group (5 sizes: 0.24, 0.48, ... 3.9 d)
  int save_every = 2;                     // record every k-th step (steps must be a multiple)
  std::vector<WellRate> wells;            // sources and sinks
  std::vector<double> initial_head;       // [cells] h(0); empty = steady state without wells
};

class TransientSolver {
 public:
  struct Workspace;  // TPFA workspace + state vectors

  // Throws ved::Error on invalid options (with the value and the valid range).
  TransientSolver(const Site& site, const TransientOptions& opt);
  ~TransientSolver();
  TransientSolver(const TransientSolver&) = delete;
  TransientSolver& operator=(const TransientSolver&) = delete;

  int n_cells() const { return steady_.n_cells(); }
  const TimeGrid& time_grid() const { return grid_; }
  size_t n_saved() const { return grid_.saved.size(); }
  std::vector<double> saved_times() const { return grid_.saved_times(); }  // [saved] days
  const TpfaSolver& steady() const { return steady_; }
  // Storage coefficient S V of each cell [m^2].
  const std::vector<double>& storage() const { return storage_; }
  // Well rates of each step: (cell, rate averaged over the step) pairs [steps][entries].
  const std::vector<std::vector<std::pair<int, double>>>& step_sources() const { return step_q_; }

  std::unique_ptr<Workspace, void (*)(Workspace*)> make_workspace() const;

  // log_t [cells] -> heads at `obs` cells after each saved step: y [obs, saved] row-major
  // (y[i * n_saved + k]). initial_head [cells] receives h(0) and final_head h(total_time)
  // when not null.
  void solve(const double* log_t, const std::vector<int>& obs, double* y, Workspace& ws,
             double* initial_head = nullptr, double* final_head = nullptr) const;

 private:
  TpfaSolver steady_;
  TransientOptions opt_;
  TimeGrid grid_;
  std::vector<double> storage_;                            // [cells] S V [m^2]
  std::vector<std::vector<std::pair<int, double>>> step_q_;  // [steps] (cell, rate)
};

}  // namespace ved
