// The sweep's plan: grid expansion, presets, extra train options, the step budget and the
// claims study's design (docs/claims.md), checked against counts worked out by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "sweep_plan.hpp"
#include "ved/data/split.hpp"
#include "ved/nn/model_config.hpp"
#include "ved/util/error.hpp"

namespace ved::app {
namespace {

SweepOptions options() {
  SweepOptions o;
  o.data = "train.h5";
  o.test = "test.h5";
  o.out = "sweep";
  return o;
}

std::string arg_after(const std::vector<std::string>& cmd, const std::string& flag) {
  auto it = std::find(cmd.begin(), cmd.end(), flag);
  return it == cmd.end() || it + 1 == cmd.end() ? "" : *(it + 1);
}

}  // namespace

TEST(SweepPlan, GridIsTheProductOfItsAxes) {
  SweepOptions o = options();
  o.methods = "ved";
  o.latent = "10,50";
  o.beta = "0,1e-3";
  o.lambda = "0, 1e-2,1";  // spaces are trimmed
  o.seeds = "1,2";
  o.grid = {"decoder-layers=1,3"};
  auto plan = make_plan(o, 1000);
  EXPECT_EQ(plan.size(), 2u * 2 * 3 * 2 * 2);
  std::set<std::string> keys;
  for (const auto& r : plan) keys.insert(r.key);
  EXPECT_EQ(keys.size(), plan.size());  // every run has its own folder
  for (size_t i = 0; i < plan.size(); ++i) EXPECT_EQ(plan[i].index, i);
  // The extra axis becomes a `ved train` option and part of the key.
  const SweepRun& r = plan.back();
  ASSERT_EQ(r.train_options.size(), 1u);
  EXPECT_EQ(r.train_options[0].first, "decoder-layers");
  EXPECT_NE(r.key.find("decoder-layers"), std::string::npos);
}

TEST(SweepPlan, BaselinesHaveOneRunPerLatentAndSize) {
  SweepOptions o = options();
  o.methods = "cca,ridge,kridge";
  o.latent = "5,50,300";
  o.train_size = "100,0";
  o.seeds = "1,2,3";  // seeds do not multiply deterministic baselines
  auto plan = make_plan(o, 1000);
  // cca: r = 5, 50 at n = 100 (r < n), r = 5, 50, 300 at all rows; ridge and kridge: one per size.
  EXPECT_EQ(plan.size(), 2u + 3u + 2u + 2u);
  for (const auto& r : plan) {
    if (r.method == "cca") EXPECT_LT(r.params["latent"].get<int>(), r.params["train_size"].get<long>() ? 100 : 1000);
  }
}

TEST(SweepPlan, PresetsAreOneAxisWithTheirArguments) {
  SweepOptions o = options();
  o.presets = {"deep-encoder:--encoder-blocks 2 --decoder-hidden 256", "deep-decoder:--encoder-blocks 0"};
  o.train_args = "--batch 128";
  o.mesh = "grid:16x16";
  auto plan = make_plan(o, 1000);
  ASSERT_EQ(plan.size(), 2u);
  auto cmd = train_command(plan[0], o, "ved", "dir");
  EXPECT_EQ(arg_after(cmd, "--encoder-blocks"), "2");
  EXPECT_EQ(arg_after(cmd, "--decoder-hidden"), "256");
  EXPECT_EQ(arg_after(cmd, "--batch"), "128");
  EXPECT_EQ(arg_after(cmd, "--mesh"), "grid:16x16");
  EXPECT_EQ(plan[0].params["preset"], "deep-encoder");
  EXPECT_THROW(make_plan([] { SweepOptions b = options(); b.presets = {"no-colon"}; return b; }(), 10), Error);
  EXPECT_THROW(make_plan([] { SweepOptions b = options(); b.methods = "ved,lasso"; return b; }(), 10), Error);
  EXPECT_THROW(make_plan([] { SweepOptions b = options(); b.grid = {"=1"}; return b; }(), 10), Error);
}

TEST(SweepPlan, StepBudgetGivesEverySizeTheSameSteps) {
  SweepOptions o = options();
  o.steps = 1200;
  o.train_size = "750,3000";
  auto plan = make_plan(o, 3000);
  ASSERT_EQ(plan.size(), 2u);
  for (const auto& run : plan) {
    const long n = run.params["train_size"].get<long>();
    const int epochs = std::stoi(arg_after(train_command(run, o, "ved", "d"), "--epochs"));
    // Batches per epoch from the same split `ved train` makes (last partial batch dropped).
    const long rows = static_cast<long>(split_rows(n, 0.1, 0.0, 1).train.size());
    const long batches = rows / 64;
    EXPECT_GE(epochs * batches, 1200) << n;
    EXPECT_LT((epochs - 1) * batches, 1200) << n;  // the smallest such number of epochs
  }
  // 675 training rows of 750 give 10 batches: 120 epochs; 2,700 of 3,000 give 42: 29 epochs.
  EXPECT_EQ(arg_after(train_command(plan[0], o, "ved", "d"), "--epochs"), "120");
  EXPECT_EQ(arg_after(train_command(plan[1], o, "ved", "d"), "--epochs"), "29");
}

TEST(ClaimsStudy, DefaultScaleDesign) {
  SweepOptions o = options();
  o.scale = "default";
  auto grids = claims_study(o, 3000, 323);
  auto plan = make_study_plan(grids, 3000);
  size_t ved = 0;
  std::set<std::string> keys, methods;
  for (const auto& r : plan) {
    keys.insert(r.key);
    methods.insert(r.method);
    ved += r.method == "ved";
  }
  EXPECT_EQ(keys.size(), plan.size());  // shared arms are planned once
  // (β, λ) arms: 4 arms x 3 sizes x 3 seeds, 3 more β and 4 more λ arms at 3,000, 3 presets; x 3 seeds.
  EXPECT_EQ(ved, 36u + 9u + 12u + 9u);
  for (const char* m : {"cca", "rrr", "pca", "ridge", "kpca", "dmaps", "kpca-krr", "dmaps-krr", "krrr", "kridge"})
    EXPECT_TRUE(methods.count(m)) << m;
  // Every VED keeps its best-validation weights, is scored with per-row errors, and gets
  // the same optimiser-step budget.
  for (const auto& r : plan) {
    const SweepOptions& g = grids[r.grid];
    if (r.method == "ved") {
      auto cmd = train_command(r, g, "ved", "d");
      EXPECT_EQ(arg_after(cmd, "--keep"), "best");
      EXPECT_NE(g.eval_args.find("--row-errors"), std::string::npos);
      EXPECT_EQ(r.params["steps"], 1200);
    } else {
      auto cmd = baseline_command(r, g, "ved", {r.params["latent"].get<int>()});
      EXPECT_NE(std::find(cmd.begin(), cmd.end(), "--row-errors"), cmd.end());
    }
  }
}

TEST(ClaimsStudy, ArchitecturesMatchTheReferenceParameterCount) {
  SweepOptions o = options();
  auto grids = claims_study(o, 3000, 323);
  ModelConfig ref;
  ref.input_height = 69;
  ref.input_width = 54;
  ref.output_features = 323;
  const double target = static_cast<double>(count_parameters(ref));  // 343,351
  EXPECT_EQ(count_parameters(ref), 343351);
  int seen = 0;
  for (const auto& g : grids)
    for (const auto& p : g.presets) {
      // "NAME:--encoder-blocks B --decoder-hidden W,W,..."
      const std::vector<std::string> w = split_words(p.substr(p.find(':') + 1));
      ModelConfig c = ref;
      if (!arg_after(w, "--encoder-blocks").empty()) c.blocks = std::stoi(arg_after(w, "--encoder-blocks"));
      if (!arg_after(w, "--decoder-hidden").empty()) c.decoder_hidden = parse_int_list(arg_after(w, "--decoder-hidden"), "test");
      EXPECT_NEAR(count_parameters(c) / target, 1.0, 0.01) << p;
      ++seen;
    }
  EXPECT_EQ(seen, 3);  // deep encoder, deep decoder, plain blocks
  o.scale = "full";
  int full = 0;
  for (const auto& g : claims_study(o, 16000, 323)) full += static_cast<int>(g.presets.size());
  EXPECT_EQ(full, 9);  // encoder depth {0, 1, 2} x decoder depth {1, 2, 3} less the reference, and plain blocks
}

TEST(ClaimsStudy, SizesFollowTheData) {
  EXPECT_EQ(study_scale("default", 3000).sizes, (std::vector<long>{750, 1500, 3000}));
  EXPECT_EQ(study_scale("quick", 400).sizes, (std::vector<long>{100, 200, 400}));
  EXPECT_EQ(study_scale("full", 16000).sizes, (std::vector<long>{750, 1500, 3000, 6000, 12000, 16000}));
  EXPECT_EQ(study_scale("default", 16000).sizes.size(), 3u);  // first, middle and all rows
  EXPECT_THROW(study_scale("huge", 100), Error);
}

}  // namespace ved::app
