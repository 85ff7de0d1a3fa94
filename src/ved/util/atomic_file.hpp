#pragma once
// Write-then-rename, so that a crash or an error never leaves a file that looks complete.
//
//   AtomicOutput out("run/model.h5");
//   write_everything(out.temp_path());   // any throw here removes the temporary
//   out.commit();                        // fsync + rename over the final path
//
// A target that exists and is not a regular file (/dev/full, a FIFO) is written directly:
// renaming over a device would replace it.
#include <string>

namespace ved {

class AtomicOutput {
 public:
  explicit AtomicOutput(std::string final_path);
  ~AtomicOutput();
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  const std::string& temp_path() const { return temp_path_; }
  const std::string& final_path() const { return final_path_; }
  // Flushes the temporary to disk and renames it to the final path. Throws on failure.
  void commit();

 private:
  std::string final_path_;
  std::string temp_path_;
  bool direct_ = false;
  bool committed_ = false;
  int slot_ = -1;  // registry slot for signal-time cleanup
};

// Writes text atomically (temporary + rename); throws ved::Error with the path on failure.
void write_text_atomic(const std::string& path, const std::string& text);

// Throws a clear error when the directory that would hold `path` is missing or unwritable.
void check_output_path(const std::string& path);

// Installs SIGINT/SIGTERM handlers that delete every temporary of a live AtomicOutput and
// then die by the same signal, and ignores SIGXFSZ so that a file-size limit becomes a
// write error (reported, temporary removed) instead of a kill. Called once by main.
void install_cleanup_handlers();

}  // namespace ved
