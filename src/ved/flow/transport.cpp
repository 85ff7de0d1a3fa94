#include "ved/flow/transport.hpp"

#include <klu.h>

#include <Eigen/SparseCore>
#include <algorithm>
#include <cmath>

#include "ved/util/error.hpp"

namespace ved {

using SparseMatrix = Eigen::SparseMatrix<double>;  // column-major

struct TransportSolver::Pattern {
  SparseMatrix a;                       // [cells, cells] all entries the scheme can touch
  std::vector<std::vector<int>> row_pos;  // [cells] value positions of the entries of row c
};

struct TransportSolver::Workspace {
  std::unique_ptr<TpfaSolver::Workspace, void (*)(TpfaSolver::Workspace*)> tpfa{nullptr, nullptr};
  SparseMatrix a;
  // KLU (SuiteSparse): ordering analysed once per workspace, a fresh numeric factorisation
  // with partial pivoting per matrix (no refactor with stale pivots: results must not
  // depend on which fields a thread saw before).
  klu_common common;
  klu_symbolic* symbolic = nullptr;
  klu_numeric* numeric = nullptr;
  std::vector<double> head;        // [cells] steady heads
  std::vector<double> disp;        // [faces] dispersive conductance phi b D_f g_f [m^3/d]
  std::vector<double> bc_rhs;      // [cells] inflow through the boundary and injection wells [mass/d]
  std::vector<double> flow_rhs;    // [cells] steady flow right-hand side with the wells
  Eigen::VectorXd c, c_old, rhs;   // [cells]
  std::vector<double> vx, vy;      // [cells] pore velocity [m/d]
  std::vector<double> net_out;     // [cells] budget scratch
  ~Workspace() {
    if (numeric) klu_free_numeric(&numeric, &common);
    if (symbolic) klu_free_symbolic(&symbolic, &common);
  }
};

namespace {
void delete_workspace(TransportSolver::Workspace* ws) { delete ws; }

// Every scalar option and every source, against the mesh's n cells.
void check_options(const TransportOptions& opt, int n) {
  const double L = opt.length_unit;
  VED_CHECK(std::isfinite(L) && L > 0, "transport: length unit " << L << " must be positive [m per mesh unit]");
  VED_CHECK(opt.porosity > 0 && opt.porosity <= 1, "transport: porosity " << opt.porosity << " out of range (0, 1]");
  VED_CHECK(std::isfinite(opt.thickness) && opt.thickness > 0,
            "transport: thickness " << opt.thickness << " must be positive [m]");
  VED_CHECK(std::isfinite(opt.dispersivity_long) && opt.dispersivity_long >= 0 &&
                std::isfinite(opt.dispersivity_trans) && opt.dispersivity_trans >= 0,
            "transport: dispersivities (longitudinal " << opt.dispersivity_long << ", transverse "
                                                       << opt.dispersivity_trans << ") must be >= 0 [m]");
  VED_CHECK(std::isfinite(opt.diffusion) && opt.diffusion >= 0,
            "transport: diffusion " << opt.diffusion << " must be >= 0 [m^2/d]");
  VED_CHECK(std::isfinite(opt.inflow_concentration), "transport: inflow concentration " << opt.inflow_concentration
                                                                                       << " is not finite");
  VED_CHECK(std::isfinite(opt.threshold), "transport: arrival threshold " << opt.threshold << " is not finite");
  VED_CHECK(opt.initial_concentration.empty() || static_cast<int>(opt.initial_concentration.size()) == n,
            "transport: initial concentration has " << opt.initial_concentration.size() << " values; the mesh has "
                                                    << n << " cells");
  VED_CHECK(std::isfinite(opt.injection_concentration),
            "transport: injection concentration " << opt.injection_concentration << " is not finite");
}

void check_sources(const TransportOptions& opt, int n) {
  for (const SoluteSource& s : opt.sources) {
    VED_CHECK(s.cell >= 0 && s.cell < n, "transport: source cell " << s.cell << " out of range [0, " << n << ")");
    VED_CHECK(std::isfinite(s.value), "transport: source value " << s.value << " at cell " << s.cell
                                                                 << " is not finite");
    VED_CHECK(s.start >= 0 && s.end > s.start, "transport: source at cell " << s.cell << " is active on ["
                                                                            << s.start << ", " << s.end
                                                                            << "); need 0 <= start < end");
  }
}

// The net constant rate of each cell with wells, one entry per cell with a non-zero net.
std::vector<std::pair<int, double>> net_well_rates(const std::vector<WellRate>& wells, int n) {
  std::vector<double> net(static_cast<size_t>(n), 0.0);
  std::vector<char> used(static_cast<size_t>(n), 0);
  for (const WellRate& w : wells) {
    VED_CHECK(w.cell >= 0 && w.cell < n, "transport: well cell " << w.cell << " out of range [0, " << n << ")");
    VED_CHECK(std::isfinite(w.rate), "transport: well rate " << w.rate << " at cell " << w.cell << " is not finite");
    VED_CHECK(w.start == 0 && std::isinf(w.end),
              "transport: the well at cell " << w.cell << " has a schedule [" << w.start << ", " << w.end
                                             << ") d; with solute transport the flow is steady, so wells pump at "
                                                "constant rates (give CELL:RATE)");
    net[w.cell] += w.rate;
    used[w.cell] = 1;
  }
  std::vector<std::pair<int, double>> out;
  for (int cell = 0; cell < n; ++cell)
    if (used[cell] && net[cell] != 0) out.emplace_back(cell, net[cell]);
  return out;
}
}  // namespace

TransportSolver::TransportSolver(const Site& site, const TransportOptions& opt)
    : flow_(site), opt_(opt), grid_(make_time_grid(opt.total_time, opt.steps, opt.dt_growth, opt.dt_growth_every, opt.save_every,
                                                   "transport")) {
  n_cells_ = site.mesh.n_cells;
  check_options(opt, n_cells_);
  well_q_ = net_well_rates(opt.wells, n_cells_);
  check_sources(opt, n_cells_);
  build_geometry(site);
  build_pattern();
  schedule_sources();
}

// Pore volumes and face geometry in metres; the geometric transmissibility of interior
// faces (harmonic) and of boundary-condition faces (half).
void TransportSolver::build_geometry(const Site& site) {
  const Mesh& m = site.mesh;
  const int n = n_cells_;
  const double L = opt_.length_unit;
  pore_volume_.resize(n);
  for (int c = 0; c < n; ++c) pore_volume_[c] = opt_.porosity * opt_.thickness * m.cell_volumes[c] * L * L;
  const int nf = m.n_faces;
  face_c1_.resize(nf);
  face_c2_.resize(nf);
  face_g_.assign(nf, 0.0);
  face_len_.resize(nf);
  face_nx_.resize(nf);
  face_ny_.resize(nf);
  cell_dx_.assign(2 * nf, 0.0);
  cell_dy_.assign(2 * nf, 0.0);
  std::vector<char> bc_face(nf, 0);
  for (int f : site.bc.face) bc_face[f] = 1;
  for (int f = 0; f < nf; ++f) {
    face_c1_[f] = m.face_cells(0, f);
    face_c2_[f] = m.face_cells(1, f);
    face_len_[f] = m.face_areas[f] * L;
    Eigen::Vector2d nrm = m.face_normals.col(f).normalized();
    face_nx_[f] = nrm.x();
    face_ny_[f] = nrm.y();
    for (int s = 0; s < 2; ++s) {
      int c = m.face_cells(s, f);
      if (c < 0) continue;
      cell_dx_[2 * f + s] = (m.face_centroids(0, f) - m.cell_centroids(0, c)) * L;
      cell_dy_[2 * f + s] = (m.face_centroids(1, f) - m.cell_centroids(1, c)) * L;
    }
    // The geometric factor is scale-free in 2-D; no-flow boundary faces never need it.
    if (!m.is_boundary_face(f)) {
      double g1 = tpfa_half_transmissibility(m, face_c1_[f], f, site.source);
      double g2 = tpfa_half_transmissibility(m, face_c2_[f], f, site.source);
      face_g_[f] = g1 * g2 / (g1 + g2);
    } else if (bc_face[f]) {
      face_g_[f] = tpfa_half_transmissibility(m, face_c1_[f] >= 0 ? face_c1_[f] : face_c2_[f], f, site.source);
    }
  }
}

// Sparse pattern: the diagonal and both off-diagonals of every interior face, and where
// their values sit.
void TransportSolver::build_pattern() {
  const int n = n_cells_;
  const int nf = static_cast<int>(face_c1_.size());
  auto pattern = std::make_shared<Pattern>();
  std::vector<Eigen::Triplet<double>> trip;
  for (int c = 0; c < n; ++c) trip.emplace_back(c, c, 0.0);
  for (int f = 0; f < nf; ++f) {
    if (face_c1_[f] < 0 || face_c2_[f] < 0) continue;
    trip.emplace_back(face_c1_[f], face_c2_[f], 0.0);
    trip.emplace_back(face_c2_[f], face_c1_[f], 0.0);
  }
  pattern->a.resize(n, n);
  pattern->a.setFromTriplets(trip.begin(), trip.end());
  pattern->a.makeCompressed();
  const SparseMatrix& a = pattern->a;
  auto pos = [&](int r, int c) {
    for (int p = a.outerIndexPtr()[c]; p < a.outerIndexPtr()[c + 1]; ++p)
      if (a.innerIndexPtr()[p] == r) return p;
    VED_FAIL("transport: internal error, entry (" << r << ", " << c << ") missing from the pattern");
  };
  diag_pos_.resize(n);
  pattern->row_pos.resize(n);
  for (int c = 0; c < n; ++c) pattern->row_pos[c].push_back(diag_pos_[c] = pos(c, c));
  off12_pos_.assign(nf, -1);
  off21_pos_.assign(nf, -1);
  for (int f = 0; f < nf; ++f) {
    if (face_c1_[f] < 0 || face_c2_[f] < 0) continue;
    off12_pos_[f] = pos(face_c1_[f], face_c2_[f]);
    off21_pos_[f] = pos(face_c2_[f], face_c1_[f]);
    pattern->row_pos[face_c1_[f]].push_back(off12_pos_[f]);
    pattern->row_pos[face_c2_[f]].push_back(off21_pos_[f]);
  }
  pattern_ = pattern;
}

// Sources per step: held-concentration sources active at the end of the step (the
// implicit state), mass rates averaged over the step.
void TransportSolver::schedule_sources() {
  const size_t n_steps = grid_.dt.size();
  step_held_.assign(n_steps, {});
  step_mass_.assign(n_steps, {});
  for (const SoluteSource& s : opt_.sources)
    if (opt_.source_kind == SourceKind::kConcentration) held_cell_.push_back(s.cell);
  for (size_t k = 0; k < n_steps; ++k) {
    double t1 = grid_.t_end[k], t0 = t1 - grid_.dt[k];
    for (const SoluteSource& s : opt_.sources) {
      if (opt_.source_kind == SourceKind::kConcentration) {
        step_held_[k].push_back(t1 > s.start && t1 <= s.end ? 1 : 0);
      } else {
        double overlap = interval_overlap(t0, t1, s.start, s.end);
        if (overlap > 0) step_mass_[k].emplace_back(s.cell, s.value * overlap / grid_.dt[k]);
      }
    }
  }
}

TransportSolver::~TransportSolver() = default;

std::unique_ptr<TransportSolver::Workspace, void (*)(TransportSolver::Workspace*)>
TransportSolver::make_workspace() const {
  std::unique_ptr<Workspace, void (*)(Workspace*)> ws(new Workspace, delete_workspace);
  ws->tpfa = flow_.make_workspace();
  ws->a = pattern_->a;
  klu_defaults(&ws->common);
  ws->symbolic = klu_analyze(n_cells_, ws->a.outerIndexPtr(), ws->a.innerIndexPtr(), &ws->common);
  VED_CHECK(ws->symbolic, "transport: KLU analysis of the " << n_cells_ << "x" << n_cells_
                                                           << " pattern failed (status " << ws->common.status << ")");
  const int n = n_cells_;
  ws->head.resize(n);
  ws->disp.resize(face_c1_.size());
  ws->bc_rhs.resize(n);
  ws->c.resize(n);
  ws->c_old.resize(n);
  ws->rhs.resize(n);
  ws->vx.resize(n);
  ws->vy.resize(n);
  ws->net_out.resize(n);
  return ws;
}

void TransportSolver::assemble(const double* q, double dt, const std::vector<char>& held, Workspace& ws) const {
  const int n = n_cells_;
  double* val = ws.a.valuePtr();
  std::fill(val, val + ws.a.nonZeros(), 0.0);
  for (int c = 0; c < n; ++c) val[diag_pos_[c]] = pore_volume_[c] / dt;
  const int nf = static_cast<int>(face_c1_.size());
  const bool fixed = opt_.inflow_condition == InflowCondition::kFixed;
  for (int f = 0; f < nf; ++f) {
    const int c1 = face_c1_[f], c2 = face_c2_[f];
    if (c1 >= 0 && c2 >= 0) {
      // Upwind advection: the flux leaves the upstream cell with its concentration.
      if (q[f] > 0) {
        val[diag_pos_[c1]] += q[f];
        val[off21_pos_[f]] -= q[f];
      } else {
        val[diag_pos_[c2]] -= q[f];
        val[off12_pos_[f]] += q[f];
      }
      const double d = ws.disp[f];
      val[diag_pos_[c1]] += d;
      val[diag_pos_[c2]] += d;
      val[off12_pos_[f]] -= d;
      val[off21_pos_[f]] -= d;
    } else {
      const int c = c1 >= 0 ? c1 : c2;
      if (q[f] > 0) val[diag_pos_[c]] += q[f];                  // outflow with the cell's concentration
      else if (q[f] < 0 && fixed) val[diag_pos_[c]] += ws.disp[f];  // dispersion to c_in on the face
    }
  }
  // Pumping wells: the water they take leaves with the cell's concentration.
  for (const auto& [cell, rate] : well_q_)
    if (rate < 0) val[diag_pos_[cell]] -= rate;
  // Held concentrations: the row becomes (V_pore / dt) c = (V_pore / dt) value, scaled like
  // its neighbours' rows.
  for (size_t i = 0; i < held_cell_.size(); ++i) {
    if (!held[i]) continue;
    const int c = held_cell_[i];
    for (int p : pattern_->row_pos[c]) val[p] = 0.0;
    val[diag_pos_[c]] = pore_volume_[c] / dt;
  }
  if (ws.numeric) klu_free_numeric(&ws.numeric, &ws.common);
  ws.numeric = klu_factor(ws.a.outerIndexPtr(), ws.a.innerIndexPtr(), val, ws.symbolic, &ws.common);
  VED_CHECK(ws.numeric && ws.common.status == KLU_OK,
            "transport: sparse LU factorisation failed (KLU status " << ws.common.status
                                                                     << (ws.common.status == KLU_SINGULAR ? ": singular" : "")
                                                                     << ")");
}

void TransportSolver::solve(const double* log_t, const std::vector<int>& obs, double* breakthrough, double* arrival,
                            Workspace& ws, double* head, double* final, TransportBudget* budget) const {
  if (well_q_.empty()) {
    flow_.solve(log_t, ws.head.data(), *ws.tpfa);
  } else {
    // Steady flow with the wells as point sources (centred units: rates times exp(-mean)).
    const double mean = flow_.set_field(log_t, *ws.tpfa);
    flow_.factorize(nullptr, *ws.tpfa);
    ws.flow_rhs.resize(static_cast<size_t>(n_cells_));
    flow_.boundary_rhs(mean, *ws.tpfa, ws.flow_rhs.data());
    for (const auto& [cell, rate] : well_q_) ws.flow_rhs[cell] += rate * std::exp(-mean);
    flow_.solve_factored(ws.flow_rhs.data(), ws.head.data(), *ws.tpfa);
  }
  if (head) std::copy(ws.head.begin(), ws.head.end(), head);
  std::vector<double> q = flow_.face_fluxes(log_t, ws.head.data());
  solve_fluxes(q.data(), obs, breakthrough, arrival, ws, final, budget);
}

void TransportSolver::solve_fluxes(const double* q, const std::vector<int>& obs, double* breakthrough,
                                   double* arrival, Workspace& ws, double* final, TransportBudget* budget) const {
  check_inputs(q, obs);
  cell_velocities(q, ws);
  face_dispersion(q, ws);
  start_state(obs, arrival, ws, budget);
  const int n = n_cells_;
  const size_t n_saved = grid_.saved.size();
  int factored_dt = -1;
  const std::vector<char>* factored_held = nullptr;
  size_t next_save = 0;
  for (size_t k = 0; k < grid_.dt.size(); ++k) {
    const double dt = grid_.dt[k];
    // The matrix depends only on the step length and on which sources are held.
    if (grid_.dt_id[k] != factored_dt || !factored_held || *factored_held != step_held_[k]) {
      assemble(q, dt, step_held_[k], ws);
      factored_dt = grid_.dt_id[k];
      factored_held = &step_held_[k];
    }
    take_step(k, ws);
    if (arrival) record_arrivals(k, obs, arrival, ws);
    if (breakthrough && next_save < n_saved && grid_.saved[next_save] == static_cast<int>(k)) {
      for (size_t i = 0; i < obs.size(); ++i) breakthrough[i * n_saved + next_save] = ws.c[obs[i]];
      ++next_save;
    }
    if (budget) add_step_budget(k, q, ws, *budget);
  }
  if (budget)
    for (int c = 0; c < n; ++c) budget->mass_final += pore_volume_[c] * ws.c[c];
  if (final) std::copy(ws.c.data(), ws.c.data() + n, final);
}

void TransportSolver::check_inputs(const double* q, const std::vector<int>& obs) const {
  const int n = n_cells_;
  const int nf = static_cast<int>(face_c1_.size());
  for (int c : obs) VED_CHECK(c >= 0 && c < n, "transport: observation cell " << c << " out of range [0, " << n << ")");
  for (int f = 0; f < nf; ++f)
    VED_CHECK(std::isfinite(q[f]), "transport: flux of face " << f << " is " << q[f]);
}

// Pore velocity per cell from the face fluxes: (1/V) sum_f Q_f,out (x_f - x_c) is the
// mean Darcy flux over the cell (exact for uniform flow on any polygon).
void TransportSolver::cell_velocities(const double* q, Workspace& ws) const {
  const int n = n_cells_;
  const int nf = static_cast<int>(face_c1_.size());
  const double phib = opt_.porosity * opt_.thickness;
  std::fill(ws.vx.begin(), ws.vx.end(), 0.0);
  std::fill(ws.vy.begin(), ws.vy.end(), 0.0);
  for (int f = 0; f < nf; ++f) {
    if (face_c1_[f] >= 0) {
      ws.vx[face_c1_[f]] += q[f] * cell_dx_[2 * f];
      ws.vy[face_c1_[f]] += q[f] * cell_dy_[2 * f];
    }
    if (face_c2_[f] >= 0) {
      ws.vx[face_c2_[f]] -= q[f] * cell_dx_[2 * f + 1];
      ws.vy[face_c2_[f]] -= q[f] * cell_dy_[2 * f + 1];
    }
  }
  for (int c = 0; c < n; ++c) {
    double w = pore_volume_[c] / phib;  // cell area [m^2]
    ws.vx[c] /= w * phib;
    ws.vy[c] /= w * phib;
  }
}

// Dispersive conductance of each face (tangential velocity from the adjacent cells, normal
// velocity exactly from the face flux), and the boundary inflow and injection terms of the
// right-hand side.
void TransportSolver::face_dispersion(const double* q, Workspace& ws) const {
  const int nf = static_cast<int>(face_c1_.size());
  const double phib = opt_.porosity * opt_.thickness;
  std::fill(ws.bc_rhs.begin(), ws.bc_rhs.end(), 0.0);
  const double cin = opt_.inflow_concentration;
  const bool fixed = opt_.inflow_condition == InflowCondition::kFixed;
  for (int f = 0; f < nf; ++f) {
    const int c1 = face_c1_[f], c2 = face_c2_[f];
    if (face_g_[f] == 0) {
      ws.disp[f] = 0;
      continue;
    }
    double vx, vy;
    if (c1 >= 0 && c2 >= 0) {
      vx = 0.5 * (ws.vx[c1] + ws.vx[c2]);
      vy = 0.5 * (ws.vy[c1] + ws.vy[c2]);
    } else {
      const int c = c1 >= 0 ? c1 : c2;
      vx = ws.vx[c];
      vy = ws.vy[c];
    }
    const double vn = q[f] / (phib * face_len_[f]);
    const double vt_x = vx - (vx * face_nx_[f] + vy * face_ny_[f]) * face_nx_[f];
    const double vt_y = vy - (vx * face_nx_[f] + vy * face_ny_[f]) * face_ny_[f];
    const double speed = std::sqrt(vn * vn + vt_x * vt_x + vt_y * vt_y);
    double d = opt_.diffusion;
    if (speed > 0) d += opt_.dispersivity_trans * speed + (opt_.dispersivity_long - opt_.dispersivity_trans) * vn * vn / speed;
    ws.disp[f] = phib * d * face_g_[f];
    if (c1 >= 0 && c2 >= 0) continue;
    if (!fixed) ws.disp[f] = 0;  // third type: no dispersive flux across the boundary
    if (q[f] < 0) ws.bc_rhs[c1 >= 0 ? c1 : c2] += (-q[f] + ws.disp[f]) * cin;
  }
  for (const auto& [cell, rate] : well_q_)
    if (rate > 0) ws.bc_rhs[cell] += rate * opt_.injection_concentration;
}

// The initial concentration, arrivals already past the threshold, the initial mass.
void TransportSolver::start_state(const std::vector<int>& obs, double* arrival, Workspace& ws,
                                  TransportBudget* budget) const {
  const int n = n_cells_;
  if (opt_.initial_concentration.empty()) ws.c.setZero();
  else ws.c = Eigen::Map<const Eigen::VectorXd>(opt_.initial_concentration.data(), n);
  if (arrival)
    for (size_t i = 0; i < obs.size(); ++i)
      arrival[i] = ws.c[obs[i]] > opt_.threshold ? 0.0 : std::numeric_limits<double>::infinity();
  if (budget) {
    *budget = {};
    for (int c = 0; c < n; ++c) budget->mass_initial += pore_volume_[c] * ws.c[c];
  }
}

// Step k with the factor in ws: c_old = c, c = A^-1 (V_pore / dt c + sources).
void TransportSolver::take_step(size_t k, Workspace& ws) const {
  const int n = n_cells_;
  const double dt = grid_.dt[k];
  for (int c = 0; c < n; ++c) ws.rhs[c] = pore_volume_[c] / dt * ws.c[c] + ws.bc_rhs[c];
  for (const auto& [cell, rate] : step_mass_[k]) ws.rhs[cell] += rate;
  for (size_t i = 0; i < held_cell_.size(); ++i)
    if (step_held_[k][i]) ws.rhs[held_cell_[i]] = pore_volume_[held_cell_[i]] / dt * opt_.sources[i].value;
  ws.c_old = ws.c;
  ws.c = ws.rhs;
  int ok = klu_solve(ws.symbolic, ws.numeric, n, 1, ws.c.data(), &ws.common);
  VED_CHECK(ok && ws.c.allFinite(), "transport: solve failed at step " << k << " (t = " << grid_.t_end[k] << " d)");
}

// First crossings of the threshold during step k, linear in time between the steps.
void TransportSolver::record_arrivals(size_t k, const std::vector<int>& obs, double* arrival,
                                      const Workspace& ws) const {
  const double dt = grid_.dt[k];
  const double t0 = grid_.t_end[k] - dt;
  for (size_t i = 0; i < obs.size(); ++i) {
    const double c0 = ws.c_old[obs[i]], c1 = ws.c[obs[i]];
    if (std::isinf(arrival[i]) && c1 > opt_.threshold) arrival[i] = t0 + dt * (opt_.threshold - c0) / (c1 - c0);
  }
}

// Mass budget of step k. Flux evaluation independent of the matrix: net outflow of each
// cell and boundary terms at c^{n+1}; held cells take whatever their balance needs.
void TransportSolver::add_step_budget(size_t k, const double* q, Workspace& ws, TransportBudget& budget) const {
  const int n = n_cells_;
  const int nf = static_cast<int>(face_c1_.size());
  const double dt = grid_.dt[k];
  const double cin = opt_.inflow_concentration;
  std::fill(ws.net_out.begin(), ws.net_out.end(), 0.0);
  for (int f = 0; f < nf; ++f) {
    const int c1 = face_c1_[f], c2 = face_c2_[f];
    if (c1 >= 0 && c2 >= 0) {
      double flux = q[f] * (q[f] > 0 ? ws.c[c1] : ws.c[c2]) + ws.disp[f] * (ws.c[c1] - ws.c[c2]);
      ws.net_out[c1] += flux;
      ws.net_out[c2] -= flux;
    } else {
      const int c = c1 >= 0 ? c1 : c2;
      if (q[f] > 0) {
        ws.net_out[c] += q[f] * ws.c[c];
        budget.boundary_out += dt * q[f] * ws.c[c];
      } else if (q[f] < 0) {
        double in = -q[f] * cin + ws.disp[f] * (cin - ws.c[c]);
        ws.net_out[c] -= in;
        budget.boundary_in += dt * in;
      }
    }
  }
  for (const auto& [cell, rate] : step_mass_[k]) budget.source += dt * rate;
  for (const auto& [cell, rate] : well_q_) {
    const double flux = rate < 0 ? -rate * ws.c[cell] : -rate * opt_.injection_concentration;  // out of the cell
    ws.net_out[cell] += flux;
    (rate < 0 ? budget.wells_out : budget.wells_in) += dt * std::abs(flux);
  }
  std::vector<char> counted(n, 0);
  for (size_t i = 0; i < held_cell_.size(); ++i) {
    const int c = held_cell_[i];
    if (!step_held_[k][i] || counted[c]) continue;
    counted[c] = 1;
    budget.source += pore_volume_[c] * (ws.c[c] - ws.c_old[c]) + dt * ws.net_out[c];
  }
}

}  // namespace ved
