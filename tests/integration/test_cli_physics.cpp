// The physics verbs run as a user runs them: outputs checked against independent facts.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli_harness.hpp"
#include "ved/data/dataset.hpp"
#include "ved/mesh/site_io.hpp"
#include "ved/util/h5.hpp"
#include "ved/util/npy.hpp"

namespace ved {
namespace fs = std::filesystem;
using test::run_ved;

TEST(CliSolve, ReferenceFieldFromNpyGivesPublishedHeadRange) {
  std::string dir = test::temp_dir("solve");
  Site s = load_site("hanford");
  npy::write(dir + "/ref.npy", s.reference_log_t.data(), {1, 1475});
  auto r = run_ved("solve --input " + dir + "/ref.npy --threads 2 --out " + dir + "/heads.h5");
  ASSERT_EQ(r.code, 0) << r.err;
  auto f = h5::File::open_read(dir + "/heads.h5");
  std::vector<size_t> dims;
  auto h = f.read_double("/head", &dims);
  EXPECT_EQ(dims, (std::vector<size_t>{1, 1475}));
  auto w = f.read_double("/head_wells", &dims);
  EXPECT_EQ(dims, (std::vector<size_t>{1, 323}));
  EXPECT_NEAR(*std::min_element(w.begin(), w.end()), 104.47, 0.01);
  EXPECT_NEAR(*std::max_element(w.begin(), w.end()), 124.62, 0.01);
  EXPECT_NEAR(*std::max_element(h.begin(), h.end()), 126.54, 0.01);
}

TEST(CliSolve, WrongShapeAndMissingFileAreOneLineErrors) {
  std::string dir = test::temp_dir("solve_err");
  std::vector<double> v(100, 1.0);
  npy::write(dir + "/bad.npy", v.data(), {2, 50});
  auto r = run_ved("solve --input " + dir + "/bad.npy --out " + dir + "/o.h5");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("has shape [2, 50]; expected [K, 1475]"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir + "/o.h5"));
  r = run_ved("solve --input " + dir + "/missing.h5:/x --out " + dir + "/o.h5");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("missing.h5: file not found"), std::string::npos) << r.err;
  r = run_ved("solve --input " + dir + "/bad.npy --out /nonexistent-dir/o.h5");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
}

TEST(CliMap2Grid, HanfordImagesAndMask) {
  std::string dir = test::temp_dir("m2g");
  Site s = load_site("hanford");
  std::vector<double> two(2 * 1475);
  for (int c = 0; c < 1475; ++c) two[c] = two[1475 + c] = s.reference_log_t[c];
  npy::write(dir + "/f.npy", two.data(), {2, 1475});
  auto r = run_ved("map2grid --input " + dir + "/f.npy --out " + dir + "/img.h5");
  ASSERT_EQ(r.code, 0) << r.err;
  auto f = h5::File::open_read(dir + "/img.h5");
  std::vector<size_t> dims;
  auto img = f.read_double("/images", &dims);
  EXPECT_EQ(dims, (std::vector<size_t>{2, 69, 54}));
  auto mask = f.read_int("/mask", &dims);
  EXPECT_EQ(std::count(mask.begin(), mask.end(), 1), 1473);
  // Mean over filled pixels of a single-cell pixel equals that cell's value.
  auto cp = f.read_int("/cell_pixel", nullptr);
  auto count = f.read_int("/pixel_count", nullptr);
  for (int c = 0; c < 1475; ++c) {
    if (count[cp[c]] == 1) {
      EXPECT_DOUBLE_EQ(img[cp[c]], s.reference_log_t[c]);
    }
  }
}

TEST(CliConfig, UnknownKeyIsRejectedWithSuggestion) {
  std::string dir = test::temp_dir("cfg");
  std::ofstream(dir + "/run.toml") << "samples = 10\nthreds = 2\n";
  auto r = run_ved("generate --config " + dir + "/run.toml --out " + dir + "/d.h5");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("unknown key 'threds' for 'ved generate'; did you mean 'threads'?"), std::string::npos) << r.err;
  std::ofstream(dir + "/broken.toml") << "samples = = 10\n";
  r = run_ved("generate --config " + dir + "/broken.toml --out " + dir + "/d.h5");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("broken.toml:1"), std::string::npos) << r.err;
}

