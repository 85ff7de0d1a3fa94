#include "ved/util/progress.hpp"

#include <unistd.h>  // isatty

#include <cstdio>

namespace ved {

bool Progress::enabled() { return ::isatty(STDOUT_FILENO) && ::isatty(STDERR_FILENO); }

Progress::Progress(std::string label, size_t total, bool show)
    : label_(std::move(label)), total_(total), start_(std::chrono::steady_clock::now()),
      last_draw_(start_), active_(show && enabled()) {}

Progress::~Progress() { finish(); }

void Progress::set_suffix(const std::string& suffix) {
  std::lock_guard<std::mutex> lock(mutex_);
  suffix_ = suffix;
}

void Progress::advance(size_t n) {
  size_t done = done_ += n;
  if (!active_) return;
  auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mutex_);
  if (now - last_draw_ < std::chrono::milliseconds(100) && done < total_) return;
  last_draw_ = now;
  draw(done);
}

void Progress::draw(size_t done) {
  double frac = total_ ? static_cast<double>(done) / total_ : 1.0;
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double eta = frac > 0 ? elapsed * (1 - frac) / frac : 0;
  const int width = 30;
  int filled = static_cast<int>(frac * width);
  std::string bar(filled, '#');
  bar.append(width - filled, '.');
  std::fprintf(stderr, "\r%s [%s] %zu/%zu %5.1fs eta %5.1fs %s\x1b[K", label_.c_str(), bar.c_str(),
               done, total_, elapsed, eta, suffix_.c_str());
  std::fflush(stderr);
}

void Progress::finish() {
  if (!active_ || finished_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  finished_ = true;
  draw(done_.load());
  std::fprintf(stderr, "\n");
}

}  // namespace ved
