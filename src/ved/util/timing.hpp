#pragma once
// Wall-clock time of a step, for logs and JSON records:
//
//   const auto t0 = std::chrono::steady_clock::now();
//   ...
//   double s = seconds_since(t0);
#include <chrono>

namespace ved {

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace ved
