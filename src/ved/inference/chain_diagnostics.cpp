#include "ved/inference/chain_diagnostics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ved/util/error.hpp"

namespace ved::inference {

ChainDiagnostics chain_diagnostics(const Eigen::Ref<const Eigen::VectorXd>& draws, int n_chains) {
  VED_CHECK(n_chains >= 1 && draws.size() % n_chains == 0,
            "chain diagnostics: " << draws.size() << " draws do not split into " << n_chains << " equal chains");
  const Eigen::Index n_full = draws.size() / n_chains;
  VED_CHECK(n_full >= 4, "chain diagnostics: chains of " << n_full << " draws; need at least 4 per chain");
  // Split every chain into halves (dropping the middle draw of an odd chain): a chain that
  // drifts shows up as two halves that disagree.
  const Eigen::Index n = n_full / 2;
  const int m = 2 * n_chains;
  std::vector<Eigen::VectorXd> chains;
  for (int c = 0; c < n_chains; ++c) {
    chains.push_back(draws.segment(c * n_full, n));
    chains.push_back(draws.segment(c * n_full + n_full - n, n));
  }
  Eigen::VectorXd means(m), vars(m);
  for (int c = 0; c < m; ++c) {
    means[c] = chains[c].mean();
    vars[c] = (chains[c].array() - means[c]).square().sum() / static_cast<double>(n - 1);
  }
  const double w = vars.mean();                                                         // within
  const double b_over_n = (means.array() - means.mean()).square().sum() / (m - 1.0);    // between / n
  const double var_plus = (n - 1.0) / n * w + b_over_n;
  ChainDiagnostics d;
  if (!(w > 0) || !(var_plus > 0)) {  // constant draws: nothing to mix
    d.ess = static_cast<double>(draws.size());
    d.rhat = b_over_n > 0 ? std::numeric_limits<double>::infinity() : 1.0;
    return d;
  }
  d.rhat = std::sqrt(var_plus / w);

  // ρ_t = 1 - (W - mean_c acov_c(t)) / var⁺ (BDA3 eq. 11.7), summed in pairs
  // P_k = ρ_2k + ρ_2k+1 while positive and made monotone (Geyer 1992).
  auto rho = [&](Eigen::Index t) {
    double acov = 0;
    for (int c = 0; c < m; ++c) {
      const Eigen::VectorXd& x = chains[c];
      double s = 0;
      for (Eigen::Index i = 0; i + t < n; ++i) s += (x[i] - means[c]) * (x[i + t] - means[c]);
      acov += s / static_cast<double>(n);
    }
    acov /= m;
    return 1.0 - (w - acov) / var_plus;
  };
  double tau = -1;  // τ = -1 + 2 Σ_k P_k
  double p_prev = std::numeric_limits<double>::infinity();
  for (Eigen::Index t = 0; t + 1 < n; t += 2) {
    double p = rho(t) + rho(t + 1);
    if (!(p > 0)) break;
    p = std::min(p, p_prev);
    tau += 2 * p;
    p_prev = p;
  }
  // Antithetic chains can make τ tiny; cap the ESS at M·n·log10(M·n) as Stan does.
  const double total = static_cast<double>(m) * static_cast<double>(n);
  tau = std::max(tau, 1.0 / std::log10(total));
  d.ess = total / tau;
  return d;
}

}  // namespace ved::inference
