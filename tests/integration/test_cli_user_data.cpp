// Users' own data (`--x/--y` sources: .npy, .npz members, HDF5 paths) through `ved train`,
// `ved eval`, `ved baseline` and `ved predict`; every result is compared with the same
// data given as a ved dataset file, so the two input paths must agree exactly.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>

#include "cli_harness.hpp"
#include "support/json_lines.hpp"
#include "support/npz_writer.hpp"
#include "train_fixture.hpp"
#include "ved/data/dataset.hpp"
#include "ved/mesh/mesh.hpp"
#include "ved/util/h5.hpp"
#include "ved/util/npy.hpp"

namespace ved {
using test::last_json_line;
using test::run_ved;

namespace {

const char* kTiny =
    " --latent 3 --encoder-stem 4 --encoder-stages 8,8 --decoder-hidden 32 --batch 16 --lr 0.01 --threads 1 --quiet";

std::vector<double> values(const MatrixRM& a) { return std::vector<double>(a.data(), a.data() + a.size()); }
size_t rows(const MatrixRM& a) { return static_cast<size_t>(a.rows()); }

// The same samples as a dataset file and as arrays: x [N, 12, 10] .npy, y in an .npz and
// in an HDF5 file under a path of the user's choosing.
struct UserFiles {
  std::string dir;
  explicit UserFiles(const std::string& name) : dir(test::temp_dir(name)) {
    Dataset train = test::synthetic_dataset(96, 1), held = test::synthetic_dataset(30, 2);
    write_dataset(dir + "/train.h5", train);
    write_dataset(dir + "/test.h5", held);
    npy::write(dir + "/x.npy", train.x.data(), {rows(train.x), 12, 10});
    test::write_npz(dir + "/test.npz", {{"x", values(held.x), {rows(held.x), 12, 10}}, {"y", values(held.y), {rows(held.y), 8}}},
                    /*compress=*/true);
    auto f = h5::File::create(dir + "/y.h5");
    f.write("/sim/heads", train.y.data(), {rows(train.y), 8});
    f.close();
  }
};

}  // namespace

TEST(CliUserData, ArraysGiveTheSameResultsAsTheDatasetFile) {
  UserFiles u("userdata");
  const std::string& d = u.dir;
  // Training from arrays and from the file: same rows, seed and options -> same model.
  auto r = run_ved("train --x " + d + "/x.npy --y " + d + "/y.h5:/sim/heads --out " + d + "/a --epochs 2" + kTiny);
  ASSERT_EQ(r.code, 0) << r.err;
  r = run_ved("train --data " + d + "/train.h5 --out " + d + "/f --epochs 2" + kTiny);
  ASSERT_EQ(r.code, 0) << r.err;

  // The run remembers its arrays: its own validation rows, then a separate .npz test set.
  r = run_ved("eval --model " + d + "/a --split val --json --generative false");
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json val_a = last_json_line(r.out);
  r = run_ved("eval --model " + d + "/f --split val --json --generative false");
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json val_f = last_json_line(r.out);
  EXPECT_EQ(val_a["n"], val_f["n"]);
  EXPECT_DOUBLE_EQ(val_a["rel_l2"].get<double>(), val_f["rel_l2"].get<double>());

  r = run_ved("eval --model " + d + "/a --x " + d + "/test.npz:x --y " + d + "/test.npz:y --split all --json --generative false");
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json test_a = last_json_line(r.out);
  r = run_ved("eval --model " + d + "/f --data " + d + "/test.h5 --split all --json --generative false");
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json test_f = last_json_line(r.out);
  EXPECT_EQ(test_a["n"], 30);
  EXPECT_DOUBLE_EQ(test_a["rel_l2"].get<double>(), test_f["rel_l2"].get<double>());
  EXPECT_DOUBLE_EQ(test_a["r2"].get<double>(), test_f["r2"].get<double>());

  // predict --x on an .npz member equals predict --input on the dataset file.
  r = run_ved("predict --model " + d + "/a --x " + d + "/test.npz:x --samples 0 --out " + d + "/pa.npy");
  ASSERT_EQ(r.code, 0) << r.err;
  r = run_ved("predict --model " + d + "/f --input " + d + "/test.h5 --samples 0 --out " + d + "/pf.npy");
  ASSERT_EQ(r.code, 0) << r.err;
  npy::Array pa = npy::read(d + "/pa.npy"), pf = npy::read(d + "/pf.npy");
  EXPECT_EQ(pa.dims, (std::vector<size_t>{30, 8}));
  EXPECT_EQ(pa.data, pf.data);

  // Baselines: arrays for the training and the test set, against the dataset files.
  r = run_ved("baseline --method ridge --x " + d + "/x.npy --y " + d + "/y.h5:/sim/heads --test-x " + d +
              "/test.npz:x --test-y " + d + "/test.npz:y --json");
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json ba = last_json_line(r.out);
  r = run_ved("baseline --method ridge --data " + d + "/train.h5 --test " + d + "/test.h5 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json bf = last_json_line(r.out);
  EXPECT_EQ(ba["n_test"], 30);
  EXPECT_DOUBLE_EQ(ba["rel_l2"].get<double>(), bf["rel_l2"].get<double>());
}

TEST(CliUserData, VectorsOnAUserMeshBecomeImages) {
  // x as cell vectors [N, 120] on a mesh given only as centroids + adjacency.
  const std::string d = test::temp_dir("usermesh");
  Dataset train = test::synthetic_dataset(64, 3);
  npy::write(d + "/x.npy", train.x.data(), {rows(train.x), 120});
  npy::write(d + "/y.npy", train.y.data(), {rows(train.y), 8});
  Mesh m = make_structured_mesh(10, 12);  // cell i + 10 j = image row j, column i
  std::vector<double> centroids, adjacency;
  for (int c = 0; c < m.n_cells; ++c) centroids.insert(centroids.end(), {m.cell_centroids(0, c), m.cell_centroids(1, c)});
  for (int f = 0; f < m.n_faces; ++f)
    if (!m.is_boundary_face(f)) adjacency.insert(adjacency.end(), {double(m.face_cells(0, f)), double(m.face_cells(1, f))});
  test::write_npz(d + "/mesh.npz", {{"centroids", centroids, {120, 2}}, {"adjacency", adjacency, {adjacency.size() / 2, 2}}},
                  false);
  auto r = run_ved("train --x " + d + "/x.npy --y " + d + "/y.npy --mesh " + d + "/mesh.npz --out " + d +
                   "/run --epochs 1 --latent 3 --encoder-stem 4 --encoder-stages 8 --decoder-hidden 16 --batch 16 --threads 1");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("conv encoder on 1x12x10 images (grid_map)"), std::string::npos) << r.out;
  r = run_ved("train --x " + d + "/x.npy --y " + d + "/y.npy --out " + d + "/mlp --epochs 1 --latent 3 --batch 16 --threads 1");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("MLP encoder on 120 features"), std::string::npos) << r.out;

