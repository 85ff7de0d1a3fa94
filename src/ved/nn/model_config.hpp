#pragma once
// The VED architecture as plain data (no torch): what `ved train` builds, what a model
// file records, and what `ved info` can print without loading LibTorch.
//
//   ModelConfig c;                      // defaults (docs/method.md §3): conv encoder, r = 50
//   c.input_channels = 1; c.input_height = 69; c.input_width = 54; c.output_features = 323;
//   int64_t n = count_parameters(c);    // 343,351
//   std::string j = to_json(c);         // stored with the model
#include <cstdint>
#include <string>
#include <vector>

namespace ved {

struct ModelConfig {
  // What the encoder sees. "conv": images [C, H, W]; "mlp": vectors [input_features].
  std::string encoder = "conv";
  int input_channels = 1;
  int input_height = 0;
  int input_width = 0;
  int input_features = 0;          // mlp only
  int output_features = 0;         // m
  int latent = 50;                 // r

  // Convolutional encoder (docs/method.md §3): a stride-2 stem, then per stage `blocks` residual
  // blocks at the incoming width followed by a stride-2 convolution to the stage's width.
  int stem_channels = 16;
  std::vector<int> stages = {16, 32, 64};
  int blocks = 1;                  // residual blocks per stage
  bool residual = true;            // false: the same blocks without their skip connection (plain)
  int kernel = 3;                  // odd; padding kernel / 2
  // Fully connected layers between the flattened features (or the MLP input) and the
  // μ / log σ² head. Empty for the default conv encoder.
  std::vector<int> encoder_hidden = {};
  std::vector<int> decoder_hidden = {256, 256};
  std::string activation = "relu"; // relu | leaky_relu | elu | gelu | silu | tanh
  std::string norm = "none";       // none | batch | group (conv layers only)
  double logvar_min = -20.0;       // log σ² is clamped to [logvar_min, logvar_max]
  double logvar_max = 10.0;
};

// The encoder's spatial size after the stem and each stage (for errors and `ved info`).
struct ConvShape {
  int channels = 0;
  int height = 0;
  int width = 0;
  int64_t features() const { return static_cast<int64_t>(channels) * height * width; }
};
std::vector<ConvShape> conv_shapes(const ModelConfig& c);  // stem, then one per stage

// Number of trainable parameters, from the formulas (independent of torch; the tests
// compare it with the module).
int64_t count_parameters(const ModelConfig& c);

// Throws ved::Error naming the bad field and the valid choices.
void validate(const ModelConfig& c);

std::string to_json(const ModelConfig& c);
ModelConfig model_config_from_json(const std::string& text);

// "16,32,64" -> {16, 32, 64}; "" -> {}. `what` names the option in errors.
std::vector<int> parse_int_list(const std::string& text, const std::string& what);
std::string format_int_list(const std::vector<int>& v);

}  // namespace ved
