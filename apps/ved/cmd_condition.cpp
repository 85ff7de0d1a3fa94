// ved condition: predict every output of a trained VED's model from observed values of a
// few of them, with uncertainty. Hamiltonian Monte Carlo samples the latent code's posterior
// p(z | y_obs) through the decoder; Gaussian conditioning on the training outputs (a
// shrinkage covariance, and a PCA prior of rank r) runs beside it as the baseline. With
// the true outputs of the same cases (--truth), every method is scored on the unobserved
// outputs: relative L2 error of the mean, CRPS, coverage of the 50% and 90% intervals.
//
//   ved condition --model run/ --observed wells.h5 --out cond.h5
//   ved condition --model run/ --observed wells.h5 --truth test.h5 --rows 0:100 --json
#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "commands.hpp"
#include "ved/data/dataset.hpp"
#include "ved/data/split.hpp"
#include "ved/inference/condition.hpp"
#include "ved/inference/gaussian_conditioning.hpp"
#include "ved/train/model_file.hpp"
#include "ved/train/preprocess.hpp"
#include "ved/train/trainer.hpp"
#include "ved/util/array_source.hpp"
#include "ved/util/atomic_file.hpp"
#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"

namespace ved::app {
namespace {

using namespace ved::inference;

struct ConditionCliOptions {
  std::string model;
  std::string observed;
  std::string out;
  double noise = 0;                   // σ, outputs' units
  std::string truth;                  // [N, m] true outputs: FILE.h5 (/y), FILE.h5:/path, .npy, .npz:name
  std::string rows;                   // rows A:B of --truth
  std::string train_data;             // baselines' training outputs (default: the model's training rows)
  std::string baselines = "gaussian,pca";
  int pca_rank = 0;                   // 0: the model's r
  int chains = 4;
  int warmup = 500;
  int samples = 500;
  int leapfrog = 16;
  double target_accept = 0.8;
  uint64_t seed = 1;
  std::string predictive = "y";       // y = f(z) + s·ε, or f = f(z)
  int threads = 0;
  bool json = false;
};

void write_matrix(h5::File& f, const std::string& name, const MatrixRM& a) {
  f.write(name, a.data(), {static_cast<size_t>(a.rows()), static_cast<size_t>(a.cols())});
}

MatrixRM load_matrix(const std::string& spec, const std::string& what, int64_t n_cols) {
  LoadedArray a = load_array(ArraySource::parse(spec, "/y"));
  VED_CHECK(a.dims.size() == 2 && static_cast<int64_t>(a.dims[1]) == n_cols,
            what << " " << spec << ": shape " << [&] {
              std::ostringstream os;
              for (size_t i = 0; i < a.dims.size(); ++i) os << (i ? " x " : "") << a.dims[i];
              return os.str();
            }() << "; expected [N, " << n_cols << "] (one column per model output)");
  MatrixRM m = Eigen::Map<const MatrixRM>(a.data.data(), static_cast<Eigen::Index>(a.dims[0]), n_cols);
  VED_CHECK(m.allFinite(), what << " " << spec << ": holds NaN or infinite values");
  return m;
}

// The outputs the model was trained on: its data file's rows [rows_begin, rows_end), train split.
MatrixRM model_training_outputs(const ModelMeta& meta) {
  const DataSource src{meta.data, meta.data_x, meta.data_y};
  VED_CHECK(!src.describe().empty(), "the model records no training data; give the baselines' training outputs "
                                     "with --train-data FILE.h5 (or --baselines none)");
  Dataset d = load_data(src);
  VED_CHECK(meta.rows_end <= d.n_samples(),
            src.describe() << " has " << d.n_samples() << " rows, not the model's training rows [" << meta.rows_begin
                           << ", " << meta.rows_end << "); give --train-data FILE.h5 (or --baselines none)");
  MatrixRM y = d.y.middleRows(meta.rows_begin, meta.rows_end - meta.rows_begin);
  VED_CHECK(std::abs(data_checksum(y) - meta.y_checksum) <= 1e-9 * std::max(1.0, std::abs(meta.y_checksum)),
            src.describe() << " rows [" << meta.rows_begin << ", " << meta.rows_end
                           << ") are not the rows the model was trained on (the file changed?); give --train-data "
                              "FILE.h5 (or --baselines none)");
  return take_rows(y, meta.split.train);
}

nlohmann::json metrics_json(const ConditionMetrics& a) {
  return {{"rel_l2", a.rel_l2},         {"rel_l2_fluct", a.rel_l2_fluct}, {"crps", a.crps},
          {"coverage50", a.coverage50}, {"coverage90", a.coverage90},     {"width90", a.width90},
          {"n_values", a.n_values}};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

void run_condition(const ConditionCliOptions& o) {
  check_output_path(o.out);
  VED_CHECK(o.predictive == "y" || o.predictive == "f", "--predictive '" << o.predictive << "' is not one of: y, f");
  std::vector<std::string> baselines;
  if (o.baselines != "none" && !o.baselines.empty()) {
    std::stringstream ss(o.baselines);
    for (std::string b; std::getline(ss, b, ',');) {
      VED_CHECK(b == "gaussian" || b == "pca", "--baselines: '" << b << "' is not one of: gaussian, pca (or none)");
      baselines.push_back(b);
    }
  }
  set_torch_threads(o.threads);
  const std::string model_path = resolve_model_path(o.model);
  const ModelMeta meta = read_model_meta(h5::File::open_read(model_path));
  const int64_t m = meta.config.output_features;
  const int pca_rank = o.pca_rank > 0 ? o.pca_rank : meta.config.latent;

  Observations obs = read_observations(o.observed, m);
  const int64_t n = obs.n_cases();
  MatrixRM truth;
  if (!o.truth.empty()) {
    truth = load_matrix(o.truth, "--truth", m);
    RowRange r = parse_rows(o.rows, truth.rows());
    truth = truth.middleRows(r.begin, r.end - r.begin).eval();
    VED_CHECK(truth.rows() == n, "--truth " << o.truth << " rows [" << r.begin << ", " << r.end << ") are "
                                            << truth.rows() << " cases, but " << o.observed << " holds " << n
                                            << "; select the matching rows with --rows A:B");
  } else {
    VED_CHECK(o.rows.empty(), "--rows selects rows of --truth; give --truth too");
  }
  MatrixRM y_train;
  if (!baselines.empty()) y_train = o.train_data.empty() ? model_training_outputs(meta) : load_matrix(o.train_data, "--train-data", m);

  // 1. The VED: HMC over z, predictive draws of every output.
  ConditionOptions copt;
  copt.noise = o.noise;
  copt.predictive_noise = o.predictive == "y";
  copt.hmc.chains = o.chains;
  copt.hmc.warmup = o.warmup;
  copt.hmc.samples = o.samples;
  copt.hmc.leapfrog = o.leapfrog;
  copt.hmc.target_accept = o.target_accept;
  copt.hmc.seed = o.seed;
  ConditionResult res = condition_ved(model_path, obs, copt, truth);

  // 2. Gaussian baselines on the training outputs, conditioned with the measurement noise.
  struct Baseline {
    std::string name;
    GaussianPosterior post;
    PredictiveSummary summary;
  };
  std::vector<Baseline> done;
  const Eigen::VectorXd noise_var = Eigen::VectorXd::Constant(obs.n_observed(), o.noise * o.noise);
  for (const std::string& b : baselines) {
    GaussianPrior prior = b == "gaussian" ? ledoit_wolf_prior(y_train) : ppca_prior(y_train, pca_rank);
    Baseline bl{b, condition_gaussian(prior, obs.index, obs.value, noise_var), {}};
    bl.summary = gaussian_summary(bl.post.mean, bl.post.std, truth);
    done.push_back(std::move(bl));
  }

  // 3. Scores on the unobserved outputs.
  nlohmann::json j;
  j["model"] = model_path;
  j["observed"] = o.observed;
  j["n_cases"] = n;
  j["n_observed"] = obs.n_observed();
  j["noise"] = o.noise;
  j["predictive"] = o.predictive == "y" ? "y = f(z) + decoder noise" : "f(z)";
  j["latent"] = meta.config.latent;
  j["pca_rank"] = pca_rank;
  std::vector<double> ess(res.latent.ess.data(), res.latent.ess.data() + res.latent.ess.size());
  int64_t divergent = 0;
  for (int64_t d : res.latent.divergent) divergent += d;
  j["ess_min"] = res.latent.ess.minCoeff();
  j["ess_median"] = median(ess);
  j["rhat_max"] = res.latent.rhat.maxCoeff();
  j["accept_mean"] = res.latent.accept.mean();
  j["accept_min"] = res.latent.accept.minCoeff();
  j["divergent"] = divergent;
  j["seconds"] = res.latent.seconds;
  j["gradient_evaluations"] = res.latent.gradient_evaluations;
  if (truth.size() > 0) {
    const std::vector<int64_t> unobserved = unobserved_indices(obs.index, m);
    j["methods"]["ved"] = metrics_json(condition_metrics(res.predictive, truth, unobserved, meta.output.mean));
    for (const Baseline& b : done)
      j["methods"][b.name] = metrics_json(condition_metrics(b.summary, truth, unobserved, meta.output.mean));
  }

  // 4. OUT.h5, written atomically.
  AtomicOutput out(o.out);
  {
    h5::File f = h5::File::create(out);
    const PredictiveSummary& p = res.predictive;
    write_matrix(f, "/mean", p.mean);
    write_matrix(f, "/std", p.std);
    write_matrix(f, "/q05", p.q05);
    write_matrix(f, "/q25", p.q25);
    write_matrix(f, "/q50", p.q50);
    write_matrix(f, "/q75", p.q75);
    write_matrix(f, "/q95", p.q95);
    f.create_group("/observed");
    f.write("/observed/index", obs.index.data(), {obs.index.size()});
    write_matrix(f, "/observed/value", obs.value);
    f.write("/observed/noise_std", res.noise_std.data(), {static_cast<size_t>(res.noise_std.size())});
    f.create_group("/latent");
    write_matrix(f, "/latent/mean", res.z_mean);
    f.create_group("/diagnostics");
    write_matrix(f, "/diagnostics/ess", res.latent.ess);
    write_matrix(f, "/diagnostics/rhat", res.latent.rhat);
    write_matrix(f, "/diagnostics/accept", res.latent.accept);
    write_matrix(f, "/diagnostics/step_size", res.latent.step_size);
    f.write("/diagnostics/divergent", res.latent.divergent.data(), {res.latent.divergent.size()});
    if (!done.empty()) f.create_group("/baselines");
    for (const Baseline& b : done) {
      f.create_group("/baselines/" + b.name);
      write_matrix(f, "/baselines/" + b.name + "/mean", b.post.mean);
      write_matrix(f, "/baselines/" + b.name + "/std", b.post.std);
    }
    f.set_attr("/", "format", std::string("ved-condition"));
    f.set_attr("/", "model", model_path);
    f.set_attr("/", "observed", o.observed);
    f.set_attr("/", "noise", o.noise);
    f.set_attr("/", "predictive", j["predictive"].get<std::string>());
    f.set_attr("/", "chains", static_cast<int64_t>(o.chains));
    f.set_attr("/", "warmup", static_cast<int64_t>(o.warmup));
    f.set_attr("/", "samples", static_cast<int64_t>(o.samples));
    f.set_attr("/", "leapfrog", static_cast<int64_t>(o.leapfrog));
    f.set_attr("/", "seed", static_cast<int64_t>(o.seed));
    f.set_attr("/", "summary", j.dump());
    f.close();
  }
  out.commit();

  if (o.json) {
    std::printf("%s\n", j.dump().c_str());
    return;
  }
  std::printf("%s: %ld case(s), %ld observed of %ld outputs, noise %g; wrote %s\n", model_path.c_str(),
              static_cast<long>(n), static_cast<long>(obs.n_observed()), static_cast<long>(m), o.noise, o.out.c_str());
  std::printf("HMC: %d chains x %d draws (%d warm-up, %d leapfrog steps), %.1f s; ESS min %.0f (median %.0f), "
              "R-hat max %.3f, acceptance %.2f (min %.2f), %ld divergent\n",
              o.chains, o.samples, o.warmup, o.leapfrog, res.latent.seconds, j["ess_min"].get<double>(),
              j["ess_median"].get<double>(), j["rhat_max"].get<double>(), j["accept_mean"].get<double>(),
              j["accept_min"].get<double>(), static_cast<long>(divergent));
  if (j.contains("methods")) {
    std::printf("on the %ld unobserved outputs:\n%-12s %10s %13s %10s %9s %9s %10s\n",
                static_cast<long>(m - obs.n_observed()), "method", "rel_l2", "rel_l2_fluct", "crps", "cover50",
                "cover90", "width90");
    for (const auto& [name, a] : j["methods"].items())
      std::printf("%-12s %10.5f %13.4f %10.4g %9.3f %9.3f %10.4g\n",
                  (name == "pca" ? "pca (r=" + std::to_string(pca_rank) + ")" : name).c_str(), a["rel_l2"].get<double>(),
                  a["rel_l2_fluct"].get<double>(), a["crps"].get<double>(), a["coverage50"].get<double>(),
                  a["coverage90"].get<double>(), a["width90"].get<double>());
  }
}

}  // namespace

void add_condition_command(CLI::App& app) {
  auto o = std::make_shared<ConditionCliOptions>();
  CLI::App* cmd = app.add_subcommand(
      "condition",
      "Predict every output from observed values of a few (e.g. heads at some wells), with uncertainty: HMC over the "
      "VED's latent code, beside Gaussian conditioning on the training outputs (shrinkage covariance, PCA prior)");
  cmd->add_option("--model", o->model, "Run folder (ved train --out) or its model.h5")->required();
  cmd->add_option("--observed", o->observed,
                  "Observations: HDF5 with /index [k] (0-based output indices) and /value [N, k], or a CSV of lines "
                  "'index,value' (one case)")
      ->required();
  cmd->add_option("--out", o->out, "Output HDF5: /mean, /std, /q05, /q25, /q50, /q75, /q95 [N, m], diagnostics, baselines")
      ->required();
  cmd->add_option("--noise", o->noise, "Measurement noise sigma of the observations (outputs' units); the decoder's own "
                                       "noise is added to it in the likelihood");
  cmd->add_option("--truth", o->truth, "True outputs of the same cases, [N, m]: FILE.h5 (its /y), FILE.h5:/path, "
                                       ".npy or .npz:name; scores every method on the unobserved outputs");
  cmd->add_option("--rows", o->rows, "Rows A:B of --truth that match the cases of --observed (default: all)");
  cmd->add_option("--train-data", o->train_data, "Training outputs of the baselines, [n, m] (default: the model's own "
                                                 "training rows)");
  cmd->add_option("--baselines", o->baselines, "Comma-separated: gaussian (mean + Ledoit-Wolf covariance), pca "
                                               "(probabilistic PCA prior of rank --pca-rank); or none");
  cmd->add_option("--pca-rank", o->pca_rank, "Rank of the PCA prior (0 = the model's latent size r)");
  cmd->add_option("--chains", o->chains, "HMC chains per case (at least 2)");
  cmd->add_option("--warmup", o->warmup, "Warm-up iterations per chain (step size and mass matrix adaptation)");
  cmd->add_option("--samples", o->samples, "Kept draws per chain");
  cmd->add_option("--leapfrog", o->leapfrog, "Leapfrog steps per HMC trajectory");
  cmd->add_option("--target-accept", o->target_accept, "Mean acceptance probability the step size adapts to");
  cmd->add_option("--seed", o->seed, "Random seed (the draws do not depend on --threads)");
  cmd->add_option("--predictive", o->predictive, "y: draws of y = f(z) + decoder noise; f: of f(z) alone");
  cmd->add_option("--threads", o->threads, "Intra-op threads (0 = all cores)");
  cmd->add_flag("--json", o->json, "Print one JSON object (diagnostics and, with --truth, the scores)");
  cmd->callback([o] { run_condition(*o); });
}

}  // namespace ved::app
