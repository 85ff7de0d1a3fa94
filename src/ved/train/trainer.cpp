#include "ved/train/trainer.hpp"

#include <ATen/CPUGeneratorImpl.h>  // an explicit, seedable generator for ε
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <thread>

#include "ved/data/dataset.hpp"
#include "ved/metrics/reconstruction.hpp"
#include "ved/nn/losses.hpp"
#include "ved/nn/model.hpp"
#include "ved/nn/optim.hpp"
#include "ved/nn/precision.hpp"
#include "ved/nn/tensor_io.hpp"
#include "ved/train/model_file.hpp"
#include "ved/train/preprocess.hpp"
#include "ved/train/schedule.hpp"
#include "ved/util/atomic_file.hpp"
#include "ved/util/blas_threads.hpp"
#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"
#include "ved/util/mpi.hpp"
#include "ved/util/progress.hpp"
#include "ved/util/rng.hpp"
#include "ved/util/timing.hpp"

namespace ved {
namespace fs = std::filesystem;
namespace {

constexpr uint64_t kEpsSeedTag = 0xE95110E5ULL;  // ε stream of epoch e: mix_seed(seed ^ tag, e)
constexpr int64_t kEvalChunk = 512;              // rows per forward pass in validation
const double kInf = std::numeric_limits<double>::infinity();

// Options that may change between a run and its --resume.
const char* const kResumableKeys[] = {"resume", "stop_after", "threads", "device", "precision",
                                     "quiet",  "out",        "data",    "epochs"};

// Column indices of the per-batch statistics kept on the device during an epoch.
enum Stat { kTotal, kRec, kKl, kCovOd, kCovD, kGradNorm, kNumStats };
const char* const kStatNames[] = {"loss", "rec", "kl", "cov_offdiag", "cov_diag", "grad_norm"};

struct Validation {
  bool has = false;
  double loss = std::nan(""), rec = std::nan(""), kl = std::nan(""), cov_offdiag = std::nan(""),
         cov_diag = std::nan("");
  ReconstructionMetrics metrics{std::nan(""), std::nan(""), std::nan(""), std::nan("")};
};

torch::Tensor to_tensor(const std::vector<int64_t>& v) {
  return torch::from_blob(const_cast<int64_t*>(v.data()), {static_cast<int64_t>(v.size())}, torch::kInt64).clone();
}

// JSON cannot hold NaN or infinity; write null for them.
nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

std::string format_g(double v, int precision = 4) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*g", precision, v);
  return buf;
}

}  // namespace

int set_torch_threads(int threads) {
  int n = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(n);
  // OpenBLAS runs its own thread pool beside LibTorch's; when both spin on two cores they
  // slow each other down.
  set_blas_threads(1);
  return n;
}

struct Trainer::Impl {
  TrainOptions opt;
  torch::Device device{torch::kCPU};
  fs::path run_dir;
  std::string ckpt_path, model_path, log_path;

  Dataset data;                 // the rows in use
  ModelMeta meta;               // architecture, transforms, split, provenance
  torch::Tensor x_all;          // [N, C, H, W] or [N, n] standardised inputs, on the device
  torch::Tensor y_all;          // [N, m] standardised outputs, on the device
  torch::Tensor val_rows;       // [n_val] int64 on the device
  MatrixRM y_val;               // [n_val, m] physical units, for the metrics

  Precision precision = Precision::kFp32;  // of the training steps; validation is fp32
  bool keep_best = false;                  // --keep best: model.h5 gets the best validation epoch's weights
  Ved model{nullptr};
  std::unique_ptr<Adam> adam;
  std::unique_ptr<LrSchedule> schedule;

  int epoch = 0;                // completed epochs
  // Data-parallel training under mpirun: every rank holds the same model and computes
  // one shard of each global batch; rank 0 alone writes the run folder.
  mpi::World world = mpi::world();
  bool writer() const { return world.rank == 0; }
  void allreduce_gradients(const std::vector<torch::Tensor>& params, bool* stop_any);
  void broadcast_parameters();
  double best_val = kInf;
  int best_epoch = 0;           // 1-based, 0 = none yet
  int since_best = 0;
  NamedTensors best_state;      // weights and buffers at best_epoch (keep == best)
  const std::atomic<bool>* stop = nullptr;

  explicit Impl(const TrainOptions& o);
  void load_data();
  void setup_new();
  void setup_resume();
  void build_tensors();
  void check_resume_options(const std::string& stored_json) const;
  LossWeights weights(double beta) const {
    return {beta, opt.lambda_offdiag_value(), opt.lambda_diag_value()};
  }
  std::unique_ptr<Adam> make_adam();
  Validation run_validation();
  MatrixRM predict_rows(const std::vector<int64_t>& rows);  // physical units, z = μ
  void load_state(const NamedTensors& state);
  void write_checkpoint();
  void write_model();
  NamedTensors state_copy();
  void rewrite_log_up_to(int last_epoch);
  std::string diagnose(const torch::Tensor& stats_cpu, int64_t n_batches) const;

