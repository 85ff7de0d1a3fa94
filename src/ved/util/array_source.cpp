#include "ved/util/array_source.hpp"

#include <filesystem>

#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"
#include "ved/util/npy.hpp"

namespace ved {

ArraySource ArraySource::parse(const std::string& spec, const std::string& default_member) {
  ArraySource s;
  size_t colon = spec.rfind(':');
  if (colon != std::string::npos && colon > 0 && !std::filesystem::exists(spec)) {
    s.file = spec.substr(0, colon);
    s.member = spec.substr(colon + 1);
  } else {
    s.file = spec;
    s.member = default_member;
  }
  return s;
}

LoadedArray load_array(const ArraySource& source) {
  VED_CHECK(std::filesystem::exists(source.file), source.file << ": file not found");
  LoadedArray out;
  const std::string& f = source.file;
  auto ends_with = [&](const char* ext) {
    std::string e(ext);
    return f.size() >= e.size() && f.compare(f.size() - e.size(), e.size(), e) == 0;
  };
  if (ends_with(".npy")) {
    npy::Array a = npy::read(f);
    out.dims = std::move(a.dims);
    out.data = std::move(a.data);
    return out;
  }
  VED_CHECK(!ends_with(".npz"), f << ": .npz archives are not supported yet; save each array with numpy.save");
  VED_CHECK(!source.member.empty(),
            f << ": name the dataset inside the HDF5 file, e.g. '" << f << ":/x'");
  auto file = h5::File::open_read(f);
  std::string name = source.member[0] == '/' ? source.member : "/" + source.member;
  out.data = file.read_double(name, &out.dims);
  return out;
}

}  // namespace ved
