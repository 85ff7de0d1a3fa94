// libFuzzer target: HDF5 dataset files through ved::read_dataset (with /head), and the
// listing that `ved info` prints (every object and its attributes).
//
//   build-checked/tests/fuzz/fuzz_dataset -max_total_time=60 tests/fuzz/corpus/fuzz_dataset
#include <cstddef>
#include <cstdint>

#include "fuzz_util.hpp"
#include "ved/data/dataset.hpp"
#include "ved/util/h5.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ved::fuzz::TempInput file(data, size, ".h5");
  ved::fuzz::run_excluding_hdf5_faults("fuzz_dataset", [&] {
    try {
      ved::ReadOptions opt;
      opt.load_head = true;
      ved::Dataset d = ved::read_dataset(file.path(), opt);
      if (d.x.rows() != d.y.rows()) std::abort();
    } catch (const ved::Error& e) {
      ved::fuzz::rejected(e);
    }
    try {
      auto f = ved::h5::File::open_read(file.path());
      for (const auto& obj : f.list("/")) f.attrs(obj.name);
      f.attrs("/");
    } catch (const ved::Error& e) {
      ved::fuzz::rejected(e);
    }
  });
  return 0;
}
