// main for the fuzz targets outside libFuzzer (the normal build, gcc): runs the target's
// LLVMFuzzerTestOneInput once on every file of the folders (or files) named, so that the
// seed corpus and each input that once crashed the target stay in the default test suite
// (ctest label unit; tests/fuzz/CMakeLists.txt).
//
//   build/tests/fuzz/fuzz_npz_replay tests/fuzz/corpus/fuzz_npz tests/fuzz/regressions/fuzz_npz
//
// The targets catch ved::Error, the answer to a bad file. Any other exception fails the
// run, naming the input; a crash kills it, and the last "replay:" line names the input.
// Replays are strict (VED_FUZZ_STRICT=1, fuzz_util.hpp): an input that crashes inside
// libhdf5 fails as well, since every kept input must run to ved's own error.
#include <stdlib.h>  // setenv

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <typeinfo>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FOLDER_OR_FILE...\n", argv[0]);
    return 2;
  }
  setenv("VED_FUZZ_STRICT", "1", /*overwrite=*/1);
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    const fs::path arg = argv[i];
    if (fs::is_regular_file(arg)) {
      inputs.push_back(arg);
    } else if (fs::is_directory(arg)) {
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(arg))
        if (e.is_regular_file()) files.push_back(e.path());
      std::sort(files.begin(), files.end());  // same order on every run
      inputs.insert(inputs.end(), files.begin(), files.end());
    } else {
      std::fprintf(stderr, "%s: no such file or folder\n", argv[i]);
      return 2;
    }
  }
  if (inputs.empty()) {
    std::fprintf(stderr, "%s: no inputs in the folders given\n", argv[0]);
    return 2;
  }
  int failed = 0;
  for (const fs::path& p : inputs) {
    std::fprintf(stderr, "replay: %s\n", p.c_str());
    std::fflush(stderr);
    std::ifstream in(p, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      std::fprintf(stderr, "%s: cannot read\n", p.c_str());
      ++failed;
      continue;
    }
    try {
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: FAILED: %s escaped the target: %s\n", p.c_str(), typeid(e).name(), e.what());
      ++failed;
    } catch (...) {
      std::fprintf(stderr, "%s: FAILED: a non-standard exception escaped the target\n", p.c_str());
      ++failed;
    }
  }
  std::fprintf(stderr, "%s: %zu inputs, %d failed\n", argv[0], inputs.size(), failed);
  return failed == 0 ? 0 : 1;
}
