#include "ved/util/array_source.hpp"

#include <filesystem>

#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"
#include "ved/util/npy.hpp"

#include <zip.h>

namespace ved {
namespace {

// One member of a NumPy .npz archive (a zip of .npy files, stored or deflated), read with
// libzip. `name` may omit the ".npy" that numpy.savez appends.
npy::Array read_npz_member(const std::string& file, const std::string& name) {
  int err = 0;
  zip_t* za = zip_open(file.c_str(), ZIP_RDONLY, &err);
  if (!za) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, err);
    std::string why = zip_error_strerror(&ze);
    zip_error_fini(&ze);
    VED_FAIL(file << ": not a readable .npz (zip) archive: " << why);
  }
  struct Closer {
    zip_t* z;
    ~Closer() { zip_discard(z); }
  } closer{za};
  const zip_int64_t n = zip_get_num_entries(za, 0);
  std::vector<std::string> names;
  for (zip_int64_t i = 0; i < n; ++i) {
    const char* nm = zip_get_name(za, static_cast<zip_uint64_t>(i), 0);
    if (nm) names.emplace_back(nm);
  }
  auto list = [&] {
    std::string s;
    for (const auto& nm : names) {
      std::string base = nm.size() > 4 && nm.compare(nm.size() - 4, 4, ".npy") == 0 ? nm.substr(0, nm.size() - 4) : nm;
      s += (s.empty() ? "" : ", ") + base;
    }
    return s.empty() ? std::string("(none)") : s;
  };
  VED_CHECK(!name.empty(), file << ": name the array inside the .npz, e.g. '" << file << ":x' (it holds: " << list() << ")");
  std::string member = name;
  zip_int64_t index = zip_name_locate(za, (member + ".npy").c_str(), 0);
  if (index < 0) index = zip_name_locate(za, member.c_str(), 0);
  VED_CHECK(index >= 0, file << ": no array '" << name << "' in the archive (it holds: " << list() << ")");
  zip_stat_t st;
  zip_stat_init(&st);
  VED_CHECK(zip_stat_index(za, static_cast<zip_uint64_t>(index), 0, &st) == 0 && (st.valid & ZIP_STAT_SIZE),
            file << ": cannot read the size of member '" << name << "'");
  // An .npy member larger than the whole archive can only come from a compressed member;
  // cap the claim so a forged size cannot make us allocate without bound.
  constexpr zip_uint64_t kMaxMember = zip_uint64_t(1) << 36;  // 64 GiB
  VED_CHECK(st.size <= kMaxMember, file << ": member '" << name << "' claims " << st.size << " bytes");
  zip_file_t* zf = zip_fopen_index(za, static_cast<zip_uint64_t>(index), 0);
  VED_CHECK(zf, file << ": cannot open member '" << name << "': " << zip_strerror(za));
  std::string bytes(static_cast<size_t>(st.size), '\0');
  zip_int64_t got = zip_fread(zf, bytes.data(), st.size);
  std::string why = got < 0 ? zip_file_strerror(zf) : "";
  zip_fclose(zf);
  VED_CHECK(got == static_cast<zip_int64_t>(st.size),
            file << ": member '" << name << "' is truncated or corrupt" << (why.empty() ? "" : ": " + why));
  return npy::parse(bytes, file + ":" + name);
}

}  // namespace

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
  if (ends_with(".npz")) {
    npy::Array a = read_npz_member(f, source.member);
    out.dims = std::move(a.dims);
    out.data = std::move(a.data);
    return out;
  }
  VED_CHECK(!source.member.empty(),
            f << ": name the dataset inside the HDF5 file, e.g. '" << f << ":/x'");
  auto file = h5::File::open_read(f);
  std::string name = source.member[0] == '/' ? source.member : "/" + source.member;
  out.data = file.read_double(name, &out.dims);
  return out;
}

}  // namespace ved
