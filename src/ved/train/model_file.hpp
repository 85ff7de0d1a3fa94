#pragma once
// The torch-free part of a model file (RUN/model.h5, and the same part of
// RUN/checkpoint.h5): architecture, the x and y transforms, the split and where the data
// came from. The weights sit next to it, as float arrays readable by h5py:
//
//   /                 attrs format = "ved-model", version, model_config (JSON),
//                     train_options (JSON), epoch
//   /params/<name>    float32 weights, named as in the torch module ("stem.weight", ...)
//   /buffers/<name>   module buffers (normalisation running statistics)
//   /input/mean, /input/scale [n]; attrs kind (grid_map | image | vector), channels,
//                     height, width; /input/map2grid/{entry_cell, entry_pixel}
//   /output/mean, /output/scale [m]; /output/noise_std [m] (optional): the decoder's
//                     noise s per output in physical units, the RMS residual at z = μ on
//                     the validation rows (attr noise_rows: "val" or "train")
//   /split/train, /split/val, /split/test  int64 row indices into the rows used;
//                     attrs n_rows, rows_begin, rows_end, y_checksum, data
//                     (and data_x, data_y for runs trained on --x/--y arrays)
//
//   h5::File f = h5::File::create(path);  write_model_meta(f, meta);
//   ModelMeta m = read_model_meta(h5::File::open_read(path));
#include <cstdint>
#include <string>

#include "ved/nn/model_config.hpp"
#include "ved/train/preprocess.hpp"

namespace ved {
namespace h5 {
class File;
}

struct ModelMeta {
  ModelConfig config;
  InputTransform input;
  OutputTransform output;
  Eigen::VectorXd noise_std;  // [m] or empty: decoder noise s (docs/method.md §2: p(y|z) = N(f(z), s²I))
  std::string noise_rows;     // rows noise_std was estimated on: "val" or "train"
  Split split;
  std::string train_options_json;
  std::string data;          // dataset path used for training, or
  std::string data_x;        // the x and y array sources (--x/--y)
  std::string data_y;
  int64_t rows_begin = 0;    // rows [begin, end) of that file
  int64_t rows_end = 0;
  double y_checksum = 0;     // data_checksum() of those rows, to recognise the data
  int epoch = 0;             // completed epochs
};

void write_model_meta(h5::File& f, const ModelMeta& m);
ModelMeta read_model_meta(const h5::File& f);

// A cheap fingerprint of y (sum of entries weighted by position), to check that
// `ved eval --split test` and `--resume` see the rows the model was trained on.
double data_checksum(const MatrixRM& y);

// RUN/ folder -> RUN/model.h5 (or RUN/checkpoint.h5 when training has not finished);
// a file path is returned unchanged. Throws when neither exists.
std::string resolve_model_path(const std::string& path);

}  // namespace ved
