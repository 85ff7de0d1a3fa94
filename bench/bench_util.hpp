#pragma once
// Helpers shared by the benchmarks: a wall clock and running a reference (Python) script.
#include <chrono>
#include <cstdio>
#include <string>

namespace ved::bench {

// Seconds on a monotonic clock.
inline double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Runs a shell command and returns its standard output ("" when it cannot start).
inline std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  while (fgets(buf, sizeof buf, p)) out += buf;
  pclose(p);
  return out;
}

}  // namespace ved::bench
