#include "ved/util/h5.hpp"

#include <hdf5.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "ved/util/atomic_file.hpp"
#include "ved/util/error.hpp"

namespace ved::h5 {
namespace {

// HDF5's default error handler prints a stack to stderr; we report our own messages.
void silence_hdf5() {
  static std::once_flag once;
  std::call_once(once, [] {
    // No library shutdown at exit: after a failed write (disk full, file-size limit) the
    // half-closed file makes HDF5 1.10's exit handler crash; the OS closes the file anyway.
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  });
}

// Closes any HDF5 identifier on scope exit.
struct Handle {
  hid_t id = -1;
  explicit Handle(hid_t i) : id(i) {}
  ~Handle() {
    if (id < 0) return;
    switch (H5Iget_type(id)) {
      case H5I_DATASET: H5Dclose(id); break;
      case H5I_DATASPACE: H5Sclose(id); break;
      case H5I_DATATYPE: H5Tclose(id); break;
      case H5I_ATTR: H5Aclose(id); break;
      case H5I_GROUP: H5Gclose(id); break;
      case H5I_GENPROP_LST: H5Pclose(id); break;
      default: break;
    }
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  operator hid_t() const { return id; }
};

std::string type_name(hid_t type) {
  switch (H5Tget_class(type)) {
    case H5T_FLOAT: return H5Tget_size(type) == 4 ? "float32" : "float64";
    case H5T_INTEGER: {
      bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
      return std::string(is_signed ? "int" : "uint") + std::to_string(8 * H5Tget_size(type));
    }
    case H5T_STRING: return "string";
    case H5T_REFERENCE: return "reference";
    case H5T_COMPOUND: return "compound";
    default: return "other";
  }
}

std::vector<size_t> space_dims(hid_t space) {
  int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> d(rank > 0 ? rank : 0);
  if (rank > 0) H5Sget_simple_extent_dims(space, d.data(), nullptr);
  return std::vector<size_t>(d.begin(), d.end());
}

size_t product(const std::vector<size_t>& dims) {
  size_t n = 1;
  for (size_t d : dims) n *= d;
  return n;
}

// libhdf5's conversions trust a number type's bit fields; a corrupt header (precision 0,
// fields past the type's size) makes H5T__bit_copy read out of bounds. Checked before
// any H5Dread/H5Aread that converts.
bool sane_number_type(hid_t type) {
  H5T_class_t cls = H5Tget_class(type);
  if (cls != H5T_INTEGER && cls != H5T_FLOAT) return false;
  size_t size = H5Tget_size(type), bits = 8 * size;
  size_t precision = H5Tget_precision(type);
  int offset = H5Tget_offset(type);
  H5T_order_t order = H5Tget_order(type);
  if (size < 1 || size > 16 || precision < 1 || offset < 0 ||
      static_cast<size_t>(offset) + precision > bits || (order != H5T_ORDER_LE && order != H5T_ORDER_BE))
    return false;
  if (cls == H5T_INTEGER) return H5Tget_sign(type) == H5T_SGN_NONE || H5Tget_sign(type) == H5T_SGN_2;
  size_t spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0;
  if (H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) < 0) return false;
  return spos < bits && esize >= 1 && esize <= 32 && epos + esize <= bits && msize >= 1 &&
         mpos + msize <= bits;
}

// Values in a dataset of `dims`, refusing sizes that a corrupt header can claim but the
// file cannot hold: stored data takes its bytes in the file, and compression (deflate, at
// most ~1032:1) cannot expand it further than kMaxExpansion. Checked before allocating.
size_t checked_count(const std::string& path, const std::string& what,
                     const std::vector<size_t>& dims, size_t elem_size) {
  constexpr double kMaxExpansion = 1100;
  size_t n = 1;
  double bytes = static_cast<double>(elem_size);
  for (size_t d : dims) {
    bytes *= static_cast<double>(d);
    n *= d;
  }
  std::error_code ec;
  double file_size = static_cast<double>(std::filesystem::file_size(path, ec));
  if (ec) file_size = 1e15;  // unknown: still stop a count that wraps around
  if (bytes > kMaxExpansion * file_size) {
    std::ostringstream shape;
    for (size_t i = 0; i < dims.size(); ++i) shape << (i ? " x " : "") << dims[i];
    VED_FAIL(path << ": " << what << " claims " << shape.str() << " values ("
                  << bytes << " bytes), more than a file of " << file_size
                  << " bytes can hold even compressed; the file is corrupt");
  }
  return n;
}

template <class T>
std::vector<T> read_numeric(const std::string& path, hid_t file, const std::string& name,
                            hid_t memtype, std::vector<size_t>* dims) {
  VED_CHECK(H5Lexists(file, name.c_str(), H5P_DEFAULT) > 0,
            path << ": dataset '" << name << "' not found");
  Handle ds(H5Dopen2(file, name.c_str(), H5P_DEFAULT));
  VED_CHECK(ds >= 0, path << ": '" << name << "' is not a readable dataset");
  Handle type(H5Dget_type(ds));
  H5T_class_t cls = H5Tget_class(type);
  VED_CHECK(cls == H5T_FLOAT || cls == H5T_INTEGER,
            path << ": dataset '" << name << "' has type " << type_name(type)
                 << "; expected a numeric array");
  VED_CHECK(sane_number_type(type), path << ": dataset '" << name << "' has a corrupt "
                                         << type_name(type) << " type (file corrupt?)");
  Handle space(H5Dget_space(ds));
  std::vector<size_t> d = space_dims(space);
  std::vector<T> out(checked_count(path, "dataset '" + name + "'", d, sizeof(T)));
  if (!out.empty()) {
    VED_CHECK(H5Dread(ds, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) >= 0,
              path << ": cannot read dataset '" << name << "' (file truncated or corrupt?)");
  }
  if (dims) *dims = d;
  return out;
}

// The strings of an attribute or dataset (`what` names it in errors), row-major, read by
// `read(memtype, buffer)`: fixed-length (NUL-terminated, NUL- or space-padded) or
// variable-length, ASCII or UTF-8. HDF5 converts between neither the two kinds nor the two
// character sets, so the memory type takes the stored kind and set: h5py writes a Python
// str as a variable-length UTF-8 string, MATLAB and ved fixed-length ASCII.
// Attributes are never compressed: their strings must fit in the file as they are.
template <class Read>
std::vector<std::string> read_string_values(const std::string& path, const std::string& what, hid_t type,
                                            hid_t space, bool is_attribute, Read read) {
  VED_CHECK(H5Tget_class(type) == H5T_STRING, path << ": " << what << " is not a string (" << type_name(type) << ")");
  const H5T_cset_t cset = H5Tget_cset(type);
  VED_CHECK(cset == H5T_CSET_ASCII || cset == H5T_CSET_UTF8,
            path << ": " << what << " has an unknown character set (file corrupt?)");
  const std::vector<size_t> dims = space_dims(space);
  const bool variable = H5Tis_variable_str(type) > 0;
  // A variable-length string is a 16-byte reference in the file; a fixed one its characters.
  const size_t stored_size = variable ? 16 : H5Tget_size(type);
  const size_t n = checked_count(path, what, dims, std::max<size_t>(stored_size, 1));
  std::vector<std::string> out;
  out.reserve(n);
  if (n == 0) return out;
  if (variable) {
    Handle mem(H5Tcopy(H5T_C_S1));
    H5Tset_size(mem, H5T_VARIABLE);
    H5Tset_cset(mem, cset);
    std::vector<char*> ptrs(n, nullptr);
    const bool ok = read(static_cast<hid_t>(mem), static_cast<void*>(ptrs.data())) >= 0;
    for (char* s : ptrs) {
      if (ok) out.emplace_back(s ? s : "");
      if (s) H5free_memory(s);
    }
    VED_CHECK(ok, path << ": cannot read " << what << " (file truncated or corrupt?)");
    return out;
  }
  const size_t size = H5Tget_size(type);
  VED_CHECK(size >= 1, path << ": " << what << " has strings of 0 characters (file corrupt?)");
  if (is_attribute) {
    std::error_code ec;
    const double file_size = static_cast<double>(std::filesystem::file_size(path, ec));
    VED_CHECK(ec || static_cast<double>(size) * static_cast<double>(n) <= file_size,
              path << ": " << what << " claims " << n << " x " << size
                   << " characters, more than the file holds (file corrupt?)");
  }
  Handle mem(H5Tcopy(type));  // the stored size, padding and character set
  std::vector<char> buf(n * size, '\0');
  VED_CHECK(read(static_cast<hid_t>(mem), static_cast<void*>(buf.data())) >= 0,
            path << ": cannot read " << what << " (file truncated or corrupt?)");
  const bool space_padded = H5Tget_strpad(type) == H5T_STR_SPACEPAD;
  for (size_t i = 0; i < n; ++i) {
    const char* s = buf.data() + i * size;
    size_t len = 0;
    while (len < size && s[len] != '\0') ++len;
    if (space_padded)
      while (len > 0 && s[len - 1] == ' ') --len;
    out.emplace_back(s, len);
  }
  return out;
}

// Short string arrays are shown whole, as ["a", "b"]; longer ones as their type.
constexpr hssize_t kMaxListedStrings = 16;

std::string list_text(const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", \"" : "\"") + v[i] + "\"";
  return s + "]";
}

void ensure_parent_groups(hid_t file, const std::string& name) {
  for (size_t pos = name.find('/', 1); pos != std::string::npos; pos = name.find('/', pos + 1)) {
    std::string g = name.substr(0, pos);
    if (H5Lexists(file, g.c_str(), H5P_DEFAULT) <= 0) {
      Handle h(H5Gcreate2(file, g.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    }
  }
}

void write_numeric(const std::string& path, hid_t file, const std::string& name, hid_t filetype,
                   hid_t memtype, const void* data, const std::vector<size_t>& dims) {
  ensure_parent_groups(file, name);
  std::vector<hsize_t> d(dims.begin(), dims.end());
  Handle space(H5Screate_simple(static_cast<int>(d.size()), d.data(), nullptr));
  Handle ds(H5Dcreate2(file, name.c_str(), filetype, space, H5P_DEFAULT, H5P_DEFAULT,
                       H5P_DEFAULT));
  VED_CHECK(ds >= 0, path << ": cannot create dataset '" << name << "'");
  if (product(dims) > 0) {
    VED_CHECK(H5Dwrite(ds, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0,
              path << ": cannot write dataset '" << name << "' (disk full or file-size limit?)");
  }
}

hid_t open_object(hid_t file, const std::string& path, const std::string& object) {
  hid_t obj = H5Oopen(file, object.c_str(), H5P_DEFAULT);
  VED_CHECK(obj >= 0, path << ": object '" << object << "' not found");
  return obj;
}

struct ObjectCloser {
  hid_t id;
  ~ObjectCloser() { H5Oclose(id); }
};

void write_attr(const std::string& path, hid_t file, const std::string& object,
                const std::string& key, hid_t type, const void* value) {
  hid_t obj = open_object(file, path, object);
  ObjectCloser oc{obj};
  if (H5Aexists(obj, key.c_str()) > 0) H5Adelete(obj, key.c_str());
  Handle space(H5Screate(H5S_SCALAR));
  Handle attr(H5Acreate2(obj, key.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT));
  VED_CHECK(attr >= 0 && H5Awrite(attr, type, value) >= 0,
            path << ": cannot write attribute '" << key << "' on '" << object << "'");
}

}  // namespace

bool is_hdf5(const std::string& path) {
  static const char kSig[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  for (std::streamoff off : {std::streamoff(0), std::streamoff(512), std::streamoff(1024)}) {
    char buf[8] = {};
    in.clear();
    in.seekg(off);
    if (in.read(buf, 8) && std::memcmp(buf, kSig, 8) == 0) return true;
  }
  return false;
}

File File::open_read(const std::string& path) {
  silence_hdf5();
  VED_CHECK(std::filesystem::exists(path), path << ": file not found");
  VED_CHECK(std::filesystem::is_regular_file(path), path << ": not a regular file");
  VED_CHECK(is_hdf5(path), path << ": not an HDF5 file (bad signature; truncated or another format?)");
  hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  VED_CHECK(id >= 0, path << ": cannot open as HDF5 (file truncated or corrupt?)");
  return File(path, id);
}

File File::create(const std::string& path) {
  silence_hdf5();
  errno = 0;
  hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  int err = errno;
  VED_CHECK(id >= 0, path << ": cannot create HDF5 file" << (err ? std::string(": ") + std::strerror(err) : std::string())
                          << " (directory missing or not writable, or disk full?)");
  return File(path, id);
}

File File::create(const AtomicOutput& out) {
  File f = create(out.temp_path());
  f.path_ = out.final_path();
  return f;
}

File::File(File&& other) noexcept : path_(std::move(other.path_)), id_(other.id_) {
  other.id_ = -1;
}

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    if (id_ >= 0) H5Fclose(id_);
    path_ = std::move(other.path_);
    id_ = other.id_;
    other.id_ = -1;
  }
  return *this;
}

File::~File() {
  if (id_ >= 0) H5Fclose(id_);
}

void File::close() {
  if (id_ < 0) return;
  herr_t flush = H5Fflush(id_, H5F_SCOPE_LOCAL);
  herr_t rc = H5Fclose(id_);
  id_ = -1;
  VED_CHECK(flush >= 0 && rc >= 0, path_ << ": cannot finish writing the file (disk full?)");
}

bool File::has(const std::string& name) const {
  if (name == "/") return true;
  // Check each component so that a missing parent group is not an HDF5 error.
  for (size_t pos = name.find('/', 1);; pos = name.find('/', pos + 1)) {
    std::string part = name.substr(0, pos);
    if (H5Lexists(id_, part.c_str(), H5P_DEFAULT) <= 0) return false;
    if (pos == std::string::npos) return true;
  }
}

ObjectInfo File::info(const std::string& name) const {
  VED_CHECK(has(name), path_ << ": object '" << name << "' not found");
  ObjectInfo oi;
  oi.name = name;
  H5O_info_t meta;
  VED_CHECK(H5Oget_info_by_name(id_, name.c_str(), &meta, H5P_DEFAULT) >= 0,
            path_ << ": cannot inspect '" << name << "'");
  if (meta.type == H5O_TYPE_GROUP) {
    oi.is_group = true;
    return oi;
  }
  Handle ds(H5Dopen2(id_, name.c_str(), H5P_DEFAULT));
  VED_CHECK(ds >= 0, path_ << ": '" << name << "' is not a dataset");
  Handle type(H5Dget_type(ds));
  Handle space(H5Dget_space(ds));
  oi.dims = space_dims(space);
  oi.dtype = type_name(type);
  return oi;
}

std::vector<ObjectInfo> File::list(const std::string& group) const {
  std::vector<std::string> names;
  auto cb = [](hid_t, const char* name, const H5O_info_t*, void* data) -> herr_t {
    auto* v = static_cast<std::vector<std::string>*>(data);
    if (std::strcmp(name, ".") != 0) v->push_back(name);
    return 0;
  };
  Handle g(H5Gopen2(id_, group.c_str(), H5P_DEFAULT));
  VED_CHECK(g >= 0, path_ << ": group '" << group << "' not found");
  H5Ovisit(g, H5_INDEX_NAME, H5_ITER_INC, cb, &names);
  std::vector<ObjectInfo> out;
  std::string prefix = group == "/" ? "/" : group + "/";
  for (const auto& n : names) out.push_back(info(prefix + n));
  return out;
}

std::vector<double> File::read_double(const std::string& name, std::vector<size_t>* dims) const {
  return read_numeric<double>(path_, id_, name, H5T_NATIVE_DOUBLE, dims);
}

std::vector<float> File::read_float(const std::string& name, std::vector<size_t>* dims) const {
  return read_numeric<float>(path_, id_, name, H5T_NATIVE_FLOAT, dims);
}

std::vector<int64_t> File::read_int(const std::string& name, std::vector<size_t>* dims) const {
  std::vector<size_t> d;
  // Read through double so that MATLAB's float-typed index arrays load too; reject
  // non-integral values instead of truncating them.
  std::vector<double> v = read_double(name, &d);
  std::vector<int64_t> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    // Range first: converting a double outside int64's range is undefined behaviour.
    VED_CHECK(v[i] >= -9.2e18 && v[i] <= 9.2e18 && v[i] == std::floor(v[i]),
              path_ << ": dataset '" << name << "' entry " << i << " = " << v[i]
                    << " is not an integer");
    out[i] = static_cast<int64_t>(v[i]);
  }
  if (dims) *dims = d;
  return out;
}

std::vector<double> File::read_rows_double(const std::string& name, size_t row0,
                                           size_t n_rows) const {
  ObjectInfo oi = info(name);
  VED_CHECK(!oi.is_group && !oi.dims.empty(), path_ << ": '" << name << "' is not an array");
  VED_CHECK(row0 + n_rows <= oi.dims[0], path_ << ": rows [" << row0 << ", " << row0 + n_rows
                                               << ") of '" << name << "' out of range [0, "
                                               << oi.dims[0] << ")");
  Handle ds(H5Dopen2(id_, name.c_str(), H5P_DEFAULT));
  Handle space(H5Dget_space(ds));
  std::vector<hsize_t> start(oi.dims.size(), 0), count(oi.dims.begin(), oi.dims.end());
  start[0] = row0;
  count[0] = n_rows;
  size_t row_size = checked_count(path_, "dataset '" + name + "'", oi.dims, sizeof(double)) / (oi.dims[0] ? oi.dims[0] : 1);
  std::vector<double> out(n_rows * row_size);
  if (out.empty()) return out;
  H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
  Handle mem(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr));
  VED_CHECK(H5Dread(ds, H5T_NATIVE_DOUBLE, mem, space, H5P_DEFAULT, out.data()) >= 0,
            path_ << ": cannot read rows of '" << name << "' (file truncated or corrupt?)");
  return out;
}

