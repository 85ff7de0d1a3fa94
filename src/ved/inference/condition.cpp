#include "ved/inference/condition.hpp"

#include <cmath>
#include <random>

#include "ved/train/trained_model.hpp"
#include "ved/util/error.hpp"

namespace ved::inference {

ConditionResult condition_ved(const std::string& model_path, const Observations& obs, const ConditionOptions& opt,
                              const MatrixRM& truth) {
  VED_CHECK(opt.noise >= 0 && std::isfinite(opt.noise), "--noise " << opt.noise << " must be a finite number >= 0");
  TrainedModel model(model_path);
  const ModelMeta& meta = model.meta();
  const int64_t m = model.n_outputs(), k = obs.n_observed(), n = obs.n_cases();
  for (int64_t i : obs.index)
    VED_CHECK(i >= 0 && i < m, obs.source << ": output index " << i << " outside [0, " << m - 1 << "] of the model");
  if (truth.size() > 0)
    VED_CHECK(truth.rows() == n && truth.cols() == m,
              "the truth has shape [" << truth.rows() << ", " << truth.cols() << "]; expected [" << n << ", " << m
                                      << "]: one row per case of " << obs.source << ", one column per model output");
  ConditionResult res;
  res.decoder_noise = meta.noise_std.size() == m ? meta.noise_std : Eigen::VectorXd::Zero(m);

  // Likelihood in standardised units: u = (y - mean) / scale, τ_j = sqrt(σ² + s_j²) / scale_j.
  LatentLikelihood lik;
  lik.index = obs.index;
  lik.value.resize(n, k);
  lik.noise_std.resize(k);
  res.noise_std.resize(k);
  for (int64_t j = 0; j < k; ++j) {
    const int64_t i = obs.index[j];
    const double scale = meta.output.scale[i];
    res.noise_std[j] = std::sqrt(opt.noise * opt.noise + res.decoder_noise[i] * res.decoder_noise[i]);
    lik.noise_std[j] = res.noise_std[j] / scale;
    for (int64_t c = 0; c < n; ++c) lik.value(c, j) = (obs.value(c, j) - meta.output.mean[i]) / scale;
  }
  VED_CHECK((res.noise_std.array() > 0).all(),
            model.path() << " stores no decoder noise (an unfinished run's checkpoint?), so the observations would be "
                            "exact; give the measurement noise with --noise SIGMA > 0 (outputs' units)");

  res.latent = sample_latent_posterior(model_path, lik, opt.hmc);

  // Predictive draws, case by case.
  const int64_t r = model.latent();
  res.z_mean.resize(n, r);
  res.predictive = PredictiveSummary(n, m);
  for (int64_t c = 0; c < n; ++c) {
    const MatrixRM& z = res.latent.draws[c];
    res.z_mean.row(c) = z.colwise().mean();
    MatrixRM y = model.decode(z);  // [S, m]
    if (opt.predictive_noise) {
      std::mt19937_64 rng(opt.hmc.seed * 7919ULL + static_cast<uint64_t>(c));
      std::normal_distribution<double> e;
      for (Eigen::Index s = 0; s < y.rows(); ++s)
        for (int64_t j = 0; j < m; ++j) y(s, j) += res.decoder_noise[j] * e(rng);
    }
    res.predictive.set_from_samples(c, y, truth.size() > 0 ? truth.row(c).data() : nullptr);
  }
  return res;
}

}  // namespace ved::inference
