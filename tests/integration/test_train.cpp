// Training end to end on small synthetic problems: learning, exact resume, seeds,
// diagnosis of a diverging run, early stopping, and inference through TrainedModel.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "ved/data/dataset.hpp"
#include "ved/metrics/reconstruction.hpp"
#include "ved/train/preprocess.hpp"
#include "ved/train/trained_model.hpp"
#include "ved/train/trainer.hpp"
#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"
#include "ved/util/rng.hpp"
#include "train_fixture.hpp"

namespace ved {
namespace fs = std::filesystem;
using test::small_options;
using test::synthetic_dataset;

namespace {

std::string temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("ved_train_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

std::vector<float> read_all_params(const std::string& path) {
  auto f = h5::File::open_read(path);
  std::vector<float> all;
  for (const h5::ObjectInfo& o : f.list("/params")) {
    if (o.is_group) continue;
    std::vector<float> v = f.read_float(o.name, nullptr);
    all.insert(all.end(), v.begin(), v.end());
  }
  return all;
}

std::vector<std::string> lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

}  // namespace

TEST(Train, ResumeAfterTwoEpochsGivesTheSameModelAsFourEpochs) {
  std::string dir = temp_dir("resume");
  write_dataset(dir + "/d.h5", synthetic_dataset(96, 1));
  TrainOptions o = small_options(dir + "/d.h5", dir + "/full");
  o.epochs = 4;
  Trainer(o).run();

  TrainOptions a = small_options(dir + "/d.h5", dir + "/split");
  a.epochs = 4;
  a.stop_after = 2;
  TrainSummary first = Trainer(a).run();
  EXPECT_TRUE(first.interrupted);
  EXPECT_EQ(first.epochs_done, 2);
  EXPECT_FALSE(fs::exists(dir + "/split/model.h5"));
  a.stop_after = 0;
  a.resume = true;
  TrainSummary second = Trainer(a).run();
  EXPECT_TRUE(second.finished);
  EXPECT_EQ(second.epochs_this_run, 2);

  std::vector<float> p_full = read_all_params(dir + "/full/model.h5");
  std::vector<float> p_split = read_all_params(dir + "/split/model.h5");
  ASSERT_EQ(p_full.size(), p_split.size());
  ASSERT_GT(p_full.size(), 100u);
  EXPECT_TRUE(p_full == p_split) << "weights differ after resuming";
  // The log has one line per epoch, and the same losses.
  std::vector<std::string> l_full = lines(dir + "/full/train.jsonl"), l_split = lines(dir + "/split/train.jsonl");
  ASSERT_EQ(l_full.size(), 4u);
  ASSERT_EQ(l_split.size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(l_full[i].substr(0, l_full[i].find("\"samples_per_s\"")),
                                           l_split[i].substr(0, l_split[i].find("\"samples_per_s\"")));
}

TEST(Train, SameSeedSameModelOtherSeedOtherModel) {
  std::string dir = temp_dir("seed");
  write_dataset(dir + "/d.h5", synthetic_dataset(64, 2));
  std::vector<std::vector<float>> params;
  for (auto [name, seed] : {std::pair{"a", 5}, {"b", 5}, {"c", 6}}) {
    TrainOptions o = small_options(dir + "/d.h5", dir + "/" + name);
    o.seed = seed;
    o.epochs = 2;
    Trainer(o).run();
    params.push_back(read_all_params(dir + "/" + name + "/model.h5"));
  }
  EXPECT_TRUE(params[0] == params[1]);
  EXPECT_FALSE(params[0] == params[2]);
}

TEST(Train, MeshFieldsGoThroughMap2GridAndVectorsThroughTheMlp) {
  std::string dir = temp_dir("mesh");
  Dataset d = synthetic_dataset(64, 4);
  d.x_shape = {static_cast<size_t>(d.x.cols())};  // plain vectors of 12 x 10 = 120 cells
  write_dataset(dir + "/d.h5", d);
  TrainOptions o = small_options(dir + "/d.h5", dir + "/grid");
  o.mesh = "grid:10x12";
  o.epochs = 1;
  Trainer grid(o);
  EXPECT_NE(grid.describe().find("conv encoder on 1x12x10 images (grid_map)"), std::string::npos) << grid.describe();
  grid.run();
  TrainOptions v = small_options(dir + "/d.h5", dir + "/vec");
  v.mesh = "auto";  // no mesh attribute, no image shape: vectors
  v.mlp_hidden = "32";
  v.epochs = 1;
  Trainer vec(v);
  EXPECT_NE(vec.describe().find("MLP encoder on 120 features"), std::string::npos) << vec.describe();
  vec.run();
  TrainedModel m(dir + "/vec");
  EXPECT_EQ(m.meta().config.encoder, "mlp");
  v.encoder = "conv";
  v.out = dir + "/vec2";
  try {
    Trainer t(v);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the conv encoder needs images"), std::string::npos) << e.what();
  }
}

TEST(Train, DivergenceIsDiagnosedAndTheLastGoodCheckpointKept) {
  std::string dir = temp_dir("nan");
  write_dataset(dir + "/d.h5", synthetic_dataset(96, 5));
  TrainOptions o = small_options(dir + "/d.h5", dir + "/run");
  o.epochs = 3;
  o.stop_after = 1;
  Trainer(o).run();  // one good epoch
  o.stop_after = 0;
  o.resume = true;
  o.lr = 1e25;  // not a resumable option: compare the error, then force it through a new run
  try {
    Trainer t(o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("option 'lr' was 0.01 in the checkpoint but is 1e+25"), std::string::npos)
        << e.what();
  }
  TrainOptions bad = small_options(dir + "/d.h5", dir + "/bad");
  bad.lr = 1e25;
  bad.schedule = "constant";
  try {
    Trainer(bad).run();
    FAIL();
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("non-finite"), std::string::npos) << msg;
    EXPECT_NE(msg.find("at epoch 1, batch "), std::string::npos) << msg;
    EXPECT_NE(msg.find("No epoch completed"), std::string::npos) << msg;
  }
  EXPECT_FALSE(fs::exists(dir + "/bad/checkpoint.h5"));
  // An existing run is never overwritten without --resume.
  TrainOptions again = small_options(dir + "/d.h5", dir + "/run");
  try {
    Trainer t(again);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("already holds a training run"), std::string::npos) << e.what();
  }
}

TEST(Train, ScheduleAndKlWarmupAreAppliedPerEpoch) {
  std::string dir = temp_dir("sched");
  write_dataset(dir + "/d.h5", synthetic_dataset(64, 7));
  TrainOptions o = small_options(dir + "/d.h5", dir + "/run");
  o.epochs = 3;
  o.schedule = "step";
  o.step_size = 1;
  o.gamma = 0.5;
  o.beta = 0.2;
  o.lambda_offdiag = 0.03;
  o.lambda_diag = 0.05;
  o.kl_warmup = 2;
  o.batch = 48;  // 64 rows, 16 for validation: one batch per epoch, so β is the logged one
  Trainer(o).run();
  std::vector<std::string> l = lines(dir + "/run/train.jsonl");
  ASSERT_EQ(l.size(), 3u);
  const double lr[] = {1e-2, 5e-3, 2.5e-3}, beta[] = {0.1, 0.2, 0.2};
  for (int e = 0; e < 3; ++e) {
    auto j = nlohmann::json::parse(l[e]);
    EXPECT_EQ(j["epoch"], e + 1);
    EXPECT_DOUBLE_EQ(j["lr"].get<double>(), lr[e]);
    EXPECT_DOUBLE_EQ(j["beta"].get<double>(), beta[e]);
    for (const char* k : {"loss", "rec", "kl", "cov_offdiag", "cov_diag", "grad_norm", "val_loss", "val_rel_l2_fluct",
                          "val_r2", "seconds", "samples_per_s"})
      EXPECT_TRUE(j[k].is_number()) << k;
    // The logged total is REC + β·KL + λ_od·COV_od + λ_d·COV_d, with the epoch's β in
    // training and the full β in validation (float32 sums).
    auto total = [&](const std::string& p, double b) {
      return j[p + "rec"].get<double>() + b * j[p + "kl"].get<double>() +
             0.03 * j[p + "cov_offdiag"].get<double>() + 0.05 * j[p + "cov_diag"].get<double>();
    };
    EXPECT_NEAR(j["loss"].get<double>(), total("", beta[e]), 1e-5 * j["loss"].get<double>()) << l[e];
    EXPECT_NEAR(j["val_loss"].get<double>(), total("val_", 0.2), 1e-5 * j["val_loss"].get<double>()) << l[e];
    EXPECT_GT(j["kl"].get<double>(), 0.0);  // each weight is tested: no term is zero
    EXPECT_GT(j["cov_offdiag"].get<double>(), 0.0);
    EXPECT_GT(j["cov_diag"].get<double>(), 0.0);
  }
}

// The validation loss terms the trainer logs, computed by hand from the saved model's
// encodings and predictions on the validation rows (docs/method.md §2, in standardised
// outputs): REC = mean_b Σ_j ((ŷ_bj − y_bj)/s_j)², KL = mean_b ½Σ_i(μ² + σ² − log σ² − 1),
// C = Cov_b(μ) (unbiased) + diag(mean_b σ²), COV_od = Σ_{i≠j} C_ij², COV_d = Σ_i (C_ii − 1)².
TEST(Train, LoggedValidationLossEqualsTheTermsComputedByHand) {
  std::string dir = temp_dir("byhand");
  write_dataset(dir + "/d.h5", synthetic_dataset(64, 8));
  TrainOptions o = small_options(dir + "/d.h5", dir + "/run");
  o.epochs = 2;
  o.beta = 0.3;
  o.lambda_offdiag = 0.07;
  o.lambda_diag = 0.11;
  Trainer(o).run();
  std::vector<std::string> l = lines(dir + "/run/train.jsonl");
  ASSERT_EQ(l.size(), 2u);
  const auto j = nlohmann::json::parse(l.back());  // logged with the weights model.h5 keeps

  TrainedModel m(dir + "/run");
  Dataset d = read_dataset(dir + "/d.h5");
  const std::vector<int64_t>& val = m.meta().split.val;
  ASSERT_EQ(val.size(), 16u);
  MatrixRM x = take_rows(d.x, val), y = take_rows(d.y, val);
  MatrixRM y_hat = m.predict(x);  // physical units, z = μ
  Encodings e = m.encode(x);
  const Eigen::Index b = x.rows(), r = e.mu.cols();
  const Eigen::VectorXd& scale = m.meta().output.scale;
  double rec = 0, kl = 0;
  for (Eigen::Index i = 0; i < b; ++i) {
    for (Eigen::Index k = 0; k < y.cols(); ++k) rec += std::pow((y_hat(i, k) - y(i, k)) / scale[k], 2);
    for (Eigen::Index k = 0; k < r; ++k) {
      const double mu = e.mu(i, k), lv = e.logvar(i, k);
      kl += 0.5 * (mu * mu + std::exp(lv) - lv - 1);
    }
  }
  rec /= b;
  kl /= b;
  double cov_od = 0, cov_d = 0;
  for (Eigen::Index p = 0; p < r; ++p)
    for (Eigen::Index q = 0; q < r; ++q) {
      double mp = 0, mq = 0, c = 0, var = 0;
      for (Eigen::Index i = 0; i < b; ++i) mp += e.mu(i, p) / b, mq += e.mu(i, q) / b;
      for (Eigen::Index i = 0; i < b; ++i) c += (e.mu(i, p) - mp) * (e.mu(i, q) - mq) / (b - 1);
      if (p == q) {
        for (Eigen::Index i = 0; i < b; ++i) var += std::exp(e.logvar(i, p)) / b;
        cov_d += std::pow(c + var - 1, 2);
      } else {
        cov_od += c * c;
      }
    }
  std::printf("by hand: rec %.6g kl %.6g cov_od %.6g cov_d %.6g; logged %s\n", rec, kl, cov_od, cov_d, l.back().c_str());
  EXPECT_NEAR(j["val_rec"].get<double>(), rec, 1e-4 * rec);
  EXPECT_NEAR(j["val_kl"].get<double>(), kl, 1e-4 * kl);
  EXPECT_NEAR(j["val_cov_offdiag"].get<double>(), cov_od, 1e-4 * cov_od + 1e-7);
  EXPECT_NEAR(j["val_cov_diag"].get<double>(), cov_d, 1e-4 * cov_d + 1e-7);
  const double total = rec + 0.3 * kl + 0.07 * cov_od + 0.11 * cov_d;
  EXPECT_NEAR(j["val_loss"].get<double>(), total, 1e-4 * total);
}

TEST(Train, EarlyStoppingKeepsTheBestEpoch) {
  std::string dir = temp_dir("early");
  write_dataset(dir + "/d.h5", synthetic_dataset(64, 6));
  TrainOptions o = small_options(dir + "/d.h5", dir + "/run");
  o.epochs = 50;
  o.schedule = "constant";
  o.lr_min = 0;
  o.lr = 1e-30;  // weights cannot move: the validation loss never improves after epoch 1
  o.patience = 3;
  o.keep = "best";
  TrainSummary s = Trainer(o).run();
  EXPECT_TRUE(s.early_stopped);
  EXPECT_EQ(s.epochs_done, 4);
  EXPECT_EQ(s.best_epoch, 1);
  auto f = h5::File::open_read(dir + "/run/model.h5");
  EXPECT_EQ(f.attr_double("/", "selected_epoch"), 1.0);
}

}  // namespace ved