  // The steps of run(). Each epoch: train_epoch (its batch order from epoch_order, one
  // train_step per batch), then validation, track_best, save_epoch (log line and
  // checkpoint) and the epoch's message; after the last, finish (model.h5, summary.json).
  struct BatchPlan {
    int64_t n_train = 0, batch = 0, n_batches = 0;  // whole global batches per epoch
    int64_t ranks = 1, shard = 0, shard_begin = 0;   // this rank's rows of each batch
  };
  BatchPlan plan_batches() const;
  torch::Tensor epoch_order(int e, const BatchPlan& p, at::Generator& gen) const;
  double kl_weight(int e, int64_t b, int64_t n_batches) const;
  LossTerms train_step(const torch::Tensor& rows, const BatchPlan& p, at::Generator& gen, double beta,
                       const std::vector<torch::Tensor>& params, torch::Tensor* grad_norm, bool* stop_all);
  bool train_epoch(int e, const BatchPlan& p, at::Generator& gen, const std::vector<torch::Tensor>& params,
                   bool terminal, Progress& progress, torch::Tensor& stats);
  void track_best(const Validation& v);
  nlohmann::json epoch_record(const torch::Tensor& mean, const Validation& v, const BatchPlan& p, double t_train,
                              double t_epoch) const;
  void save_epoch(const nlohmann::json& line);
  std::string epoch_message(const torch::Tensor& mean, const Validation& v) const;
  void finish(TrainSummary& s);
  TrainSummary run();
};

Trainer::Impl::Impl(const TrainOptions& o) : opt(o) {
  ved::validate(opt);
  set_torch_threads(opt.threads);
  device = parse_device(opt.device);
  precision = parse_precision(opt.precision);
  apply_precision(precision);
  keep_best = opt.keep == "best";
  run_dir = opt.out;
  ckpt_path = (run_dir / "checkpoint.h5").string();
  model_path = (run_dir / "model.h5").string();
  log_path = (run_dir / "train.jsonl").string();
  if (opt.resume) {
    VED_CHECK(fs::exists(ckpt_path), ckpt_path << " not found: nothing to resume; drop --resume to start a new run");
  } else {
    VED_CHECK(!fs::exists(ckpt_path), opt.out << " already holds a training run (checkpoint.h5); add --resume to "
                                              << "continue it, or choose another --out");
  }
  std::error_code ec;
  const bool created = !fs::exists(run_dir);
  fs::create_directories(run_dir, ec);
  VED_CHECK(fs::is_directory(run_dir), "cannot create the run folder " << opt.out << ": " << ec.message());
  try {
    load_data();
    const int64_t n_train = static_cast<int64_t>(
        make_split(data.n_samples(), opt.val_fraction, opt.test_fraction, opt.seed).train.size());
    const int64_t steps_per_epoch = std::max<int64_t>(1, n_train / std::max(1, opt.batch));
    // Automatic: the reference 150 epochs, or enough epochs for kMinAutoSteps steps.
    const int auto_epochs =
        static_cast<int>(std::max<int64_t>(kDefaultEpochs, (kMinAutoSteps + steps_per_epoch - 1) / steps_per_epoch));
    if (opt.epochs == 0) {
      opt.epochs = auto_epochs;
    } else if (writer() && !opt.resume && int64_t{opt.epochs} * steps_per_epoch * 5 < int64_t{auto_epochs} * steps_per_epoch) {
      // Far fewer optimiser steps than the automatic setting: on small data a few epochs
      // are a few dozen steps, and the model can end up worse than ridge regression.
      std::fprintf(stderr,
                   "warning: --epochs %d gives %lld optimiser steps (%lld training rows, batch %d); the automatic "
                   "setting (--epochs 0) runs %d epochs, %lld steps\n",
                   opt.epochs, static_cast<long long>(int64_t{opt.epochs} * steps_per_epoch),
                   static_cast<long long>(n_train), opt.batch, auto_epochs,
                   static_cast<long long>(int64_t{auto_epochs} * steps_per_epoch));
    }
    if (opt.resume) setup_resume();
    else setup_new();
    build_tensors();
  } catch (...) {
    // A run that never started (bad data, bad options) leaves no empty folder behind.
    if (created && fs::is_empty(run_dir, ec)) fs::remove(run_dir, ec);
    throw;
  }
}

void Trainer::Impl::load_data() {
  Dataset full = ved::load_data(opt.source());
  RowRange r = parse_rows(opt.rows, full.n_samples());
  data = (r.begin == 0 && r.end == full.n_samples()) ? std::move(full) : slice_rows(full, r.begin, r.end);
  meta.data = opt.data;
  meta.data_x = opt.x;
  meta.data_y = opt.y;
  meta.rows_begin = r.begin;
  meta.rows_end = r.end;
  meta.y_checksum = data_checksum(data.y);
}

