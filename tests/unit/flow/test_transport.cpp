#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "ved/flow/tpfa.hpp"
#include "ved/flow/transport.hpp"
#include "ved/mesh/site_io.hpp"
#include "ved/util/error.hpp"

namespace ved {
namespace {

std::vector<double> reference_field(const Site& s) {
  return std::vector<double>(s.reference_log_t.data(), s.reference_log_t.data() + s.mesh.n_cells);
}

// Ogata & Banks (1961): c_t + v c_x = D c_xx on x > 0, c(0, t) = 1, c(x, 0) = 0.
double ogata_banks(double x, double t, double v, double d) {
  double s = 2 * std::sqrt(d * t);
  return 0.5 * (std::erfc((x - v * t) / s) + std::exp(v * x / d) * std::erfc((x + v * t) / s));
}

// The same with a third-type inlet, v c(0) - D c_x(0) = v (van Genuchten & Alves 1982):
double third_type(double x, double t, double v, double d) {
  double s = 2 * std::sqrt(d * t);
  return 0.5 * std::erfc((x - v * t) / s) +
         std::sqrt(v * v * t / (M_PI * d)) * std::exp(-(x - v * t) * (x - v * t) / (4 * d * t)) -
         0.5 * (1 + v * x / d + v * v * t / d) * std::exp(v * x / d) * std::erfc((x + v * t) / s);
}

struct OgataBanksRun {
  double max_error = 0;          // max |c - c_exact| over the cells at t_end
  std::vector<double> arrival;   // [cells] time c first exceeds 0.5
  std::vector<double> x;         // [cells] centres
};

// A 1-D strip with a Neumann inflow on the west and a fixed head on the east: uniform
// pore velocity v = 1 m/d; alpha_L = 1 m, so D = 1 m^2/d.
OgataBanksRun ogata_banks_run(int nx, int steps, InflowCondition inflow = InflowCondition::kFixed) {
  const double length = 60.0, t_end = 20.0;
  StructuredSiteOptions so;
  so.nx = nx;
  so.ny = 1;
  so.lx = length;
  so.ly = 1.0;
  so.west = {BcKind::kNeumann, 0.25};  // m^3/d over a 1 m wide, 1 m thick strip
  so.east = {BcKind::kDirichlet, 0.0};
  Site s = make_structured_site(so);
  TransportOptions opt;
  opt.porosity = 0.25;
  opt.thickness = 1.0;  // v = 0.25 / (0.25 * 1 * 1) = 1 m/d
  opt.dispersivity_long = 1.0;
  opt.dispersivity_trans = 0.1;
  opt.total_time = t_end;
  opt.steps = steps;
  opt.save_every = steps;
  opt.inflow_concentration = 1.0;
  opt.inflow_condition = inflow;
  opt.threshold = 0.5;
  TransportSolver solver(s, opt);
  std::vector<int> obs(nx);
  for (int c = 0; c < nx; ++c) obs[c] = c;
  std::vector<double> log_t(nx, 0.0), conc(nx);
  OgataBanksRun r;
  r.arrival.resize(nx);
  auto ws = solver.make_workspace();
  solver.solve(log_t.data(), obs, conc.data(), r.arrival.data(), *ws);
  for (int c = 0; c < nx; ++c) {
    r.x.push_back(s.mesh.cell_centroids(0, c));
    double exact = inflow == InflowCondition::kFixed ? ogata_banks(r.x[c], t_end, 1.0, 1.0)
                                                     : third_type(r.x[c], t_end, 1.0, 1.0);
    r.max_error = std::max(r.max_error, std::abs(conc[c] - exact));
  }
  return r;
}

}  // namespace

TEST(Transport, OgataBanksBreakthroughAndConvergence) {
  // Upwind + backward Euler add numerical dispersion ~ v dx / 2 + v^2 dt / 2, so the error
  // is O(dx + dt); halving both must roughly halve it. Measured: 0.0244, 0.0129, 0.0067.
  OgataBanksRun coarse = ogata_banks_run(300, 100);   // dx = 0.2, dt = 0.2
  OgataBanksRun fine = ogata_banks_run(600, 200);     // dx = 0.1, dt = 0.1
  OgataBanksRun finer = ogata_banks_run(1200, 400);   // dx = 0.05, dt = 0.05
  EXPECT_LT(coarse.max_error, 0.03);
  EXPECT_LT(fine.max_error, 0.015);
  EXPECT_LT(finer.max_error, 0.008);
  EXPECT_LT(fine.max_error / coarse.max_error, 0.6);
  EXPECT_LT(finer.max_error / fine.max_error, 0.6);
  // Arrival of c = 0.5 at x = 10.025 m: 9.127 d in the exact solution; none beyond
  // x = v t_end + 10 sqrt(D t_end).
  for (size_t c = 0; c < finer.x.size(); ++c) {
    if (std::abs(finer.x[c] - 10.025) < 1e-9) {
      EXPECT_NEAR(finer.arrival[c], 9.127, 0.05);
    }
    if (finer.x[c] > 45) {
      EXPECT_TRUE(std::isinf(finer.arrival[c])) << "x = " << finer.x[c];
    }
  }
}

TEST(Transport, ThirdTypeInletMatchesVanGenuchtenAlves) {
  // Default inflow condition (solute flux Q c_in). Measured: 0.0229, 0.0119.
  OgataBanksRun coarse = ogata_banks_run(300, 100, InflowCondition::kFlux);
  OgataBanksRun fine = ogata_banks_run(600, 200, InflowCondition::kFlux);
  EXPECT_LT(coarse.max_error, 0.03);
  EXPECT_LT(fine.max_error, 0.015);
  EXPECT_LT(fine.max_error / coarse.max_error, 0.6);
}

TEST(Transport, MassIsConservedWithSourcesAndBoundaryFlow) {
  // Hanford, reference field: mass-rate sources that switch on and off, inflow with a
  // concentration on the Neumann faces, outflow at the river.
  Site s = load_site("hanford");
  auto log_t = reference_field(s);
  TransportOptions opt;
  opt.length_unit = 50000;
  opt.total_time = 20000;
  opt.steps = 25;
  opt.dt_growth = 1.1;
  opt.source_kind = SourceKind::kMassRate;
  opt.sources = {{300, 50.0, 0, 5000}, {800, 20.0, 3000, 1e9}};
  opt.inflow_concentration = 0.3;
  TransportSolver solver(s, opt);
  auto ws = solver.make_workspace();
  TransportBudget b;
  std::vector<double> bt(s.wells.size() * solver.n_saved());
  solver.solve(log_t.data(), s.wells, bt.data(), nullptr, *ws, nullptr, nullptr, &b);
  EXPECT_GT(b.source, 0);
  EXPECT_GT(b.boundary_in, 0);
  EXPECT_GT(b.boundary_out, 0);
  double scale = b.mass_final + b.source + b.boundary_in + b.boundary_out;
  EXPECT_LT(std::abs(b.mass_final - b.mass_initial - (b.source + b.boundary_in - b.boundary_out)) / scale, 1e-12);
}

// Pumping and injection wells shape the steady flow and take or bring solute: the water
// balance of the well cells, the solute budget, and capture by a well next to the source.
TEST(Transport, PumpingWellsConserveWaterAndSoluteAndCaptureThePlume) {
  Site s = load_site("hanford");
  auto log_t = reference_field(s);
  TransportOptions opt;
  opt.length_unit = 50000;
  opt.total_time = 20000;
  opt.steps = 20;
  opt.source_kind = SourceKind::kMassRate;
  opt.sources = {{300, 50.0}};
  opt.inflow_concentration = 0.1;
  TransportSolver plain(s, opt);
  TransportBudget b0;
  std::vector<double> c0(s.mesh.n_cells), h0(s.mesh.n_cells);
  plain.solve(log_t.data(), {}, nullptr, nullptr, *plain.make_workspace(), h0.data(), c0.data(), &b0);

  // The cell next to the source, downstream (where the plain run's flux leaves it).
  const Mesh& m = s.mesh;
  std::vector<double> q0 = plain.flow().face_fluxes(log_t.data(), h0.data());
  int down = -1;
  double best = 0;
  for (int f = 0; f < m.n_faces; ++f) {
    const int a = m.face_cells(0, f), b = m.face_cells(1, f);
    if (a == 300 && b >= 0 && q0[f] > best) best = q0[f], down = b;
    if (b == 300 && a >= 0 && -q0[f] > best) best = -q0[f], down = a;
  }
  ASSERT_GE(down, 0);
  opt.wells = {{down, -3000.0}, {900, 500.0}};
  opt.injection_concentration = 0.2;
  TransportSolver pumped(s, opt);
  TransportBudget b;
  std::vector<double> c(s.mesh.n_cells), h(s.mesh.n_cells);
  pumped.solve(log_t.data(), {}, nullptr, nullptr, *pumped.make_workspace(), h.data(), c.data(), &b);

  // Water: the net face outflow of each well cell is its rate (other cells: 0).
  std::vector<double> q = pumped.flow().face_fluxes(log_t.data(), h.data()), net(m.n_cells, 0.0);
  for (int f = 0; f < m.n_faces; ++f) {
    if (m.face_cells(0, f) >= 0) net[m.face_cells(0, f)] += q[f];
    if (m.face_cells(1, f) >= 0) net[m.face_cells(1, f)] -= q[f];
  }
  EXPECT_NEAR(net[down], -3000.0, 1e-6 * 3000);
  EXPECT_NEAR(net[900], 500.0, 1e-6 * 500);
  EXPECT_NEAR(net[10], 0.0, 1e-6);
  EXPECT_LT(h[down], h0[down]);  // a drawdown cone

  // Solute: the budget closes with the wells' terms, and the pumping well takes a large
  // part of the injected mass that would otherwise stay in the aquifer.
  EXPECT_GT(b.wells_out, 0.2 * b.source);
  EXPECT_GT(b.wells_in, 0);
  const double scale = b.mass_final + b.source + b.boundary_in + b.boundary_out + b.wells_in + b.wells_out;
  EXPECT_LT(std::abs(b.mass_final - b.mass_initial -
                     (b.source + b.boundary_in - b.boundary_out + b.wells_in - b.wells_out)) / scale, 1e-12);
  EXPECT_EQ(b0.wells_out, 0.0);
  EXPECT_EQ(b0.wells_in, 0.0);

  TransportOptions bad = opt;
  bad.wells = {{down, -100.0, 0.0, 500.0}};
  try {
    TransportSolver x(s, bad);
    ADD_FAILURE() << "a well schedule with transport should be rejected";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("constant rates"), std::string::npos) << e.what();
  }
}