namespace ved {

// --precision bf16: the convolutions and matrix products of the training steps run in
// bfloat16 (8-bit mantissa), the weights, loss and Adam stay fp32. It must still learn,
// about as well as fp32 from the same seed, and store fp32 weights that differ from the
// fp32 run's (the arithmetic really changed).
TEST(Train, Bf16StepsLearnAboutAsWellAsFp32) {
  std::string dir = temp_dir("bf16");
  write_dataset(dir + "/d.h5", synthetic_dataset(240, 4));
  TrainSummary s[2];
  const char* names[2] = {"fp32", "bf16"};
  for (int k = 0; k < 2; ++k) {
    TrainOptions o = small_options(dir + "/d.h5", dir + "/" + names[k]);
    o.epochs = 30;
    o.lr = 3e-3;
    o.precision = names[k];
    s[k] = Trainer(o).run();
  }
  // An untrained model scores about 1 (train_learn reaches < 0.35 on 400 rows, 30 epochs).
  EXPECT_LT(s[0].val_rel_l2_fluct, 0.6);
  EXPECT_LT(s[1].val_rel_l2_fluct, 0.6);
  std::printf("val rel_l2_fluct: fp32 %.4f, bf16 %.4f\n", s[0].val_rel_l2_fluct, s[1].val_rel_l2_fluct);
  EXPECT_LT(s[1].val_rel_l2_fluct, 1.15 * s[0].val_rel_l2_fluct + 0.03)
      << "bf16 " << s[1].val_rel_l2_fluct << " vs fp32 " << s[0].val_rel_l2_fluct;
  const std::vector<float> p32 = read_all_params(dir + "/fp32/model.h5"), p16 = read_all_params(dir + "/bf16/model.h5");
  ASSERT_EQ(p32.size(), p16.size());
  EXPECT_FALSE(p32 == p16);
  std::ifstream options(dir + "/bf16/options.json");
  const nlohmann::json stored = nlohmann::json::parse(options);
  EXPECT_EQ(stored.at("precision"), "bf16");
}

TEST(Train, PrecisionIsValidated) {
  TrainOptions o = small_options("d.h5", "run");
  o.precision = "fp16";
  EXPECT_THROW(validate(o), Error);
  o.precision = "tf32";  // CUDA only
  try {
    validate(o);
    ADD_FAILURE() << "tf32 on the CPU was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--device cuda"), std::string::npos) << e.what();
  }
  o.device = "cuda";
  EXPECT_NO_THROW(validate(o));
}

}  // namespace ved
