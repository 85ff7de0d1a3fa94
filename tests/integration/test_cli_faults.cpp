// Bad input and faults, run as a user would: every case ends with a one-line error that
// names the file and the field, a non-zero exit, and no output that looks complete.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>
#include <fcntl.h>

#include "cli_harness.hpp"
#include "train_fixture.hpp"
#include "ved/data/dataset.hpp"
#include "ved/util/h5.hpp"
#include "ved/util/npy.hpp"

namespace ved {
namespace fs = std::filesystem;
using test::run_ved;

namespace {

// Files in `dir` other than the given ones (leftover temporaries would show up here).
std::vector<std::string> stray_files(const std::string& dir, const std::set<std::string>& expected) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (!expected.count(e.path().filename().string())) out.push_back(e.path().filename().string());
  return out;
}

void write_h5(const std::string& path, const MatrixRM& x, const MatrixRM& y) {
  auto f = h5::File::create(path);
  f.write("/x", x.data(), {static_cast<size_t>(x.rows()), static_cast<size_t>(x.cols())});
  f.write("/y", y.data(), {static_cast<size_t>(y.rows()), static_cast<size_t>(y.cols())});
  f.close();
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Starts `ved ARGS` (args begin with a space) in the background, output discarded; the pid
// is ved's own (exec), so signals reach it directly.
pid_t start_ved(const std::string& args) {
  const std::string cmd = "exec " + std::string(VED_BINARY) + args;  // built before fork
  pid_t pid = fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execl("/bin/sh", "sh", "-c", cmd.c_str(), nullptr);
    _exit(127);
  }
  return pid;
}

}  // namespace

TEST(Faults, FileSizeLimitMidWriteIsAnErrorAndLeavesNothing) {
  std::string dir = test::temp_dir("fsz");
  auto r = test::run_command("ulimit -f 200; " + std::string(VED_BINARY) + " generate --samples 100 --modes 50 --out " +
                             dir + "/d.h5");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(has(r.err, dir + "/d.h5: cannot write dataset")) << r.err;
  EXPECT_TRUE(stray_files(dir, {}).empty());
}

TEST(Faults, DevFullIsWrittenDirectlyAndReportsNoSpace) {
  if (!fs::exists("/dev/full")) GTEST_SKIP();
  auto r = run_ved("generate --samples 5 --modes 10 --out /dev/full");
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(has(r.err, "/dev/full: cannot create HDF5 file: No space left on device")) << r.err;
  EXPECT_TRUE(fs::exists("/dev/full"));  // never renamed over
  r = run_ved("solve --input " + std::string(VED_DATA_DIR) + "/hanford/conduct_log_1x.mat:/conduct_log --out /dev/full");
  EXPECT_EQ(r.code, 1);
}

// The signal must land while the output is being written: the test waits until ved's
// temporary (.d.h5.tmp.*, util/atomic_file.hpp) exists, so a kill before or after the write
// (which would pass without testing anything) fails instead.
TEST(Faults, KilledGenerateLeavesNoCompleteOutputAndARerunFinishes) {
  std::string dir = test::temp_dir("kill");
  const std::string args = " generate --samples 30000 --modes 100 --seed 9 --threads 2 --out " + dir + "/d.h5";
  auto temporaries = [&] {
    std::vector<std::string> found;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().filename().string().rfind(".d.h5.tmp.", 0) == 0) found.push_back(e.path().string());
    return found;
  };
  for (int sig : {SIGTERM, SIGKILL}) {
    for (const std::string& t : temporaries()) fs::remove(t);  // SIGKILL's round leaves one behind
    pid_t pid = start_ved(args);
    bool exited = false, seen = false;
    int status = 0;
    while (!seen && !exited) {  // poll every millisecond: the write takes a few hundred
      seen = !temporaries().empty();
      exited = !seen && waitpid(pid, &status, WNOHANG) == pid;
      if (!seen && !exited) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_FALSE(exited) << "ved exited (status " << status << ") before its temporary output was seen";
    ::kill(pid, sig);
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "ved finished its write before the signal; make the job longer";
    EXPECT_EQ(WTERMSIG(status), sig);
    EXPECT_FALSE(fs::exists(dir + "/d.h5"));
    if (sig == SIGTERM) {
      EXPECT_TRUE(stray_files(dir, {}).empty());  // the handler deleted its temporary
    } else {
      EXPECT_EQ(temporaries().size(), 1u);  // SIGKILL cannot be handled; the name says what it is
    }
  }
  // The same command again completes, with the same data as an uninterrupted run.
  auto r = run_ved(args.substr(1).replace(args.find("30000") - 1, 5, "2000"));
  ASSERT_EQ(r.code, 0) << r.err;
  auto r2 = run_ved("generate --samples 2000 --modes 100 --seed 9 --threads 1 --out " + dir + "/ref.h5");
  ASSERT_EQ(r2.code, 0) << r2.err;
  EXPECT_TRUE(read_dataset(dir + "/d.h5").x == read_dataset(dir + "/ref.h5").x);
}

