#include "ved/util/array_source.hpp"

#include <cstdint>
#include <filesystem>
#include <system_error>

#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"
#include "ved/util/npy.hpp"
#include "ved/util/parse.hpp"

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
  auto list = [&] {  // the first 20 names, for error messages
    std::string s;
    for (size_t i = 0; i < names.size() && i < 20; ++i) {
      const std::string& nm = names[i];
      std::string base = nm.size() > 4 && nm.compare(nm.size() - 4, 4, ".npy") == 0 ? nm.substr(0, nm.size() - 4) : nm;
      for (char& ch : base)
        if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = '?';  // a corrupt name stays one line
      s += (s.empty() ? "" : ", ") + base;
    }
    if (names.size() > 20) s += " and " + std::to_string(names.size() - 20) + " more";
    return s.empty() ? std::string("(none)") : s;
  };
  VED_CHECK(!name.empty(), file << ": name the array inside the .npz, e.g. '" << file << ":x' (it holds: " << list() << ")");
  std::string member = name;
  zip_int64_t index = zip_name_locate(za, (member + ".npy").c_str(), 0);
  if (index < 0) index = zip_name_locate(za, member.c_str(), 0);
  VED_CHECK(index >= 0, file << ": no array '" << name << "' in the archive (it holds: " << list() << ")");
  zip_stat_t st;
  zip_stat_init(&st);
  const zip_uint64_t need = ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD;
  VED_CHECK(zip_stat_index(za, static_cast<zip_uint64_t>(index), 0, &st) == 0 && (st.valid & need) == need,
            file << ": cannot read the size of member '" << name << "': " << zip_strerror(za));
  // The sizes come from the archive's directory, so a corrupt one can claim anything; the
  // buffer below is sized from them. numpy.savez stores members and savez_compressed
  // deflates them; deflate expands at most ~1032:1, so neither can hold more than
  // 1032 times the archive's own size.
  VED_CHECK(st.comp_method == ZIP_CM_STORE || st.comp_method == ZIP_CM_DEFLATE,
            file << ": member '" << name << "' uses zip compression method " << st.comp_method
                 << "; expected stored (0) or deflated (8), as numpy.savez and savez_compressed write");
  std::error_code ec;
  const uintmax_t file_size = std::filesystem::file_size(file, ec);
  VED_CHECK(!ec, file << ": cannot read its size: " << ec.message());
  const zip_uint64_t kMaxRatio = 1032;
  const bool fits = st.comp_size <= file_size &&
                    st.size <= (st.comp_method == ZIP_CM_STORE ? st.comp_size : st.comp_size * kMaxRatio);
  VED_CHECK(fits,
            file << ": member '" << name << "' claims " << st.size << " bytes (" << st.comp_size << " bytes "
                 << (st.comp_method == ZIP_CM_STORE ? "stored" : "deflated") << ") in an archive of " << file_size
                 << " bytes; the archive is corrupt");
  zip_file_t* zf = zip_fopen_index(za, static_cast<zip_uint64_t>(index), 0);
  VED_CHECK(zf, file << ": cannot open member '" << name << "': " << zip_strerror(za));
  std::string bytes(static_cast<size_t>(st.size), '\0');
  zip_int64_t got = zip_fread(zf, bytes.data(), st.size);
  // libzip checks the member's CRC-32 only once a read reaches its end: read one byte
  // more, so that a corrupt member is an error and not silently wrong numbers.
  char past_end;
  const zip_int64_t more = got == static_cast<zip_int64_t>(st.size) ? zip_fread(zf, &past_end, 1) : 0;
  std::string why;
  if (got < 0 || more < 0) why = zip_file_strerror(zf);
  else if (got < static_cast<zip_int64_t>(st.size))
    why = "it ends after " + std::to_string(got) + " of the " + std::to_string(st.size) + " bytes its directory entry claims";
  else if (more > 0)
    why = "it holds more than the " + std::to_string(st.size) + " bytes its directory entry claims";
  zip_fclose(zf);
  VED_CHECK(why.empty(), file << ": member '" << name << "' is truncated or corrupt: " << why);
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
  if (ends_with(f, ".npy")) {
    npy::Array a = npy::read(f);
    out.dims = std::move(a.dims);
    out.data = std::move(a.data);
    return out;
  }
  if (ends_with(f, ".npz")) {
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
