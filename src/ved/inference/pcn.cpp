#include "ved/inference/pcn.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>

#include "ved/inference/chain_diagnostics.hpp"
#include "ved/util/error.hpp"
#include "ved/util/rng.hpp"

namespace ved::inference {
namespace {

// Step-size bounds: beta = 1 proposes independent prior draws.
constexpr double kBetaMin = 1e-5, kBetaMax = 1.0;

void check_options(const PcnTarget& t, const PcnOptions& o) {
  VED_CHECK(t.dim >= 1, "pCN: dimension " << t.dim << ": must be at least 1");
  VED_CHECK(static_cast<bool>(t.log_likelihood), "pCN: no log-likelihood given");
  VED_CHECK(o.chains >= 1, "--chains " << o.chains << ": must be at least 1");
  VED_CHECK(o.warmup >= 0, "--warmup " << o.warmup << ": must be >= 0");
  VED_CHECK(o.thin >= 1, "--thin " << o.thin << ": must be at least 1");
  VED_CHECK(o.samples >= 4 * o.thin, "--samples " << o.samples << ": must keep at least 4 draws per chain (--thin "
                                                  << o.thin << ")");
  VED_CHECK(o.beta > 0 && o.beta <= 1, "--beta " << o.beta << ": must be in (0, 1]");
  VED_CHECK(o.target_acceptance > 0 && o.target_acceptance < 1,
            "--target-acceptance " << o.target_acceptance << ": must be in (0, 1)");
  VED_CHECK(o.surrogate_steps >= 1, "--surrogate-steps " << o.surrogate_steps << ": must be at least 1");
  VED_CHECK(o.threads >= 1, "--threads " << o.threads << ": must be at least 1");
}

// log of a uniform draw in (0, 1): accept when it is below the log acceptance ratio.
double log_uniform(NormalStream& rng) { return std::log(rng.uniform()); }

// One pCN proposal from xi with step beta: reversible with respect to N(0, I), so the
// Metropolis–Hastings ratio is the likelihood ratio alone.
void propose(const Eigen::VectorXd& xi, double beta, NormalStream& rng, Eigen::VectorXd& out) {
  const double a = std::sqrt(1.0 - beta * beta);
  out.resize(xi.size());
  for (Eigen::Index i = 0; i < xi.size(); ++i) out[i] = a * xi[i] + beta * rng.normal();
}

double finite_or_reject(double v) { return std::isnan(v) ? -std::numeric_limits<double>::infinity() : v; }

}  // namespace

long kept_per_chain(const PcnOptions& o) { return o.samples / o.thin; }

ChainState start_chain(const PcnTarget& t, const PcnOptions& o, int chain, int worker) {
  check_options(t, o);
  ChainState s;
  s.chain = chain;
  s.beta = o.beta;
  // Stream index -1 (all ones) is never an iteration: the starting draw has its own.
  NormalStream rng(mix_seed(o.seed, static_cast<uint64_t>(chain)), ~0ULL);
  s.xi.resize(t.dim);
  for (int i = 0; i < t.dim; ++i) s.xi[i] = rng.normal();
  s.outputs.resize(t.n_outputs);
  s.log_lik = finite_or_reject(t.log_likelihood(s.xi, &s.outputs, worker));
  s.exact_calls = 1;
  if (t.surrogate_log_likelihood) {
    s.surrogate_log_lik = finite_or_reject(t.surrogate_log_likelihood(s.xi, worker));
    s.surrogate_calls = 1;
  }
  const long kept = kept_per_chain(o);
  s.xi_samples.resize(kept, t.dim);
  s.output_samples.resize(kept, t.n_outputs);
  s.log_lik_samples.assign(kept, 0.0);
  return s;
}

void run_chain(const PcnTarget& t, const PcnOptions& o, ChainState& s, long until, int worker,
               const std::function<bool(const ChainState&)>& on_step) {
  check_options(t, o);
  const long total = o.warmup + o.samples;
  until = std::min(until, total);
  const bool delayed = static_cast<bool>(t.surrogate_log_likelihood);
  Eigen::VectorXd proposal, sub, sub_next, outputs(t.n_outputs);
  while (s.iteration < until) {
    const long it = s.iteration;
    const bool warm = it < o.warmup;
    NormalStream rng(mix_seed(o.seed, static_cast<uint64_t>(s.chain)), static_cast<uint64_t>(it));
    double adapt_signal = 0;  // acceptance the warm-up adapts beta on
    bool accepted = false, checked = false, passed = false;
    if (!delayed) {
      propose(s.xi, s.beta, rng, proposal);
      double ll = finite_or_reject(t.log_likelihood(proposal, &outputs, worker));
      ++s.exact_calls;
      checked = passed = true;
      if (log_uniform(rng) < ll - s.log_lik) {
        accepted = true;
        s.xi.swap(proposal);
        s.outputs.swap(outputs);
        s.log_lik = ll;
      }
      adapt_signal = accepted ? 1 : 0;
    } else {
      // Stage 1: a pCN chain of surrogate_steps steps on the surrogate posterior (one step:
      // Christen & Fox's screening). It is reversible with respect to that posterior, so
      // the exact stage below corrects with the ratio of exact to surrogate likelihoods.
      sub = s.xi;
      double sub_ll = s.surrogate_log_lik;
      int moved = 0;
      for (int k = 0; k < o.surrogate_steps; ++k) {
        propose(sub, s.beta, rng, sub_next);
        double ll = finite_or_reject(t.surrogate_log_likelihood(sub_next, worker));
        ++s.surrogate_calls;
        if (log_uniform(rng) < ll - sub_ll) {
          sub.swap(sub_next);
          sub_ll = ll;
          ++moved;
        }
      }
      passed = moved > 0;
      if (passed) {
        // Stage 2: the exact model corrects (a rejection keeps the current state).
        checked = true;
        double ll = finite_or_reject(t.log_likelihood(sub, &outputs, worker));
        ++s.exact_calls;
        const double log_ratio = (ll - s.log_lik) - (sub_ll - s.surrogate_log_lik);
        if (log_uniform(rng) < log_ratio) {
          accepted = true;
          s.xi.swap(sub);
          s.outputs.swap(outputs);
          s.log_lik = ll;
          s.surrogate_log_lik = sub_ll;
        }
      }
      // Adapting on the final acceptance, not the surrogate's: where the surrogate is far
      // off (a chain starting in the prior's tails), a step tuned to the surrogate alone
      // grows until the exact stage rejects nearly everything and the chain sticks.
      adapt_signal = accepted ? 1 : 0;
    }
    if (warm) {
      // Robbins–Monro on log beta towards the target acceptance; beta is fixed afterwards,
      // so the kept iterations form a time-homogeneous chain.
      const double gain = 1.0 / std::sqrt(static_cast<double>(it) + 10.0);
      s.beta = std::clamp(s.beta * std::exp(gain * (adapt_signal - o.target_acceptance)), kBetaMin, kBetaMax);
    } else {
      ++s.proposals;
      if (passed) ++s.stage1_accepted;
      if (checked) ++s.stage2_proposals;
      if (accepted) ++s.accepted;
      const long j = it - o.warmup + 1;  // 1-based post-warm-up iteration
      if (j % o.thin == 0) {
        const long row = j / o.thin - 1;
        s.xi_samples.row(row) = s.xi.transpose();
        if (t.n_outputs > 0) s.output_samples.row(row) = s.outputs.transpose();
        s.log_lik_samples[row] = s.log_lik;
        s.kept = row + 1;
      }
    }
    ++s.iteration;
    if (on_step && !on_step(s)) return;
  }
}

std::vector<ChainState> run_pcn(const PcnTarget& t, const PcnOptions& o, int first, int count,
                                std::vector<ChainState> resume,
                                const std::function<bool(const ChainState&, int)>& on_step) {
  check_options(t, o);
  if (count < 0) count = o.chains - first;
  VED_CHECK(first >= 0 && count >= 0 && first + count <= o.chains,
            "pCN: chains [" << first << ", " << first + count << ") outside [0, " << o.chains << ")");
  std::vector<ChainState> chains(count);
  resume.resize(count);
  std::string error;
  const long total = o.warmup + o.samples;
#pragma omp parallel for num_threads(std::min(o.threads, std::max(count, 1))) schedule(dynamic, 1)
  for (int i = 0; i < count; ++i) {
    const int worker = omp_get_thread_num();
    try {
      if (resume[i].xi.size() == t.dim) chains[i] = std::move(resume[i]);
      else chains[i] = start_chain(t, o, first + i, worker);
      std::function<bool(const ChainState&)> step;
      if (on_step) step = [&](const ChainState& s) { return on_step(s, worker); };
      run_chain(t, o, chains[i], total, worker, step);
    } catch (const std::exception& e) {
#pragma omp critical(ved_pcn_error)
      if (error.empty()) error = "chain " + std::to_string(first + i) + ": " + e.what();
    }
  }
  VED_CHECK(error.empty(), error);
  return chains;
}

ChainSummary summarise_chains(const std::vector<ChainState>& chains) {
  ChainSummary s;
  VED_CHECK(!chains.empty(), "no chains to summarise");
  long stage1 = 0, stage2_prop = 0, acc = 0;
  const long kept = chains[0].kept;
  Eigen::VectorXd ll(kept * static_cast<long>(chains.size()));  // chain-major
  for (const ChainState& c : chains) {
    s.proposals += c.proposals;
    stage1 += c.stage1_accepted;
    stage2_prop += c.stage2_proposals;
    acc += c.accepted;
    s.exact_calls += c.exact_calls;
    s.surrogate_calls += c.surrogate_calls;
    s.beta_mean += c.beta / chains.size();
    VED_CHECK(c.kept == kept, "chain " << c.chain << " kept " << c.kept << " draws; chain " << chains[0].chain
                                      << " kept " << kept);
    const long at = kept * (&c - chains.data());
    for (long i = 0; i < kept; ++i) ll[at + i] = c.log_lik_samples[i];
  }
  s.acceptance = s.proposals ? static_cast<double>(acc) / s.proposals : 0;
  s.acceptance_stage1 = s.proposals ? static_cast<double>(stage1) / s.proposals : 0;
  s.acceptance_stage2 = stage2_prop ? static_cast<double>(acc) / stage2_prop : 0;
  if (kept >= 4) {
    ChainDiagnostics d = chain_diagnostics(ll, static_cast<int>(chains.size()));
    s.ess_log_lik = d.ess;
    s.rhat_log_lik = d.rhat;
  }
  return s;
}

}  // namespace ved::inference
