#pragma once
// Conditional prediction with a trained VED: given observed values of some outputs, the
// posterior of the latent code (hmc.hpp) and the predictive distribution of every output
// (torch-free header).
//
//   Observations obs = read_observations("wells.h5", model.n_outputs());
//   ConditionResult r = condition_ved("run/", obs, ConditionOptions{}, truth);
//   r.predictive.mean, r.predictive.q05, ...    // [N, m]
//
// Likelihood, in the outputs' units: y_obs = f(z)[index] + e, e ~ N(0, σ² + s_j²), where σ
// is the measurement noise (`noise`) and s_j the decoder's own residual noise stored with
// the model (ModelMeta::noise_std; the RMS error at z = μ(x) on validation rows), which
// keeps the posterior from trusting the decoder beyond its accuracy. The decoder works on
// standardised outputs, so the values and noise levels are divided by the training scale.
// Predictive draws are y = f(z) + s ⊙ ε (ε ~ N(0, I)), the distribution of the noise-free
// model output the decoder approximates; `predictive_noise = false` gives f(z) alone.
#include <cstdint>
#include <string>

#include "ved/inference/condition_metrics.hpp"
#include "ved/inference/hmc.hpp"
#include "ved/inference/observations.hpp"

namespace ved::inference {

struct ConditionOptions {
  HmcOptions hmc;
  double noise = 0;              // σ ≥ 0, measurement noise in the outputs' units
  bool predictive_noise = true;  // draws of y = f(z) + s ⊙ ε (true) or of f(z) (false)
};

struct ConditionResult {
  PredictiveSummary predictive;  // [N, m] over every output; crps filled when a truth was given
  LatentPosterior latent;
  MatrixRM z_mean;               // [N, r] posterior mean of the latent code
  Eigen::VectorXd noise_std;     // [k] likelihood standard deviation per observed output (outputs' units)
  Eigen::VectorXd decoder_noise; // [m] s_j (zeros when the model stores none)
};

// truth: [N, m] held-out outputs of the same cases, or empty.
ConditionResult condition_ved(const std::string& model_path, const Observations& obs, const ConditionOptions& opt,
                              const MatrixRM& truth = MatrixRM());

}  // namespace ved::inference
