#include "ved/util/npy.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "ved/util/atomic_file.hpp"
#include "ved/util/error.hpp"

namespace ved::npy {
namespace {

std::string header_value(const std::string& header, const std::string& key,
                         const std::string& name) {
  size_t k = header.find("'" + key + "'");
  VED_CHECK(k != std::string::npos, name << ": .npy header has no '" << key << "' entry");
  size_t colon = header.find(':', k);
  VED_CHECK(colon != std::string::npos, name << ": malformed .npy header");
  size_t start = header.find_first_not_of(" ", colon + 1);
  VED_CHECK(start != std::string::npos, name << ": malformed .npy header");
  size_t end;
  if (header[start] == '(') {
    end = header.find(')', start);
    VED_CHECK(end != std::string::npos, name << ": malformed shape in .npy header");
    return header.substr(start, end - start + 1);
  }
  if (header[start] == '\'') {
    end = header.find('\'', start + 1);
    VED_CHECK(end != std::string::npos, name << ": malformed .npy header");
    return header.substr(start + 1, end - start - 1);
  }
  end = header.find_first_of(",}", start);
  return header.substr(start, end - start);
}

template <class T>
void convert(const char* src, size_t n, std::vector<double>& out) {
  out.resize(n);
  for (size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, src + i * sizeof(T), sizeof(T));
    out[i] = static_cast<double>(v);
  }
}

// n values of dtype t (a checked .npy dtype) at src, as doubles.
void convert_typed(const std::string& t, const char* src, size_t n, std::vector<double>& out) {
  if (t == "<f8") convert<double>(src, n, out);
  else if (t == "<f4") convert<float>(src, n, out);
  else if (t == "<i8") convert<int64_t>(src, n, out);
  else if (t == "<u8") convert<uint64_t>(src, n, out);
  else if (t == "<i4") convert<int32_t>(src, n, out);
  else if (t == "<u4") convert<uint32_t>(src, n, out);
  else if (t == "|i1") convert<int8_t>(src, n, out);
  else convert<uint8_t>(src, n, out);
}

void write_raw(const std::string& path, const std::string& descr, const void* data,
               size_t elem_size, const std::vector<size_t>& dims) {
  std::ostringstream shape;
  shape << "(";
  size_t n = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    shape << dims[i] << (dims.size() == 1 || i + 1 < dims.size() ? "," : "");
    if (i + 1 < dims.size()) shape << " ";
    n *= dims[i];
  }
  shape << ")";
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " +
                       shape.str() + ", }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  uint16_t len = static_cast<uint16_t>(header.size());
  out.push_back(static_cast<char>(len & 0xff));
  out.push_back(static_cast<char>(len >> 8));
  out += header;
  out.append(static_cast<const char*>(data), n * elem_size);
  write_text_atomic(path, out);
}

}  // namespace

Header parse_header(const std::string& bytes, size_t total_size, const std::string& name) {
  VED_CHECK(bytes.size() >= 10 && bytes.compare(0, 6, "\x93NUMPY") == 0,
            name << ": not a NumPy .npy file (bad magic)");
  int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len, offset;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    offset = 10;
  } else {
    VED_CHECK(bytes.size() >= 12, name << ": truncated .npy header");
    header_len = 0;
    for (int i = 0; i < 4; ++i) header_len |= static_cast<size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    offset = 12;
  }
  VED_CHECK(bytes.size() >= offset + header_len, name << ": truncated .npy header");
  std::string header = bytes.substr(offset, header_len);
  Header a;
  a.dtype = header_value(header, "descr", name);
  a.fortran = header_value(header, "fortran_order", name) == "True";
  std::string shape = header_value(header, "shape", name);
  VED_CHECK(shape.size() >= 2 && shape.front() == '(' && shape.back() == ')',
            name << ": malformed shape '" << shape << "' in .npy header; expected a tuple like (2, 3)");
  // Sizes are checked against the bytes present below, so the count must not wrap.
  const size_t kMaxDim = size_t{1} << 62;
  size_t n = 1;
  bool in_number = false;
  for (size_t i = 1; i < shape.size(); ++i) {
    char c = shape[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      if (!in_number) a.dims.push_back(0);
      in_number = true;
      size_t& d = a.dims.back();
      VED_CHECK(d <= (kMaxDim - 9) / 10, name << ": .npy shape " << shape << " is too large");
      d = d * 10 + static_cast<size_t>(c - '0');
      continue;
    }
    VED_CHECK(c == ',' || c == ' ' || c == 'L' || c == ')',
              name << ": malformed shape " << shape << " in .npy header; expected non-negative sizes");
    if (in_number) {
      VED_CHECK(a.dims.back() == 0 || n <= kMaxDim / a.dims.back(), name << ": .npy shape " << shape << " is too large");
      n *= a.dims.back();
    }
    in_number = false;
  }
  const std::string& t = a.dtype;
  size_t elem = 0;
  if (t == "<f8" || t == "<i8" || t == "<u8") elem = 8;
  else if (t == "<f4" || t == "<i4" || t == "<u4") elem = 4;
  else if (t == "|u1" || t == "|b1" || t == "|i1") elem = 1;
  VED_CHECK(elem > 0, name << ": unsupported .npy dtype '" << t
                           << "'; expected float32/float64/int32/int64/uint8/bool little-endian");
  const size_t data_off = offset + header_len;
  VED_CHECK(total_size >= data_off && (total_size - data_off) / elem >= n,
            name << ": truncated .npy data: header says " << n << " values of " << elem
                 << " bytes, file holds " << (total_size >= data_off ? total_size - data_off : 0) << " bytes");
  a.data_offset = data_off;
  a.elem_size = elem;
  a.count = n;
  return a;
}

