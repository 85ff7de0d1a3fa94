#include "ved/nn/model_config.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>
#include <optional>
#include <sstream>

#include "ved/util/error.hpp"
#include "ved/util/parse.hpp"

namespace ved {
namespace {

const std::vector<std::string> kActivations = {"relu", "leaky_relu", "elu", "gelu", "silu", "tanh"};
const std::vector<std::string> kNorms = {"none", "batch", "group"};

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& e : v) s += (s.empty() ? "" : ", ") + e;
  return s;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

int down(int n, int k) { return (n + 2 * (k / 2) - k) / 2 + 1; }  // stride-2 convolution

int64_t linear_params(int64_t in, int64_t out) { return in * out + out; }
int64_t conv_params(int64_t in, int64_t out, int64_t k, bool norm) {
  return in * out * k * k + out + (norm ? 2 * out : 0);
}

}  // namespace

std::vector<ConvShape> conv_shapes(const ModelConfig& c) {
  std::vector<ConvShape> s;
  ConvShape cur{c.stem_channels, down(c.input_height, c.kernel), down(c.input_width, c.kernel)};
  s.push_back(cur);
  for (int ch : c.stages) {
    cur = {ch, down(cur.height, c.kernel), down(cur.width, c.kernel)};
    s.push_back(cur);
  }
  return s;
}

void validate(const ModelConfig& c) {
  VED_CHECK(c.encoder == "conv" || c.encoder == "mlp",
            "encoder '" << c.encoder << "' is not one of: conv, mlp");
  VED_CHECK(c.latent >= 1, "latent dimension " << c.latent << " must be at least 1");
  VED_CHECK(c.output_features >= 1, "the model has " << c.output_features << " outputs; expected at least 1");
  VED_CHECK(contains(kActivations, c.activation),
            "activation '" << c.activation << "' is not one of: " << join(kActivations));
  VED_CHECK(contains(kNorms, c.norm), "norm '" << c.norm << "' is not one of: " << join(kNorms));
  VED_CHECK(c.logvar_min < c.logvar_max,
            "log-variance clamp [" << c.logvar_min << ", " << c.logvar_max << "] is empty");
  for (int h : c.encoder_hidden) VED_CHECK(h >= 1, "encoder hidden width " << h << " must be at least 1");
  for (int h : c.decoder_hidden) VED_CHECK(h >= 1, "decoder hidden width " << h << " must be at least 1");
  if (c.encoder == "mlp") {
    VED_CHECK(c.input_features >= 1, "the MLP encoder needs input_features >= 1 (got " << c.input_features << ")");
    return;
  }
  VED_CHECK(c.input_channels >= 1 && c.input_height >= 1 && c.input_width >= 1,
            "the conv encoder needs an image input; got " << c.input_channels << "x" << c.input_height << "x"
                                                          << c.input_width);
  VED_CHECK(c.kernel >= 1 && c.kernel % 2 == 1, "kernel size " << c.kernel << " must be odd and positive");
  VED_CHECK(c.stem_channels >= 1, "stem channels " << c.stem_channels << " must be at least 1");
  VED_CHECK(c.blocks >= 0, "residual blocks per stage " << c.blocks << " must be at least 0");
  for (int ch : c.stages) VED_CHECK(ch >= 1, "stage width " << ch << " must be at least 1");
  if (c.norm == "group")
    for (int ch : c.stages)
      VED_CHECK(ch % std::min(8, ch) == 0 && c.stem_channels % std::min(8, c.stem_channels) == 0,
                "group norm uses min(8, channels) groups; widths must be divisible by it (got " << ch << ")");
  int h = c.input_height, w = c.input_width;
  for (const ConvShape& s : conv_shapes(c)) {
    VED_CHECK(s.height >= 1 && s.width >= 1,
              "a " << h << "x" << w << " image is too small for " << c.stages.size()
                   << " stride-2 stages; use fewer --encoder-stages");
  }
}

