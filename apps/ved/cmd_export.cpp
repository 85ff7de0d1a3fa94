// ved export: a trained VED as TorchScript modules for Python (torch.jit.load) and C++
// (torch::jit::load) that need neither ved nor the model file.
//
//   ved export --model run/ --out exported/
//   python3 -c 'import torch; p = torch.jit.load("exported/predictor.pt"); print(p.code)'
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "commands.hpp"
#include "ved/export/torchscript.hpp"

namespace ved::app {
namespace {

struct ExportOptions {
  std::string model;  // run folder or model.h5
  std::string out;    // folder for encoder.pt, decoder.pt, predictor.pt, export.json
};

std::string shape_text(const std::vector<int64_t>& dims) {
  std::string s = "[N";
  for (int64_t d : dims) s += ", " + std::to_string(d);
  return s + "]";
}

void run_export(const ExportOptions& o) {
  ExportSummary s = export_torchscript(o.model, o.out);
  const std::string raw = "[N, " + std::to_string(s.n_inputs) + "]";
  const std::string r = std::to_string(s.latent), m = std::to_string(s.n_outputs);
  std::printf("exported %s (r = %d, %s inputs, %ld outputs):\n", s.model_path.c_str(), s.latent, s.input_kind.c_str(),
              static_cast<long>(s.n_outputs));
  std::printf("  %s  standardised %s -> (mu, logvar) [N, %s]\n", s.encoder_path.c_str(),
              shape_text(s.encoder_input_shape).c_str(), r.c_str());
  std::printf("  %s  z [N, %s] -> y [N, %s] physical\n", s.decoder_path.c_str(), r.c_str(), m.c_str());
  std::printf("  %s  raw x %s -> y [N, %s] physical at z = mu(x); .encode(x), .decode(z), .preprocess(x)\n",
              s.predictor_path.c_str(), raw.c_str(), m.c_str());
  std::printf("  %s\n", s.json_path.c_str());
}

}  // namespace

void add_export_command(CLI::App& app) {
  auto o = std::make_shared<ExportOptions>();
  CLI::App* cmd = app.add_subcommand(
      "export",
      "Export a trained VED as TorchScript for torch.jit.load (Python) and torch::jit::load (C++): "
      "encoder.pt (standardised network input -> (mu, logvar)), decoder.pt (z -> y in physical units), "
      "predictor.pt (raw x as stored in the dataset -> y physical at z = mu(x), with the standardisation and "
      "Map2Grid built in; methods encode(x), decode(z), preprocess(x)) and export.json (sizes, shapes, files)");
  cmd->add_option("--model", o->model, "Run folder (ved train --out) or its model.h5")->required();
  cmd->add_option("--out", o->out, "Folder for the exported files (created if missing; existing files are replaced)")
      ->required();
  cmd->callback([o] { run_export(*o); });
}

}  // namespace ved::app