TEST(CliInfo, DescribesDatasetsAndRejectsOtherFiles) {
  std::string dir = test::temp_dir("info");
  auto r = run_ved("info " + data_dir() + "/hanford/geom_1x.mat");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("/cells/centroids"), std::string::npos);
  EXPECT_NE(r.out.find("[2, 1475]"), std::string::npos);
  std::ofstream(dir + "/x.txt") << "hello";
  r = run_ved("info " + dir + "/x.txt");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("not an HDF5 file, a .npy array or a folder"), std::string::npos) << r.err;
}

// The verbs as the program lists them (`ved --help`, section "Subcommands"), so that a new
// verb is covered without editing this test.
static std::vector<std::string> listed_verbs() {
  auto r = run_ved("--help");
  EXPECT_EQ(r.code, 0) << r.err;
  std::vector<std::string> verbs;
  std::istringstream lines(r.out);
  bool in_list = false;
  for (std::string line; std::getline(lines, line);) {
    if (line == "Subcommands:" || line == "SUBCOMMANDS:") {
      in_list = true;
    } else if (in_list && line.empty()) {
      break;
    } else if (in_list && line.size() > 2 && line.compare(0, 2, "  ") == 0 && line[2] != ' ') {
      verbs.push_back(line.substr(2, line.find(' ', 2) - 2));  // "  name   description"
    }
  }
  return verbs;
}

TEST(CliHelp, EveryVerbHasHelp) {
  const std::vector<std::string> verbs = listed_verbs();
  // The torch-free verbs, and with LibTorch the training verbs: the listing was read.
  for (const char* v : {"info", "solve", "map2grid", "generate", "sweep", "baseline", "report", "demo"})
    EXPECT_NE(std::find(verbs.begin(), verbs.end(), v), verbs.end()) << v << " is not listed by ved --help";
#ifdef VED_HAVE_TRAIN
  for (const char* v : {"train", "eval", "predict", "sample", "export"})
    EXPECT_NE(std::find(verbs.begin(), verbs.end(), v), verbs.end()) << v << " is not listed by ved --help";
#endif
  for (const std::string& verb : verbs) {
    auto r = run_ved(verb + " --help");
    EXPECT_EQ(r.code, 0) << verb << ": " << r.err;
    // The verb's own help: its usage line, and --config, which every verb has and the
    // top-level help has not.
    EXPECT_TRUE(r.out.find("Usage: " + verb + " ") != std::string::npos ||
                r.out.find("Usage: ved " + verb + " ") != std::string::npos)
        << verb << ":\n" << r.out;
    EXPECT_NE(r.out.find("--config"), std::string::npos) << verb << ":\n" << r.out;
    EXPECT_EQ(r.out.find("Subcommands:"), std::string::npos) << verb << " printed the top-level help";
  }
}

}  // namespace ved

