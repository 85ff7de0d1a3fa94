// ved sample: outputs generated from the prior, y = f(z) with z ~ N(0, I) (SPEC §1, §6):
// how well these match real outputs is the VED's generative quality.
//
//   ved sample --model run/ --samples 1000 --seed 2 --out generated.h5
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
};

void run_sample(const SampleOptions& o) {
  check_output_path(o.out);
  set_torch_threads(o.threads);
  TrainedModel model(o.model, o.device);
  MatrixRM y = model.sample(o.samples, o.seed);
  std::vector<size_t> dims = {static_cast<size_t>(y.rows()), static_cast<size_t>(y.cols())};
  AtomicOutput out(o.out);
  if (o.out.size() > 4 && o.out.substr(o.out.size() - 4) == ".npy") {
    npy::write(out.temp_path(), y.data(), dims);
  } else {
    auto f = h5::File::create(out);
    f.write("/y", y.data(), dims);
    f.set_attr("/", "model", model.path());
    f.set_attr("/", "seed", static_cast<int64_t>(o.seed));
    f.set_attr("/", "source", std::string("prior: y = f(z), z ~ N(0, I)"));
    f.close();
  }
  out.commit();
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
  cmd->callback([o] { run_sample(*o); });
}

}  // namespace ved::app
