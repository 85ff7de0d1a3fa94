// The corrupt HDF5 files kept by the fuzzers (tests/fuzz/regressions/fuzz_dataset,
// fuzz_mesh; docs/reliability.md, "Found and fixed") read in this process, without the
// fuzz targets' forked child: each must end in ved's own error, with its text. Several of
// them crash libhdf5 itself (SIGSEGV, SIGBUS) unless ved checks the file before the HDF5
// call, so removing such a check crashes this test instead of passing it.
#include <gtest/gtest.h>

#include <string>

#include "ved/data/dataset.hpp"
#include "ved/mesh/mesh.hpp"
#include "ved/mesh/site_io.hpp"
#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"

namespace ved {
namespace {

const std::string kDir = VED_FUZZ_REGRESSIONS;

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

std::string dataset_error(const std::string& file) {
  return error_of([&] { read_dataset(kDir + "/fuzz_dataset/" + file, {.load_head = true}); });
}

// What `ved info` does: every object's attributes, then the root's.
std::string listing_error(const std::string& file) {
  return error_of([&] {
    auto f = h5::File::open_read(kDir + "/fuzz_dataset/" + file);
    for (const auto& obj : f.list("/")) f.attrs(obj.name);
    f.attrs("/");
  });
}

#define EXPECT_HAS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

}  // namespace

// H5Aiterate2 on an object with an undecodable attribute crashed in HDF5
// (H5A__attr_release_table); ved looks the attribute up by name first.
TEST(Hdf5Regressions, UndecodableAttributeIsAnErrorNotASegfault) {
  const std::string f = "attribute_undecodable_hdf5_segv.h5";
  EXPECT_HAS(dataset_error(f), f + ": '/wells' is not a readable dataset");
  EXPECT_HAS(listing_error(f), f + ": cannot read the attributes of '/' (file corrupt?)");
}

// An integer type with 0-bit precision sent HDF5's conversion out of bounds (SIGBUS);
// ved checks the number type before every converting read.
TEST(Hdf5Regressions, ZeroPrecisionIntegerIsAnErrorNotABusError) {
  const std::string f = "integer_zero_precision_hdf5_bus.h5";
  EXPECT_HAS(dataset_error(f), f + ": dataset '/map2grid/entry_cell' has a corrupt int64 type (file corrupt?)");
}

// HDF5 over-reads while decoding this file's attribute messages (seen under ASan); the
// dataset read stops at the type of /x.
TEST(Hdf5Regressions, ReferenceTypedDataIsAnError) {
  const std::string f = "attribute_decode_overread_hdf5.h5";
  EXPECT_HAS(dataset_error(f), f + ": dataset '/x' has type reference; expected a numeric array");
}

TEST(Hdf5Regressions, ImageSizeIsCheckedAgainstTheCells) {
  const std::string f = "map2grid_huge_image.h5";
  EXPECT_HAS(dataset_error(f),
             f + ": '/map2grid' image 2x1684366707 does not fit a map of 1 cells; each side must be a whole number in "
                 "[1, 1]");
}

// A corrupt root object header: HDF5 leaked (and once tried to malloc 2.8 GB) before
// failing; ved reports the file as unreadable.
TEST(Hdf5Regressions, CorruptRootHeaderCannotBeOpened) {
  for (const std::string f : {"root_header_corrupt_hdf5_leak.h5", "root_header_size_2_8gb_hdf5_malloc.h5"}) {
    EXPECT_HAS(dataset_error(f), f + ": cannot open as HDF5 (file truncated or corrupt?)");
    EXPECT_HAS(listing_error(f), f + ": cannot open as HDF5 (file truncated or corrupt?)");
  }
}

// An index of -3.1e231 was cast to int64 before the "is not an integer" check (UBSan).
TEST(Hdf5Regressions, IndexBeyondInt64IsAnError) {
  const std::string f = kDir + "/fuzz_mesh/index_value_beyond_int64.mat";
  EXPECT_HAS(error_of([&] { load_well_cells(f, 6); }),
             f + ": dataset '/well_cells' entry 0 = -3.10504e+231 is not an integer");
  EXPECT_HAS(error_of([&] { load_mrst_mesh(f); }), f + ": dataset '/cells/num' not found");
}

}  // namespace ved
