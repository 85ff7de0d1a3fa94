#pragma once
// The VED network as TorchScript source: the layers of Ved::encode and Ved::decode
// (model.cpp) written out, so that torch::jit can save, freeze and optimise them.
// `ved export` builds its modules from these pieces (export/torchscript.cpp);
// TrainedModel runs CPU inference through inference_module().
//
//   ScriptBuilder b(ScriptWeights::of(*net));
//   emit_encode_std(b, config);                  // def _encode_std(self, x) -> (mu, logvar)
//   b.line(0, "def forward(self, x: Tensor) -> Tuple[Tensor, Tensor]:");
//   b.line(1, "return self._encode_std(x)");
//   torch::jit::Module m = b.build("Encoder");
#include <torch/script.h>  // torch::jit::Module

#include <map>
#include <sstream>
#include <string>

#include "ved/nn/model.hpp"

namespace ved {

// dtypes in TorchScript source: without Python's resolver `torch.float32` is not a name
// there, so they are written as the ScalarType numbers TorchScript uses for them.
extern const std::string kScriptFloat32;
extern const std::string kScriptFloat64;

// A Python float literal that reads back as the same double.
std::string py_float(double v);

// The trained weights by their torch names ("stem.weight", "stage0_block0.norm1.running_mean").
struct ScriptWeights {
  std::map<std::string, torch::Tensor> params;   // named_parameters()
  std::map<std::string, torch::Tensor> buffers;  // named_buffers(): normalisation statistics
  static ScriptWeights of(const VedImpl& net);
};

// TorchScript source and the tensors it uses: every tensor the source names through ref() is
// registered on the module (as a parameter or a buffer, as in Ved), and nothing else.
class ScriptBuilder {
 public:
  explicit ScriptBuilder(ScriptWeights w) : w_(std::move(w)) {}

  // "self.<attr>" for a tensor of the trained Ved; records it for registration.
  std::string ref(const std::string& torch_name);
  // An extra buffer (transforms, Map2Grid entries), registered under `attr`.
  std::string extra(const std::string& attr, const torch::Tensor& t);

  void line(int indent, const std::string& text) { src_ << std::string(4 * indent, ' ') << text << '\n'; }
  void blank() { src_ << '\n'; }

  // The module __torch__.ved.<class_name> in eval mode; a source that does not compile is
  // a bug in ved and says so.
  torch::jit::Module build(const std::string& class_name) const;

 private:
  ScriptWeights w_;
  std::map<std::string, std::string> used_;  // attr -> torch name
  std::map<std::string, torch::Tensor> extra_;
  std::ostringstream src_;
};

// def _encode_std(self, x: Tensor) -> Tuple[Tensor, Tensor]: the network input as
// Ved::encode sees it -> (mu, logvar), float32.
void emit_encode_std(ScriptBuilder& b, const ModelConfig& c);
// def _decode_std(self, z: Tensor) -> Tensor: z -> standardised y, float32 (Ved::decode).
void emit_decode_std(ScriptBuilder& b, const ModelConfig& c);

// forward(x) -> (mu, logvar, decode(mu)) on standardised network inputs, frozen
// (weights as constants) and passed through torch::jit::optimize_for_inference, which
// on CPU prepacks the convolution weights for oneDNN and fuses convolution + ReLU.
// The network must be in eval mode; CPU only.
torch::jit::Module inference_module(const VedImpl& net);

}  // namespace ved