void File::write(const std::string& name, const double* data, const std::vector<size_t>& dims) {
  write_numeric(path_, id_, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, data, dims);
}
void File::create_rows(const std::string& name, const std::vector<size_t>& dims) {
  VED_CHECK(!dims.empty(), path_ << ": dataset '" << name << "' written by rows needs at least one dimension");
  ensure_parent_groups(id_, name);
  std::vector<hsize_t> d(dims.begin(), dims.end());
  Handle space(H5Screate_simple(static_cast<int>(d.size()), d.data(), nullptr));
  Handle ds(H5Dcreate2(id_, name.c_str(), H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  VED_CHECK(ds >= 0, path_ << ": cannot create dataset '" << name << "'");
}

void File::write_rows(const std::string& name, size_t row0, size_t n_rows, const double* data) {
  if (n_rows == 0) return;
  Handle ds(H5Dopen2(id_, name.c_str(), H5P_DEFAULT));
  VED_CHECK(ds >= 0, path_ << ": no dataset '" << name << "' to write rows into (create_rows first)");
  Handle space(H5Dget_space(ds));
  std::vector<size_t> dims = space_dims(space);
  VED_CHECK(!dims.empty() && row0 + n_rows <= dims[0], path_ << ": rows [" << row0 << ", " << row0 + n_rows
                                                             << ") of '" << name << "' out of range [0, "
                                                             << (dims.empty() ? 0 : dims[0]) << ")");
  std::vector<hsize_t> start(dims.size(), 0), count(dims.begin(), dims.end());
  start[0] = row0;
  count[0] = n_rows;
  H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
  Handle mem(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr));
  VED_CHECK(H5Dwrite(ds, H5T_NATIVE_DOUBLE, mem, space, H5P_DEFAULT, data) >= 0,
            path_ << ": cannot write rows of dataset '" << name << "' (disk full or file-size limit?)");
}

void File::write(const std::string& name, const float* data, const std::vector<size_t>& dims) {
  write_numeric(path_, id_, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, data, dims);
}
void File::write(const std::string& name, const int64_t* data, const std::vector<size_t>& dims) {
  write_numeric(path_, id_, name, H5T_STD_I64LE, H5T_NATIVE_INT64, data, dims);
}

void File::create_group(const std::string& name) {
  ensure_parent_groups(id_, name + "/");
}

void File::set_attr(const std::string& object, const std::string& key, const std::string& value) {
  Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type, value.empty() ? 1 : value.size());
  H5Tset_strpad(type, H5T_STR_NULLPAD);
  write_attr(path_, id_, object, key, type, value.empty() ? "" : value.data());
}
void File::set_attr(const std::string& object, const std::string& key, double value) {
  write_attr(path_, id_, object, key, H5T_NATIVE_DOUBLE, &value);
}
void File::set_attr(const std::string& object, const std::string& key, int64_t value) {
  write_attr(path_, id_, object, key, H5T_NATIVE_INT64, &value);
}

