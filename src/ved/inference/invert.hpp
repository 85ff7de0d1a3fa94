#pragma once
// Bayesian inversion of log-transmissivity fields from observed outputs at the wells
// (`ved invert`, docs/inference.md). The prior is the random-field model of `ved generate`:
// Y = mean + Psi xi, xi ~ N(0, I) over its KL modes. The likelihood is Gaussian with standard
// deviation sigma (outputs' units) at the observed outputs, through the exact forward model
// (SystemModel: TPFA steady heads or transient heads). pCN samples xi; with a surrogate
// (a trained VED predicting the outputs from the field), delayed acceptance.
//
//   InversionProblem p{&model.kl, &system, obs.index, 0.5};
//   p.surrogate = [&](const double* field, double* y, int worker) {...};   // optional
//   InvertOptions o;  o.pcn.chains = 4;
//   CaseResult r = invert_case(p, obs.value.row(c), o, c);
//   write_inversion("out.h5", p, obs, results, info);
//
// Chains of case c are checkpointed to o.checkpoint_dir/case<c>_chain<j>.h5 (atomically,
// every o.checkpoint_seconds and when they finish); a rerun with the same options continues
// from there and gives the same result as an uninterrupted run.
#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ved/inference/observations.hpp"
#include "ved/inference/pcn.hpp"
#include "ved/util/array.hpp"

namespace ved {
struct KlExpansion;
class SystemModel;
}  // namespace ved

namespace ved::inference {

// field [cells] log T -> outputs [n_outputs]; `worker` in [0, threads).
using FieldSurrogate = std::function<void(const double* field, double* outputs, int worker)>;

struct InversionProblem {
  const KlExpansion* kl = nullptr;      // prior: the generator's KL expansion
  const SystemModel* system = nullptr;  // exact forward model
  std::vector<int64_t> index;           // [k] observed output indices
  double noise = 0;                     // sigma, outputs' units
  FieldSurrogate surrogate;             // optional (delayed acceptance)
  // [k] or empty: extra variance of the surrogate's errors at the observed outputs (a VED's
  // decoder noise squared); the first stage uses sigma^2 + this, a closer screen of the
  // exact likelihood. The exact stage never sees it.
  Eigen::VectorXd surrogate_variance;
};

struct InvertOptions {
  PcnOptions pcn;
  std::string checkpoint_dir;           // empty: no checkpoints
  double checkpoint_seconds = 30;
  // The MPI share of the chains: this process runs chains [first, first + count).
  int chain_first = 0;
  int chain_count = -1;                 // -1: all
  // A text that must match between a checkpoint and the run resuming from it (options,
  // prior, observations); a mismatch discards the checkpoint.
  std::string fingerprint;
};

struct CaseResult {
  // Posterior of the field [cells] (log T) and of the model outputs [n_outputs] (no noise).
  Eigen::VectorXd field_mean, field_std, field_q05, field_q95;
  Eigen::VectorXd y_mean, y_std, y_q05, y_q95;
  ChainSummary chains;
  double ess_field_median = 0;  // ESS of the field, median and minimum over cells
  double ess_field_min = 0;
  double rhat_field_max = 0;    // split R-hat of the field, worst cell
  double ess = 0;               // headline: min(ESS of the log-likelihood, median field ESS)
  double solver_calls_per_ess = 0;
  double seconds = 0;           // wall time of this process for the case
  long resumed_chains = 0;      // chains continued from a checkpoint
};

// Samples the posterior of case `case_index` (observed [k]). Under a chain share
// (o.chain_count >= 0) the returned chains are this process's; gather them first
// (gather_chains) and call summarise_case on the whole set.
std::vector<ChainState> sample_case(const InversionProblem& p, const Eigen::VectorXd& observed,
                                    const InvertOptions& o, int case_index, long* resumed = nullptr);

// Field and output summaries and diagnostics from every chain of a case.
CaseResult summarise_case(const InversionProblem& p, const std::vector<ChainState>& chains, int threads);

// Under MPI: every rank's chains on rank 0 (other ranks get an empty vector). Single
// process: unchanged.
std::vector<ChainState> gather_chains(std::vector<ChainState> local, const PcnOptions& o, int dim, long n_outputs);

struct InversionInfo {
  std::string mesh;              // mesh spec ("hanford")
  std::string system;            // steady | transient
  std::string y_shape_json;      // per-case output shape, e.g. [323] or [323,10]
  std::vector<int> wells;        // [wells] observation cells
  std::string prior_json;        // the random-field model
  std::string options_json;      // sampler settings
  std::string surrogate;         // run folder, or empty
  MatrixRM truth;                // [N, cells] or empty
};

// OUT.h5 (docs/data-format.md), written atomically.
void write_inversion(const std::string& path, const InversionProblem& p, const Observations& obs,
                     const std::vector<CaseResult>& results, const InversionInfo& info);

// Fraction of cells whose truth lies in [q05, q95].
double interval_coverage(const Eigen::VectorXd& truth, const Eigen::VectorXd& lo, const Eigen::VectorXd& hi);

}  // namespace ved::inference
