#include "ved/export/torchscript.hpp"

#include <torch/script.h>  // torch::jit::Module, define, save

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>

#include "ved/nn/model.hpp"
#include "ved/nn/script.hpp"
#include "ved/nn/tensor_io.hpp"
#include "ved/train/model_file.hpp"
#include "ved/util/atomic_file.hpp"
#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"

namespace ved {
namespace fs = std::filesystem;
namespace {

std::string shape_text(const std::vector<int64_t>& dims) {
  std::string s = "[N";
  for (int64_t d : dims) s += ", " + std::to_string(d);
  return s + "]";
}

torch::Tensor vector_tensor(const Eigen::VectorXd& v) {
  return torch::from_blob(const_cast<double*>(v.data()), {v.size()}, torch::kFloat64).clone();
}

// _physical(y, like): standardised y -> physical units (OutputTransform::invert, in float64),
// in the dtype of `like` when that is a floating type.
void emit_physical(ScriptBuilder& b, const OutputTransform& out) {
  const std::string mean = b.extra("y_mean", vector_tensor(out.mean));
  const std::string scale = b.extra("y_scale", vector_tensor(out.scale));
  b.line(0, "def _physical(self, y: Tensor, like: Tensor) -> Tensor:");
  b.line(1, "out = y.to(" + kScriptFloat64 + ") * " + scale + " + " + mean);
  b.line(1, "if like.is_floating_point():");
  b.line(2, "return out.to(like.dtype)");
  b.line(1, "return out");
  b.blank();
}

// Shape check of the decoder input z [N, r].
void emit_check_z(ScriptBuilder& b, const ModelConfig& c, const std::string& file) {
  const std::string r = std::to_string(c.latent);
  b.line(1, "assert z.dim() == 2 and z.size(1) == " + r + ", \"" + file + ": z must be [N, " + r +
                "] (the latent codes); got {}\".format(z.size())");
}

// preprocess(x): raw x [N, n] (physical) -> the network input, as InputTransform::apply:
// standardise in float64, round to float32, then (grid_map) average the entries of each
// pixel, 0 outside the mesh.
void emit_preprocess(ScriptBuilder& b, const ModelMeta& meta) {
  const InputTransform& in = meta.input;
  const std::string n = std::to_string(in.n_inputs);
  const std::string mean = b.extra("x_mean", vector_tensor(in.mean));
  const std::string scale = b.extra("x_scale", vector_tensor(in.scale));
  b.line(0, "def preprocess(self, x: Tensor) -> Tensor:");
  b.line(1, "if x.dim() > 2:");
  b.line(2, "x = torch.flatten(x, 1)");
  b.line(1, "assert x.dim() == 2 and x.size(1) == " + n + ", \"predictor.pt: x must be [N, " + n +
                "] raw inputs as stored in the dataset; got {}\".format(x.size())");
  b.line(1, "s = ((x.to(" + kScriptFloat64 + ") - " + mean + ") / " + scale + ").to(" + kScriptFloat32 + ")");
  const std::string chw = std::to_string(in.channels) + ", " + std::to_string(in.height) + ", " + std::to_string(in.width);
  if (in.kind == "grid_map") {
    const GridMap& g = in.grid_map;
    VED_CHECK(g.entry_cell.size() == g.entry_pixel.size() && static_cast<int>(g.pixel_count.size()) == g.n_pixels() &&
                  g.n_cells() == in.n_inputs,
              "export: the model's Map2Grid is inconsistent (" << g.entry_cell.size() << " entry cells, "
                                                               << g.entry_pixel.size() << " entry pixels, "
                                                               << g.pixel_count.size() << " pixel counts for "
                                                               << g.n_pixels() << " pixels, " << g.n_cells()
                                                               << " cells for " << in.n_inputs << " inputs)");
    const int64_t n_entries = static_cast<int64_t>(g.entry_cell.size());
    torch::Tensor cell = torch::empty({n_entries}, torch::kInt64), pixel = torch::empty({n_entries}, torch::kInt64);
    for (int64_t e = 0; e < n_entries; ++e) {
      cell[e] = g.entry_cell[e];
      pixel[e] = g.entry_pixel[e];
    }
    // Divisor per pixel: its number of entries, 1 outside (where the sum stays 0).
    torch::Tensor count = torch::empty({g.n_pixels()}, torch::kFloat32);
    for (int p = 0; p < g.n_pixels(); ++p) count[p] = static_cast<float>(std::max(1, g.pixel_count[p]));
    const std::string cells = b.extra("map_entry_cell", cell);
    const std::string pixels = b.extra("map_entry_pixel", pixel);
    const std::string counts = b.extra("map_pixel_count", count);
    b.line(1, "img = s.new_zeros([s.size(0), " + std::to_string(g.n_pixels()) + "])");
    b.line(1, "img = torch.index_add(img, 1, " + pixels + ", torch.index_select(s, 1, " + cells + "))");
    b.line(1, "return (img / " + counts + ").view([s.size(0), " + chw + "])");
  } else if (in.kind == "image") {
    b.line(1, "return s.view([s.size(0), " + chw + "])");
  } else {
    b.line(1, "return s");
  }
  b.blank();
}

std::vector<int64_t> encoder_input_shape(const ModelConfig& c) {
  if (c.encoder == "conv") return {c.input_channels, c.input_height, c.input_width};
  return {c.input_features};
}

torch::jit::Module build_encoder(const ModelMeta& meta, const ScriptWeights& w) {
  ScriptBuilder b(w);
  const ModelConfig& c = meta.config;
  emit_encode_std(b, c);
  const std::vector<int64_t> shape = encoder_input_shape(c);
  std::string cond = "x.dim() == " + std::to_string(shape.size() + 1);
  for (size_t i = 0; i < shape.size(); ++i)
    cond += " and x.size(" + std::to_string(i + 1) + ") == " + std::to_string(shape[i]);
  b.line(0, "def forward(self, x: Tensor) -> Tuple[Tensor, Tensor]:");
  b.line(1, "assert " + cond + ", \"encoder.pt: x must be the standardised network input " + shape_text(shape) +
                " (predictor.pt takes raw inputs); got {}\".format(x.size())");
  b.line(1, "return self._encode_std(x)");
  return b.build("Encoder");
}

torch::jit::Module build_decoder(const ModelMeta& meta, const ScriptWeights& w) {
  ScriptBuilder b(w);
  emit_decode_std(b, meta.config);
  emit_physical(b, meta.output);
  b.line(0, "def forward(self, z: Tensor) -> Tensor:");
  emit_check_z(b, meta.config, "decoder.pt");
  b.line(1, "return self._physical(self._decode_std(z), z)");
  return b.build("Decoder");
}

torch::jit::Module build_predictor(const ModelMeta& meta, const ScriptWeights& w) {
  ScriptBuilder b(w);
  emit_encode_std(b, meta.config);
  emit_decode_std(b, meta.config);
  emit_physical(b, meta.output);
  emit_preprocess(b, meta);
  b.line(0, "def encode(self, x: Tensor) -> Tuple[Tensor, Tensor]:");
  b.line(1, "return self._encode_std(self.preprocess(x))");
  b.blank();
  b.line(0, "def decode(self, z: Tensor) -> Tensor:");
  emit_check_z(b, meta.config, "predictor.pt");
  b.line(1, "return self._physical(self._decode_std(z), z)");
  b.blank();
  b.line(0, "def forward(self, x: Tensor) -> Tensor:");
  b.line(1, "mu, logvar = self.encode(x)");
  b.line(1, "return self._physical(self._decode_std(mu), x)");
  return b.build("Predictor");
}

std::string describe_json(const ModelMeta& meta, const ExportSummary& s) {
  using nlohmann::json;
  const ModelConfig& c = meta.config;
  const std::string r = std::to_string(c.latent), m = std::to_string(c.output_features);
  const std::string raw = "[N, " + std::to_string(meta.input.n_inputs) + "]";
  const std::string net = shape_text(s.encoder_input_shape);
  json j;
  j["format"] = "ved-export";
  j["version"] = 1;
  j["ved_version"] = VED_VERSION;
  j["torch_version"] = TORCH_VERSION;
  j["model"] = fs::absolute(s.model_path).lexically_normal().string();
  j["epoch"] = meta.epoch;
  j["latent"] = c.latent;
  j["encoder"] = c.encoder;
  j["input"] = {{"kind", meta.input.kind},
                {"n_inputs", meta.input.n_inputs},
                {"raw_shape", {-1, meta.input.n_inputs}},
                {"network_shape", json::array()}};
  j["input"]["network_shape"].push_back(-1);
  for (int64_t d : s.encoder_input_shape) j["input"]["network_shape"].push_back(d);
  if (meta.input.kind == "grid_map") {
    j["input"]["map2grid"] = {{"height", meta.input.grid_map.height},
                              {"width", meta.input.grid_map.width},
                              {"entries", meta.input.grid_map.entry_cell.size()},
                              {"filled_pixels", meta.input.grid_map.n_filled()}};
  }
  j["output"] = {{"n_outputs", c.output_features}, {"shape", {-1, c.output_features}}};
  j["files"] = {
      {"encoder.pt",
       {{"forward", "x " + net + " standardised network input (float32) -> (mu [N, " + r + "], logvar [N, " + r +
                        "]) float32; logvar = log sigma^2, clamped to [" + py_float(c.logvar_min) + ", " +
                        py_float(c.logvar_max) + "]"}}},
      {"decoder.pt", {{"forward", "z [N, " + r + "] -> y [N, " + m + "] in physical units (dtype of z)"}}},
      {"predictor.pt",
       {{"forward", "x " + raw + " raw inputs as stored in the dataset (physical units) -> y [N, " + m +
                        "] physical at z = mu(x) (dtype of x)"},
        {"encode", "x " + raw + " -> (mu [N, " + r + "], logvar [N, " + r + "]) float32"},
        {"decode", "z [N, " + r + "] -> y [N, " + m + "] physical (dtype of z)"},
        {"preprocess", "x " + raw + " -> the network input " + net + " float32 (standardisation" +
                           (meta.input.kind == "grid_map" ? std::string(", Map2Grid with 0 outside the mesh") : "") +
                           ")"}}},
  };
  j["architecture"] = json::parse(to_json(c));
  return j.dump(2) + "\n";
}

// Saves a module through a temporary; `out` is committed by the caller.
void save_module_to(torch::jit::Module& m, AtomicOutput& out, const std::string& json) {
  torch::jit::ExtraFilesMap extra{{"ved.json", json}};
  try {
    m.save(out.temp_path(), extra);
  } catch (const std::exception& e) {
    VED_FAIL(out.final_path() << ": could not write the TorchScript module: " << e.what());
  }
}

}  // namespace

ExportSummary export_torchscript(const std::string& model, const std::string& out_dir) {
  VED_CHECK(!out_dir.empty(), "--out is empty; give the folder for the exported modules");
  ExportSummary s;
  s.model_path = resolve_model_path(model);

  // 1. The trained model, as TrainedModel loads it.
  auto f = h5::File::open_read(s.model_path);
  ModelMeta meta = read_model_meta(f);
  Ved net(meta.config);
  load_module(f, "", *net);
  net->eval();
  const ScriptWeights w = ScriptWeights::of(*net);

  const ModelConfig& c = meta.config;
  VED_CHECK(meta.output.mean.size() == c.output_features && meta.output.scale.size() == c.output_features,
            s.model_path << ": the output transform has " << meta.output.mean.size() << " values; expected m = "
                         << c.output_features);
  VED_CHECK(meta.input.mean.size() == meta.input.n_inputs && meta.input.scale.size() == meta.input.n_inputs,
            s.model_path << ": the input transform has " << meta.input.mean.size() << " values; expected n = "
                         << meta.input.n_inputs);
  VED_CHECK(meta.input.n_model_inputs() == (c.encoder == "conv" ? static_cast<int64_t>(c.input_channels) *
                                                                      c.input_height * c.input_width
                                                                : static_cast<int64_t>(c.input_features)),
            s.model_path << ": the input transform gives " << meta.input.n_model_inputs()
                         << " values per sample but the " << c.encoder << " encoder takes a different size");
  s.latent = c.latent;
  s.n_inputs = meta.input.n_inputs;
  s.n_outputs = c.output_features;
  s.input_kind = meta.input.kind;
  s.encoder_input_shape = encoder_input_shape(c);

  // 2. The modules.
  torch::jit::Module encoder = build_encoder(meta, w);
  torch::jit::Module decoder = build_decoder(meta, w);
  torch::jit::Module predictor = build_predictor(meta, w);

  // 3. The files: the modules go to temporaries, then are renamed; export.json comes last,
  // and the one of an earlier export goes first, so that export.json marks a complete set.
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  VED_CHECK(fs::is_directory(out_dir), "--out " << out_dir << ": cannot create this folder"
                                                << (ec ? " (" + ec.message() + ")" : std::string())
                                                << "; expected a writable folder path");
  const fs::path dir(out_dir);
  s.encoder_path = (dir / "encoder.pt").string();
  s.decoder_path = (dir / "decoder.pt").string();
  s.predictor_path = (dir / "predictor.pt").string();
  s.json_path = (dir / "export.json").string();
  s.json = describe_json(meta, s);
  AtomicOutput enc_out(s.encoder_path), dec_out(s.decoder_path), pred_out(s.predictor_path);
  save_module_to(encoder, enc_out, s.json);
  save_module_to(decoder, dec_out, s.json);
  save_module_to(predictor, pred_out, s.json);
  fs::remove(s.json_path, ec);
  VED_CHECK(!fs::exists(s.json_path), s.json_path << ": cannot replace the export.json of an earlier export"
                                                  << (ec ? " (" + ec.message() + ")" : std::string()));
  enc_out.commit();
  dec_out.commit();
  pred_out.commit();
  write_text_atomic(s.json_path, s.json);
  return s;
}

}  // namespace ved
