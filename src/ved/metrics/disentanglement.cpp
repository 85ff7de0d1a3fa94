#include "ved/metrics/disentanglement.hpp"

#include <Eigen/Cholesky>  // LLT for the total correlation and the DCI regression

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ved/util/error.hpp"

namespace ved {

namespace {

// Bin index in [0, bins) of each value of x, with numpy.histogram's equal-width edges over
// [min x, max x] (the maximum falls in the last bin); a constant column is all bin 0.
std::vector<int> discretise(const Eigen::VectorXd& x, int bins) {
  const double lo = x.minCoeff(), hi = x.maxCoeff();
  std::vector<int> b(static_cast<size_t>(x.size()), 0);
  if (!(hi > lo)) return b;
  const double scale = bins / (hi - lo);
  for (Eigen::Index i = 0; i < x.size(); ++i)
    b[static_cast<size_t>(i)] = std::min(bins - 1, static_cast<int>((x[i] - lo) * scale));
  return b;
}

// Entropy in nats of a discrete label vector with values in [0, bins).
double entropy(const std::vector<int>& a, int bins) {
  std::vector<double> count(static_cast<size_t>(bins), 0.0);
  for (int v : a) count[static_cast<size_t>(v)] += 1;
  const double n = static_cast<double>(a.size());
  double h = 0;
  for (double c : count)
    if (c > 0) h -= c / n * std::log(c / n);
  return h;
}

// Mutual information in nats of two label vectors (as sklearn's mutual_info_score).
double mutual_info(const std::vector<int>& a, const std::vector<int>& b, int bins) {
  const size_t nb = static_cast<size_t>(bins);
  std::vector<double> joint(nb * nb, 0.0), pa(nb, 0.0), pb(nb, 0.0);
  for (size_t i = 0; i < a.size(); ++i) {
    joint[static_cast<size_t>(a[i]) * nb + static_cast<size_t>(b[i])] += 1;
    pa[static_cast<size_t>(a[i])] += 1;
    pb[static_cast<size_t>(b[i])] += 1;
  }
  const double n = static_cast<double>(a.size());
  double mi = 0;
  for (size_t u = 0; u < nb; ++u)
    for (size_t v = 0; v < nb; ++v) {
      const double c = joint[u * nb + v];
      if (c > 0) mi += c / n * std::log(c * n / (pa[u] * pb[v]));
    }
  return std::max(0.0, mi);
}

// Mean over columns of (largest - second largest) entry, each column scaled by norm[j].
double mean_top_gap(const MatrixRM& s, const Eigen::VectorXd& norm) {
  double sum = 0;
  for (Eigen::Index j = 0; j < s.cols(); ++j) {
    double first = -std::numeric_limits<double>::infinity(), second = first;
    for (Eigen::Index i = 0; i < s.rows(); ++i) {
      const double v = s(i, j);
      if (v > first) {
        second = first;
        first = v;
      } else if (v > second) {
        second = v;
      }
    }
    sum += (first - second) / norm[j];
  }
  return sum / static_cast<double>(s.cols());
}

// 1 - entropy of the distribution p / sum(p) in base n (n = p.size() >= 2); 0 when p is all 0.
double one_minus_entropy(const Eigen::VectorXd& p) {
  const double total = p.sum();
  if (!(total > 0)) return 0.0;
  double h = 0;
  for (Eigen::Index i = 0; i < p.size(); ++i)
    if (p[i] > 0) h -= p[i] / total * std::log(p[i] / total);
  return 1.0 - h / std::log(static_cast<double>(p.size()));
}

struct DciResult {
  MatrixRM importance;  // [r, k]
  double disentanglement = 0, completeness = 0, informativeness = 0;
};

DciResult dci(const MatrixRM& mu, const MatrixRM& factors, const DisentanglementOptions& opts) {
  const Eigen::Index n = mu.rows(), r = mu.cols(), k = factors.cols();
  const int every = opts.dci_holdout_every;
  std::vector<Eigen::Index> train, test;
  for (Eigen::Index i = 0; i < n; ++i) (i % every == every - 1 ? test : train).push_back(i);
  const Eigen::Index n_train = static_cast<Eigen::Index>(train.size());
  MatrixRM z(n_train, r), v(n_train, k);
  for (Eigen::Index t = 0; t < n_train; ++t) {
    z.row(t) = mu.row(train[static_cast<size_t>(t)]);
    v.row(t) = factors.row(train[static_cast<size_t>(t)]);
  }
  // Standardise with the training rows; a constant code gets scale 0 and so no importance.
  const Eigen::RowVectorXd z_mean = z.colwise().mean(), v_mean = v.colwise().mean();
  z.rowwise() -= z_mean;
  v.rowwise() -= v_mean;
  Eigen::RowVectorXd z_scale = (z.colwise().squaredNorm() / static_cast<double>(n_train)).cwiseSqrt();
  Eigen::RowVectorXd v_scale = (v.colwise().squaredNorm() / static_cast<double>(n_train)).cwiseSqrt();
  for (Eigen::Index j = 0; j < k; ++j)
    VED_CHECK(v_scale[j] > 0, "disentanglement_metrics: factor " << j << " is constant on the DCI training rows");
  z_scale = z_scale.unaryExpr([](double s) { return s > 0 ? 1.0 / s : 0.0; });
  z.array().rowwise() *= z_scale.array();
  v.array().rowwise() /= v_scale.array();

  Eigen::MatrixXd a = z.transpose() * z / static_cast<double>(n_train);
  a.diagonal().array() += opts.dci_ridge;
  const Eigen::MatrixXd rhs = z.transpose() * v / static_cast<double>(n_train);
  Eigen::LLT<Eigen::MatrixXd> llt(a);
  VED_CHECK(llt.info() == Eigen::Success,
            "disentanglement_metrics: DCI regression matrix is not positive definite; raise dci_ridge (now "
                << opts.dci_ridge << ")");
  const Eigen::MatrixXd w = llt.solve(rhs);  // [r, k]

  DciResult d;
  d.importance = w.cwiseAbs();
  const double total = d.importance.sum();
  for (Eigen::Index i = 0; i < r && total > 0; ++i)
    d.disentanglement += d.importance.row(i).sum() / total * one_minus_entropy(d.importance.row(i).transpose());
  for (Eigen::Index j = 0; j < k; ++j) d.completeness += one_minus_entropy(d.importance.col(j));
  d.completeness /= static_cast<double>(k);

  // Informativeness: R² of the same regression on the held-out rows.
  const Eigen::Index n_test = static_cast<Eigen::Index>(test.size());
  MatrixRM zt(n_test, r), vt(n_test, k);
  for (Eigen::Index t = 0; t < n_test; ++t) {
    zt.row(t) = (mu.row(test[static_cast<size_t>(t)]) - z_mean).cwiseProduct(z_scale);
    vt.row(t) = (factors.row(test[static_cast<size_t>(t)]) - v_mean).cwiseQuotient(v_scale);
  }
  const MatrixRM resid = vt - zt * w;
  const Eigen::RowVectorXd vt_mean = vt.colwise().mean();
  for (Eigen::Index j = 0; j < k; ++j) {
    const double ss_tot = (vt.col(j).array() - vt_mean[j]).square().sum();
    d.informativeness += ss_tot > 0 ? 1.0 - resid.col(j).squaredNorm() / ss_tot : 0.0;
  }
  d.informativeness /= static_cast<double>(k);
  return d;
}

// Modularity of Ridgeway & Zemel (2018) from the [r, k] mutual-information matrix.
double modularity(const MatrixRM& mi, const Eigen::VectorXd& code_variance, double active_threshold) {
  const Eigen::Index r = mi.rows(), k = mi.cols();
  double sum = 0;
  int counted = 0;
  for (Eigen::Index i = 0; i < r; ++i) {
    if (!(code_variance[i] > active_threshold)) continue;  // collapsed codes carry no information to place
    Eigen::Index best = 0;
    const double theta = mi.row(i).maxCoeff(&best);
    if (!(theta > 0)) continue;
    double dev = 0;
    for (Eigen::Index j = 0; j < k; ++j)
      if (j != best) dev += mi(i, j) * mi(i, j);
    sum += 1.0 - dev / (theta * theta * static_cast<double>(k - 1));
    ++counted;
  }
  return counted ? sum / counted : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace


Eigen::MatrixXd aggregate_covariance(const MatrixRM& mu, const MatrixRM& var) {
  VED_CHECK(mu.rows() >= 2, "aggregate_covariance: " << mu.rows() << " codes; need at least 2");
  VED_CHECK(var.cols() == 0 || (var.rows() == mu.rows() && var.cols() == mu.cols()),
            "aggregate_covariance: variances are " << var.rows() << "x" << var.cols() << " but means are "
                                                   << mu.rows() << "x" << mu.cols()
                                                   << "; pass sigma² of the same codes, or an empty matrix");
  const MatrixRM c = mu.rowwise() - mu.colwise().mean();
  Eigen::MatrixXd cov = c.transpose() * c / static_cast<double>(mu.rows() - 1);
  if (var.cols() > 0) {
    VED_CHECK((var.array() >= 0).all(),
              "aggregate_covariance: variances must be non-negative (pass sigma², not log sigma²)");
    cov.diagonal() += var.colwise().mean().transpose();
  }
  return cov;
}

double gaussian_total_correlation(const Eigen::MatrixXd& cov) {
  VED_CHECK(cov.rows() == cov.cols(), "gaussian_total_correlation: covariance is " << cov.rows() << "x" << cov.cols());
  std::vector<Eigen::Index> used;
  for (Eigen::Index i = 0; i < cov.rows(); ++i)
    if (cov(i, i) > 0) used.push_back(i);
  // ½(sum log C_ii - log det C) = -½ log det R with R the correlation matrix of the used dims.
  const Eigen::Index u = static_cast<Eigen::Index>(used.size());
  Eigen::MatrixXd corr(u, u);
  for (Eigen::Index a = 0; a < u; ++a)
    for (Eigen::Index b = 0; b < u; ++b) {
      const Eigen::Index i = used[static_cast<size_t>(a)], j = used[static_cast<size_t>(b)];
      corr(a, b) = cov(i, j) / std::sqrt(cov(i, i) * cov(j, j));
    }
  Eigen::LLT<Eigen::MatrixXd> llt(corr);
  if (llt.info() != Eigen::Success) return std::numeric_limits<double>::infinity();
  const Eigen::VectorXd diag = llt.matrixLLT().diagonal();
  return -diag.array().log().sum();
}

DisentanglementMetrics disentanglement_metrics(const MatrixRM& mu, const MatrixRM& var, const MatrixRM& factors,
                                               const DisentanglementOptions& opts) {
  const Eigen::Index n = mu.rows(), r = mu.cols(), k = factors.cols();
  VED_CHECK(r >= 1, "disentanglement_metrics: the codes have no dimensions");
  VED_CHECK(mu.allFinite(), "disentanglement_metrics: encoder means contain non-finite values");
  VED_CHECK(var.allFinite(), "disentanglement_metrics: encoder variances contain non-finite values");
  DisentanglementMetrics d;

  // 1. Aggregate posterior against N(0, I).
  const Eigen::MatrixXd c = aggregate_covariance(mu, var);
  const Eigen::MatrixXd e = c - Eigen::MatrixXd::Identity(r, r);
  d.cov_error = e.norm();
  d.cov_error_diag = e.diagonal().norm();
  d.cov_error_offdiag = std::sqrt(std::max(0.0, e.squaredNorm() - e.diagonal().squaredNorm()));
  d.total_correlation = gaussian_total_correlation(c);
  const MatrixRM centred = mu.rowwise() - mu.colwise().mean();
  d.code_variance = centred.colwise().squaredNorm().transpose() / static_cast<double>(n - 1);
  d.n_active = static_cast<int>((d.code_variance.array() > opts.active_threshold).count());

  if (k == 0) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    d.mig = d.dci_disentanglement = d.dci_completeness = d.dci_informativeness = d.sap = d.modularity = nan;
    return d;
  }
  VED_CHECK(factors.rows() == n, "disentanglement_metrics: " << factors.rows() << " factor rows but " << n
                                                             << " codes; pass the factors of the same samples");
  VED_CHECK(factors.allFinite(), "disentanglement_metrics: factors contain non-finite values");
  VED_CHECK(r >= 2 && k >= 2, "disentanglement_metrics: " << r << " code dims and " << k
                                                          << " factors; MIG, DCI and SAP need at least 2 of each");
  VED_CHECK(opts.mig_bins >= 2, "disentanglement_metrics: mig_bins is " << opts.mig_bins << "; expected at least 2");
  VED_CHECK(opts.dci_holdout_every >= 2 && n >= 2 * opts.dci_holdout_every,
            "disentanglement_metrics: " << n << " samples with dci_holdout_every = " << opts.dci_holdout_every
                                        << "; need dci_holdout_every >= 2 and at least twice as many samples");
  VED_CHECK(opts.dci_ridge >= 0, "disentanglement_metrics: dci_ridge is " << opts.dci_ridge << "; expected >= 0");

  // 2. MIG on histogram-discretised codes and factors.
  std::vector<std::vector<int>> zb(static_cast<size_t>(r)), vb(static_cast<size_t>(k));
  for (Eigen::Index i = 0; i < r; ++i) zb[static_cast<size_t>(i)] = discretise(mu.col(i), opts.mig_bins);
  Eigen::VectorXd h(k);
  for (Eigen::Index j = 0; j < k; ++j) {
    vb[static_cast<size_t>(j)] = discretise(factors.col(j), opts.mig_bins);
    h[j] = entropy(vb[static_cast<size_t>(j)], opts.mig_bins);
    VED_CHECK(h[j] > 0, "disentanglement_metrics: factor " << j << " is constant; drop it from the factors");
  }
  d.mutual_info.resize(r, k);
  for (Eigen::Index i = 0; i < r; ++i)
    for (Eigen::Index j = 0; j < k; ++j)
      d.mutual_info(i, j) = mutual_info(zb[static_cast<size_t>(i)], vb[static_cast<size_t>(j)], opts.mig_bins);
  d.mig = mean_top_gap(d.mutual_info, h);
  d.modularity = modularity(d.mutual_info, d.code_variance, opts.active_threshold);

  // 3. DCI with a linear importance matrix.
  DciResult dr = dci(mu, factors, opts);
  d.importance = std::move(dr.importance);
  d.dci_disentanglement = dr.disentanglement;
  d.dci_completeness = dr.completeness;
  d.dci_informativeness = dr.informativeness;

  // 4. SAP: squared correlation of each (code, factor) pair.
  const MatrixRM vc = factors.rowwise() - factors.colwise().mean();
  const Eigen::MatrixXd cross = centred.transpose() * vc;  // [r, k], n - 1 times the covariance
  const Eigen::VectorXd z_ss = centred.colwise().squaredNorm().transpose();
  const Eigen::VectorXd v_ss = vc.colwise().squaredNorm().transpose();
  d.sap_scores.resize(r, k);
  for (Eigen::Index i = 0; i < r; ++i)
    for (Eigen::Index j = 0; j < k; ++j)
      d.sap_scores(i, j) = z_ss[i] > 0 ? cross(i, j) * cross(i, j) / (z_ss[i] * v_ss[j]) : 0.0;
  d.sap = mean_top_gap(d.sap_scores, Eigen::VectorXd::Ones(k));
  return d;
}

}  // namespace ved
