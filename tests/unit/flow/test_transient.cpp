#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "ved/flow/tpfa.hpp"
#include "ved/flow/transient.hpp"
#include "ved/mesh/site_io.hpp"
#include "ved/util/error.hpp"

namespace ved {
namespace {

std::vector<double> reference_field(const Site& s) {
  return std::vector<double>(s.reference_log_t.data(), s.reference_log_t.data() + s.mesh.n_cells);
}

std::vector<int> all_cells(const Site& s) {
  std::vector<int> c(s.mesh.n_cells);
  for (int i = 0; i < s.mesh.n_cells; ++i) c[i] = i;
  return c;
}

// Theis well function W(u) = E1(u) = -Ei(-u).
double theis_w(double u) { return -std::expint(-u); }

// 1-D diffusion h_t = D h_xx on x > 0, h(0, t) = 1, h(x, 0) = 0 (x in cells' centres):
// max |h - erfc(x / 2 sqrt(D t))| at time t_end on a long structured strip.
double erfc_error(int nx, int steps) {
  const double length = 20.0, t_end = 1.0;  // diffusion length 2 sqrt(D t) = 2, D = 1
  StructuredSiteOptions so;
  so.nx = nx;
  so.ny = 1;
  so.lx = length;
  so.ly = 1.0;
  so.west = {BcKind::kDirichlet, 1.0};
  so.east = {BcKind::kDirichlet, 0.0};
  Site s = make_structured_site(so);
  TransientOptions opt;
  opt.storativity = 1.0;  // D = T / S = 1 m^2/d
  opt.total_time = t_end;
  opt.steps = steps;
  opt.dt_growth = 1.0;
  opt.save_every = steps;
  opt.initial_head.assign(nx, 0.0);
  TransientSolver solver(s, opt);
  std::vector<double> log_t(nx, 0.0), y(nx);
  auto ws = solver.make_workspace();
  solver.solve(log_t.data(), all_cells(s), y.data(), *ws);
  double err = 0;
  for (int c = 0; c < nx; ++c) {
    double x = s.mesh.cell_centroids(0, c);
    err = std::max(err, std::abs(y[c] - std::erfc(x / (2 * std::sqrt(t_end)))));
  }
  return err;
}

}  // namespace

TEST(TimeGrid, UniformAndGeometricSteps) {
  TimeGrid u = make_time_grid(10, 5, 1.0, 1, 1, "t");
  EXPECT_EQ(u.n_sizes, 1);
  EXPECT_DOUBLE_EQ(u.t_end.back(), 10);
  EXPECT_EQ(u.saved.size(), 5u);
  TimeGrid g = make_time_grid(10, 4, 2.0, 1, 2, "t");
  EXPECT_EQ(g.n_sizes, 4);
  EXPECT_NEAR(g.dt[0], 10.0 / 15, 1e-14);
  EXPECT_NEAR(g.dt[3], 80.0 / 15, 1e-14);
  EXPECT_EQ(g.saved, (std::vector<int>{1, 3}));
  EXPECT_DOUBLE_EQ(g.saved_times().back(), 10);
  TimeGrid b = make_time_grid(14, 6, 2.0, 2, 3, "t");  // sizes 1, 1, 2, 2, 4, 4
  EXPECT_EQ(b.n_sizes, 3);
  EXPECT_EQ(b.dt_id, (std::vector<int>{0, 0, 1, 1, 2, 2}));
  EXPECT_DOUBLE_EQ(b.dt[0], 1.0);
  EXPECT_DOUBLE_EQ(b.dt[5], 4.0);
  EXPECT_EQ(b.saved, (std::vector<int>{2, 5}));
}

TEST(TimeGrid, ErrorsNameTheValueAndRange) {
  try {
    make_time_grid(10, 10, 1.0, 1, 3, "transient");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "transient: save every 3 steps must divide the 10 steps");
  }
  EXPECT_THROW(make_time_grid(-1, 10, 1.0, 1, 1, "transient"), Error);
  EXPECT_THROW(make_time_grid(1, 10, 3.0, 1, 1, "transient"), Error);
  EXPECT_THROW(make_time_grid(1, 10, 2.0, 0, 1, "transient"), Error);
  EXPECT_EQ(make_time_grid(1, 10, 2.0, 20, 1, "transient").n_sizes, 1);  // one group: uniform
}

