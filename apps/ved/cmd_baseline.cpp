// ved baseline: linear and kernel baselines (docs/method.md §8) fitted in closed form and scored with
// the same metrics as `ved eval`.
//
//   ved baseline --method cca --latent 1,2,5,10,50,147,300 --data train.h5 --test test.h5 --json
//   ved baseline --method pca --latent 1:300 --data all.h5 --test-fraction 0.2 --seed 1
//   ved baseline --method ridge --data train.h5 --test test.h5 --json
//   ved baseline --method rrr --latent 5,50,147 --data train.h5 --test test.h5 --json
//   ved baseline --method krrr --latent 10,50 --data train.h5 --test test.h5 --json
//   ved baseline --method kpca --latent 5,50,300 --bandwidth-factor 2 --data train.h5 --test test.h5
//   ved baseline --method dmaps --latent 50 --decoder krr --diffusion-time 1 --data train.h5 --test test.h5
//
// Rows: with --test, every row of --data (after --rows) trains and every row of --test is
// scored; otherwise --data is split by the trainer's seeded split (same fractions and seed
// as `ved train` give the same rows). CCA, PCA, kernel PCA and diffusion maps fit on the
// training rows (CCA's ridge on x by K-fold cross-validation on them unless given); ridge
// and reduced-rank regression (rrr) pick alpha on the validation rows (when there are none,
// on the training rows by leave-one-out, or GCV with --ridge-cv gcv); kernel ridge (kridge)
// and its reduced-rank truncation (krrr) pick alpha by GCV on the training rows. Kernel PCA and diffusion
// maps embed the test rows out of sample (docs/baselines.md) and decode with least squares
// (one fit serves every r) or, with --decoder krr, kernel ridge on the codes (one fit per r,
// alpha by GCV).
//
// Output: with --json, one JSON object per line (JSON Lines), one line per latent size in
// ascending order (ridge: one line, "latent": null); otherwise a table.
#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli_util.hpp"
#include "commands.hpp"
#include "ved/baselines/linear.hpp"
#include "ved/baselines/nonlinear.hpp"
#include "ved/data/dataset.hpp"
#include "ved/data/split.hpp"
#include "ved/metrics/reconstruction.hpp"
#include "ved/util/error.hpp"
#include "ved/util/parse.hpp"
#include "ved/util/timing.hpp"

namespace ved::app {
namespace {

struct BaselineCli {
  std::string method = "cca";       // cca | rrr | pca | ridge | kpca | dmaps | krrr | kridge
  std::string latent = "50";        // sizes r: "50", "1,2,5,50", "1:300", "1:10,50,147"
  std::string data;                 // dataset file (HDF5)
  std::string test;                 // separate test file: all its rows are scored
  std::string x, y;                 // arrays instead of --data (FILE.npy | FILE.npz:name | FILE.h5:/path)
  std::string test_x, test_y;       // arrays instead of --test
  DataSource train_source() const { return {data, x, y}; }
  DataSource test_source() const { return {test, test_x, test_y}; }
  bool has_test() const { return !test.empty() || !test_x.empty() || !test_y.empty(); }
  std::string rows;                 // "A:B" rows of --data to use ("" = all)
  double val_fraction = 0.1;        // without --test: share of rows for validation (ridge alpha)
  double test_fraction = 0.2;       // without --test: share of rows scored
  uint64_t seed = 1;                // the split's seed
  std::string cca_ridge_x = "cv";   // CCA: added to x's correlation matrix ("cv": chosen per r by K-fold CV)
  int cca_folds = 5;                // CCA with cv: K
  double cca_ridge_y = 1e-4;        // CCA: added to y's correlation matrix
  double alpha = -1;                // ridge: fixed alpha (< 0: select from the grid)
  std::string alphas;               // ridge: comma list of alphas ("" = N * 10^(-6..3))
  std::string ridge_cv = "loo";     // ridge without validation rows: loo | gcv
  double bandwidth_factor = 1.0;    // kpca, dmaps: h = factor * median pairwise distance of standardised x
  double bandwidth = 0;             // kpca, dmaps: > 0 fixes h (the factor is then ignored)
  double dmaps_alpha = 1.0;         // dmaps: density normalisation in [0, 1]
  double diffusion_time = 1.0;      // dmaps: t, coordinates lambda^t psi
  std::string decoder = "linear";   // kpca, dmaps: linear | krr
  double krr_alpha = -1;            // krr decoder: fixed alpha (< 0: select by GCV)
  std::string krr_alphas;           // krr decoder: comma list of alphas ("" = 10^(-6..2))
  double krr_bandwidth_factor = 1;  // krr decoder: h_z = factor * median distance of the codes
  int threads = 1;                  // BLAS threads
  bool json = false;
  bool row_errors = false;          // with --json: per-test-row squared errors (for intervals)
};

// The one list of methods: --method's check, its help text and the parser below.
enum class BaselineMethod { kCca, kRrr, kPca, kRidge, kKpca, kDmaps, kKrrr, kKridge };
struct MethodName {
  BaselineMethod method;
  const char* name;
  const char* description;  // for --help, "" when the name says it
};
const MethodName kMethods[] = {{BaselineMethod::kCca, "cca", ""},
                               {BaselineMethod::kRrr, "rrr", "reduced-rank ridge regression"},
                               {BaselineMethod::kPca, "pca", ""},
                               {BaselineMethod::kRidge, "ridge", ""},
                               {BaselineMethod::kKpca, "kpca", "kernel PCA"},
                               {BaselineMethod::kDmaps, "dmaps", "diffusion maps"},
                               {BaselineMethod::kKrrr, "krrr", "kernel reduced-rank ridge regression"},
                               {BaselineMethod::kKridge, "kridge", "kernel ridge regression"}};

std::vector<std::string> method_names() {
  std::vector<std::string> names;
  for (const MethodName& m : kMethods) names.push_back(m.name);
  return names;
}

// "cca, pca, ridge, kpca (kernel PCA) or dmaps (diffusion maps)"
std::string method_help() {
  std::string s;
  const size_t n = std::size(kMethods);
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) s += i + 1 == n ? " or " : ", ";
    s += kMethods[i].name;
    if (*kMethods[i].description) s += std::string(" (") + kMethods[i].description + ")";
  }
  return s;
}

