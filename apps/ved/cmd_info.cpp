// ved info: what a dataset, model or array file holds.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>

#include "commands.hpp"
#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"
#include "ved/util/shape_text.hpp"
#include "ved/util/npy.hpp"

namespace ved::app {
namespace {
namespace fs = std::filesystem;

constexpr size_t kMaxShownStrings = 16;

size_t count(const std::vector<size_t>& dims) {
  size_t n = 1;
  for (size_t d : dims) n *= d;
  return n;
}

// "text" for a scalar, ["a", "b"] for an array; long values are cut at 200 characters.
std::string strings_text(const std::vector<std::string>& v, bool is_array) {
  auto cut = [](const std::string& s) { return s.size() > 200 ? s.substr(0, 200) + "..." : s; };
  if (!is_array && v.size() == 1) return "\"" + cut(v[0]) + "\"";
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", \"" : "\"") + cut(v[i]) + "\"";
  return s + "]";
}

void describe_hdf5(const std::string& path) {
  auto f = h5::File::open_read(path);
  std::printf("%s: HDF5 file, %ju bytes\n", path.c_str(), static_cast<uintmax_t>(fs::file_size(path)));
  for (const auto& [k, v] : f.attrs("/")) {
    std::string shown = v.size() > 200 ? v.substr(0, 200) + "..." : v;
    std::printf("  @%s = %s\n", k.c_str(), shown.c_str());
  }
  for (const auto& o : f.list("/")) {
    if (o.is_group) {
      std::printf("  %s/\n", o.name.c_str());
    } else if (o.dtype == "string" && count(o.dims) <= kMaxShownStrings) {
      // Short text (a description, names of the outputs) is shown with its values.
      std::printf("  %-28s %-9s %s = %s\n", o.name.c_str(), o.dtype.c_str(), shape_text(o.dims).c_str(),
                  strings_text(f.read_strings(o.name, nullptr), !o.dims.empty()).c_str());
    } else {
      std::printf("  %-28s %-9s %s\n", o.name.c_str(), o.dtype.c_str(), shape_text(o.dims).c_str());
    }
    if (o.is_group)
      for (const auto& [k, v] : f.attrs(o.name)) std::printf("    @%s = %s\n", k.c_str(), v.c_str());
  }
}

void run_info(const std::vector<std::string>& files) {
  for (const auto& path : files) {
    VED_CHECK(fs::exists(path), path << ": file not found");
    if (fs::is_directory(path)) {
      std::printf("%s: folder\n", path.c_str());
      for (const auto& e : fs::directory_iterator(path)) {
        std::string p = e.path().string();
        if (e.is_regular_file() && h5::is_hdf5(p)) describe_hdf5(p);
        else if (e.is_regular_file())
          std::printf("  %s (%ju bytes)\n", e.path().filename().c_str(), static_cast<uintmax_t>(e.file_size()));
      }
      continue;
    }
    if (path.size() > 4 && path.compare(path.size() - 4, 4, ".npy") == 0) {
      npy::Array a = npy::read(path);
      std::printf("%s: NumPy array %s %s\n", path.c_str(), a.dtype.c_str(), shape_text(a.dims).c_str());
      continue;
    }
    VED_CHECK(h5::is_hdf5(path), path << ": not an HDF5 file, a .npy array or a folder");
    describe_hdf5(path);
  }
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto files = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = app.add_subcommand("info", "Print what a dataset, model folder or array file holds");
  cmd->add_option("files", *files, "HDF5/.mat/.npy files or run folders")->required();
  cmd->callback([files] { run_info(*files); });
}

}  // namespace ved::app
