#pragma once
// Where an array comes from: "FILE.npy", "FILE.npz:name" or "FILE.h5:/path".
//   ArraySource s = ArraySource::parse("runs/fields.h5:/x");
//   LoadedArray a = load_array(s);    // dims + row-major doubles
#include <string>
#include <vector>

namespace ved {

struct ArraySource {
  std::string file;
  std::string member;  // dataset path inside an HDF5 file or .npz; empty for .npy
  static ArraySource parse(const std::string& spec, const std::string& default_member = "");
  std::string str() const { return member.empty() ? file : file + ":" + member; }
};

struct LoadedArray {
  std::vector<size_t> dims;
  std::vector<double> data;  // row-major
};

LoadedArray load_array(const ArraySource& source);

}  // namespace ved
