// The VED network: the default architecture (docs/method.md §3) exactly, shapes, clamping, reparameterisation.
#include <gtest/gtest.h>

#include "ved/nn/model.hpp"
#include "ved/util/error.hpp"

namespace ved {
namespace {

ModelConfig hanford_config() {
  ModelConfig c;  // the defaults of docs/method.md §3
  c.input_height = 69;
  c.input_width = 54;
  c.output_features = 323;
  return c;
}

}  // namespace

TEST(VedModel, Spec8ReferenceHas343351Parameters) {
  ModelConfig c = hanford_config();
  // docs/method.md §3: 35x27 -> 18x14 -> 9x7 -> 5x4, 64 channels, 1280 features.
  std::vector<ConvShape> s = conv_shapes(c);
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].height, 35);
  EXPECT_EQ(s[0].width, 27);
  EXPECT_EQ(s[1].height, 18);
  EXPECT_EQ(s[1].width, 14);
  EXPECT_EQ(s[2].height, 9);
  EXPECT_EQ(s[2].width, 7);
  EXPECT_EQ(s[3].height, 5);
  EXPECT_EQ(s[3].width, 4);
  EXPECT_EQ(s[3].features(), 1280);
  EXPECT_EQ(count_parameters(c), 343351);
  torch::manual_seed(0);
  Ved model(c);
  EXPECT_EQ(count_parameters(*model), 343351);
}

TEST(VedModel, FormulaCountMatchesModuleForOtherArchitectures) {
  std::vector<ModelConfig> configs;
  ModelConfig a = hanford_config();
  a.blocks = 2;
  a.norm = "batch";
  a.encoder_hidden = {128};
  a.decoder_hidden = {64};
  configs.push_back(a);
  ModelConfig b = hanford_config();
  b.stages = {8, 16, 32, 64};
  b.stem_channels = 8;
  b.norm = "group";
  b.kernel = 5;
  b.activation = "silu";
  configs.push_back(b);
  ModelConfig m;
  m.encoder = "mlp";
  m.input_features = 1475;
  m.encoder_hidden = {512, 256};
  m.output_features = 323;
  m.latent = 7;
  configs.push_back(m);
  for (const ModelConfig& c : configs) {
    Ved model(c);
    EXPECT_EQ(count_parameters(*model), count_parameters(c)) << to_json(c);
  }
}

TEST(VedModel, ShapesClampAndReparameterisation) {
  ModelConfig c = hanford_config();
  c.latent = 5;
  torch::manual_seed(1);
  Ved model(c);
  torch::Tensor x = torch::randn({3, 1, 69, 54});
  Encoding e = model->encode(x);
  EXPECT_EQ(e.mu.sizes(), torch::IntArrayRef({3, 5}));
  EXPECT_EQ(e.logvar.sizes(), torch::IntArrayRef({3, 5}));
  // z = μ when ε = 0; the decoder maps [B, r] to [B, m].
  VedOutput out = model->forward(x, torch::zeros({3, 5}));
  EXPECT_TRUE(torch::allclose(out.y, model->decode(e.mu)));
  EXPECT_EQ(out.y.sizes(), torch::IntArrayRef({3, 323}));
  // ε = 1 moves z by σ = exp(½ log σ²).
  torch::Tensor shift = torch::ones({3, 5});
  VedOutput out1 = model->forward(x, shift);
  EXPECT_TRUE(torch::allclose(out1.y, model->decode(e.mu + torch::exp(0.5 * e.logvar))));
  // A huge head bias drives log σ² to the clamp.
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model->named_parameters())
      if (p.key() == "head.bias") p.value().narrow(0, 5, 5).fill_(1e4);
  }
  EXPECT_NEAR(model->encode(x).logvar.max().item<double>(), 10.0, 1e-6);
}

