#include "ved/nn/script.hpp"

#include <algorithm>
#include <iomanip>

#include "ved/util/error.hpp"

namespace ved {
namespace {

// Normalisation constants of make_norm (model.cpp): LibTorch's BatchNorm2d and GroupNorm
// defaults, and min(8, C) groups.
constexpr double kNormEps = 1e-5;
constexpr int kMaxGroups = 8;

std::string activation_call(const std::string& name, const std::string& x) {
  switch (parse_activation(name)) {
    case Activation::kRelu: return "torch.relu(" + x + ")";
    case Activation::kLeakyRelu: return "torch.leaky_relu(" + x + ", 0.01)";
    case Activation::kElu: return "torch.elu(" + x + ")";
    case Activation::kGelu: return "torch.gelu(" + x + ")";
    case Activation::kSilu: return "torch.silu(" + x + ")";
    case Activation::kTanh: return "torch.tanh(" + x + ")";
  }
  return x;
}

// conv -> optional normalisation, as Ved's conv_forward + maybe_norm (padding kernel / 2).
std::string conv_norm(ScriptBuilder& b, const ModelConfig& c, const std::string& conv, const std::string& norm,
                      int channels, int stride, const std::string& x) {
  const int pad = c.kernel / 2;
  std::string h = "torch.conv2d(" + x + ", " + b.ref(conv + ".weight") + ", " + b.ref(conv + ".bias") + ", [" +
                  std::to_string(stride) + ", " + std::to_string(stride) + "], [" + std::to_string(pad) + ", " +
                  std::to_string(pad) + "])";
  if (c.norm == "batch")
    return "torch.batch_norm(" + h + ", " + b.ref(norm + ".weight") + ", " + b.ref(norm + ".bias") + ", " +
           b.ref(norm + ".running_mean") + ", " + b.ref(norm + ".running_var") + ", False, 0.1, " +
           py_float(kNormEps) + ", False)";
  if (c.norm == "group")
    return "torch.group_norm(" + h + ", " + std::to_string(std::min(kMaxGroups, channels)) + ", " +
           b.ref(norm + ".weight") + ", " + b.ref(norm + ".bias") + ", " + py_float(kNormEps) + ", False)";
  return h;
}

std::string linear(ScriptBuilder& b, const std::string& layer, const std::string& x) {
  return "torch.linear(" + x + ", " + b.ref(layer + ".weight") + ", " + b.ref(layer + ".bias") + ")";
}

}  // namespace

const std::string kScriptFloat32 = std::to_string(static_cast<int>(torch::kFloat32));
const std::string kScriptFloat64 = std::to_string(static_cast<int>(torch::kFloat64));

std::string py_float(double v) {
  std::ostringstream os;
  os << std::setprecision(17) << v;
  std::string s = os.str();
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

ScriptWeights ScriptWeights::of(const VedImpl& net) {
  ScriptWeights w;
  for (const auto& p : net.named_parameters()) w.params[p.key()] = p.value();
  for (const auto& p : net.named_buffers()) w.buffers[p.key()] = p.value();
  return w;
}

std::string ScriptBuilder::ref(const std::string& torch_name) {
  VED_CHECK(w_.params.count(torch_name) || w_.buffers.count(torch_name),
            "TorchScript: the model has no tensor '" << torch_name
                                                     << "' for its architecture; the model file and this ved "
                                                        "version disagree");
  std::string attr = torch_name;
  std::replace(attr.begin(), attr.end(), '.', '_');
  used_[attr] = torch_name;
  return "self." + attr;
}

std::string ScriptBuilder::extra(const std::string& attr, const torch::Tensor& t) {
  extra_[attr] = t;
  return "self." + attr;
}

torch::jit::Module ScriptBuilder::build(const std::string& class_name) const {
  torch::jit::Module m(c10::QualifiedName("__torch__.ved." + class_name));
  for (const auto& [attr, name] : used_) {
    auto p = w_.params.find(name);
    if (p != w_.params.end())
      m.register_parameter(attr, p->second.detach().clone().set_requires_grad(true), /*is_buffer=*/false);
    else
      m.register_buffer(attr, w_.buffers.at(name).detach().clone());
  }
  for (const auto& [attr, t] : extra_) m.register_buffer(attr, t);
  try {
    m.define(src_.str());
  } catch (const std::exception& e) {  // c10::Error or torch::jit::ErrorReport
    VED_FAIL("the TorchScript of " << class_name << " does not compile (a bug in ved): " << e.what()
                                   << "\n--- source ---\n" << src_.str());
  }
  m.eval();
  return m;
}

void emit_encode_std(ScriptBuilder& b, const ModelConfig& c) {
  auto act = [&](const std::string& x) { return activation_call(c.activation, x); };
  b.line(0, "def _encode_std(self, x: Tensor) -> Tuple[Tensor, Tensor]:");
  b.line(1, "h = x.to(" + kScriptFloat32 + ")");
  if (c.encoder == "conv") {
    b.line(1, "h = " + act(conv_norm(b, c, "stem", "stem_norm", c.stem_channels, 2, "h")));
    int ch = c.stem_channels;
    for (size_t s = 0; s < c.stages.size(); ++s) {
      const std::string stage = "stage" + std::to_string(s);
      for (int k = 0; k < c.blocks; ++k) {
        // ResidualBlock: act(x + norm2(conv2(act(norm1(conv1(x))))))
        const std::string blk = stage + "_block" + std::to_string(k);
        b.line(1, "r = " + act(conv_norm(b, c, blk + ".conv1", blk + ".norm1", ch, 1, "h")));
        b.line(1, "r = " + conv_norm(b, c, blk + ".conv2", blk + ".norm2", ch, 1, "r"));
        b.line(1, "h = " + act(c.residual ? "h + r" : "r"));
      }
      b.line(1, "h = " + act(conv_norm(b, c, stage + "_down", stage + "_down_norm", c.stages[s], 2, "h")));
      ch = c.stages[s];
    }
    b.line(1, "h = torch.flatten(h, 1)");
  }
  for (size_t i = 0; i < c.encoder_hidden.size(); ++i)
    b.line(1, "h = " + act(linear(b, "encoder_fc" + std::to_string(i), "h")));
  b.line(1, "out = " + linear(b, "head", "h"));
  const std::string r = std::to_string(c.latent);
  b.line(1, "mu = torch.narrow(out, 1, 0, " + r + ")");
  b.line(1, "logvar = torch.clamp(torch.narrow(out, 1, " + r + ", " + r + "), " + py_float(c.logvar_min) + ", " +
                py_float(c.logvar_max) + ")");
  b.line(1, "return mu, logvar");
  b.blank();
}

void emit_decode_std(ScriptBuilder& b, const ModelConfig& c) {
  b.line(0, "def _decode_std(self, z: Tensor) -> Tensor:");
  b.line(1, "h = z.to(" + kScriptFloat32 + ")");
  for (size_t i = 0; i < c.decoder_hidden.size(); ++i)
    b.line(1, "h = " + activation_call(c.activation, linear(b, "decoder_fc" + std::to_string(i), "h")));
  b.line(1, "return " + linear(b, "decoder_out", "h"));
  b.blank();
}

torch::jit::Module inference_module(const VedImpl& net) {
  VED_CHECK(!net.is_training(), "inference_module: the network must be in eval mode");
  ScriptBuilder b(ScriptWeights::of(net));
  emit_encode_std(b, net.config());
  emit_decode_std(b, net.config());
  b.line(0, "def forward(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor]:");
  b.line(1, "mu, logvar = self._encode_std(x)");
  b.line(1, "return mu, logvar, self._decode_std(mu)");
  torch::jit::Module m = b.build("Inference");
  torch::jit::Module frozen = torch::jit::freeze(m);
  return torch::jit::optimize_for_inference(frozen);
}

}  // namespace ved
