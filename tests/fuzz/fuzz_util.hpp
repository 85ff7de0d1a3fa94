#pragma once
// Shared by the libFuzzer targets: the loaders take paths, so each input is written to a
// per-process temporary file first. ved::Error is the expected answer to a bad file;
// anything else (a crash, a sanitizer report, another exception, a hang, a huge
// allocation) is a bug that libFuzzer reports. The same targets also build without
// sanitizers or libFuzzer (replay_main.cpp, the default test suite).
#if defined(__SANITIZE_ADDRESS__)
#define VED_FUZZ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VED_FUZZ_ASAN 1
#endif
#endif

#include <execinfo.h>  // backtrace, without a sanitizer
#include <poll.h>
#if VED_FUZZ_ASAN
#include <sanitizer/common_interface_defs.h>  // __sanitizer_set_death_callback
#endif
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>  // getenv
#include <filesystem>
#include <sstream>
#include <string>

#include "ved/util/error.hpp"

namespace ved::fuzz {

// Writes the input to $TMPDIR/ved_fuzz_<pid><ext> and removes it again on scope exit.
class TempInput {
 public:
  TempInput(const uint8_t* data, size_t size, const std::string& ext)
      : path_((std::filesystem::temp_directory_path() /
               ("ved_fuzz_" + std::to_string(getpid()) + ext)).string()) {
    std::FILE* f = std::fopen(path_.c_str(), "wb");
    if (!f) std::abort();
    if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
    if (std::fclose(f) != 0) std::abort();
  }
  ~TempInput() { std::remove(path_.c_str()); }
  TempInput(const TempInput&) = delete;
  TempInput& operator=(const TempInput&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Prints the error a rejected input got when VED_FUZZ_VERBOSE is set, e.g. to see what
// ved says about a regression input: VED_FUZZ_VERBOSE=1 fuzz_npy FILE.
inline void rejected(const ved::Error& e) {
  static const bool verbose = std::getenv("VED_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "error: %s\n", e.what());
}

namespace detail {

// Whose code a block of stack frames ("    #0 0x... in f file.cpp:line" or "... (module+0x..)")
// belongs to: the first frame in libhdf5 or at a source line of ved's; sanitizer
// interceptors (which carry the fuzzer's path but no source line), libc and libstdc++
// frames are skipped. Empty when neither appears.
inline std::string block_owner(const std::string& block) {
  std::istringstream lines(block);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("(/") != std::string::npos && line.find("libhdf5") != std::string::npos) return "hdf5";
    bool source = line.find(".cpp:") != std::string::npos || line.find(".hpp:") != std::string::npos;
    bool ours = line.find("/src/ved/") != std::string::npos || line.find("/apps/ved/") != std::string::npos ||
                line.find("/tests/fuzz/") != std::string::npos;
    if (source && ours) return "ved";
  }
  return "";
}

// True when a sanitizer report is libhdf5's own fault: the faulting stack stops in libhdf5
// first, and no other stack in the report (the heap block's allocation or free, a stack
// variable's frame) is ved's. A bad buffer that ved hands to HDF5 is therefore still
// ved's bug: its allocation stack, or the frame owning the stack variable, is ved's.
inline bool is_hdf5_fault(const std::string& report) {
  if (report.find("runtime error:") != std::string::npos) return false;  // UBSan: ved's code
  std::istringstream lines(report);
  std::string block, first_owner;
  bool first = true, any_ved = false;
  auto close_block = [&] {
    if (block.empty()) return;
    std::string owner = block_owner(block);
    if (first) first_owner = owner;
    first = false;
    any_ved = any_ved || owner == "ved";
    block.clear();
  };
  for (std::string line; std::getline(lines, line);) {
    bool frame = line.size() > 5 && line.compare(0, 5, "    #") == 0;
    if (frame) block += line + "\n";
    else close_block();
  }
  close_block();
  return first_owner == "hdf5" && !any_ved;
}

// Without a sanitizer the child prints glibc backtraces ("module(symbol+0x..)[0x..]", no
// source lines; fatal_signal below). The fault is libhdf5's when the first frame outside
// the C and C++ runtimes is in libhdf5. Weaker than the sanitizer's report (no allocation
// stacks), but it keeps an input on which HDF5 itself crashes from failing the replay.
inline bool is_hdf5_fault_native(const std::string& report) {
  std::istringstream lines(report);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(")[0x") == std::string::npos) continue;  // not a frame
    std::string module = line.substr(0, line.find('('));
    if (module.find("libhdf5") != std::string::npos) return true;
    bool runtime = module.find("/libc.so") != std::string::npos || module.find("/libstdc++") != std::string::npos ||
                   module.find("/libgcc_s") != std::string::npos;
    if (!runtime) return false;
  }
  return false;
}

#if !VED_FUZZ_ASAN
// The child's handler for fatal signals: its stack from the faulting frame on (frame 0 is
// this handler and frame 1 the kernel's signal trampoline), then exit.
inline void fatal_signal(int sig) {
  void* frames[64];
  int n = backtrace(frames, 64);
  if (n > 2) backtrace_symbols_fd(frames + 2, n - 2, STDERR_FILENO);
  _exit(128 + sig);
}
#endif

}  // namespace detail

