// ved sample: outputs generated from the prior, y = f(z) with z ~ N(0, I) (docs/method.md §2):
// how well these match real outputs is the VED's generative quality.
//
//   ved sample --model run/ --samples 1000 --seed 2 --out generated.h5
//   ved sample --model run/ --traverse 1 --steps 7 --range 2.5 --out traversal.h5  # z_1 swept, rest 0
#include <CLI/CLI.hpp>

#include <cstdio>

#include "commands.hpp"
#include "ved/train/trained_model.hpp"
#include "ved/train/trainer.hpp"
#include "ved/util/atomic_file.hpp"
#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"
#include "ved/util/npy.hpp"

namespace ved::app {
namespace {

struct SampleOptions {
  std::string model;
  int64_t samples = 1000;
  uint64_t seed = 1;
  std::string out;
  int threads = 0;
  std::string device = "cpu";
  int traverse = 0;     // 1-based latent coordinate to sweep (0 = sample the prior)
  int steps = 7;
  double range = 2.5;   // z_dim from -range to +range
};

void run_sample(const SampleOptions& o) {
  check_output_path(o.out);
  set_torch_threads(o.threads);
  TrainedModel model(o.model, o.device);
  VED_CHECK(o.traverse >= 0 && o.traverse <= model.latent(),
            "--traverse " << o.traverse << " out of range [1, " << model.latent() << "] (0 = sample the prior)");
  VED_CHECK(o.traverse == 0 || (o.steps >= 2 && o.range > 0),
            "--steps " << o.steps << " / --range " << o.range << ": a traversal needs at least 2 steps and a positive range");
  std::vector<double> z_values;
  MatrixRM y;
  if (o.traverse > 0) {
    // A latent traversal: one coordinate from -range to +range, the others at the prior mean.
    MatrixRM z = MatrixRM::Zero(o.steps, model.latent());
    for (int i = 0; i < o.steps; ++i) {
      z_values.push_back(-o.range + 2 * o.range * i / (o.steps - 1));
      z(i, o.traverse - 1) = z_values.back();
    }
    y = model.decode(z);
  } else {
    y = model.sample(o.samples, o.seed);
  }
  std::vector<size_t> dims = {static_cast<size_t>(y.rows()), static_cast<size_t>(y.cols())};
  AtomicOutput out(o.out);
  if (o.out.size() > 4 && o.out.substr(o.out.size() - 4) == ".npy") {
    npy::write(out.temp_path(), y.data(), dims);
  } else {
    auto f = h5::File::create(out);
    f.write("/y", y.data(), dims);
    f.set_attr("/", "model", model.path());
    f.set_attr("/", "seed", static_cast<int64_t>(o.seed));
    if (o.traverse > 0) {
      f.write("/z_values", z_values.data(), {z_values.size()});
      f.set_attr("/y", "dim", static_cast<int64_t>(o.traverse - 1));
      f.set_attr("/", "source", "traversal of z_" + std::to_string(o.traverse) + ", other coordinates 0");
    } else {
      f.set_attr("/", "source", std::string("prior: y = f(z), z ~ N(0, I)"));
    }
    f.close();
  }
  out.commit();
  if (o.traverse > 0)
    std::printf("decoded a traversal of z_%d over [%g, %g] in %d steps -> %s [%ld, %ld]\n", o.traverse, -o.range, o.range,
                o.steps, o.out.c_str(), static_cast<long>(y.rows()), static_cast<long>(y.cols()));
  else
    std::printf("decoded %ld draws of z ~ N(0, I_%d) -> %s [%ld, %ld]\n", static_cast<long>(y.rows()), model.latent(),
                o.out.c_str(), static_cast<long>(y.rows()), static_cast<long>(y.cols()));
}

}  // namespace

void add_sample_command(CLI::App& app) {
  auto o = std::make_shared<SampleOptions>();
  CLI::App* cmd = app.add_subcommand("sample", "Generate outputs from the prior: y = f(z), z ~ N(0, I); writes /y [M, m] "
                                               "(.h5) or an .npy array");
  cmd->add_option("--model", o->model, "Run folder (ved train --out) or its model.h5")->required();
  cmd->add_option("--samples", o->samples, "Number of draws M");
  cmd->add_option("--seed", o->seed, "Seed of the draws");
  cmd->add_option("--out", o->out, "Output file (.h5 or .npy)")->required();
  cmd->add_option("--threads", o->threads, "Intra-op threads (0 = all cores)");
  cmd->add_option("--device", o->device, "cpu, cuda or cuda:N");
  cmd->add_option("--traverse", o->traverse, "Instead of prior draws, sweep latent coordinate DIM (1-based), others 0");
  cmd->add_option("--steps", o->steps, "Traversal: number of z values");
  cmd->add_option("--range", o->range, "Traversal: z from -range to +range");
  cmd->callback([o] { run_sample(*o); });
}

}  // namespace ved::app