namespace ved {

TEST(CliGenerate, DeterministicAcrossThreadCountsAndConsistentWithSolver) {
  std::string dir = test::temp_dir("gen");
  auto r1 = run_ved("generate --samples 300 --seed 5 --modes 300 --threads 1 --head --out " + dir + "/a.h5");
  ASSERT_EQ(r1.code, 0) << r1.err;
  auto r2 = run_ved("generate --samples 300 --seed 5 --modes 300 --threads 2 --head --out " + dir + "/b.h5");
  ASSERT_EQ(r2.code, 0) << r2.err;
  auto r3 = run_ved("generate --samples 300 --seed 6 --modes 300 --threads 2 --out " + dir + "/c.h5");
  ASSERT_EQ(r3.code, 0) << r3.err;
  Dataset a = read_dataset(dir + "/a.h5", {.load_head = true});
  Dataset b = read_dataset(dir + "/b.h5", {.load_head = true});
  Dataset c = read_dataset(dir + "/c.h5");
  EXPECT_TRUE(a.x == b.x);
  EXPECT_TRUE(a.y == b.y);
  EXPECT_TRUE(a.xi == b.xi);
  EXPECT_FALSE(a.x == c.x);
  ASSERT_EQ(a.x.rows(), 300);
  ASSERT_EQ(a.x.cols(), 1475);
  ASSERT_EQ(a.y.cols(), 323);
  ASSERT_EQ(a.xi.cols(), 300);
  ASSERT_EQ(a.head.cols(), 1475);
  EXPECT_EQ(a.mesh, "hanford");
  EXPECT_EQ(a.number_attrs["seed"], 5);
  EXPECT_TRUE(a.has_grid_map);
  EXPECT_EQ(a.grid_map.height, 69);
  // y holds the heads of x at the wells.
  for (int w = 0; w < 323; ++w) EXPECT_EQ(a.y(17, w), a.head(17, a.wells[w]));
  // xi are independent standard normals.
  EXPECT_NEAR(a.xi.mean(), 0.0, 0.01);
  EXPECT_NEAR(a.xi.squaredNorm() / a.xi.size(), 1.0, 0.02);
  // Heads of each realisation solve the flow problem: re-solve two rows with `ved solve`.
  npy::write(dir + "/rows.npy", a.x.data() + 40 * 1475, {2, 1475});
  auto rs = run_ved("solve --input " + dir + "/rows.npy --out " + dir + "/h.h5");
  ASSERT_EQ(rs.code, 0) << rs.err;
  auto h = h5::File::open_read(dir + "/h.h5").read_double("/head_wells", nullptr);
  for (int w = 0; w < 323; ++w) EXPECT_NEAR(h[323 + w], a.y(41, w), 1e-9);
}

TEST(CliGenerate, BadOptionsAreClearErrors) {
  std::string dir = test::temp_dir("gen_err");
  auto r = run_ved("generate --samples 0 --out " + dir + "/d.h5");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--samples 0: must be at least 1"), std::string::npos) << r.err;
  r = run_ved("generate --samples 5 --modes 5000 --out " + dir + "/d.h5");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--modes 5000 out of range [1, 1475]"), std::string::npos) << r.err;
  r = run_ved("generate --samples 5 --obs-size 7 --out " + dir + "/d.h5");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--obs-size must be one of"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir + "/d.h5"));
}

TEST(CliGenerate, ConditionalFieldsHonourObservations) {
  std::string dir = test::temp_dir("gen_cond");
  auto r = run_ved("generate --samples 20 --seed 2 --conditional --obs-size 50 --threads 2 --out " + dir + "/d.h5");
  ASSERT_EQ(r.code, 0) << r.err;
  Dataset d = read_dataset(dir + "/d.h5");
  Site s = load_site("hanford");
  auto sets = load_observation_sets(data_dir() + "/hanford/yobs_50_1x.npy", 1475);
  for (int cell : sets[0])
    for (int k = 0; k < 20; ++k) EXPECT_NEAR(d.x(k, cell), s.reference_log_t[cell], 1e-3) << "cell " << cell;
}

}  // namespace ved

namespace ved {

TEST(CliExamples, HanfordReferenceConfigBuildsTheSpecModel) {
#ifndef VED_HAVE_TRAIN
  GTEST_SKIP() << "this build has no `ved train` (configured with VED_WITH_TORCH=OFF)";
#endif
  std::string dir = test::temp_dir("example_ref");
  ASSERT_EQ(run_ved("generate --samples 80 --modes 50 --out " + dir + "/d.h5").code, 0);
  auto r = run_ved("train --config " + std::string(VED_SOURCE_DIR) + "/examples/hanford-reference.toml --data " + dir +
                   "/d.h5 --mesh hanford --latent 50 --epochs 1 --val-fraction 0 --threads 1 --out " + dir + "/run");
  ASSERT_EQ(r.code, 0) << r.err;
  // docs/method.md §3: 343,351 parameters at r = 50 with 323 outputs.
  EXPECT_NE(r.out.find("343351 parameters"), std::string::npos) << r.out;
}

}  // namespace ved
