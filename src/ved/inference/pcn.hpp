#pragma once
// Preconditioned Crank–Nicolson MCMC (Cotter, Roberts, Stuart & White 2013) for posteriors
//   p(xi | y) ∝ exp(L(xi)) N(xi; 0, I),   xi in R^d,
// optionally with two-stage delayed acceptance (Christen & Fox 2005): a cheap surrogate
// log-likelihood L~ screens each proposal and only the survivors pay for the exact L, with
// a second accept/reject that makes the chain target the exact posterior whatever L~ is.
// Torch-free; the forward models come in as callbacks.
//
//   PcnTarget t;  t.dim = 1000;
//   t.log_likelihood = [&](const Eigen::VectorXd& xi, Eigen::VectorXd* out, int worker) {...};
//   PcnOptions o;  o.chains = 4;  o.warmup = 1000;  o.samples = 2000;
//   std::vector<ChainState> chains = run_pcn(t, o);   // chains in parallel threads
//   ChainSummary s = summarise_chains(chains, o);     // acceptance, ESS, R-hat of L
//
// Randomness: iteration t of chain c draws from the stream (mix_seed(seed, c), t), so a
// chain does not depend on the thread that runs it, and a chain restarted from a saved
// ChainState continues bit for bit as if it had never stopped.
#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ved/util/array.hpp"

namespace ved::inference {

// The target: prior N(0, I_dim) times exp(log_likelihood). `outputs` receives what the
// model computed on the way (heads at the wells, [n_outputs]); it is kept with the state
// so that the posterior predictive costs no extra solves. `worker` in [0, threads) selects
// per-thread workspaces. Both callbacks may throw ved::Error (the run stops with it).
struct PcnTarget {
  int dim = 0;
  long n_outputs = 0;
  std::function<double(const Eigen::VectorXd& xi, Eigen::VectorXd* outputs, int worker)> log_likelihood;
  // Optional surrogate L~ (delayed acceptance); empty runs plain pCN.
  std::function<double(const Eigen::VectorXd& xi, int worker)> surrogate_log_likelihood;
};

struct PcnOptions {
  int chains = 4;                   // independent chains (R-hat needs >= 2)
  long warmup = 1000;               // iterations adapting the step, then discarded
  long samples = 2000;              // iterations per chain after warm-up
  int thin = 1;                     // keep every thin-th of them
  double beta = 0.1;                // initial pCN step: xi' = sqrt(1 - beta^2) xi + beta w
  double target_acceptance = 0.25;  // warm-up adapts beta towards this final acceptance rate
  int surrogate_steps = 1;          // surrogate pCN steps per exact check: 1 = Christen & Fox
  uint64_t seed = 0;
  int threads = 1;                  // chains run in parallel on this many threads
};

// Everything a chain needs to continue, and what it has kept (checkpointed as is).
struct ChainState {
  int chain = 0;
  long iteration = 0;               // iterations done, warm-up included
  double beta = 0;                  // current step
  Eigen::VectorXd xi;               // [dim] current state
  double log_lik = 0;               // L(xi)
  double surrogate_log_lik = 0;     // L~(xi) (delayed acceptance only)
  Eigen::VectorXd outputs;          // [n_outputs] model outputs at xi
  // Counts after warm-up: proposals, first-stage (surrogate) acceptances, exact checks,
  // final acceptances; exact and surrogate evaluations over the whole run.
  long proposals = 0, stage1_accepted = 0, stage2_proposals = 0, accepted = 0;
  long exact_calls = 0, surrogate_calls = 0;
  MatrixRM xi_samples;              // [kept, dim]
  MatrixRM output_samples;          // [kept, n_outputs]
  std::vector<double> log_lik_samples;  // [kept]
  long kept = 0;
};

// Iterations a chain keeps: samples / thin.
long kept_per_chain(const PcnOptions& o);

// A fresh chain: xi drawn from the prior with the chain's stream, its L (and L~) evaluated.
ChainState start_chain(const PcnTarget& t, const PcnOptions& o, int chain, int worker);

// Advances `s` until it has done `until` iterations (at most warmup + samples). `on_step`
// (may be empty) is called after every iteration; returning false stops early, leaving a
// state that run_chain can continue (used for checkpoints).
void run_chain(const PcnTarget& t, const PcnOptions& o, ChainState& s, long until, int worker,
               const std::function<bool(const ChainState&)>& on_step = {});

// Runs chains [first, first + count) to completion in parallel threads; `resume[i]`, when
// given and not empty, is the saved state of chain first + i. `on_step(state, worker)` as in
// run_chain (called from the worker threads).
std::vector<ChainState> run_pcn(const PcnTarget& t, const PcnOptions& o, int first = 0, int count = -1,
                                std::vector<ChainState> resume = {},
                                const std::function<bool(const ChainState&, int)>& on_step = {});

struct ChainSummary {
  long proposals = 0;
  double acceptance = 0;            // final acceptances / proposals (after warm-up)
  double acceptance_stage1 = 0;     // surrogate stage: passed / proposals (= acceptance without one)
  double acceptance_stage2 = 0;     // exact stage: accepted / exact checks
  long exact_calls = 0;             // whole run, warm-up included
  long surrogate_calls = 0;
  double beta_mean = 0;             // adapted steps, averaged over chains
  double ess_log_lik = 0;           // ESS and split R-hat of the log-likelihood trace (chain_diagnostics.hpp)
  double rhat_log_lik = 0;
};
ChainSummary summarise_chains(const std::vector<ChainState>& chains);

}  // namespace ved::inference