void Trainer::Impl::setup_new() {
  const std::string mesh = opt.encoder == "mlp" ? std::string("none") : opt.mesh;
  meta.input = make_input_transform(data, mesh);
  std::string encoder = opt.encoder == "auto" ? (meta.input.is_image() ? "conv" : "mlp") : opt.encoder;
  VED_CHECK(encoder != "conv" || meta.input.is_image(),
            opt.source().describe() << ": the inputs are plain vectors (no mesh, no image shape); the conv encoder needs "
                     << "images: give --mesh hanford|grid:NXxNY|FOLDER, or use --encoder mlp");
  meta.split = make_split(data.n_samples(), opt.val_fraction, opt.test_fraction, opt.seed);
  meta.input.fit(take_rows(data.x, meta.split.train));
  meta.output.fit(take_rows(data.y, meta.split.train), opt.output_scale == "output");

  ModelConfig& c = meta.config;
  c = opt.model;
  c.encoder = encoder;
  c.output_features = static_cast<int>(data.y.cols());
  if (encoder == "conv") {
    c.input_channels = meta.input.channels;
    c.input_height = meta.input.height;
    c.input_width = meta.input.width;
  } else {
    c.input_features = static_cast<int>(meta.input.n_inputs);
    c.encoder_hidden = parse_int_list(opt.mlp_hidden, "--mlp-hidden");
  }
  ved::validate(c);
  meta.train_options_json = to_json(opt);

  torch::manual_seed(opt.seed);  // initial weights
  model = Ved(c);
  model->to(device);
  adam = make_adam();
  schedule = std::make_unique<LrSchedule>(opt);
  // A fresh log.
  if (writer()) {
    write_text_atomic(log_path, "");
    write_text_atomic((run_dir / "options.json").string(), nlohmann::json::parse(to_json(opt)).dump(2) + "\n");
  }
  broadcast_parameters();  // one initial model everywhere, whatever each rank's RNG did
}

std::unique_ptr<Adam> Trainer::Impl::make_adam() {
  AdamOptions ao;
  ao.lr = opt.lr;
  ao.weight_decay = opt.weight_decay;
  ao.decoupled = opt.optimizer == "adamw";
  return std::make_unique<Adam>(model->parameters(), ao);
}

// Sums every parameter's gradient over the ranks (one flat float buffer: the reference
// model's 343k gradients are 1.4 MB) and this rank's stop request, so that all ranks stop
// after the same batch.
void Trainer::Impl::allreduce_gradients(const std::vector<torch::Tensor>& params, bool* stop_any) {
  std::vector<torch::Tensor> flat;
  flat.reserve(params.size() + 1);
  for (const torch::Tensor& p : params)
    flat.push_back(p.grad().defined() ? p.grad().reshape({-1}) : torch::zeros({p.numel()}, p.options()));
  const bool stop_here = stop && stop->load();
  flat.push_back(torch::full({1}, stop_here ? 1.0f : 0.0f, params[0].options()));
  torch::Tensor buffer = torch::cat(flat).to(torch::kCPU).contiguous();
  mpi::allreduce_sum(buffer.data_ptr<float>(), buffer.numel());
  int64_t offset = 0;
  torch::NoGradGuard no_grad;
  for (const torch::Tensor& p : params) {
    torch::Tensor g = buffer.narrow(0, offset, p.numel()).view(p.sizes()).to(p.device());
    if (p.grad().defined()) p.mutable_grad().copy_(g);
    else p.mutable_grad() = g.clone();
    offset += p.numel();
  }
  *stop_any = buffer[offset].item<float>() > 0;
}

// Rank 0's parameters and buffers to every rank: at the start, and after each epoch so
// that rounding differences of the all-reduce can never accumulate.
void Trainer::Impl::broadcast_parameters() {
  if (world.size <= 1) return;
  torch::NoGradGuard no_grad;
  auto share = [](torch::Tensor t) {
    if (t.scalar_type() != torch::kFloat32) return;
    torch::Tensor cpu = t.to(torch::kCPU).contiguous();
    mpi::broadcast(cpu.data_ptr<float>(), cpu.numel(), 0);
    t.copy_(cpu);
  };
  for (auto& p : model->parameters()) share(p);
  for (auto& b : model->buffers()) share(b);
}

