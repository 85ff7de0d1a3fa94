// pCN and delayed-acceptance pCN against closed forms: a linear-Gaussian model
// y = G xi + eps whose posterior is Gaussian with known mean and covariance; and the
// bit-for-bit continuation of a chain stopped and restarted from its saved state.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>

#include "ved/inference/chain_diagnostics.hpp"
#include "ved/inference/pcn.hpp"
#include "ved/util/error.hpp"
#include "ved/util/rng.hpp"

using namespace ved::inference;

namespace {

struct LinearGaussian {
  Eigen::MatrixXd g;       // [m, d]
  Eigen::VectorXd y;       // [m]
  double sigma = 0.5;
  Eigen::VectorXd mean;    // closed-form posterior
  Eigen::MatrixXd cov;
};

// m observations of a d-dimensional xi through a fixed random G.
LinearGaussian make_problem(int d, int m, double sigma) {
  LinearGaussian p;
  p.sigma = sigma;
  ved::NormalStream rng(42, 0);
  p.g.resize(m, d);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < d; ++j) p.g(i, j) = rng.normal();
  Eigen::VectorXd truth(d);
  for (int j = 0; j < d; ++j) truth[j] = rng.normal();
  p.y = p.g * truth;
  for (int i = 0; i < m; ++i) p.y[i] += sigma * rng.normal();
  // Posterior of N(0, I) prior and N(G xi, sigma^2 I) likelihood.
  Eigen::MatrixXd precision = Eigen::MatrixXd::Identity(d, d) + p.g.transpose() * p.g / (sigma * sigma);
  p.cov = precision.inverse();
  p.mean = p.cov * p.g.transpose() * p.y / (sigma * sigma);
  return p;
}

double gaussian_log_lik(const Eigen::MatrixXd& g, const Eigen::VectorXd& shift, const Eigen::VectorXd& y,
                        double sigma, const Eigen::VectorXd& xi) {
  return -0.5 * (g * xi + shift - y).squaredNorm() / (sigma * sigma);
}

PcnTarget exact_target(const LinearGaussian& p) {
  PcnTarget t;
  t.dim = static_cast<int>(p.g.cols());
  t.n_outputs = p.g.rows();
  t.log_likelihood = [&p](const Eigen::VectorXd& xi, Eigen::VectorXd* out, int) {
    *out = p.g * xi;
    return gaussian_log_lik(p.g, Eigen::VectorXd::Zero(p.y.size()), p.y, p.sigma, xi);
  };
  return t;
}

struct Moments {
  Eigen::VectorXd mean;
  Eigen::MatrixXd cov;
  Eigen::VectorXd ess;  // per coordinate
};

Moments moments(const std::vector<ChainState>& chains) {
  const int d = static_cast<int>(chains[0].xi_samples.cols());
  long n = 0;
  Moments m;
  m.mean = Eigen::VectorXd::Zero(d);
  for (const auto& c : chains) {
    m.mean += c.xi_samples.topRows(c.kept).colwise().sum().transpose();
    n += c.kept;
  }
  m.mean /= n;
  m.cov = Eigen::MatrixXd::Zero(d, d);
  for (const auto& c : chains) {
    Eigen::MatrixXd centred = c.xi_samples.topRows(c.kept).rowwise() - m.mean.transpose();
    m.cov += centred.transpose() * centred;
  }
  m.cov /= (n - 1);
  m.ess.resize(d);
  for (int j = 0; j < d; ++j) {
    Eigen::VectorXd draws(n);  // chain-major
    long at = 0;
    for (const auto& c : chains)
      for (long i = 0; i < c.kept; ++i) draws[at++] = c.xi_samples(i, j);
    m.ess[j] = chain_diagnostics(draws, static_cast<int>(chains.size())).ess;
  }
  return m;
}

// Mean within 4.5 Monte Carlo standard errors, covariance entries within 4.5 standard
// errors of a sample covariance of ESS independent Gaussian draws.
void expect_matches_posterior(const Moments& m, const LinearGaussian& p, const char* what) {
  const int d = static_cast<int>(p.mean.size());
  for (int i = 0; i < d; ++i) {
    const double se = std::sqrt(p.cov(i, i) / m.ess[i]);
    EXPECT_NEAR(m.mean[i], p.mean[i], 4.5 * se) << what << ": mean of xi_" << i << " (ESS " << m.ess[i] << ")";
    for (int j = 0; j < d; ++j) {
      const double ess = std::min(m.ess[i], m.ess[j]);
      const double se_c = std::sqrt((p.cov(i, i) * p.cov(j, j) + p.cov(i, j) * p.cov(i, j)) / ess);
      EXPECT_NEAR(m.cov(i, j), p.cov(i, j), 4.5 * se_c) << what << ": covariance (" << i << ", " << j << ")";
    }
  }
}

PcnOptions long_run() {
  PcnOptions o;
  o.chains = 4;
  o.threads = 2;
  o.warmup = 2000;
  o.samples = 20000;
  o.seed = 11;
  return o;
}

}  // namespace

