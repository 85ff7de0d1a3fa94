#pragma once
// Disentanglement metrics (docs/method.md §9.3) of a learned code: how close the aggregate posterior
// q(z) is to N(0, I), how many code dimensions are used, and how well single code
// dimensions capture single ground-truth factors (the leading KL coefficients xi).
//
//   MatrixRM mu = ...;                    // [N, r] encoder means on the test split
//   MatrixRM var = ...;                   // [N, r] encoder variances sigma², or MatrixRM()
//   MatrixRM xi = dataset_xi.leftCols(k); // [N, k] ground-truth factors, or MatrixRM()
//   DisentanglementMetrics d = disentanglement_metrics(mu, var, xi);
//   // d.cov_error, d.total_correlation, d.n_active, d.mig, d.dci_disentanglement, d.sap, ...
//
// Factor metrics follow disentanglement_lib (Locatello et al. 2019) where it applies to
// continuous factors; where they differ, the comment on the field says how.
#include <Eigen/Core>

#include "ved/util/array.hpp"

namespace ved {

struct DisentanglementOptions {
  double active_threshold  = 0.01;  // a code dimension is active when Var(mu_i) exceeds this (Burda et al. 2016)
  int    mig_bins          = 20;    // equal-width histogram bins per code and per factor (disentanglement_lib)
  double dci_ridge         = 1e-3;  // ridge added to the correlation matrix of the standardised codes
  int    dci_holdout_every = 5;     // every 5th row is held out to score DCI informativeness
};

struct DisentanglementMetrics {
  // Aggregate posterior covariance C = Cov(mu) + diag(mean sigma²) (law of total covariance,
  // docs/method.md §2; unbiased Cov), against N(0, I).
  double cov_error = 0;          // |C - I|_F
  double cov_error_offdiag = 0;  // sqrt(sum_{i != j} C_ij²)
  double cov_error_diag = 0;     // sqrt(sum_i (C_ii - 1)²)
  // Gaussian total correlation of q(z), ½(sum_i log C_ii - log det C) = KL(N(0, C) || prod_i
  // N(0, C_ii)) in nats: 0 for independent dims. Dims with C_ii = 0 (unused, no sigma²
  // given) are left out; +inf when the used dims are exactly collinear.
  double total_correlation = 0;
  int n_active = 0;               // dims with Var(mu_i) > active_threshold
  Eigen::VectorXd code_variance;  // [r] Var(mu_i), unbiased

  // Factor metrics; NaN, with empty matrices, when no factors are given. All in [0, 1],
  // higher is more disentangled.
  // MIG (Chen et al. 2018): codes and factors discretised into mig_bins equal-width bins;
  // per factor, the gap between the two largest I(z_i; v_j) over H(v_j), averaged.
  double mig = 0;
  // DCI (Eastwood & Williams 2018) with a linear importance matrix: per factor, ridge
  // regression of the standardised factor on the standardised codes (fit on the rows not
  // held out); importance R_ij = |w_ij|. Eastwood & Williams also used lasso;
  // disentanglement_lib uses gradient-boosted trees, whose importances also see
  // nonlinear dependence, so scores are comparable in trend, not in value.
  double dci_disentanglement = 0;  // sum_i rho_i (1 - H_k(R_i. / sum_j R_ij)), rho_i = code i's share of R
  double dci_completeness = 0;     // mean_j (1 - H_r(R_.j / sum_i R_ij))
  double dci_informativeness = 0;  // mean_j R² of that regression on the held-out rows (not an error)
  // SAP (Kumar et al. 2018), continuous factors: S_ij = R² of the linear regression of
  // factor j on code i alone (= squared correlation, in sample); per factor, the gap
  // between the two largest S_ij, averaged.
  double sap = 0;
  // Modularity (Ridgeway & Zemel 2018): per code i with theta_i = max_j I(z_i; v_j),
  // 1 - sum_j (I_ij - t_ij)² / (theta_i² (k - 1)) where t_ij keeps the largest entry only;
  // averaged over the active codes (Var(mu_i) > active_threshold; disentanglement_lib also
  // averages in collapsed codes as 0, which mixes modularity with the number of active
  // units). 1: each code informs about one factor at most. Codes need not cover every
  // factor (that is completeness).
  double modularity = 0;
  MatrixRM mutual_info;  // [r, k] I(z_i; v_j) in nats, discretised
  MatrixRM importance;   // [r, k] DCI importance R_ij
  MatrixRM sap_scores;   // [r, k] S_ij
};

// mu: [N, r] encoder means; var: [N, r] encoder variances or empty (0 columns); factors:
// [N, k] ground-truth factors or empty. Needs N >= 2; with factors, N >= 2 ·
// dci_holdout_every, r >= 2 and k >= 2 (each metric ranks or normalises over both).
DisentanglementMetrics disentanglement_metrics(const MatrixRM& mu, const MatrixRM& var, const MatrixRM& factors,
                                               const DisentanglementOptions& opts = {});

// C = Cov(mu) + diag(mean over rows of var): [r, r]. var may be empty.
Eigen::MatrixXd aggregate_covariance(const MatrixRM& mu, const MatrixRM& var);

// ½(sum_i log C_ii - log det C) for a covariance C [r, r], as described above.
double gaussian_total_correlation(const Eigen::MatrixXd& cov);

}  // namespace ved