void Trainer::Impl::check_resume_options(const std::string& stored_json) const {
  nlohmann::json before = nlohmann::json::parse(stored_json), now = nlohmann::json::parse(to_json(opt));
  for (const char* k : kResumableKeys) {
    before.erase(k);
    now.erase(k);
  }
  for (auto it = now.begin(); it != now.end(); ++it) {
    VED_CHECK(before.contains(it.key()) && before[it.key()] == it.value(),
              "--resume: option '" << it.key() << "' was " << (before.contains(it.key()) ? before[it.key()].dump() : "unset")
                                   << " in the checkpoint but is " << it.value().dump()
                                   << " now; resume with the original options or start a new --out");
  }
}

void Trainer::Impl::setup_resume() {
  auto f = h5::File::open_read(ckpt_path);
  ModelMeta stored = read_model_meta(f);
  check_resume_options(stored.train_options_json);
  VED_CHECK(stored.rows_begin == meta.rows_begin && stored.rows_end == meta.rows_end &&
                std::abs(stored.y_checksum - meta.y_checksum) <= 1e-9 * std::max(1.0, std::abs(stored.y_checksum)),
            "--resume: " << opt.source().describe() << " rows [" << meta.rows_begin << ", " << meta.rows_end
                         << ") are not the data this run was trained on (" << stored.data << " rows ["
                         << stored.rows_begin << ", " << stored.rows_end << "))");
  stored.data = meta.data;
  stored.data_x = meta.data_x;
  stored.data_y = meta.data_y;
  meta = stored;
  meta.train_options_json = to_json(opt);

  model = Ved(meta.config);
  model->to(device);
  load_module(f, "", *model);
  adam = make_adam();
  NamedTensors m1, m2;
  for (const auto& p : model->named_parameters()) {
    m1.insert(p.key(), torch::zeros_like(p.value()));
    m2.insert(p.key(), torch::zeros_like(p.value()));
  }
  read_tensors_into(f, "/optimizer/exp_avg", m1);
  read_tensors_into(f, "/optimizer/exp_avg_sq", m2);
  adam->set_state(static_cast<int64_t>(f.attr_double("/optimizer", "steps")), m1.values(), m2.values());

  schedule = std::make_unique<LrSchedule>(opt);
  ScheduleState s;
  s.plateau_lr = f.attr_double("/state", "plateau_lr");
  s.best = f.attr_double("/state", "plateau_best");
  s.bad_epochs = static_cast<int>(f.attr_double("/state", "plateau_bad_epochs"));
  schedule->set_state(s);
  epoch = meta.epoch;
  best_val = f.attr_double("/state", "best_val");
  best_epoch = static_cast<int>(f.attr_double("/state", "best_epoch"));
  since_best = static_cast<int>(f.attr_double("/state", "since_best"));
  if (f.has("/best")) {
    NamedTensors all = state_copy();
    read_tensors_into(f, "/best", all);
    best_state = all;
  }
  if (writer()) rewrite_log_up_to(epoch);
  mpi::barrier();  // no rank reads the log while rank 0 rewrites it
}

void Trainer::Impl::build_tensors() {
  const int64_t n = data.n_samples();
  const InputTransform& in = meta.input;
  torch::Tensor x = torch::empty({n, in.n_model_inputs()}, torch::kFloat32);
  in.apply(data.x, 0, n, x.data_ptr<float>());
  if (meta.config.encoder == "conv") x = x.view({n, in.channels, in.height, in.width});
  torch::Tensor y = torch::empty({n, data.y.cols()}, torch::kFloat32);
  meta.output.apply(data.y, 0, n, y.data_ptr<float>());
  x_all = x.to(device);
  y_all = y.to(device);
  val_rows = to_tensor(meta.split.val).to(device);
  y_val = take_rows(data.y, meta.split.val);
}

NamedTensors Trainer::Impl::state_copy() {
  NamedTensors s;
  for (const auto& p : model->named_parameters()) s.insert("params/" + p.key(), p.value().detach().clone());
  for (const auto& b : model->named_buffers()) s.insert("buffers/" + b.key(), b.value().detach().clone());
  return s;
}

Validation Trainer::Impl::run_validation() {
  Validation v;
  const int64_t n = val_rows.size(0);
  if (n < 2) return v;
  torch::NoGradGuard no_grad;
  model->eval();
  std::vector<torch::Tensor> mus, logvars, preds;
  for (int64_t i = 0; i < n; i += kEvalChunk) {
    torch::Tensor rows = val_rows.narrow(0, i, std::min(kEvalChunk, n - i));
    Encoding e = model->encode(x_all.index_select(0, rows));
    mus.push_back(e.mu);
    logvars.push_back(e.logvar);
    preds.push_back(model->decode(e.mu));  // evaluation uses z = μ(x)
  }
  torch::Tensor mu = torch::cat(mus), logvar = torch::cat(logvars), pred = torch::cat(preds);
  LossTerms t = ved_loss(pred, y_all.index_select(0, val_rows), mu, logvar, weights(opt.beta));
  v.has = true;
  v.loss = t.total.item<double>();
  v.rec = t.rec.item<double>();
  v.kl = t.kl.item<double>();
  v.cov_offdiag = t.cov_offdiag.item<double>();
  v.cov_diag = t.cov_diag.item<double>();
  torch::Tensor pred_cpu = pred.to(torch::kCPU).contiguous();
  v.metrics = reconstruction_metrics(y_val, meta.output.invert(pred_cpu.data_ptr<float>(), n), meta.output.mean);
  return v;
}

