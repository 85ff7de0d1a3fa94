// TPFA benchmark: Hanford solves per second, ved vs SciPy (assembly + spsolve per field)
// measured in the same run on the same fields; also checks that both give the same heads.
// Then the `ved solve` command on the same fields (1 thread, .npy in, HDF5 out): its time
// per field, start-up taken out by a one-field run, against the in-process solve_batch.
//
//   build/bench/bench_tpfa [--fields 4000] [--scipy-fields 400] [--json out.json]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>  // getpid

#include "ved/flow/tpfa.hpp"
#include "ved/mesh/site_io.hpp"
#include "ved/util/array.hpp"
#include "bench_util.hpp"
#include "ved/util/npy.hpp"
#include "ved/util/rng.hpp"

namespace {

using ved::bench::now;
using ved::bench::run;

}  // namespace

int main(int argc, char** argv) {
  long n_fields = 4000, n_scipy = 400;
  std::string json_out;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--fields") n_fields = std::atol(argv[i + 1]);
    else if (a == "--scipy-fields") n_scipy = std::atol(argv[i + 1]);
    else if (a == "--json") json_out = argv[i + 1];
  }
  ved::Site site = ved::load_site("hanford");
  const int n = site.mesh.n_cells;
  // Fields: the reference plus smooth random perturbations (realistic conditioning).
  ved::MatrixRM fields(n_fields, n);
  for (long k = 0; k < n_fields; ++k) {
    ved::NormalStream rng(7, k);
    double a = rng.normal(), b = rng.normal(), c = rng.normal();
    for (int j = 0; j < n; ++j) {
      double x = site.mesh.cell_centroids(0, j), y = site.mesh.cell_centroids(1, j);
      fields(k, j) = site.reference_log_t[j] + a * std::sin(9 * x) + b * std::cos(7 * y) + 0.3 * c * rng.normal();
    }
  }
  auto t0 = now();
  ved::TpfaSolver solver(site);
  double t_setup = now() - t0;
  ved::MatrixRM heads(n_fields, n);
  nlohmann::json result = {{"cells", n}, {"fields", n_fields}, {"setup_s", t_setup},
                           {"factor_nnz", solver.factor_nnz()}};
  int max_threads = std::max(1u, std::thread::hardware_concurrency());
  for (int threads : {1, max_threads}) {
    solver.solve_batch(fields.data(), std::min<long>(n_fields, 64), heads.data(), threads);  // warm-up
    auto t1 = now();
    solver.solve_batch(fields.data(), n_fields, heads.data(), threads);
    double dt = now() - t1;
    result["ved_solves_per_s_" + std::to_string(threads) + "t"] = n_fields / dt;
    std::printf("ved   %d thread(s): %8.0f solves/s (%.3f ms per field)\n", threads, n_fields / dt, 1e3 * dt / n_fields);
    if (threads == max_threads && max_threads == 1) break;
  }

  // SciPy reference on a subset of the same fields.
  namespace fs = std::filesystem;
  fs::path tmp = fs::temp_directory_path() / ("ved_bench_tpfa_" + std::to_string(getpid()));
  fs::create_directories(tmp);
  ved::npy::write((tmp / "fields.npy").string(), fields.data(), {static_cast<size_t>(n_fields), static_cast<size_t>(n)});
  std::string script = std::string(VED_SOURCE_DIR) + "/bench/tpfa_scipy.py";
  std::string cmd = "/usr/bin/python3 " + script + " " + ved::data_dir() + "/hanford " + (tmp / "fields.npy").string() +
                    " " + std::to_string(n_scipy) + " " + (tmp / "heads.npy").string();
  std::string out = run(cmd);
  try {
    auto ref = nlohmann::json::parse(out);
    double scipy_rate = ref["solves_per_s"];
    ved::npy::Array h = ved::npy::read((tmp / "heads.npy").string());
    double max_diff = 0;
    for (size_t i = 0; i < h.data.size(); ++i) max_diff = std::max(max_diff, std::abs(h.data[i] - heads.data()[i]));
    double ved1 = result["ved_solves_per_s_1t"];
    result["scipy_solves_per_s"] = scipy_rate;
    result["ratio_1t_vs_scipy"] = ved1 / scipy_rate;
    result["max_abs_head_diff_m"] = max_diff;
    std::printf("scipy 1 thread : %8.0f solves/s (%.3f ms per field, assembly + spsolve)\n", scipy_rate,
                1e3 / scipy_rate);
    std::printf("ratio ved(1 thread) / scipy = %.1fx (target >= 10x); max |head difference| = %.2e m\n",
                ved1 / scipy_rate, max_diff);
  } catch (const std::exception& e) {
    std::printf("scipy reference unavailable (%s); output: %s\n", e.what(), out.c_str());
  }

  // The command: everything `ved solve` adds to the solver (reading, conversion, writing).
  // Its per-field time is (t(N fields) - t(1 field)) / (N - 1), start-up and the solver's
  // set-up cancelling out.
  ved::npy::write((tmp / "one.npy").string(), fields.data(), {1, static_cast<size_t>(n)});
  auto time_command = [&](const std::string& input) {
    const std::string c = std::string(VED_BINARY) + " solve --threads 1 --input " + input + " --out " +
                          (tmp / "heads_cmd.h5").string() + " > /dev/null";
    const double t = now();
    const int rc = std::system(c.c_str());
    const double dt = now() - t;
    fs::remove(tmp / "heads_cmd.h5");
    return rc == 0 ? dt : -1.0;
  };
  const double t_one = time_command((tmp / "one.npy").string());
  const double t_all = time_command((tmp / "fields.npy").string());
  if (t_one > 0 && t_all > 0 && n_fields > 1) {
    const double per_field = (t_all - t_one) / static_cast<double>(n_fields - 1);
    const double in_process = 1.0 / result["ved_solves_per_s_1t"].get<double>();
    result["command_ms_per_field"] = 1e3 * per_field;
    result["command_startup_s"] = t_one;
    result["ratio_command_vs_solve_batch"] = per_field / in_process;
    std::printf("ved solve (command, 1 thread): %.3f ms per field (start-up %.2f s), %.2fx solve_batch (target <= 1.2x)\n",
                1e3 * per_field, t_one, per_field / in_process);
    if (result.contains("scipy_solves_per_s")) {
      const double scipy_per_field = 1.0 / result["scipy_solves_per_s"].get<double>();
      result["ratio_command_vs_scipy"] = scipy_per_field / per_field;
      std::printf("ratio ved solve (command) / scipy = %.1fx (target >= 10x, stretch 30x)\n", scipy_per_field / per_field);
    }
  } else {
    std::printf("ved solve (command) failed; see %s\n", VED_BINARY);
  }
  fs::remove_all(tmp);
  if (!json_out.empty()) std::ofstream(json_out) << result.dump(2) << "\n";
  return 0;
}
