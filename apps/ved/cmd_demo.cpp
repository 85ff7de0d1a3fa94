// ved demo: the claims study (docs/claims.md) on the embedded Hanford model, at a scale that
// finishes in about 30 minutes on 2 cores (--quick: a smoke test; --full: the whole protocol). Every step is a `ved` command run as a
// child process, so the demo shows exactly what a user would type; each step is skipped
// when its output already exists, so an interrupted demo continues where it stopped.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_util.hpp"
#include "commands.hpp"
#include "ved/util/error.hpp"

namespace ved::app {
namespace {
namespace fs = std::filesystem;

constexpr uint64_t kClaimsDataSeed = 241205175;  // the paper's arXiv number; see docs/claims.md

struct DemoOptions {
  std::string out = "demo-out";
  bool full = false;
  bool quick = false;       // a tiny version of every step (smoke test)
  int threads = default_threads();
  long train = 0;           // 0: 3000 (default), 16000 (full), 400 (quick)
  long test = 0;            // 0: 1000 (default), 4000 (full), 100 (quick)
  // The claims study's data come from a seed used nowhere in ved's design or tuning.
  uint64_t seed = kClaimsDataSeed;
  std::string system = "steady";  // steady | transient | transport (ved generate --system)
  std::string systems;            // comma list: one study per system, one combined report
};

class Steps {
 public:
  Steps(const DemoOptions& o) : o_(o), exe_(self_path()), log_((fs::path(o.out) / "demo.log").string()) {}

  // Runs `ved args...` unless `done_marker` exists; prints the command like a shell.
  // With show_prefix, every output line that starts with it is shown (the verdicts), not
  // only the last line.
  void run(const std::string& title, std::vector<std::string> args, const std::string& done_marker,
           const std::string& stdout_file = "", const std::string& show_prefix = "") {
    ++step_;
    if (!done_marker.empty() && fs::exists(done_marker)) {
      std::printf("[%d] %s: done already (%s)\n", step_, title.c_str(), done_marker.c_str());
      return;
    }
    std::string shown = "ved";
    for (const auto& a : args) shown += " " + (a.find(' ') != std::string::npos ? "'" + a + "'" : a);
    std::printf("[%d] %s\n    $ %s\n", step_, title.c_str(), shown.c_str());
    std::fflush(stdout);
    auto t0 = std::chrono::steady_clock::now();
    args.insert(args.begin(), exe_);
    std::string out = stdout_file.empty() ? (fs::path(o_.out) / ("step" + std::to_string(step_) + ".out")).string() : stdout_file;
    int rc = spawn_wait(args, out, log_);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::ifstream in(out);
    std::string line, last, shown_lines;
    while (std::getline(in, line)) {
      if (!line.empty()) last = line;
      if (!show_prefix.empty() && line.compare(0, show_prefix.size(), show_prefix) == 0) shown_lines += "    " + line + "\n";
    }
    VED_CHECK(rc == 0, "demo step " << step_ << " (" << title << ") failed with status " << rc << "; see " << log_
                                    << ". Rerun the same command to continue from this step.");
    if (!shown_lines.empty()) std::printf("%s", shown_lines.c_str());
    else if (!last.empty() && last.size() < 300) std::printf("    %s\n", last.c_str());
    std::printf("    (%.0f s)\n", secs);
    std::fflush(stdout);
  }

