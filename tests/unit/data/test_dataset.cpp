// The dataset file (ved/data/dataset.hpp): round trip, and the cell -> pixel map that
// read_dataset validates before it sizes anything from it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "ved/data/dataset.hpp"
#include "ved/grid/map2grid.hpp"
#include "ved/mesh/mesh.hpp"
#include "ved/util/error.hpp"

namespace ved {
namespace fs = std::filesystem;

namespace {

std::string tmp(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("ved_test_dataset_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return (dir / name).string();
}

// Three fields on a 3x2 grid with its identity map.
Dataset grid_dataset() {
  Dataset d;
  d.x = MatrixRM::Constant(3, 6, 0.5);
  d.y = MatrixRM::Constant(3, 2, 1.5);
  d.mesh = "grid:3x2";
  d.grid_map = compute_grid_map(make_structured_mesh(3, 2));
  d.has_grid_map = true;
  return d;
}

std::string read_error(const std::string& path) {
  try {
    read_dataset(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(Dataset, RoundTripKeepsTheGridMap) {
  std::string p = tmp("grid.h5");
  write_dataset(p, grid_dataset());
  Dataset d = read_dataset(p);
  ASSERT_TRUE(d.has_grid_map);
  EXPECT_EQ(d.grid_map.height, 2);
  EXPECT_EQ(d.grid_map.width, 3);
  EXPECT_EQ(d.grid_map.cell_pixel, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(d.grid_map.n_filled(), 6);
}

// Found by fuzzing (tests/fuzz/regressions/fuzz_dataset/map2grid_huge_image.h5): the image
// size came from the file's attributes unchecked, so a corrupt one allocated gigabytes.
TEST(Dataset, GridMapLargerThanItsCellsIsAnError) {
  Dataset d = grid_dataset();
  d.grid_map.height = 1 << 20;
  d.grid_map.width = 1 << 20;
  std::string p = tmp("huge.h5");
  write_dataset(p, d);
  EXPECT_NE(read_error(p).find("'/map2grid' image 1048576x1048576 does not fit a map of 6 cells"), std::string::npos)
      << read_error(p);
}

TEST(Dataset, GridMapEntriesOutOfOrderOrRangeAreErrors) {
  Dataset d = grid_dataset();
  std::swap(d.grid_map.entry_cell[0], d.grid_map.entry_cell[1]);
  std::string p = tmp("order.h5");
  write_dataset(p, d);
  EXPECT_NE(read_error(p).find("'/map2grid/entry_cell' entry 0 = 1; the first 6 entries must be cells 0, 1, ..."),
            std::string::npos)
      << read_error(p);

  d = grid_dataset();
  d.grid_map.entry_pixel[5] = 6;
  p = tmp("pixel.h5");
  write_dataset(p, d);
  EXPECT_NE(read_error(p).find("'/map2grid/entry_pixel' entry 5 = 6 out of range [0, 6)"), std::string::npos)
      << read_error(p);
}

}  // namespace ved