std::string join(const std::vector<std::string>& items) {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + items[i];
  return s;
}

BaselineMethod parse_method(const std::string& name) {
  const MethodName* found = nullptr;
  for (const MethodName& m : kMethods)
    if (name == m.name) found = &m;
  VED_CHECK(found, "--method '" << name << "' is not one of: " << join(method_names()));
  return found->method;
}

enum class KernelDecoder { kLinear, kKrr };

KernelDecoder parse_decoder(const std::string& name) {
  VED_CHECK(name == "linear" || name == "krr", "--decoder '" << name << "' is not one of: linear, krr");
  return name == "krr" ? KernelDecoder::kKrr : KernelDecoder::kLinear;
}

// "1,2,5" and ranges "1:300" (inclusive), sorted and without duplicates.
std::vector<Eigen::Index> parse_latents(const std::string& spec) {
  std::vector<Eigen::Index> out;
  for (const std::string& item : split_list(spec)) {
    const size_t colon = item.find(':');
    if (colon == std::string::npos) {
      out.push_back(parse_integer(item, "--latent", spec));
    } else {
      const int64_t lo = parse_integer(item.substr(0, colon), "--latent", spec);
      const int64_t hi = parse_integer(item.substr(colon + 1), "--latent", spec);
      VED_CHECK(lo <= hi, "--latent '" << spec << "': range " << item << " is empty");
      for (int64_t r = lo; r <= hi; ++r) out.push_back(r);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  VED_CHECK(!out.empty() && out.front() >= 1, "--latent '" << spec << "': sizes must be >= 1");
  return out;
}

std::vector<double> parse_alphas(const std::string& spec, const char* option = "--alphas") {
  std::vector<double> out;
  for (const std::string& item : split_list(spec)) {
    const std::optional<double> v = try_parse_number(item);
    VED_CHECK(v && *v >= 0, option << " '" << spec << "': '" << item << "' is not a number >= 0");
    out.push_back(*v);
  }
  return out;
}

struct Rows {
  MatrixRM x_train, y_train, x_val, y_val, x_test, y_test;
  std::string description;  // for the table header
};

Rows load_split(const BaselineCli& o) {
  Dataset d = load_data(o.train_source());
  const std::string data_name = o.train_source().describe();
  const RowRange rows = parse_rows(o.rows, d.n_samples());
  const int64_t begin = rows.begin, end = rows.end;
  const Eigen::Index n_rows = end - begin;
  Rows r;
  if (o.has_test()) {
    Dataset t = load_data(o.test_source());
    const std::string test_name = o.test_source().describe();
    VED_CHECK(t.x.cols() == d.x.cols() && t.y.cols() == d.y.cols(),
              test_name << " maps " << t.x.cols() << " inputs to " << t.y.cols() << " outputs but " << data_name << " maps "
                     << d.x.cols() << " to " << d.y.cols() << "; are they the same kind of data?");
    r.x_train = d.x.middleRows(begin, n_rows);
    r.y_train = d.y.middleRows(begin, n_rows);
    r.x_val.resize(0, d.x.cols());
    r.y_val.resize(0, d.y.cols());
    r.x_test = std::move(t.x);
    r.y_test = std::move(t.y);
    r.description = std::to_string(n_rows) + " training rows of " + data_name + ", " +
                    std::to_string(r.x_test.rows()) + " test rows of " + test_name;
    return r;
  }
  const DataSplit s = split_rows(n_rows, o.val_fraction, o.test_fraction, o.seed);
  VED_CHECK(!s.test.empty(), "no test rows: give --test FILE.h5, or a --test-fraction above " << o.test_fraction
                                                                                            << " for " << n_rows
                                                                                            << " rows");
  auto take = [&](const MatrixRM& a, const std::vector<int64_t>& idx) {
    MatrixRM out(static_cast<Eigen::Index>(idx.size()), a.cols());
    for (size_t i = 0; i < idx.size(); ++i) out.row(static_cast<Eigen::Index>(i)) = a.row(begin + idx[i]);
    return out;
  };
  r.x_train = take(d.x, s.train);
  r.y_train = take(d.y, s.train);
  r.x_val = take(d.x, s.val);
  r.y_val = take(d.y, s.val);
  r.x_test = take(d.x, s.test);
  r.y_test = take(d.y, s.test);
  r.description = data_name + " split " + std::to_string(s.train.size()) + " / " + std::to_string(s.val.size()) + " / " +
                  std::to_string(s.test.size()) + " (train / val / test, seed " + std::to_string(o.seed) + ")";
  return r;
}

nlohmann::json base_record(const BaselineCli& o, const Rows& r, const ReconstructionMetrics& m) {
  return {{"method", o.method},
          {"rel_l2", m.rel_l2},
          {"rel_l2_fluct", m.rel_l2_fluct},
          {"r2", m.r2},
          {"rmse", m.rmse},
          {"n_train", r.x_train.rows()},
          {"n_val", r.x_val.rows()},
          {"n_test", r.x_test.rows()},
          {"data", o.train_source().describe()},
          {"test", o.test_source().describe()}};
}

// The table (without --json): one header, one row per latent size. `spectrum_format`
// prints the method's spectrum column (a fraction with %12.6f, an eigenvalue with %12.6g).
void print_table_header(const char* spectrum_name, const char* extra = "") {
  std::printf("%7s %12s %13s %10s %12s %12s%s\n", "latent", "rel_l2", "rel_l2_fluct", "r2", "rmse", spectrum_name, extra);
}

void print_table_row(Eigen::Index latent, const ReconstructionMetrics& m, const char* spectrum_format, double spectrum) {
  std::printf("%7ld %12.6f %13.6f %10.6f %12.6g ", static_cast<long>(latent), m.rel_l2, m.rel_l2_fluct, m.r2, m.rmse);
  std::printf(spectrum_format, spectrum);
}

void print_json(const nlohmann::json& j) { std::printf("%s\n", j.dump().c_str()); }

// --row-errors: the per-row terms of rel_l2_fluct (metrics/reconstruction.hpp), as `ved eval`.
void add_row_errors(const BaselineCli& o, const MatrixRM& y, const MatrixRM& y_hat, const Eigen::VectorXd& y_mean,
                    nlohmann::json& j) {
  if (!o.row_errors) return;
  const RowErrors e = row_errors(y, y_hat, y_mean);
  j["row_sq_err"] = std::vector<double>(e.sq_err.data(), e.sq_err.data() + e.sq_err.size());
  j["row_sq_dev"] = std::vector<double>(e.sq_dev.data(), e.sq_dev.data() + e.sq_dev.size());
}

// ---- Kernel PCA and diffusion maps: one embedding for the largest r, then per r the
// nested linear decoder or a kernel ridge fit on the leading r codes.

struct KernelRun {
  const BaselineCli& o;
  const Rows& r;
  BaselineMethod method;        // kKpca or kDmaps
  KernelDecoder decoder;
  std::vector<Eigen::Index> latents;
  KernelRidgeOptions krr;       // the krr decoder's options
  KernelEmbedding emb;
  MatrixRM z_test;              // [N_test, r_max] codes of the test rows
  double embed_fit_s = 0;
  double embed_test_s = 0;
  Eigen::VectorXd y_train_mean; // [m], as the decoders' ybar
};

KernelEmbeddingOptions kernel_options(const BaselineCli& o, Eigen::Index max_latent) {
  KernelEmbeddingOptions opt;
  opt.bandwidth_factor = o.bandwidth_factor;
  opt.bandwidth = o.bandwidth;
  opt.dmaps_alpha = o.dmaps_alpha;
  opt.diffusion_time = o.diffusion_time;
  opt.max_latent = max_latent;
  opt.threads = o.threads;
  return opt;
}

// Fits the embedding on the training rows and embeds the test rows, checking that every
// requested r has a coordinate.
void fit_embedding(KernelRun& k) {
  const Eigen::Index n_train = k.r.x_train.rows(), r_max = k.latents.back();
  VED_CHECK(r_max <= n_train - 1, "--latent " << r_max << ": " << k.o.method << " has at most N - 1 = " << n_train - 1
                                              << " coordinates on these " << n_train
                                              << " training rows; use latent sizes up to " << n_train - 1);
  const KernelEmbeddingOptions opt = kernel_options(k.o, r_max);
  const auto t0 = std::chrono::steady_clock::now();
  k.emb = k.method == BaselineMethod::kKpca ? fit_kernel_pca(k.r.x_train, opt) : fit_diffusion_map(k.r.x_train, opt);
  k.embed_fit_s = seconds_since(t0);
  VED_CHECK(r_max <= k.emb.max_latent(),
            "--latent " << r_max << ": " << k.o.method << " found " << k.emb.max_latent()
                        << " coordinates with eigenvalues above the numerical floor on these " << n_train
                        << " training rows (bandwidth h = " << k.emb.bandwidth << "); use latent sizes up to "
                        << k.emb.max_latent() << " or change --bandwidth-factor");
  const auto t1 = std::chrono::steady_clock::now();
  k.z_test = k.emb.embed(k.r.x_test, r_max);
  k.embed_test_s = seconds_since(t1);
  k.y_train_mean = k.r.y_train.colwise().mean().transpose();
}

void print_kernel_header(const KernelRun& k) {
  const KernelEmbedding& emb = k.emb;
  std::printf("%s + %s decoder on %s\n", k.o.method.c_str(), k.o.decoder.c_str(), k.r.description.c_str());
  std::printf("embedding fit %.3f s (bandwidth h = %.6g = %.6g x median distance %.6g", k.embed_fit_s, emb.bandwidth,
              emb.bandwidth / emb.median_distance, emb.median_distance);
  if (k.method == BaselineMethod::kDmaps) std::printf(", alpha %.3g, t %.3g", emb.dmaps_alpha, emb.diffusion_time);
  std::printf(")\n");
  print_table_header(k.method == BaselineMethod::kKpca ? "kernel_var" : "eigenvalue",
                     k.decoder == KernelDecoder::kKrr ? "    krr_alpha" : "");
}

// One latent size's result: a JSON line or a table row.
void emit_kernel_result(const KernelRun& k, Eigen::Index latent, const MatrixRM& y_hat, double decoder_fit_s,
                        double predict_s, const KernelRidgeDecoder* krr) {
  const KernelEmbedding& emb = k.emb;
  const ReconstructionMetrics m = reconstruction_metrics(k.r.y_test, y_hat, k.y_train_mean);
  // Per r: the share of the centred kernel's trace the first r components keep (kpca) or
  // the r-th eigenvalue (dmaps).
  const bool kpca = k.method == BaselineMethod::kKpca;
  const double spectrum = kpca ? emb.eigenvalues.head(latent).sum() / emb.kernel_trace : emb.eigenvalues[latent - 1];
  if (!k.o.json) {
    print_table_row(latent, m, "%12.6g", spectrum);
    if (krr) std::printf("  %11.4g", krr->alpha);
    std::printf("\n");
    return;
  }
  nlohmann::json j = base_record(k.o, k.r, m);
  add_row_errors(k.o, k.r.y_test, y_hat, k.y_train_mean, j);
  j["latent"] = latent;
  j["decoder"] = k.o.decoder;
  j["bandwidth"] = emb.bandwidth;
  j["bandwidth_factor"] = emb.bandwidth / emb.median_distance;
  j["median_distance"] = emb.median_distance;
  j["eigenvalue"] = emb.eigenvalues[latent - 1];
  if (kpca) {
    j["explained_kernel_variance"] = spectrum;
  } else {
    j["dmaps_alpha"] = emb.dmaps_alpha;
    j["diffusion_time"] = emb.diffusion_time;
  }
  if (krr) {
    j["krr_alpha"] = krr->alpha;
    j["krr_alpha_selection"] = krr->selection;
    j["krr_alpha_at_grid_edge"] = krr->alpha_at_grid_edge;
    j["krr_bandwidth"] = krr->bandwidth;
  }
  j["fit_seconds"] = k.embed_fit_s + decoder_fit_s;
  j["embedding_fit_seconds"] = k.embed_fit_s;
  j["decoder_fit_seconds"] = decoder_fit_s;
  j["predict_seconds"] = k.embed_test_s + predict_s;
  print_json(j);
}

// Least squares on the codes, one fit for every r.
void decode_linear(const KernelRun& k) {
  const auto t0 = std::chrono::steady_clock::now();
  const LinearDecoder dec = fit_linear_decoder(k.emb.train_embedding, k.r.y_train);
  const double fit_s = seconds_since(t0);
  VED_CHECK(k.latents.back() <= dec.max_latent(),
            "--latent " << k.latents.back() << ": only the first " << dec.max_latent() << " " << k.o.method
                        << " coordinates are linearly independent on the training rows; use latent sizes up to "
                        << dec.max_latent());
  auto t_step = std::chrono::steady_clock::now();
  dec.decode_sweep(k.z_test, k.latents, [&](Eigen::Index latent, const MatrixRM& y_hat) {
    emit_kernel_result(k, latent, y_hat, fit_s, seconds_since(t_step), nullptr);
    t_step = std::chrono::steady_clock::now();
  });
}

// Kernel ridge on the leading r codes, one fit per r.
void decode_kernel_ridge(const KernelRun& k) {
  for (Eigen::Index latent : k.latents) {
    const auto t0 = std::chrono::steady_clock::now();
    const KernelRidgeDecoder krr = fit_kernel_ridge_decoder(k.emb.train_embedding.leftCols(latent), k.r.y_train, k.krr);
    const double fit_s = seconds_since(t0);
    if (krr.alpha_at_grid_edge)
      std::fprintf(stderr, "warning: r = %ld: kernel ridge alpha %.4g is at the edge of the grid; widen --krr-alphas\n",
                   static_cast<long>(latent), krr.alpha);
    const auto t1 = std::chrono::steady_clock::now();
    const MatrixRM y_hat = krr.predict(k.z_test.leftCols(latent));
    emit_kernel_result(k, latent, y_hat, fit_s, seconds_since(t1), &krr);
  }
}

void run_kernel_baseline(const BaselineCli& o, BaselineMethod method, const Rows& r) {
  KernelRun k{o, r, method, parse_decoder(o.decoder), parse_latents(o.latent), {}, {}, {}, 0, 0, {}};
  // Every option is checked before the (expensive) embedding is fitted.
  k.krr.alpha = o.krr_alpha;
  k.krr.alphas = parse_alphas(o.krr_alphas, "--krr-alphas");
  k.krr.bandwidth_factor = o.krr_bandwidth_factor;
  k.krr.threads = o.threads;
  fit_embedding(k);
  if (!o.json) print_kernel_header(k);
  if (k.decoder == KernelDecoder::kLinear) decode_linear(k);
  else decode_kernel_ridge(k);
}

// ---- Ridge regression: full rank, one line.

RidgeOptions ridge_options(const BaselineCli& o) {
  RidgeOptions opt;
  opt.alpha = o.alpha;
  opt.alphas = parse_alphas(o.alphas);
  opt.criterion = o.ridge_cv;
  opt.threads = o.threads;
  return opt;
}

void warn_ridge_grid_edge(const RidgeModel& model) {
  if (model.alpha_at_grid_edge)
    std::fprintf(stderr, "warning: ridge alpha %.4g is at the edge of the grid [%.4g, %.4g]; widen --alphas\n",
                 model.alpha, *std::min_element(model.alphas.begin(), model.alphas.end()),
                 *std::max_element(model.alphas.begin(), model.alphas.end()));
}

void add_ridge_fields(const RidgeModel& model, nlohmann::json& j) {
  j["alpha"] = model.alpha;
  j["alpha_selection"] = model.selection;
  j["alpha_at_grid_edge"] = model.alpha_at_grid_edge;
}

void run_ridge(const BaselineCli& o, const Rows& r) {
  const RidgeOptions opt = ridge_options(o);
  const auto t0 = std::chrono::steady_clock::now();
  const RidgeModel model = fit_ridge(r.x_train, r.y_train, r.x_val, r.y_val, opt);
  const double fit_s = seconds_since(t0);
  const auto t1 = std::chrono::steady_clock::now();
  const MatrixRM y_hat = model.predict(r.x_test);
  const ReconstructionMetrics m = reconstruction_metrics(r.y_test, y_hat, model.y_mean);
  const double predict_s = seconds_since(t1);
  warn_ridge_grid_edge(model);
  if (!o.json) {
    std::printf("ridge on %s\n", r.description.c_str());
    std::printf("alpha %.6g (%s), fit %.3f s\n", model.alpha, model.selection.c_str(), fit_s);
    std::printf("test: rel_l2 %.6f  rel_l2_fluct %.6f  r2 %.6f  rmse %.6g\n", m.rel_l2, m.rel_l2_fluct, m.r2, m.rmse);
    return;
  }
  nlohmann::json j = base_record(o, r, m);
  add_row_errors(o, r.y_test, y_hat, model.y_mean, j);
  j["latent"] = nullptr;
  add_ridge_fields(model, j);
  j["fit_seconds"] = fit_s;
  j["predict_seconds"] = predict_s;
  print_json(j);
}

// ---- Linear encoders with a linear decoder, every r from one fit: CCA (ridge fixed, or
// chosen per r by cross-validation) and PCA with least-squares decoders, and reduced-rank
// ridge regression (the ridge fit truncated to rank r).

// --cca-ridge-x: "cv" or a number > 0.
std::optional<double> fixed_cca_ridge(const std::string& spec) {
  if (spec == "cv") return std::nullopt;
  const std::optional<double> v = try_parse_number(spec);
  VED_CHECK(v && *v > 0, "--cca-ridge-x '" << spec << "': expected cv (chosen by cross-validation) or a number > 0");
  return v;
}

// What the linear methods share: the fitted sweep, the method's spectrum per r and its
// description in the JSON line.
struct LinearRun {
  const char* spectrum_name = "";                                 // the table's column
  std::function<double(Eigen::Index)> spectrum;                   // per latent size
  std::function<void(Eigen::Index, nlohmann::json&)> describe;    // method fields per latent size
  std::function<void(const MatrixRM&, const std::function<void(Eigen::Index, const MatrixRM&)>&)> sweep;
  Eigen::VectorXd y_mean;
  Eigen::Index max_latent = 0;
  std::string limit;  // why max_latent is what it is, for the error
};

LinearRun cca_run(const BaselineCli& o, const Rows& r, const std::vector<Eigen::Index>& latents,
                  std::shared_ptr<void>& keep) {
  LinearFitOptions opt;
  opt.cca_ridge_y = o.cca_ridge_y;
  opt.max_latent = latents.back();
  opt.threads = o.threads;
  LinearRun run;
  run.spectrum_name = "canon_corr";
  run.limit = "at most min(n, m)";
  if (const std::optional<double> eps = fixed_cca_ridge(o.cca_ridge_x)) {
    opt.cca_ridge_x = *eps;
    auto model = std::make_shared<LatentLinearModel>(fit_cca(r.x_train, r.y_train, opt));
    keep = model;
    run.y_mean = model->y_mean;
    run.max_latent = model->max_latent();
    run.spectrum = [model](Eigen::Index k) { return model->spectrum[k - 1]; };
    run.describe = [model](Eigen::Index k, nlohmann::json& j) {
      j["canonical_correlation"] = model->spectrum[k - 1];
      j["cca_ridge_x"] = model->cca_ridge_x;
      j["cca_ridge_y"] = model->cca_ridge_y;
      j["cca_ridge_selection"] = "fixed";
    };
    run.sweep = [model, latents](const MatrixRM& x, const std::function<void(Eigen::Index, const MatrixRM&)>& v) {
      model->predict_sweep(x, latents, v);
    };
    return run;
  }
  CcaCvOptions cvo;
  cvo.folds = o.cca_folds;
  VED_CHECK(o.cca_folds >= 2, "--cca-folds " << o.cca_folds << ": cross-validation needs at least 2 folds");
  // The smallest fold-training set bounds the directions every fold can score.
  const Eigen::Index n_rows = r.x_train.rows();
  const Eigen::Index fold_rows = n_rows - (n_rows + o.cca_folds - 1) / o.cca_folds;
  const Eigen::Index usable = std::min({r.x_train.cols(), r.y_train.cols(), fold_rows - 1});
  VED_CHECK(latents.back() <= usable,
            "--latent " << latents.back() << ": cca has " << usable << " usable directions on these " << n_rows
                        << " training rows (at most min(n, m, rows - 1) on the " << fold_rows << " rows each of the "
                        << o.cca_folds << " cross-validation fits keeps); use latent sizes up to " << usable);
  auto model = std::make_shared<CcaCvModel>(fit_cca_cv(r.x_train, r.y_train, latents, opt, cvo));
  keep = model;
  const CcaCvResult& cv = model->cv;
  for (size_t i = 0; i < cv.latents.size(); ++i)
    if (cv.eps_at_grid_edge[i])
      std::fprintf(stderr, "warning: r = %ld: the cross-validated CCA ridge %.4g is at the edge of its grid\n",
                   static_cast<long>(cv.latents[i]), cv.eps[i]);
  run.y_mean = model->models.front().y_mean;
  run.max_latent = latents.back();  // fit_cca_cv checked every size
  auto index_of = [model](Eigen::Index k) {
    const auto& l = model->cv.latents;
    return static_cast<size_t>(std::find(l.begin(), l.end(), k) - l.begin());
  };
  run.spectrum = [model](Eigen::Index k) { return model->model_for(k).spectrum[k - 1]; };
  run.describe = [model, index_of](Eigen::Index k, nlohmann::json& j) {
    const LatentLinearModel& m = model->model_for(k);
    const size_t i = index_of(k);
    j["canonical_correlation"] = m.spectrum[k - 1];
    j["cca_ridge_x"] = m.cca_ridge_x;
    j["cca_ridge_y"] = m.cca_ridge_y;
    j["cca_ridge_selection"] = std::to_string(model->cv.folds) + "-fold cv";
    j["cca_ridge_at_grid_edge"] = static_cast<bool>(model->cv.eps_at_grid_edge[i]);
    j["cca_cv_grid"] = model->cv.eps_grid;
    std::vector<double> scores;
    for (Eigen::Index g = 0; g < model->cv.scores.rows(); ++g) scores.push_back(model->cv.scores(g, static_cast<Eigen::Index>(i)));
    j["cca_cv_scores"] = scores;
  };
  run.sweep = [model](const MatrixRM& x, const std::function<void(Eigen::Index, const MatrixRM&)>& v) {
    model->predict_sweep(x, v);
  };
  return run;
}

LinearRun pca_run(const BaselineCli& o, const Rows& r, const std::vector<Eigen::Index>& latents,
                  std::shared_ptr<void>& keep) {
  LinearFitOptions opt;
  opt.max_latent = latents.back();
  opt.threads = o.threads;
  auto model = std::make_shared<LatentLinearModel>(fit_pca(r.x_train, r.y_train, opt));
  keep = model;
  LinearRun run;
  run.spectrum_name = "cum_var";
  run.limit = "the rank of the standardised x";
  run.y_mean = model->y_mean;
  run.max_latent = model->max_latent();
  // The share of x's variance the first r keep.
  run.spectrum = [model](Eigen::Index k) { return model->spectrum.head(k).sum(); };
  run.describe = [model](Eigen::Index k, nlohmann::json& j) { j["explained_variance"] = model->spectrum.head(k).sum(); };
  run.sweep = [model, latents](const MatrixRM& x, const std::function<void(Eigen::Index, const MatrixRM&)>& v) {
    model->predict_sweep(x, latents, v);
  };
  return run;
}

LinearRun rrr_run(const BaselineCli& o, const Rows& r, const std::vector<Eigen::Index>& latents,
                  std::shared_ptr<void>& keep) {
  auto fit = std::make_shared<ReducedRankFit>(
      fit_reduced_rank(r.x_train, r.y_train, r.x_val, r.y_val, ridge_options(o), latents.back()));
  keep = fit;
  warn_ridge_grid_edge(fit->ridge);
  LinearRun run;
  run.spectrum_name = "cum_fitted";
  run.limit = "the rank of the ridge fit on the training rows";
  run.y_mean = fit->model.y_mean;
  run.max_latent = fit->model.max_latent();
  // The share of the fitted standardised outputs' sum of squares the first r directions keep.
  run.spectrum = [fit](Eigen::Index k) { return fit->model.spectrum.head(k).sum(); };
  run.describe = [fit](Eigen::Index k, nlohmann::json& j) {
    j["explained_fitted"] = fit->model.spectrum.head(k).sum();
    add_ridge_fields(fit->ridge, j);
  };
  run.sweep = [fit, latents](const MatrixRM& x, const std::function<void(Eigen::Index, const MatrixRM&)>& v) {
    fit->model.predict_sweep(x, latents, v);
  };
  return run;
}

void run_linear_latent(const BaselineCli& o, BaselineMethod method, const Rows& r) {
  const std::vector<Eigen::Index> latents = parse_latents(o.latent);
  if (method == BaselineMethod::kCca) fixed_cca_ridge(o.cca_ridge_x);  // checked before the fit
  std::shared_ptr<void> keep;  // the fitted model the closures share
  const auto t0 = std::chrono::steady_clock::now();
  const LinearRun run = method == BaselineMethod::kCca   ? cca_run(o, r, latents, keep)
                        : method == BaselineMethod::kPca ? pca_run(o, r, latents, keep)
                                                         : rrr_run(o, r, latents, keep);
  const double fit_s = seconds_since(t0);
  VED_CHECK(latents.back() <= run.max_latent,
            "--latent " << latents.back() << ": " << o.method << " has " << run.max_latent << " usable directions on these "
                        << r.x_train.rows() << " training rows (" << run.limit << "); use latent sizes up to "
                        << run.max_latent);

  if (!o.json) {
    std::printf("%s on %s\n", o.method.c_str(), r.description.c_str());
    std::printf("fit %.3f s (n = %ld inputs, m = %ld outputs)\n", fit_s, static_cast<long>(r.x_train.cols()),
                static_cast<long>(r.y_train.cols()));
    print_table_header(run.spectrum_name);
  }
  auto t_step = std::chrono::steady_clock::now();
  run.sweep(r.x_test, [&](Eigen::Index latent, const MatrixRM& y_hat) {
    const ReconstructionMetrics m = reconstruction_metrics(r.y_test, y_hat, run.y_mean);
    const double predict_s = seconds_since(t_step);
    if (o.json) {
      nlohmann::json j = base_record(o, r, m);
      add_row_errors(o, r.y_test, y_hat, run.y_mean, j);
      j["latent"] = latent;
      run.describe(latent, j);
      j["fit_seconds"] = fit_s;
      j["predict_seconds"] = predict_s;
      print_json(j);
    } else {
      print_table_row(latent, m, "%12.6f\n", run.spectrum(latent));
    }
    t_step = std::chrono::steady_clock::now();
  });
}

// ---- Kernel regression of y on x: kernel ridge (full rank, one line) and its rank-r
// truncation (one fit for every r).

void run_kernel_regression(const BaselineCli& o, BaselineMethod method, const Rows& r) {
  const bool full = method == BaselineMethod::kKridge;
  const std::vector<Eigen::Index> latents = full ? std::vector<Eigen::Index>{} : parse_latents(o.latent);
  KernelRidgeOptions opt;
  opt.bandwidth_factor = o.bandwidth_factor;
  opt.bandwidth = o.bandwidth;
  opt.alpha = o.krr_alpha;
  opt.alphas = parse_alphas(o.krr_alphas, "--krr-alphas");
  opt.threads = o.threads;
  const auto t0 = std::chrono::steady_clock::now();
  const KernelRegression kr = fit_kernel_regression(r.x_train, r.y_train, opt);
  const double fit_s = seconds_since(t0);
  if (kr.krr.alpha_at_grid_edge)
    std::fprintf(stderr, "warning: kernel ridge alpha %.4g is at the edge of the grid; widen --krr-alphas\n", kr.krr.alpha);
  if (!full)
    VED_CHECK(latents.back() <= kr.max_latent(),
              "--latent " << latents.back() << ": krrr has " << kr.max_latent() << " directions on these "
                          << r.x_train.rows() << " training rows (the rank of the kernel ridge fit); use latent sizes up to "
                          << kr.max_latent());
  const Eigen::VectorXd y_mean = r.y_train.colwise().mean().transpose();
  if (!o.json) {
    std::printf("%s on %s\n", o.method.c_str(), r.description.c_str());
    std::printf("fit %.3f s (bandwidth h = %.6g on standardised x, alpha %.6g by %s)\n", fit_s, kr.krr.bandwidth,
                kr.krr.alpha, kr.krr.selection.c_str());
    print_table_header(full ? "" : "cum_fitted");
  }
  auto emit = [&](std::optional<Eigen::Index> latent, const MatrixRM& y_hat, double predict_s) {
    const ReconstructionMetrics m = reconstruction_metrics(r.y_test, y_hat, y_mean);
    const double spectrum = latent ? kr.spectrum.head(*latent).sum() : 1.0;
    if (!o.json) {
      print_table_row(latent.value_or(0), m, "%12.6f\n", spectrum);
      return;
    }
    nlohmann::json j = base_record(o, r, m);
    add_row_errors(o, r.y_test, y_hat, y_mean, j);
    j["latent"] = latent ? nlohmann::json(*latent) : nlohmann::json(nullptr);
    if (latent) j["explained_fitted"] = spectrum;
    j["bandwidth"] = kr.krr.bandwidth;
    j["krr_alpha"] = kr.krr.alpha;
    j["krr_alpha_selection"] = kr.krr.selection;
    j["krr_alpha_at_grid_edge"] = kr.krr.alpha_at_grid_edge;
    j["fit_seconds"] = fit_s;
    j["predict_seconds"] = predict_s;
    print_json(j);
  };
  auto t_step = std::chrono::steady_clock::now();
  if (full) {
    const MatrixRM y_hat = kr.predict(r.x_test);
    emit(std::nullopt, y_hat, seconds_since(t_step));
    return;
  }
  kr.predict_sweep(r.x_test, latents, [&](Eigen::Index latent, const MatrixRM& y_hat) {
    emit(latent, y_hat, seconds_since(t_step));
    t_step = std::chrono::steady_clock::now();
  });
}

void run_baseline(const BaselineCli& o) {
  const BaselineMethod method = parse_method(o.method);
  VED_CHECK(o.threads >= 1, "--threads " << o.threads << ": must be at least 1");
  if (method == BaselineMethod::kCca) fixed_cca_ridge(o.cca_ridge_x);  // before the data are read
  const Rows r = load_split(o);
  switch (method) {
    case BaselineMethod::kKpca:
    case BaselineMethod::kDmaps:
      run_kernel_baseline(o, method, r);
      break;
    case BaselineMethod::kRidge:
      run_ridge(o, r);
      break;
    case BaselineMethod::kCca:
    case BaselineMethod::kPca:
    case BaselineMethod::kRrr:
      run_linear_latent(o, method, r);
      break;
    case BaselineMethod::kKrrr:
    case BaselineMethod::kKridge:
      run_kernel_regression(o, method, r);
      break;
  }
}

}  // namespace

void add_baseline_command(CLI::App& app) {
  auto o = std::make_shared<BaselineCli>();
  o->threads = default_threads();
  CLI::App* cmd = app.add_subcommand(
      "baseline", "Fit a baseline in closed form (CCA, PCA, kernel PCA or diffusion-map encoder + decoder, "
                  "reduced-rank or full ridge regression, kernel ridge and its reduced-rank truncation) and print "
                  "test metrics; with --json one JSON object per line and latent size");
  cmd->add_option("--method", o->method, method_help())
      ->check(CLI::IsMember(method_names()));
  cmd->add_option("--latent", o->latent,
                  "Latent sizes r: a list and/or inclusive ranges, e.g. 1,2,5,50 or 1:300 (one fit serves all; "
                  "ridge and kridge are full rank and ignore it)");
  cmd->add_option("--data", o->data, "Dataset (HDF5) to fit on (and to split, without --test); or give --x and --y");
  cmd->add_option("--x", o->x, "Inputs from an array instead of --data: FILE.npy, FILE.npz:name or FILE.h5:/path");
  cmd->add_option("--y", o->y, "Outputs with --x (same forms), [N, m]");
  cmd->add_option("--test", o->test, "Separate test dataset: train on every row of --data, score every row of this");
  cmd->add_option("--test-x", o->test_x, "Separate test inputs as an array (with --test-y), instead of --test");
  cmd->add_option("--test-y", o->test_y, "Separate test outputs as an array (with --test-x)");
  cmd->add_option("--rows", o->rows, "Rows of --data to use, A:B (e.g. 0:3000); empty = all");
  cmd->add_option("--val-fraction", o->val_fraction,
                  "Without --test: share of rows for validation (ridge's alpha), as `ved train`");
  cmd->add_option("--test-fraction", o->test_fraction,
                  "Without --test: share of rows scored (use the same value and --seed as `ved train` to score "
                  "the same rows)");
  cmd->add_option("--seed", o->seed, "Seed of the train/validation/test split");
  cmd->add_option("--cca-ridge-x", o->cca_ridge_x,
                  "CCA: ridge added to the correlation matrix of standardised x before whitening (> 0 when x is "
                  "rank deficient), or cv: chosen per latent size from 10^-4 ... 10^2 by K-fold cross-validation "
                  "on the training rows");
  cmd->add_option("--cca-folds", o->cca_folds, "CCA with --cca-ridge-x cv: the number of folds K");
  cmd->add_option("--cca-ridge-y", o->cca_ridge_y, "CCA: ridge added to the correlation matrix of standardised y");
  cmd->add_option("--alpha", o->alpha,
                  "Ridge: fixed alpha on standardised data (sklearn's convention); < 0 selects it on the "
                  "validation rows, or without them by --ridge-cv on the training rows");
  cmd->add_option("--alphas", o->alphas, "Ridge: comma list of alphas to select from (empty: N * 10^t, t = -6..3)");
  cmd->add_option("--ridge-cv", o->ridge_cv,
                  "Ridge without validation rows (e.g. with --test): select alpha by exact leave-one-out (loo) or "
                  "generalised cross-validation (gcv) on the training rows")
      ->check(CLI::IsMember({"loo", "gcv"}));
  cmd->add_option("--bandwidth-factor", o->bandwidth_factor,
                  "kpca, dmaps, krrr, kridge: Gaussian kernel exp(-|a-b|^2 / (2 h^2)) on standardised x with h = factor * median "
                  "pairwise distance of the training rows");
  cmd->add_option("--bandwidth", o->bandwidth, "kpca, dmaps, krrr, kridge: fixed h > 0 (0 = the median heuristic)");
  cmd->add_option("--dmaps-alpha", o->dmaps_alpha,
                  "dmaps: density normalisation alpha in [0, 1] (1: Laplace-Beltrami, 0.5: Fokker-Planck, 0: graph "
                  "Laplacian)");
  cmd->add_option("--diffusion-time", o->diffusion_time,
                  "dmaps: diffusion time t >= 0, coordinates lambda^t psi (a linear decoder is invariant to it)");
  cmd->add_option("--decoder", o->decoder,
                  "kpca, dmaps: linear (least squares with intercept, nested in r) or krr (Gaussian kernel ridge "
                  "on the r codes, one fit per r)")
      ->check(CLI::IsMember({"linear", "krr"}));
  cmd->add_option("--krr-alpha", o->krr_alpha,
                  "krr decoder, krrr, kridge: fixed alpha, (K + alpha I)^-1 Y on standardised y; < 0 selects it by GCV");
  cmd->add_option("--krr-alphas", o->krr_alphas, "krr decoder, krrr, kridge: comma list of alphas to select from (empty: 10^t, "
                                                 "t = -6, -5.75, ..., 2)");
  cmd->add_option("--krr-bandwidth-factor", o->krr_bandwidth_factor,
                  "krr decoder: kernel bandwidth on the codes = factor * their median pairwise distance");
  cmd->add_option("--threads", o->threads, "BLAS threads");
  cmd->add_flag("--json", o->json, "One JSON object per line (JSON Lines), one per latent size");
  cmd->add_flag("--row-errors", o->row_errors, "With --json, also row_sq_err and row_sq_dev: per test row, the "
                                               "squared error and the squared deviation from the training mean");
  cmd->callback([o] { run_baseline(*o); });
}

}  // namespace ved::app
