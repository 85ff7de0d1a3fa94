#include "ved/train/train_options.hpp"

#include <nlohmann/json.hpp>

#include "ved/util/error.hpp"

namespace ved {

void validate(const TrainOptions& o) {
  VED_CHECK(!o.data.empty() || o.source().from_arrays(),
            "no training data; give --data FILE.h5, or --x SRC --y SRC (FILE.npy, FILE.npz:name or FILE.h5:/path)");
  VED_CHECK(!o.out.empty(), "no run folder; give --out RUN/");
  VED_CHECK(o.val_fraction >= 0 && o.test_fraction >= 0 && o.val_fraction + o.test_fraction < 1,
            "--val-fraction " << o.val_fraction << " and --test-fraction " << o.test_fraction
                              << " must be >= 0 and leave rows for training (sum < 1)");
  VED_CHECK(o.output_scale == "output" || o.output_scale == "global",
            "--output-scale '" << o.output_scale << "' is not one of: output, global");
  VED_CHECK(o.encoder == "auto" || o.encoder == "conv" || o.encoder == "mlp",
            "--encoder '" << o.encoder << "' is not one of: auto, conv, mlp");
  VED_CHECK(o.beta >= 0 && o.lambda >= 0, "--beta " << o.beta << " and --lambda " << o.lambda << " must be >= 0");
  VED_CHECK(o.kl_warmup >= 0, "--kl-warmup " << o.kl_warmup << " must be >= 0");
  VED_CHECK(o.optimizer == "adam" || o.optimizer == "adamw", "--optimizer '" << o.optimizer << "' is not one of: adam, adamw");
  VED_CHECK(o.lr > 0, "--lr " << o.lr << " must be > 0");
  VED_CHECK(o.weight_decay >= 0, "--weight-decay " << o.weight_decay << " must be >= 0");
  VED_CHECK(o.epochs >= 0, "--epochs " << o.epochs << " must be at least 1 (or 0: automatic)");
  VED_CHECK(o.batch >= 2, "--batch " << o.batch << " must be at least 2 (the covariance penalty needs 2 samples)");
  VED_CHECK(o.schedule == "constant" || o.schedule == "step" || o.schedule == "cosine" || o.schedule == "plateau",
            "--schedule '" << o.schedule << "' is not one of: constant, step, cosine, plateau");
  VED_CHECK(o.lr_min >= 0 && o.lr_min <= o.lr, "--lr-min " << o.lr_min << " must be in [0, --lr = " << o.lr << "]");
  VED_CHECK(o.step_size >= 1, "--step-size " << o.step_size << " must be at least 1");
  VED_CHECK(o.gamma > 0 && o.gamma <= 1, "--gamma " << o.gamma << " must be in (0, 1]");
  VED_CHECK(o.plateau_patience >= 0, "--plateau-patience " << o.plateau_patience << " must be >= 0");
  VED_CHECK(o.plateau_factor > 0 && o.plateau_factor < 1, "--plateau-factor " << o.plateau_factor << " must be in (0, 1)");
  VED_CHECK(o.clip >= 0, "--clip " << o.clip << " must be >= 0");
  VED_CHECK(o.patience >= 0, "--patience " << o.patience << " must be >= 0");
  VED_CHECK(o.keep == "last" || o.keep == "best", "--keep '" << o.keep << "' is not one of: last, best");
  VED_CHECK(o.stop_after >= 0, "--stop-after " << o.stop_after << " must be >= 0");
  VED_CHECK(o.threads >= 0, "--threads " << o.threads << " must be >= 0");
  VED_CHECK(o.device == "cpu" || o.device.rfind("cuda", 0) == 0, "--device '" << o.device << "' is not one of: cpu, cuda, cuda:N");
  VED_CHECK(o.precision == "fp32" || o.precision == "bf16" || o.precision == "tf32",
            "--precision '" << o.precision << "' is not one of: fp32, bf16, tf32");
  VED_CHECK(o.precision != "tf32" || o.device.rfind("cuda", 0) == 0,
            "--precision tf32 is a setting of NVIDIA GPUs; use it with --device cuda (on CPU: fp32 or bf16)");
  if ((o.patience > 0 || o.keep == "best" || o.schedule == "plateau") && o.val_fraction == 0)
    VED_FAIL("--patience, --keep best and --schedule plateau watch the validation loss; set --val-fraction > 0");
}

std::string to_json(const TrainOptions& o) {
  nlohmann::json j;
  j["data"] = o.data;
  if (o.source().from_arrays()) {
    j["x"] = o.x;
    j["y"] = o.y;
  }
  j["rows"] = o.rows;
  j["mesh"] = o.mesh;
  if (o.output_scale != "output") j["output_scale"] = o.output_scale;
  j["val_fraction"] = o.val_fraction;
  j["test_fraction"] = o.test_fraction;
  j["seed"] = o.seed;
  j["encoder"] = o.encoder;
  j["model"] = nlohmann::json::parse(to_json(o.model));
  j["mlp_hidden"] = o.mlp_hidden;
  j["beta"] = o.beta;
  j["lambda"] = o.lambda;
  j["lambda_offdiag"] = o.lambda_offdiag;
  j["lambda_diag"] = o.lambda_diag;
  j["kl_warmup"] = o.kl_warmup;
  j["optimizer"] = o.optimizer;
  j["lr"] = o.lr;
  j["weight_decay"] = o.weight_decay;
  j["epochs"] = o.epochs;
  j["batch"] = o.batch;
  j["schedule"] = o.schedule;
  j["lr_min"] = o.lr_min;
  j["step_size"] = o.step_size;
  j["gamma"] = o.gamma;
  j["plateau_patience"] = o.plateau_patience;
  j["plateau_factor"] = o.plateau_factor;
  j["clip"] = o.clip;
  j["patience"] = o.patience;
  j["keep"] = o.keep;
  j["out"] = o.out;
  j["resume"] = o.resume;
  j["stop_after"] = o.stop_after;
  j["threads"] = o.threads;
  j["device"] = o.device;
  j["precision"] = o.precision;
  j["quiet"] = o.quiet;
  return j.dump();
}

TrainOptions train_options_from_json(const std::string& text) {
  TrainOptions o;
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    o.data = j.at("data");
    o.x = j.value("x", "");
    o.y = j.value("y", "");
    o.rows = j.at("rows");
    o.mesh = j.at("mesh");
    o.output_scale = j.value("output_scale", "output");
    o.val_fraction = j.at("val_fraction");
    o.test_fraction = j.at("test_fraction");
    o.seed = j.at("seed");
    o.encoder = j.at("encoder");
    o.model = model_config_from_json(j.at("model").dump());
    o.mlp_hidden = j.at("mlp_hidden");
    o.beta = j.at("beta");
    o.lambda = j.at("lambda");
    o.lambda_offdiag = j.at("lambda_offdiag");
    o.lambda_diag = j.at("lambda_diag");
    o.kl_warmup = j.at("kl_warmup");
    o.optimizer = j.at("optimizer");
    o.lr = j.at("lr");
    o.weight_decay = j.at("weight_decay");
    o.epochs = j.at("epochs");
    o.batch = j.at("batch");
    o.schedule = j.at("schedule");
    o.lr_min = j.at("lr_min");
    o.step_size = j.at("step_size");
    o.gamma = j.at("gamma");
    o.plateau_patience = j.at("plateau_patience");
    o.plateau_factor = j.at("plateau_factor");
    o.clip = j.at("clip");
    o.patience = j.at("patience");
    o.keep = j.at("keep");
    o.out = j.at("out");
    o.resume = j.at("resume");
    o.stop_after = j.at("stop_after");
    o.threads = j.at("threads");
    o.device = j.at("device");
    o.precision = j.value("precision", std::string("fp32"));  // runs written before the option
    o.quiet = j.at("quiet");
  } catch (const nlohmann::json::exception& e) {
    VED_FAIL("stored training options are incomplete or invalid: " << e.what());
  }
  return o;
}


}  // namespace ved
