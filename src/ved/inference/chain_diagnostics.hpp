#pragma once
// Convergence diagnostics of Markov chains (torch-free): split-R̂ and the multi-chain
// effective sample size of Gelman et al., Bayesian Data Analysis (3rd ed.) §11.4-11.5, with
// Geyer's initial monotone sequence estimator for the autocorrelation sum, as in Stan.
//
//   // draws: M chains of n draws of one scalar, chain c's draws at rows [c*n, (c+1)*n)
//   ChainDiagnostics d = chain_diagnostics(draws, M);
//   d.ess;   // effective sample size over all chains (≤ M·n·log10(M·n) by construction)
//   d.rhat;  // split-R̂: near 1 when the chains agree; > 1.01 asks for longer chains
#include <Eigen/Core>

namespace ved::inference {

struct ChainDiagnostics {
  double ess = 0;   // effective sample size of the mean, over all chains
  double rhat = 0;  // potential scale reduction over the 2M half chains
};

// draws: [M·n] values, chain-major. Needs M ≥ 1 and n ≥ 4 (each chain is split in two).
// A quantity that is constant across all draws gets ess = M·n and rhat = 1.
ChainDiagnostics chain_diagnostics(const Eigen::Ref<const Eigen::VectorXd>& draws, int n_chains);

}  // namespace ved::inference