#ifdef VED_HAVE_TRAIN
namespace {
// Processes whose command line mentions `text` (other than this test).
std::vector<std::string> processes_mentioning(const std::string& text) {
  std::vector<std::string> found;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string pid = e.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos || pid == std::to_string(::getpid())) continue;
    std::ifstream in(e.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(text) != std::string::npos) found.push_back(pid + ": " + cmdline);
  }
  return found;
}
}  // namespace

// SIGKILL of a sweep while its `ved train` child runs: the child must not run on as an
// orphan (it gets SIGTERM and saves a checkpoint), no results table may appear, and the
// same command again resumes the run and finishes the sweep.
TEST(Faults, KilledSweepStopsItsRunsAndARerunFinishesThem) {
  std::string dir = test::temp_dir("killsweep");
  write_dataset(dir + "/d.h5", test::synthetic_dataset(240, 8));
  write_dataset(dir + "/t.h5", test::synthetic_dataset(40, 9));
  const std::string sweep = dir + "/sw";
  const std::string args = " sweep --data " + dir + "/d.h5 --test " + dir + "/t.h5 --methods ved --latent 3 --epochs 400"
                           " --train-args '--encoder-stem 4 --encoder-stages 8,8 --decoder-hidden 32 --batch 16"
                           " --lr 0.01' --out " + sweep;
  pid_t pid = start_ved(args);
  // Wait for the child's checkpoint and a few epochs, then kill the sweep without warning.
  fs::path run;
  for (int i = 0; i < 6000 && run.empty(); ++i) {
    if (fs::is_directory(sweep + "/runs"))
      for (const auto& e : fs::directory_iterator(sweep + "/runs")) {
        std::ifstream log(e.path() / "train.jsonl");
        size_t lines = 0;
        for (std::string line; std::getline(log, line);) lines += !line.empty();
        if (lines >= 5 && fs::exists(e.path() / "checkpoint.h5")) run = e.path();
      }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_FALSE(run.empty()) << "the sweep's training never got going";
  ::kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the sweep finished before the kill; make it longer";
  // The orphaned child stops within seconds (SIGTERM from the kernel, checkpoint, exit).
  std::vector<std::string> left;
  for (int i = 0; i < 200; ++i) {
    left = processes_mentioning(sweep);
    if (left.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(left.empty()) << "still running after the sweep was killed: " << left.front();
  EXPECT_FALSE(fs::exists(sweep + "/results.csv"));
  EXPECT_FALSE(fs::exists(run / "result.json"));
  EXPECT_FALSE(fs::exists(run / "model.h5"));
  EXPECT_TRUE(fs::exists(run / "checkpoint.h5"));

  // The same command again resumes the run from its checkpoint and writes the table.
  auto r = run_ved(args.substr(1));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "1 runs, 0 done, 1 to run here")) << r.out;
  std::ifstream csv(sweep + "/results.csv");
  size_t rows = 0;
  for (std::string line; std::getline(csv, line);) rows += !line.empty();
  EXPECT_EQ(rows, 2u);  // header + the run
  std::ifstream log(run / "train.jsonl");
  size_t epochs = 0;
  for (std::string line; std::getline(log, line);) epochs += !line.empty();
  EXPECT_EQ(epochs, 400u) << "the resumed run must continue the log, not restart it";
}

// SIGKILL at any moment of training (mid-epoch, mid-checkpoint), then the same command
// with --resume: the result equals an uninterrupted run (CPU, same seed).
TEST(Faults, KilledTrainingResumesToTheUninterruptedResult) {
  std::string dir = test::temp_dir("killtrain");
  write_dataset(dir + "/d.h5", test::synthetic_dataset(240, 7));
  const std::string args = " train --data " + dir + "/d.h5 --latent 3 --encoder-stem 4 --encoder-stages 8,8"
                           " --decoder-hidden 32 --batch 16 --lr 0.01 --epochs 60 --threads 1 --quiet --out ";
  auto full = run_ved(args.substr(1) + dir + "/full");
  ASSERT_EQ(full.code, 0) << full.err;

  const std::string run = dir + "/killed";
  for (int round = 0; round < 2; ++round) {  // kill twice: once fresh, once while resumed
    pid_t pid = start_ved(args + run + (round ? " --resume" : ""));
    // Wait until a few more epochs are logged, then kill without warning.
    const size_t target = 5 + 15 * static_cast<size_t>(round);
    for (int i = 0; i < 4000; ++i) {
      std::ifstream log(run + "/train.jsonl");
      size_t lines = 0;
      std::string line;
      while (std::getline(log, line)) lines += !line.empty();
      if (lines >= target) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "training finished before the kill; make it longer";
    EXPECT_FALSE(fs::exists(run + "/model.h5"));  // not finished: no final model
    EXPECT_TRUE(fs::exists(run + "/checkpoint.h5"));
  }
  auto r = run_ved(args.substr(1) + run + " --resume");
  ASSERT_EQ(r.code, 0) << r.err;

  // The same log, epoch by epoch, and the same predictions.
  auto lines = [](const std::string& path) {
    std::vector<std::string> out;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) out.push_back(line);
    return out;
  };
  auto la = lines(dir + "/full/train.jsonl"), lb = lines(run + "/train.jsonl");
  ASSERT_EQ(la.size(), 60u);
  ASSERT_EQ(lb.size(), 60u);
  auto strip_timing = [](std::string s) {  // seconds and throughput differ between runs
    for (const char* key : {"\"samples_per_s\":", "\"seconds\":", "\"train_seconds\":"}) {
      size_t k = s.find(key);
      if (k == std::string::npos) continue;
      size_t end = s.find_first_of(",}", k);
      s.erase(k, end - k);
    }
    return s;
  };
  for (size_t e = 0; e < la.size(); ++e) EXPECT_EQ(strip_timing(la[e]), strip_timing(lb[e])) << "epoch " << e + 1;
  ASSERT_EQ(run_ved("predict --model " + dir + "/full --input " + dir + "/d.h5 --samples 0 --out " + dir + "/a.npy").code, 0);
  ASSERT_EQ(run_ved("predict --model " + run + " --input " + dir + "/d.h5 --samples 0 --out " + dir + "/b.npy").code, 0);
  EXPECT_EQ(npy::read(dir + "/a.npy").data, npy::read(dir + "/b.npy").data);
}
#endif

TEST(Faults, BadDatasetsGiveOneLineErrorsNamingFileAndField) {
  std::string dir = test::temp_dir("bad");
  const std::string out = " --out " + dir + "/run";
  // NaN in x.
  MatrixRM x = MatrixRM::Random(20, 6), y = MatrixRM::Random(20, 3);
  x(7, 2) = std::nan("");
  write_h5(dir + "/nan.h5", x, y);
  // Row counts differ.
  write_h5(dir + "/rows.h5", MatrixRM::Random(20, 6), MatrixRM::Random(19, 3));
  // Zero rows.
  write_h5(dir + "/empty.h5", MatrixRM(0, 6), MatrixRM(0, 3));
  // Missing /y.
  {
    auto f = h5::File::create(dir + "/noy.h5");
    MatrixRM a = MatrixRM::Random(4, 2);
    f.write("/x", a.data(), {4, 2});
    f.close();
  }
  // Truncated file.
  write_h5(dir + "/good.h5", MatrixRM::Random(400, 50), MatrixRM::Random(400, 3));
  fs::copy_file(dir + "/good.h5", dir + "/trunc.h5");
  fs::resize_file(dir + "/trunc.h5", fs::file_size(dir + "/good.h5") / 3);
  // Not HDF5 at all.
  std::ofstream(dir + "/text.h5") << "x,y\n1,2\n";

  struct Case {
    std::string file, expect;
  };
  for (const Case& c : std::vector<Case>{{"nan.h5", "nan.h5: '/x' row 7 column 2 is nan"},
                                        {"rows.h5", "rows.h5: '/x' has 20 rows but '/y' has 19"},
                                        {"empty.h5", "empty.h5: '/x' has zero rows"},
                                        {"noy.h5", "noy.h5: dataset '/y' not found"},
                                        {"trunc.h5", "trunc.h5: cannot"},
                                        {"text.h5", "text.h5: not an HDF5 file"},
                                        {"missing.h5", "missing.h5: file not found"}}) {
    std::vector<std::string> verbs = {"baseline --method cca --latent 2 --data "};
#ifdef VED_HAVE_TRAIN
    verbs.push_back("train --epochs 1 --data ");
#endif
    for (const std::string& verb : verbs) {
      auto r = run_ved(verb + dir + "/" + c.file + (verb[0] == 't' ? out : ""));
      EXPECT_EQ(r.code, 1) << verb << c.file;
      EXPECT_TRUE(has(r.err, c.expect)) << verb << c.file << ": " << r.err;
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;  // one line
    }
  }
  EXPECT_FALSE(fs::exists(dir + "/run/model.h5"));
}

TEST(Faults, SizesTheDataCannotSupportAreRejected) {
  std::string dir = test::temp_dir("sizes");
  write_h5(dir + "/d.h5", MatrixRM::Random(30, 8), MatrixRM::Random(30, 4));
  auto r = run_ved("baseline --method pca --latent 40 --data " + dir + "/d.h5");
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(has(r.err, "--latent 40")) << r.err;
#ifdef VED_HAVE_TRAIN
  r = run_ved("train --data " + dir + "/d.h5 --latent 0 --out " + dir + "/run");
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(has(r.err, "latent")) << r.err;
  r = run_ved("train --data " + dir + "/d.h5 --batch 0 --out " + dir + "/run");
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(has(r.err, "batch")) << r.err;
  // A run that never started leaves no empty folder that looks like a run.
  EXPECT_FALSE(fs::exists(dir + "/run")) << "a failed ved train left " << dir << "/run behind";
  r = run_ved("train --data " + dir + "/missing.h5 --out " + dir + "/run2");
  EXPECT_EQ(r.code, 1);
  EXPECT_FALSE(fs::exists(dir + "/run2"));
#endif
  // A misspelt option names the nearest one the verb has.
  r = run_ved("baseline --data " + dir + "/d.h5 --latnet 3");
  EXPECT_NE(r.code, 0);
  EXPECT_TRUE(has(r.err, "'ved baseline' has no option --latnet; did you mean --latent?")) << r.err;
  r = run_ved("generate --sample 5 --out " + dir + "/g.h5");
  EXPECT_NE(r.code, 0);
  EXPECT_TRUE(has(r.err, "did you mean --samples?")) << r.err;
  r = run_ved("generate --zzzzzzzz 5 --out " + dir + "/g.h5");
  EXPECT_NE(r.code, 0);
  EXPECT_TRUE(has(r.err, "has no option --zzzzzzzz")) << r.err;
  EXPECT_FALSE(has(r.err, "did you mean")) << r.err;  // nothing close: no guess
  r = run_ved("generate --samples -3 --out " + dir + "/g.h5");
  EXPECT_EQ(r.code, 1);
  r = run_ved("generate --samples 5 --threads 0 --out " + dir + "/g.h5");
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(has(r.err, "--threads 0: must be at least 1")) << r.err;
}

TEST(Faults, UnwritableOutputsAreRejectedBeforeWork) {
  std::string dir = test::temp_dir("unwritable");
  fs::create_directories(dir + "/ro");
  fs::permissions(dir + "/ro", fs::perms::owner_read | fs::perms::owner_exec);
  auto r = run_ved("generate --samples 5 --modes 10 --out " + dir + "/nodir/d.h5");
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(has(r.err, "does not exist")) << r.err;
  r = run_ved("generate --samples 5 --modes 10 --out " + dir);
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(has(r.err, "is a directory")) << r.err;
}

// Root writes anywhere, so as root ved runs as the unprivileged user `nobody` (setpriv,
// util-linux) for this case; without setpriv the test says that it skipped and why.
TEST(Faults, ReadOnlyFolderIsRejectedBeforeWork) {
  std::string dir = test::temp_dir("readonly");
  fs::permissions(dir, fs::perms::all);  // nobody must reach into it (the temp dir is root's)
  fs::create_directories(dir + "/ro");
  fs::permissions(dir + "/ro", fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                                   fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  std::string prefix;
  if (::geteuid() == 0) {
    if (test::run_command("command -v setpriv").code != 0)
      GTEST_SKIP() << "running as root, which may write into a read-only folder, and setpriv (util-linux) is not "
                      "installed to run ved as an unprivileged user";
    prefix = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
    auto probe = test::run_command(prefix + "touch " + dir + "/ro/probe");
    ASSERT_NE(probe.code, 0) << "the unprivileged user could write into " << dir << "/ro";
  }
  auto r = test::run_command(prefix + VED_BINARY + " generate --samples 5 --modes 10 --out " + dir + "/ro/d.h5");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(has(r.err, dir + "/ro/d.h5: directory '" + dir + "/ro' is not writable")) << r.err;
  EXPECT_TRUE(stray_files(dir + "/ro", {}).empty());
}

}  // namespace ved