bool File::has_attr(const std::string& object, const std::string& key) const {
  if (!has(object)) return false;
  return H5Aexists_by_name(id_, object.c_str(), key.c_str(), H5P_DEFAULT) > 0;
}

std::string File::attr_string(const std::string& object, const std::string& key) const {
  VED_CHECK(has_attr(object, key), path_ << ": attribute '" << key << "' missing on '" << object << "'");
  Handle attr(H5Aopen_by_name(id_, object.c_str(), key.c_str(), H5P_DEFAULT, H5P_DEFAULT));
  VED_CHECK(attr >= 0, path_ << ": cannot open attribute '" << key << "' on '" << object << "' (file corrupt?)");
  Handle type(H5Aget_type(attr));
  const std::string what = "attribute '" + key + "' on '" + object + "'";
  VED_CHECK(H5Tget_class(type) == H5T_STRING, path_ << ": " << what << " is not a string");
  // H5Aread fills the whole dataspace: one string, or it would write past the buffer.
  Handle space(H5Aget_space(attr));
  VED_CHECK(H5Sget_simple_extent_npoints(space) == 1, path_ << ": " << what << " is not a single string");
  std::vector<std::string> v = read_string_values(path_, what, type, space, /*is_attribute=*/true,
                                                  [&](hid_t mem, void* buf) { return H5Aread(attr, mem, buf); });
  return v.empty() ? std::string() : v[0];
}

