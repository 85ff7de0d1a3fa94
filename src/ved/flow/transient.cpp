#include "ved/flow/transient.hpp"

#include <algorithm>
#include <cmath>

#include "ved/util/error.hpp"

namespace ved {

std::vector<double> TimeGrid::saved_times() const {
  std::vector<double> t;
  for (int k : saved) t.push_back(t_end[k]);
  return t;
}

TimeGrid make_time_grid(double total_time, int steps, double growth, int growth_every, int save_every,
                        const std::string& what) {
  VED_CHECK(std::isfinite(total_time) && total_time > 0,
            what << ": total time " << total_time << " must be positive and finite [d]");
  VED_CHECK(steps >= 1 && steps <= 1000000, what << ": steps " << steps << " out of range [1, 1000000]");
  VED_CHECK(std::isfinite(growth) && growth >= 0.5 && growth <= 2.0,
            what << ": step growth " << growth << " out of range [0.5, 2] (1 = uniform steps)");
  VED_CHECK(growth_every >= 1, what << ": steps per step size " << growth_every << " must be at least 1");
  VED_CHECK(save_every >= 1 && steps % save_every == 0,
            what << ": save every " << save_every << " steps must divide the " << steps << " steps");
  TimeGrid g;
  g.dt.resize(steps);
  // dt_k = dt_0 growth^(k / growth_every) (integer division), summing to total_time.
  double sum = 0;
  for (int k = 0; k < steps; ++k) sum += std::pow(growth, k / growth_every);
  const double dt0 = total_time / sum;
  for (int k = 0; k < steps; ++k) g.dt[k] = dt0 * std::pow(growth, k / growth_every);
  g.t_end.resize(steps);
  double t = 0;
  for (int k = 0; k < steps; ++k) g.t_end[k] = (t += g.dt[k]);
  g.t_end.back() = total_time;  // no drift from the summation
  std::vector<double> sizes;
  g.dt_id.resize(steps);
  for (int k = 0; k < steps; ++k) {
    auto it = std::find(sizes.begin(), sizes.end(), g.dt[k]);
    g.dt_id[k] = static_cast<int>(it - sizes.begin());
    if (it == sizes.end()) sizes.push_back(g.dt[k]);
  }
  g.n_sizes = static_cast<int>(sizes.size());
  for (int k = save_every - 1; k < steps; k += save_every) g.saved.push_back(k);
  return g;
}

double interval_overlap(double a0, double a1, double b0, double b1) {
  return std::max(0.0, std::min(a1, b1) - std::max(a0, b0));
}

struct TransientSolver::Workspace {
  std::unique_ptr<TpfaSolver::Workspace, void (*)(TpfaSolver::Workspace*)> tpfa{nullptr, nullptr};
  std::vector<double> h, b, rhs, shift;  // [cells]
};

namespace {
void delete_workspace(TransientSolver::Workspace* ws) { delete ws; }
}  // namespace

TransientSolver::TransientSolver(const Site& site, const TransientOptions& opt)
    : steady_(site), opt_(opt), grid_(make_time_grid(opt.total_time, opt.steps, opt.dt_growth, opt.dt_growth_every, opt.save_every,
                                                     "transient")) {
  const Mesh& m = site.mesh;
  const int n = m.n_cells;
  VED_CHECK(std::isfinite(opt.length_unit) && opt.length_unit > 0,
            "transient: length unit " << opt.length_unit << " must be positive [m per mesh unit]");
  VED_CHECK(opt.storativity_field.empty() || static_cast<int>(opt.storativity_field.size()) == n,
            "transient: storativity field has " << opt.storativity_field.size() << " values; the mesh has " << n
                                                << " cells");
  storage_.resize(n);
  for (int c = 0; c < n; ++c) {
    double s = opt.storativity_field.empty() ? opt.storativity : opt.storativity_field[c];
    VED_CHECK(std::isfinite(s) && s > 0 && s <= 1,
              "transient: storativity " << s << " of cell " << c << " out of range (0, 1]");
    storage_[c] = s * m.cell_volumes[c] * opt.length_unit * opt.length_unit;
  }
  VED_CHECK(opt.initial_head.empty() || static_cast<int>(opt.initial_head.size()) == n,
            "transient: initial head has " << opt.initial_head.size() << " values; the mesh has " << n << " cells");
  for (const WellRate& w : opt.wells) {
    VED_CHECK(w.cell >= 0 && w.cell < n, "transient: well cell " << w.cell << " out of range [0, " << n << ")");
    VED_CHECK(std::isfinite(w.rate), "transient: well rate " << w.rate << " at cell " << w.cell << " is not finite");
    VED_CHECK(w.start >= 0 && w.end > w.start,
              "transient: well at cell " << w.cell << " is active on [" << w.start << ", " << w.end
                                         << "); need 0 <= start < end");
  }
  // Mean rate of each well over each step: the exact integral of the piecewise-constant
  // schedule, so schedule changes need not fall on step boundaries.
  step_q_.resize(grid_.dt.size());
  for (size_t k = 0; k < grid_.dt.size(); ++k) {
    double t1 = grid_.t_end[k], t0 = t1 - grid_.dt[k];
    for (const WellRate& w : opt.wells) {
      double overlap = interval_overlap(t0, t1, w.start, w.end);
      if (overlap > 0) step_q_[k].emplace_back(w.cell, w.rate * overlap / grid_.dt[k]);
    }
  }
}

TransientSolver::~TransientSolver() = default;

std::unique_ptr<TransientSolver::Workspace, void (*)(TransientSolver::Workspace*)>
TransientSolver::make_workspace() const {
  std::unique_ptr<Workspace, void (*)(Workspace*)> ws(new Workspace, delete_workspace);
  ws->tpfa = steady_.make_workspace();
  const int n = n_cells();
  ws->h.resize(n);
  ws->b.resize(n);
  ws->rhs.resize(n);
  ws->shift.resize(n);
  return ws;
}

void TransientSolver::solve(const double* log_t, const std::vector<int>& obs, double* y, Workspace& ws,
                            double* initial_head, double* final_head) const {
  const int n = n_cells();
  for (int c : obs) VED_CHECK(c >= 0 && c < n, "transient: observation cell " << c << " out of range [0, " << n << ")");
  // Centred units (docs/method.md §5): the equation divided by exp(mean) keeps the matrix well scaled.
  const double mean = steady_.set_field(log_t, *ws.tpfa);
  const double scale = std::exp(-mean);
  steady_.boundary_rhs(mean, *ws.tpfa, ws.b.data());
  if (opt_.initial_head.empty()) {
    steady_.factorize(nullptr, *ws.tpfa);
    steady_.solve_factored(ws.b.data(), ws.h.data(), *ws.tpfa);
  } else {
    std::copy(opt_.initial_head.begin(), opt_.initial_head.end(), ws.h.begin());
  }
  if (initial_head) std::copy(ws.h.begin(), ws.h.end(), initial_head);
  const size_t n_saved = grid_.saved.size();
  size_t next_save = 0;
  int factored = -1;  // dt_id of the current factor
  for (size_t k = 0; k < grid_.dt.size(); ++k) {
    if (grid_.dt_id[k] != factored) {
      for (int c = 0; c < n; ++c) ws.shift[c] = storage_[c] * scale / grid_.dt[k];
      steady_.factorize(ws.shift.data(), *ws.tpfa);
      factored = grid_.dt_id[k];
    }
    for (int c = 0; c < n; ++c) ws.rhs[c] = ws.shift[c] * ws.h[c] + ws.b[c];
    for (const auto& [cell, q] : step_q_[k]) ws.rhs[cell] += q * scale;
    steady_.solve_factored(ws.rhs.data(), ws.h.data(), *ws.tpfa);
    if (next_save < n_saved && grid_.saved[next_save] == static_cast<int>(k)) {
      for (size_t i = 0; i < obs.size(); ++i) y[i * n_saved + next_save] = ws.h[obs[i]];
      ++next_save;
    }
  }
  if (final_head) std::copy(ws.h.begin(), ws.h.end(), final_head);
}

}  // namespace ved
