// `ved` under mpirun: distributed generation equals a single process byte for byte, and a
// distributed sweep runs every run exactly once.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli_harness.hpp"
#include "ved/data/dataset.hpp"

namespace ved {
namespace fs = std::filesystem;
using test::run_ved;

namespace {
test::RunResult run_mpi(int ranks, const std::string& args) {
  // Root and oversubscription are what CI machines need.
  return test::run_command("mpirun --allow-run-as-root --oversubscribe -np " + std::to_string(ranks) + " " +
                           std::string(VED_BINARY) + " " + args);
}
}  // namespace

TEST(Mpi, GenerateOnSeveralRanksEqualsOneProcess) {
  std::string dir = test::temp_dir("mpi_gen");
  auto one = run_ved("generate --samples 300 --seed 4 --modes 150 --threads 2 --out " + dir + "/one.h5");
  ASSERT_EQ(one.code, 0) << one.err;
  Dataset a = read_dataset(dir + "/one.h5");
  for (int ranks : {2, 3}) {
    std::string out = dir + "/mpi" + std::to_string(ranks) + ".h5";
    auto r = run_mpi(ranks, "generate --samples 300 --seed 4 --modes 150 --threads 1 --out " + out);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("generated on " + std::to_string(ranks) + " MPI ranks"), std::string::npos) << r.out;
    Dataset b = read_dataset(out);
    EXPECT_TRUE(a.x == b.x) << ranks << " ranks";
    EXPECT_TRUE(a.y == b.y) << ranks << " ranks";
    EXPECT_TRUE(a.xi == b.xi) << ranks << " ranks";
    EXPECT_EQ(a.text_attrs["generator"], b.text_attrs["generator"]);
  }
}

TEST(Mpi, FailingRankAbortsTheJobWithAClearError) {
  std::string dir = test::temp_dir("mpi_err");
  auto r = run_mpi(2, "generate --samples 10 --modes 99999 --out " + dir + "/d.h5");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--modes 99999 out of range"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir + "/d.h5"));
}

TEST(Mpi, SweepRunsEachRunOnceAcrossRanks) {
  std::string dir = test::temp_dir("mpi_sweep");
  ASSERT_EQ(run_ved("generate --samples 300 --seed 1 --modes 100 --out " + dir + "/tr.h5").code, 0);
  ASSERT_EQ(run_ved("generate --samples 100 --first 300 --seed 1 --modes 100 --out " + dir + "/te.h5").code, 0);
  auto r = run_mpi(2, "sweep --data " + dir + "/tr.h5 --test " + dir + "/te.h5 --methods cca,pca --latent 2,5 --out " +
                          dir + "/sw");
  ASSERT_EQ(r.code, 0) << r.err;
  // Each rank announces its share: one baseline (both latent sizes, one fit) each.
  EXPECT_NE(r.out.find("sweep rank 0: 4 runs, 0 done, 2 to run here"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sweep rank 1: 4 runs, 0 done, 2 to run here"), std::string::npos) << r.out;
  std::ifstream csv(dir + "/sw/results.csv");
  int lines = 0;
  for (std::string l; std::getline(csv, l);) ++lines;
  EXPECT_EQ(lines, 5);  // header + 4 runs
  // A rerun finds everything done.
  r = run_mpi(2, "sweep --data " + dir + "/tr.h5 --test " + dir + "/te.h5 --methods cca,pca --latent 2,5 --out " + dir + "/sw");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("4 runs, 4 done, 0 to run here"), std::string::npos) << r.out;
}

}  // namespace ved
