// The torch-free parts of training: standardisation, Map2Grid input, split, shuffles,
// learning-rate schedules, options and model-file metadata.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <numeric>
#include <set>

#include "ved/mesh/site_io.hpp"
#include "ved/train/model_file.hpp"
#include "ved/train/preprocess.hpp"
#include "ved/train/schedule.hpp"
#include "ved/train/train_options.hpp"
#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"

namespace ved {
namespace fs = std::filesystem;

TEST(Split, DisjointCoveringSeededAndSized) {
  Split s = make_split(1000, 0.1, 0.2, 7);
  EXPECT_EQ(s.test.size(), 200u);
  EXPECT_EQ(s.val.size(), 100u);
  EXPECT_EQ(s.train.size(), 700u);
  std::set<int64_t> all(s.train.begin(), s.train.end());
  all.insert(s.val.begin(), s.val.end());
  all.insert(s.test.begin(), s.test.end());
  EXPECT_EQ(all.size(), 1000u);
  EXPECT_EQ(*all.rbegin(), 999);
  Split again = make_split(1000, 0.1, 0.2, 7);
  EXPECT_EQ(again.val, s.val);
  Split other = make_split(1000, 0.1, 0.2, 8);
  EXPECT_NE(other.val, s.val);
  // The validation rows are spread over the file, not a block.
  EXPECT_LT(s.val.front(), 100);
  EXPECT_GT(s.val.back(), 900);
  EXPECT_THROW(make_split(3, 0.5, 0.4, 1), Error);
}

TEST(Split, EpochPermutationsArePermutationsAndDifferPerEpoch) {
  auto p0 = epoch_permutation(50, 1, 0), p1 = epoch_permutation(50, 1, 1);
  auto sorted = p0;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> iota(50);
  std::iota(iota.begin(), iota.end(), 0);
  EXPECT_EQ(sorted, iota);
  EXPECT_NE(p0, p1);
  EXPECT_EQ(p0, epoch_permutation(50, 1, 0));
}

TEST(Standardise, StatsAndConstantColumns) {
  MatrixRM x(4, 3);
  x << 1, 5, 2,  //
      3, 5, 2,   //
      5, 5, 4,   //
      7, 5, 4;
  InputTransform t;
  t.n_inputs = 3;
  t.fit(x);
  EXPECT_DOUBLE_EQ(t.mean[0], 4.0);
  EXPECT_DOUBLE_EQ(t.scale[0], std::sqrt(5.0));  // population std of 1, 3, 5, 7
  EXPECT_DOUBLE_EQ(t.scale[1], 1.0);             // constant column -> scale 1, value 0
  std::vector<float> out(12);
  t.apply(x, 0, 4, out.data());
  EXPECT_FLOAT_EQ(out[0], static_cast<float>(-3 / std::sqrt(5.0)));
  EXPECT_FLOAT_EQ(out[1], 0.0f);
  EXPECT_FLOAT_EQ(out[2 + 3 * 3], 1.0f);
  OutputTransform y;
  y.fit(x);
  y.apply(x, 1, 2, out.data());
  MatrixRM back = y.invert(out.data(), 2);
  EXPECT_NEAR((back - x.middleRows(1, 2)).norm(), 0.0, 1e-6);
}

TEST(InputTransform, HanfordCellsBecomeTheMap2GridImage) {
  Dataset d;
  Site site = load_site("hanford");
  d.x = MatrixRM::Zero(3, site.mesh.n_cells);
  for (int c = 0; c < site.mesh.n_cells; ++c) {
    d.x(0, c) = site.reference_log_t[c];
    d.x(1, c) = site.reference_log_t[c] + 1.0;
    d.x(2, c) = site.reference_log_t[c] - 1.0;
  }
  d.y = MatrixRM::Zero(3, 1);
  InputTransform t = make_input_transform(d, "hanford");
  ASSERT_EQ(t.kind, "grid_map");
  EXPECT_EQ(t.height, 69);
  EXPECT_EQ(t.width, 54);
  t.fit(d.x);
  // Row 1 standardises to +1/std(1, 0, -1) = sqrt(1.5) in every cell: inside pixels hold
  // it (their cells' mean), outside pixels hold 0.
  std::vector<float> img(static_cast<size_t>(t.n_model_inputs()));
  t.apply(d.x, 1, 1, img.data());
  auto mask = t.grid_map.mask();
  int inside = 0;
  for (size_t p = 0; p < img.size(); ++p) {
    if (mask[p]) {
      ++inside;
      EXPECT_NEAR(img[p], std::sqrt(1.5), 1e-5);
    } else {
      EXPECT_EQ(img[p], 0.0f);
    }
  }
  EXPECT_EQ(inside, t.grid_map.n_filled());
  // "none" keeps vectors; "auto" follows the dataset's mesh attribute; a wrong mesh is named.
  EXPECT_EQ(make_input_transform(d, "none").kind, "vector");
  d.mesh = "hanford";
  EXPECT_EQ(make_input_transform(d, "auto").kind, "grid_map");
  try {
    make_input_transform(d, "grid:8x8");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("has 64 cells but the inputs have 1475"), std::string::npos) << e.what();
  }
  d.mesh.clear();
  d.x_shape = {5, 295};
  EXPECT_EQ(make_input_transform(d, "auto").kind, "image");
}

