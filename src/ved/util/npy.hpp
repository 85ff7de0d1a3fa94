#pragma once
// NumPy .npy arrays: reads little-endian float32/float64/int32/int64/uint8/bool in C or
// Fortran order (converted to row-major); writes float64, float32 or int64 in C order.
#include <cstdint>
#include <string>
#include <vector>

namespace ved::npy {

struct Array {
  std::vector<size_t> dims;
  std::vector<double> data;  // row-major
  std::string dtype;         // as found in the header, e.g. "<f8"
};

Array read(const std::string& path);

// A .npy file's header, checked against the file's size (no data read): for reading a
// large array a block of rows at a time (`ved solve`).
struct Header {
  std::vector<size_t> dims;
  std::string dtype;
  bool fortran = false;
  size_t data_offset = 0;  // bytes before the data
  size_t elem_size = 0;    // bytes per value
  size_t count = 0;        // values
};
Header read_header(const std::string& path);
// Rows [row0, row0 + n_rows) of a C-order array (rows = its first dimension) as doubles.
std::vector<double> read_rows(const std::string& path, const Header& h, size_t row0, size_t n_rows);
// Parses an in-memory .npy image (used for .npz members); `name` appears in errors.
Array parse(const std::string& bytes, const std::string& name);

void write(const std::string& path, const double* data, const std::vector<size_t>& dims);
void write(const std::string& path, const float* data, const std::vector<size_t>& dims);
void write(const std::string& path, const int64_t* data, const std::vector<size_t>& dims);

}  // namespace ved::npy
