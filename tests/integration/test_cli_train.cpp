// `ved train`, `ved eval`, `ved predict`, `ved sample` as a user runs them, on a small
// synthetic problem with a tiny model.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "cli_harness.hpp"
#include "support/json_lines.hpp"
#include "train_fixture.hpp"
#include "ved/data/dataset.hpp"
#include "ved/util/h5.hpp"
#include "ved/util/npy.hpp"

namespace ved {
namespace fs = std::filesystem;
using test::last_json_line;
using test::run_ved;

namespace {

const char* kTiny =
    " --latent 3 --encoder-stem 4 --encoder-stages 8,8 --decoder-hidden 32 --batch 16 --lr 0.01 --threads 1";

}  // namespace

TEST(CliTrain, TrainEvalPredictSample) {
  std::string dir = test::temp_dir("train");
  write_dataset(dir + "/d.h5", test::synthetic_dataset(120, 1));
  write_dataset(dir + "/other.h5", test::synthetic_dataset(30, 2));
  auto r = run_ved("train --data " + dir + "/d.h5 --out " + dir + "/run --epochs 2 --test-fraction 0.2" + kTiny);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("120 rows of"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(train 84, val 12, test 24)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("epoch 2/2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("trained 2 epochs"), std::string::npos) << r.out;
  for (const char* f : {"model.h5", "checkpoint.h5", "train.jsonl", "summary.json", "options.json"})
    EXPECT_TRUE(fs::exists(dir + "/run/" + f)) << f;

  // The run's own test rows (the training file is remembered), and a separate file.
  r = run_ved("eval --model " + dir + "/run --split test --json --threads 1");
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json j = last_json_line(r.out);
  EXPECT_EQ(j["n"], 24);
  for (const char* k : {"rel_l2", "rel_l2_fluct", "r2", "rmse"}) EXPECT_TRUE(j[k].is_number()) << k;
  EXPECT_LT(j["rel_l2"].get<double>(), j["rel_l2_fluct"].get<double>());  // y ~ 100 + O(1)
  r = run_ved("eval --model " + dir + "/run --data " + dir + "/other.h5 --split all --json --out " + dir + "/pred.npy");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(last_json_line(r.out)["n"], 30);
  EXPECT_EQ(npy::read(dir + "/pred.npy").dims, (std::vector<size_t>{30, 8}));
  r = run_ved("eval --model " + dir + "/run --data " + dir + "/other.h5 --split test");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("is not the file the model was trained on"), std::string::npos) << r.err;
  r = run_ved("eval --model " + dir + "/run --data " + dir + "/other.h5 --rows 0:30 --split val");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("are not the rows the model was trained on"), std::string::npos) << r.err;

  r = run_ved("predict --model " + dir + "/run --input " + dir + "/other.h5 --samples 5 --out " + dir + "/p.h5");
  ASSERT_EQ(r.code, 0) << r.err;
  auto f = h5::File::open_read(dir + "/p.h5");
  std::vector<size_t> dims;
  f.read_double("/y_mean", &dims);
  EXPECT_EQ(dims, (std::vector<size_t>{30, 8}));
  std::vector<double> sd = f.read_double("/y_std", &dims);
  EXPECT_GT(*std::min_element(sd.begin(), sd.end()), 0.0);
  f.read_double("/z_mu", &dims);
  EXPECT_EQ(dims, (std::vector<size_t>{30, 3}));
  r = run_ved("predict --model " + dir + "/run --input " + dir + "/other.h5:/x --samples 3 --out " + dir + "/p.npy");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(npy::read(dir + "/p_std.npy").dims, (std::vector<size_t>{30, 8}));
  // An extension it cannot write is refused before any work, and nothing is written.
  r = run_ved("predict --model " + dir + "/run --input " + dir + "/other.h5:/x --out " + dir + "/p.csv");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--out " + dir + "/p.csv: predict writes HDF5 (.h5, .hdf5) or NumPy (.npy) files"),
            std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/p.csv"));

  r = run_ved("sample --model " + dir + "/run --samples 7 --seed 3 --out " + dir + "/s.npy");
  ASSERT_EQ(r.code, 0) << r.err;
  npy::Array s = npy::read(dir + "/s.npy");
  EXPECT_EQ(s.dims, (std::vector<size_t>{7, 8}));
  EXPECT_GT(s.data[0], 90.0);  // physical units: around the offset of 100
  EXPECT_LT(s.data[0], 110.0);
}

TEST(CliTrain, ConfigFileStopAndResume) {
  std::string dir = test::temp_dir("train_cfg");
  write_dataset(dir + "/d.h5", test::synthetic_dataset(64, 3));
  {
    std::ofstream toml(dir + "/run.toml");
    toml << "latent = 2\nbatch = 16\nthreads = 1\nepochs = 3\n[encoder]\nstem = 4\nstages = [4, 8]\n"
         << "[decoder]\nhidden = [16]\n";
  }
  std::string cmd = "train --config " + dir + "/run.toml --data " + dir + "/d.h5 --out " + dir + "/run";
  auto r = run_ved(cmd + " --stop-after 1");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("stopped after epoch 1 of 3"), std::string::npos) << r.out;
  auto opts = nlohmann::json::parse(test::slurp(dir + "/run/options.json"));
  EXPECT_EQ(opts["model"]["stages"], nlohmann::json::parse("[4, 8]"));
  EXPECT_EQ(opts["model"]["latent"], 2);
  r = run_ved(cmd);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("already holds a training run"), std::string::npos) << r.err;
  r = run_ved(cmd + " --resume");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("resuming after epoch 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("trained 3 epochs (2 this run"), std::string::npos) << r.out;
  r = run_ved(cmd + " --resume --latent 5");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("option 'model' was"), std::string::npos) << r.err;
}

