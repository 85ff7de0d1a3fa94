#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "ved/mesh/site_io.hpp"
#include "ved/util/error.hpp"
#include "ved/util/npy.hpp"

namespace ved {

TEST(Mesh, HanfordLoadsWithPublishedSizes) {
  Site s = load_site("hanford");
  const Mesh& m = s.mesh;
  EXPECT_EQ(m.n_cells, 1475);
  EXPECT_EQ(m.n_nodes, 1655);
  EXPECT_EQ(m.n_faces, 3134);
  EXPECT_EQ(m.n_interior_faces(), 2766);
  // Dirichlet heads along the river: 103.64–120.69 m; Neumann inflow ≈ 10,823 m^3/d.
  double lo = 1e9, hi = -1e9;
  for (size_t i = 0; i < s.bc.face.size(); ++i)
    if (s.bc.kind[i] == BcKind::kDirichlet) {
      lo = std::min(lo, s.bc.value[i]);
      hi = std::max(hi, s.bc.value[i]);
    }
  EXPECT_NEAR(lo, 103.645, 1e-6);
  EXPECT_NEAR(hi, 120.6885, 1e-6);
  EXPECT_NEAR(s.bc.neumann_inflow(), 10823.46, 1e-6);
  EXPECT_EQ(s.reference_log_t.size(), 1475);
  EXPECT_NEAR(s.reference_log_t.mean(), 7.830, 1e-3);
  // Cell volumes are polygon areas: compare with the shoelace formula on the nodes.
  for (int c = 0; c < m.n_cells; c += 97) {
    double area = 0;
    int b = m.cell_node_ptr[c], e = m.cell_node_ptr[c + 1];
    for (int i = b; i < e; ++i) {
      int p = m.cell_nodes[i], q = m.cell_nodes[i + 1 < e ? i + 1 : b];
      area += m.node_coords(0, p) * m.node_coords(1, q) - m.node_coords(0, q) * m.node_coords(1, p);
    }
    EXPECT_NEAR(std::abs(area) / 2, m.cell_volumes[c], 1e-9) << "cell " << c;
  }
}

TEST(Mesh, ObservationSetsAreZeroBasedCells) {
  auto sets = load_observation_sets(data_dir() + "/hanford/yobs_100_1x.npy", 1475);
  ASSERT_EQ(sets.size(), 10u);
  EXPECT_EQ(sets[0].size(), 100u);
  EXPECT_EQ(sets[0][0], 4);
}

// Found while fuzzing (tests/fuzz/regressions/fuzz_npy): a [huge, 0] file holds no values,
// so it passed the size check and then allocated one vector per "set".
TEST(Mesh, ObservationSetsWithoutCellsAreAnError) {
  std::string p = (std::filesystem::temp_directory_path() /
                   ("ved_test_mesh_" + std::to_string(::getpid()) + "_yobs.npy")).string();
  const int64_t none = 0;
  npy::write(p, &none, {size_t{1} << 40, 0});
  try {
    load_observation_sets(p, 1475);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("shape [1099511627776, 0] holds no observation cells"), std::string::npos)
        << e.what();
  }
  std::filesystem::remove(p);
}

TEST(Mesh, StructuredMeshGeometry) {
  Mesh m = make_structured_mesh(4, 3, 2.0, 1.5);
  EXPECT_EQ(m.n_cells, 12);
  EXPECT_EQ(m.n_faces, 5 * 3 + 4 * 4);
  EXPECT_EQ(m.n_interior_faces(), 3 * 3 + 4 * 2);
  EXPECT_DOUBLE_EQ(m.cell_volumes.sum(), 3.0);
  EXPECT_DOUBLE_EQ(m.cell_centroids(0, 5), 0.75);
  EXPECT_DOUBLE_EQ(m.cell_centroids(1, 5), 0.75);
  validate(m, "test");
}

TEST(Mesh, StructuredNeumannSideSplitsTotalInflowByLength) {
  StructuredSiteOptions opt;
  opt.nx = 3;
  opt.ny = 5;
  opt.west = {BcKind::kNeumann, 10.0};
  Site s = make_structured_site(opt);
  EXPECT_NEAR(s.bc.neumann_inflow(), 10.0, 1e-12);
  EXPECT_EQ(s.bc.count(BcKind::kNeumann), 5);
  EXPECT_EQ(s.bc.count(BcKind::kDirichlet), 5);
}

TEST(Mesh, GridSpecAndUnknownMeshErrors) {
  Site s = load_site("grid:8x6");
  EXPECT_EQ(s.mesh.n_cells, 48);
  try {
    load_site("/nonexistent/mesh");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected 'hanford', 'grid:NXxNY', a folder"), std::string::npos);
  }
}

TEST(Mesh, BoundaryConditionOnInteriorFaceIsRejected) {
  Mesh m = make_structured_mesh(3, 3);
  BoundaryConditions bc;
  bc.face = {1};
  bc.kind = {BcKind::kDirichlet};
  bc.value = {1.0};
  try {
    validate(bc, m, "bc.mat");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "bc.mat: face 2 is an interior face; conditions apply to boundary faces only");
  }
}

}  // namespace ved
