// ved predict: y for given x with a trained VED: the mean and standard deviation over
// z ~ q(z|x) (docs/method.md §2), and the point prediction at z = μ(x).
//
//   ved predict --model run/ --input fields.h5:/x --samples 200 --out pred.h5
//   ved predict --model run/ --input fields.npy --out pred.npy    # pred.npy + pred_std.npy
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli_util.hpp"
#include "commands.hpp"
#include "ved/train/trained_model.hpp"
#include "ved/train/trainer.hpp"
#include "ved/util/atomic_file.hpp"
#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"
#include "ved/util/npy.hpp"
#include "ved/util/parse.hpp"

namespace ved::app {
namespace {

struct PredictOptions {
  std::string model;
  std::string input;     // FILE.h5:/x or FILE.npy, [K, n] (or [K, H, W])
  int samples = 100;     // draws of z per input
  uint64_t seed = 1;
  std::string out;
  int threads = 0;
  std::string device = "cpu";
};

bool is_npy(const std::string& p) { return p.size() > 4 && ends_with(p, ".npy"); }

std::vector<size_t> dims_of(const MatrixRM& a) { return {static_cast<size_t>(a.rows()), static_cast<size_t>(a.cols())}; }

void write_npy(const std::string& path, const MatrixRM& a) {
  AtomicOutput out(path);
  npy::write(out.temp_path(), a.data(), dims_of(a));
  out.commit();
}

void run_predict(const PredictOptions& o) {
  // Only what is written is accepted: an HDF5 file under another name (p.csv) would look
  // like something else to every other tool.
  VED_CHECK(is_npy(o.out) || ends_with(o.out, ".h5") || ends_with(o.out, ".hdf5") || ends_with(o.out, ".he5"),
            "--out " << o.out << ": predict writes HDF5 (.h5, .hdf5) or NumPy (.npy) files; name the output "
                     << "with one of those extensions");
  check_output_path(o.out);
  set_torch_threads(o.threads);
  TrainedModel model(o.model, o.device);
  const bool h5_without_path = o.input.find(':') == std::string::npos && !is_npy(o.input) &&
                               !(o.input.size() > 4 && ends_with(o.input, ".npz"));
  MatrixRM x = load_rows(h5_without_path ? o.input + ":/x" : o.input,
                         static_cast<long>(model.n_inputs()), "--input");
  MatrixRM y_mu = model.predict(x);
  Encodings e = model.encode(x);
  PredictiveMoments p;
  if (o.samples > 0) p = model.predict_moments(x, o.samples, o.seed);
  if (is_npy(o.out)) {
    const std::string stem = o.out.substr(0, o.out.size() - 4);
    write_npy(o.out, o.samples > 0 ? p.mean : y_mu);
    if (o.samples > 0) write_npy(stem + "_std.npy", p.std);
  } else {
    AtomicOutput out(o.out);
    {
      auto f = h5::File::create(out);
      f.write("/y_mu", y_mu.data(), dims_of(y_mu));
      f.write("/z_mu", e.mu.data(), dims_of(e.mu));
      f.write("/z_logvar", e.logvar.data(), dims_of(e.logvar));
      if (o.samples > 0) {
        f.write("/y_mean", p.mean.data(), dims_of(p.mean));
        f.write("/y_std", p.std.data(), dims_of(p.std));
        f.write("/y_std_latent", p.std_latent.data(), dims_of(p.std_latent));
      }
      f.set_attr("/", "model", model.path());
      f.set_attr("/", "input", o.input);
      f.set_attr("/", "samples", static_cast<int64_t>(o.samples));
      f.set_attr("/", "seed", static_cast<int64_t>(o.seed));
      f.close();
    }
    out.commit();
  }
  if (o.samples > 0 && model.meta().noise_std.size() == 0)
    std::fprintf(stderr,
                 "note: %s has no decoder-noise estimate (the checkpoint of an unfinished run, or an older "
                 "model): the std is the spread over z alone\n",
                 model.path().c_str());
  std::printf("predicted %ld samples (%d draws of z each) -> %s\n", static_cast<long>(x.rows()), o.samples,
              o.out.c_str());
}

}  // namespace

void add_predict_command(CLI::App& app) {
  auto o = std::make_shared<PredictOptions>();
  CLI::App* cmd = app.add_subcommand(
      "predict", "Predict y for inputs x with a trained VED: the mean and standard deviation of y under z ~ q(z|x) "
                 "and the decoder noise estimated on the validation rows, and y at z = mu(x). .h5 output holds "
                 "/y_mean, /y_std, /y_std_latent (spread over z alone), /y_mu, /z_mu, /z_logvar; .npy output holds "
                 "the mean, and the std in <name>_std.npy");
  cmd->add_option("--model", o->model, "Run folder (ved train --out) or its model.h5")->required();
  cmd->add_option("--input,--x", o->input,
                  "Inputs [K, n] (or [K, H, W], [K, C, H, W]): FILE.npy, FILE.npz:name or FILE.h5[:/dataset] "
                  "(default dataset /x)")
      ->required();
  cmd->add_option("--samples", o->samples, "Draws of z per input for mean and std (0: only z = mu)");
  cmd->add_option("--seed", o->seed, "Seed of the draws");
  cmd->add_option("--out", o->out, "Output file (.h5 or .npy)")->required();
  cmd->add_option("--threads", o->threads, "Intra-op threads (0 = all cores)");
  cmd->add_option("--device", o->device, "cpu, cuda or cuda:N");
  cmd->callback([o] { run_predict(*o); });
}

}  // namespace ved::app
