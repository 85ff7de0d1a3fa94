#pragma once
// Hamiltonian Monte Carlo over a trained VED's latent code given observed outputs
// (torch-free header; LibTorch autograd differentiates the decoder inside hmc.cpp).
//
//   LatentLikelihood lik{index, value_std, noise_std};   // standardised units, see below
//   HmcOptions opt;  opt.chains = 4;
//   LatentPosterior post = sample_latent_posterior("run/", lik, opt);
//   post.draws[c]                                         // [chains·samples, r] for case c
//
// The target, case by case, is p(z | u_obs) ∝ N(u_obs; g(z)[index], diag τ²) N(z; 0, I),
// with g the decoder in standardised output units. Every chain of every case is a row of
// one batched decoder evaluation, so the chains run in parallel on LibTorch's intra-op
// threads and the draws do not depend on the thread count. Each iteration integrates a
// trajectory of `leapfrog` steps with a diagonal mass matrix; warm-up adapts each chain's
// step size by dual averaging (Hoffman & Gelman 2014, Alg. 5) towards `target_accept`
// and its inverse mass matrix to the variance of its draws in two windows (as Stan does).
#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "ved/util/array.hpp"

namespace ved::inference {

struct HmcOptions {
  int chains = 4;               // per case; ≥ 2 for R̂
  int warmup = 500;             // adaptation iterations, discarded
  int samples = 500;            // kept draws per chain
  int leapfrog = 16;            // steps per trajectory
  double target_accept = 0.8;   // dual-averaging target of the mean acceptance probability
  uint64_t seed = 1;
  int cases_per_batch = 128;    // cases sampled together (memory: chains·cases rows)
};

struct LatentLikelihood {
  std::vector<int64_t> index;  // [k] observed outputs
  MatrixRM value;              // [N, k] observed values, standardised: (y - mean) / scale
  Eigen::VectorXd noise_std;   // [k] τ_j: observation noise in standardised units (> 0)
};

struct LatentPosterior {
  std::vector<MatrixRM> draws;  // N entries of [chains·samples, r]; chain c's draws at rows [c·S, (c+1)·S)
  MatrixRM accept;              // [N, chains] mean acceptance probability over the kept iterations
  MatrixRM step_size;           // [N, chains] adapted leapfrog step
  MatrixRM ess;                 // [N, r] effective sample size of each latent coordinate
  MatrixRM rhat;                // [N, r] split-R̂ of each latent coordinate
  std::vector<int64_t> divergent;  // [N] kept iterations whose energy error exceeded 1000 (or was not finite)
  int64_t gradient_evaluations = 0;  // per chain, summed over chains and cases
  double seconds = 0;
};

// model_path: a run folder or model file. Only its decoder is used, in float32 (as stored),
// with the potential and the Hamiltonian accumulated in float64.
LatentPosterior sample_latent_posterior(const std::string& model_path, const LatentLikelihood& lik,
                                        const HmcOptions& opt);

}  // namespace ved::inference
