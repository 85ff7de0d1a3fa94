#include "ved/util/atomic_file.hpp"

#include <fcntl.h>     // open
#include <signal.h>    // sigaction
#include <sys/stat.h>  // stat
#include <unistd.h>    // fsync, getpid, access

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "ved/util/error.hpp"

namespace ved {
namespace fs = std::filesystem;

namespace {

// Temporaries of live AtomicOutputs, readable from a signal handler (fixed storage, one
// atomic flag per slot).
constexpr int kSlots = 64;
char g_temp_paths[kSlots][4096];
std::atomic<bool> g_slot_used[kSlots];

int register_temp(const std::string& path) {
  if (path.size() >= sizeof g_temp_paths[0]) return -1;
  for (int i = 0; i < kSlots; ++i) {
    bool expected = false;
    if (g_slot_used[i].compare_exchange_strong(expected, true)) {
      std::memcpy(g_temp_paths[i], path.c_str(), path.size() + 1);
      return i;
    }
  }
  return -1;
}

void unregister_temp(int slot) {
  if (slot >= 0) g_slot_used[slot] = false;
}

extern "C" void cleanup_and_die(int sig) {
  for (int i = 0; i < kSlots; ++i)
    if (g_slot_used[i]) ::unlink(g_temp_paths[i]);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

bool is_special_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

void fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  VED_CHECK(rc == 0 || err == EINVAL || err == EROFS,
            path << ": cannot flush to disk: " << std::strerror(err));
}
}  // namespace

void check_output_path(const std::string& path) {
  VED_CHECK(!path.empty(), "output path is empty");
  if (is_special_file(path)) return;
  fs::path p(path);
  VED_CHECK(!fs::is_directory(p), path << ": is a directory; expected a file path");
  fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  VED_CHECK(fs::is_directory(dir),
            path << ": directory '" << dir.string() << "' does not exist; create it first");
  VED_CHECK(::access(dir.c_str(), W_OK) == 0,
            path << ": directory '" << dir.string() << "' is not writable");
}

AtomicOutput::AtomicOutput(std::string final_path) : final_path_(std::move(final_path)) {
  check_output_path(final_path_);
  direct_ = is_special_file(final_path_);
  if (direct_) {
    temp_path_ = final_path_;
  } else {
    fs::path p(final_path_);
    temp_path_ = (p.parent_path() / ("." + p.filename().string() + ".tmp." +
                                     std::to_string(::getpid()))).string();
    slot_ = register_temp(temp_path_);
  }
}

AtomicOutput::~AtomicOutput() {
  if (!committed_ && !direct_) std::remove(temp_path_.c_str());
  unregister_temp(slot_);
}

void install_cleanup_handlers() {
  struct sigaction sa {};
  sa.sa_handler = cleanup_and_die;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::signal(SIGXFSZ, SIG_IGN);
}

void AtomicOutput::commit() {
  VED_CHECK(!committed_, final_path_ << ": committed twice");
  if (!direct_) {
    fsync_path(temp_path_);
    VED_CHECK(std::rename(temp_path_.c_str(), final_path_.c_str()) == 0,
              final_path_ << ": cannot rename temporary into place: " << std::strerror(errno));
    unregister_temp(slot_);
    slot_ = -1;
    fs::path dir = fs::path(final_path_).parent_path();
    fsync_path(dir.empty() ? "." : dir.string());
  }
  committed_ = true;
}

void write_text_atomic(const std::string& path, const std::string& text) {
  AtomicOutput out(path);
  std::FILE* f = std::fopen(out.temp_path().c_str(), "wb");
  VED_CHECK(f, path << ": cannot open for writing: " << std::strerror(errno));
  size_t n = std::fwrite(text.data(), 1, text.size(), f);
  int err = errno;
  bool ok = n == text.size() && std::fflush(f) == 0;
  if (!ok) err = errno;
  ok = (std::fclose(f) == 0) && ok;
  VED_CHECK(ok, path << ": write failed: " << std::strerror(err ? err : errno));
  out.commit();
}

}  // namespace ved
