#include <gtest/gtest.h>

#include <vector>

#include "ved/grid/map2grid.hpp"
#include "ved/mesh/site_io.hpp"
#include "ved/util/error.hpp"

namespace ved {

TEST(Map2Grid, HanfordImageMatchesPublishedLayout) {
  Site s = load_site("hanford");
  GridMap g = compute_grid_map(s.mesh);
  // docs/method.md §4: a 69x54 image with 1473 filled pixels.
  EXPECT_EQ(g.height * g.width, 69 * 54);
  std::printf("map2grid hanford: %d x %d, filled %d, conflicts %d, shared cells %d\n", g.height, g.width,
              g.n_filled(), g.n_conflicts(), g.n_shared_cells());
  EXPECT_EQ(g.height, 69);
  EXPECT_EQ(g.n_filled(), 1473);
  EXPECT_EQ(g.n_conflicts(), 17);  // cells drawn on a second pixel by a disagreeing neighbour
  EXPECT_EQ(g.n_cells(), 1475);
}

TEST(Map2Grid, StructuredMeshIsIdentity) {
  Mesh m = make_structured_mesh(5, 3);
  GridMap g = compute_grid_map(m);
  EXPECT_EQ(g.width, 5);
  EXPECT_EQ(g.height, 3);
  for (int c = 0; c < m.n_cells; ++c) EXPECT_EQ(g.cell_pixel[c], c);
  std::vector<double> f(15), img(15);
  for (int c = 0; c < 15; ++c) f[c] = c * 1.5;
  g.to_image(f.data(), img.data());
  EXPECT_EQ(img, f);
}

TEST(Map2Grid, BfsOnStructuredGeometryRecoversTheGrid) {
  // Same geometry without the structured tag: the BFS walk must find the identity layout.
  Mesh m = make_structured_mesh(7, 4, 2.0, 1.0);
  m.grid_nx = m.grid_ny = 0;
  GridMap g = compute_grid_map(m, /*seed_cell=*/10);
  EXPECT_EQ(g.width, 7);
  EXPECT_EQ(g.height, 4);
  EXPECT_EQ(g.n_filled(), 28);
  for (int c = 0; c < m.n_cells; ++c) EXPECT_EQ(g.cell_pixel[c], c);
}

TEST(Map2Grid, SharedPixelAveragesAndOutsideIsFilled) {
  GridMap g;
  g.height = 1;
  g.width = 3;
  g.cell_pixel = {0, 0, 2};
  g.entry_cell = {0, 1, 2};
  g.entry_pixel = {0, 0, 2};
  g.pixel_count = {2, 0, 1};
  std::vector<double> f = {1.0, 3.0, 5.0}, img(3);
  g.to_image(f.data(), img.data(), -7.0);
  EXPECT_DOUBLE_EQ(img[0], 2.0);
  EXPECT_DOUBLE_EQ(img[1], -7.0);
  EXPECT_DOUBLE_EQ(img[2], 5.0);
  EXPECT_EQ(g.n_shared_cells(), 2);
}

TEST(Map2Grid, DisconnectedMeshIsAnError) {
  Mesh m = make_structured_mesh(4, 1);
  m.grid_nx = m.grid_ny = 0;
  // Cut the face between cells 1 and 2 (vertical face i=2).
  m.face_cells(0, 2) = -1;
  try {
    compute_grid_map(m);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("only 2 of 4 cells are connected"), std::string::npos) << e.what();
  }
}

}  // namespace ved
