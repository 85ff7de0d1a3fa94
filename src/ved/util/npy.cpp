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

Array parse(const std::string& bytes, const std::string& name) {
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
  Array a;
  a.dtype = header_value(header, "descr", name);
  bool fortran = header_value(header, "fortran_order", name) == "True";
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
  size_t data_off = offset + header_len;
  VED_CHECK((bytes.size() - data_off) / elem >= n,
            name << ": truncated .npy data: header says " << n << " values of " << elem
                 << " bytes, file holds " << (bytes.size() - data_off) << " bytes");
  const char* src = bytes.data() + data_off;
  if (t == "<f8") convert<double>(src, n, a.data);
  else if (t == "<f4") convert<float>(src, n, a.data);
  else if (t == "<i8") convert<int64_t>(src, n, a.data);
  else if (t == "<u8") convert<uint64_t>(src, n, a.data);
  else if (t == "<i4") convert<int32_t>(src, n, a.data);
  else if (t == "<u4") convert<uint32_t>(src, n, a.data);
  else if (t == "|i1") convert<int8_t>(src, n, a.data);
  else convert<uint8_t>(src, n, a.data);
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

Array read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  VED_CHECK(in, path << ": cannot open: " << std::strerror(errno));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
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