Array parse(const std::string& bytes, const std::string& name) {
  const Header h = parse_header(bytes, bytes.size(), name);
  Array a;
  a.dims = h.dims;
  a.dtype = h.dtype;
  const std::string& t = h.dtype;
  const bool fortran = h.fortran;
  const size_t n = h.count, data_off = h.data_offset;
  convert_typed(t, bytes.data() + data_off, n, a.data);
  if (fortran && a.dims.size() > 1) {
    // Column-major → row-major: general N-d transpose of index order.
    std::vector<double> rm(n);
    size_t nd = a.dims.size();
    std::vector<size_t> idx(nd, 0);
    for (size_t lin = 0; lin < n; ++lin) {
      size_t f = 0, stride = 1;
      for (size_t k = 0; k < nd; ++k) { f += idx[k] * stride; stride *= a.dims[k]; }
      rm[lin] = a.data[f];
      for (size_t k = nd; k-- > 0;) { if (++idx[k] < a.dims[k]) break; idx[k] = 0; }
    }
    a.data.swap(rm);
  }
  return a;
}

Header read_header(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  VED_CHECK(in, path << ": cannot open: " << std::strerror(errno));
  const std::streamoff size = in.tellg();
  VED_CHECK(size >= 0, path << ": cannot tell the file's size");
  in.seekg(0);
  std::string prefix(static_cast<size_t>(std::min<std::streamoff>(size, 12)), '\0');
  in.read(prefix.data(), static_cast<std::streamsize>(prefix.size()));
  size_t header_end = prefix.size();
  if (prefix.size() >= 10 && prefix.compare(0, 6, "\x93NUMPY") == 0) {
    const bool v1 = static_cast<unsigned char>(prefix[6]) == 1;
    size_t len = 0;
    for (int i = 0; i < (v1 ? 2 : 4) && 8 + i < static_cast<int>(prefix.size()); ++i)
      len |= static_cast<size_t>(static_cast<unsigned char>(prefix[8 + i])) << (8 * i);
    header_end = std::min<size_t>(static_cast<size_t>(size), (v1 ? 10 : 12) + len);
  }
  std::string bytes(header_end, '\0');
  in.seekg(0);
  in.read(bytes.data(), static_cast<std::streamsize>(header_end));
  return parse_header(bytes, static_cast<size_t>(size), path);
}

std::vector<double> read_rows(const std::string& path, const Header& h, size_t row0, size_t n_rows) {
  VED_CHECK(!h.fortran || h.dims.size() < 2, path << ": rows of a Fortran-order array cannot be read in blocks");
  size_t row = 1;
  for (size_t k = 1; k < h.dims.size(); ++k) row *= h.dims[k];
  const size_t rows = h.dims.empty() ? 1 : h.dims[0];
  VED_CHECK(row0 + n_rows <= rows, path << ": rows [" << row0 << ", " << row0 + n_rows << ") out of range [0, " << rows
                                        << ")");
  std::ifstream in(path, std::ios::binary);
  VED_CHECK(in, path << ": cannot open: " << std::strerror(errno));
  std::string bytes(n_rows * row * h.elem_size, '\0');
  in.seekg(static_cast<std::streamoff>(h.data_offset + row0 * row * h.elem_size));
  VED_CHECK(in.read(bytes.data(), static_cast<std::streamsize>(bytes.size())), path << ": cannot read rows " << row0
                                                                                      << " to " << row0 + n_rows);
  std::vector<double> out;
  convert_typed(h.dtype, bytes.data(), n_rows * row, out);
  return out;
}

Array read(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  VED_CHECK(in, path << ": cannot open: " << std::strerror(errno));
  // One read of the whole file (a 118 MB array: 0.05 s, where reading it a character at a
  // time through stream iterators took 1.4 s); a pipe has no size and is read to its end.
  const std::streamoff size = in.tellg();
  std::string bytes;
  if (size >= 0) {
    in.seekg(0);
    bytes.resize(static_cast<size_t>(size));
    VED_CHECK(in.read(bytes.data(), static_cast<std::streamsize>(size)), path << ": cannot read the file");
  } else {
    in.clear();
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return parse(bytes, path);
}

void write(const std::string& path, const double* data, const std::vector<size_t>& dims) {
  write_raw(path, "<f8", data, 8, dims);
}
void write(const std::string& path, const float* data, const std::vector<size_t>& dims) {
  write_raw(path, "<f4", data, 4, dims);
}
void write(const std::string& path, const int64_t* data, const std::vector<size_t>& dims) {
  write_raw(path, "<i8", data, 8, dims);
}

}  // namespace ved::npy
