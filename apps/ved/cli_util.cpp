#include "cli_util.hpp"

#include <cmath>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <thread>

#include "ved/util/array_source.hpp"
#include "ved/util/error.hpp"

extern char** environ;

namespace ved::app {
namespace fs = std::filesystem;

std::string self_path() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? "ved" : p.string();
}

// Runs argv with stdout/stderr redirected to files; returns the exit status (128+signal).
int spawn_wait(const std::vector<std::string>& argv, const std::string& out, const std::string& err) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // Children are single-process runs even when this process is an MPI rank: without the
  // launcher's variables they do not try to join the job.
  std::vector<char*> env;
  for (char** e = environ; *e; ++e) {
    std::string v = *e;
    if (v.rfind("OMPI_", 0) == 0 || v.rfind("PMIX_", 0) == 0 || v.rfind("PMI_", 0) == 0) continue;
    env.push_back(*e);
  }
  env.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&fa);
  VED_CHECK(rc == 0, "cannot start " << argv[0] << ": " << std::strerror(rc));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}


int default_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

MatrixRM load_rows(const std::string& spec, long n_cols, const std::string& what) {
  ArraySource src = ArraySource::parse(spec);
  LoadedArray a = load_array(src);
  VED_CHECK(!a.dims.empty(), src.str() << ": " << what << " is a scalar; expected [K, " << n_cols << "]");
  size_t rows = a.dims.size() == 1 ? 1 : a.dims[0];
  size_t cols = a.data.size() / std::max<size_t>(rows, 1);
  VED_CHECK(static_cast<long>(cols) == n_cols && rows * cols == a.data.size(),
            src.str() << ": " << what << " has shape [" << (a.dims.size() == 1 ? 1 : a.dims[0]) << ", " << cols
                      << "]; expected [K, " << n_cols << "] for this mesh");
  VED_CHECK(rows > 0, src.str() << ": " << what << " has zero rows");
  for (size_t i = 0; i < a.data.size(); ++i)
    VED_CHECK(std::isfinite(a.data[i]), src.str() << ": " << what << " row " << i / cols << " column " << i % cols << " is "
                                                  << a.data[i] << "; remove or repair non-finite samples");
  MatrixRM m = Eigen::Map<MatrixRM>(a.data.data(), static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  return m;
}

}  // namespace ved::app
