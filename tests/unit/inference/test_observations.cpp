// Observation files: round trip, the CSV form, and every malformed file as a clear error
// naming the file, the field and the expected value.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "ved/inference/observations.hpp"
#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"

namespace fs = std::filesystem;
using ved::Error;
using ved::MatrixRM;
using namespace ved::inference;

namespace {

fs::path temp_dir() {
  fs::path dir = fs::temp_directory_path() / ("ved_test_observations_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

std::string error_of(const std::string& path, int64_t n_outputs) {
  try {
    read_observations(path, n_outputs);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string write_h5(const std::string& name, const std::vector<int64_t>& index, const std::vector<double>& value,
                     const std::vector<size_t>& value_dims) {
  std::string p = (temp_dir() / name).string();
  auto f = ved::h5::File::create(p);
  f.write("/index", index.data(), {index.size()});
  f.write("/value", value.data(), value_dims);
  f.close();
  return p;
}

std::string write_text(const std::string& name, const std::string& text) {
  std::string p = (temp_dir() / name).string();
  std::ofstream(p) << text;
  return p;
}

}  // namespace

TEST(Observations, Hdf5RoundTripKeepsOrderAndCases) {
  Observations obs;
  obs.index = {7, 2, 0};
  obs.value.resize(2, 3);
  obs.value << 1.5, -2, 3, 4, 5, 6.25;
  std::string p = (temp_dir() / "rt.h5").string();
  write_observations(p, obs);
  Observations back = read_observations(p, 8);
  EXPECT_EQ(back.index, obs.index);
  ASSERT_EQ(back.n_cases(), 2);
  ASSERT_EQ(back.n_observed(), 3);
  EXPECT_EQ(back.value, obs.value);
  EXPECT_EQ(back.source, p);
}

TEST(Observations, OneDimensionalValueIsOneCase) {
  std::string p = write_h5("one.h5", {3, 1}, {0.5, 0.25}, {2});
  Observations obs = read_observations(p, 4);
  ASSERT_EQ(obs.n_cases(), 1);
  EXPECT_EQ(obs.value(0, 1), 0.25);
}

TEST(Observations, CsvWithHeaderCommentsAndBlankLines) {
  std::string p = write_text("one.csv", "index,value\n# wells 4 and 0\n4, 1.25\n\n0,-3e-1\n");
  Observations obs = read_observations(p, 5);
  EXPECT_EQ(obs.index, (std::vector<int64_t>{4, 0}));
  ASSERT_EQ(obs.n_cases(), 1);
  EXPECT_DOUBLE_EQ(obs.value(0, 0), 1.25);
  EXPECT_DOUBLE_EQ(obs.value(0, 1), -0.3);
}

TEST(Observations, UnknownIndexNamesEntryAndRange) {
  std::string p = write_h5("bad_index.h5", {0, 323}, {1, 2}, {1, 2});
  std::string e = error_of(p, 323);
  EXPECT_NE(e.find(p), std::string::npos) << e;
  EXPECT_NE(e.find("'/index' entry 1 = 323"), std::string::npos) << e;
  EXPECT_NE(e.find("[0, 322]"), std::string::npos) << e;
  EXPECT_NE(error_of(write_h5("neg.h5", {-1}, {1}, {1, 1}), 10).find("entry 0 = -1"), std::string::npos);
}

TEST(Observations, RepeatedIndexIsAnError) {
  std::string e = error_of(write_h5("dup.h5", {3, 1, 3}, {1, 2, 3}, {1, 3}), 10);
  EXPECT_NE(e.find("entry 2 = 3 repeats"), std::string::npos) << e;
}

TEST(Observations, NanValueNamesCaseAndOutput) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::string e = error_of(write_h5("nan.h5", {5, 9}, {1, 2, 3, nan}, {2, 2}), 10);
  EXPECT_NE(e.find("'/value' case 1, output 9 is nan"), std::string::npos) << e;
  std::string ec = error_of(write_text("nan.csv", "1,2\n2,nan\n"), 10);
  EXPECT_NE(ec.find("output 2 is nan"), std::string::npos) << ec;
  std::string ei = error_of(write_text("inf.csv", "1,inf\n"), 10);
  EXPECT_NE(ei.find("output 1 is inf"), std::string::npos) << ei;
}

TEST(Observations, WrongLengthNamesBothShapes) {
  std::string e = error_of(write_h5("len.h5", {1, 2, 3}, {1, 2, 3, 4}, {2, 2}), 10);
  EXPECT_NE(e.find("'/value' has 2 values per case; expected 3"), std::string::npos) << e;
  EXPECT_NE(e.find("found [2, 2]"), std::string::npos) << e;
}

TEST(Observations, MissingFieldsAndBadFormats) {
  std::string p = (temp_dir() / "noidx.h5").string();
  {
    auto f = ved::h5::File::create(p);
    std::vector<double> v{1};
    f.write("/value", v.data(), {1, 1});
    f.close();
  }
  EXPECT_NE(error_of(p, 3).find("field '/index' not found"), std::string::npos);
  EXPECT_NE(error_of((temp_dir() / "absent.h5").string(), 3).find("not found or not readable"), std::string::npos);
  EXPECT_NE(error_of(write_text("x.txt", "1,2\n"), 3).find("not an HDF5 file and not a .csv"), std::string::npos);
  EXPECT_NE(error_of(write_text("three.csv", "1,2,3\n"), 3).find("line 1 '1,2,3': expected two fields"),
            std::string::npos);
  EXPECT_NE(error_of(write_text("word.csv", "a,2\n"), 3).find("index 'a' is not an integer"), std::string::npos);
  EXPECT_NE(error_of(write_text("empty.csv", "index,value\n"), 3).find("no observations"), std::string::npos);
  EXPECT_NE(error_of(write_h5("float_index.h5", {}, {}, {0, 0}), 3).find("no observations"), std::string::npos);
}

TEST(Observations, UnobservedIndicesAreTheComplement) {
  EXPECT_EQ(unobserved_indices({4, 0, 2}, 6), (std::vector<int64_t>{1, 3, 5}));
  EXPECT_TRUE(unobserved_indices({0, 1}, 2).empty());
}
