#pragma once
// A small RAII layer over the HDF5 C API: whole-array reads converted to double or
// int64, writes of row-major arrays, string/number attributes. Every failure throws
// ved::Error naming the file and the object, never HDF5's own stack dump.
//
//   auto f = h5::File::open_read("data.h5");
//   std::vector<size_t> dims;
//   std::vector<double> x = f.read_double("/x", &dims);   // dims = {N, n}
#include <cstdint>
#include <string>
#include <vector>

namespace ved {
class AtomicOutput;
}

namespace ved::h5 {

struct ObjectInfo {
  std::string name;              // full path, e.g. "/x"
  bool is_group = false;
  std::vector<size_t> dims;      // datasets only
  std::string dtype;             // "float64", "float32", "int64", "uint16", "string", ...
};

class File {
 public:
  static File open_read(const std::string& path);
  static File create(const std::string& path);  // truncates
  // Creates `out`'s temporary; errors name the final path the user asked for.
  static File create(const AtomicOutput& out);
  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File();

  const std::string& path() const { return path_; }
  bool has(const std::string& name) const;
  ObjectInfo info(const std::string& name) const;
  // Every object below `group`, depth first (for `ved info`).
  std::vector<ObjectInfo> list(const std::string& group = "/") const;

  std::vector<double> read_double(const std::string& name, std::vector<size_t>* dims) const;
  std::vector<float> read_float(const std::string& name, std::vector<size_t>* dims) const;
  std::vector<int64_t> read_int(const std::string& name, std::vector<size_t>* dims) const;
  // The strings of a string dataset, row-major (a scalar dataset gives one, dims {}).
  std::vector<std::string> read_strings(const std::string& name, std::vector<size_t>* dims) const;
  // Rows [row0, row0 + n_rows) of a dataset whose first dimension is the row index.
  std::vector<double> read_rows_double(const std::string& name, size_t row0, size_t n_rows) const;

  void write(const std::string& name, const double* data, const std::vector<size_t>& dims);
  // A float64 dataset of `dims` written in blocks of rows by write_rows (for outputs
  // produced block by block, e.g. `ved solve`): create_rows once, then rows [row0,
  // row0 + n_rows) of data [n_rows, dims[1...]] per call.
  void create_rows(const std::string& name, const std::vector<size_t>& dims);
  void write_rows(const std::string& name, size_t row0, size_t n_rows, const double* data);
  void write(const std::string& name, const float* data, const std::vector<size_t>& dims);
  void write(const std::string& name, const int64_t* data, const std::vector<size_t>& dims);
  void create_group(const std::string& name);

  void set_attr(const std::string& object, const std::string& key, const std::string& value);
  void set_attr(const std::string& object, const std::string& key, double value);
  void set_attr(const std::string& object, const std::string& key, int64_t value);
  bool has_attr(const std::string& object, const std::string& key) const;
  // Strings are read fixed- or variable-length, ASCII or UTF-8 (h5py's default for a str).
  std::string attr_string(const std::string& object, const std::string& key) const;
  double attr_double(const std::string& object, const std::string& key) const;
  // Attribute names and values rendered as text (for `ved info`).
  std::vector<std::pair<std::string, std::string>> attrs(const std::string& object) const;

  // Flushes and closes; reports write errors that a destructor would have to swallow.
  void close();

 private:
  File(std::string path, int64_t id) : path_(std::move(path)), id_(id) {}
  std::string path_;
  int64_t id_ = -1;  // hid_t
};

// True when the file starts with the HDF5 signature (also at the 512-byte offset that
// MATLAB v7.3 files use).
bool is_hdf5(const std::string& path);

}  // namespace ved::h5
