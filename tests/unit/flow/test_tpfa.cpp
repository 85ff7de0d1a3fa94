#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <vector>

#include "ved/flow/tpfa.hpp"
#include "ved/mesh/site_io.hpp"
#include "ved/util/error.hpp"

namespace ved {
namespace {

std::vector<double> solve_one(const Site& s, const std::vector<double>& log_t) {
  TpfaSolver solver(s);
  std::vector<double> h(s.mesh.n_cells);
  auto ws = solver.make_workspace();
  solver.solve(log_t.data(), h.data(), *ws);
  return h;
}

}  // namespace

TEST(Tpfa, LinearHeadBetweenTwoDirichletSidesIsExact) {
  StructuredSiteOptions opt;
  opt.nx = 20;
  opt.ny = 7;
  opt.lx = 3.0;
  opt.ly = 1.0;
  opt.west = {BcKind::kDirichlet, 10.0};
  opt.east = {BcKind::kDirichlet, 4.0};
  Site s = make_structured_site(opt);
  std::vector<double> log_t(s.mesh.n_cells, std::log(2.5));
  auto h = solve_one(s, log_t);
  for (int c = 0; c < s.mesh.n_cells; ++c) {
    double x = s.mesh.cell_centroids(0, c);
    EXPECT_NEAR(h[c], 10.0 - 6.0 * x / 3.0, 1e-11) << "cell " << c;
  }
}

TEST(Tpfa, LayersInSeriesGiveHarmonicMeanFlux) {
  // T varies along the flow direction in column-wise layers: the flux through the column
  // is dh / sum(dx / T_i), the harmonic mean, and TPFA reproduces it exactly.
  StructuredSiteOptions opt;
  opt.nx = 6;
  opt.ny = 3;
  opt.west = {BcKind::kDirichlet, 1.0};
  opt.east = {BcKind::kDirichlet, 0.0};
  Site s = make_structured_site(opt);
  const double t_col[6] = {1.0, 10.0, 0.1, 3.0, 0.5, 2.0};
  std::vector<double> log_t(s.mesh.n_cells);
  for (int c = 0; c < s.mesh.n_cells; ++c) log_t[c] = std::log(t_col[c % 6]);
  auto h = solve_one(s, log_t);
  TpfaSolver solver(s);
  FluxBalance fb = solver.boundary_fluxes(log_t.data(), h.data());
  const double dx = 1.0 / 6;
  double resistance = 0;
  for (double t : t_col) resistance += dx / t;
  // Total flux over height 1 = (1 - 0) / resistance; it leaves through both Dirichlet sides
  // with opposite signs, so the net outflow is zero.
  EXPECT_NEAR(fb.dirichlet_outflow, 0.0, 1e-12);
  std::vector<double> q = solver.face_fluxes(log_t.data(), h.data());
  double east_out = 0;
  for (int j = 0; j < 3; ++j) east_out += q[6 + 7 * j];
  EXPECT_NEAR(east_out, 1.0 / resistance, 1e-12);
}

TEST(Tpfa, LayersInParallelAddTheirFluxes) {
  StructuredSiteOptions opt;
  opt.nx = 5;
  opt.ny = 4;
  Site s = make_structured_site(opt);
  const double t_row[4] = {1.0, 4.0, 0.25, 9.0};
  std::vector<double> log_t(s.mesh.n_cells);
  for (int c = 0; c < s.mesh.n_cells; ++c) log_t[c] = std::log(t_row[c / 5]);
  auto h = solve_one(s, log_t);
  for (int c = 0; c < s.mesh.n_cells; ++c)
    EXPECT_NEAR(h[c], 1.0 - s.mesh.cell_centroids(0, c), 1e-12);
}

TEST(Tpfa, NeumannInflowLeavesThroughDirichletFaces) {
  StructuredSiteOptions opt;
  opt.nx = 12;
  opt.ny = 9;
  opt.west = {BcKind::kNeumann, 3.5};
  opt.east = {BcKind::kDirichlet, 2.0};
  Site s = make_structured_site(opt);
  std::vector<double> log_t(s.mesh.n_cells);
  for (int c = 0; c < s.mesh.n_cells; ++c) log_t[c] = std::sin(0.7 * c);
  auto h = solve_one(s, log_t);
  TpfaSolver solver(s);
  FluxBalance fb = solver.boundary_fluxes(log_t.data(), h.data());
  EXPECT_NEAR(fb.neumann_inflow, 3.5, 1e-12);
  EXPECT_NEAR(fb.dirichlet_outflow, 3.5, 1e-10);
}

TEST(Tpfa, HanfordReferenceHeadsAndMassBalance) {
  Site s = load_site("hanford");
  ASSERT_EQ(s.mesh.n_cells, 1475);
  ASSERT_EQ(s.mesh.n_faces, 3134);
  ASSERT_EQ(s.mesh.n_interior_faces(), 2766);
  ASSERT_EQ(s.bc.count(BcKind::kDirichlet), 176);
  ASSERT_EQ(s.bc.count(BcKind::kNeumann), 22);
  ASSERT_EQ(s.wells.size(), 323u);
  std::vector<double> log_t(s.reference_log_t.data(), s.reference_log_t.data() + 1475);
  auto h = solve_one(s, log_t);
  double lo = *std::min_element(h.begin(), h.end()), hi = *std::max_element(h.begin(), h.end());
  // Issue #4 facts: 103.68–126.54 m over cells, 104.47–124.62 m at wells.
  EXPECT_NEAR(lo, 103.68, 0.01);
  EXPECT_NEAR(hi, 126.54, 0.01);
  double wlo = 1e9, whi = -1e9;
  for (int w : s.wells) {
    wlo = std::min(wlo, h[w]);
    whi = std::max(whi, h[w]);
  }
  EXPECT_NEAR(wlo, 104.47, 0.01);
  EXPECT_NEAR(whi, 124.62, 0.01);
  TpfaSolver solver(s);
  FluxBalance fb = solver.boundary_fluxes(log_t.data(), h.data());
  EXPECT_NEAR(fb.neumann_inflow, 10823.46, 0.01);
  EXPECT_NEAR(fb.dirichlet_outflow / fb.neumann_inflow, 1.0, 1e-8);
}

TEST(Tpfa, HanfordMatchesDenseAssemblyWithoutCentring) {
  // Independent reference: dense matrix assembled straight from the mesh arrays with the
  // raw field (no centring), solved by Eigen's LDLT.
  Site s = load_site("hanford");
  const Mesh& m = s.mesh;
  const int n = m.n_cells;
  std::vector<double> log_t(n);
  for (int c = 0; c < n; ++c) log_t[c] = s.reference_log_t[c] + 0.8 * std::cos(0.05 * c);
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(n, n);
  Eigen::VectorXd b = Eigen::VectorXd::Zero(n);
  auto alpha = [&](int c, int f) {
    Eigen::Vector2d d = m.face_centroids.col(f) - m.cell_centroids.col(c);
    return std::exp(log_t[c]) * std::abs(d.dot(m.face_normals.col(f))) / d.squaredNorm();
  };
  for (int f = 0; f < m.n_faces; ++f) {
    int c1 = m.face_cells(0, f), c2 = m.face_cells(1, f);
    if (c1 < 0 || c2 < 0) continue;
    double t = 1.0 / (1.0 / alpha(c1, f) + 1.0 / alpha(c2, f));
    a(c1, c1) += t;
    a(c2, c2) += t;
    a(c1, c2) -= t;
    a(c2, c1) -= t;
  }
  for (size_t i = 0; i < s.bc.face.size(); ++i) {
    int f = s.bc.face[i];
    int c = std::max(m.face_cells(0, f), m.face_cells(1, f));
    if (s.bc.kind[i] == BcKind::kDirichlet) {
      a(c, c) += alpha(c, f);
      b[c] += alpha(c, f) * s.bc.value[i];
    } else {
      b[c] += s.bc.value[i];
    }
  }
  Eigen::VectorXd ref = a.ldlt().solve(b);
  auto h = solve_one(s, log_t);
  for (int c = 0; c < n; ++c) EXPECT_NEAR(h[c], ref[c], 1e-8 * std::abs(ref[c])) << "cell " << c;
}

TEST(Tpfa, CentredFieldWithScaledNeumannGivesTheSameHeads) {
  // Equivalent scaling (docs/method.md §5), checked from outside the solver.
  Site s = load_site("hanford");
  const int n = s.mesh.n_cells;
  std::vector<double> y(s.reference_log_t.data(), s.reference_log_t.data() + n);
  double mean = 0;
  for (double v : y) mean += v / n;
  Site scaled = s;
  for (size_t i = 0; i < scaled.bc.face.size(); ++i)
    if (scaled.bc.kind[i] == BcKind::kNeumann) scaled.bc.value[i] /= std::exp(mean);
  std::vector<double> yc(n);
  for (int c = 0; c < n; ++c) yc[c] = y[c] - mean;
  auto h1 = solve_one(s, y);
  auto h2 = solve_one(scaled, yc);
  for (int c = 0; c < n; ++c) EXPECT_NEAR(h1[c], h2[c], 1e-9);
}

TEST(Tpfa, BatchIsIndependentOfThreadCount) {
  Site s = load_site("hanford");
  const int n = s.mesh.n_cells, k = 9;
  std::vector<double> fields(k * n);
  for (int i = 0; i < k; ++i)
    for (int c = 0; c < n; ++c) fields[i * n + c] = s.reference_log_t[c] + 0.3 * std::sin(0.01 * c * (i + 1));
  TpfaSolver solver(s);
  std::vector<double> h1(k * n), h2(k * n);
  solver.solve_batch(fields.data(), k, h1.data(), 1);
  solver.solve_batch(fields.data(), k, h2.data(), 2);
  EXPECT_EQ(h1, h2);
  auto single = solve_one(s, std::vector<double>(fields.begin() + 4 * n, fields.begin() + 5 * n));
  for (int c = 0; c < n; ++c) EXPECT_EQ(h1[4 * n + c], single[c]);
}

TEST(Tpfa, NonFiniteFieldIsAClearError) {
  Site s = make_structured_site({});
  std::vector<double> log_t(s.mesh.n_cells, 0.0);
  log_t[17] = std::nan("");
  TpfaSolver solver(s);
  std::vector<double> h(s.mesh.n_cells);
  try {
    solver.solve_batch(log_t.data(), 1, h.data(), 1);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("field 0: TPFA: log-transmissivity of cell 17 is nan"), std::string::npos)
        << e.what();
  }
}

TEST(Tpfa, MeshWithoutDirichletFaceIsRejected) {
  StructuredSiteOptions opt;
  opt.west = {BcKind::kNeumann, 1.0};
  opt.east = {BcKind::kNeumann, -1.0};
  Site s = make_structured_site(opt);
  EXPECT_THROW({ TpfaSolver solver(s); }, Error);
}

}  // namespace ved
