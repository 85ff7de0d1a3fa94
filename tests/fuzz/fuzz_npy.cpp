// libFuzzer target: .npy images through ved::npy::parse, and the observation-set
// loader (yobs_*.npy) that builds on it.
//
//   build-checked/tests/fuzz/fuzz_npy -max_total_time=60 tests/fuzz/corpus/fuzz_npy
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.hpp"
#include "ved/mesh/site_io.hpp"
#include "ved/util/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    ved::npy::Array a = ved::npy::parse(bytes, "fuzz.npy");
    size_t n = 1;
    for (size_t d : a.dims) n *= d;
    if (a.data.size() != n) std::abort();  // dims and data must agree
  } catch (const ved::Error& e) {
    ved::fuzz::rejected(e);
    return 0;
  }
  ved::fuzz::TempInput file(data, size, ".npy");
  try {
    ved::load_observation_sets(file.path(), 50);
  } catch (const ved::Error& e) {
    ved::fuzz::rejected(e);
  }
  return 0;
}