std::vector<std::string> File::read_strings(const std::string& name, std::vector<size_t>* dims) const {
  VED_CHECK(has(name), path_ << ": dataset '" << name << "' not found");
  Handle ds(H5Dopen2(id_, name.c_str(), H5P_DEFAULT));
  VED_CHECK(ds >= 0, path_ << ": '" << name << "' is not a readable dataset");
  Handle type(H5Dget_type(ds));
  Handle space(H5Dget_space(ds));
  const std::string what = "dataset '" + name + "'";
  VED_CHECK(H5Tget_class(type) == H5T_STRING,
            path_ << ": " << what << " has type " << type_name(type) << "; expected strings");
  std::vector<std::string> v = read_string_values(path_, what, type, space, /*is_attribute=*/false,
                                                  [&](hid_t mem, void* buf) {
                                                    return H5Dread(ds, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
                                                  });
  if (dims) *dims = space_dims(space);
  return v;
}

double File::attr_double(const std::string& object, const std::string& key) const {
  VED_CHECK(has_attr(object, key), path_ << ": attribute '" << key << "' missing on '" << object << "'");
  Handle attr(H5Aopen_by_name(id_, object.c_str(), key.c_str(), H5P_DEFAULT, H5P_DEFAULT));
  Handle type(H5Aget_type(attr));
  H5T_class_t cls = H5Tget_class(type);
  VED_CHECK(cls == H5T_FLOAT || cls == H5T_INTEGER,
            path_ << ": attribute '" << key << "' on '" << object << "' is not a number");
  VED_CHECK(sane_number_type(type), path_ << ": attribute '" << key << "' on '" << object
                                          << "' has a corrupt number type (file corrupt?)");
  Handle space(H5Aget_space(attr));
  VED_CHECK(H5Sget_simple_extent_npoints(space) == 1,
            path_ << ": attribute '" << key << "' on '" << object << "' is not a scalar");
  double v = 0;
  VED_CHECK(H5Aread(attr, H5T_NATIVE_DOUBLE, &v) >= 0, path_ << ": cannot read attribute '" << key << "'");
  return v;
}

std::vector<std::pair<std::string, std::string>> File::attrs(const std::string& object) const {
  std::vector<std::string> keys;
  auto cb = [](hid_t, const char* name, const H5A_info_t*, void* data) -> herr_t {
    static_cast<std::vector<std::string>*>(data)->push_back(name);
    return 0;
  };
  hid_t obj = open_object(id_, path_, object);
  ObjectCloser oc{obj};
  // HDF5 1.10 dereferences a null attribute (H5A__attr_release_table) when H5Aiterate2
  // builds its table of attributes and one fails to decode. A lookup by name decodes them
  // all without that table, so a corrupt attribute is reported here instead.
  VED_CHECK(H5Aexists(obj, "\x01ved-probe") >= 0,
            path_ << ": cannot read the attributes of '" << object << "' (file corrupt?)");
  // Native order: dense attribute storage is then walked directly, again without a table.
  VED_CHECK(H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_NATIVE, nullptr, cb, &keys) >= 0,
            path_ << ": cannot list the attributes of '" << object << "' (file corrupt?)");
  std::sort(keys.begin(), keys.end());
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& k : keys) {
    Handle attr(H5Aopen(obj, k.c_str(), H5P_DEFAULT));
    Handle type(H5Aget_type(attr));
    Handle space(H5Aget_space(attr));
    std::string value;
    H5T_class_t cls = H5Tget_class(type);
    VED_CHECK((cls != H5T_INTEGER && cls != H5T_FLOAT) || sane_number_type(type),
              path_ << ": attribute '" << k << "' on '" << object << "' has a corrupt number type (file corrupt?)");
    if (cls == H5T_STRING && H5Sget_simple_extent_npoints(space) == 1) {
      value = attr_string(object, k);
    } else if (cls == H5T_STRING && H5Sget_simple_extent_npoints(space) <= kMaxListedStrings) {
      value = list_text(read_string_values(path_, "attribute '" + k + "' on '" + object + "'", type, space,
                                           /*is_attribute=*/true,
                                           [&](hid_t mem, void* buf) { return H5Aread(attr, mem, buf); }));
    } else if (H5Sget_simple_extent_npoints(space) == 1 && (cls == H5T_FLOAT || cls == H5T_INTEGER)) {
      double v = 0;
      H5Aread(attr, H5T_NATIVE_DOUBLE, &v);
      std::ostringstream os;
      os.precision(10);
      os << v;
      value = os.str();
    } else {
      value = "<" + type_name(type) + ">";
    }
    out.emplace_back(k, value);
  }
  return out;
}

}  // namespace ved::h5
