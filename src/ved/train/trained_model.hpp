#pragma once
// A trained VED for inference, in physical units (no torch in this header):
//
//   TrainedModel m("run/");                         // run/model.h5 (or its checkpoint)
//   MatrixRM y = m.predict(x);                       // [N, m] at z = μ(x)
//   PredictiveMoments p = m.predict_moments(x, 100, seed);   // mean and std over z ~ q(z|x)
//   MatrixRM ys = m.sample(1000, seed);              // decode z ~ N(0, I)
//
// x is raw inputs [N, n] as stored in the dataset (cells or pixels); the model applies
// the training standardisation and Map2Grid itself.
#include <cstdint>
#include <memory>
#include <string>

#include "ved/train/model_file.hpp"
#include "ved/util/array.hpp"

namespace ved {

// The predictive distribution of y given x: z ~ q(z|x), y ~ N(f(z), s²I) with s the
// decoder noise estimated after training (ModelMeta::noise_std).
struct PredictiveMoments {
  MatrixRM mean;        // [N, m] mean of f(z) over the samples of z
  MatrixRM std;         // [N, m] sqrt(var_z f(z) + s²): the predictive standard deviation
  MatrixRM std_latent;  // [N, m] standard deviation of f(z) over z alone (ddof = 1)
};

struct Encodings {
  MatrixRM mu;      // [N, r]
  MatrixRM logvar;  // [N, r]
};

class TrainedModel {
 public:
  // path: a run folder or a model/checkpoint file. device: cpu | cuda | cuda:N.
  // optimize: on CPU, run the network frozen and optimised for inference (TorchScript,
  // oneDNN-prepacked convolutions: about 2x faster); false runs it eagerly. The two agree
  // to float rounding.
  explicit TrainedModel(const std::string& path, const std::string& device = "cpu", bool optimize = true);
  ~TrainedModel();
  TrainedModel(TrainedModel&&) noexcept;
  TrainedModel& operator=(TrainedModel&&) noexcept;

  const ModelMeta& meta() const;
  const std::string& path() const;  // the file actually loaded
  int latent() const;
  int64_t n_inputs() const;
  int64_t n_outputs() const;
  int64_t parameters() const;
  bool optimized() const;  // true when the frozen, optimised CPU path runs the network

  Encodings encode(const MatrixRM& x) const;
  MatrixRM decode(const MatrixRM& z) const;           // [N, r] -> [N, m] physical
  MatrixRM predict(const MatrixRM& x) const;          // z = μ(x)
  PredictiveMoments predict_moments(const MatrixRM& x, int n_samples, uint64_t seed) const;
  MatrixRM sample(int64_t n, uint64_t seed) const;    // y = f(z), z ~ N(0, I)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ved