MatrixRM Trainer::Impl::predict_rows(const std::vector<int64_t>& rows_in) {
  torch::NoGradGuard no_grad;
  model->eval();
  const torch::Tensor rows_all = to_tensor(rows_in).to(device);
  const int64_t n = rows_all.size(0);
  std::vector<torch::Tensor> preds;
  for (int64_t i = 0; i < n; i += kEvalChunk) {
    torch::Tensor rows = rows_all.narrow(0, i, std::min(kEvalChunk, n - i));
    preds.push_back(model->decode(model->encode(x_all.index_select(0, rows)).mu));
  }
  torch::Tensor pred = torch::cat(preds).to(torch::kCPU).contiguous();
  return meta.output.invert(pred.data_ptr<float>(), n);
}

void Trainer::Impl::load_state(const NamedTensors& state) {
  torch::NoGradGuard no_grad;
  for (const auto& p : model->named_parameters()) p.value().copy_(state["params/" + p.key()]);
  for (const auto& b : model->named_buffers()) b.value().copy_(state["buffers/" + b.key()]);
}

void Trainer::Impl::write_checkpoint() {
  AtomicOutput out(ckpt_path);
  {
    auto f = h5::File::create(out);
    meta.epoch = epoch;
    write_model_meta(f, meta);
    save_module(f, "", *model);
    NamedTensors m1, m2;
    const auto names = model->named_parameters().keys();
    for (size_t i = 0; i < names.size(); ++i) {
      m1.insert(names[i], adam->exp_avg()[i]);
      m2.insert(names[i], adam->exp_avg_sq()[i]);
    }
    write_tensors(f, "/optimizer/exp_avg", m1);
    write_tensors(f, "/optimizer/exp_avg_sq", m2);
    f.set_attr("/optimizer", "steps", adam->steps());
    f.set_attr("/optimizer", "lr", adam->lr());
    f.create_group("/state");
    f.set_attr("/state", "best_val", best_val);
    f.set_attr("/state", "best_epoch", static_cast<int64_t>(best_epoch));
    f.set_attr("/state", "since_best", static_cast<int64_t>(since_best));
    f.set_attr("/state", "plateau_lr", schedule->state().plateau_lr);
    f.set_attr("/state", "plateau_best", schedule->state().best);
    f.set_attr("/state", "plateau_bad_epochs", static_cast<int64_t>(schedule->state().bad_epochs));
    if (!best_state.is_empty()) write_tensors(f, "/best", best_state);
    f.close();
  }
  out.commit();
}

void Trainer::Impl::write_model() {
  // With --keep best the model takes the best weights now: training is over.
  int selected = epoch;
  if (keep_best && !best_state.is_empty()) {
    load_state(best_state);
    selected = best_epoch;
  }
  // The decoder noise s of p(y|z) = N(f(z), s²I), per output: the RMS residual at z = μ on
  // the validation rows (the training rows, which underestimate it, when there are none).
  // `ved predict` adds it to the spread over z.
  const bool on_val = meta.split.val.size() >= 2;
  const std::vector<int64_t>& rows = on_val ? meta.split.val : meta.split.train;
  const MatrixRM residual = predict_rows(rows) - take_rows(data.y, rows);
  meta.noise_std = residual.array().square().colwise().mean().sqrt().transpose();
  meta.noise_rows = on_val ? "val" : "train";

  AtomicOutput out(model_path);
  {
    auto f = h5::File::create(out);
    meta.epoch = epoch;
    write_model_meta(f, meta);
    save_module(f, "", *model);
    f.set_attr("/", "selected_epoch", static_cast<int64_t>(selected));
    f.close();
  }
  out.commit();
}

void Trainer::Impl::rewrite_log_up_to(int last_epoch) {
  std::string kept;
  std::ifstream in(log_path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      if (nlohmann::json::parse(line).at("epoch").get<int>() <= last_epoch) kept += line + "\n";
    } catch (const std::exception&) {
      // A line cut short by a crash: drop it.
    }
  }
  write_text_atomic(log_path, kept);
}

