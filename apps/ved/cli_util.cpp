#include "cli_util.hpp"

#include <thread>

#include "ved/util/array_source.hpp"
#include "ved/util/error.hpp"

namespace ved::app {

int default_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

MatrixRM load_rows(const std::string& spec, long n_cols, const std::string& what) {
  ArraySource src = ArraySource::parse(spec);
  LoadedArray a = load_array(src);
  VED_CHECK(!a.dims.empty(), src.str() << ": " << what << " is a scalar; expected [K, " << n_cols << "]");
  size_t rows = a.dims.size() == 1 ? 1 : a.dims[0];
  size_t cols = a.data.size() / std::max<size_t>(rows, 1);
  VED_CHECK(static_cast<long>(cols) == n_cols && rows * cols == a.data.size(),
            src.str() << ": " << what << " has shape [" << (a.dims.size() == 1 ? 1 : a.dims[0]) << ", " << cols
                      << "]; expected [K, " << n_cols << "] for this mesh");
  VED_CHECK(rows > 0, src.str() << ": " << what << " has zero rows");
  MatrixRM m = Eigen::Map<MatrixRM>(a.data.data(), static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  return m;
}

}  // namespace ved::app
