// A 2-D Darcy dataset that ved does not generate itself, written as plain .npy files the
// way a user's own simulations would arrive:
//
//   coefficient a(x) in {3, 12}: a Gaussian random field (Matérn-5/2) thresholded at 0;
//   solution u of  -div(a grad u) = 1  on the unit square, u = 0 on the boundary,
//   solved with ved's structured-mesh TPFA solver on an n x n grid.
//
//   darcy_data --out DIR [--n 16] [--train 1000] [--test 50] [--seed 1]
//   -> DIR/x_train.npy [N, n, n] (a), DIR/y_train.npy [N, n*n] (u), x_test.npy, y_test.npy
//
// Row j, column i of an image is cell i + n*j (x to the right, y upwards); y uses the
// same cell order. `--constant A` makes every field a = A (a check against the analytic
// Poisson solution: max u = 0.07367/A).
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "ved/field/random_field.hpp"
#include "ved/flow/tpfa.hpp"
#include "ved/mesh/mesh.hpp"
#include "ved/util/atomic_file.hpp"
#include "ved/util/error.hpp"
#include "ved/util/npy.hpp"
#include "ved/util/rng.hpp"

namespace {

struct Options {
  std::string out;
  int n = 16;
  int train = 1000;
  int test = 50;
  uint64_t seed = 1;
  double length = 0.15;   // correlation length of the underlying Gaussian field
  double low = 3, high = 12;
  double constant = 0;    // > 0: a = constant everywhere
};

void write_npy(const std::string& path, const std::vector<double>& v, const std::vector<size_t>& dims) {
  ved::AtomicOutput out(path);
  ved::npy::write(out.temp_path(), v.data(), dims);
  out.commit();
}

void run(const Options& o) {
  VED_CHECK(o.n >= 2 && o.train >= 1 && o.test >= 0, "--n must be >= 2, --train >= 1, --test >= 0");
  std::filesystem::create_directories(o.out);
  ved::StructuredSiteOptions so;
  so.nx = so.ny = o.n;
  so.west = so.east = so.south = so.north = ved::SideCondition{ved::BcKind::kDirichlet, 0.0};
  const ved::Site site = ved::make_structured_site(so);
  const int cells = site.mesh.n_cells;
  ved::TpfaSolver solver(site);
  ved::MaternParams p;
  p.sigma = 1.0;
  p.length = o.length;
  const ved::KlExpansion kl = ved::build_kl(site.mesh.cell_centroids, p, cells);
  auto ws = solver.make_workspace();

  auto make = [&](int first, int count, const std::string& tag) {
    std::vector<double> x(static_cast<size_t>(count) * cells), y(x.size()), log_t(cells), rhs(cells);
    for (int s = 0; s < count; ++s) {
      // Realisation i draws from its own stream, so train and test never share a field.
      ved::NormalStream rng(o.seed, static_cast<uint64_t>(first + s));
      Eigen::VectorXd xi(kl.n_modes());
      for (int k = 0; k < xi.size(); ++k) xi[k] = rng.normal();
      const Eigen::VectorXd g = kl.mean + kl.modes * xi;
      for (int c = 0; c < cells; ++c) {
        const double a = o.constant > 0 ? o.constant : (g[c] > 0 ? o.high : o.low);
        x[static_cast<size_t>(s) * cells + c] = a;
        log_t[c] = std::log(a);
      }
      // TPFA in centred units (T / exp(mean)): the unit source enters as volume * exp(-mean).
      const double mean = solver.set_field(log_t.data(), *ws);
      solver.factorize(nullptr, *ws);
      solver.boundary_rhs(mean, *ws, rhs.data());
      for (int c = 0; c < cells; ++c) rhs[c] += site.mesh.cell_volumes[c] * std::exp(-mean);
      solver.solve_factored(rhs.data(), y.data() + static_cast<size_t>(s) * cells, *ws);
    }
    const size_t n = static_cast<size_t>(o.n);
    write_npy(o.out + "/x_" + tag + ".npy", x, {static_cast<size_t>(count), n, n});
    write_npy(o.out + "/y_" + tag + ".npy", y, {static_cast<size_t>(count), n * n});
  };
  make(0, o.train, "train");
  if (o.test > 0) make(o.train, o.test, "test");
  std::printf("wrote %d training and %d test pairs (%dx%d) to %s\n", o.train, o.test, o.n, o.n, o.out.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Binary-coefficient Darcy dataset (-div(a grad u) = 1, u = 0 on the boundary) as .npy files"};
  Options o;
  app.add_option("--out", o.out, "Output folder")->required();
  app.add_option("--n", o.n, "Cells per side");
  app.add_option("--train", o.train, "Training pairs");
  app.add_option("--test", o.test, "Test pairs (realisations after the training ones)");
  app.add_option("--seed", o.seed, "Seed");
  app.add_option("--length", o.length, "Correlation length of the thresholded Gaussian field");
  app.add_option("--constant", o.constant, "Use a = this value everywhere (a check; 0 = random binary fields)");
  CLI11_PARSE(app, argc, argv);
  try {
    run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
