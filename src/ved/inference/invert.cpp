#include "ved/inference/invert.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "ved/data/systems.hpp"
#include "ved/field/random_field.hpp"
#include "ved/inference/chain_diagnostics.hpp"
#include "ved/util/atomic_file.hpp"
#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"
#include "ved/util/mpi.hpp"

namespace ved::inference {
namespace {

using Clock = std::chrono::steady_clock;

// Numbers of a chain's state kept in front of its arrays (checkpoints and MPI messages).
constexpr int kHeader = 12;

// The quantile of sorted values at probability q (linear interpolation between order
// statistics, NumPy's default).
double sorted_quantile(const std::vector<double>& v, double q) {
  const double h = q * (v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (h - lo) * (v[hi] - v[lo]);
}

std::string chain_path(const std::string& dir, int case_index, int chain) {
  return dir + "/case" + std::to_string(case_index) + "_chain" + std::to_string(chain) + ".h5";
}

void header_of(const ChainState& s, double* h) {
  const double v[kHeader] = {static_cast<double>(s.chain), static_cast<double>(s.iteration), s.beta, s.log_lik,
                             s.surrogate_log_lik, static_cast<double>(s.proposals),
                             static_cast<double>(s.stage1_accepted), static_cast<double>(s.stage2_proposals),
                             static_cast<double>(s.accepted), static_cast<double>(s.exact_calls),
                             static_cast<double>(s.surrogate_calls), static_cast<double>(s.kept)};
  std::copy(v, v + kHeader, h);
}

void state_from_header(const double* h, ChainState& s) {
  s.chain = static_cast<int>(h[0]);
  s.iteration = static_cast<long>(h[1]);
  s.beta = h[2];
  s.log_lik = h[3];
  s.surrogate_log_lik = h[4];
  s.proposals = static_cast<long>(h[5]);
  s.stage1_accepted = static_cast<long>(h[6]);
  s.stage2_proposals = static_cast<long>(h[7]);
  s.accepted = static_cast<long>(h[8]);
  s.exact_calls = static_cast<long>(h[9]);
  s.surrogate_calls = static_cast<long>(h[10]);
  s.kept = static_cast<long>(h[11]);
}

void save_chain(const std::string& path, const ChainState& s, const std::string& fingerprint) {
  AtomicOutput out(path);
  auto f = h5::File::create(out);
  f.set_attr("/", "format", std::string("ved-invert-chain"));
  f.set_attr("/", "fingerprint", fingerprint);
  double h[kHeader];
  header_of(s, h);
  f.write("/header", h, {static_cast<size_t>(kHeader)});
  f.write("/xi", s.xi.data(), {static_cast<size_t>(s.xi.size())});
  if (s.outputs.size() > 0) f.write("/outputs", s.outputs.data(), {static_cast<size_t>(s.outputs.size())});
  if (s.kept > 0) {
    const size_t k = static_cast<size_t>(s.kept);
    f.write("/xi_samples", s.xi_samples.data(), {k, static_cast<size_t>(s.xi_samples.cols())});
    if (s.output_samples.cols() > 0)
      f.write("/output_samples", s.output_samples.data(), {k, static_cast<size_t>(s.output_samples.cols())});
    f.write("/log_lik_samples", s.log_lik_samples.data(), {k});
  }
  f.close();
  out.commit();
}

// The saved state of a chain, or an empty state when there is none or it belongs to
// another run (different fingerprint or shapes).
ChainState load_chain(const std::string& path, const std::string& fingerprint, const PcnOptions& o, int dim,
                      long n_outputs) {
  ChainState s;
  if (!std::filesystem::exists(path)) return s;
  try {
    auto f = h5::File::open_read(path);
    if (!f.has_attr("/", "fingerprint") || f.attr_string("/", "fingerprint") != fingerprint) return s;
    std::vector<size_t> dims;
    std::vector<double> h = f.read_double("/header", &dims);
    std::vector<double> xi = f.read_double("/xi", &dims);
    if (h.size() != static_cast<size_t>(kHeader) || xi.size() != static_cast<size_t>(dim)) return s;
    ChainState r;
    state_from_header(h.data(), r);
    const long kept = kept_per_chain(o);
    r.xi = Eigen::Map<Eigen::VectorXd>(xi.data(), dim);
    r.outputs.resize(n_outputs);
    if (n_outputs > 0) {
      std::vector<double> out = f.read_double("/outputs", &dims);
      if (out.size() != static_cast<size_t>(n_outputs)) return s;
      r.outputs = Eigen::Map<Eigen::VectorXd>(out.data(), n_outputs);
    }
    r.xi_samples.resize(kept, dim);
    r.output_samples.resize(kept, n_outputs);
    r.log_lik_samples.assign(kept, 0.0);
    if (r.kept > kept) return s;
    if (r.kept > 0) {
      std::vector<double> xs = f.read_double("/xi_samples", &dims);
      std::vector<double> ll = f.read_double("/log_lik_samples", &dims);
      if (xs.size() != static_cast<size_t>(r.kept * dim) || ll.size() != static_cast<size_t>(r.kept)) return s;
      std::copy(xs.begin(), xs.end(), r.xi_samples.data());
      std::copy(ll.begin(), ll.end(), r.log_lik_samples.begin());
      if (n_outputs > 0) {
        std::vector<double> os = f.read_double("/output_samples", &dims);
        if (os.size() != static_cast<size_t>(r.kept * n_outputs)) return s;
        std::copy(os.begin(), os.end(), r.output_samples.data());
      }
    }
    return r;
  } catch (const Error&) {
    return s;  // unreadable (e.g. cut short by a crash before the rename): start afresh
  }
}

std::string observed_text(const Eigen::VectorXd& observed) {
  std::string t;
  char buf[32];
  for (Eigen::Index i = 0; i < observed.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%.17g,", observed[i]);
    t += buf;
  }
  return t;
}

// Posterior summaries of the columns of draws [S, n] (rows chain after chain, `kept` each):
// mean, sd, 5% and 95% quantiles; with `ess`, ESS and split R-hat per column.
struct ColumnSummary {
  Eigen::VectorXd mean, std, q05, q95, ess, rhat;
};

ColumnSummary summarise_columns(const MatrixRM& draws, int n_chains, bool with_ess, int threads) {
  const Eigen::Index n = draws.cols(), rows = draws.rows();
  ColumnSummary s;
  s.mean.resize(n);
  s.std.resize(n);
  s.q05.resize(n);
  s.q95.resize(n);
  if (with_ess) {
    s.ess.resize(n);
    s.rhat.resize(n);
  }
#pragma omp parallel num_threads(threads)
  {
    std::vector<double> v(rows);
    Eigen::VectorXd per_chain(rows);  // chain-major: rows are chain after chain already
#pragma omp for schedule(dynamic, 16)
    for (Eigen::Index j = 0; j < n; ++j) {
      double sum = 0;
      for (Eigen::Index i = 0; i < rows; ++i) {
        v[i] = draws(i, j);
        sum += v[i];
      }
      const double mu = sum / rows;
      double ss = 0;
      for (double x : v) ss += (x - mu) * (x - mu);
      s.mean[j] = mu;
      s.std[j] = rows > 1 ? std::sqrt(ss / (rows - 1)) : 0.0;
      if (with_ess) {
        for (Eigen::Index i = 0; i < rows; ++i) per_chain[i] = v[i];
        ChainDiagnostics d = chain_diagnostics(per_chain, n_chains);
        s.ess[j] = d.ess;
        s.rhat[j] = d.rhat;
      }
      std::sort(v.begin(), v.end());
      s.q05[j] = sorted_quantile(v, 0.05);
      s.q95[j] = sorted_quantile(v, 0.95);
    }
  }
  return s;
}

}  // namespace

std::vector<ChainState> sample_case(const InversionProblem& p, const Eigen::VectorXd& observed,
                                    const InvertOptions& o, int case_index, long* resumed) {
  VED_CHECK(p.kl && p.system, "inversion: no prior or forward model");
  VED_CHECK(p.noise > 0 && std::isfinite(p.noise), "--noise " << p.noise << ": must be positive (outputs' units)");
  const long m = p.system->n_outputs();
  const int dim = p.kl->n_modes();
  const int k = static_cast<int>(p.index.size());
  VED_CHECK(observed.size() == k, "case " << case_index << ": " << observed.size() << " observed values for " << k
                                          << " observed outputs");
  for (int64_t i : p.index)
    VED_CHECK(i >= 0 && i < m, "observed output " << i << " outside [0, " << m << ") (outputs of the "
                                                  << p.system->options().system << " system)");
  VED_CHECK(p.surrogate_variance.size() == 0 || p.surrogate_variance.size() == k,
            "surrogate variance has " << p.surrogate_variance.size() << " entries for " << k << " observed outputs");
  const int threads = o.pcn.threads;
  // Per-thread scratch: the system's workspace, a field and the full output vector.
  struct Scratch {
    std::unique_ptr<SystemModel::Workspace, void (*)(SystemModel::Workspace*)> ws{nullptr, nullptr};
    Eigen::VectorXd field, y;
  };
  std::vector<Scratch> scratch(threads);
  for (Scratch& s : scratch) {
    s.ws = p.system->make_workspace();
    s.field.resize(p.kl->mean.size());
    s.y.resize(m);
  }
  const double inv_var = 1.0 / (p.noise * p.noise);
  PcnTarget t;
  t.dim = dim;
  t.n_outputs = m;
  t.log_likelihood = [&](const Eigen::VectorXd& xi, Eigen::VectorXd* outputs, int worker) {
    Scratch& s = scratch[worker];
    s.field.noalias() = p.kl->modes * xi;
    s.field += p.kl->mean;
    p.system->evaluate(s.field.data(), outputs->data(), nullptr, *s.ws);
    double ss = 0;
    for (int j = 0; j < k; ++j) {
      const double r = (*outputs)[p.index[j]] - observed[j];
      ss += r * r;
    }
    return -0.5 * ss * inv_var;
  };
  if (p.surrogate) {
    Eigen::VectorXd w(k);  // 1 / (sigma^2 + surrogate variance) per observed output
    for (int j = 0; j < k; ++j) w[j] = 1.0 / (p.noise * p.noise + (p.surrogate_variance.size() ? p.surrogate_variance[j] : 0.0));
    t.surrogate_log_likelihood = [&, w](const Eigen::VectorXd& xi, int worker) {
      Scratch& s = scratch[worker];
      s.field.noalias() = p.kl->modes * xi;
      s.field += p.kl->mean;
      p.surrogate(s.field.data(), s.y.data(), worker);
      double ss = 0;
      for (int j = 0; j < k; ++j) {
        const double r = s.y[p.index[j]] - observed[j];
        ss += w[j] * r * r;
      }
      return -0.5 * ss;
    };
  }

  const int first = o.chain_first;
  const int count = o.chain_count < 0 ? o.pcn.chains - first : o.chain_count;
  const std::string fingerprint = o.fingerprint + "|case " + std::to_string(case_index) + "|" + observed_text(observed);
  std::vector<ChainState> resume(count);
  long n_resumed = 0;
  if (!o.checkpoint_dir.empty()) {
    std::filesystem::create_directories(o.checkpoint_dir);
    for (int i = 0; i < count; ++i) {
      resume[i] = load_chain(chain_path(o.checkpoint_dir, case_index, first + i), fingerprint, o.pcn, dim, m);
      if (resume[i].xi.size() == dim) {
        VED_CHECK(resume[i].chain == first + i, chain_path(o.checkpoint_dir, case_index, first + i)
                                                    << ": holds chain " << resume[i].chain);
        ++n_resumed;
      }
    }
  }
  if (resumed) *resumed = n_resumed;
  const long total = o.pcn.warmup + o.pcn.samples;
  std::vector<Clock::time_point> last_save(o.pcn.chains, Clock::now());
  std::function<bool(const ChainState&, int)> on_step;
  if (!o.checkpoint_dir.empty()) {
    on_step = [&](const ChainState& s, int) {
      auto now = Clock::now();
      if (s.iteration == total ||
          std::chrono::duration<double>(now - last_save[s.chain]).count() >= o.checkpoint_seconds) {
        save_chain(chain_path(o.checkpoint_dir, case_index, s.chain), s, fingerprint);
        last_save[s.chain] = now;
      }
      return true;
    };
  }
  return run_pcn(t, o.pcn, first, count, std::move(resume), on_step);
}

std::vector<ChainState> gather_chains(std::vector<ChainState> local, const PcnOptions& o, int dim, long n_outputs) {
  const mpi::World w = mpi::world();
  if (w.size == 1) return local;
  const long kept = kept_per_chain(o);
  const long cols = kHeader + dim + n_outputs + kept * (dim + n_outputs + 1);
  std::vector<double> flat(local.size() * cols);
  for (size_t i = 0; i < local.size(); ++i) {
    const ChainState& s = local[i];
    double* row = flat.data() + i * cols;
    header_of(s, row);
    row += kHeader;
    std::copy(s.xi.data(), s.xi.data() + dim, row);
    row += dim;
    std::copy(s.outputs.data(), s.outputs.data() + n_outputs, row);
    row += n_outputs;
    std::copy(s.xi_samples.data(), s.xi_samples.data() + kept * dim, row);
    row += kept * dim;
    std::copy(s.output_samples.data(), s.output_samples.data() + kept * n_outputs, row);
    row += kept * n_outputs;
    std::copy(s.log_lik_samples.begin(), s.log_lik_samples.end(), row);
  }
  std::vector<double> all;
  mpi::gather_rows(flat.data(), static_cast<long>(local.size()), cols, &all);
  std::vector<ChainState> chains;
  if (w.rank != 0) return chains;
  const size_t n = all.size() / cols;
  chains.resize(n);
  for (size_t i = 0; i < n; ++i) {
    ChainState& s = chains[i];
    const double* row = all.data() + i * cols;
    state_from_header(row, s);
    row += kHeader;
    s.xi = Eigen::Map<const Eigen::VectorXd>(row, dim);
    row += dim;
    s.outputs = Eigen::Map<const Eigen::VectorXd>(row, n_outputs);
    row += n_outputs;
    s.xi_samples = Eigen::Map<const MatrixRM>(row, kept, dim);
    row += kept * dim;
    s.output_samples = Eigen::Map<const MatrixRM>(row, kept, n_outputs);
    row += kept * n_outputs;
    s.log_lik_samples.assign(row, row + kept);
  }
  std::sort(chains.begin(), chains.end(), [](const ChainState& a, const ChainState& b) { return a.chain < b.chain; });
  return chains;
}

CaseResult summarise_case(const InversionProblem& p, const std::vector<ChainState>& chains, int threads) {
  VED_CHECK(!chains.empty(), "inversion: no chains to summarise");
  const int n_chains = static_cast<int>(chains.size());
  const long kept = chains[0].kept;
  for (const ChainState& c : chains)
    VED_CHECK(c.kept == kept && kept >= 4, "chain " << c.chain << " kept " << c.kept << " draws; chain "
                                                    << chains[0].chain << " kept " << kept << " (need >= 4 each)");
  const int dim = p.kl->n_modes();
  const long m = chains[0].output_samples.cols();
  MatrixRM xi(n_chains * kept, dim), y(n_chains * kept, m);
  for (int c = 0; c < n_chains; ++c) {
    xi.middleRows(c * kept, kept) = chains[c].xi_samples.topRows(kept);
    y.middleRows(c * kept, kept) = chains[c].output_samples.topRows(kept);
  }
  // Fields of every draw: [S, cells] = xi Psi^T + mean.
  MatrixRM fields = xi * p.kl->modes.transpose();
  fields.rowwise() += p.kl->mean.transpose();
  ColumnSummary f = summarise_columns(fields, n_chains, true, threads);
  ColumnSummary o = summarise_columns(y, n_chains, false, threads);
  CaseResult r;
  r.field_mean = f.mean;
  r.field_std = f.std;
  r.field_q05 = f.q05;
  r.field_q95 = f.q95;
  r.y_mean = o.mean;
  r.y_std = o.std;
  r.y_q05 = o.q05;
  r.y_q95 = o.q95;
  r.chains = summarise_chains(chains);
  std::vector<double> ess(f.ess.data(), f.ess.data() + f.ess.size());
  std::nth_element(ess.begin(), ess.begin() + ess.size() / 2, ess.end());
  r.ess_field_median = ess[ess.size() / 2];
  r.ess_field_min = f.ess.minCoeff();
  r.rhat_field_max = f.rhat.maxCoeff();
  r.ess = std::min(r.ess_field_median, r.chains.ess_log_lik);
  r.solver_calls_per_ess = r.ess > 0 ? r.chains.exact_calls / r.ess : std::numeric_limits<double>::infinity();
  return r;
}

double interval_coverage(const Eigen::VectorXd& truth, const Eigen::VectorXd& lo, const Eigen::VectorXd& hi) {
  VED_CHECK(truth.size() == lo.size() && truth.size() == hi.size(), "coverage: sizes differ");
  long in = 0;
  for (Eigen::Index i = 0; i < truth.size(); ++i) in += truth[i] >= lo[i] && truth[i] <= hi[i];
  return truth.size() ? static_cast<double>(in) / truth.size() : 0.0;
}

void write_inversion(const std::string& path, const InversionProblem& p, const Observations& obs,
                     const std::vector<CaseResult>& results, const InversionInfo& info) {
  const size_t n = results.size();
  VED_CHECK(n == static_cast<size_t>(obs.n_cases()), "inversion: " << n << " results for " << obs.n_cases() << " cases");
  const size_t cells = static_cast<size_t>(p.kl->mean.size());
  const size_t m = static_cast<size_t>(p.system->n_outputs());
  AtomicOutput out(path);
  auto f = h5::File::create(out);
  auto rows = [&](const char* name, size_t cols, auto get) {
    MatrixRM a(n, cols);
    for (size_t i = 0; i < n; ++i) a.row(i) = get(results[i]).transpose();
    f.write(name, a.data(), {n, cols});
  };
  rows("/field_mean", cells, [](const CaseResult& r) { return r.field_mean; });
  rows("/field_std", cells, [](const CaseResult& r) { return r.field_std; });
  rows("/field_q05", cells, [](const CaseResult& r) { return r.field_q05; });
  rows("/field_q95", cells, [](const CaseResult& r) { return r.field_q95; });
  rows("/y_mean", m, [](const CaseResult& r) { return r.y_mean; });
  rows("/y_std", m, [](const CaseResult& r) { return r.y_std; });
  rows("/y_q05", m, [](const CaseResult& r) { return r.y_q05; });
  rows("/y_q95", m, [](const CaseResult& r) { return r.y_q95; });
  f.write("/observed/index", obs.index.data(), {obs.index.size()});
  f.write("/observed/value", obs.value.data(), {n, obs.index.size()});
  f.write("/prior/mean", p.kl->mean.data(), {cells});
  {
    // Prior standard deviation per cell under the kept modes (maps: how much the data tell).
    Eigen::VectorXd sd = p.kl->modes.rowwise().norm();
    f.write("/prior/std", sd.data(), {cells});
  }
  if (!info.wells.empty()) {
    std::vector<int64_t> wells(info.wells.begin(), info.wells.end());
    f.write("/wells", wells.data(), {wells.size()});
  }
  if (info.truth.size() > 0) {
    VED_CHECK(static_cast<size_t>(info.truth.rows()) == n && static_cast<size_t>(info.truth.cols()) == cells,
              "--truth has [" << info.truth.rows() << ", " << info.truth.cols() << "]; expected [" << n << ", " << cells
                              << "]");
    f.write("/field_true", info.truth.data(), {n, cells});
    std::vector<double> cov(n);
    for (size_t i = 0; i < n; ++i)
      cov[i] = interval_coverage(info.truth.row(i).transpose(), results[i].field_q05, results[i].field_q95);
    f.write("/diagnostics/coverage90", cov.data(), {n});
  }
  auto diag = [&](const char* name, auto get) {
    std::vector<double> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = get(results[i]);
    f.write(std::string("/diagnostics/") + name, v.data(), {n});
  };
  diag("ess", [](const CaseResult& r) { return r.ess; });
  diag("ess_log_lik", [](const CaseResult& r) { return r.chains.ess_log_lik; });
  diag("ess_field_median", [](const CaseResult& r) { return r.ess_field_median; });
  diag("ess_field_min", [](const CaseResult& r) { return r.ess_field_min; });
  diag("rhat_log_lik", [](const CaseResult& r) { return r.chains.rhat_log_lik; });
  diag("rhat_field_max", [](const CaseResult& r) { return r.rhat_field_max; });
  diag("acceptance", [](const CaseResult& r) { return r.chains.acceptance; });
  diag("acceptance_stage1", [](const CaseResult& r) { return r.chains.acceptance_stage1; });
  diag("acceptance_stage2", [](const CaseResult& r) { return r.chains.acceptance_stage2; });
  diag("beta", [](const CaseResult& r) { return r.chains.beta_mean; });
  diag("solver_calls", [](const CaseResult& r) { return static_cast<double>(r.chains.exact_calls); });
  diag("surrogate_calls", [](const CaseResult& r) { return static_cast<double>(r.chains.surrogate_calls); });
  diag("solver_calls_per_ess", [](const CaseResult& r) { return r.solver_calls_per_ess; });
  diag("seconds", [](const CaseResult& r) { return r.seconds; });
  f.set_attr("/", "format", std::string("ved-inversion"));
  f.set_attr("/", "version", static_cast<int64_t>(1));
  f.set_attr("/", "mesh", info.mesh);
  f.set_attr("/", "system", info.system);
  f.set_attr("/", "y_shape", info.y_shape_json);
  f.set_attr("/", "noise", p.noise);
  f.set_attr("/", "prior", info.prior_json);
  f.set_attr("/", "sampler", info.options_json);
  f.set_attr("/", "surrogate", info.surrogate);
  f.set_attr("/", "observed_file", obs.source);
  f.close();
  out.commit();
}

}  // namespace ved::inference
