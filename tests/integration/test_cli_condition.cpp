// `ved condition` as a user runs it: a model with a linear decoder, observation files good
// and bad, held-out truth and the baselines' training outputs.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <limits>

#include "integration/cli_harness.hpp"
#include "support/json_lines.hpp"
#include "support/linear_ved.hpp"
#include "ved/util/h5.hpp"

namespace fs = std::filesystem;
using namespace ved;
using ved::test::run_ved;

namespace {

struct Fixture {
  std::string dir, model, train, truth;
  test::LinearVed lm;
};

// The model, 200 training outputs drawn from it (for the baselines) and the truth of two cases.
const Fixture& fixture() {
  static Fixture fx = [] {
    Fixture f;
    f.dir = test::temp_dir("condition");
    f.model = f.dir + "/model.h5";
    f.lm = test::write_linear_ved(f.model);
    std::srand(3);
    auto normal = [] {
      double u1 = (std::rand() + 1.0) / (RAND_MAX + 2.0), u2 = (std::rand() + 1.0) / (RAND_MAX + 2.0);
      return std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
    };
    auto draw = [&](int n) {
      MatrixRM y(n, test::LinearVed::kM);
      for (int i = 0; i < n; ++i) {
        Eigen::VectorXd z(test::LinearVed::kR), e(test::LinearVed::kM);
        for (int d = 0; d < z.size(); ++d) z[d] = normal();
        for (int d = 0; d < e.size(); ++d) e[d] = normal();
        y.row(i) = (f.lm.a + f.lm.a_mat * z + f.lm.s.cwiseProduct(e)).transpose();
      }
      return y;
    };
    f.train = f.dir + "/train.h5";
    f.truth = f.dir + "/truth.h5";
    for (auto [path, n] : {std::pair<std::string, int>{f.train, 200}, {f.truth, 3}}) {
      MatrixRM y = draw(n);
      auto h = h5::File::create(path);
      h.write("/y", y.data(), {static_cast<size_t>(y.rows()), static_cast<size_t>(y.cols())});
      h.close();
    }
    return f;
  }();
  return fx;
}

std::string write_obs(const std::string& name, const std::vector<int64_t>& index, const std::vector<double>& value,
                      std::vector<size_t> dims) {
  std::string p = fixture().dir + "/" + name;
  auto f = h5::File::create(p);
  f.write("/index", index.data(), {index.size()});
  f.write("/value", value.data(), dims);
  f.close();
  return p;
}

const char* kFast = " --warmup 100 --samples 200 --leapfrog 6 --chains 2 --threads 1";

}  // namespace

