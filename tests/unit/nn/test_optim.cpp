// Our Adam/AdamW (checkpointable state) must follow LibTorch's optimisers step for step,
// gradient clipping must scale to the requested norm, and the mixed-precision scope must
// switch autocast on and off.
#include <gtest/gtest.h>

#include "ved/nn/optim.hpp"
#include "ved/nn/precision.hpp"
#include "ved/util/error.hpp"

namespace ved {
namespace {

// A few steps of a quartic loss from the same start with both optimisers.
void compare_with_torch(bool decoupled, double weight_decay) {
  torch::manual_seed(11);
  torch::Tensor start = torch::randn({6, 3}, torch::kFloat64);
  torch::Tensor target = torch::randn({6, 3}, torch::kFloat64);
  torch::Tensor a = start.clone().requires_grad_(), b = start.clone().requires_grad_();
  AdamOptions o;
  o.lr = 0.05;
  o.weight_decay = weight_decay;
  o.decoupled = decoupled;
  Adam ours({a}, o);
  std::unique_ptr<torch::optim::Optimizer> ref;
  if (decoupled)
    ref = std::make_unique<torch::optim::AdamW>(std::vector<torch::Tensor>{b},
                                                torch::optim::AdamWOptions(0.05).weight_decay(weight_decay));
  else
    ref = std::make_unique<torch::optim::Adam>(std::vector<torch::Tensor>{b},
                                               torch::optim::AdamOptions(0.05).weight_decay(weight_decay));
  for (int step = 0; step < 7; ++step) {
    ours.zero_grad();
    ref->zero_grad();
    (a - target).pow(4).sum().backward();
    (b - target).pow(4).sum().backward();
    ours.step();
    ref->step();
  }
  EXPECT_TRUE(torch::allclose(a, b, 1e-13, 1e-13)) << (a - b).abs().max().item<double>();
  EXPECT_EQ(ours.steps(), 7);
}

}  // namespace

TEST(Adam, MatchesLibTorchAdam) { compare_with_torch(false, 0.0); }
TEST(Adam, MatchesLibTorchAdamWithL2) { compare_with_torch(false, 0.1); }
TEST(Adam, MatchesLibTorchAdamW) { compare_with_torch(true, 0.1); }

TEST(Adam, RestoredStateContinuesIdentically) {
  torch::Tensor a = torch::ones({4}, torch::kFloat64).requires_grad_();
  Adam one({a}, {});
  for (int i = 0; i < 3; ++i) {
    one.zero_grad();
    (a * torch::arange(4, torch::kFloat64)).square().sum().backward();
    one.step();
  }
  torch::Tensor b = a.detach().clone().requires_grad_();
  Adam two({b}, {});
  two.set_state(one.steps(), one.exp_avg(), one.exp_avg_sq());
  for (Adam* opt : {&one, &two}) {
    torch::Tensor p = opt->params()[0];
    opt->zero_grad();
    (p * torch::arange(4, torch::kFloat64)).square().sum().backward();
    opt->step();
  }
  EXPECT_TRUE(torch::equal(a, b));
}

TEST(ClipGradNorm, ReturnsNormAndScales) {
  torch::Tensor a = torch::zeros({2}, torch::kFloat64).requires_grad_();
  torch::Tensor b = torch::zeros({1}, torch::kFloat64).requires_grad_();
  a.mutable_grad() = torch::tensor({3.0, 0.0}, torch::kFloat64);
  b.mutable_grad() = torch::tensor({4.0}, torch::kFloat64);
  torch::Tensor n = clip_grad_norm({a, b}, 1.0);
  EXPECT_NEAR(n.item<double>(), 5.0, 1e-12);
  EXPECT_NEAR(a.grad()[0].item<double>(), 0.6, 1e-6);
  EXPECT_NEAR(b.grad()[0].item<double>(), 0.8, 1e-6);
  // Below the threshold, or with clipping off, nothing changes.
  EXPECT_NEAR(clip_grad_norm({a, b}, 10.0).item<double>(), 1.0, 1e-6);
  EXPECT_NEAR(b.grad()[0].item<double>(), 0.8, 1e-6);
  clip_grad_norm({a, b}, 0.0);
  EXPECT_NEAR(b.grad()[0].item<double>(), 0.8, 1e-6);
}

}  // namespace ved

namespace ved {

// AutocastScope(kBf16) runs matrix products in bfloat16 while alive and restores the
// previous state after, nested or not; fp32 and tf32 scopes change nothing on the CPU.
TEST(Precision, AutocastScopeRunsMatrixProductsInBf16WhileAlive) {
  const torch::Tensor a = torch::randn({8, 5}), b = torch::randn({5, 3});
  const torch::Device cpu(torch::kCPU);
  EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kFloat32);
  {
    AutocastScope outer(Precision::kBf16, cpu);
    EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kBFloat16);
    {
      AutocastScope inner(Precision::kBf16, cpu);
      EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kBFloat16);
    }
    EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kBFloat16) << "the inner scope must not end the outer one";
    // Gradients reach the fp32 leaves in fp32, rounded like bfloat16 products.
    torch::Tensor w = b.clone().requires_grad_();
    torch::mm(a, w).to(torch::kFloat32).sum().backward();
    EXPECT_EQ(w.grad().scalar_type(), torch::kFloat32);
    const torch::Tensor exact = a.sum(0).unsqueeze(1).expand({5, 3});
    EXPECT_LT((w.grad() - exact).abs().max().item<double>(), 0.05 * exact.abs().max().item<double>());
  }
  EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kFloat32);
  for (Precision p : {Precision::kFp32, Precision::kTf32}) {
    AutocastScope none(p, cpu);
    EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kFloat32);
  }
  EXPECT_EQ(parse_precision("bf16"), Precision::kBf16);
  EXPECT_THROW(parse_precision("fp16"), Error);
}

}  // namespace ved
