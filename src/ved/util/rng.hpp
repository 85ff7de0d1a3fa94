#pragma once
// Deterministic random streams. Each realisation i of a run with seed s draws from its
// own stream seeded by mix(s, i), so results do not depend on thread count or rank.
// Normals come from our own Box–Muller transform (std::normal_distribution is not
// specified bit-for-bit across standard libraries).
#include <cmath>
#include <cstdint>
#include <random>

namespace ved {

// SplitMix64 finaliser: a well-mixed 64-bit seed from (seed, stream index).
inline uint64_t mix_seed(uint64_t seed, uint64_t stream) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

class NormalStream {
 public:
  NormalStream(uint64_t seed, uint64_t stream) : engine_(mix_seed(seed, stream)) {}
  double uniform() {  // in (0, 1)
    return (static_cast<double>(engine_() >> 11) + 0.5) * (1.0 / 9007199254740992.0);
  }
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = uniform(), u2 = uniform();
    double r = std::sqrt(-2.0 * std::log(u1));
    double t = 6.283185307179586 * u2;
    spare_ = r * std::sin(t);
    has_spare_ = true;
    return r * std::cos(t);
  }

 private:
  std::mt19937_64 engine_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace ved
