// ved export: the TorchScript modules, loaded with torch::jit::load, give what
// TrainedModel gives (float tolerance) for a conv encoder on a mesh (Map2Grid with shared
// pixels and a conflict), an MLP on vectors, and conv encoders with batch and group norm.
#include <gtest/gtest.h>
#include <torch/script.h>  // torch::jit::load

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>

#include "cli_harness.hpp"
#include "train_fixture.hpp"
#include "ved/data/dataset.hpp"
#include "ved/export/torchscript.hpp"
#include "ved/nn/model.hpp"
#include "ved/nn/tensor_io.hpp"
#include "ved/train/trained_model.hpp"
#include "ved/train/trainer.hpp"
#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"
#include "ved/util/rng.hpp"

namespace ved {
namespace fs = std::filesystem;
using test::slurp;
using test::temp_dir;

namespace {

// A 40-cell "mesh" on a 6 x 8 image: cells 0..35 on pixels 0..35, cells 36..39 share
// pixels 0..3 with cells 0..3, and two conflict entries (cell 5 also on pixel 44, cell 10
// also on pixel 0, which so holds three entries). Pixels 36..43 and 45..47 are outside.
GridMap small_grid_map() {
  GridMap g;
  g.height = 6;
  g.width = 8;
  const int n_cells = 40;
  for (int c = 0; c < n_cells; ++c) {
    const int p = c < 36 ? c : c - 36;
    g.cell_pixel.push_back(p);
    g.entry_cell.push_back(c);
    g.entry_pixel.push_back(p);
  }
  g.entry_cell.insert(g.entry_cell.end(), {5, 10});
  g.entry_pixel.insert(g.entry_pixel.end(), {44, 0});
  g.pixel_count.assign(g.n_pixels(), 0);
  for (int p : g.entry_pixel) ++g.pixel_count[p];
  return g;
}

// Cell fields of 3 factors around an offset (so the standardisation matters); y as in
// train_fixture.hpp.
Dataset mesh_dataset(int n, uint64_t seed) {
  const int cells = 40, m = 6;
  Dataset d;
  d.x.resize(n, cells);
  d.y.resize(n, m);
  d.has_grid_map = true;
  d.grid_map = small_grid_map();
  for (int i = 0; i < n; ++i) {
    NormalStream s(seed, static_cast<uint64_t>(i));
    double f[3];
    for (double& v : f) v = s.normal();
    for (int c = 0; c < cells; ++c)
      d.x(i, c) = 7 + f[0] * std::sin(0.3 * c) + f[1] * std::cos(0.17 * c) + 0.5 * f[2] * (c % 5) + 0.1 * s.normal();
    for (int j = 0; j < m; ++j) d.y(i, j) = 100 + std::sin(j + 1.0) * f[0] + std::cos(0.5 * j) * f[1] + 0.2 * f[2];
  }
  return d;
}

torch::Tensor to_tensor(const MatrixRM& a) {
  return torch::from_blob(const_cast<double*>(a.data()), {a.rows(), a.cols()}, torch::kFloat64).clone();
}

MatrixRM to_matrix(const torch::Tensor& t) {
  torch::Tensor c = t.detach().to(torch::kFloat64).contiguous();
  MatrixRM m(c.size(0), c.size(1));
  std::copy(c.data_ptr<double>(), c.data_ptr<double>() + c.numel(), m.data());
  return m;
}

// max |a - b| / max(1, max |b|).
double rel_diff(const MatrixRM& a, const MatrixRM& b) {
  EXPECT_EQ(a.rows(), b.rows());
  EXPECT_EQ(a.cols(), b.cols());
  if (a.rows() != b.rows() || a.cols() != b.cols()) return 1e300;
  return (a - b).cwiseAbs().maxCoeff() / std::max(1.0, b.cwiseAbs().maxCoeff());
}

std::string train(const std::string& dir, const std::string& name, const Dataset& d,
                  const std::function<void(TrainOptions&)>& tweak) {
  write_dataset(dir + "/" + name + ".h5", d);
  TrainOptions o = test::small_options(dir + "/" + name + ".h5", dir + "/" + name);
  o.epochs = 3;
  tweak(o);
  Trainer(o).run();
  return dir + "/" + name;
}

// The trained network itself with NCHW convolutions: the same arithmetic as the exported
// graph, without TrainedModel's channels-last layout (whose rounding differs).
Encoding encode_nchw(const std::string& run, const torch::Tensor& net_in) {
  auto f = h5::File::open_read(resolve_model_path(run));
  Ved net(read_model_meta(f).config);
  load_module(f, "", *net);
  net->eval();
  net->set_channels_last(false);
  return net->encode(net_in);
}

// Exports `run` and checks every module against TrainedModel on the inputs x, to relative
// tolerance `tol` (normalisation layers amplify the rounding differences of the
// convolution layouts).
void expect_export_matches(const std::string& run, const MatrixRM& x, double tol = 1e-5) {
  SCOPED_TRACE(run);
  const std::string out = run + "_export";
  ExportSummary s = export_torchscript(run, out);
  TrainedModel model(run);
  const ModelMeta& meta = model.meta();
  torch::NoGradGuard no_grad;
  const MatrixRM y_ref = model.predict(x);
  const Encodings e_ref = model.encode(x);
  const torch::Tensor xt = to_tensor(x);

  // TrainedModel's optimised CPU path (frozen TorchScript, oneDNN) against the eager network.
  ASSERT_TRUE(model.optimized());
  const TrainedModel eager(run, "cpu", /*optimize=*/false);
  ASSERT_FALSE(eager.optimized());
  EXPECT_LT(rel_diff(eager.predict(x), y_ref), tol);
  const Encodings e_eager = eager.encode(x);
  EXPECT_LT(rel_diff(e_eager.mu, e_ref.mu), tol);
  EXPECT_LT(rel_diff(e_eager.logvar, e_ref.logvar), tol);
  const PredictiveMoments pm = model.predict_moments(x, 8, 3), pm_eager = eager.predict_moments(x, 8, 3);
  EXPECT_LT(rel_diff(pm.mean, pm_eager.mean), tol);
  EXPECT_LT(rel_diff(pm.std_latent, pm_eager.std_latent), 10 * tol);

  // predictor.pt: raw x -> y, and its encode / decode / preprocess methods.
  torch::jit::Module pred = torch::jit::load(s.predictor_path);
  torch::Tensor y = pred.forward({xt}).toTensor();
  EXPECT_EQ(y.scalar_type(), torch::kFloat64);
  EXPECT_LT(rel_diff(to_matrix(y), y_ref), tol);
  torch::Tensor y32 = pred.forward({xt.to(torch::kFloat32)}).toTensor();
  EXPECT_EQ(y32.scalar_type(), torch::kFloat32) << "physical outputs take the dtype of the input";
  EXPECT_LT(rel_diff(to_matrix(y32), y_ref), tol);
  auto enc = pred.get_method("encode")({xt}).toTuple();
  EXPECT_LT(rel_diff(to_matrix(enc->elements()[0].toTensor()), e_ref.mu), tol);
  EXPECT_LT(rel_diff(to_matrix(enc->elements()[1].toTensor()), e_ref.logvar), tol);
  torch::Tensor z = torch::randn({x.rows(), model.latent()}, torch::kFloat64);
  const MatrixRM y_z = model.decode(to_matrix(z));
  EXPECT_LT(rel_diff(to_matrix(pred.get_method("decode")({z}).toTensor()), y_z), tol);

  // The standardisation and Map2Grid of the predictor reproduce InputTransform::apply.
  const InputTransform& in = meta.input;
  torch::Tensor net_in = torch::empty({x.rows(), in.n_model_inputs()}, torch::kFloat32);
  in.apply(x, 0, x.rows(), net_in.data_ptr<float>());
  if (meta.config.encoder == "conv") net_in = net_in.view({x.rows(), in.channels, in.height, in.width});
  torch::Tensor pre = pred.get_method("preprocess")({xt}).toTensor();
  ASSERT_EQ(pre.sizes(), net_in.sizes());
  EXPECT_LT((pre - net_in).abs().max().item<double>(), 1e-6);
  const Encoding e_nchw = encode_nchw(run, net_in);
  EXPECT_LT(rel_diff(to_matrix(enc->elements()[0].toTensor()), to_matrix(e_nchw.mu)), 2e-6);
  EXPECT_LT(rel_diff(to_matrix(enc->elements()[1].toTensor()), to_matrix(e_nchw.logvar)), 2e-6);

  // encoder.pt on the standardised network input; decoder.pt on z.
  torch::jit::Module encoder = torch::jit::load(s.encoder_path);
  auto enc2 = encoder.forward({net_in}).toTuple();
  EXPECT_LT(rel_diff(to_matrix(enc2->elements()[0].toTensor()), e_ref.mu), tol);
  EXPECT_LT(rel_diff(to_matrix(enc2->elements()[1].toTensor()), e_ref.logvar), tol);
  torch::jit::Module decoder = torch::jit::load(s.decoder_path);
  EXPECT_LT(rel_diff(to_matrix(decoder.forward({z}).toTensor()), y_z), tol);

  // Wrong shapes are refused with a message naming the file and the expected shape.
  try {
    pred.forward({torch::zeros({2, x.cols() + 1}, torch::kFloat64)});
    ADD_FAILURE() << "predictor.pt accepted x with the wrong number of columns";
  } catch (const std::exception& err) {
    EXPECT_NE(std::string(err.what()).find("predictor.pt: x must be [N, " + std::to_string(x.cols()) + "]"),
              std::string::npos)
        << err.what();
  }
  try {
    decoder.forward({torch::zeros({2, model.latent() + 1})});
    ADD_FAILURE() << "decoder.pt accepted z of the wrong width";
  } catch (const std::exception& err) {
    EXPECT_NE(std::string(err.what()).find("decoder.pt: z must be [N, " + std::to_string(model.latent()) + "]"),
              std::string::npos)
        << err.what();
  }

  // export.json, also inside each module as ved.json.
  nlohmann::json j = nlohmann::json::parse(slurp(s.json_path));
  EXPECT_EQ(j["format"], "ved-export");
  EXPECT_EQ(j["latent"], model.latent());
  EXPECT_EQ(j["input"]["n_inputs"], model.n_inputs());
  EXPECT_EQ(j["input"]["kind"], in.kind);
  EXPECT_EQ(j["output"]["n_outputs"], model.n_outputs());
  EXPECT_EQ(j["encoder"], meta.config.encoder);
  EXPECT_TRUE(j["files"].contains("predictor.pt"));
  torch::jit::ExtraFilesMap extra{{"ved.json", ""}};
  torch::jit::load(s.decoder_path, c10::nullopt, extra);
  EXPECT_EQ(extra["ved.json"], s.json);
  // Only the finished files, no temporaries.
  int n_files = 0;
  for (const auto& entry : fs::directory_iterator(out)) {
    ++n_files;
    EXPECT_NE(entry.path().filename().string()[0], '.') << entry.path();
  }
  EXPECT_EQ(n_files, 4);
}

}  // namespace

TEST(Export, ConvEncoderOnAMeshMatchesTrainedModel) {
  const std::string dir = temp_dir("export_mesh");
  const Dataset d = mesh_dataset(96, 3);
  const std::string run = train(dir, "mesh", d, [](TrainOptions&) {});
  TrainedModel m(run);
  ASSERT_EQ(m.meta().input.kind, "grid_map");
  ASSERT_EQ(m.meta().config.encoder, "conv");
  expect_export_matches(run, d.x.topRows(20));
}

TEST(Export, MlpEncoderOnVectorsMatchesTrainedModel) {
  const std::string dir = temp_dir("export_mlp");
  Dataset d = test::synthetic_dataset(96, 4);
  d.x_shape.clear();  // plain vectors
  const std::string run = train(dir, "mlp", d, [](TrainOptions& o) {
    o.encoder = "mlp";
    o.mesh = "none";
    o.mlp_hidden = "24,12";
    o.model.activation = "tanh";
  });
  ASSERT_EQ(TrainedModel(run).meta().config.encoder, "mlp");
  expect_export_matches(run, d.x.topRows(20));
}

TEST(Export, BatchNormInEvalModeMatchesTrainedModel) {
  const std::string dir = temp_dir("export_batch");
  const Dataset d = test::synthetic_dataset(96, 5);
  const std::string run = train(dir, "batch", d, [](TrainOptions& o) {
    o.model.norm = "batch";
    o.model.activation = "leaky_relu";
    o.model.encoder_hidden = {16};
  });
  expect_export_matches(run, d.x.topRows(20), 2e-4);
}

TEST(Export, GroupNormAndTwoBlocksPerStageMatchTrainedModel) {
  const std::string dir = temp_dir("export_group");
  const Dataset d = mesh_dataset(96, 6);
  const std::string run = train(dir, "group", d, [](TrainOptions& o) {
    o.model.norm = "group";
    o.model.blocks = 2;
    o.model.activation = "elu";
  });
  expect_export_matches(run, d.x.topRows(20), 2e-4);
}

TEST(Export, SiluAndGeluActivationsMatchTrainedModel) {
  const std::string dir = temp_dir("export_act");
  const Dataset d = mesh_dataset(96, 7);
  for (const char* act : {"silu", "gelu"}) {
    const std::string run = train(dir, act, d, [&](TrainOptions& o) { o.model.activation = act; });
    expect_export_matches(run, d.x.topRows(20));
  }
}

TEST(Export, MissingModelIsAnError) {
  const std::string dir = temp_dir("export_missing");
  try {
    export_torchscript(dir + "/no_such_run", dir + "/out");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_run' not found"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir + "/out"));
}

TEST(Export, UnwritableOutIsAnErrorAndLeavesNoFiles) {
  const std::string dir = temp_dir("export_unwritable");
  Dataset d = test::synthetic_dataset(48, 7);
  d.x_shape.clear();
  const std::string run = train(dir, "run", d, [](TrainOptions& o) {
    o.encoder = "mlp";
    o.mesh = "none";
    o.mlp_hidden = "8";
    o.epochs = 1;
  });
  { std::ofstream(dir + "/file") << "not a folder"; }
  try {
    export_torchscript(run, dir + "/file/out");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--out " + dir + "/file/out: cannot create this folder"), std::string::npos)
        << e.what();
  }
  try {
    export_torchscript(run, dir + "/file");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create this folder"), std::string::npos) << e.what();
  }
}

TEST(Export, CommandLine) {
  const std::string dir = temp_dir("export_cli");
  test::RunResult help = test::run_ved("export --help");
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("--model"), std::string::npos);
  EXPECT_NE(help.out.find("predictor.pt"), std::string::npos);

  test::RunResult missing = test::run_ved("export --model " + dir + "/nothing --out " + dir + "/out");
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("error: model '" + dir + "/nothing' not found"), std::string::npos) << missing.err;