TEST(Transport, HeldConcentrationSourceBalancesItsMass) {
  Site s = load_site("hanford");
  auto log_t = reference_field(s);
  TransportOptions opt;
  opt.length_unit = 50000;
  opt.total_time = 30000;
  opt.steps = 30;
  opt.sources = {{300, 1.0, 0, 10000}, {301, 1.0, 0, 10000}};
  TransportSolver solver(s, opt);
  auto ws = solver.make_workspace();
  TransportBudget b;
  std::vector<double> final(s.mesh.n_cells);
  solver.solve(log_t.data(), {}, nullptr, nullptr, *ws, nullptr, final.data(), &b);
  EXPECT_GT(b.source, 0);
  double scale = b.mass_final + b.source + b.boundary_out;
  EXPECT_LT(std::abs(b.mass_final - b.mass_initial - (b.source + b.boundary_in - b.boundary_out)) / scale, 1e-12);
  // Concentrations stay in [0, 1] (upwind + implicit is monotone for M-matrices).
  for (double c : final) {
    EXPECT_GE(c, -1e-12);
    EXPECT_LE(c, 1 + 1e-12);
  }
}

TEST(Transport, ClosedSystemKeepsItsMassWithoutFlow) {
  // Equal heads on both sides: no flow, pure diffusion of an initial blob in a closed box.
  StructuredSiteOptions so;
  so.nx = so.ny = 20;
  so.lx = so.ly = 100;
  so.west = so.east = {BcKind::kDirichlet, 5.0};
  Site s = make_structured_site(so);
  TransportOptions opt;
  opt.diffusion = 2.0;
  opt.total_time = 500;
  opt.steps = 10;
  opt.sources.clear();
  opt.initial_concentration.assign(s.mesh.n_cells, 0.0);
  opt.initial_concentration[210] = 100.0;
  TransportSolver solver(s, opt);
  auto ws = solver.make_workspace();
  TransportBudget b;
  std::vector<double> log_t(s.mesh.n_cells, 1.0), final(s.mesh.n_cells);
  solver.solve(log_t.data(), {}, nullptr, nullptr, *ws, nullptr, final.data(), &b);
  // The TPFA fluxes are zero up to round-off (~1e-11 m^3/d), so a trace of mass may leave.
  EXPECT_NEAR(b.mass_final, b.mass_initial, 1e-9 * b.mass_initial);
  EXPECT_NEAR(b.mass_final - b.mass_initial, b.boundary_in - b.boundary_out, 1e-12 * b.mass_initial);
  EXPECT_LT(*std::max_element(final.begin(), final.end()), 100.0 / 4);  // it spread
}

