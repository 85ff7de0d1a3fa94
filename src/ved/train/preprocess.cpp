#include "ved/train/preprocess.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>

#include "ved/mesh/site_io.hpp"
#include "ved/util/error.hpp"
#include "ved/util/rng.hpp"

namespace ved {
namespace {

// Independent streams of one seed (rng.hpp's mix_seed): the split, and one per epoch.
constexpr uint64_t kShuffleSeedTag = 0x5E0FF1E5ULL;

// Unbiased-enough integer in [0, bound) by multiply-shift (Lemire), deterministic everywhere.
uint64_t below(std::mt19937_64& engine, uint64_t bound) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(engine()) * bound) >> 64);
}

void shuffle(std::vector<int64_t>& v, std::mt19937_64& engine) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(engine, i)]);
}

}  // namespace

int64_t InputTransform::n_model_inputs() const {
  return is_image() ? static_cast<int64_t>(channels) * height * width : n_inputs;
}

void column_stats(const MatrixRM& a, const std::vector<int64_t>& rows, Eigen::VectorXd* mean, Eigen::VectorXd* scale) {
  VED_CHECK(!rows.empty(), "no rows to compute the standardisation statistics from");
  const Eigen::Index n = a.cols();
  Eigen::VectorXd s = Eigen::VectorXd::Zero(n), s2 = Eigen::VectorXd::Zero(n);
  for (int64_t r : rows) s += a.row(r).transpose();
  *mean = s / static_cast<double>(rows.size());
  for (int64_t r : rows) s2 += (a.row(r).transpose() - *mean).array().square().matrix();
  *scale = (s2 / static_cast<double>(rows.size())).cwiseSqrt();
  for (Eigen::Index j = 0; j < n; ++j) {
    double& sd = (*scale)[j];
    if (!(sd > 1e-12 * std::max(1.0, std::abs((*mean)[j])))) sd = 1.0;
  }
}

void InputTransform::fit(const MatrixRM& x_train) {
  std::vector<int64_t> all(static_cast<size_t>(x_train.rows()));
  std::iota(all.begin(), all.end(), 0);
  column_stats(x_train, all, &mean, &scale);
}

void InputTransform::apply(const MatrixRM& x, Eigen::Index row0, Eigen::Index n, float* out) const {
  VED_CHECK(x.cols() == n_inputs, "inputs have " << x.cols() << " features per sample; the model expects " << n_inputs);
  VED_CHECK(row0 >= 0 && row0 + n <= x.rows(), "rows [" << row0 << ", " << row0 + n << ") out of range");
  const int64_t width_out = n_model_inputs();
  std::vector<float> field(static_cast<size_t>(n_inputs));
  for (Eigen::Index i = 0; i < n; ++i) {
    float* dst = out + i * width_out;
    const double* src = x.data() + (row0 + i) * x.cols();
    float* std_row = kind == "grid_map" ? field.data() : dst;
    for (int64_t j = 0; j < n_inputs; ++j) std_row[j] = static_cast<float>((src[j] - mean[j]) / scale[j]);
    if (kind == "grid_map") grid_map.to_image(field.data(), dst, 0.0f);
  }
}

InputTransform make_input_transform(const Dataset& d, const std::string& mesh_spec) {
  InputTransform t;
  t.n_inputs = d.x.cols();
  auto use_grid_map = [&](const GridMap& g, const std::string& where) {
    VED_CHECK(g.n_cells() == t.n_inputs, where << " has " << g.n_cells() << " cells but the inputs have "
                                              << t.n_inputs << " values per sample; use --mesh none or the right mesh");
    t.kind = "grid_map";
    t.grid_map = g;
    t.channels = 1;
    t.height = g.height;
    t.width = g.width;
  };
  if (mesh_spec == "none") {
    t.kind = "vector";
  } else if (mesh_spec == "auto") {
    if (d.has_grid_map) {
      use_grid_map(d.grid_map, "the dataset's stored Map2Grid");
    } else if (d.x_shape.size() == 2 || d.x_shape.size() == 3) {
      t.kind = "image";
      t.channels = d.x_shape.size() == 3 ? static_cast<int>(d.x_shape[0]) : 1;
      t.height = static_cast<int>(d.x_shape[d.x_shape.size() - 2]);
      t.width = static_cast<int>(d.x_shape[d.x_shape.size() - 1]);
    } else if (!d.mesh.empty()) {
      Site site = load_site(d.mesh);
      use_grid_map(compute_grid_map(site.mesh), "mesh '" + d.mesh + "' (from the dataset)");
    } else {
      t.kind = "vector";
    }
  } else {
    // A file that names another mesh: --mesh wins (it may be the same site spelt as a
    // path), but the user hears of it, since the cell count alone may match by chance.
    if (!d.mesh.empty() && d.mesh != mesh_spec)
      std::fprintf(stderr, "warning: the data name mesh '%s' (attribute 'mesh'); using --mesh '%s' as given\n",
                   d.mesh.c_str(), mesh_spec.c_str());
    Site site = load_site(mesh_spec);
    use_grid_map(compute_grid_map(site.mesh), "mesh '" + mesh_spec + "'" +
                                                  (d.mesh.empty() || d.mesh == mesh_spec
                                                       ? std::string()
                                                       : " (the data name mesh '" + d.mesh + "')"));
  }
  return t;
}

void OutputTransform::fit(const MatrixRM& y_train, bool per_output) {
  std::vector<int64_t> all(static_cast<size_t>(y_train.rows()));
  std::iota(all.begin(), all.end(), 0);
  column_stats(y_train, all, &mean, &scale);
  if (!per_output) {
    // One scale for all outputs (the RMS of their standard deviations), so the loss
    // weighs each output by its own variance, as a relative error over the field does.
    const double rms = std::sqrt((scale.array() * scale.array()).mean());
    scale.setConstant(rms > 0 ? rms : 1.0);
  }
}

void OutputTransform::apply(const MatrixRM& y, Eigen::Index row0, Eigen::Index n, float* out) const {
  VED_CHECK(y.cols() == mean.size(), "outputs have " << y.cols() << " values per sample; the model has " << mean.size());
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < y.cols(); ++j)
      out[i * y.cols() + j] = static_cast<float>((y(row0 + i, j) - mean[j]) / scale[j]);
}

MatrixRM OutputTransform::invert(const float* y_std, Eigen::Index n) const {
  const Eigen::Index m = mean.size();
  MatrixRM y(n, m);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < m; ++j) y(i, j) = mean[j] + scale[j] * static_cast<double>(y_std[i * m + j]);
  return y;
}

std::vector<int64_t> epoch_permutation(int64_t n, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> perm(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), 0);
  std::mt19937_64 engine(mix_seed(seed ^ kShuffleSeedTag, static_cast<uint64_t>(epoch)));
  shuffle(perm, engine);
  return perm;
}

MatrixRM take_rows(const MatrixRM& a, const std::vector<int64_t>& rows) {
  MatrixRM out(static_cast<Eigen::Index>(rows.size()), a.cols());
  for (size_t i = 0; i < rows.size(); ++i) out.row(static_cast<Eigen::Index>(i)) = a.row(rows[i]);
  return out;
}

}  // namespace ved