TEST(Transient, SteadyStartWithoutWellsStaysAtTheSteadySolution) {
  // h(0) = the steady solution of `ved solve`; without wells nothing changes, whatever dt.
  Site s = load_site("hanford");
  auto log_t = reference_field(s);
  TransientOptions opt;
  opt.total_time = 100;
  opt.steps = 4;
  opt.dt_growth = 1.5;
  opt.dt_growth_every = 1;
  opt.save_every = 1;
  TransientSolver solver(s, opt);
  TpfaSolver steady(s);
  std::vector<double> h_steady(s.mesh.n_cells), h0(s.mesh.n_cells), h1(s.mesh.n_cells);
  auto sws = steady.make_workspace();
  steady.solve(log_t.data(), h_steady.data(), *sws);
  std::vector<double> y(s.wells.size() * solver.n_saved());
  auto ws = solver.make_workspace();
  solver.solve(log_t.data(), s.wells, y.data(), *ws, h0.data(), h1.data());
  for (int c = 0; c < s.mesh.n_cells; ++c) {
    EXPECT_EQ(h0[c], h_steady[c]) << "cell " << c;
    EXPECT_NEAR(h1[c], h_steady[c], 1e-9) << "cell " << c;
  }
  for (size_t w = 0; w < s.wells.size(); ++w)
    EXPECT_NEAR(y[w * solver.n_saved() + 2], h_steady[s.wells[w]], 1e-9);
}

TEST(Transient, LongTimeLimitEqualsTheSteadySolver) {
  // From a flat initial head, the transient solution converges to the steady TPFA heads.
  Site s = load_site("hanford");
  auto log_t = reference_field(s);
  TransientOptions opt;
  opt.total_time = 1e9;  // >> S L^2 / T (about 50 d at Hanford scale)
  opt.steps = 30;
  opt.dt_growth = 2.0;
  opt.dt_growth_every = 1;
  opt.length_unit = 50000;
  opt.initial_head.assign(s.mesh.n_cells, 110.0);
  TransientSolver solver(s, opt);
  TpfaSolver steady(s);
  std::vector<double> h_steady(s.mesh.n_cells), h1(s.mesh.n_cells);
  auto sws = steady.make_workspace();
  steady.solve(log_t.data(), h_steady.data(), *sws);
  auto ws = solver.make_workspace();
  std::vector<double> y(solver.n_saved());
  solver.solve(log_t.data(), {0}, y.data(), *ws, nullptr, h1.data());
  double err = 0;
  for (int c = 0; c < s.mesh.n_cells; ++c) err = std::max(err, std::abs(h1[c] - h_steady[c]));
  EXPECT_LT(err, 1e-8);
}

TEST(Transient, OneDimensionalDiffusionMatchesErfcAndConverges) {
  // Step change of the boundary head: h = erfc(x / (2 sqrt(D t))). Implicit Euler and
  // TPFA: error O(dt + dx^2); halving dt and dx must roughly halve it. Measured:
  // 5.84e-3, 2.84e-3, 1.40e-3 (max over the cells at t = 1).
  double coarse = erfc_error(200, 25);   // dx = 0.1, dt = 0.04
  double fine = erfc_error(400, 50);     // dx = 0.05, dt = 0.02
  double finer = erfc_error(800, 100);   // dx = 0.025, dt = 0.01
  EXPECT_LT(coarse, 7e-3);
  EXPECT_LT(fine, 3.5e-3);
  EXPECT_LT(finer, 1.75e-3);
  EXPECT_LT(fine / coarse, 0.6);
  EXPECT_LT(finer / fine, 0.6);
}

TEST(Transient, TheisDrawdownAroundAPumpingWell) {
  // Pumping Q from the centre cell of a large square with fixed heads far away: drawdown
  // s(r, t) = Q / (4 pi T) W(r^2 S / (4 T t)) before the boundary is felt
  // (sqrt(4 D t) = 280 m at t = 0.2 d against 600 m to the boundary).
  const int n = 121;
  const double dx = 10.0, t_cond = 100.0, stor = 1e-3, q = 500.0;
  StructuredSiteOptions so;
  so.nx = so.ny = n;
  so.lx = so.ly = n * dx;
  so.west = so.east = so.south = so.north = {BcKind::kDirichlet, 0.0};
  Site s = make_structured_site(so);
  const int centre = n / 2 + n * (n / 2);
  TransientOptions opt;
  opt.storativity = stor;
  opt.total_time = 0.2;
  opt.steps = 80;
  opt.dt_growth = 1.0;
  opt.save_every = 20;  // t = 0.05, 0.1, 0.15, 0.2 d
  opt.wells = {{centre, -q}};
  TransientSolver solver(s, opt);
  std::vector<int> obs;
  std::vector<double> r;
  for (int k : {3, 5, 10, 15, 20}) {  // cells east of the well: r = k dx
    obs.push_back(centre + k);
    r.push_back(k * dx);
  }
  std::vector<double> log_t(s.mesh.n_cells, std::log(t_cond)), y(obs.size() * solver.n_saved());
  auto ws = solver.make_workspace();
  solver.solve(log_t.data(), obs, y.data(), *ws);
  auto times = solver.saved_times();
  double worst = 0;
  for (size_t i = 0; i < obs.size(); ++i)
    for (size_t k = 1; k < times.size(); ++k) {  // t >= 0.1 d: a few steps past the start
      double u = r[i] * r[i] * stor / (4 * t_cond * times[k]);
      double theis = q / (4 * M_PI * t_cond) * theis_w(u);
      double drawdown = -y[i * times.size() + k];
      worst = std::max(worst, std::abs(drawdown - theis) / theis);
    }
  EXPECT_LT(worst, 0.01) << "relative drawdown error against Theis (measured 0.0061)";
}

