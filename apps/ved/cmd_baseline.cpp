// ved baseline: linear and kernel baselines (docs/method.md §8) fitted in closed form and scored with
// the same metrics as `ved eval`.
//
//   ved baseline --method cca --latent 1,2,5,10,50,147,300 --data train.h5 --test test.h5 --json
//   ved baseline --method pca --latent 1:300 --data all.h5 --test-fraction 0.2 --seed 1
//   ved baseline --method ridge --data train.h5 --test test.h5 --json
//   ved baseline --method kpca --latent 5,50,300 --bandwidth-factor 2 --data train.h5 --test test.h5
//   ved baseline --method dmaps --latent 50 --decoder krr --diffusion-time 1 --data train.h5 --test test.h5
//
// Rows: with --test, every row of --data (after --rows) trains and every row of --test is
// scored; otherwise --data is split by the trainer's seeded split (same fractions and seed
// as `ved train` give the same rows). CCA, PCA, kernel PCA and diffusion maps fit on the
// training rows; ridge also picks alpha on the validation rows (when there are none, on
// the training rows by leave-one-out, or GCV with --ridge-cv gcv). Kernel PCA and diffusion
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

namespace ved::app {
namespace {

struct BaselineCli {
  std::string method = "cca";       // cca | pca | ridge | kpca | dmaps
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
  double cca_ridge_x = 1e-4;        // CCA: added to x's correlation matrix
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
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}


// "1,2,5" and ranges "1:300" (inclusive), sorted and without duplicates.
std::vector<Eigen::Index> parse_latents(const std::string& spec) {
  std::vector<Eigen::Index> out;
  size_t start = 0;
  while (start <= spec.size()) {
    const size_t comma = std::min(spec.find(',', start), spec.size());
    const std::string item = spec.substr(start, comma - start);
    const size_t colon = item.find(':');
    if (colon == std::string::npos) {
      out.push_back(parse_integer(item, "--latent", spec));
    } else {
      const int64_t lo = parse_integer(item.substr(0, colon), "--latent", spec);
      const int64_t hi = parse_integer(item.substr(colon + 1), "--latent", spec);
      VED_CHECK(lo <= hi, "--latent '" << spec << "': range " << item << " is empty");
      for (int64_t r = lo; r <= hi; ++r) out.push_back(r);
    }
    start = comma + 1;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  VED_CHECK(!out.empty() && out.front() >= 1, "--latent '" << spec << "': sizes must be >= 1");
  return out;
}

std::vector<double> parse_alphas(const std::string& spec, const char* option = "--alphas") {
  std::vector<double> out;
  if (spec.empty()) return out;
  size_t start = 0;
  while (start <= spec.size()) {
    const size_t comma = std::min(spec.find(',', start), spec.size());
    const std::string item = spec.substr(start, comma - start);
    size_t used = 0;
    double v = -1;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    VED_CHECK(!item.empty() && used == item.size() && v >= 0,
              option << " '" << spec << "': '" << item << "' is not a number >= 0");
    out.push_back(v);
    start = comma + 1;
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

// Kernel PCA or diffusion maps: one embedding for the largest r, then per r the nested
// linear decoder or a kernel ridge fit on the leading r codes.
void run_kernel_baseline(const BaselineCli& o, const Rows& r) {
  VED_CHECK(o.decoder == "linear" || o.decoder == "krr", "--decoder '" << o.decoder << "' is not one of: linear, krr");
  const std::vector<Eigen::Index> latents = parse_latents(o.latent);
  KernelRidgeOptions kopt;
  kopt.alpha = o.krr_alpha;
  kopt.alphas = parse_alphas(o.krr_alphas, "--krr-alphas");
  kopt.bandwidth_factor = o.krr_bandwidth_factor;
  kopt.threads = o.threads;
  const Eigen::Index n_train = r.x_train.rows();
  VED_CHECK(latents.back() <= n_train - 1,
            "--latent " << latents.back() << ": " << o.method << " has at most N - 1 = " << n_train - 1
                        << " coordinates on these " << n_train << " training rows; use latent sizes up to "
                        << n_train - 1);
  KernelEmbeddingOptions opt;
  opt.bandwidth_factor = o.bandwidth_factor;
  opt.bandwidth = o.bandwidth;
  opt.dmaps_alpha = o.dmaps_alpha;
  opt.diffusion_time = o.diffusion_time;
  opt.max_latent = latents.back();
  opt.threads = o.threads;
  const auto t0 = std::chrono::steady_clock::now();
  const KernelEmbedding emb = o.method == "kpca" ? fit_kernel_pca(r.x_train, opt) : fit_diffusion_map(r.x_train, opt);
  const double embed_fit_s = seconds_since(t0);
  VED_CHECK(latents.back() <= emb.max_latent(),
            "--latent " << latents.back() << ": " << o.method << " found " << emb.max_latent()
                        << " coordinates with eigenvalues above the numerical floor on these " << n_train
                        << " training rows (bandwidth h = " << emb.bandwidth << "); use latent sizes up to "
                        << emb.max_latent() << " or change --bandwidth-factor");
  const auto t1 = std::chrono::steady_clock::now();
  const MatrixRM z_test = emb.embed(r.x_test, latents.back());  // [N_test, r_max]
  const double embed_test_s = seconds_since(t1);

  if (!o.json) {
    std::printf("%s + %s decoder on %s\n", o.method.c_str(), o.decoder.c_str(), r.description.c_str());
    std::printf("embedding fit %.3f s (bandwidth h = %.6g = %.6g x median distance %.6g", embed_fit_s, emb.bandwidth,
                emb.bandwidth / emb.median_distance, emb.median_distance);
    if (o.method == "dmaps") std::printf(", alpha %.3g, t %.3g", emb.dmaps_alpha, emb.diffusion_time);
    std::printf(")\n");
    std::printf("%7s %12s %13s %10s %12s %12s%s\n", "latent", "rel_l2", "rel_l2_fluct", "r2", "rmse",
                o.method == "kpca" ? "kernel_var" : "eigenvalue", o.decoder == "krr" ? "    krr_alpha" : "");
  }
  // Per r: the r-th eigenvalue (dmaps) or the share of the centred kernel's trace the
  // first r components keep (kpca).
  const Eigen::VectorXd y_train_mean = r.y_train.colwise().mean().transpose();  // [m], as the decoders' ybar
  auto emit = [&](Eigen::Index latent, const MatrixRM& y_hat, double decoder_fit_s, double predict_s,
                  const KernelRidgeDecoder* krr) {
    const ReconstructionMetrics m = reconstruction_metrics(r.y_test, y_hat, y_train_mean);
    const double spectrum = o.method == "kpca" ? emb.eigenvalues.head(latent).sum() / emb.kernel_trace
                                               : emb.eigenvalues[latent - 1];
    if (o.json) {
      nlohmann::json j = base_record(o, r, m);
      j["latent"] = latent;
      j["decoder"] = o.decoder;
      j["bandwidth"] = emb.bandwidth;
      j["bandwidth_factor"] = emb.bandwidth / emb.median_distance;
      j["median_distance"] = emb.median_distance;
      j["eigenvalue"] = emb.eigenvalues[latent - 1];
      if (o.method == "kpca") {
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
      j["fit_seconds"] = embed_fit_s + decoder_fit_s;
      j["embedding_fit_seconds"] = embed_fit_s;
      j["decoder_fit_seconds"] = decoder_fit_s;
      j["predict_seconds"] = embed_test_s + predict_s;
      std::printf("%s\n", j.dump().c_str());
    } else {
      std::printf("%7ld %12.6f %13.6f %10.6f %12.6g %12.6g", static_cast<long>(latent), m.rel_l2, m.rel_l2_fluct, m.r2,
                  m.rmse, spectrum);
      if (krr) std::printf("  %11.4g", krr->alpha);
      std::printf("\n");
    }
  };

  if (o.decoder == "linear") {
    const auto t2 = std::chrono::steady_clock::now();
    const LinearDecoder dec = fit_linear_decoder(emb.train_embedding, r.y_train);
    const double dec_fit_s = seconds_since(t2);
    VED_CHECK(latents.back() <= dec.max_latent(),
              "--latent " << latents.back() << ": only the first " << dec.max_latent() << " " << o.method
                          << " coordinates are linearly independent on the training rows; use latent sizes up to "
                          << dec.max_latent());
    auto t_step = std::chrono::steady_clock::now();
    dec.decode_sweep(z_test, latents, [&](Eigen::Index latent, const MatrixRM& y_hat) {
      emit(latent, y_hat, dec_fit_s, seconds_since(t_step), nullptr);
      t_step = std::chrono::steady_clock::now();
    });
    return;
  }
  for (Eigen::Index latent : latents) {
    const auto t2 = std::chrono::steady_clock::now();
    const KernelRidgeDecoder krr = fit_kernel_ridge_decoder(emb.train_embedding.leftCols(latent), r.y_train, kopt);
    const double dec_fit_s = seconds_since(t2);
    if (krr.alpha_at_grid_edge)
      std::fprintf(stderr, "warning: r = %ld: kernel ridge alpha %.4g is at the edge of the grid; widen --krr-alphas\n",
                   static_cast<long>(latent), krr.alpha);
    const auto t3 = std::chrono::steady_clock::now();
    const MatrixRM y_hat = krr.predict(z_test.leftCols(latent));
    emit(latent, y_hat, dec_fit_s, seconds_since(t3), &krr);
  }
}

void run_baseline(const BaselineCli& o) {
  VED_CHECK(o.method == "cca" || o.method == "pca" || o.method == "ridge" || o.method == "kpca" || o.method == "dmaps",
            "--method '" << o.method << "' is not one of: cca, pca, ridge, kpca, dmaps");
  VED_CHECK(o.threads >= 1, "--threads " << o.threads << ": must be at least 1");
  const Rows r = load_split(o);
  if (o.method == "kpca" || o.method == "dmaps") {
    run_kernel_baseline(o, r);
    return;
  }

  if (o.method == "ridge") {
    RidgeOptions opt;
    opt.alpha = o.alpha;
    opt.alphas = parse_alphas(o.alphas);
    opt.criterion = o.ridge_cv;
    opt.threads = o.threads;
    const auto t0 = std::chrono::steady_clock::now();
    const RidgeModel model = fit_ridge(r.x_train, r.y_train, r.x_val, r.y_val, opt);
    const double fit_s = seconds_since(t0);
    const auto t1 = std::chrono::steady_clock::now();
    const ReconstructionMetrics m = reconstruction_metrics(r.y_test, model.predict(r.x_test), model.y_mean);
    const double predict_s = seconds_since(t1);
    if (model.alpha_at_grid_edge)
      std::fprintf(stderr, "warning: ridge alpha %.4g is at the edge of the grid [%.4g, %.4g]; widen --alphas\n",
                   model.alpha, *std::min_element(model.alphas.begin(), model.alphas.end()),
                   *std::max_element(model.alphas.begin(), model.alphas.end()));
    if (o.json) {
      nlohmann::json j = base_record(o, r, m);
      j["latent"] = nullptr;
      j["alpha"] = model.alpha;
      j["alpha_selection"] = model.selection;
      j["alpha_at_grid_edge"] = model.alpha_at_grid_edge;
      j["fit_seconds"] = fit_s;
      j["predict_seconds"] = predict_s;
      std::printf("%s\n", j.dump().c_str());
    } else {
      std::printf("ridge on %s\n", r.description.c_str());
      std::printf("alpha %.6g (%s), fit %.3f s\n", model.alpha, model.selection.c_str(), fit_s);
      std::printf("test: rel_l2 %.6f  rel_l2_fluct %.6f  r2 %.6f  rmse %.6g\n", m.rel_l2, m.rel_l2_fluct, m.r2,
                  m.rmse);
    }
    return;
  }

  const std::vector<Eigen::Index> latents = parse_latents(o.latent);
  LinearFitOptions opt;
  opt.cca_ridge_x = o.cca_ridge_x;
  opt.cca_ridge_y = o.cca_ridge_y;
  opt.max_latent = latents.back();
  opt.threads = o.threads;
  const auto t0 = std::chrono::steady_clock::now();
  const LatentLinearModel model = o.method == "cca" ? fit_cca(r.x_train, r.y_train, opt) : fit_pca(r.x_train, r.y_train, opt);
  const double fit_s = seconds_since(t0);
  VED_CHECK(latents.back() <= model.max_latent(),
            "--latent " << latents.back() << ": " << o.method << " has " << model.max_latent()
                        << " usable directions on these " << r.x_train.rows() << " training rows ("
                        << (o.method == "cca" ? "at most min(n, m)" : "the rank of the standardised x")
                        << "); use latent sizes up to " << model.max_latent());

  if (!o.json) {
    std::printf("%s on %s\n", o.method.c_str(), r.description.c_str());
    std::printf("fit %.3f s (n = %ld inputs, m = %ld outputs)\n", fit_s, static_cast<long>(r.x_train.cols()),
                static_cast<long>(r.y_train.cols()));
    std::printf("%7s %12s %13s %10s %12s %12s\n", "latent", "rel_l2", "rel_l2_fluct", "r2", "rmse",
                o.method == "cca" ? "canon_corr" : "cum_var");
  }
  auto t_step = std::chrono::steady_clock::now();
  model.predict_sweep(r.x_test, latents, [&](Eigen::Index latent, const MatrixRM& y_hat) {
    const ReconstructionMetrics m = reconstruction_metrics(r.y_test, y_hat, model.y_mean);
    const double predict_s = seconds_since(t_step);
    // CCA: the r-th canonical correlation; PCA: the share of x's variance the first r keep.
    const double spectrum = o.method == "cca" ? model.spectrum[latent - 1] : model.spectrum.head(latent).sum();
    if (o.json) {
      nlohmann::json j = base_record(o, r, m);
      j["latent"] = latent;
      j[o.method == "cca" ? "canonical_correlation" : "explained_variance"] = spectrum;
      if (o.method == "cca") {
        j["cca_ridge_x"] = o.cca_ridge_x;
        j["cca_ridge_y"] = o.cca_ridge_y;
      }
      j["fit_seconds"] = fit_s;
      j["predict_seconds"] = predict_s;
      std::printf("%s\n", j.dump().c_str());
    } else {
      std::printf("%7ld %12.6f %13.6f %10.6f %12.6g %12.6f\n", static_cast<long>(latent), m.rel_l2, m.rel_l2_fluct,
                  m.r2, m.rmse, spectrum);
    }
    t_step = std::chrono::steady_clock::now();
  });
}

}  // namespace

void add_baseline_command(CLI::App& app) {
  auto o = std::make_shared<BaselineCli>();
  o->threads = default_threads();
  CLI::App* cmd = app.add_subcommand(
      "baseline", "Fit a baseline in closed form (CCA, PCA, kernel PCA or diffusion-map encoder + decoder, or "
                  "ridge regression) and print test metrics; with --json one JSON object per line and latent size");
  cmd->add_option("--method", o->method, "cca, pca, ridge, kpca (kernel PCA) or dmaps (diffusion maps)")
      ->check(CLI::IsMember({"cca", "pca", "ridge", "kpca", "dmaps"}));
  cmd->add_option("--latent", o->latent,
                  "Latent sizes r: a list and/or inclusive ranges, e.g. 1,2,5,50 or 1:300 (cca, pca, kpca, dmaps; "
                  "one fit serves all; ridge is full rank and ignores it)");
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
                  "rank deficient)");
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
                  "kpca, dmaps: Gaussian kernel exp(-|a-b|^2 / (2 h^2)) on standardised x with h = factor * median "
                  "pairwise distance of the training rows");
  cmd->add_option("--bandwidth", o->bandwidth, "kpca, dmaps: fixed h > 0 (0 = the median heuristic)");
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
                  "krr decoder: fixed alpha, (K + alpha I)^-1 Y on standardised y; < 0 selects it by GCV");
  cmd->add_option("--krr-alphas", o->krr_alphas, "krr decoder: comma list of alphas to select from (empty: 10^t, "
                                                 "t = -6, -5.75, ..., 2)");
  cmd->add_option("--krr-bandwidth-factor", o->krr_bandwidth_factor,
                  "krr decoder: kernel bandwidth on the codes = factor * their median pairwise distance");
  cmd->add_option("--threads", o->threads, "BLAS threads");
  cmd->add_flag("--json", o->json, "One JSON object per line (JSON Lines), one per latent size");
  cmd->callback([o] { run_baseline(*o); });
}

}  // namespace ved::app
