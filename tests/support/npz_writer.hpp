#pragma once
// Writes NumPy .npz archives for tests, the way numpy.savez (stored members) and
// numpy.savez_compressed (deflated) do: a zip of "<name>.npy" images, made with libzip.
#include <zip.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "ved/util/npy.hpp"

namespace ved::test {

struct NpzMember {
  std::string name;  // without ".npy"
  std::vector<double> data;
  std::vector<size_t> dims;
};

inline void write_npz(const std::string& path, const std::vector<NpzMember>& members, bool compress) {
  std::remove(path.c_str());
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  if (!z) throw std::runtime_error("zip_open failed for " + path);
  std::vector<std::string> images;  // must live until zip_close
  images.reserve(members.size());
  for (const NpzMember& m : members) {
    const std::string tmp = path + "." + m.name + ".tmp.npy";
    npy::write(tmp, m.data.data(), m.dims);
    std::ifstream in(tmp, std::ios::binary);
    images.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    std::remove(tmp.c_str());
    zip_source_t* src = zip_source_buffer(z, images.back().data(), images.back().size(), 0);
    zip_int64_t idx = zip_file_add(z, (m.name + ".npy").c_str(), src, ZIP_FL_OVERWRITE);
    if (idx < 0) throw std::runtime_error("zip_file_add failed");
    zip_set_file_compression(z, static_cast<zip_uint64_t>(idx), compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
  }
  if (zip_close(z) != 0) throw std::runtime_error("zip_close failed for " + path);
}

}  // namespace ved::test
