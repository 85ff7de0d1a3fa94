#pragma once
// Runs the `ved` program as a user would and captures exit code, stdout and stderr.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace ved::test {

struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};

inline std::string temp_dir(const std::string& name) {
  namespace fs = std::filesystem;
  fs::path d = fs::temp_directory_path() / ("ved_it_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs a shell command line, capturing its output.
inline RunResult run_command(const std::string& command) {
  static int counter = 0;
  std::string base = temp_dir("run") + "/" + std::to_string(counter++);
  std::string cmd = command + " >" + base + ".out 2>" + base + ".err </dev/null";
  int status = std::system(cmd.c_str());
  RunResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(base + ".out");
  r.err = slurp(base + ".err");
  return r;
}

// `args` is appended to the ved binary path; run through /bin/sh.
inline RunResult run_ved(const std::string& args) { return run_command(std::string(VED_BINARY) + " " + args); }

}  // namespace ved::test
