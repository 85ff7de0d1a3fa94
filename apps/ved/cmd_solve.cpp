// ved solve: heads for given log-transmissivity fields with the TPFA solver.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>

#include "cli_util.hpp"
#include "commands.hpp"
#include "ved/flow/tpfa.hpp"
#include "ved/mesh/site_io.hpp"
#include "ved/util/atomic_file.hpp"
#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"

namespace ved::app {
namespace {

struct SolveOptions {
  std::string input;           // FILE.h5:/dataset or FILE.npy, [K, cells]
  std::string mesh = "hanford";
  int threads = default_threads();
  std::string out;
};

void run_solve(const SolveOptions& o) {
  check_output_path(o.out);
  VED_CHECK(o.threads >= 1, "--threads " << o.threads << ": must be at least 1");
  Site site = load_site(o.mesh);
  MatrixRM log_t = load_rows(o.input, site.mesh.n_cells, "--input");
  auto t0 = std::chrono::steady_clock::now();
  TpfaSolver solver(site);
  MatrixRM head(log_t.rows(), log_t.cols());
  solver.solve_batch(log_t.data(), log_t.rows(), head.data(), o.threads);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MatrixRM wells(head.rows(), static_cast<Eigen::Index>(site.wells.size()));
  for (size_t w = 0; w < site.wells.size(); ++w) wells.col(w) = head.col(site.wells[w]);

  AtomicOutput out(o.out);
  {
    auto f = h5::File::create(out);
    f.write("/head", head.data(), {static_cast<size_t>(head.rows()), static_cast<size_t>(head.cols())});
    f.write("/head_wells", wells.data(), {static_cast<size_t>(wells.rows()), static_cast<size_t>(wells.cols())});
    std::vector<int64_t> w(site.wells.begin(), site.wells.end());
    f.write("/wells", w.data(), {w.size()});
    f.set_attr("/", "mesh", o.mesh);
    f.set_attr("/", "input", o.input);
    f.close();
  }
  out.commit();
  std::printf("solved %ld fields on %s (%d cells) in %.3f s (%.0f solves/s, %d threads); heads %.2f–%.2f m -> %s\n",
              static_cast<long>(head.rows()), o.mesh.c_str(), site.mesh.n_cells, secs, head.rows() / secs,
              o.threads, head.minCoeff(), head.maxCoeff(), o.out.c_str());
}

}  // namespace

void add_solve_command(CLI::App& app) {
  auto opt = std::make_shared<SolveOptions>();
  CLI::App* cmd = app.add_subcommand("solve", "Solve steady flow for log-transmissivity fields [K, cells]; "
                                              "writes /head [K, cells] and /head_wells [K, wells] (float64)");
  cmd->add_option("--input", opt->input, "Fields: FILE.h5:/dataset or FILE.npy, shape [K, cells] or [cells]")->required();
  cmd->add_option("--mesh", opt->mesh, "hanford, grid:NXxNY, or a folder with geom*.mat, bc*.mat, well_cells*.mat");
  cmd->add_option("--threads", opt->threads, "Worker threads");
  cmd->add_option("--out", opt->out, "Output HDF5 file")->required();
  cmd->callback([opt] { run_solve(*opt); });
}

}  // namespace ved::app
