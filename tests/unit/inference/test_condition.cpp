// ved condition's sampler on a VED whose decoder is linear: the posterior of z and the
// predictive distribution of y are Gaussian and known in closed form, so the HMC draws
// must reproduce them within Monte Carlo error (judged by their own effective sample size).
#include <gtest/gtest.h>
#include <unistd.h>

#include <Eigen/Cholesky>
#include <Eigen/LU>

#include <cmath>
#include <filesystem>

#include "ved/inference/condition.hpp"
#include "support/linear_ved.hpp"
#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"

namespace fs = std::filesystem;
using namespace ved;
using namespace ved::inference;

namespace {

constexpr int kR = test::LinearVed::kR, kM = test::LinearVed::kM;

test::LinearVed write_linear_model(std::string* path) {
  *path = (fs::temp_directory_path() / ("ved_linear_model_" + std::to_string(::getpid()) + ".h5")).string();
  return test::write_linear_ved(*path);
}

}  // namespace

TEST(ConditionLinearDecoder, HmcMatchesClosedFormGaussianPosterior) {
  std::string path;
  test::LinearVed lm = write_linear_model(&path);
  // Two outputs observed (fewer than r = 3: one latent direction keeps its prior spread),
  // two cases, measurement noise σ = 0.2 added to the decoder noise.
  Observations obs;
  obs.index = {3, 1};
  obs.value.resize(2, 2);
  obs.value << 9.0, -2.5, 4.0, -3.6;
  obs.source = "test";
  ConditionOptions opt;
  opt.noise = 0.2;
  opt.hmc.chains = 4;
  opt.hmc.warmup = 300;
  opt.hmc.samples = 1500;
  opt.hmc.leapfrog = 8;
  opt.hmc.seed = 5;
  ConditionResult res = condition_ved(path, obs, opt);

  Eigen::MatrixXd a_o(2, kR);
  Eigen::VectorXd nvar(2);
  for (int j = 0; j < 2; ++j) {
    a_o.row(j) = lm.a_mat.row(obs.index[j]);
    nvar[j] = 0.2 * 0.2 + lm.s[obs.index[j]] * lm.s[obs.index[j]];
  }
  const Eigen::MatrixXd prec = Eigen::MatrixXd::Identity(kR, kR) + a_o.transpose() * nvar.cwiseInverse().asDiagonal() * a_o;
  const Eigen::MatrixXd cov_z = prec.inverse();
  const Eigen::MatrixXd cov_y = lm.a_mat * cov_z * lm.a_mat.transpose() + Eigen::MatrixXd(lm.s.cwiseAbs2().asDiagonal());
  for (int c = 0; c < 2; ++c) {
    Eigen::VectorXd resid(2);
    for (int j = 0; j < 2; ++j) resid[j] = obs.value(c, j) - lm.a[obs.index[j]];
    const Eigen::VectorXd mu_z = cov_z * a_o.transpose() * nvar.cwiseInverse().asDiagonal() * resid;
    const MatrixRM& z = res.latent.draws[c];
    ASSERT_EQ(z.rows(), 4 * 1500);
    const Eigen::RowVectorXd zbar = z.colwise().mean();
    const Eigen::MatrixXd zc = z.rowwise() - zbar;
    const Eigen::MatrixXd cov_hat = zc.transpose() * zc / (z.rows() - 1.0);
    for (int d = 0; d < kR; ++d) {
      const double ess = res.latent.ess(c, d);
      EXPECT_GT(ess, 1000) << "case " << c << " dim " << d;
      EXPECT_LT(res.latent.rhat(c, d), 1.01);
      const double sd = std::sqrt(cov_z(d, d));
      // Mean within 4 Monte Carlo standard errors; variance within 4 of its (Gaussian) s.e.
      EXPECT_NEAR(zbar[d], mu_z[d], 4 * sd / std::sqrt(ess)) << "case " << c << " dim " << d;
      EXPECT_NEAR(cov_hat(d, d), cov_z(d, d), 4 * std::sqrt(2.0 / ess) * cov_z(d, d)) << "case " << c << " dim " << d;
      for (int e = 0; e < d; ++e)
        EXPECT_NEAR(cov_hat(d, e), cov_z(d, e), 4 * std::sqrt((cov_z(d, d) * cov_z(e, e) + cov_z(d, e) * cov_z(d, e)) / ess))
            << "case " << c << " dims " << d << "," << e;
    }
    // Predictive of y = f(z) + s ⊙ ε over every output.
    const Eigen::VectorXd mu_y = lm.a + lm.a_mat * mu_z;
    const double ess_min = res.latent.ess.row(c).minCoeff();
    for (int i = 0; i < kM; ++i) {
      const double sd = std::sqrt(cov_y(i, i));
      EXPECT_NEAR(res.predictive.mean(c, i), mu_y[i], 4 * sd / std::sqrt(ess_min)) << "case " << c << " output " << i;
      EXPECT_NEAR(res.predictive.std(c, i), sd, 0.05 * sd) << "case " << c << " output " << i;
      EXPECT_NEAR(res.predictive.q95(c, i), mu_y[i] + 1.6448536269514722 * sd, 0.1 * sd) << "case " << c << " output " << i;
    }
    for (int ch = 0; ch < 4; ++ch) {
      EXPECT_GT(res.latent.accept(c, ch), 0.6);
      EXPECT_GT(res.latent.step_size(c, ch), 0);
    }
    EXPECT_EQ(res.latent.divergent[c], 0);
  }
  fs::remove(path);
}

TEST(ConditionLinearDecoder, PredictiveWithoutDecoderNoiseIsTheLatentSpreadAlone) {
  std::string path;
  test::LinearVed lm = write_linear_model(&path);
  Observations obs;
  obs.index = {0, 2, 4};
  obs.value.resize(1, 3);
  obs.value << 11, 0.2, 2.1;
  obs.source = "test";
  ConditionOptions opt;
  opt.predictive_noise = false;
  opt.hmc.warmup = 200;
  opt.hmc.samples = 800;
  opt.hmc.leapfrog = 8;
  ConditionResult res = condition_ved(path, obs, opt);
  Eigen::MatrixXd a_o(3, kR);
  Eigen::VectorXd nvar(3);
  for (int j = 0; j < 3; ++j) {
    a_o.row(j) = lm.a_mat.row(obs.index[j]);
    nvar[j] = lm.s[obs.index[j]] * lm.s[obs.index[j]];  // no --noise: decoder noise only
  }
  const Eigen::MatrixXd cov_z =
      (Eigen::MatrixXd::Identity(kR, kR) + a_o.transpose() * nvar.cwiseInverse().asDiagonal() * a_o).inverse();
  const Eigen::MatrixXd cov_f = lm.a_mat * cov_z * lm.a_mat.transpose();
  for (int i = 0; i < kM; ++i)
    EXPECT_NEAR(res.predictive.std(0, i), std::sqrt(cov_f(i, i)), 0.07 * std::sqrt(cov_f(i, i))) << "output " << i;
  EXPECT_NEAR(res.noise_std[1], lm.s[2], 1e-12);
  fs::remove(path);
}
