#pragma once
// Small synthetic VED problems: x is a 12 x 10 image showing 3 independent factors
// (smooth patterns, plus noise); y (8 outputs) is a smooth, mildly nonlinear function of
// the factors around an offset of 100, so rel_l2 and rel_l2_fluct differ.
#include <cmath>
#include <string>

#include "ved/data/dataset.hpp"
#include "ved/train/train_options.hpp"
#include "ved/util/rng.hpp"

namespace ved::test {

inline Dataset synthetic_dataset(int n, uint64_t seed) {
  const int h = 12, w = 10, m = 8, k = 3;
  Dataset d;
  d.x.resize(n, h * w);
  d.y.resize(n, m);
  d.xi.resize(n, k);
  d.x_shape = {static_cast<size_t>(h), static_cast<size_t>(w)};
  for (int i = 0; i < n; ++i) {
    NormalStream s(seed, static_cast<uint64_t>(i));
    double f[k];
    for (double& v : f) v = s.normal();
    for (int r = 0; r < h; ++r)
      for (int c = 0; c < w; ++c) {
        double u = (r + 0.5) / h, v = (c + 0.5) / w;
        d.x(i, r * w + c) = f[0] * std::sin(3.1 * u) + f[1] * std::cos(2.7 * v) + f[2] * (u - 0.5) * (v - 0.5) * 4 +
                            0.1 * s.normal();
      }
    for (int j = 0; j < m; ++j)
      d.y(i, j) = 100 + std::sin(j + 1.0) * f[0] + std::cos(0.5 * j) * f[1] + 0.3 * (j % 3) * f[2] + 0.3 * f[0] * f[1];
    for (int q = 0; q < k; ++q) d.xi(i, q) = f[q];
  }
  return d;
}

// A tiny conv VED that trains in milliseconds per epoch.
inline TrainOptions small_options(const std::string& data, const std::string& out) {
  TrainOptions o;
  o.data = data;
  o.out = out;
  o.model.latent = 3;
  o.model.stem_channels = 4;
  o.model.stages = {8, 8};
  o.model.decoder_hidden = {32};
  o.batch = 16;
  o.epochs = 4;
  o.lr = 1e-2;
  o.lr_min = 1e-4;
  o.val_fraction = 0.25;
  o.threads = 1;
  o.quiet = true;
  return o;
}

}  // namespace ved::test
