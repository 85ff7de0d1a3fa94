#pragma once
// A VED model file whose decoder is one Linear layer (no hidden layers), for tests whose
// expectations need a closed form: standardised g(z) = W z + b, so the physical outputs
// are f(z) = a + A z with A = diag(scale) W and a = mean + scale ⊙ b. Needs ved::nn.
#include <Eigen/Core>

#include <string>

#include "ved/nn/model.hpp"
#include "ved/nn/tensor_io.hpp"
#include "ved/train/model_file.hpp"
#include "ved/util/h5.hpp"

namespace ved::test {

struct LinearVed {
  static constexpr int kR = 3, kM = 6;
  Eigen::MatrixXd a_mat;  // [m, r] physical A
  Eigen::VectorXd a;      // [m] physical offset
  Eigen::VectorXd s;      // [m] decoder noise stored with the model
};

// Writes the model to `path` (an .h5 model file); `with_noise` false leaves out noise_std.
inline LinearVed write_linear_ved(const std::string& path, bool with_noise = true) {
  constexpr int kR = LinearVed::kR, kM = LinearVed::kM;
  ModelMeta meta;
  meta.config.encoder = "mlp";
  meta.config.input_features = 2;
  meta.config.output_features = kM;
  meta.config.latent = kR;
  meta.config.decoder_hidden = {};
  meta.input.kind = "vector";
  meta.input.n_inputs = 2;
  meta.input.mean = Eigen::VectorXd::Zero(2);
  meta.input.scale = Eigen::VectorXd::Ones(2);
  meta.output.mean.resize(kM);
  meta.output.mean << 10, -3, 0.5, 7, 2, 1;
  meta.output.scale.resize(kM);
  meta.output.scale << 2, 0.5, 1, 3, 0.25, 1.5;
  Eigen::VectorXd s(kM);
  s << 0.6, 0.1, 0.3, 0.9, 0.05, 0.4;
  if (with_noise) {
    meta.noise_std = s;
    meta.noise_rows = "val";
  }
  meta.split = make_split(10, 0.2, 0.0, 1);
  meta.train_options_json = "{}";
  // float32 values, so that the closed forms use exactly the stored weights.
  Eigen::MatrixXf w(kM, kR);
  w << 1.0f, 0.5f, 0.0f,  //
      -0.8f, 1.2f, 0.3f,  //
      0.2f, -0.4f, 1.1f,  //
      0.7f, 0.7f, -0.2f,  //
      0.0f, 1.0f, 0.9f,   //
      -1.1f, 0.1f, 0.4f;
  Eigen::VectorXf b(kM);
  b << 0.1f, -0.2f, 0.3f, 0.0f, 0.5f, -0.4f;
  Ved model(meta.config);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model->named_parameters()) {
      if (p.key() == "decoder_out.weight")
        for (int i = 0; i < kM; ++i)
          for (int j = 0; j < kR; ++j) p.value()[i][j] = w(i, j);
      if (p.key() == "decoder_out.bias")
        for (int i = 0; i < kM; ++i) p.value()[i] = b[i];
    }
  }
  auto f = h5::File::create(path);
  write_model_meta(f, meta);
  save_module(f, "", *model);
  f.close();
  LinearVed lm;
  lm.a_mat = meta.output.scale.asDiagonal() * w.cast<double>();
  lm.a = meta.output.mean + meta.output.scale.cwiseProduct(b.cast<double>());
  lm.s = with_noise ? s : Eigen::VectorXd::Zero(kM);
  return lm;
}

}  // namespace ved::test
