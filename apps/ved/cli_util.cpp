#include "cli_util.hpp"

#include "ved/util/shape_text.hpp"

#include <cmath>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
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
// fork + exec rather than posix_spawn, for one thing posix_spawn cannot do: the child
// asks the kernel for SIGTERM when its parent dies (PR_SET_PDEATHSIG), so that a sweep or
// demo killed even by SIGKILL leaves no orphaned `ved train` running on; `ved train`
// answers SIGTERM by saving a checkpoint, which the rerun resumes from. (The signal follows
// the forking thread; here that thread waits for the child, so it outlives it.)
int spawn_wait(const std::vector<std::string>& argv, const std::string& out, const std::string& err) {
  // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
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
  int report[2];  // the child writes errno here if it cannot start; closed by a successful exec
  VED_CHECK(::pipe2(report, O_CLOEXEC) == 0, "cannot start " << argv[0] << ": pipe: " << std::strerror(errno));
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int e = errno;
    ::close(report[0]);
    ::close(report[1]);
    VED_FAIL("cannot start " << argv[0] << ": fork: " << std::strerror(e));
  }
  if (pid == 0) {
    auto fail = [&](int e) {
      [[maybe_unused]] ssize_t w = ::write(report[1], &e, sizeof e);
      ::_exit(127);
    };
    if (::prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) fail(errno);
    if (::getppid() != parent) ::_exit(128 + SIGTERM);  // the parent died before prctl
    const int in = ::open("/dev/null", O_RDONLY);
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || o < 0 || e < 0) fail(errno);
    if (::dup2(in, STDIN_FILENO) < 0 || ::dup2(o, STDOUT_FILENO) < 0 || ::dup2(e, STDERR_FILENO) < 0) fail(errno);
    ::execve(args[0], args.data(), env.data());
    fail(errno);
  }
  ::close(report[1]);
  int child_errno = 0;
  ssize_t got;
  while ((got = ::read(report[0], &child_errno, sizeof child_errno)) < 0 && errno == EINTR) {
  }
  ::close(report[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  VED_CHECK(got <= 0, "cannot start " << argv[0] << " (output " << out << "): " << std::strerror(child_errno));
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
            src.str() << ": " << what << " has shape " << shape_text(a.dims) << "; expected [K, " << n_cols << "]"
                      << (a.dims.size() >= 3 ? " (K samples of " + std::to_string(n_cols) + " values; these have " +
                                                   std::to_string(cols) + ")"
                                             : std::string()));
  VED_CHECK(rows > 0, src.str() << ": " << what << " has zero rows");
  for (size_t i = 0; i < a.data.size(); ++i)
    VED_CHECK(std::isfinite(a.data[i]), src.str() << ": " << what << " " << element_text(a.dims, i) << " is " << a.data[i]
                                                  << "; remove or repair non-finite samples");
  MatrixRM m = Eigen::Map<MatrixRM>(a.data.data(), static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  return m;
}

}  // namespace ved::app