TEST(Transient, StorageChangeBalancesWellsAndBoundaryFluxes) {
  // Implicit Euler mass balance per step: S V (h^{n+1} - h^n) = dt (Q_wells + Neumann in
  // - Dirichlet out at h^{n+1}), summed over the run, to round-off.
  Site s = load_site("hanford");
  auto log_t = reference_field(s);
  TransientOptions opt;
  opt.length_unit = 50000;
  opt.total_time = 30;
  opt.steps = 12;
  opt.dt_growth = 1.3;
  opt.dt_growth_every = 1;
  opt.save_every = 1;
  opt.wells = {{700, -3000.0, 0, 10}, {900, 1500.0, 5, 25}, {700, -1000.0, 10, 1e9}};
  TransientSolver solver(s, opt);
  const int n = s.mesh.n_cells;
  std::vector<double> y(static_cast<size_t>(n) * solver.n_saved()), h0(n);
  auto ws = solver.make_workspace();
  solver.solve(log_t.data(), all_cells(s), y.data(), *ws, h0.data());
  const TimeGrid& g = solver.time_grid();
  std::vector<double> prev = h0, cur(n);
  double max_rel = 0;
  for (size_t k = 0; k < g.dt.size(); ++k) {
    for (int c = 0; c < n; ++c) cur[c] = y[static_cast<size_t>(c) * g.dt.size() + k];
    double storage = 0, wells = 0;
    for (int c = 0; c < n; ++c) storage += solver.storage()[c] * (cur[c] - prev[c]);
    for (const auto& [cell, rate] : solver.step_sources()[k]) wells += rate;
    FluxBalance fb = solver.steady().boundary_fluxes(log_t.data(), cur.data());
    double net = g.dt[k] * (wells + fb.neumann_inflow - fb.dirichlet_outflow);
    max_rel = std::max(max_rel, std::abs(storage - net) / (g.dt[k] * 10823.0));
    prev = cur;
  }
  EXPECT_LT(max_rel, 1e-9);
}

TEST(Transient, ScheduleRatesAreAveragedOverSteps) {
  Site s = make_structured_site({});
  TransientOptions opt;
  opt.total_time = 4;
  opt.steps = 4;
  opt.dt_growth = 1.0;
  opt.save_every = 1;
  opt.wells = {{5, -100.0, 0.0, 1.5}, {5, -40.0, 1.5, 10.0}};
  TransientSolver solver(s, opt);
  const auto& q = solver.step_sources();
  ASSERT_EQ(q.size(), 4u);
  ASSERT_EQ(q[1].size(), 2u);
  EXPECT_DOUBLE_EQ(q[0][0].second, -100.0);
  EXPECT_DOUBLE_EQ(q[1][0].second + q[1][1].second, -70.0);
  EXPECT_DOUBLE_EQ(q[3][0].second, -40.0);

  // Two pieces on one cell give the same heads as one piece over their union.
  TransientOptions one = opt;
  one.wells = {{5, -100.0, 0.0, 2.0}};
  TransientOptions two = opt;
  two.wells = {{5, -100.0, 0.0, 1.0}, {5, -100.0, 1.0, 2.0}};
  std::vector<double> log_t(s.mesh.n_cells, 0.0), y1(s.mesh.n_cells * 4), y2(y1.size());
  TransientSolver s1(s, one), s2(s, two);
  auto w1 = s1.make_workspace();
  auto w2 = s2.make_workspace();
  s1.solve(log_t.data(), all_cells(s), y1.data(), *w1);
  s2.solve(log_t.data(), all_cells(s), y2.data(), *w2);
  for (size_t i = 0; i < y1.size(); ++i) EXPECT_NEAR(y1[i], y2[i], 1e-12);
}

TEST(Transient, InvalidOptionsAreReported) {
  Site s = make_structured_site({});
  TransientOptions opt;
  opt.storativity = 0;
  try {
    TransientSolver bad(s, opt);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "transient: storativity 0 of cell 0 out of range (0, 1]");
  }
  opt = {};
  opt.wells = {{5000, -1.0}};
  try {
    TransientSolver bad(s, opt);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "transient: well cell 5000 out of range [0, 1024)");
  }
  opt = {};
  opt.wells = {{3, -1.0, 5.0, 2.0}};
  EXPECT_THROW(TransientSolver(s, opt), Error);
}

}  // namespace ved