TEST(CliTrain, ClearErrors) {
  std::string dir = test::temp_dir("train_err");
  write_dataset(dir + "/d.h5", test::synthetic_dataset(40, 4));
  auto r = run_ved("train --data " + dir + "/d.h5 --out " + dir + "/run --device cuda");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("error: device 'cuda' requested but this LibTorch has no CUDA"), std::string::npos) << r.err;
  r = run_ved("train --data " + dir + "/d.h5 --out " + dir + "/run --encoder-stages 8,x");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--encoder-stages: 'x' in '8,x' is not an integer"), std::string::npos) << r.err;
  r = run_ved("train --data " + dir + "/d.h5 --out " + dir + "/run --rows 0:100");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("selects [0, 100) but the file has 40 rows"), std::string::npos) << r.err;
  r = run_ved("train --data " + dir + "/d.h5 --out " + dir + "/run --epochs 1 --batch 16" + std::string(kTiny));
  ASSERT_EQ(r.code, 0) << r.err;
  // One epoch of a few rows is a handful of optimiser steps: said, with what auto would run.
  EXPECT_NE(r.err.find("warning: --epochs 1 gives"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the automatic setting (--epochs 0) runs"), std::string::npos) << r.err;
  r = run_ved("eval --model " + dir + "/run --split test");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("the run has no test rows"), std::string::npos) << r.err;
  r = run_ved("eval --model " + dir + "/nothing --data " + dir + "/d.h5");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("not found"), std::string::npos) << r.err;
  r = run_ved("train --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("--encoder-stages"), std::string::npos);
  EXPECT_NE(r.out.find("16,32,64"), std::string::npos) << r.out;
}

}  // namespace ved

namespace ved {

// `ved demo --quick`: every step at a tiny scale, for two systems; the combined report has
// every section, five verdicts per system, and no external reference.
TEST(CliTrain, QuickDemoReportHasEverySection) {
  std::string dir = test::temp_dir("demo_quick");
  auto r = run_ved("demo --quick --threads 2 --systems steady,transport --out " + dir + "/demo");
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("quick scale: 400 + 100 realisations"), std::string::npos) << r.out;
  // The sweep step's own output (the demo shows its last line) states the design.
  const std::string sweep_out = test::slurp(dir + "/demo/steady/step3.out");
  EXPECT_NE(sweep_out.find("claims study, quick scale: training sizes 100, 200, 400, seeds 1,2, 40 optimiser steps"),
            std::string::npos) << sweep_out;
  // Every verdict is shown, not only the last.
  for (const char* id : {"claim 1 ", "claim 2 ", "claim 3 ", "claim 4 ", "claim open "})
    EXPECT_NE(r.out.find(id), std::string::npos) << id << "\n" << r.out;
  EXPECT_TRUE(fs::exists(dir + "/demo/steady/report.html"));
  // claims.json beside each system's report: the five claims, each with a verdict and numbers.
  const std::string claims = test::slurp(dir + "/demo/steady/claims.json");
  for (const char* id : {"\"id\": \"1\"", "\"id\": \"2\"", "\"id\": \"3\"", "\"id\": \"4\"", "\"id\": \"open\""})
    EXPECT_NE(claims.find(id), std::string::npos) << id << "\n" << claims;
  EXPECT_NE(claims.find("\"lo\""), std::string::npos);
  // Every VED run kept per-row errors for the intervals.
  size_t with_rows = 0, runs = 0;
  for (const auto& e : fs::directory_iterator(dir + "/demo/steady/sweep/runs")) {
    if (!fs::exists(e.path() / "result.json")) continue;
    ++runs;
    with_rows += test::slurp((e.path() / "result.json").string()).find("\"row_sq_err\"") != std::string::npos;
  }
  EXPECT_GT(runs, 30u);
  EXPECT_EQ(with_rows, runs);
  EXPECT_TRUE(fs::exists(dir + "/demo/transport/report.html"));
  const std::string html = test::slurp(dir + "/demo/report.html");
  EXPECT_NE(html.find("System: transport"), std::string::npos);
  for (const char* h : {"The paper's claims and the open question", "Reconstruction error against latent size",
                        "95% interval", "Disentanglement against the known factors",
                        "training-set size", "Encoder and decoder depth", "Maps of the domain", "prior samples",
                        "Latent traversal", "Open question: kernel PCA and diffusion maps"})
    EXPECT_NE(html.find(h), std::string::npos) << h;
  size_t verdicts = 0;
  for (const char* v : {">holds<", ">does not hold<", ">inconclusive<"})
    for (size_t p = html.find(v); p != std::string::npos; p = html.find(v, p + 1)) ++verdicts;
  EXPECT_EQ(verdicts, 10u);
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);
  EXPECT_EQ(html.find("href=\"http"), std::string::npos);
}

}  // namespace ved