// Every activation: LibTorch 1.13's own gelu backward was wrong for channels-last tensors
// (gradients of 1e13 at initialisation), which this caught.
TEST(VedModel, ChannelsLastComputesTheSameAsContiguous) {
  for (const char* act : {"relu", "leaky_relu", "elu", "gelu", "silu", "tanh"}) {
    SCOPED_TRACE(act);
    ModelConfig c = hanford_config();
    c.latent = 4;
    c.activation = act;
    torch::manual_seed(2);
    Ved model(c);
    EXPECT_TRUE(model->channels_last());
    for (const auto& p : model->parameters()) EXPECT_TRUE(p.is_contiguous());  // weights stay NCHW
    torch::Tensor x = torch::randn({8, 1, 69, 54}), eps = torch::randn({8, 4});
    VedOutput a = model->forward(x, eps);
    a.y.square().sum().backward();
    std::vector<torch::Tensor> grads;
    for (const auto& p : model->parameters()) grads.push_back(p.grad().clone());
    model->zero_grad();
    model->set_channels_last(false);
    VedOutput b = model->forward(x, eps);
    b.y.square().sum().backward();
    EXPECT_TRUE(torch::allclose(a.y, b.y, 1e-4, 1e-5));
    auto params = model->parameters();
    for (size_t i = 0; i < params.size(); ++i)
      EXPECT_TRUE(torch::allclose(grads[i], params[i].grad(), 1e-3, 1e-4))
          << "parameter " << i << ": largest difference " << (grads[i] - params[i].grad()).abs().max().item<double>();
  }
}

TEST(VedModel, ResidualBlockIsIdentityPlusActivationWhenSecondConvIsZero) {
  ResidualBlock block(4, 3, Activation::kRelu, "none");
  {
    torch::NoGradGuard no_grad;
    for (auto& p : block->named_parameters())
      if (p.key().rfind("conv2", 0) == 0) p.value().zero_();
  }
  torch::Tensor x = torch::randn({2, 4, 6, 5});
  EXPECT_TRUE(torch::allclose(block->forward(x), torch::relu(x)));
}

TEST(VedModel, MlpEncoderAndErrors) {
  ModelConfig c;
  c.encoder = "mlp";
  c.input_features = 10;
  c.encoder_hidden = {8};
  c.output_features = 3;
  c.latent = 2;
  Ved model(c);
  EXPECT_EQ(model->forward(torch::randn({4, 10}), torch::randn({4, 2})).y.sizes(), torch::IntArrayRef({4, 3}));
  EXPECT_THROW(model->encode(torch::randn({4, 11})), Error);
  ModelConfig bad = hanford_config();
  bad.activation = "sigmoidish";
  try {
    validate(bad);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("activation 'sigmoidish' is not one of: relu"), std::string::npos) << e.what();
  }
  ModelConfig tiny = hanford_config();
  tiny.input_height = 2;
  tiny.input_width = 2;
  tiny.stages = {8, 8, 8, 8, 8, 8};
  EXPECT_NO_THROW(validate(tiny));  // stride-2 convolutions with padding never reach 0 pixels
}

TEST(VedModel, ConfigJsonRoundTrip) {
  ModelConfig c = hanford_config();
  c.stages = {8, 16};
  c.decoder_hidden = {};
  c.norm = "group";
  ModelConfig d = model_config_from_json(to_json(c));
  EXPECT_EQ(to_json(d), to_json(c));
  EXPECT_EQ(parse_int_list(" 16, 32 ,64", "--x"), (std::vector<int>{16, 32, 64}));
  EXPECT_EQ(parse_int_list("[16,32]", "--x"), (std::vector<int>{16, 32}));
  EXPECT_TRUE(parse_int_list("", "--x").empty());
  EXPECT_THROW(parse_int_list("16,a", "--encoder-stages"), Error);
}

TEST(VedModel, DeviceParsing) {
  EXPECT_EQ(parse_device("cpu").type(), torch::kCPU);
  if (!torch::cuda::is_available()) {
    try {
      parse_device("cuda");
      FAIL();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("no CUDA support"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(parse_device("tpu"), Error);
}

}  // namespace ved
