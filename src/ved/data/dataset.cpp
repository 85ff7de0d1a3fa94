#include "ved/data/dataset.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <iomanip>

#include "ved/util/array_source.hpp"
#include "ved/util/atomic_file.hpp"
#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"
#include "ved/util/shape_text.hpp"

namespace ved {
namespace {

// [dims[0], prod(dims[1:])] row-major, rejecting NaN/Inf at its position in `dims`.
MatrixRM rows_matrix(std::vector<double>& v, const std::vector<size_t>& dims, const std::string& where) {
  VED_CHECK(!dims.empty(), where << " is a scalar; expected an array [N, ...]");
  size_t rows = dims[0], cols = 1;
  for (size_t i = 1; i < dims.size(); ++i) cols *= dims[i];
  MatrixRM m = Eigen::Map<MatrixRM>(v.data(), static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  for (Eigen::Index i = 0; i < m.size(); ++i) {
    if (!std::isfinite(m.data()[i])) {
      VED_FAIL(where << " " << element_text(dims, static_cast<size_t>(i)) << " is " << m.data()[i]
                     << "; remove or repair non-finite samples");
    }
  }
  return m;
}

MatrixRM read_matrix(const h5::File& f, const std::string& name, std::vector<size_t>* dims_out = nullptr) {
  std::vector<size_t> dims;
  std::vector<double> v = f.read_double(name, &dims);
  MatrixRM m = rows_matrix(v, dims, f.path() + ": '" + name + "'");
  if (dims_out) *dims_out = dims;
  return m;
}

std::string dims_text(const std::vector<size_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

Dataset dataset_from_arrays(const DataSource& src) {
  VED_CHECK(src.data.empty(), "give either --data FILE.h5 or --x SRC --y SRC, not both");
  VED_CHECK(!src.x.empty() && !src.y.empty(), "--x and --y go together: give both (" << (src.x.empty() ? "--x" : "--y")
                                                                                    << " is missing)");
  ArraySource xs = ArraySource::parse(src.x), ys = ArraySource::parse(src.y);
  LoadedArray xa = load_array(xs), ya = load_array(ys);
  const std::string xw = "--x " + xs.str(), yw = "--y " + ys.str();
  VED_CHECK(xa.dims.size() >= 1 && xa.dims.size() <= 4,
            xw << " has shape " << dims_text(xa.dims) << "; expected [N, n], [N, H, W] or [N, C, H, W]");
  VED_CHECK(ya.dims.size() >= 1, yw << " is a scalar; expected [N, m]");
  Dataset d;
  d.x = rows_matrix(xa.data, xa.dims, xw);
  d.y = rows_matrix(ya.data, ya.dims, yw);
  VED_CHECK(d.x.rows() > 0, xw << " has zero rows");
  VED_CHECK(d.x.cols() > 0 && d.y.cols() > 0, xw << " " << dims_text(xa.dims) << " / " << yw << " " << dims_text(ya.dims)
                                                  << ": a sample has no values");
  VED_CHECK(d.x.rows() == d.y.rows(), xw << " has " << d.x.rows() << " rows (shape " << dims_text(xa.dims) << ") but "
                                         << yw << " has " << d.y.rows() << " (shape " << dims_text(ya.dims)
                                         << "); row i of both must be the same sample");
  d.x_shape.assign(xa.dims.begin() + 1, xa.dims.end());
  if (ya.dims.size() > 2) d.text_attrs["y_shape"] = dims_text(std::vector<size_t>(ya.dims.begin() + 1, ya.dims.end()));
  return d;
}

void write_matrix(h5::File& f, const std::string& name, const MatrixRM& m) {
  f.write(name, m.data(), {static_cast<size_t>(m.rows()), static_cast<size_t>(m.cols())});
}

}  // namespace

std::string DataSource::describe() const {
  if (!from_arrays()) return data;
  return "x=" + x + " y=" + y;
}

Dataset load_data(const DataSource& src, const ReadOptions& opt) {
  if (src.from_arrays()) return dataset_from_arrays(src);
  VED_CHECK(!src.data.empty(), "no data: give --data FILE.h5 (a ved dataset) or --x SRC --y SRC (arrays: FILE.npy, "
                               "FILE.npz:name or FILE.h5:/path)");
  return read_dataset(src.data, opt);
}

Dataset read_dataset(const std::string& path, const ReadOptions& opt) {
  auto f = h5::File::open_read(path);
  Dataset d;
  VED_CHECK(f.has("/x"), path << ": dataset '/x' not found; a ved dataset holds /x [N, n] and /y [N, m]");
  VED_CHECK(f.has("/y"), path << ": dataset '/y' not found; a ved dataset holds /x [N, n] and /y [N, m]");
  std::vector<size_t> xdims, ydims;
  d.x = read_matrix(f, "/x", &xdims);
  d.y = read_matrix(f, "/y", &ydims);
  d.x_shape.assign(xdims.begin() + 1, xdims.end());
  VED_CHECK(ydims.size() == 2, path << ": '/y' has " << ydims.size() << " dimensions; expected [N, m]");
  VED_CHECK(d.x.rows() > 0, path << ": '/x' has zero rows");
  VED_CHECK(d.x.rows() == d.y.rows(), path << ": '/x' has " << d.x.rows() << " rows but '/y' has "
                                           << d.y.rows() << "; they must match");
  if (f.has("/xi")) {
    d.xi = read_matrix(f, "/xi");
    VED_CHECK(d.xi.rows() == d.x.rows(), path << ": '/xi' has " << d.xi.rows() << " rows; expected " << d.x.rows());
  }
  if (opt.load_head && f.has("/head")) d.head = read_matrix(f, "/head");
  if (f.has("/wells")) {
    auto w = f.read_int("/wells", nullptr);
    d.wells.assign(w.begin(), w.end());
  }
  if (f.has_attr("/", "mesh")) d.mesh = f.attr_string("/", "mesh");
  if (f.has("/map2grid/entry_cell")) {
    GridMap& g = d.grid_map;
    auto ec = f.read_int("/map2grid/entry_cell", nullptr);
    auto ep = f.read_int("/map2grid/entry_pixel", nullptr);
    double height = f.attr_double("/map2grid", "height");
    double width = f.attr_double("/map2grid", "width");
    VED_CHECK(ec.size() == ep.size() && !ec.empty() && ec.size() <= static_cast<size_t>(INT_MAX),
              path << ": '/map2grid' is inconsistent (entry arrays of " << ec.size() << " and " << ep.size()
                   << " values)");
    // Entries are one per cell, in cell order, then one per conflict (compute_grid_map).
    const int64_t n_entries = static_cast<int64_t>(ec.size());
    int64_t n_cells = 0;
    for (size_t e = 0; e < ec.size(); ++e) {
      VED_CHECK(ec[e] >= 0 && ec[e] < n_entries, path << ": '/map2grid/entry_cell' entry " << e << " = " << ec[e]
                                                      << " out of range [0, " << n_entries << ")");
      n_cells = std::max(n_cells, ec[e] + 1);
    }
    for (int64_t c = 0; c < n_cells; ++c)
      VED_CHECK(ec[c] == c, path << ": '/map2grid/entry_cell' entry " << c << " = " << ec[c] << "; the first "
                                 << n_cells << " entries must be cells 0, 1, ... in order");
    // The walk that made the map moves one pixel per cell: no side is longer than the cells.
    VED_CHECK(height >= 1 && width >= 1 && height <= n_cells && width <= n_cells &&
                  height == std::floor(height) && width == std::floor(width),
              path << ": '/map2grid' image " << std::setprecision(15) << height << "x" << width
                   << " does not fit a map of " << n_cells
                   << " cells; each side must be a whole number in [1, " << n_cells << "]");
    g.height = static_cast<int>(height);
    g.width = static_cast<int>(width);
    const int64_t n_pixels = static_cast<int64_t>(g.height) * g.width;
    VED_CHECK(n_pixels <= INT_MAX, path << ": '/map2grid' image " << g.height << "x" << g.width << " is too large");
    g.entry_cell.assign(ec.begin(), ec.end());
    g.entry_pixel.assign(ep.begin(), ep.end());
    g.pixel_count.assign(static_cast<size_t>(n_pixels), 0);
    for (size_t e = 0; e < ep.size(); ++e) {
      VED_CHECK(ep[e] >= 0 && ep[e] < n_pixels, path << ": '/map2grid/entry_pixel' entry " << e << " = " << ep[e]
                                                     << " out of range [0, " << n_pixels << ")");
      ++g.pixel_count[ep[e]];
    }
    g.cell_pixel.assign(g.entry_pixel.begin(), g.entry_pixel.begin() + n_cells);
    d.has_grid_map = true;
  }
  for (const auto& [k, v] : f.attrs("/")) {
    if (k == "mesh") continue;
    // Numbers keep their value; everything else is text.
    char* end = nullptr;
    double num = std::strtod(v.c_str(), &end);
    if (end && *end == '\0' && !v.empty() && k != "generator") d.number_attrs[k] = num;
    else d.text_attrs[k] = v;
  }
  return d;
}

void write_dataset(const std::string& path, const Dataset& d) {
  VED_CHECK(d.x.rows() == d.y.rows(), "write_dataset: x has " << d.x.rows() << " rows, y " << d.y.rows());
  AtomicOutput out(path);
  {
    auto f = h5::File::create(out);
    std::vector<size_t> xdims = {static_cast<size_t>(d.x.rows())};
    if (d.x_shape.empty()) xdims.push_back(static_cast<size_t>(d.x.cols()));
    else xdims.insert(xdims.end(), d.x_shape.begin(), d.x_shape.end());
    f.write("/x", d.x.data(), xdims);
    write_matrix(f, "/y", d.y);
    if (d.xi.size() > 0) write_matrix(f, "/xi", d.xi);
    if (d.head.size() > 0) write_matrix(f, "/head", d.head);
    if (!d.wells.empty()) {
      std::vector<int64_t> w(d.wells.begin(), d.wells.end());
      f.write("/wells", w.data(), {w.size()});
    }
    if (d.has_grid_map) {
      const GridMap& g = d.grid_map;
      std::vector<int64_t> ec(g.entry_cell.begin(), g.entry_cell.end());
      std::vector<int64_t> ep(g.entry_pixel.begin(), g.entry_pixel.end());
      f.write("/map2grid/entry_cell", ec.data(), {ec.size()});
      f.write("/map2grid/entry_pixel", ep.data(), {ep.size()});
      f.set_attr("/map2grid", "height", static_cast<int64_t>(g.height));
      f.set_attr("/map2grid", "width", static_cast<int64_t>(g.width));
    }
    f.set_attr("/", "format", std::string("ved-dataset"));
    f.set_attr("/", "version", int64_t{1});
    f.set_attr("/", "mesh", d.mesh);
    for (const auto& [k, v] : d.text_attrs) f.set_attr("/", k, v);
    for (const auto& [k, v] : d.number_attrs) f.set_attr("/", k, v);
    f.close();
  }
  out.commit();
}

Dataset slice_rows(const Dataset& d, Eigen::Index begin, Eigen::Index end) {
  VED_CHECK(begin >= 0 && begin <= end && end <= d.n_samples(),
            "rows [" << begin << ", " << end << ") out of range [0, " << d.n_samples() << ")");
  Dataset s = d;
  auto cut = [&](MatrixRM& m) {
    if (m.rows() == d.n_samples()) m = m.middleRows(begin, end - begin).eval();
  };
  cut(s.x);
  cut(s.y);
  cut(s.xi);
  cut(s.head);
  return s;
}

}  // namespace ved