TEST(CliCondition, WritesPredictiveDiagnosticsAndScores) {
  const Fixture& fx = fixture();
  // Cases 1 and 2 of the truth file, outputs 3 and 1 observed.
  auto h = h5::File::open_read(fx.truth);
  std::vector<size_t> dims;
  std::vector<double> y = h.read_double("/y", &dims);
  std::string obs = write_obs("good.h5", {3, 1}, {y[6 + 3], y[6 + 1], y[12 + 3], y[12 + 1]}, {2, 2});
  std::string out = fx.dir + "/out.h5";
  auto r = run_ved("condition --model " + fx.model + " --observed " + obs + " --truth " + fx.truth +
                   " --rows 1:3 --train-data " + fx.train + " --out " + out + " --json" + kFast);
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json j = test::last_json_line(r.out);
  EXPECT_EQ(j["n_cases"], 2);
  EXPECT_EQ(j["n_observed"], 2);
  for (const char* m : {"ved", "gaussian", "pca"}) {
    ASSERT_TRUE(j["methods"].contains(m)) << m;
    EXPECT_EQ(j["methods"][m]["n_values"], 8) << m;  // 2 cases x 4 unobserved outputs
    EXPECT_GT(j["methods"][m]["crps"].get<double>(), 0) << m;
  }
  EXPECT_GT(j["ess_min"].get<double>(), 20);
  EXPECT_LT(j["rhat_max"].get<double>(), 1.2);
  auto f = h5::File::open_read(out);
  for (const char* name : {"/mean", "/std", "/q05", "/q50", "/q95", "/baselines/gaussian/mean", "/baselines/pca/std"})
    EXPECT_EQ(f.info(name).dims, (std::vector<size_t>{2, 6})) << name;
  EXPECT_EQ(f.info("/diagnostics/ess").dims, (std::vector<size_t>{2, 3}));
  EXPECT_EQ(f.info("/diagnostics/accept").dims, (std::vector<size_t>{2, 2}));
  std::vector<size_t> d;
  std::vector<double> q05 = f.read_double("/q05", &d), q95 = f.read_double("/q95", &d);
  for (size_t i = 0; i < q05.size(); ++i) EXPECT_LT(q05[i], q95[i]);
  // The text table names every method.
  auto t = run_ved("condition --model " + fx.model + " --observed " + obs + " --truth " + fx.truth +
                   " --rows 1:3 --train-data " + fx.train + " --out " + out + kFast);
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_NE(t.out.find("gaussian"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("pca (r=3)"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("R-hat max"), std::string::npos) << t.out;
}

TEST(CliCondition, CsvObservationsForOneCase) {
  const Fixture& fx = fixture();
  std::string csv = fx.dir + "/one.csv";
  std::ofstream(csv) << "index,value\n0,10.5\n5,0.2\n";
  std::string out = fx.dir + "/csv_out.h5";
  auto r = run_ved("condition --model " + fx.model + " --observed " + csv + " --baselines none --out " + out + kFast);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(h5::File::open_read(out).info("/mean").dims, (std::vector<size_t>{1, 6}));
}

TEST(CliCondition, BadObservationFilesAreClearErrorsAndWriteNothing) {
  const Fixture& fx = fixture();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  struct Case {
    std::string file, expect;
  };
  std::ofstream(fx.dir + "/bad.csv") << "0,1\n2\n";
  const std::vector<Case> cases = {
      {write_obs("unknown.h5", {1, 6}, {0, 0}, {1, 2}), "'/index' entry 1 = 6 is not an output index; expected 0-based indices in [0, 5]"},
      {write_obs("nan.h5", {1, 2}, {0.5, nan}, {1, 2}), "'/value' case 0, output 2 is nan"},
      {write_obs("length.h5", {1, 2, 3}, {0, 0}, {1, 2}), "'/value' has 2 values per case; expected 3"},
      {fx.dir + "/bad.csv", "line 2 '2': expected two fields 'index,value'"},
      {fx.dir + "/missing.h5", "not found"},
  };
  for (const Case& c : cases) {
    std::string out = fx.dir + "/never.h5";
    auto r = run_ved("condition --model " + fx.model + " --observed " + c.file + " --baselines none --out " + out + kFast);
    EXPECT_NE(r.code, 0) << c.file;
    EXPECT_NE(r.err.find("error: " + c.file), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out)) << c.file;
  }
}

TEST(CliCondition, MismatchedTruthAndMissingNoiseAreClearErrors) {
  const Fixture& fx = fixture();
  std::string obs = write_obs("one_case.h5", {0}, {10}, {1, 1});
  auto r = run_ved("condition --model " + fx.model + " --observed " + obs + " --truth " + fx.truth +
                   " --baselines none --out " + fx.dir + "/x.h5" + kFast);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("are 3 cases, but " + obs + " holds 1; select the matching rows with --rows"), std::string::npos)
      << r.err;
  std::string bare = fx.dir + "/no_noise.h5";
  test::write_linear_ved(bare, /*with_noise=*/false);
  r = run_ved("condition --model " + bare + " --observed " + obs + " --baselines none --out " + fx.dir + "/x.h5" + kFast);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("give the measurement noise with --noise SIGMA > 0"), std::string::npos) << r.err;
  r = run_ved("condition --model " + bare + " --observed " + obs + " --noise 0.1 --baselines none --out " + fx.dir +
              "/x.h5" + kFast);
  EXPECT_EQ(r.code, 0) << r.err;
}
