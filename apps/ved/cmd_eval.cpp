// ved eval: reconstruction metrics (docs/method.md §9) of a trained VED on a split of a dataset,
// with z = μ(x). The same metric code scores every baseline.
//
//   ved eval --model run/ --data test.h5 --split all --json     # a separate test file
//   ved eval --model run/ --split test                          # the run's own test rows
#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <vector>

#include "commands.hpp"
#include "ved/data/dataset.hpp"
#include "ved/metrics/disentanglement.hpp"
#include "ved/metrics/generative.hpp"
#include "ved/metrics/reconstruction.hpp"
#include "ved/train/model_file.hpp"
#include "ved/train/preprocess.hpp"
#include "ved/train/trained_model.hpp"
#include "ved/train/trainer.hpp"
#include "ved/util/atomic_file.hpp"
#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"
#include "ved/util/npy.hpp"
#include "ved/util/timing.hpp"

namespace ved::app {
namespace {

struct EvalOptions {
  std::string model;
  std::string data;          // default: the training file (for --split train|val|test)
  std::string x, y;          // arrays instead of --data
  std::string rows;          // default: all rows (split all) or the training rows
  std::string split = "test";
  bool json = false;
  std::string out;           // optional predictions file (.h5 or .npy)
  int threads = 0;
  std::string device = "cpu";
  bool generative = true;    // prior samples vs the split's y (docs/method.md §9.2)
  int gen_samples = 0;       // M; 0 = as many as the split has rows
  uint64_t gen_seed = 1;
  int gen_draws = 1;         // independent prior samples of size M (seeds gen_seed, gen_seed + 1, ...)
  bool row_errors = false;   // per-row squared errors in the JSON object (for bootstrap intervals)
  int factors = 10;          // leading KL coefficients used as ground-truth factors
};

// Generative quality (decode z ~ N(0, I), compare with the split's y) and disentanglement
// (codes of the split against its leading KL coefficients), added to the JSON object.
void add_latent_metrics(const EvalOptions& o, const TrainedModel& model, const MatrixRM& x, const MatrixRM& y,
                        const MatrixRM& xi, nlohmann::json& j) {
  // Standardised by the split's own statistics, so every output weighs the same and every
  // model scored on this split is scored in the same units with the same kernels.
  // Training's own statistics (column_stats): an output constant on the split (a solute
  // that never arrives within the horizon) gets scale 1, its deviations counting in its units.
  std::vector<int64_t> all_rows(static_cast<size_t>(y.rows()));
  std::iota(all_rows.begin(), all_rows.end(), 0);
  Eigen::VectorXd y_mean, y_std;
  column_stats(y, all_rows, &y_mean, &y_std);
  const MatrixRM truth = standardise_outputs(y, y_mean, y_std);
  const int m_samples = o.gen_samples > 0 ? o.gen_samples : static_cast<int>(y.rows());
  VED_CHECK(o.gen_draws >= 1, "--gen-draws " << o.gen_draws << ": must be at least 1");
  // One value per independent prior sample; the scalar columns are their means.
  std::map<std::string, std::vector<double>> draws;
  for (int d = 0; d < o.gen_draws; ++d) {
    MatrixRM prior = model.sample(m_samples, o.gen_seed + static_cast<uint64_t>(d));
    GenerativeMetrics g = generative_metrics(standardise_outputs(prior, y_mean, y_std), truth);
    draws["gen_mmd_rbf"].push_back(g.mmd2_gaussian);
    draws["gen_mmd_imq"].push_back(g.mmd2_imq);
    draws["gen_energy"].push_back(g.energy_distance);
    draws["gen_w1"].push_back(g.wasserstein1);
    draws["gen_mean_err"].push_back(g.mean_rel_err);
    draws["gen_cov_err"].push_back(g.cov_rel_err);
    j["gen_bandwidth"] = g.gaussian_bandwidth;
  }
  for (const auto& [name, values] : draws) {
    double sum = 0;
    for (double v : values) sum += v;
    j[name] = sum / static_cast<double>(values.size());
    if (o.gen_draws > 1) j[name + "_draws"] = values;
  }
  Encodings e = model.encode(x);
  MatrixRM var = e.logvar.array().exp().matrix();
  MatrixRM factors;
  if (xi.rows() == x.rows() && xi.cols() > 0 && o.factors > 0) factors = xi.leftCols(std::min<Eigen::Index>(o.factors, xi.cols()));
  if (factors.cols() < 2 || x.rows() < 10 || e.mu.cols() < 2) factors = MatrixRM();
  DisentanglementMetrics dm = disentanglement_metrics(e.mu, var, factors);
  j["agg_cov_err"] = dm.cov_error;
  j["agg_cov_err_offdiag"] = dm.cov_error_offdiag;
  j["agg_cov_err_diag"] = dm.cov_error_diag;
  j["total_correlation"] = std::isfinite(dm.total_correlation) ? nlohmann::json(dm.total_correlation) : nlohmann::json();
  j["active_units"] = dm.n_active;
  if (factors.size() > 0) {
    j["mig"] = dm.mig;
    j["dci_disentanglement"] = dm.dci_disentanglement;
    j["dci_completeness"] = dm.dci_completeness;
    j["dci_informativeness"] = dm.dci_informativeness;
    j["sap"] = dm.sap;
    j["modularity"] = dm.modularity;
    j["factors"] = factors.cols();
  }
}

void add_row_errors(const MatrixRM& y, const MatrixRM& y_pred, const Eigen::VectorXd& train_mean, nlohmann::json& j) {
  RowErrors e = row_errors(y, y_pred, train_mean);
  j["row_sq_err"] = std::vector<double>(e.sq_err.data(), e.sq_err.data() + e.sq_err.size());
  j["row_sq_dev"] = std::vector<double>(e.sq_dev.data(), e.sq_dev.data() + e.sq_dev.size());
}

void write_predictions(const std::string& path, const MatrixRM& y, const std::vector<int64_t>& rows) {
  std::vector<size_t> dims = {static_cast<size_t>(y.rows()), static_cast<size_t>(y.cols())};
  if (path.size() > 4 && path.substr(path.size() - 4) == ".npy") {
    AtomicOutput out(path);
    npy::write(out.temp_path(), y.data(), dims);
    out.commit();
    return;
  }
  AtomicOutput out(path);
  {
    auto f = h5::File::create(out);
    f.write("/y_pred", y.data(), dims);
    f.write("/rows", rows.data(), {rows.size()});
    f.close();
  }
  out.commit();
}

void run_eval(const EvalOptions& o) {
  VED_CHECK(o.split == "all" || o.split == "test" || o.split == "val" || o.split == "train",
            "--split '" << o.split << "' is not one of: all, test, val, train");
  if (!o.out.empty()) check_output_path(o.out);
  set_torch_threads(o.threads);
  TrainedModel model(o.model, o.device);
  const ModelMeta& meta = model.meta();

  DataSource source{o.data, o.x, o.y};
  if (source.data.empty() && !source.from_arrays()) source = DataSource{meta.data, meta.data_x, meta.data_y};
  const std::string data_path = source.describe();
  VED_CHECK(!data_path.empty(), "give --data FILE.h5 or --x SRC --y SRC");
  Dataset full = load_data(source);
  const std::string trained_on = DataSource{meta.data, meta.data_x, meta.data_y}.describe();
  std::string rows_spec = o.rows;
  if (rows_spec.empty() && o.split != "all") {
    VED_CHECK(meta.rows_end <= full.n_samples(),
              "--split " << o.split << " selects rows of the training data, but " << data_path << " has "
                         << full.n_samples() << " rows, so it is not the file the model was trained on (" << trained_on
                         << " rows [" << meta.rows_begin << ", " << meta.rows_end
                         << ")); use --split all for a separate test file");
    rows_spec = std::to_string(meta.rows_begin) + ":" + std::to_string(meta.rows_end);
  }
  RowRange r = parse_rows(rows_spec, full.n_samples());
  Dataset d = (r.begin == 0 && r.end == full.n_samples()) ? std::move(full) : slice_rows(full, r.begin, r.end);

  std::vector<int64_t> rows;
  if (o.split == "all") {
    rows.resize(static_cast<size_t>(d.n_samples()));
    for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<int64_t>(i);
  } else {
    VED_CHECK(r.end - r.begin == meta.rows_end - meta.rows_begin &&
                  std::abs(data_checksum(d.y) - meta.y_checksum) <= 1e-9 * std::max(1.0, std::abs(meta.y_checksum)),
              "--split " << o.split << " selects rows of the training data, but " << data_path << " rows [" << r.begin
                         << ", " << r.end << ") are not the rows the model was trained on (" << trained_on << " rows ["
                         << meta.rows_begin << ", " << meta.rows_end << ")); use --split all for a separate test file");
    rows = o.split == "test" ? meta.split.test : o.split == "val" ? meta.split.val : meta.split.train;
    VED_CHECK(!rows.empty(), "the run has no " << o.split << " rows (trained with --"
                                               << (o.split == "test" ? "test" : "val")
                                               << "-fraction 0); use --split all on a separate test file");
  }
  VED_CHECK(d.x.cols() == model.n_inputs() && d.y.cols() == model.n_outputs(),
            data_path << ": x has " << d.x.cols() << " and y " << d.y.cols() << " values per sample; the model expects "
                      << model.n_inputs() << " and " << model.n_outputs());
  MatrixRM x = take_rows(d.x, rows), y = take_rows(d.y, rows);
  MatrixRM xi = d.xi.size() ? take_rows(d.xi, rows) : MatrixRM();
  auto t0 = std::chrono::steady_clock::now();
  MatrixRM y_pred = model.predict(x);
  const double secs = seconds_since(t0);
  ReconstructionMetrics m = reconstruction_metrics(y, y_pred, meta.output.mean);
  if (!o.out.empty()) write_predictions(o.out, y_pred, rows);

  if (o.json) {
    nlohmann::json j;
    j["method"] = "ved";
    j["model"] = model.path();
    j["data"] = data_path;
    j["rows"] = std::to_string(r.begin) + ":" + std::to_string(r.end);
    j["split"] = o.split;
    j["n"] = static_cast<int64_t>(rows.size());
    j["latent"] = model.latent();
    j["epoch"] = meta.epoch;
    j["rel_l2"] = m.rel_l2;
    j["rel_l2_fluct"] = m.rel_l2_fluct;
    j["r2"] = m.r2;
    j["rmse"] = m.rmse;
    j["parameters"] = model.parameters();
    j["seconds"] = secs;
    if (o.row_errors) add_row_errors(y, y_pred, meta.output.mean, j);
    if (o.generative) add_latent_metrics(o, model, x, y, xi, j);
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%s on %s rows [%ld, %ld), split %s (%zu samples), z = mu(x):\n", model.path().c_str(),
                data_path.c_str(), static_cast<long>(r.begin), static_cast<long>(r.end), o.split.c_str(), rows.size());
    std::printf("  rel_l2        %.6f\n  rel_l2_fluct  %.6f\n  r2            %.6f\n  rmse          %.6g\n", m.rel_l2,
                m.rel_l2_fluct, m.r2, m.rmse);
  }
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto o = std::make_shared<EvalOptions>();
  CLI::App* cmd = app.add_subcommand("eval", "Reconstruction metrics of a trained VED (rel_l2, rel_l2_fluct, r2, rmse; "
                                             "docs/method.md §9) on a dataset split, decoding z = mu(x)");
  cmd->add_option("--model", o->model, "Run folder (ved train --out) or its model.h5")->required();
  cmd->add_option("--data", o->data, "Dataset file (default: the training data)");
  cmd->add_option("--x", o->x, "Inputs as an array instead of --data: FILE.npy, FILE.npz:name or FILE.h5:/path");
  cmd->add_option("--y", o->y, "Outputs as an array, with --x");
  cmd->add_option("--rows", o->rows, "Rows A:B of --data (default: all for --split all, else the training rows)");
  cmd->add_option("--split", o->split, "all (every row of --data), or the run's test, val or train rows");
  cmd->add_flag("--json", o->json, "Print one JSON object");
  cmd->add_option("--out", o->out, "Also write the predictions (.h5 with /y_pred and /rows, or .npy)");
  cmd->add_option("--threads", o->threads, "Intra-op threads (0 = all cores)");
  cmd->add_option("--device", o->device, "cpu, cuda or cuda:N");
  cmd->add_option("--generative", o->generative, "With --json, also generative quality of prior samples and "
                                                  "disentanglement of the codes (docs/method.md §9)");
  cmd->add_option("--gen-samples", o->gen_samples, "Prior samples M for the generative metrics (0 = rows of the split)");
  cmd->add_option("--gen-seed", o->gen_seed, "Seed of the prior samples");
  cmd->add_option("--gen-draws", o->gen_draws, "Independent prior samples (seeds gen-seed, gen-seed + 1, ...): the "
                                               "generative columns are their means, *_draws their values");
  cmd->add_flag("--row-errors", o->row_errors, "With --json, also row_sq_err and row_sq_dev: per scored row, the "
                                               "squared error and the squared deviation from the training mean");
  cmd->add_option("--factors", o->factors, "Leading KL coefficients (dataset /xi) used as ground-truth factors");
  cmd->callback([o] { run_eval(*o); });
}

}  // namespace ved::app
