#include "ved/data/split.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "ved/util/error.hpp"
#include "ved/util/parse.hpp"
#include "ved/util/rng.hpp"

namespace ved {

DataSplit split_rows(int64_t n_rows, double val_fraction, double test_fraction, uint64_t seed) {
  VED_CHECK(val_fraction >= 0 && test_fraction >= 0 && val_fraction + test_fraction < 1,
            "split: validation fraction " << val_fraction << " and test fraction " << test_fraction
                                          << "; each must be >= 0 and their sum < 1");
  const int64_t n_test = std::llround(static_cast<double>(n_rows) * test_fraction);
  const int64_t n_val = std::llround(static_cast<double>(n_rows) * val_fraction);
  VED_CHECK(n_rows - n_test - n_val >= 2, "the split of " << n_rows << " rows leaves " << n_rows - n_test - n_val
                                                          << " for training; lower --val-fraction / --test-fraction");
  std::vector<int64_t> perm(static_cast<size_t>(n_rows));
  std::iota(perm.begin(), perm.end(), int64_t(0));
  constexpr uint64_t kSplitStream = 0x5B1170000ULL;  // the trainer's stream for the split
  std::mt19937_64 engine(mix_seed(seed, kSplitStream));
  for (size_t i = perm.size(); i > 1; --i) {
    // Uniform in [0, i) by multiply-shift (Lemire); bias below i / 2^64.
    const auto j = static_cast<size_t>((static_cast<unsigned __int128>(engine()) * i) >> 64);
    std::swap(perm[i - 1], perm[j]);
  }
  DataSplit s;
  s.test.assign(perm.begin(), perm.begin() + n_test);
  s.val.assign(perm.begin() + n_test, perm.begin() + n_test + n_val);
  s.train.assign(perm.begin() + n_test + n_val, perm.end());
  std::sort(s.test.begin(), s.test.end());
  std::sort(s.val.begin(), s.val.end());
  std::sort(s.train.begin(), s.train.end());
  return s;
}

RowRange parse_rows(const std::string& spec, int64_t n_rows) {
  if (spec.empty()) return {0, n_rows};
  size_t colon = spec.find(':');
  VED_CHECK(colon != std::string::npos && spec.find(':', colon + 1) == std::string::npos,
            "--rows '" << spec << "' is not of the form A:B (e.g. 0:3000, 3000:, :-1000)");
  auto parse = [&](const std::string& s, int64_t dflt) -> int64_t {
    if (s.empty()) return dflt;
    const int64_t v = parse_integer(s, "--rows", spec);
    return v < 0 ? v + n_rows : v;
  };
  RowRange r{parse(spec.substr(0, colon), 0), parse(spec.substr(colon + 1), n_rows)};
  VED_CHECK(r.begin >= 0 && r.begin < r.end && r.end <= n_rows,
            "--rows '" << spec << "' selects [" << r.begin << ", " << r.end << ") but the file has " << n_rows
                       << " rows");
  return r;
}

}  // namespace ved
