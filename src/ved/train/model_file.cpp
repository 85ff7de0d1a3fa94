#include "ved/train/model_file.hpp"

#include <filesystem>

#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"

namespace ved {
namespace fs = std::filesystem;
namespace {

void write_vector(h5::File& f, const std::string& name, const Eigen::VectorXd& v) {
  f.write(name, v.data(), {static_cast<size_t>(v.size())});
}

Eigen::VectorXd read_vector(const h5::File& f, const std::string& name) {
  std::vector<size_t> dims;
  std::vector<double> v = f.read_double(name, &dims);
  return Eigen::Map<Eigen::VectorXd>(v.data(), static_cast<Eigen::Index>(v.size()));
}

void write_indices(h5::File& f, const std::string& name, const std::vector<int64_t>& v) {
  f.write(name, v.data(), {v.size()});
}

std::vector<int64_t> read_indices(const h5::File& f, const std::string& name) {
  return f.read_int(name, nullptr);
}

int64_t attr_int(const h5::File& f, const std::string& obj, const std::string& key) {
  return static_cast<int64_t>(f.attr_double(obj, key));
}

}  // namespace

void write_model_meta(h5::File& f, const ModelMeta& m) {
  f.set_attr("/", "format", std::string("ved-model"));
  f.set_attr("/", "version", int64_t{1});
  f.set_attr("/", "model_config", to_json(m.config));
  f.set_attr("/", "train_options", m.train_options_json);
  f.set_attr("/", "epoch", static_cast<int64_t>(m.epoch));

  const InputTransform& in = m.input;
  write_vector(f, "/input/mean", in.mean);
  write_vector(f, "/input/scale", in.scale);
  f.set_attr("/input", "kind", in.kind);
  f.set_attr("/input", "n_inputs", in.n_inputs);
  f.set_attr("/input", "channels", static_cast<int64_t>(in.channels));
  f.set_attr("/input", "height", static_cast<int64_t>(in.height));
  f.set_attr("/input", "width", static_cast<int64_t>(in.width));
  if (in.kind == "grid_map") {
    std::vector<int64_t> ec(in.grid_map.entry_cell.begin(), in.grid_map.entry_cell.end());
    std::vector<int64_t> ep(in.grid_map.entry_pixel.begin(), in.grid_map.entry_pixel.end());
    write_indices(f, "/input/map2grid/entry_cell", ec);
    write_indices(f, "/input/map2grid/entry_pixel", ep);
  }
  write_vector(f, "/output/mean", m.output.mean);
  write_vector(f, "/output/scale", m.output.scale);
  if (m.noise_std.size() > 0) {
    write_vector(f, "/output/noise_std", m.noise_std);
    f.set_attr("/output", "noise_rows", m.noise_rows);
  }

  write_indices(f, "/split/train", m.split.train);
  write_indices(f, "/split/val", m.split.val);
  write_indices(f, "/split/test", m.split.test);
  f.set_attr("/split", "data", m.data);
  if (!m.data_x.empty() || !m.data_y.empty()) {
    f.set_attr("/split", "data_x", m.data_x);
    f.set_attr("/split", "data_y", m.data_y);
  }
  f.set_attr("/split", "rows_begin", m.rows_begin);
  f.set_attr("/split", "rows_end", m.rows_end);
  f.set_attr("/split", "y_checksum", m.y_checksum);
}

ModelMeta read_model_meta(const h5::File& f) {
  VED_CHECK(f.has_attr("/", "format") && f.attr_string("/", "format") == "ved-model",
            f.path() << ": not a ved model file (no format = \"ved-model\" attribute); give the run folder or its model.h5");
  ModelMeta m;
  m.config = model_config_from_json(f.attr_string("/", "model_config"));
  m.train_options_json = f.attr_string("/", "train_options");
  m.epoch = static_cast<int>(attr_int(f, "/", "epoch"));

  InputTransform& in = m.input;
  in.kind = f.attr_string("/input", "kind");
  in.n_inputs = attr_int(f, "/input", "n_inputs");
  in.channels = static_cast<int>(attr_int(f, "/input", "channels"));
  in.height = static_cast<int>(attr_int(f, "/input", "height"));
  in.width = static_cast<int>(attr_int(f, "/input", "width"));
  in.mean = read_vector(f, "/input/mean");
  in.scale = read_vector(f, "/input/scale");
  VED_CHECK(in.mean.size() == in.n_inputs && in.scale.size() == in.n_inputs,
            f.path() << ": /input/mean has " << in.mean.size() << " entries; expected " << in.n_inputs);
  if (in.kind == "grid_map") {
    GridMap& g = in.grid_map;
    auto ec = read_indices(f, "/input/map2grid/entry_cell");
    auto ep = read_indices(f, "/input/map2grid/entry_pixel");
    g.height = in.height;
    g.width = in.width;
    g.entry_cell.assign(ec.begin(), ec.end());
    g.entry_pixel.assign(ep.begin(), ep.end());
    g.pixel_count.assign(static_cast<size_t>(g.height) * g.width, 0);
    g.cell_pixel.assign(static_cast<size_t>(in.n_inputs), -1);
    for (size_t e = 0; e < ec.size(); ++e) {
      VED_CHECK(ec[e] >= 0 && ec[e] < in.n_inputs && ep[e] >= 0 && ep[e] < g.n_pixels(),
                f.path() << ": /input/map2grid entry " << e << " out of range");
      ++g.pixel_count[ep[e]];
      if (g.cell_pixel[ec[e]] < 0) g.cell_pixel[ec[e]] = static_cast<int>(ep[e]);
    }
  }
  m.output.mean = read_vector(f, "/output/mean");
  m.output.scale = read_vector(f, "/output/scale");
  if (f.has("/output/noise_std")) {
    m.noise_std = read_vector(f, "/output/noise_std");
    m.noise_rows = f.attr_string("/output", "noise_rows");
  }

  m.split.train = read_indices(f, "/split/train");
  m.split.val = read_indices(f, "/split/val");
  m.split.test = read_indices(f, "/split/test");
  m.data = f.attr_string("/split", "data");
  if (f.has_attr("/split", "data_x")) m.data_x = f.attr_string("/split", "data_x");
  if (f.has_attr("/split", "data_y")) m.data_y = f.attr_string("/split", "data_y");
  m.rows_begin = attr_int(f, "/split", "rows_begin");
  m.rows_end = attr_int(f, "/split", "rows_end");
  m.y_checksum = f.attr_double("/split", "y_checksum");
  return m;
}

double data_checksum(const MatrixRM& y) {
  double s = 0;
  for (Eigen::Index i = 0; i < y.size(); ++i) s += y.data()[i] * (1.0 + static_cast<double>(i % 9973) * 1e-4);
  return s;
}

std::string resolve_model_path(const std::string& path) {
  if (!fs::is_directory(path)) {
    VED_CHECK(fs::exists(path), "model '" << path << "' not found; give a run folder (ved train --out) or its model.h5");
    return path;
  }
  fs::path model = fs::path(path) / "model.h5";
  if (fs::exists(model)) return model.string();
  fs::path ckpt = fs::path(path) / "checkpoint.h5";
  if (fs::exists(ckpt)) return ckpt.string();
  VED_FAIL(path << ": no model.h5 or checkpoint.h5 in this folder; is it the --out of a 'ved train' run?");
}

}  // namespace ved