std::string Trainer::Impl::diagnose(const torch::Tensor& stats, int64_t n_batches) const {
  auto a = stats.accessor<float, 2>();
  for (int64_t b = 0; b < n_batches; ++b) {
    for (int k = 0; k < kNumStats; ++k) {
      if (std::isfinite(a[b][k])) continue;
      // Name the first non-finite term of this batch (the total is non-finite because of it).
      int bad = k;
      for (int j = kRec; j < kNumStats; ++j)
        if (!std::isfinite(a[b][j])) {
          bad = j;
          break;
        }
      std::ostringstream os;
      os << "non-finite " << (bad == kGradNorm ? "gradient norm" : std::string("loss term ") + kStatNames[bad])
         << " at epoch " << epoch + 1 << ", batch " << b + 1 << " of " << n_batches << " (";
      for (int j = 0; j < kNumStats; ++j) os << (j ? ", " : "") << kStatNames[j] << " " << a[b][j];
      os << ", lr " << adam->lr() << "). ";
      if (epoch > 0) os << "The last good checkpoint (epoch " << epoch << ") is kept in " << ckpt_path << ". ";
      else os << "No epoch completed, so there is no checkpoint. ";
      os << "Try a lower --lr, gradient clipping (--clip 1), a KL warm-up, or check the data for outliers.";
      return os.str();
    }
  }
  return "";
}

Trainer::Impl::BatchPlan Trainer::Impl::plan_batches() const {
  BatchPlan p;
  p.n_train = static_cast<int64_t>(meta.split.train.size());
  p.batch = opt.batch;
  p.n_batches = p.n_train / p.batch;
  VED_CHECK(p.n_batches >= 1, "only " << p.n_train << " training rows for --batch " << p.batch
                                      << "; lower --batch or --val-fraction / --test-fraction");
  // Under mpirun each of the K ranks computes batch / K samples of every global batch.
  p.ranks = world.size;
  p.shard = p.batch / p.ranks;
  p.shard_begin = world.rank * p.shard;
  VED_CHECK(p.batch % p.ranks == 0 && p.shard >= 1,
            "--batch " << p.batch << " is the global batch: it must be a multiple of the " << p.ranks << " MPI ranks");
  return p;
}

// Epoch e's rows in batch order, on the device, and the seed of its noise ε: both come
// from their own streams of the seed, so that a resumed run draws what it would have.
torch::Tensor Trainer::Impl::epoch_order(int e, const BatchPlan& p, at::Generator& gen) const {
  const std::vector<int64_t>& train = meta.split.train;
  std::vector<int64_t> perm = epoch_permutation(p.n_train, opt.seed, e);
  std::vector<int64_t> order(static_cast<size_t>(p.n_batches * p.batch));
  for (size_t i = 0; i < order.size(); ++i) order[i] = train[perm[i]];
  {
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_current_seed(mix_seed(opt.seed ^ kEpsSeedTag, static_cast<uint64_t>(e)));
  }
  return to_tensor(order).to(device);
}

// β of batch b of epoch e: ramped linearly over the first kl_warmup epochs.
double Trainer::Impl::kl_weight(int e, int64_t b, int64_t n_batches) const {
  if (opt.kl_warmup <= 0) return opt.beta;
  return opt.beta * std::min(1.0, (e + static_cast<double>(b + 1) / n_batches) / opt.kl_warmup);
}

// One optimiser step on this rank's shard of a global batch. With several ranks the loss
// terms are those of the whole batch, and *stop_all says whether any rank was asked to stop.
LossTerms Trainer::Impl::train_step(const torch::Tensor& rows, const BatchPlan& p, at::Generator& gen, double beta,
                                    const std::vector<torch::Tensor>& params, torch::Tensor* grad_norm,
                                    bool* stop_all) {
  torch::Tensor xb = x_all.index_select(0, rows);
  torch::Tensor yb = y_all.index_select(0, rows);
  // The global batch's noise, drawn on every rank: the shards see what one process would.
  const int64_t r = meta.config.latent;
  torch::Tensor eps = torch::randn({p.batch, r}, gen, torch::kFloat32).narrow(0, p.shard_begin, p.shard).to(device);
  VedOutput out = forward_in_precision(*model, xb, eps, precision);
  LossTerms t;
  adam->zero_grad();
  *stop_all = false;
  if (p.ranks == 1) {
    t = ved_loss(out.y, yb, out.mu, out.logvar, weights(beta));
    t.total.backward();
  } else {
    // The covariance penalty needs the whole batch's statistics: all-reduce its sums.
    torch::Tensor sums = ved_loss_shard_sums(out.y, yb, out.mu, out.logvar).to(torch::kCPU).contiguous();
    mpi::allreduce_sum(sums.data_ptr<double>(), sums.numel());
    ShardLoss sl = ved_loss_shard(out.y, yb, out.mu, out.logvar, weights(beta), p.batch, sums);
    sl.objective.backward();
    t = sl.global;
    allreduce_gradients(params, stop_all);
  }
  *grad_norm = clip_grad_norm(params, opt.clip);
  adam->step();
  return t;
}

