#pragma once
// `ved export`: a trained VED as TorchScript modules that run without ved, loadable with
// torch.jit.load (Python) and torch::jit::load (C++). No torch in this header.
//
//   ExportSummary s = export_torchscript("run/", "exported/");
//   // exported/encoder.pt    standardised network input -> (mu, logvar)
//   // exported/decoder.pt    z [N, r] -> y [N, m] in physical units
//   // exported/predictor.pt  raw x [N, n] (physical, as in the dataset) -> y [N, m] at z = mu(x);
//   //                        also .encode(x) -> (mu, logvar), .decode(z), .preprocess(x)
//   // exported/export.json   sizes, shapes, which file does what (also inside each .pt as
//   //                        the extra file "ved.json")
//
// Python:
//   p = torch.jit.load("exported/predictor.pt")
//   with torch.no_grad(): y = p(torch.from_numpy(x))      # float64 in -> float64 out
//
// The modules mirror Ved::encode/decode (nn/model.cpp) for the stored architecture, with
// copies of the trained weights; the predictor also holds the input standardisation and
// the Map2Grid cell -> pixel entries (train/preprocess.cpp) as buffers. Physical outputs
// have the dtype of the input (float32 or float64); the network itself runs in float32.
#include <cstdint>
#include <string>
#include <vector>

namespace ved {

struct ExportSummary {
  std::string model_path;        // the model file read (RUN/model.h5 or its checkpoint)
  std::string encoder_path;      // OUT/encoder.pt
  std::string decoder_path;      // OUT/decoder.pt
  std::string predictor_path;    // OUT/predictor.pt
  std::string json_path;         // OUT/export.json
  int latent = 0;                // r
  int64_t n_inputs = 0;          // n: raw inputs per sample (cells or pixels)
  int64_t n_outputs = 0;         // m
  std::string input_kind;        // grid_map | image | vector
  std::vector<int64_t> encoder_input_shape;  // per sample: [C, H, W] (conv) or [n] (mlp)
  std::string json;              // the text of export.json
};

// Reads `model` (a run folder or a model/checkpoint file) and writes the three modules and
// export.json into `out_dir` (created if missing). Every file is written to a temporary
// and renamed; export.json comes last, so a folder with export.json is complete.
// Throws ved::Error naming the file and what was expected.
ExportSummary export_torchscript(const std::string& model, const std::string& out_dir);

}  // namespace ved
