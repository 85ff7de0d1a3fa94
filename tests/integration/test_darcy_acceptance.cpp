// ved's default VED on users' gridded data it did not generate (label slow: a full
// training, ~3 minutes on 2 cores): on 2-D Darcy data given only as .npy files
// (examples/darcy), the default VED with r = 32 reaches a test rel_l2 at most 0.65x the
// best ridge regression.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "cli_harness.hpp"
#include "support/json_lines.hpp"
#include "ved/util/npy.hpp"

namespace ved {
using test::last_json_line;
using test::run_ved;

TEST(CliUserData, DarcyDefaultVedBeatsRidge) {
  const std::string d = test::temp_dir("darcy");
  auto r = test::run_command(std::string(DARCY_DATA) + " --out " + d + " --n 16 --train 1000 --test 50 --length 0.3 --seed 1");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(npy::read(d + "/x_train.npy").dims, (std::vector<size_t>{1000, 16, 16}));
  EXPECT_EQ(npy::read(d + "/y_test.npy").dims, (std::vector<size_t>{50, 256}));
  const std::string train = " --x " + d + "/x_train.npy --y " + d + "/y_train.npy";
  const std::string test = d + "/x_test.npy --y " + d + "/y_test.npy";
  r = run_ved("baseline --method ridge" + train + " --test-x " + d + "/x_test.npy --test-y " + d + "/y_test.npy --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const double ridge = last_json_line(r.out)["rel_l2"];
  r = run_ved("train" + train + " --latent 32 --threads 2 --out " + d + "/ved");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("conv encoder on 1x16x16 images (image)"), std::string::npos) << r.out;
  r = run_ved("eval --model " + d + "/ved --x " + test + " --split all --json --generative false");
  ASSERT_EQ(r.code, 0) << r.err;
  const double ved = last_json_line(r.out)["rel_l2"];
  std::printf("Darcy 16x16 test rel_l2: ridge %.4f, VED r=32 %.4f, ratio %.3f\n", ridge, ved, ved / ridge);
  EXPECT_LE(ved, 0.65 * ridge);
}

}  // namespace ved
