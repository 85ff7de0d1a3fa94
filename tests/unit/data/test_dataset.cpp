// The dataset file (ved/data/dataset.hpp): round trip, and the cell -> pixel map that
// read_dataset validates before it sizes anything from it.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "ved/data/dataset.hpp"
#include "ved/grid/map2grid.hpp"
#include "ved/mesh/mesh.hpp"
#include "ved/mesh/site_io.hpp"
#include "support/npz_writer.hpp"
#include "ved/util/array_source.hpp"
#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"
#include "ved/util/npy.hpp"

namespace ved {
namespace fs = std::filesystem;

namespace {

std::string tmp(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("ved_test_dataset_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return (dir / name).string();
}

// Three fields on a 3x2 grid with its identity map.
Dataset grid_dataset() {
  Dataset d;
  d.x = MatrixRM::Constant(3, 6, 0.5);
  d.y = MatrixRM::Constant(3, 2, 1.5);
  d.mesh = "grid:3x2";
  d.grid_map = compute_grid_map(make_structured_mesh(3, 2));
  d.has_grid_map = true;
  return d;
}

std::string read_error(const std::string& path) {
  try {
    read_dataset(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

// Every field and attribute comes back as written: distinct values in every entry (so a
// transposed or shifted read shows), the per-sample shape, and both kinds of attribute.
TEST(Dataset, RoundTripKeepsValuesAttributesAndTheGridMap) {
  Dataset w = grid_dataset();
  w.x.resize(3, 6);
  w.y.resize(3, 2);
  w.xi.resize(3, 4);
  w.head.resize(3, 6);
  for (Eigen::Index i = 0; i < w.x.size(); ++i) w.x.data()[i] = 0.5 + 1.25 * i - 0.01 * i * i;
  for (Eigen::Index i = 0; i < w.y.size(); ++i) w.y.data()[i] = 100.0 / (i + 3);
  for (Eigen::Index i = 0; i < w.xi.size(); ++i) w.xi.data()[i] = std::sin(1.0 + i);
  for (Eigen::Index i = 0; i < w.head.size(); ++i) w.head.data()[i] = 120.0 - 0.3 * i;
  w.wells = {4, 1};
  w.x_shape = {2, 3};
  w.text_attrs = {{"generator", "test_dataset"}, {"y_quantity", "head [m]"}};
  w.number_attrs = {{"seed", 42}, {"sigma", 1.625}};
  std::string p = tmp("grid.h5");
  write_dataset(p, w);
  Dataset d = read_dataset(p, {.load_head = true});
  EXPECT_EQ(d.x, w.x);
  EXPECT_EQ(d.y, w.y);
  EXPECT_EQ(d.xi, w.xi);
  EXPECT_EQ(d.head, w.head);
  EXPECT_EQ(d.wells, w.wells);
  EXPECT_EQ(d.x_shape, w.x_shape);
  EXPECT_EQ(d.mesh, "grid:3x2");
  for (const auto& [k, v] : w.text_attrs) EXPECT_EQ(d.text_attrs[k], v) << k;
  for (const auto& [k, v] : w.number_attrs) EXPECT_EQ(d.number_attrs[k], v) << k;
  EXPECT_EQ(read_dataset(p).head.size(), 0);  // /head only when asked for
  ASSERT_TRUE(d.has_grid_map);
  EXPECT_EQ(d.grid_map.height, 2);
  EXPECT_EQ(d.grid_map.width, 3);
  EXPECT_EQ(d.grid_map.cell_pixel, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(d.grid_map.entry_cell, w.grid_map.entry_cell);
  EXPECT_EQ(d.grid_map.entry_pixel, w.grid_map.entry_pixel);
  EXPECT_EQ(d.grid_map.n_filled(), 6);
}

// Found by fuzzing (tests/fuzz/regressions/fuzz_dataset/map2grid_huge_image.h5): the image
// size came from the file's attributes unchecked, so a corrupt one allocated gigabytes.
TEST(Dataset, GridMapLargerThanItsCellsIsAnError) {
  Dataset d = grid_dataset();
  d.grid_map.height = 1 << 20;
  d.grid_map.width = 1 << 20;
  std::string p = tmp("huge.h5");
  write_dataset(p, d);
  EXPECT_NE(read_error(p).find("'/map2grid' image 1048576x1048576 does not fit a map of 6 cells"), std::string::npos)
      << read_error(p);
}

TEST(Dataset, GridMapEntriesOutOfOrderOrRangeAreErrors) {
  Dataset d = grid_dataset();
  std::swap(d.grid_map.entry_cell[0], d.grid_map.entry_cell[1]);
  std::string p = tmp("order.h5");
  write_dataset(p, d);
  EXPECT_NE(read_error(p).find("'/map2grid/entry_cell' entry 0 = 1; the first 6 entries must be cells 0, 1, ..."),
            std::string::npos)
      << read_error(p);

  d = grid_dataset();
  d.grid_map.entry_pixel[5] = 6;
  p = tmp("pixel.h5");
  write_dataset(p, d);
  EXPECT_NE(read_error(p).find("'/map2grid/entry_pixel' entry 5 = 6 out of range [0, 6)"), std::string::npos)
      << read_error(p);
}

// --- Arrays from users' files: .npz members, and datasets from --x/--y sources ---------

namespace {

std::vector<double> iota(size_t n, double start) {
  std::vector<double> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = start + 0.25 * static_cast<double>(i);
  return v;
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(UserArrays, NpzStoredAndDeflatedMembersReadBack) {
  for (bool compress : {false, true}) {
    const std::string path = tmp(compress ? "c.npz" : "s.npz");
    test::write_npz(path, {{"x", iota(24, 1.0), {2, 3, 4}}, {"y", iota(6, -3.0), {2, 3}}}, compress);
    LoadedArray x = load_array(ArraySource::parse(path + ":x"));
    EXPECT_EQ(x.dims, (std::vector<size_t>{2, 3, 4}));
    EXPECT_EQ(x.data, iota(24, 1.0));
    LoadedArray y = load_array(ArraySource::parse(path + ":y.npy"));  // numpy's member name also works
    EXPECT_EQ(y.dims, (std::vector<size_t>{2, 3}));
    EXPECT_EQ(y.data, iota(6, -3.0));
  }
}

TEST(UserArrays, NpzErrorsNameTheFileAndTheMembers) {
  const std::string path = tmp("e.npz");
  test::write_npz(path, {{"fields", iota(4, 0), {2, 2}}, {"heads", iota(2, 0), {2}}}, false);
  std::string e = error_of([&] { load_array(ArraySource::parse(path + ":x")); });
  EXPECT_NE(e.find("no array 'x'"), std::string::npos) << e;
  EXPECT_NE(e.find("fields, heads"), std::string::npos) << e;
  e = error_of([&] { load_array(ArraySource::parse(path)); });
  EXPECT_NE(e.find("name the array inside the .npz"), std::string::npos) << e;
  // Truncated archive: the central directory is gone.
  {
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(tmp("t.npz"), std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    std::ofstream(tmp("n.npz"), std::ios::binary) << "this is not a zip archive";
  }
  for (const char* bad : {"t.npz", "n.npz"}) {
    e = error_of([&] { load_array(ArraySource::parse(tmp(bad) + ":fields")); });
    EXPECT_NE(e.find(tmp(bad)), std::string::npos) << e;
    EXPECT_NE(e.find("not a readable .npz"), std::string::npos) << e;
  }
}

// A corrupt zip directory can claim any member size; the loader sized its buffer from
// it (fuzz_npz: gigabyte allocations). Sizes beyond what the archive can hold, compression
// methods numpy never writes, and members whose CRC-32 does not match (they loaded as
// wrong numbers) are errors (tests/fuzz/regressions/fuzz_npz).
TEST(UserArrays, NpzCorruptMembersAreErrors) {
  const std::string path = tmp("f.npz");
  test::write_npz(path, {{"x", iota(6, 0), {2, 3}}}, false);
  std::ifstream in(path, std::ios::binary);
  const std::string good((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Patches a 4-byte (or 2-byte) little-endian field at `at` in every local and central header.
  auto forge = [&](const std::string& name, size_t local_at, size_t central_at, uint32_t value, int width) {
    std::string b = good;
    for (const auto& [magic, at] : {std::pair<std::string, size_t>{"PK\x03\x04", local_at}, {"PK\x01\x02", central_at}})
      for (size_t i = b.find(magic); i != std::string::npos; i = b.find(magic, i + 4))
        for (int k = 0; k < width; ++k) b[i + at + k] = static_cast<char>((value >> (8 * k)) & 0xff);
    std::ofstream(tmp(name), std::ios::binary) << b;
    return tmp(name);
  };
  const std::string huge = forge("huge.npz", 22, 24, 900u << 20, 4);  // uncompressed size
  std::string e = error_of([&] { load_array(ArraySource::parse(huge + ":x")); });
  EXPECT_NE(e.find(huge + ": member 'x' claims 943718400 bytes"), std::string::npos) << e;
  EXPECT_NE(e.find("stored) in an archive of " + std::to_string(good.size()) + " bytes"), std::string::npos) << e;
  const std::string bzip2 = forge("bzip2.npz", 8, 10, 12, 2);  // compression method
  e = error_of([&] { load_array(ArraySource::parse(bzip2 + ":x")); });
  EXPECT_NE(e.find("member 'x' uses zip compression method 12; expected stored (0) or deflated (8)"),
            std::string::npos) << e;
  std::string flipped = good;  // the last byte of x's data, just before the central directory
  flipped[good.find("PK\x01\x02") - 1] ^= 0x40;
  std::ofstream(tmp("crc.npz"), std::ios::binary) << flipped;
  e = error_of([&] { load_array(ArraySource::parse(tmp("crc.npz") + ":x")); });
  EXPECT_NE(e.find(tmp("crc.npz") + ": member 'x' is truncated or corrupt: CRC error"), std::string::npos) << e;
}

TEST(UserArrays, CellGraphShapesAreCheckedWithTheShapeFound) {
  const std::string path = tmp("graph.npz");
  test::write_npz(path, {{"centroids", iota(6, 0), {2, 3}}, {"adjacency", {0, 1}, {1, 2}}}, true);
  std::string e = error_of([&] { load_cell_graph(path); });
  EXPECT_NE(e.find(path + ": 'centroids' must be [cells, 2] (x, y of each cell) with cells >= 1; found [2, 3]"),
            std::string::npos) << e;
  test::write_npz(path, {{"centroids", iota(4, 0), {2, 2}}, {"adjacency", {0, 1}, {2}}}, false);
  e = error_of([&] { load_cell_graph(path); });
  EXPECT_NE(e.find("'adjacency' must be [pairs, 2] (0-based cells sharing a face); found [2]"), std::string::npos) << e;
  test::write_npz(path, {{"centroids", iota(4, 0), {2, 2}}, {"adjacency", {0, 1}, {1, 2}}}, false);
  Mesh m = load_cell_graph(path);
  EXPECT_EQ(m.n_cells, 2);
  EXPECT_EQ(m.n_faces, 1);
}

TEST(UserArrays, LoadDataFromArraysKeepsImageShapeAndChecksRows) {
  const std::string x = tmp("x.npy"), y = tmp("y.npz");
  npy::write(x, iota(3 * 2 * 4 * 5, 0.0).data(), {3, 2, 4, 5});  // [N, C, H, W]
  test::write_npz(y, {{"y", iota(3 * 7, 1.0), {3, 7}}, {"short", iota(2 * 7, 1.0), {2, 7}}}, true);
  Dataset d = load_data({"", x, y + ":y"});
  EXPECT_EQ(d.x.rows(), 3);
  EXPECT_EQ(d.x.cols(), 40);
  EXPECT_EQ(d.x_shape, (std::vector<size_t>{2, 4, 5}));
  EXPECT_DOUBLE_EQ(d.x(2, 39), 0.25 * 119);
  EXPECT_DOUBLE_EQ(d.y(1, 0), 1.0 + 0.25 * 7);

  std::string e = error_of([&] { load_data({"", x, y + ":short"}); });
  EXPECT_NE(e.find("has 3 rows"), std::string::npos) << e;
  EXPECT_NE(e.find("has 2"), std::string::npos) << e;
  e = error_of([&] { load_data({"", x, ""}); });
  EXPECT_NE(e.find("--y is missing"), std::string::npos) << e;
  e = error_of([&] { load_data({"d.h5", x, y + ":y"}); });
  EXPECT_NE(e.find("not both"), std::string::npos) << e;
  e = error_of([&] { load_data({"", "", ""}); });
  EXPECT_NE(e.find("give --data"), std::string::npos) << e;

  std::vector<double> bad = iota(3 * 7, 1.0);
  bad[1 * 7 + 4] = std::nan("");
  npy::write(tmp("bad.npy"), bad.data(), {3, 7});
  e = error_of([&] { load_data({"", x, tmp("bad.npy")}); });
  EXPECT_NE(e.find("row 1 column 4"), std::string::npos) << e;
  // Images are named in the shape given: element [2, 1, 3] of [3, 2, 4], not row 2 column 7.
  std::vector<double> bad_images = iota(3 * 2 * 4, 1.0);
  bad_images[2 * 8 + 1 * 4 + 3] = std::numeric_limits<double>::infinity();
  npy::write(tmp("bad_images.npy"), bad_images.data(), {3, 2, 4});
  npy::write(tmp("y3.npy"), iota(3, 0).data(), {3, 1});
  e = error_of([&] { load_data({"", tmp("bad_images.npy"), tmp("y3.npy")}); });
  EXPECT_NE(e.find("element [2, 1, 3] is inf"), std::string::npos) << e;

  npy::write(tmp("x5.npy"), iota(32, 0).data(), {1, 2, 2, 2, 4});
  npy::write(tmp("y1.npy"), iota(1, 0).data(), {1, 1});
  e = error_of([&] { load_data({"", tmp("x5.npy"), tmp("y1.npy")}); });
  EXPECT_NE(e.find("expected [N, n], [N, H, W] or [N, C, H, W]"), std::string::npos) << e;
}

}  // namespace ved

namespace ved {

// ---- Strings as other tools write them. h5py stores a Python str attribute as a scalar
// variable-length UTF-8 string (f.attrs["mesh"] = "grid:3x2"), and a list of str through
// h5py.string_dtype() as a variable-length UTF-8 dataset; MATLAB and Fortran codes write
// fixed-length, space-padded ASCII. Written here with the HDF5 C API exactly so.
namespace {

void write_vlen_utf8_attr(hid_t obj, const char* key, const char* value) {
  if (H5Aexists(obj, key) > 0) H5Adelete(obj, key);  // ved writes an empty mesh attribute
  hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t attr = H5Acreate2(obj, key, type, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(attr, type, &value);
  H5Aclose(attr);
  H5Sclose(space);
  H5Tclose(type);
}

void write_space_padded_attr(hid_t obj, const char* key, const std::string& value, size_t size) {
  hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, size);
  H5Tset_strpad(type, H5T_STR_SPACEPAD);
  std::string padded = value + std::string(size - value.size(), ' ');
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t attr = H5Acreate2(obj, key, type, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(attr, type, padded.data());
  H5Aclose(attr);
  H5Sclose(space);
  H5Tclose(type);
}

void write_vlen_utf8_dataset(hid_t file, const char* name, const std::vector<const char*>& values) {
  hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  hsize_t n = values.size();
  hid_t space = H5Screate_simple(1, &n, nullptr);
  hid_t ds = H5Dcreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
  H5Dclose(ds);
  H5Sclose(space);
  H5Tclose(type);
}

}  // namespace

TEST(Dataset, StringsWrittenByOtherToolsAreRead) {
  Dataset w = grid_dataset();
  w.mesh.clear();  // written below as h5py writes it
  const std::string p = tmp("h5py_strings.h5");
  write_dataset(p, w);
  {
    hid_t f = H5Fopen(p.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    write_vlen_utf8_attr(f, "mesh", "grid:3x2");
    write_vlen_utf8_attr(f, "comment", "K in m\xC2\xB2/s, \xCE\xBB = 0.5");  // non-ASCII UTF-8
    write_space_padded_attr(f, "units", "log10 m2/s", 16);
    write_vlen_utf8_dataset(f, "names", {"well A", "", "w\xC3\xA9ll C"});
    H5Fclose(f);
  }
  const Dataset d = read_dataset(p);
  EXPECT_EQ(d.mesh, "grid:3x2");
  EXPECT_EQ(d.text_attrs.at("comment"), "K in m\xC2\xB2/s, \xCE\xBB = 0.5");
  EXPECT_EQ(d.text_attrs.at("units"), "log10 m2/s");  // the padding is not part of the value
  EXPECT_EQ(d.x, w.x);
  const h5::File f = h5::File::open_read(p);
  std::vector<size_t> dims;
  EXPECT_EQ(f.read_strings("names", &dims), (std::vector<std::string>{"well A", "", "w\xC3\xA9ll C"}));
  EXPECT_EQ(dims, (std::vector<size_t>{3}));
  // A string read as a number, or a number as a string, names what it found.
  try {
    f.read_strings("x", nullptr);
    ADD_FAILURE() << "reading numbers as strings did not fail";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected strings"), std::string::npos) << e.what();
  }
}

}  // namespace ved

namespace ved {

// Blocks of rows of a .npy file (ved solve's input path) equal the same rows of the whole
// array, for float64 written by ved and for float32/int64 written as NumPy would.
TEST(UserArrays, NpyRowBlocksEqualTheWholeArray) {
  const std::vector<double> v = [] {
    std::vector<double> out(7 * 3 * 2);
    for (size_t i = 0; i < out.size(); ++i) out[i] = 0.25 * static_cast<double>(i) - 3;
    return out;
  }();
  const std::string p = tmp("rows.npy");
  npy::write(p, v.data(), {7, 3, 2});
  const npy::Header h = npy::read_header(p);
  EXPECT_EQ(h.dims, (std::vector<size_t>{7, 3, 2}));
  EXPECT_EQ(h.count, v.size());
  EXPECT_EQ(npy::read_rows(p, h, 2, 3), std::vector<double>(v.begin() + 12, v.begin() + 30));
  EXPECT_EQ(npy::read_rows(p, h, 6, 1), std::vector<double>(v.begin() + 36, v.end()));
  const std::vector<float> f(v.begin(), v.end());
  const std::string pf = tmp("rows_f4.npy");
  npy::write(pf, f.data(), {7, 6});
  EXPECT_EQ(npy::read_rows(pf, npy::read_header(pf), 5, 2), std::vector<double>(v.begin() + 30, v.begin() + 42));
  // Out of range and truncated files are errors, not reads past the end.
  EXPECT_NE(error_of([&] { npy::read_rows(p, h, 6, 2); }).find("out of range"), std::string::npos);
  std::filesystem::resize_file(p, 100);
  const std::string e = error_of([&] { npy::read_header(p); });
  EXPECT_NE(e.find("truncated .npy"), std::string::npos) << e;
}

}  // namespace ved
