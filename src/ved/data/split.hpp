#pragma once
// Seeded train / validation / test split of N rows (torch-free, so that `ved baseline`
// and `ved train` score every method on the same held-out rows).
//
//   DataSplit s = split_rows(n_rows, 0.1, 0.2, seed);   // 70 / 10 / 20 %
//   MatrixRM x_test = d.x(s.test, Eigen::all);
//
// round(n·test_fraction) test rows, round(n·val_fraction) validation rows, the rest
// training rows, each list sorted ascending. The permutation is a Fisher-Yates shuffle
// driven by std::mt19937_64 seeded with mix_seed(seed, kSplitStream) and multiply-shift
// bounded integers, all fully specified, so a split is the same on every platform.
// Bit-identical to make_split in train/preprocess.hpp (checked by test_baselines when the
// torch modules are built).
#include <cstdint>
#include <string>
#include <vector>

namespace ved {

struct DataSplit {
  std::vector<int64_t> train, val, test;  // row indices, each sorted ascending
};

DataSplit split_rows(int64_t n_rows, double val_fraction, double test_fraction, uint64_t seed);

// --rows "A:B", "A:", ":B" or "" over n rows -> [begin, end). Negative values count from
// the end; an empty or out-of-range selection is an error quoting the spec.
struct RowRange {
  int64_t begin = 0;
  int64_t end = 0;
};
RowRange parse_rows(const std::string& spec, int64_t n_rows);

}  // namespace ved