  std::vector<double> bad = adjacency;
  bad[1] = 500;
  test::write_npz(d + "/bad.npz", {{"centroids", centroids, {120, 2}}, {"adjacency", bad, {bad.size() / 2, 2}}}, false);
  r = run_ved("train --x " + d + "/x.npy --y " + d + "/y.npy --mesh " + d + "/bad.npz --out " + d + "/bad --epochs 1");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("'adjacency' row 0 names cell 500"), std::string::npos) << r.err;
}

TEST(CliUserData, BadSourcesAreClearErrors) {
  UserFiles u("userbad");
  const std::string& d = u.dir;
  struct Case {
    std::string args, expect;
  } cases[] = {
      {"train --x " + d + "/x.npy --out " + d + "/r1", "--y is missing"},
      {"train --data " + d + "/train.h5 --x " + d + "/x.npy --y " + d + "/y.h5:/sim/heads --out " + d + "/r2", "not both"},
      {"train --x " + d + "/x.npy --y " + d + "/test.npz:y --out " + d + "/r3", "row i of both must be the same sample"},
      {"train --x " + d + "/x.npy --y " + d + "/y.h5 --out " + d + "/r4", "name the dataset inside the HDF5 file"},
      {"train --x " + d + "/x.npy --y " + d + "/y.h5:/sim/flux --out " + d + "/r5", "/sim/flux"},
      {"train --x " + d + "/nope.npy --y " + d + "/y.h5:/sim/heads --out " + d + "/r6", "nope.npy: file not found"},
      {"eval --model " + d + "/none --x " + d + "/test.npz:x --y " + d + "/test.npz:y", "none"},
      {"baseline --method ridge --x " + d + "/test.npz:fields --y " + d + "/test.npz:y", "it holds: x, y"},
  };
  for (const Case& c : cases) {
    auto r = run_ved(c.args);
    EXPECT_EQ(r.code, 1) << c.args;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_EQ(r.err.find("terminate"), std::string::npos) << r.err;
  }
}

}  // namespace ved
