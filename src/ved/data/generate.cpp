#include "ved/data/generate.hpp"

#include <omp.h>

#include <Eigen/Core>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "ved/grid/map2grid.hpp"
#include "ved/mesh/site_io.hpp"
#include "ved/util/error.hpp"
#include "ved/util/rng.hpp"

namespace ved {
namespace {
// Realisations per block: fixed, so that results are independent of the thread count.
constexpr long kBlock = kGenerateBlock;
}  // namespace

GeneratorModel make_generator_model(const Site& site, const GenerateOptions& opt) {
  const Mesh& m = site.mesh;
  VED_CHECK(opt.modes >= 1 && opt.modes <= m.n_cells,
            "--modes " << opt.modes << " out of range [1, " << m.n_cells << "] (cells of the mesh)");
  GeneratorModel g;
  bool given = opt.sigma > 0 && opt.length > 0;
  VED_CHECK(given || (opt.sigma == 0 && opt.length == 0),
            "--sigma " << opt.sigma << " and --length " << opt.length
                       << ": give both (positive) to skip the fit, or neither to fit them to observations");
  std::vector<int> obs_cells;
  Eigen::VectorXd obs_values;
  if (site.reference_log_t.size() == m.n_cells && (!given || opt.conditional)) {
    // Observation sets ship with Hanford: yobs_<n>_1x.npy beside the mesh files.
    std::string dir = site.source == "hanford" ? data_dir() + "/hanford" : site.source;
    std::string file = dir + "/yobs_" + std::to_string(opt.obs_size) + "_1x.npy";
    VED_CHECK(std::filesystem::exists(file), file << ": observation set not found; --obs-size must be one of "
                                                     "10, 25, 50, 100, 200 for Hanford");
    auto sets = load_observation_sets(file, m.n_cells);
    VED_CHECK(opt.obs_set >= 0 && opt.obs_set < static_cast<int>(sets.size()),
              "--obs-set " << opt.obs_set << " out of range [0, " << sets.size() << ") for " << file);
    obs_cells = sets[opt.obs_set];
    obs_values.resize(obs_cells.size());
    for (size_t i = 0; i < obs_cells.size(); ++i) obs_values[i] = site.reference_log_t[obs_cells[i]];
    g.obs_file = file;
  }
  if (given) {
    g.params.sigma = opt.sigma;
    g.params.length = opt.length;
    g.params.mean = opt.mean != 0 ? opt.mean
                                  : (site.reference_log_t.size() ? site.reference_log_t.mean() : 0.0);
  } else {
    VED_CHECK(!obs_cells.empty(), site.source << ": no reference field to fit the random-field model to; "
                                                 "give --sigma and --length");
    Eigen::Matrix2Xd pts(2, obs_cells.size());
    for (size_t i = 0; i < obs_cells.size(); ++i) pts.col(i) = m.cell_centroids.col(obs_cells[i]);
    GpFit fit = fit_matern52(pts, obs_values);
    g.params = fit.params;
    g.log_likelihood = fit.log_likelihood;
    g.fitted = true;
  }
  if (opt.conditional) {
    VED_CHECK(!obs_cells.empty(), "--conditional needs observations of a reference field (Hanford ships them)");
    g.kl = build_conditional_kl(m.cell_centroids, g.params, obs_cells, obs_values, opt.modes);
  } else {
    g.kl = build_kl(m.cell_centroids, g.params, opt.modes);
  }
  return g;
}

void set_generated_extent(Dataset& d, long samples, long first) {
  auto gen = nlohmann::json::parse(d.text_attrs.at("generator"));
  gen["samples"] = samples;
  gen["first"] = first;
  d.text_attrs["generator"] = gen.dump();
}

Dataset generate_dataset(const Site& site, const GeneratorModel& model, const GenerateOptions& opt,
                         const std::function<void(long)>& on_rows) {
  VED_CHECK(opt.samples >= 1, "--samples " << opt.samples << ": must be at least 1");
  VED_CHECK(opt.threads >= 1, "--threads " << opt.threads << ": must be at least 1");
  const Mesh& m = site.mesh;
  const long n = opt.samples;
  const int k = model.kl.n_modes(), cells = m.n_cells;
  SystemModel system(site, opt.system);  // y of each field: [n_outputs]
  Dataset d;
  d.x.resize(n, cells);
  d.y.resize(n, system.n_outputs());
  d.xi.resize(n, k);
  if (opt.store_head) d.head.resize(n, cells);
  const long n_blocks = (n + kBlock - 1) / kBlock;
  std::string error;
  Eigen::setNbThreads(1);  // one GEMM per block and thread; fixed blocks keep results reproducible
#pragma omp parallel num_threads(opt.threads)
  {
    auto ws = system.make_workspace();
    Eigen::MatrixXd xi_block, fields;  // [k, B], [cells, B] column per realisation
    std::vector<double> head(cells);
#pragma omp for schedule(dynamic, 1)
    for (long b = 0; b < n_blocks; ++b) {
      try {
        const long r0 = b * kBlock, nb = std::min(kBlock, n - r0);
        xi_block.resize(k, nb);
        for (long j = 0; j < nb; ++j) {
          NormalStream rng(opt.seed, static_cast<uint64_t>(opt.first + r0 + j));
          for (int i = 0; i < k; ++i) xi_block(i, j) = rng.normal();
        }
        fields.noalias() = model.kl.modes * xi_block;
        fields.colwise() += model.kl.mean;
        for (long j = 0; j < nb; ++j) {
          system.evaluate(fields.col(j).data(), &d.y(r0 + j, 0), head.data(), *ws);
          d.x.row(r0 + j) = fields.col(j).transpose();
          d.xi.row(r0 + j) = xi_block.col(j).transpose();
          if (opt.store_head) d.head.row(r0 + j) = Eigen::Map<Eigen::RowVectorXd>(head.data(), cells);
        }
        if (on_rows) {
#pragma omp critical(ved_generate_progress)
          on_rows(nb);
        }
      } catch (const std::exception& e) {
#pragma omp critical(ved_generate_error)
        if (error.empty()) error = "realisation block " + std::to_string(b) + ": " + e.what();
      }
    }
  }
  VED_CHECK(error.empty(), error);

  d.wells = site.wells;
  d.mesh = site.source;
  d.x_shape = {static_cast<size_t>(cells)};
  d.grid_map = compute_grid_map(m);
  d.has_grid_map = true;
  nlohmann::json gen = {
      {"system", system.options().system},
      {"mesh", site.source},
      {"samples", n},
      {"first", opt.first},
      {"seed", opt.seed},
      {"conditional", opt.conditional},
      {"modes", k},
      {"variance_fraction", model.kl.variance_fraction()},
      {"sigma", model.params.sigma},
      {"length", model.params.length},
      {"mean", model.params.mean},
      {"nugget", model.params.nugget},
      {"fitted", model.fitted},
      {"log_likelihood", model.log_likelihood},
      {"obs_file", std::filesystem::path(model.obs_file).filename().string()},
      {"obs_set", opt.obs_set},
  };
  // Outputs of the system: shape of y per sample ([wells] or [wells, times], flattened
  // row-major) and its times; the settings in full in generator.physics.
  gen["physics"] = nlohmann::json::parse(system.describe_json());
  d.text_attrs["generator"] = gen.dump();
  d.text_attrs["system"] = system.options().system;
  d.text_attrs["y_shape"] = nlohmann::json(system.y_shape()).dump();
  d.text_attrs["y_quantity"] = system.y_quantity();
  if (!system.y_times().empty()) d.text_attrs["y_times"] = nlohmann::json(system.y_times()).dump();
  d.number_attrs["seed"] = static_cast<double>(opt.seed);
  d.number_attrs["sigma"] = model.params.sigma;
  d.number_attrs["length"] = model.params.length;
  d.number_attrs["field_mean"] = model.params.mean;
  d.number_attrs["conditional"] = opt.conditional ? 1 : 0;
  return d;
}

}  // namespace ved