TEST(Transport, ResultsDoNotDependOnTheWorkspace) {
  Site s = load_site("grid:12x10");
  TransportOptions opt;
  opt.total_time = 3;
  opt.steps = 6;
  opt.save_every = 1;
  opt.dispersivity_long = 0.05;
  opt.dispersivity_trans = 0.005;
  opt.sources = {{13, 1.0}};
  TransportSolver solver(s, opt);
  std::vector<double> log_t(s.mesh.n_cells);
  for (int c = 0; c < s.mesh.n_cells; ++c) log_t[c] = std::sin(0.3 * c);
  std::vector<double> a(s.wells.size() * 6), b(a.size()), ta(s.wells.size()), tb(ta.size());
  auto w1 = solver.make_workspace();
  solver.solve(log_t.data(), s.wells, a.data(), ta.data(), *w1);
  solver.solve(log_t.data(), s.wells, a.data(), ta.data(), *w1);  // reused workspace
  auto w2 = solver.make_workspace();
  solver.solve(log_t.data(), s.wells, b.data(), tb.data(), *w2);
  EXPECT_EQ(a, b);
  EXPECT_EQ(ta, tb);
}

TEST(Transport, InvalidOptionsAreReported) {
  Site s = make_structured_site({});
  TransportOptions opt;
  opt.porosity = 1.5;
  try {
    TransportSolver bad(s, opt);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "transport: porosity 1.5 out of range (0, 1]");
  }
  opt = {};
  opt.sources = {{-1, 1.0}};
  try {
    TransportSolver bad(s, opt);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "transport: source cell -1 out of range [0, 1024)");
  }
  opt = {};
  opt.dispersivity_long = -1;
  EXPECT_THROW(TransportSolver(s, opt), Error);
}

}  // namespace ved