TEST(Pcn, LinearGaussianPosteriorMatchesClosedForm) {
  LinearGaussian p = make_problem(4, 6, 0.5);
  std::vector<ChainState> chains = run_pcn(exact_target(p), long_run());
  Moments m = moments(chains);
  expect_matches_posterior(m, p, "pCN");
  EXPECT_GT(m.ess.minCoeff(), 1000) << "the chains should mix well on a 4-dimensional Gaussian";
  ChainSummary s = summarise_chains(chains);
  // Warm-up adapts beta to the target; the kept iterations accept at about that rate.
  EXPECT_NEAR(s.acceptance, 0.25, 0.06);
  EXPECT_EQ(s.acceptance_stage1, 1.0) << "plain pCN checks every proposal exactly";
  EXPECT_LT(s.rhat_log_lik, 1.01);
  // Recorded outputs are the model's at the kept state.
  const ChainState& c = chains[1];
  Eigen::VectorXd expect = p.g * c.xi_samples.row(7).transpose();
  EXPECT_LT((c.output_samples.row(7).transpose() - expect).norm(), 1e-12);
}

TEST(Pcn, DelayedAcceptanceWithBiasedSurrogateRecoversExactPosterior) {
  LinearGaussian p = make_problem(4, 6, 0.5);
  // A deliberately wrong surrogate: 10% too steep and offset by half a noise sd per output.
  Eigen::MatrixXd g_bad = 1.1 * p.g;
  Eigen::VectorXd shift = Eigen::VectorXd::Constant(p.y.size(), 0.5 * p.sigma);
  PcnTarget t = exact_target(p);
  t.surrogate_log_likelihood = [&](const Eigen::VectorXd& xi, int) {
    return gaussian_log_lik(g_bad, shift, p.y, p.sigma, xi);
  };
  // The surrogate's own posterior is far from the exact one: a chain that trusted it
  // would fail the comparison below.
  Eigen::MatrixXd prec_bad = Eigen::MatrixXd::Identity(4, 4) + g_bad.transpose() * g_bad / (p.sigma * p.sigma);
  Eigen::VectorXd mean_bad = prec_bad.inverse() * g_bad.transpose() * (p.y - shift) / (p.sigma * p.sigma);
  double gap = 0;
  for (int i = 0; i < 4; ++i) gap = std::max(gap, std::abs(mean_bad[i] - p.mean[i]) / std::sqrt(p.cov(i, i)));
  ASSERT_GT(gap, 1.0) << "the surrogate must be biased by more than a posterior sd";

  for (int steps : {1, 3}) {
    PcnOptions o = long_run();
    o.surrogate_steps = steps;
    std::vector<ChainState> chains = run_pcn(t, o);
    expect_matches_posterior(moments(chains), p, steps == 1 ? "delayed acceptance" : "delayed acceptance, 3 steps");
    ChainSummary s = summarise_chains(chains);
    EXPECT_LT(s.acceptance_stage2, 0.95) << "a biased surrogate must be corrected by the exact stage";
    EXPECT_GT(s.acceptance_stage2, 0.05);
    EXPECT_EQ(s.surrogate_calls, o.chains * (1 + (o.warmup + o.samples) * steps));
    EXPECT_LT(s.exact_calls, o.chains * (o.warmup + o.samples)) << "rejected screenings cost no exact solve";
  }
}

TEST(Pcn, StoppedChainContinuesBitForBit) {
  LinearGaussian p = make_problem(3, 5, 0.3);
  PcnTarget t = exact_target(p);
  PcnOptions o;
  o.chains = 1;
  o.warmup = 300;
  o.samples = 700;
  o.seed = 5;
  ChainState whole = start_chain(t, o, 0, 0);
  run_chain(t, o, whole, o.warmup + o.samples, 0);
  // Stop in the warm-up, then again after it, copying the state each time (a checkpoint).
  ChainState part = start_chain(t, o, 0, 0);
  run_chain(t, o, part, 120, 0);
  ChainState saved = part;
  run_chain(t, o, saved, 650, 0);
  ChainState saved2 = saved;
  run_chain(t, o, saved2, o.warmup + o.samples, 0);
  EXPECT_EQ(saved2.iteration, whole.iteration);
  EXPECT_EQ(saved2.beta, whole.beta);
  EXPECT_EQ(saved2.accepted, whole.accepted);
  EXPECT_EQ(saved2.exact_calls, whole.exact_calls);
  EXPECT_TRUE(saved2.xi_samples == whole.xi_samples);
  // A different chain index is a different stream.
  ChainState other = start_chain(t, o, 1, 0);
  EXPECT_FALSE(other.xi == start_chain(t, o, 0, 0).xi);
}

TEST(Pcn, BadOptionsAreClearErrors) {
  LinearGaussian p = make_problem(2, 2, 1.0);
  PcnOptions o;
  o.beta = 1.5;
  try {
    run_pcn(exact_target(p), o);
    FAIL() << "beta 1.5 accepted";
  } catch (const ved::Error& e) {
    EXPECT_NE(std::string(e.what()).find("--beta 1.5: must be in (0, 1]"), std::string::npos) << e.what();
  }
  o = PcnOptions();
  o.samples = 2;
  EXPECT_THROW(run_pcn(exact_target(p), o), ved::Error);
}