TEST(Schedule, CosineStepPlateau) {
  TrainOptions o;
  o.lr = 1e-3;
  o.lr_min = 1e-5;
  o.epochs = 150;
  LrSchedule cosine(o);
  EXPECT_DOUBLE_EQ(cosine.lr(0), 1e-3);
  EXPECT_NEAR(cosine.lr(75), 0.5 * (1e-3 + 1e-5), 1e-15);
  EXPECT_NEAR(cosine.lr(150), 1e-5, 1e-15);
  o.schedule = "step";
  o.step_size = 10;
  o.gamma = 0.5;
  LrSchedule step(o);
  EXPECT_DOUBLE_EQ(step.lr(9), 1e-3);
  EXPECT_DOUBLE_EQ(step.lr(25), 0.25e-3);
  o.schedule = "plateau";
  o.plateau_patience = 2;
  o.plateau_factor = 0.1;
  o.lr_min = 2e-5;
  LrSchedule plateau(o);
  plateau.end_epoch(1.0);
  for (int i = 0; i < 2; ++i) plateau.end_epoch(1.0);
  EXPECT_DOUBLE_EQ(plateau.lr(3), 1e-3);  // two bad epochs: patience not exceeded
  plateau.end_epoch(0.99999);              // not a 1e-4 relative improvement
  EXPECT_DOUBLE_EQ(plateau.lr(4), 1e-4);
  for (int i = 0; i < 6; ++i) plateau.end_epoch(1.0);
  EXPECT_DOUBLE_EQ(plateau.lr(10), 2e-5);  // floored at lr_min
}

TEST(TrainOptions, RowsJsonAndValidation) {
  EXPECT_EQ(parse_rows("", 10).end, 10);
  EXPECT_EQ(parse_rows("3:", 10).begin, 3);
  EXPECT_EQ(parse_rows(":-2", 10).end, 8);
  EXPECT_EQ(parse_rows("0:3000", 4000).end, 3000);
  try {
    parse_rows("3000:5000", 4000);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("selects [3000, 5000) but the file has 4000 rows"), std::string::npos);
  }
  TrainOptions o;
  o.data = "d.h5";
  o.out = "run";
  o.model.stages = {4, 8};
  o.seed = 12345678901234ULL;
  EXPECT_EQ(to_json(train_options_from_json(to_json(o))), to_json(o));
  EXPECT_NO_THROW(validate(o));
  o.batch = 1;
  EXPECT_THROW(validate(o), Error);
  o.batch = 64;
  o.val_fraction = 0;
  o.keep = "best";
  try {
    validate(o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("set --val-fraction > 0"), std::string::npos);
  }
}

TEST(ModelFile, MetaRoundTrip) {
  ModelMeta m;
  m.config.input_height = 8;
  m.config.input_width = 8;
  m.config.output_features = 2;
  m.input.kind = "grid_map";
  m.input.n_inputs = 64;
  m.input.height = 8;
  m.input.width = 8;
  m.input.grid_map = compute_grid_map(make_structured_mesh(8, 8));
  m.input.mean = Eigen::VectorXd::LinSpaced(64, 0, 1);
  m.input.scale = Eigen::VectorXd::Constant(64, 2.0);
  m.output.mean = Eigen::VectorXd::Constant(2, 3.0);
  m.output.scale = Eigen::VectorXd::Constant(2, 4.0);
  m.split = make_split(20, 0.2, 0.1, 3);
  m.train_options_json = "{}";
  m.data = "data.h5";
  m.rows_begin = 5;
  m.rows_end = 25;
  m.y_checksum = 1.25;
  m.epoch = 7;
  std::string path = (fs::temp_directory_path() / ("ved_meta_" + std::to_string(::getpid()) + ".h5")).string();
  {
    auto f = h5::File::create(path);
    write_model_meta(f, m);
    f.close();
  }
  ModelMeta r = read_model_meta(h5::File::open_read(path));
  EXPECT_EQ(to_json(r.config), to_json(m.config));
  EXPECT_EQ(r.input.grid_map.entry_pixel, m.input.grid_map.entry_pixel);
  EXPECT_EQ(r.input.grid_map.pixel_count, m.input.grid_map.pixel_count);
  EXPECT_EQ(r.input.mean, m.input.mean);
  EXPECT_EQ(r.split.val, m.split.val);
  EXPECT_EQ(r.split.test, m.split.test);
  EXPECT_EQ(r.rows_begin, 5);
  EXPECT_EQ(r.epoch, 7);
  EXPECT_DOUBLE_EQ(r.y_checksum, 1.25);
  fs::remove(path);
  EXPECT_THROW(resolve_model_path("/nonexistent/run"), Error);
}

}  // namespace ved
