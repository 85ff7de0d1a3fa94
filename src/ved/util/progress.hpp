#pragma once
// A progress bar on stderr, drawn only when stdout and stderr are terminals (so logs and
// pipes stay clean). Thread-safe `advance`.
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>

namespace ved {

class Progress {
 public:
  // `show` = false draws nothing (e.g. MPI ranks other than 0).
  Progress(std::string label, size_t total, bool show = true);
  ~Progress();
  void advance(size_t n = 1);
  void set_suffix(const std::string& suffix);
  void finish();
  static bool enabled();

 private:
  void draw(size_t done);
  std::string label_;
  std::string suffix_;
  size_t total_;
  std::atomic<size_t> done_{0};
  std::mutex mutex_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool active_;
  bool finished_ = false;
};

}  // namespace ved
