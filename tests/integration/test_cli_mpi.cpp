// `ved` under mpirun: distributed generation equals a single process byte for byte, and a
// distributed sweep runs every run exactly once.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli_harness.hpp"
#include "train_fixture.hpp"
#include "ved/data/dataset.hpp"
#include "ved/util/npy.hpp"

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

#ifdef VED_HAVE_TRAIN
namespace {
std::vector<nlohmann::json> log_lines(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

void expect_same_training(const std::string& a, const std::string& b, double tol) {
  std::vector<nlohmann::json> la = log_lines(a + "/train.jsonl"), lb = log_lines(b + "/train.jsonl");
  ASSERT_EQ(la.size(), lb.size());
  ASSERT_FALSE(la.empty());
  for (size_t e = 0; e < la.size(); ++e)
    for (const char* k : {"loss", "rec", "kl", "cov_offdiag", "cov_diag", "grad_norm", "val_loss", "val_rel_l2"}) {
      const double x = la[e][k], y = lb[e][k];
      EXPECT_NEAR(x, y, tol * std::max(1.0, std::abs(x))) << "epoch " << e + 1 << " " << k;
    }
}
}  // namespace

// Data-parallel training: 2 ranks with half of each batch of 16 follow the same loss
// trajectory (covariance penalty of the global batch included) and end with the same model
// as one process with the whole batch.
TEST(Mpi, TrainOnTwoRanksEqualsOneProcess) {
  std::string dir = test::temp_dir("mpi_train");
  write_dataset(dir + "/d.h5", test::synthetic_dataset(160, 5));
  const std::string opts = " --latent 3 --encoder-stem 4 --encoder-stages 8,8 --decoder-hidden 32 --batch 16 --lr 0.01"
                           " --epochs 3 --threads 1 --quiet --data " + dir + "/d.h5";
  auto r = run_ved("train" + opts + " --out " + dir + "/one");
  ASSERT_EQ(r.code, 0) << r.err;
  r = run_mpi(2, "train" + opts + " --out " + dir + "/two");
  ASSERT_EQ(r.code, 0) << r.err;
  expect_same_training(dir + "/one", dir + "/two", 1e-5);
  EXPECT_EQ(nlohmann::json::parse(test::slurp(dir + "/two/summary.json"))["mpi_ranks"], 2);

  // Same predictions from both models.
  ASSERT_EQ(run_ved("predict --model " + dir + "/one --input " + dir + "/d.h5 --samples 0 --out " + dir + "/p1.npy").code, 0);
  ASSERT_EQ(run_ved("predict --model " + dir + "/two --input " + dir + "/d.h5 --samples 0 --out " + dir + "/p2.npy").code, 0);
  npy::Array p1 = npy::read(dir + "/p1.npy"), p2 = npy::read(dir + "/p2.npy");
  ASSERT_EQ(p1.data.size(), p2.data.size());
  for (size_t i = 0; i < p1.data.size(); ++i) ASSERT_NEAR(p1.data[i], p2.data[i], 1e-4 * std::abs(p1.data[i])) << i;

  // Stopped after one epoch and resumed on 2 ranks: the same as the uninterrupted run.
  r = run_mpi(2, "train" + opts + " --out " + dir + "/resumed --stop-after 1");
  ASSERT_EQ(r.code, 0) << r.err;
  r = run_mpi(2, "train" + opts + " --out " + dir + "/resumed --resume");
  ASSERT_EQ(r.code, 0) << r.err;
  expect_same_training(dir + "/two", dir + "/resumed", 1e-6);

  r = run_mpi(2, "train" + opts + " --batch 15 --out " + dir + "/odd");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("must be a multiple of the 2 MPI ranks"), std::string::npos) << r.err;
}
#endif

}  // namespace ved