// Runs `body` (which catches ved::Error itself) for an input that libhdf5 parses.
//
// HDF5 1.10 has memory-safety bugs of its own on corrupt files (out-of-bounds reads while
// decoding attribute and object-header messages, null dereferences on its error paths;
// see docs/reliability.md) that no check before the HDF5 call can rule out. So `body`
// first runs in a forked child with its sanitizer report captured:
//   - the child finishes: `body` runs again here, where libFuzzer sees its coverage;
//   - the child dies inside libhdf5 (detail::is_hdf5_fault), or hangs there for 2 s: the
//     input is an HDF5 bug, skipped and counted (printed at exit);
//   - the child dies or hangs anywhere else: its report is printed and this process
//     aborts, so that libFuzzer keeps the input as a crash.
//
// Strict mode (environment VED_FUZZ_STRICT=1; the replays of kept inputs set it: replay_main.cpp
// and run_fuzzer.cmake's MODE=replay) skips nothing: a fault inside libhdf5 fails too. Every
// kept input runs to ved's error today, some only because ved checks the file before the
// HDF5 call that would crash; without that check, the replay must fail, not skip.
inline bool strict_replay() {
  static const bool strict = [] {
    const char* v = std::getenv("VED_FUZZ_STRICT");
    return v != nullptr && *v != '\0' && std::string(v) != "0";
  }();
  return strict;
}

template <class Body>
void run_excluding_hdf5_faults(const char* target, Body body) {
  static int skipped = 0;
  static bool registered = false;
  static const char* name = target;
  if (!registered) {
    registered = true;
    std::atexit([] {
      if (skipped > 0) std::fprintf(stderr, "%s: %d inputs skipped as libhdf5 faults\n", name, skipped);
    });
  }
  int fds[2];
  if (pipe(fds) != 0) std::abort();
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) std::abort();
  if (pid == 0) {
#if VED_FUZZ_ASAN
    // The child reports through the pipe and never writes libFuzzer's crash files: its
    // death callback is dropped, and an abort (std::terminate, a failed assert) prints
    // the stack itself instead of going to libFuzzer's crash handler.
    __sanitizer_set_death_callback(nullptr);
    struct sigaction sa {};
    sa.sa_handler = [](int) {
      __sanitizer_print_stack_trace();
      _exit(134);
    };
    sigaction(SIGABRT, &sa, nullptr);
#else
    // No sanitizer to print a report: the child prints its own stack on a fatal signal.
    void* warm[1];
    backtrace(warm, 1);  // loads libgcc_s now, not inside the signal handler
    struct sigaction sa {};
    sa.sa_handler = detail::fatal_signal;
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) sigaction(sig, &sa, nullptr);
#endif
    close(fds[0]);
    dup2(fds[1], STDERR_FILENO);
    // An exception that `body` lets out must end the child here (std::terminate, at the
    // throw), not unwind into the caller's loop.
    [&]() noexcept { body(); }();
    _exit(0);
  }
  close(fds[1]);
  std::string report;
  bool hung = false;
  for (;;) {
    pollfd p{fds[0], POLLIN, 0};
    int ready = poll(&p, 1, hung ? 5000 : 2000);
    if (ready < 0 && errno == EINTR) continue;  // libFuzzer's SIGALRM timeout checks
    if (ready == 0 && !hung) {
      // Hung: a SIGSEGV makes ASan print where the child is stuck.
      hung = true;
      kill(pid, SIGSEGV);
      continue;
    }
    if (ready <= 0) break;
    char buf[4096];
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    report.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  kill(pid, SIGKILL);  // no-op unless still stuck
  int status = 0;
  waitpid(pid, &status, 0);
  if (!hung && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    body();
    return;
  }
#if VED_FUZZ_ASAN
  const bool hdf5_fault = detail::is_hdf5_fault(report);
#else
  const bool hdf5_fault = detail::is_hdf5_fault_native(report);
#endif
  if (hdf5_fault && strict_replay()) {
    std::fprintf(stderr, "%s%s: the input %s inside libhdf5 (child %s %d; report above); a kept input must run to "
                 "ved's error (strict replay, VED_FUZZ_STRICT)\n", report.c_str(), target, hung ? "hangs" : "crashes",
                 WIFSIGNALED(status) ? "signal" : "exit status", WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    std::abort();
  }
  if (hdf5_fault) {
    ++skipped;
    if (std::getenv("VED_FUZZ_VERBOSE")) std::fprintf(stderr, "skipped, libhdf5 fault:\n%s", report.c_str());
    return;
  }
  std::fprintf(stderr, "%s%s: the input %s outside libhdf5 (child %s %d; report above)\n", report.c_str(),
               target, hung ? "hangs" : "crashes", WIFSIGNALED(status) ? "signal" : "exit status",
               WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
  std::abort();
}

}  // namespace ved::fuzz
