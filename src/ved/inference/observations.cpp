#include "ved/inference/observations.hpp"

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "ved/util/atomic_file.hpp"
#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"
#include "ved/util/parse.hpp"

namespace ved::inference {
namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::string shape_str(const std::vector<size_t>& dims) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < dims.size(); ++i) os << (i ? ", " : "") << dims[i];
  os << "]";
  return os.str();
}

Observations read_hdf5(const std::string& path) {
  h5::File f = h5::File::open_read(path);
  VED_CHECK(f.has("/index"), path << ": field '/index' not found; an observation file holds /index [k] "
                                     "(0-based output indices) and /value [N, k]");
  VED_CHECK(f.has("/value"), path << ": field '/value' not found; an observation file holds /index [k] "
                                     "(0-based output indices) and /value [N, k]");
  Observations obs;
  obs.source = path;
  std::vector<size_t> index_dims, value_dims;
  obs.index = f.read_int("/index", &index_dims);
  VED_CHECK(index_dims.size() == 1, path << ": field '/index' has shape " << shape_str(index_dims)
                                         << "; expected a vector [k]");
  const size_t k = index_dims[0];
  std::vector<double> v = f.read_double("/value", &value_dims);
  if (value_dims.size() == 1) value_dims.insert(value_dims.begin(), 1);  // one case
  VED_CHECK(value_dims.size() == 2, path << ": field '/value' has shape " << shape_str(value_dims)
                                         << "; expected [N, " << k << "] (cases x observed outputs)");
  VED_CHECK(value_dims[1] == k, path << ": field '/value' has " << value_dims[1]
                                     << " values per case; expected " << k
                                     << ", one per entry of '/index' (shape [N, " << k << "], found "
                                     << shape_str(value_dims) << ")");
  obs.value = Eigen::Map<const MatrixRM>(v.data(), static_cast<Eigen::Index>(value_dims[0]),
                                         static_cast<Eigen::Index>(k));
  return obs;
}

Observations read_csv(const std::string& path) {
  std::ifstream in(path);
  VED_CHECK(in, path << ": cannot open for reading");
  Observations obs;
  obs.source = path;
  std::vector<double> values;
  std::string line;
  int line_no = 0;
  bool first = true;
  while (std::getline(in, line)) {
    ++line_no;
    std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    size_t comma = t.find(',');
    std::string a = trim(comma == std::string::npos ? t : t.substr(0, comma));
    std::string b = comma == std::string::npos ? "" : trim(t.substr(comma + 1));
    if (first && a == "index" && b == "value") {
      first = false;
      continue;
    }
    first = false;
    VED_CHECK(comma != std::string::npos && b.find(',') == std::string::npos,
              path << ": line " << line_no << " '" << t << "': expected two fields 'index,value'");
    size_t used = 0;
    long long idx = 0;
    try {
      idx = std::stoll(a, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    VED_CHECK(!a.empty() && used == a.size(),
              path << ": line " << line_no << ": index '" << a << "' is not an integer");
    double val = 0;
    try {
      val = std::stod(b, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    // stod accepts "nan" and "inf"; those are caught with the HDF5 values below.
    VED_CHECK(!b.empty() && used == b.size(),
              path << ": line " << line_no << ": value '" << b << "' is not a number");
    obs.index.push_back(idx);
    values.push_back(val);
  }
  VED_CHECK(!in.bad(), path << ": read error");
  obs.value = Eigen::Map<const MatrixRM>(values.data(), 1, static_cast<Eigen::Index>(values.size()));
  return obs;
}

}  // namespace

Observations read_observations(const std::string& path, int64_t n_outputs) {
  std::ifstream probe(path);
  VED_CHECK(probe, path << ": observation file not found or not readable");
  probe.close();
  Observations obs;
  if (h5::is_hdf5(path)) {
    obs = read_hdf5(path);
  } else {
    VED_CHECK(ends_with(path, ".csv") || ends_with(path, ".CSV"),
              path << ": not an HDF5 file and not a .csv; observations are HDF5 (/index [k], /value [N, k]) "
                      "or a CSV with lines 'index,value'");
    obs = read_csv(path);
  }
  const char* index_field = h5::is_hdf5(path) ? "'/index'" : "index column";
  VED_CHECK(!obs.index.empty(), path << ": no observations (" << index_field << " is empty); expected at least one");
  VED_CHECK(obs.n_cases() >= 1, path << ": field '/value' has no cases (0 rows); expected at least one");
  std::set<int64_t> seen;
  for (size_t j = 0; j < obs.index.size(); ++j) {
    const int64_t i = obs.index[j];
    VED_CHECK(i >= 0 && i < n_outputs, path << ": " << index_field << " entry " << j << " = " << i
                                            << " is not an output index; expected 0-based indices in [0, "
                                            << n_outputs - 1 << "] (the model has " << n_outputs
                                            << " outputs)");
    VED_CHECK(seen.insert(i).second,
              path << ": " << index_field << " entry " << j << " = " << i << " repeats an earlier entry; "
                   << "each output may be observed once per case");
  }
  for (Eigen::Index c = 0; c < obs.value.rows(); ++c)
    for (Eigen::Index j = 0; j < obs.value.cols(); ++j)
      VED_CHECK(std::isfinite(obs.value(c, j)),
                path << ": " << (h5::is_hdf5(path) ? "field '/value'" : "value column") << " case " << c
                     << ", output " << obs.index[j] << " is " << obs.value(c, j)
                     << "; expected a finite number (leave unobserved outputs out of /index instead)");
  return obs;
}

void write_observations(const std::string& path, const Observations& obs) {
  VED_CHECK(obs.value.cols() == obs.n_observed(),
            path << ": " << obs.value.cols() << " values per case for " << obs.n_observed() << " indices");
  AtomicOutput out(path);
  {
    h5::File f = h5::File::create(out);
    f.write("/index", obs.index.data(), {obs.index.size()});
    f.write("/value", obs.value.data(),
            {static_cast<size_t>(obs.value.rows()), static_cast<size_t>(obs.value.cols())});
    f.close();
  }
  out.commit();
}

std::vector<int64_t> unobserved_indices(const std::vector<int64_t>& index, int64_t n_outputs) {
  std::vector<char> observed(static_cast<size_t>(n_outputs), 0);
  for (int64_t i : index)
    if (i >= 0 && i < n_outputs) observed[static_cast<size_t>(i)] = 1;
  std::vector<int64_t> out;
  for (int64_t i = 0; i < n_outputs; ++i)
    if (!observed[static_cast<size_t>(i)]) out.push_back(i);
  return out;
}

}  // namespace ved::inference
