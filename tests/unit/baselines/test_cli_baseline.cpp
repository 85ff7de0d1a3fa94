// `ved baseline` as a user runs it: JSON Lines output, the split and separate-test-file
// conventions, agreement with the library (linear and kernel baselines), ridge's alpha
// selection, config files, errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "integration/cli_harness.hpp"
#include "ved/baselines/linear.hpp"
#include "ved/baselines/nonlinear.hpp"
#include "ved/data/dataset.hpp"
#include "ved/data/split.hpp"
#include "ved/metrics/reconstruction.hpp"
#include "ved/util/rng.hpp"

namespace ved {
namespace {

using test::run_ved;

// 200 training rows (+ 50 in a separate test file): y linear in x plus noise, n = 12, m = 5.
struct Files {
  std::string dir, train, test;
  Dataset d, t;
};

const Files& files() {
  static const Files f = [] {
    Files out;
    out.dir = test::temp_dir("baseline_cli");
    NormalStream rng(99, 0);
    MatrixRM x(250, 12), w(12, 5), y(250, 5);
    for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = rng.normal();
    for (Eigen::Index i = 0; i < w.size(); ++i) w.data()[i] = rng.normal();
    y = x * w;
    for (Eigen::Index i = 0; i < y.size(); ++i) y.data()[i] += 0.5 * rng.normal() + 10.0;
    out.d.x = x.topRows(200);
    out.d.y = y.topRows(200);
    out.t.x = x.bottomRows(50);
    out.t.y = y.bottomRows(50);
    out.train = out.dir + "/train.h5";
    out.test = out.dir + "/test.h5";
    write_dataset(out.train, out.d);
    write_dataset(out.test, out.t);
    return out;
  }();
  return f;
}

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

MatrixRM take(const MatrixRM& a, const std::vector<int64_t>& rows) {
  MatrixRM out(static_cast<Eigen::Index>(rows.size()), a.cols());
  for (size_t i = 0; i < rows.size(); ++i) out.row(static_cast<Eigen::Index>(i)) = a.row(rows[i]);
  return out;
}

TEST(BaselineCli, CcaWithTestFileMatchesTheLibrary) {
  const Files& f = files();
  test::RunResult r = run_ved("baseline --method cca --cca-ridge-x 1e-4 --latent 4,1,2:3 --data " + f.train + " --test " +
                              f.test + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::vector<nlohmann::json> lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;
  LatentLinearModel cca = fit_cca(f.d.x, f.d.y);
  for (int i = 0; i < 4; ++i) {
    const nlohmann::json& j = lines[static_cast<size_t>(i)];
    EXPECT_EQ(j["method"], "cca");
    EXPECT_EQ(j["latent"], i + 1);  // ascending
    EXPECT_EQ(j["n_train"], 200);
    EXPECT_EQ(j["n_test"], 50);
    const ReconstructionMetrics m = reconstruction_metrics(f.t.y, cca.predict(f.t.x, i + 1), cca.y_mean);
    EXPECT_NEAR(j["rel_l2_fluct"].get<double>(), m.rel_l2_fluct, 1e-12);
    EXPECT_NEAR(j["rel_l2"].get<double>(), m.rel_l2, 1e-12);
    EXPECT_NEAR(j["r2"].get<double>(), m.r2, 1e-12);
    EXPECT_NEAR(j["canonical_correlation"].get<double>(), cca.spectrum[i], 1e-12);
    EXPECT_GE(j["fit_seconds"].get<double>(), 0.0);
  }
}

// Without --cca-ridge-x, eps_x is chosen per r by 5-fold cross-validation on the training
// rows: the library's fit_cca_cv, the same eps, model and scores.
TEST(BaselineCli, CcaCrossValidatesItsRidgeByDefault) {
  const Files& f = files();
  test::RunResult r = run_ved("baseline --method cca --latent 1,3,5 --data " + f.train + " --test " + f.test + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::vector<nlohmann::json> lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  const std::vector<Eigen::Index> latents = {1, 3, 5};
  const CcaCvModel cv = fit_cca_cv(f.d.x, f.d.y, latents);
  for (size_t i = 0; i < latents.size(); ++i) {
    const nlohmann::json& j = lines[i];
    const Eigen::Index k = latents[i];
    EXPECT_EQ(j["latent"], k);
    EXPECT_EQ(j["cca_ridge_selection"], "5-fold cv");
    EXPECT_EQ(j["cca_ridge_x"].get<double>(), cv.cv.eps[i]);
    EXPECT_EQ(j["cca_cv_grid"].get<std::vector<double>>(), cv.cv.eps_grid);
    const double best = *std::min_element(j["cca_cv_scores"].begin(), j["cca_cv_scores"].end());
    EXPECT_NEAR(best, cv.cv.scores.col(static_cast<Eigen::Index>(i)).minCoeff(), 1e-12);
    const LatentLinearModel& m = cv.model_for(k);
    const ReconstructionMetrics want = reconstruction_metrics(f.t.y, m.predict(f.t.x, k), m.y_mean);
    EXPECT_NEAR(j["rel_l2_fluct"].get<double>(), want.rel_l2_fluct, 1e-12) << "r = " << k;
  }
  test::RunResult bad = run_ved("baseline --method cca --cca-ridge-x often --data " + f.train);
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("--cca-ridge-x 'often': expected cv"), std::string::npos) << bad.err;
}

// Reduced-rank ridge regression: the library's fit, its alpha (leave-one-out without
// validation rows, as ridge) and, at the rank of the fit, ridge's own prediction.
TEST(BaselineCli, ReducedRankRegressionMatchesTheLibraryAndReachesRidge) {
  const Files& f = files();
  test::RunResult r = run_ved("baseline --method rrr --latent 1,2,5 --data " + f.train + " --test " + f.test +
                              " --json --row-errors");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::vector<nlohmann::json> lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  const MatrixRM none(0, f.d.x.cols()), none_y(0, f.d.y.cols());
  const ReducedRankFit fit = fit_reduced_rank(f.d.x, f.d.y, none, none_y);
  double previous = 1e300;
  for (size_t i = 0; i < 3; ++i) {
    const Eigen::Index k = lines[i]["latent"].get<Eigen::Index>();
    const ReconstructionMetrics want = reconstruction_metrics(f.t.y, fit.model.predict(f.t.x, k), fit.model.y_mean);
    EXPECT_NEAR(lines[i]["rel_l2_fluct"].get<double>(), want.rel_l2_fluct, 1e-12) << "r = " << k;
    EXPECT_EQ(lines[i]["alpha"].get<double>(), fit.ridge.alpha);
    EXPECT_EQ(lines[i]["alpha_selection"], "loo");
    EXPECT_EQ(lines[i]["row_sq_err"].size(), 50u);
    EXPECT_LE(lines[i]["explained_fitted"].get<double>(), 1.0 + 1e-12);
    previous = lines[i]["rel_l2_fluct"].get<double>();
  }
  // y has 5 outputs: rank 5 is the full ridge fit.
  test::RunResult ridge = run_ved("baseline --method ridge --data " + f.train + " --test " + f.test + " --json");
  ASSERT_EQ(ridge.code, 0) << ridge.err;
  EXPECT_NEAR(json_lines(ridge.out).at(0)["rel_l2_fluct"].get<double>(), previous, 1e-9);
}

// Kernel ridge (one line) and its rank-r truncation: the library's fit_kernel_regression.
TEST(BaselineCli, KernelRegressionMatchesTheLibrary) {
  const Files& f = files();
  test::RunResult full = run_ved("baseline --method kridge --data " + f.train + " --test " + f.test + " --json");
  ASSERT_EQ(full.code, 0) << full.err;
  test::RunResult low = run_ved("baseline --method krrr --latent 2,5 --data " + f.train + " --test " + f.test + " --json");
  ASSERT_EQ(low.code, 0) << low.err;
  const KernelRegression kr = fit_kernel_regression(f.d.x, f.d.y);
  const Eigen::VectorXd y_mean = f.d.y.colwise().mean().transpose();
  const std::vector<nlohmann::json> one = json_lines(full.out);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_TRUE(one[0]["latent"].is_null());
  EXPECT_NEAR(one[0]["rel_l2_fluct"].get<double>(), reconstruction_metrics(f.t.y, kr.predict(f.t.x), y_mean).rel_l2_fluct,
              1e-12);
  EXPECT_EQ(one[0]["krr_alpha"].get<double>(), kr.krr.alpha);
  const std::vector<nlohmann::json> lines = json_lines(low.out);
  ASSERT_EQ(lines.size(), 2u);
  std::vector<double> want;
  kr.predict_sweep(f.t.x, {2, 5}, [&](Eigen::Index, const MatrixRM& y_hat) {
    want.push_back(reconstruction_metrics(f.t.y, y_hat, y_mean).rel_l2_fluct);
  });
  EXPECT_NEAR(lines[0]["rel_l2_fluct"].get<double>(), want[0], 1e-12);
  EXPECT_NEAR(lines[1]["rel_l2_fluct"].get<double>(), want[1], 1e-12);
  // At full rank (m = 5) the truncation is kernel ridge itself.
  EXPECT_NEAR(lines[1]["rel_l2_fluct"].get<double>(), one[0]["rel_l2_fluct"].get<double>(), 1e-9);
}

TEST(BaselineCli, SplitUsesTheSharedSeededSplit) {
  const Files& f = files();
  test::RunResult r = run_ved("baseline --method pca --latent 3 --data " + f.train +
                              " --rows 0:150 --val-fraction 0.2 --test-fraction 0.2 --seed 5 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::vector<nlohmann::json> lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["n_train"], 90);
  EXPECT_EQ(lines[0]["n_val"], 30);
  EXPECT_EQ(lines[0]["n_test"], 30);
  const DataSplit s = split_rows(150, 0.2, 0.2, 5);
  LatentLinearModel pca = fit_pca(take(f.d.x, s.train), take(f.d.y, s.train));
  const ReconstructionMetrics m =
      reconstruction_metrics(take(f.d.y, s.test), pca.predict(take(f.d.x, s.test), 3), pca.y_mean);
  EXPECT_NEAR(lines[0]["rel_l2_fluct"].get<double>(), m.rel_l2_fluct, 1e-12);
}

TEST(BaselineCli, RidgeSelectsAlphaOnValidationOrByLooOrGcv) {
  const Files& f = files();
  test::RunResult split = run_ved("baseline --method ridge --data " + f.train + " --json");
  ASSERT_EQ(split.code, 0) << split.err;
  const std::vector<nlohmann::json> a = json_lines(split.out);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_TRUE(a[0]["latent"].is_null());
  EXPECT_EQ(a[0]["alpha_selection"], "validation");
  test::RunResult file = run_ved("baseline --method ridge --data " + f.train + " --test " + f.test + " --json");
  ASSERT_EQ(file.code, 0) << file.err;
  const std::vector<nlohmann::json> b = json_lines(file.out);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0]["alpha_selection"], "loo");  // no validation rows: leave-one-out by default
  const RidgeModel loo = fit_ridge(f.d.x, f.d.y, MatrixRM(0, 12), MatrixRM(0, 5));
  EXPECT_EQ(b[0]["alpha"], loo.alpha);
  EXPECT_NEAR(b[0]["rel_l2_fluct"].get<double>(),
              reconstruction_metrics(f.t.y, loo.predict(f.t.x), loo.y_mean).rel_l2_fluct, 1e-12);
  test::RunResult gcv =
      run_ved("baseline --method ridge --ridge-cv gcv --data " + f.train + " --test " + f.test + " --json");
  ASSERT_EQ(gcv.code, 0) << gcv.err;
  EXPECT_EQ(json_lines(gcv.out)[0]["alpha_selection"], "gcv");
  test::RunResult fixed =
      run_ved("baseline --method ridge --alpha 3.5 --data " + f.train + " --test " + f.test + " --json");
  ASSERT_EQ(fixed.code, 0) << fixed.err;
  EXPECT_EQ(json_lines(fixed.out)[0]["alpha"], 3.5);
}

TEST(BaselineCli, KernelPcaWithLinearDecoderMatchesTheLibrary) {
  const Files& f = files();
  test::RunResult r = run_ved("baseline --method kpca --latent 4,1,2:3 --bandwidth-factor 1.5 --data " + f.train +
                              " --test " + f.test + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::vector<nlohmann::json> lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;
  KernelEmbeddingOptions opt;
  opt.max_latent = 4;
  opt.bandwidth_factor = 1.5;
  const KernelEmbedding kpca = fit_kernel_pca(f.d.x, opt);
  const LinearDecoder dec = fit_linear_decoder(kpca.train_embedding, f.d.y);
  const MatrixRM z_test = kpca.embed(f.t.x, 4);
  for (int i = 0; i < 4; ++i) {
    const nlohmann::json& j = lines[static_cast<size_t>(i)];
    EXPECT_EQ(j["method"], "kpca");
    EXPECT_EQ(j["latent"], i + 1);  // ascending
    EXPECT_EQ(j["decoder"], "linear");
    EXPECT_EQ(j["n_train"], 200);
    EXPECT_EQ(j["n_test"], 50);
    EXPECT_NEAR(j["bandwidth"].get<double>(), kpca.bandwidth, 1e-12 * kpca.bandwidth);
    EXPECT_NEAR(j["bandwidth_factor"].get<double>(), 1.5, 1e-12);
    EXPECT_NEAR(j["median_distance"].get<double>(), kpca.median_distance, 1e-12 * kpca.median_distance);
    EXPECT_NEAR(j["eigenvalue"].get<double>(), kpca.eigenvalues[i], 1e-10 * kpca.eigenvalues[0]);
    EXPECT_NEAR(j["explained_kernel_variance"].get<double>(), kpca.eigenvalues.head(i + 1).sum() / kpca.kernel_trace,
                1e-10);
    const ReconstructionMetrics m = reconstruction_metrics(f.t.y, dec.decode(z_test.leftCols(i + 1)), dec.y_mean);
    EXPECT_NEAR(j["rel_l2_fluct"].get<double>(), m.rel_l2_fluct, 1e-9) << "r = " << i + 1;
    EXPECT_NEAR(j["rel_l2"].get<double>(), m.rel_l2, 1e-9);
    EXPECT_NEAR(j["r2"].get<double>(), m.r2, 1e-9);
    EXPECT_GE(j["embedding_fit_seconds"].get<double>(), 0.0);
  }
}

TEST(BaselineCli, DiffusionMapWithKernelRidgeDecoderMatchesTheLibrary) {
  const Files& f = files();
  test::RunResult r = run_ved("baseline --method dmaps --latent 2,3 --decoder krr --diffusion-time 0.5 --dmaps-alpha 0.5"
                              " --data " + f.train + " --test " + f.test + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::vector<nlohmann::json> lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  KernelEmbeddingOptions opt;
  opt.max_latent = 3;
  opt.diffusion_time = 0.5;
  opt.dmaps_alpha = 0.5;
  const KernelEmbedding dm = fit_diffusion_map(f.d.x, opt);
  const MatrixRM z_test = dm.embed(f.t.x, 3);
  for (int i = 0; i < 2; ++i) {
    const Eigen::Index latent = 2 + i;
    const nlohmann::json& j = lines[static_cast<size_t>(i)];
    EXPECT_EQ(j["method"], "dmaps");
    EXPECT_EQ(j["latent"], latent);
    EXPECT_EQ(j["decoder"], "krr");
    EXPECT_EQ(j["dmaps_alpha"], 0.5);
    EXPECT_EQ(j["diffusion_time"], 0.5);
    EXPECT_NEAR(j["eigenvalue"].get<double>(), dm.eigenvalues[latent - 1], 1e-10);
    const KernelRidgeDecoder krr = fit_kernel_ridge_decoder(dm.train_embedding.leftCols(latent), f.d.y);
    EXPECT_EQ(j["krr_alpha_selection"], "gcv");
    EXPECT_EQ(j["krr_alpha"], krr.alpha);
    EXPECT_EQ(j["krr_alpha_at_grid_edge"], krr.alpha_at_grid_edge);
    EXPECT_NEAR(j["krr_bandwidth"].get<double>(), krr.bandwidth, 1e-10 * krr.bandwidth);
    const ReconstructionMetrics m =
        reconstruction_metrics(f.t.y, krr.predict(z_test.leftCols(latent)), krr.y_mean);
    EXPECT_NEAR(j["rel_l2_fluct"].get<double>(), m.rel_l2_fluct, 1e-9) << "r = " << latent;
    EXPECT_NEAR(j["rmse"].get<double>(), m.rmse, 1e-9);
  }
}

TEST(BaselineCli, KernelErrorsSayWhatToDo) {
  const Files& f = files();
  test::RunResult too_big = run_ved("baseline --method kpca --latent 200 --data " + f.train + " --test " + f.test);
  EXPECT_EQ(too_big.code, 1);
  EXPECT_NE(too_big.err.find("error: --latent 200: kpca has at most N - 1 = 199 coordinates on these 200 training "
                             "rows; use latent sizes up to 199"),
            std::string::npos)
      << too_big.err;
  test::RunResult bad_alpha =
      run_ved("baseline --method dmaps --latent 2 --dmaps-alpha 1.5 --data " + f.train + " --test " + f.test);
  EXPECT_EQ(bad_alpha.code, 1);
  EXPECT_NE(bad_alpha.err.find("fit_diffusion_map: alpha = 1.5; expected a value in [0, 1]"), std::string::npos)
      << bad_alpha.err;
  test::RunResult tiny_h =
      run_ved("baseline --method kpca --latent 2 --bandwidth 1e-3 --data " + f.train + " --test " + f.test);
  EXPECT_EQ(tiny_h.code, 1);
  EXPECT_NE(tiny_h.err.find("fit_kernel_pca: bandwidth h = 0.001 is too small for these inputs"), std::string::npos)
      << tiny_h.err;
  EXPECT_NE(tiny_h.err.find("raise the bandwidth"), std::string::npos) << tiny_h.err;
  test::RunResult bad_decoder = run_ved("baseline --method kpca --decoder svm --data " + f.train);
  EXPECT_NE(bad_decoder.code, 0);
}

TEST(BaselineCli, ConfigFileAndTable) {
  const Files& f = files();
  const std::string config = f.dir + "/baseline.toml";
  std::ofstream(config) << "method = \"pca\"\nlatent = \"1:3\"\nseed = 2\n";
  test::RunResult r = run_ved("baseline --config " + config + " --data " + f.train);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("pca on " + f.train + " split 140 / 20 / 40 (train / val / test, seed 2)"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("rel_l2_fluct"), std::string::npos);
}

TEST(BaselineCli, ErrorsSayWhatToDo) {
  const Files& f = files();
  test::RunResult too_big = run_ved("baseline --method cca --latent 6 --data " + f.train + " --test " + f.test);
  EXPECT_EQ(too_big.code, 1);
  EXPECT_NE(too_big.err.find("error: --latent 6: cca has 5 usable directions"), std::string::npos) << too_big.err;
  EXPECT_NE(too_big.err.find("use latent sizes up to 5"), std::string::npos) << too_big.err;
  test::RunResult bad_list = run_ved("baseline --latent 2,x --data " + f.train);
  EXPECT_EQ(bad_list.code, 1);
  EXPECT_NE(bad_list.err.find("--latent '2,x': 'x' is not an integer"), std::string::npos) << bad_list.err;
  test::RunResult no_test = run_ved("baseline --test-fraction 0 --data " + f.train);
  EXPECT_EQ(no_test.code, 1);
  EXPECT_NE(no_test.err.find("no test rows: give --test FILE.h5"), std::string::npos) << no_test.err;
  test::RunResult bad_rows = run_ved("baseline --rows 0:999 --data " + f.train);
  EXPECT_EQ(bad_rows.code, 1);
  EXPECT_NE(bad_rows.err.find("--rows '0:999' selects [0, 999) but the file has 200 rows"), std::string::npos)
      << bad_rows.err;
  test::RunResult bad_method = run_ved("baseline --method lda --data " + f.train);
  EXPECT_NE(bad_method.code, 0);
}

}  // namespace
}  // namespace ved