 private:
  const DemoOptions& o_;
  std::string exe_;
  std::string log_;
  int step_ = 0;
};

void run_one_system(const DemoOptions& given);

// --systems a,b,c: the study of each system in OUT/<system>/ (its own report there), then
// OUT/report.html with the first system as the main study and a section for each other.
void run_demo(const DemoOptions& given) {
  if (given.systems.empty()) {
    run_one_system(given);
    return;
  }
  std::vector<std::string> names;
  for (size_t start = 0; start <= given.systems.size();) {
    size_t comma = std::min(given.systems.find(',', start), given.systems.size());
    std::string name = given.systems.substr(start, comma - start);
    VED_CHECK(name == "steady" || name == "transient" || name == "transport",
              "--systems '" << given.systems << "': '" << name << "' is not one of steady, transient, transport");
    names.push_back(name);
    start = comma + 1;
  }
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& name : names) {
    DemoOptions o = given;
    o.system = name;
    o.systems.clear();
    o.out = (fs::path(given.out) / name).string();
    run_one_system(o);
  }
  const std::string first = (fs::path(given.out) / names[0]).string();
  std::string listed;
  for (size_t i = 0; i < names.size(); ++i)
    listed += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + names[i];
  std::vector<std::string> args = {self_path(), "report", "--title",
                                   "ved study on the Hanford model: " + listed + " systems", "--sweep",
                                   first + "/sweep", "--data", first + "/test.h5", "--samples",
                                   first + "/prior_samples.h5:/y", "--traversal", first + "/traversal.h5:/y"};
  for (size_t i = 1; i < names.size(); ++i) {
    args.push_back("--system");
    args.push_back(names[i] + "=" + (fs::path(given.out) / names[i] / "sweep").string());
  }
  const std::string report = (fs::path(given.out) / "report.html").string();
  args.insert(args.end(), {"--out", report});
  const std::string log = (fs::path(given.out) / "demo.log").string();
  VED_CHECK(spawn_wait(args, (fs::path(given.out) / "report.out").string(), log) == 0,
            "the combined report failed; see " << log);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("\nall systems finished in %.1f min. Combined report: %s\n", secs / 60, report.c_str());
}

void run_one_system(const DemoOptions& given) {
  VED_CHECK(!(given.full && given.quick), "--full and --quick exclude each other");
  DemoOptions o = given;
  if (o.train == 0) o.train = o.full ? 16000 : o.quick ? 400 : 3000;
  if (o.test == 0) o.test = o.full ? 4000 : o.quick ? 100 : 1000;
  VED_CHECK(o.threads >= 1, "--threads " << o.threads << ": must be at least 1");
  VED_CHECK(o.train >= 100 && o.test >= 10, "--train " << o.train << " / --test " << o.test
                                                       << ": need at least 100 training and 10 test samples");
  VED_CHECK(o.system == "steady" || o.system == "transient" || o.system == "transport",
            "--system '" << o.system << "': expected steady, transient or transport");
  fs::create_directories(o.out);
  auto t0 = std::chrono::steady_clock::now();
  const std::string d = o.out;
  const std::string train = d + "/train.h5", test = d + "/test.h5", sweep = d + "/sweep";
  const std::string T = std::to_string(o.threads), all = std::to_string(o.train);
  const std::string scale = o.full ? "full" : o.quick ? "quick" : "default";
  std::printf("ved demo: the claims study on the Hanford model, %s system (%s scale: %ld + %ld realisations, data seed "
              "%llu) -> %s\n",
              o.system.c_str(), scale.c_str(), o.train, o.test, static_cast<unsigned long long>(o.seed), d.c_str());
  Steps steps(o);

  steps.run("training set: random log-transmissivity fields and the " + o.system + " response at the 323 wells",
            {"generate", "--system", o.system, "--samples", all, "--seed", std::to_string(o.seed), "--threads", T, "--out",
             train},
            train);
  steps.run("test set: the next realisations of the same random streams (read once, for the table)",
            {"generate", "--system", o.system, "--samples", std::to_string(o.test), "--first", all, "--seed",
             std::to_string(o.seed), "--threads", T, "--out", test},
            test);
  // One run per core; a run that exists already is kept, so a rerun continues.
  steps.run("the claims study: baselines over r, the (beta, lambda) arms at several training sizes with one "
            "optimiser-step budget, and the architecture ablation (docs/claims.md)",
            {"sweep", "--study", "claims", "--scale", scale, "--data", train, "--test", test, "--out", sweep, "--parallel",
             T, "--threads", "1"},
            "");
  const std::string main_run = sweep + "/runs/ved_r50_n" + all + "_b1e-3_l1e-2_s1";
  steps.run("heads decoded from prior samples z ~ N(0, I)",
            {"sample", "--model", main_run, "--samples", "8", "--seed", "1", "--out", d + "/prior_samples.h5"},
            d + "/prior_samples.h5");
  steps.run("a latent traversal: heads as z_1 moves from -2.5 to 2.5",
            {"sample", "--model", main_run, "--traverse", "1", "--steps", "5", "--out", d + "/traversal.h5"},
            d + "/traversal.h5");
  steps.run("the report and claims.json",
            {"report", "--title", "ved study: the paper's claims on the Hanford model (" + o.system + " system)", "--sweep",
             sweep, "--data", test, "--samples", d + "/prior_samples.h5:/y", "--traversal", d + "/traversal.h5:/y",
             "--fact", "Training set=" + all + " realisations (the study uses the first 750, 1500, ... of them), " + train,
             "--fact", "Test set=" + std::to_string(o.test) + " held-out realisations, " + test + ", data seed " +
                           std::to_string(o.seed),
             "--fact", "Design=" + scale + " scale of docs/claims.md", "--out", d + "/report.html"},
            "", "", "  claim ");
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("\ndemo finished in %.1f min. Report: %s, verdicts: %s\nResults table: %s/results.csv\n", secs / 60,
              (fs::path(d) / "report.html").c_str(), (fs::path(d) / "claims.json").c_str(), sweep.c_str());
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto o = std::make_shared<DemoOptions>();
  CLI::App* cmd = app.add_subcommand("demo", "Run the whole study on the embedded Hanford model: generate, train VEDs "
                                             "and baselines, sweep, report");
  cmd->add_option("--out", o->out, "Output folder (rerunning continues an interrupted demo)");
  cmd->add_flag("--full", o->full, "The whole protocol at the paper's scale: 16,000 + 4,000 realisations, 5 seeds, "
                                  "12,000 steps per VED, the architecture grid (many hours on 2 cores; for bigger "
                                  "machines or MPI)");
  cmd->add_flag("--quick", o->quick, "A tiny version of every step (400 + 100 realisations, 40 steps per VED; "
                                    "minutes): a smoke test whose report has every section");
  cmd->add_option("--threads", o->threads, "Cores to use (one training run per core)");
  cmd->add_option("--train", o->train, "Training-set size (default 3000; --full 16000, --quick 400)");
  cmd->add_option("--test", o->test, "Test-set size (default 1000; --full 4000, --quick 100)");
  cmd->add_option("--seed", o->seed, "Seed of the datasets (default: the claims study's own, used for nothing else)");
  cmd->add_option("--system", o->system, "Physical system: steady (heads), transient (heads over time under pumping) or "
                                         "transport (solute breakthrough); see docs/systems.md");
  cmd->add_option("--systems", o->systems, "Comma list (e.g. steady,transient,transport): the study of each in OUT/<system>/ "
                                           "and one report OUT/report.html with a section per system");
  cmd->callback([o] { run_demo(*o); });
}

}  // namespace ved::app