// The batches of epoch e; per-batch statistics into stats [n_batches, kNumStats] (on the
// device). Returns false when a stop was requested before the epoch's end.
bool Trainer::Impl::train_epoch(int e, const BatchPlan& p, at::Generator& gen, const std::vector<torch::Tensor>& params,
                                bool terminal, Progress& progress, torch::Tensor& stats) {
  adam->set_lr(schedule->lr(e));
  const torch::Tensor order = epoch_order(e, p, gen);
  stats = torch::zeros({p.n_batches, kNumStats}, torch::TensorOptions().device(device));
  model->train();
  for (int64_t b = 0; b < p.n_batches; ++b) {
    if (p.ranks == 1 && stop && stop->load()) return false;  // several ranks agree in allreduce_gradients
    torch::Tensor rows = order.narrow(0, b * p.batch + p.shard_begin, p.shard);
    torch::Tensor grad_norm;
    bool stop_all = false;
    LossTerms t = train_step(rows, p, gen, kl_weight(e, b, p.n_batches), params, &grad_norm, &stop_all);
    stats[b] = torch::stack({t.total.detach(), t.rec.detach(), t.kl.detach(), t.cov_offdiag.detach(),
                             t.cov_diag.detach(), grad_norm.to(torch::kFloat32)});
    if (terminal && b % 8 == 0) progress.set_suffix("loss " + format_g(t.total.item<double>()));
    progress.advance();
    if (stop_all && b + 1 < p.n_batches) return false;  // another rank was asked to stop: all stop here
  }
  return true;
}

// Best validation loss so far (early stopping, --keep best).
void Trainer::Impl::track_best(const Validation& v) {
  if (v.has && v.loss < best_val) {
    best_val = v.loss;
    best_epoch = epoch;
    since_best = 0;
    if (keep_best) best_state = state_copy();
  } else {
    ++since_best;
  }
}

// The epoch's line of train.jsonl; mean [kNumStats] on the CPU.
nlohmann::json Trainer::Impl::epoch_record(const torch::Tensor& mean, const Validation& v, const BatchPlan& p,
                                           double t_train, double t_epoch) const {
  nlohmann::json line;
  line["epoch"] = epoch;
  for (int k = 0; k < kNumStats; ++k) line[kStatNames[k]] = number(mean[k].item<double>());
  line["beta"] = opt.kl_warmup > 0 ? opt.beta * std::min(1.0, static_cast<double>(epoch) / opt.kl_warmup) : opt.beta;
  line["lr"] = adam->lr();
  line["val_loss"] = number(v.loss);
  line["val_rec"] = number(v.rec);
  line["val_kl"] = number(v.kl);
  line["val_cov_offdiag"] = number(v.cov_offdiag);
  line["val_cov_diag"] = number(v.cov_diag);
  line["val_rel_l2"] = number(v.metrics.rel_l2);
  line["val_rel_l2_fluct"] = number(v.metrics.rel_l2_fluct);
  line["val_r2"] = number(v.metrics.r2);
  line["train_seconds"] = t_train;
  line["seconds"] = t_epoch;
  line["samples_per_s"] = static_cast<double>(p.n_batches * p.batch) / t_train;
  return line;
}

// The log line and the checkpoint of a finished epoch (rank 0 only).
void Trainer::Impl::save_epoch(const nlohmann::json& line) {
  if (!writer()) return;
  std::ofstream log(log_path, std::ios::app);
  log << line.dump() << "\n";
  VED_CHECK(log.good(), "cannot append to " << log_path << " (disk full?)");
  log.close();
  write_checkpoint();
}

// "loss … rec … kl … cov … | val rel_l2_fluct … r2 … | lr …"
std::string Trainer::Impl::epoch_message(const torch::Tensor& mean, const Validation& v) const {
  std::ostringstream msg;
  msg << "loss " << format_g(mean[kTotal].item<double>()) << " rec " << format_g(mean[kRec].item<double>()) << " kl "
      << format_g(mean[kKl].item<double>()) << " cov "
      << format_g(mean[kCovOd].item<double>() + mean[kCovD].item<double>());
  if (v.has) msg << " | val rel_l2_fluct " << format_g(v.metrics.rel_l2_fluct, 4) << " r2 " << format_g(v.metrics.r2, 4);
  msg << " | lr " << format_g(adam->lr(), 3);
  return msg.str();
}

