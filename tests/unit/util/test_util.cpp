#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "ved/util/array_source.hpp"
#include "ved/util/atomic_file.hpp"
#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"
#include "ved/util/npy.hpp"
#include "ved/util/rng.hpp"

namespace ved {
namespace fs = std::filesystem;

namespace {
std::string tmp(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("ved_test_util_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return (dir / name).string();
}
}  // namespace

TEST(Npy, RoundTripAndFortranOrder) {
  std::vector<double> v = {1, 2, 3, 4, 5, 6};
  std::string p = tmp("a.npy");
  npy::write(p, v.data(), {2, 3});
  npy::Array a = npy::read(p);
  EXPECT_EQ(a.dims, (std::vector<size_t>{2, 3}));
  EXPECT_EQ(a.data, v);
  // A Fortran-ordered [2, 3] array stores columns first.
  std::string header = "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }";
  header.append(118 - header.size(), ' ');
  header.push_back('\n');
  std::string bytes("\x93NUMPY\x01\x00", 8);
  bytes.push_back(static_cast<char>(header.size()));
  bytes.push_back(0);
  bytes += header;
  std::vector<double> col_major = {1, 4, 2, 5, 3, 6};
  bytes.append(reinterpret_cast<const char*>(col_major.data()), 48);
  npy::Array f = npy::parse(bytes, "f.npy");
  EXPECT_EQ(f.data, v);
}

TEST(Npy, TruncatedDataIsAClearError) {
  std::vector<double> v(10, 1.0);
  std::string p = tmp("t.npy");
  npy::write(p, v.data(), {10});
  fs::resize_file(p, fs::file_size(p) - 8);
  try {
    npy::read(p);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("truncated .npy data: header says 10 values"), std::string::npos) << e.what();
  }
}

// Found by fuzzing (tests/fuzz/regressions/fuzz_npy): shapes that are not a tuple, or
// whose sizes or count overflow, were std::out_of_range or a wrapped count.
TEST(Npy, MalformedAndHugeShapesAreClearErrors) {
  auto image = [](const std::string& shape) {
    std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': " + shape + ", }\n";
    std::string bytes("\x93NUMPY\x01\x00", 8);
    bytes.push_back(static_cast<char>(header.size()));
    bytes.push_back(0);
    return bytes + header + std::string(16, '\0');
  };
  auto message = [&](const std::string& shape) {
    try {
      npy::parse(image(shape), "s.npy");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(npy::parse(image("(2,)"), "s.npy").dims, (std::vector<size_t>{2}));
  EXPECT_NE(message(",10, 01)").find("s.npy: malformed shape"), std::string::npos) << message(",10, 01)");
  EXPECT_NE(message("(-1, 2)").find("expected non-negative sizes"), std::string::npos) << message("(-1, 2)");
  EXPECT_NE(message("(123456789012345678901234,)").find("is too large"), std::string::npos);
  EXPECT_NE(message("(4294967296, 4294967296, 4294967296)").find("is too large"), std::string::npos);
  // A count that fits but exceeds the bytes present is a truncated file, not an allocation.
  EXPECT_NE(message("(1099511627776,)").find("truncated .npy data"), std::string::npos);
}

TEST(H5, WriteReadAttributesAndRows) {
  std::string p = tmp("a.h5");
  {
    AtomicOutput out(p);
    auto f = h5::File::create(out.temp_path());
    std::vector<double> x = {1, 2, 3, 4, 5, 6};
    f.write("/g/x", x.data(), {3, 2});
    f.set_attr("/", "seed", int64_t{42});
    f.set_attr("/", "mesh", std::string("hanford"));
    f.close();
    EXPECT_FALSE(fs::exists(p));
    out.commit();
  }
  auto f = h5::File::open_read(p);
  std::vector<size_t> dims;
  auto x = f.read_double("/g/x", &dims);
  EXPECT_EQ(dims, (std::vector<size_t>{3, 2}));
  EXPECT_EQ(f.read_rows_double("/g/x", 1, 2), (std::vector<double>{3, 4, 5, 6}));
  EXPECT_EQ(f.attr_double("/", "seed"), 42);
  EXPECT_EQ(f.attr_string("/", "mesh"), "hanford");
  EXPECT_FALSE(f.has("/g/missing/deeper"));
  EXPECT_THROW(f.read_double("/nope", nullptr), Error);
}

TEST(H5, NonHdf5AndTruncatedFilesAreClearErrors) {
  std::string p = tmp("bad.h5");
  std::ofstream(p) << "not hdf5";
  try {
    h5::File::open_read(p);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not an HDF5 file"), std::string::npos);
  }
  std::string q = tmp("trunc.h5");
  {
    auto f = h5::File::create(q);
    std::vector<double> x(5000, 1.0);
    f.write("/x", x.data(), {5000});
    f.close();
  }
  fs::resize_file(q, fs::file_size(q) / 2);
  EXPECT_THROW({ auto f = h5::File::open_read(q); f.read_double("/x", nullptr); }, Error);
}

TEST(AtomicOutput, UncommittedOutputLeavesNothing) {
  std::string p = tmp("never.txt");
  {
    AtomicOutput out(p);
    std::ofstream(out.temp_path()) << "partial";
  }
  EXPECT_FALSE(fs::exists(p));
  try {
    write_text_atomic("/nonexistent-dir/x.txt", "a");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos);
  }
}

TEST(AtomicOutput, DevFullIsWrittenDirectlyAndFails) {
  if (!fs::exists("/dev/full")) GTEST_SKIP();
  EXPECT_THROW(write_text_atomic("/dev/full", std::string(1 << 16, 'x')), Error);
  EXPECT_TRUE(fs::exists("/dev/full"));
}

TEST(ArraySource, ParsesMemberAfterColon) {
  ArraySource s = ArraySource::parse("runs/a.h5:/x");
  EXPECT_EQ(s.file, "runs/a.h5");
  EXPECT_EQ(s.member, "/x");
  EXPECT_EQ(ArraySource::parse("b.npy").member, "");
}

TEST(Rng, StreamsAreReproducibleAndStandardNormal) {
  NormalStream a(7, 3), b(7, 3), c(7, 4);
  double s = 0, s2 = 0;
  const int n = 200000;
  bool differs = false;
  for (int i = 0; i < n; ++i) {
    double x = a.normal();
    EXPECT_EQ(x, b.normal());
    differs |= x != c.normal();
    s += x;
    s2 += x * x;
  }
  EXPECT_TRUE(differs);
  EXPECT_NEAR(s / n, 0.0, 5.0 / std::sqrt(n));
  EXPECT_NEAR(s2 / n, 1.0, 0.02);
}

// Found by fuzzing (tests/fuzz/regressions/fuzz_mesh): index arrays are read through
// double, and converting one outside int64's range was undefined behaviour.
TEST(H5, HugeIndexValuesAreNotIntegers) {
  std::string p = tmp("idx.h5");
  {
    auto f = h5::File::create(p);
    std::vector<double> v = {1, -3.1e231};
    f.write("/index", v.data(), {2});
    f.close();
  }
  auto f = h5::File::open_read(p);
  try {
    f.read_int("/index", nullptr);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'/index' entry 1 = -3.1e+231 is not an integer"), std::string::npos)
        << e.what();
  }
}

}  // namespace ved