int64_t count_parameters(const ModelConfig& c) {
  const bool norm = c.norm != "none";
  const int64_t k = c.kernel;
  int64_t n = 0;
  int64_t features = 0;
  if (c.encoder == "conv") {
    n += conv_params(c.input_channels, c.stem_channels, k, norm);
    int64_t ch = c.stem_channels;
    for (int out : c.stages) {
      n += c.blocks * 2 * conv_params(ch, ch, k, norm);
      n += conv_params(ch, out, k, norm);
      ch = out;
    }
    features = conv_shapes(c).back().features();
  } else {
    features = c.input_features;
  }
  for (int h : c.encoder_hidden) {
    n += linear_params(features, h);
    features = h;
  }
  n += linear_params(features, 2 * static_cast<int64_t>(c.latent));
  int64_t in = c.latent;
  for (int h : c.decoder_hidden) {
    n += linear_params(in, h);
    in = h;
  }
  n += linear_params(in, c.output_features);
  return n;
}

std::string to_json(const ModelConfig& c) {
  nlohmann::json j;
  j["encoder"] = c.encoder;
  j["input_channels"] = c.input_channels;
  j["input_height"] = c.input_height;
  j["input_width"] = c.input_width;
  j["input_features"] = c.input_features;
  j["output_features"] = c.output_features;
  j["latent"] = c.latent;
  j["stem_channels"] = c.stem_channels;
  j["stages"] = c.stages;
  j["blocks"] = c.blocks;
  j["residual"] = c.residual;
  j["kernel"] = c.kernel;
  j["encoder_hidden"] = c.encoder_hidden;
  j["decoder_hidden"] = c.decoder_hidden;
  j["activation"] = c.activation;
  j["norm"] = c.norm;
  j["logvar_min"] = c.logvar_min;
  j["logvar_max"] = c.logvar_max;
  return j.dump();
}

ModelConfig model_config_from_json(const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    VED_FAIL("model config is not valid JSON: " << e.what());
  }
  ModelConfig c;
  try {
    c.encoder = j.at("encoder").get<std::string>();
    c.input_channels = j.at("input_channels").get<int>();
    c.input_height = j.at("input_height").get<int>();
    c.input_width = j.at("input_width").get<int>();
    c.input_features = j.at("input_features").get<int>();
    c.output_features = j.at("output_features").get<int>();
    c.latent = j.at("latent").get<int>();
    c.stem_channels = j.at("stem_channels").get<int>();
    c.stages = j.at("stages").get<std::vector<int>>();
    c.blocks = j.at("blocks").get<int>();
    c.residual = j.value("residual", true);  // files written before the option have skips
    c.kernel = j.at("kernel").get<int>();
    c.encoder_hidden = j.at("encoder_hidden").get<std::vector<int>>();
    c.decoder_hidden = j.at("decoder_hidden").get<std::vector<int>>();
    c.activation = j.at("activation").get<std::string>();
    c.norm = j.at("norm").get<std::string>();
    c.logvar_min = j.at("logvar_min").get<double>();
    c.logvar_max = j.at("logvar_max").get<double>();
  } catch (const nlohmann::json::exception& e) {
    VED_FAIL("model config is incomplete or has a wrong type: " << e.what());
  }
  return c;
}

std::vector<int> parse_int_list(const std::string& text, const std::string& what) {
  std::vector<int> out;
  for (const std::string& item : split_list(text, " \t[]")) {
    const std::optional<int64_t> v =
        try_parse_integer(item, std::numeric_limits<int>::min(), std::numeric_limits<int>::max());
    VED_CHECK(v, what << ": '" << item << "' in '" << text
                      << "' is not an integer; expected a comma list such as 16,32,64");
    out.push_back(static_cast<int>(*v));
  }
  return out;
}

std::string format_int_list(const std::vector<int>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s;
}

}  // namespace ved
