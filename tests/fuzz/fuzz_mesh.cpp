// libFuzzer target: MRST-style .mat (HDF5) files through every mesh-folder loader:
// load_mrst_mesh, and load_mrst_bc, load_well_cells and load_mrst_field against a small
// structured mesh.
//
//   build-checked/tests/fuzz/fuzz_mesh -max_total_time=60 tests/fuzz/corpus/fuzz_mesh
#include <cstddef>
#include <cstdint>

#include "fuzz_util.hpp"
#include "ved/mesh/mesh.hpp"
#include "ved/mesh/site_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const ved::Mesh kGrid = ved::make_structured_mesh(3, 2);
  ved::fuzz::TempInput file(data, size, ".mat");
  ved::fuzz::run_excluding_hdf5_faults("fuzz_mesh", [&] {
    try {
      ved::load_mrst_mesh(file.path());
    } catch (const ved::Error& e) {
      ved::fuzz::rejected(e);
    }
    try {
      ved::load_mrst_bc(file.path(), kGrid);
    } catch (const ved::Error& e) {
      ved::fuzz::rejected(e);
    }
    try {
      ved::load_well_cells(file.path(), kGrid.n_cells);
    } catch (const ved::Error& e) {
      ved::fuzz::rejected(e);
    }
    try {
      ved::load_mrst_field(file.path(), "conduct_log", kGrid.n_cells);
    } catch (const ved::Error& e) {
      ved::fuzz::rejected(e);
    }
  });
  return 0;
}