  Dataset d = test::synthetic_dataset(48, 8);
  d.x_shape.clear();
  const std::string run = train(dir, "run", d, [](TrainOptions& o) {
    o.encoder = "mlp";
    o.mesh = "none";
    o.mlp_hidden = "8";
    o.epochs = 1;
  });
  { std::ofstream(dir + "/file") << "not a folder"; }
  test::RunResult bad_out = test::run_ved("export --model " + run + " --out " + dir + "/file/sub");
  EXPECT_EQ(bad_out.code, 1);
  EXPECT_NE(bad_out.err.find("cannot create this folder"), std::string::npos) << bad_out.err;

  test::RunResult ok = test::run_ved("export --model " + run + " --out " + dir + "/exported");
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_NE(ok.out.find("predictor.pt"), std::string::npos);
  for (const char* f : {"encoder.pt", "decoder.pt", "predictor.pt", "export.json"})
    EXPECT_TRUE(fs::exists(dir + "/exported/" + f)) << f;
  // Exporting again replaces the files; nothing else is left in the folder.
  test::RunResult again = test::run_ved("export --model " + run + "/model.h5 --out " + dir + "/exported");
  EXPECT_EQ(again.code, 0) << again.err;
  int n_files = 0;
  for (const auto& entry : fs::directory_iterator(dir + "/exported")) n_files += entry.is_regular_file();
  EXPECT_EQ(n_files, 4);
}

}  // namespace ved
