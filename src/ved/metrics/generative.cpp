#include "ved/metrics/generative.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ved/util/error.hpp"

namespace ved {

namespace {

// Which sample each member of an unordered pair belongs to.
enum PairGroup { kPP = 0, kPQ = 1, kQQ = 2 };

// Sums over the pairs of one group, for the three kernels that need pairwise distances.
struct PairSums {
  double dist[3] = {0, 0, 0};   // sum of |x - y|
  double gauss[3] = {0, 0, 0};  // sum of exp(-|x - y|² / (2h²))
  double imq[3] = {0, 0, 0};    // sum of (1 + |x - y|² / c²)^(-1/2)
};

// Rows per block of the pairwise pass: a [kBlock, M + N] slab of squared distances per
// thread, and enough blocks (M + N) / kBlock for dynamic scheduling to balance the
// triangular work.
constexpr Eigen::Index kBlock = 64;

// Refs, not copies: the pairwise pass hands in row blocks of the pooled sample.
using RowsRef = Eigen::Ref<const MatrixRM>;
using VectorRef = Eigen::Ref<const Eigen::VectorXd>;
// Row-major, so that the run of pairs (i, j > i) is contiguous and vectorises.
using ArrayRM = Eigen::Array<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Below this fraction of |a|² + |b|², a squared distance from the Gram matrix is mostly
// rounding (its sqrt would be ~1e-8 |a| for identical rows): recompute it directly.
constexpr double kNearPair = 1e-6;

// Squared distances |a_i - b_j|² from the Gram matrix: [a.rows(), b.rows()]. The rows are
// centred, so the cancellation in |a|² + |b|² - 2 a·b is relative to the spread, not to
// the mean; near pairs are recomputed as |a_i - b_j|².
ArrayRM squared_distances(const RowsRef& a, const VectorRef& a_sq, const RowsRef& b, const VectorRef& b_sq) {
  ArrayRM d2 = (-2.0 * (a * b.transpose())).array();
  d2.colwise() += a_sq.array();
  d2.rowwise() += b_sq.transpose().array();
  for (Eigen::Index i = 0; i < d2.rows(); ++i)
    for (Eigen::Index j = 0; j < d2.cols(); ++j)
      if (d2(i, j) < kNearPair * (a_sq[i] + b_sq[j])) d2(i, j) = (a.row(i) - b.row(j)).squaredNorm();
  return d2;
}

// Median of the pairwise distances among at most max_points rows of x (evenly strided),
// with numpy's convention for an even count (mean of the two middle values).
double median_pairwise_distance(const MatrixRM& x, int max_points) {
  const Eigen::Index n = x.rows();
  const Eigen::Index s = std::min<Eigen::Index>(n, max_points);
  MatrixRM xs(s, x.cols());
  for (Eigen::Index t = 0; t < s; ++t) xs.row(t) = x.row(t * n / s);
  const Eigen::VectorXd sq = xs.rowwise().squaredNorm();
  const ArrayRM d2 = squared_distances(xs, sq, xs, sq);
  std::vector<double> d;
  d.reserve(static_cast<size_t>(s * (s - 1) / 2));
  for (Eigen::Index i = 0; i < s; ++i)
    for (Eigen::Index j = i + 1; j < s; ++j) d.push_back(d2(i, j));
  const size_t half = d.size() / 2;
  std::nth_element(d.begin(), d.begin() + half, d.end());
  const double upper = std::sqrt(d[half]);
  if (d.size() % 2 == 1) return upper;
  return 0.5 * (upper + std::sqrt(*std::max_element(d.begin(), d.begin() + half)));  // mean of the middle distances
}

// Adds the kernel sums over one run of squared distances, all in the same group.
void accumulate(const double* first, Eigen::Index count, PairGroup g, double gauss_scale, double imq_scale,
                PairSums& s) {
  if (count == 0) return;
  const Eigen::Map<const Eigen::ArrayXd> d2(first, count);
  s.dist[g] += d2.sqrt().sum();
  s.gauss[g] += (d2 * gauss_scale).exp().sum();
  s.imq[g] += (1.0 + d2 * imq_scale).rsqrt().sum();
}

// Kernel sums over all unordered pairs {i < j} of the pooled rows x = [P; Q] (P the first
// m_p rows). Each block of rows is paired with itself and every later row; per-block
// partial sums are added in block order so the result does not depend on the thread count.
PairSums pairwise_sums(const MatrixRM& x, Eigen::Index m_p, double bandwidth, double imq_c2) {
  const Eigen::Index n = x.rows();
  const Eigen::VectorXd sq = x.rowwise().squaredNorm();
  const double gauss_scale = -0.5 / (bandwidth * bandwidth);
  const double imq_scale = 1.0 / imq_c2;
  const Eigen::Index n_blocks = (n + kBlock - 1) / kBlock;
  std::vector<PairSums> partial(static_cast<size_t>(n_blocks));
#pragma omp parallel for schedule(dynamic, 1)
  for (Eigen::Index b = 0; b < n_blocks; ++b) {
    const Eigen::Index r0 = b * kBlock;
    const Eigen::Index rows = std::min(kBlock, n - r0);
    const ArrayRM d2 =
        squared_distances(x.middleRows(r0, rows), sq.segment(r0, rows), x.bottomRows(n - r0), sq.tail(n - r0));
    PairSums& s = partial[static_cast<size_t>(b)];
    for (Eigen::Index ii = 0; ii < rows; ++ii) {
      const Eigen::Index i = r0 + ii;  // pairs (i, j) for j in (i, n), local column j - r0
      const double* row = d2.data() + ii * d2.cols();
      if (i < m_p) {
        const Eigen::Index pp_end = m_p - r0;  // columns of P rows end here
        accumulate(row + ii + 1, pp_end - ii - 1, kPP, gauss_scale, imq_scale, s);
        accumulate(row + pp_end, n - m_p, kPQ, gauss_scale, imq_scale, s);
      } else {
        accumulate(row + ii + 1, n - i - 1, kQQ, gauss_scale, imq_scale, s);
      }
    }
  }
  PairSums total;
  for (const PairSums& s : partial)
    for (int g = 0; g < 3; ++g) {
      total.dist[g] += s.dist[g];
      total.gauss[g] += s.gauss[g];
      total.imq[g] += s.imq[g];
    }
  return total;
}

// Unbiased MMD² from kernel sums over unordered pairs: off-diagonal within-sample means
// (each unordered pair counted twice in the ordered sum) minus twice the cross mean.
double mmd2_unbiased(const double sums[3], double m, double n) {
  return 2.0 * sums[kPP] / (m * (m - 1)) + 2.0 * sums[kQQ] / (n * (n - 1)) - 2.0 * sums[kPQ] / (m * n);
}

Eigen::MatrixXd covariance(const MatrixRM& x, const Eigen::RowVectorXd& mean) {
  const MatrixRM xc = x.rowwise() - mean;
  return (xc.transpose() * xc) / static_cast<double>(x.rows() - 1);
}

}  // namespace

double wasserstein1_1d(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  VED_CHECK(a.size() > 0 && b.size() > 0,
            "wasserstein1_1d: samples have " << a.size() << " and " << b.size() << " values; need at least 1 each");
  std::vector<double> p(a.data(), a.data() + a.size());
  std::vector<double> q(b.data(), b.data() + b.size());
  std::sort(p.begin(), p.end());
  std::sort(q.begin(), q.end());
  // Walk the merged order; between consecutive values both CDFs are constant, i/M and j/N.
  const long long m = static_cast<long long>(p.size()), n = static_cast<long long>(q.size());
  long long i = 0, j = 0;
  double prev = std::min(p[0], q[0]);
  double sum = 0;  // in units of 1 / (M N)
  while (i < m || j < n) {
    const bool take_p = j == n || (i < m && p[static_cast<size_t>(i)] <= q[static_cast<size_t>(j)]);
    const double t = take_p ? p[static_cast<size_t>(i)] : q[static_cast<size_t>(j)];
    sum += static_cast<double>(std::llabs(i * n - j * m)) * (t - prev);
    prev = t;
    if (take_p)
      ++i;
    else
      ++j;
  }
  return sum / (static_cast<double>(m) * static_cast<double>(n));
}

MatrixRM standardise_outputs(const MatrixRM& y, const Eigen::VectorXd& train_mean, const Eigen::VectorXd& train_std) {
  VED_CHECK(train_mean.size() == y.cols() && train_std.size() == y.cols(),
            "standardise_outputs: y has " << y.cols() << " columns but mean has " << train_mean.size() << " and std "
                                  << train_std.size() << " entries; use the training statistics of the same outputs");
  for (Eigen::Index j = 0; j < train_std.size(); ++j)
    VED_CHECK(train_std[j] > 0 && std::isfinite(train_std[j]),
              "standardise_outputs: std of output " << j << " is " << train_std[j]
                                                    << "; expected a positive finite value");
  MatrixRM z = y.rowwise() - train_mean.transpose();
  z.array().rowwise() /= train_std.transpose().array();
  return z;
}

GenerativeMetrics generative_metrics(const MatrixRM& samples, const MatrixRM& truth, const GenerativeOptions& opts) {
  const Eigen::Index m_p = samples.rows(), n_q = truth.rows(), dim = truth.cols();
  VED_CHECK(samples.cols() == dim, "generative_metrics: samples have " << samples.cols() << " outputs but truth has "
                                                                       << dim << "; decode to the same outputs");
  VED_CHECK(m_p >= 2 && n_q >= 2, "generative_metrics: " << m_p << " samples and " << n_q
                                                         << " true outputs; need at least 2 of each");
  VED_CHECK(dim >= 1, "generative_metrics: samples and truth have no outputs");
  VED_CHECK(samples.allFinite(), "generative_metrics: samples contain non-finite values");
  VED_CHECK(truth.allFinite(), "generative_metrics: truth contains non-finite values");
  VED_CHECK(opts.median_max_points >= 2,
            "generative_metrics: median_max_points is " << opts.median_max_points << "; expected at least 2");

  GenerativeMetrics g;
  g.n_samples = m_p;
  g.n_truth = n_q;

  // 1. Moments, scaled by the truth's spread (and, for mean_rel_err_raw, its mean).
  const Eigen::RowVectorXd mu_p = samples.colwise().mean();
  const Eigen::RowVectorXd mu_q = truth.colwise().mean();
  const Eigen::MatrixXd c_p = covariance(samples, mu_p);
  const Eigen::MatrixXd c_q = covariance(truth, mu_q);
  const double trace_q = c_q.trace();
  VED_CHECK(trace_q > 0,
            "generative_metrics: the " << n_q << " true outputs are all identical; nothing to compare with");
  const double mean_err = (mu_p - mu_q).norm();
  g.mean_rel_err = mean_err / std::sqrt(trace_q);
  g.mean_rel_err_raw = mean_err / mu_q.norm();
  g.cov_rel_err = (c_p - c_q).norm() / c_q.norm();

  // 2. Marginals: exact W1 per output, averaged.
  std::vector<double> w1(static_cast<size_t>(dim));
#pragma omp parallel for schedule(static)
  for (Eigen::Index j = 0; j < dim; ++j) w1[static_cast<size_t>(j)] = wasserstein1_1d(samples.col(j), truth.col(j));
  for (double w : w1) g.wasserstein1 += w;
  g.wasserstein1 /= static_cast<double>(dim);

  // 3. Pairwise kernels on the pooled sample, centred (distances are translation invariant).
  MatrixRM x(m_p + n_q, dim);
  x.topRows(m_p) = samples;
  x.bottomRows(n_q) = truth;
  x.rowwise() -= x.colwise().mean();
  // The truth alone (the centred pool's last rows: distances do not depend on the centre,
  // and centred rows keep the dot-product distances accurate) sets the bandwidth, so every model scored against one test set is scored
  // with the same kernel (a pooled median would give each model a kernel of its own).
  g.gaussian_bandwidth = opts.gaussian_bandwidth > 0 ? opts.gaussian_bandwidth
                                                     : median_pairwise_distance(x.bottomRows(n_q), opts.median_max_points);
  VED_CHECK(g.gaussian_bandwidth > 0, "generative_metrics: the median pairwise distance of the true outputs is 0 "
                                      "(most coincide); set GenerativeOptions::gaussian_bandwidth");
  g.imq_c2 = opts.imq_c2 > 0 ? opts.imq_c2 : 2.0 * trace_q;  // 2 m v̄ = 2 tr C_Q
  const PairSums s = pairwise_sums(x, m_p, g.gaussian_bandwidth, g.imq_c2);
  const double m = static_cast<double>(m_p), n = static_cast<double>(n_q);
  g.mmd2_gaussian = mmd2_unbiased(s.gauss, m, n);
  g.mmd2_imq = mmd2_unbiased(s.imq, m, n);
  // V-statistic: within-sample means over all M² (N²) ordered pairs, zero diagonal included,
  // so that identical samples give exactly 0 and the value is never negative.
  g.energy_distance = 2.0 * s.dist[kPQ] / (m * n) - 2.0 * s.dist[kPP] / (m * m) - 2.0 * s.dist[kQQ] / (n * n);
  return g;
}

}  // namespace ved