// After the last epoch: model.h5 and summary.json (rank 0).
void Trainer::Impl::finish(TrainSummary& s) {
  if (s.epochs_this_run == 0) s.val_rel_l2_fluct = run_validation().metrics.rel_l2_fluct;  // resumed a finished run
  if (writer()) write_model();
  s.finished = true;
  s.model_path = model_path;
  if (!writer()) return;
  nlohmann::json j;
  j["epochs"] = epoch;
  j["early_stopped"] = s.early_stopped;
  j["best_epoch"] = best_epoch;
  j["best_val_loss"] = number(best_val);
  j["val_rel_l2_fluct"] = number(s.val_rel_l2_fluct);
  j["parameters"] = s.parameters;
  j["n_train"] = s.n_train;
  j["n_val"] = static_cast<int64_t>(meta.split.val.size());
  j["n_test"] = static_cast<int64_t>(meta.split.test.size());
  j["seconds_last_invocation"] = s.seconds;
  j["samples_per_s"] = s.samples_per_s;
  j["threads"] = torch::get_num_threads();
  j["device"] = opt.device;
  j["keep"] = opt.keep;
  j["mpi_ranks"] = world.size;
  write_text_atomic((run_dir / "summary.json").string(), j.dump(2) + "\n");
}

TrainSummary Trainer::Impl::run() {
  TrainSummary s;
  s.val_rel_l2_fluct = std::nan("");
  s.parameters = count_parameters(*model);
  const BatchPlan p = plan_batches();
  s.n_train = p.n_train;
  std::vector<torch::Tensor> params = model->parameters();
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(opt.seed);
  double train_seconds = 0;
  const auto t_start = std::chrono::steady_clock::now();
  const bool terminal = Progress::enabled() && writer();  // bar and live loss only on a terminal

  while (epoch < opt.epochs) {
    if (opt.stop_after > 0 && s.epochs_this_run >= opt.stop_after) {
      s.interrupted = true;
      break;
    }
    const auto t_epoch = std::chrono::steady_clock::now();
    Progress progress("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(opt.epochs),
                      static_cast<size_t>(p.n_batches));
    torch::Tensor stats;
    if (!train_epoch(epoch, p, gen, params, terminal, progress, stats)) {
      s.interrupted = true;
      break;
    }
    const double t_train = seconds_since(t_epoch);
    train_seconds += t_train;

    broadcast_parameters();
    torch::Tensor stats_cpu = stats.to(torch::kCPU);
    std::string problem = diagnose(stats_cpu, p.n_batches);
    VED_CHECK(problem.empty(), problem);
    torch::Tensor mean = stats_cpu.mean(0);

    Validation v = run_validation();
    if (v.has) schedule->end_epoch(v.loss);
    ++epoch;
    ++s.epochs_this_run;
    track_best(v);
    save_epoch(epoch_record(mean, v, p, t_train, seconds_since(t_epoch)));

    const std::string msg = epoch_message(mean, v);
    if (terminal) {
      progress.set_suffix(msg);
      progress.finish();
    } else if (!opt.quiet && writer()) {
      std::printf("epoch %d/%d  %s  %.1f s\n", epoch, opt.epochs, msg.c_str(), seconds_since(t_epoch));
      std::fflush(stdout);
    }
    s.val_rel_l2_fluct = v.metrics.rel_l2_fluct;
    if (opt.patience > 0 && since_best >= opt.patience) {
      s.early_stopped = true;
      break;
    }
  }

  s.epochs_done = epoch;
  s.epochs_total = opt.epochs;
  s.best_epoch = best_epoch;
  s.best_val_loss = best_val;
  s.seconds = seconds_since(t_start);
  s.samples_per_s = train_seconds > 0 ? static_cast<double>(s.epochs_this_run * p.n_batches * p.batch) / train_seconds : 0;
  if (!s.interrupted) finish(s);
  mpi::barrier();  // the run folder is complete before any rank returns
  return s;
}

Trainer::Trainer(const TrainOptions& options) : impl_(std::make_unique<Impl>(options)) {}
Trainer::~Trainer() = default;

void Trainer::set_stop_flag(const std::atomic<bool>* flag) { impl_->stop = flag; }

std::string Trainer::describe() const {
  const Impl& i = *impl_;
  const ModelConfig& c = i.meta.config;
  std::ostringstream os;
  os << i.data.n_samples() << " rows of " << i.opt.source().describe() << " (train " << i.meta.split.train.size() << ", val "
     << i.meta.split.val.size() << ", test " << i.meta.split.test.size() << "); ";
  if (c.encoder == "conv")
    os << "conv encoder on " << c.input_channels << "x" << c.input_height << "x" << c.input_width << " images ("
       << i.meta.input.kind << ")";
  else
    os << "MLP encoder on " << c.input_features << " features";
  os << ", r = " << c.latent << ", " << c.output_features << " outputs, " << count_parameters(*i.model)
     << " parameters; " << i.opt.epochs << " epochs of batch " << i.opt.batch << "; " << torch::get_num_threads()
     << " thread(s) on " << i.opt.device;
  if (i.epoch > 0) os << "; resuming after epoch " << i.epoch;
  return os.str();
}

TrainSummary Trainer::run() { return impl_->run(); }

}  // namespace ved
