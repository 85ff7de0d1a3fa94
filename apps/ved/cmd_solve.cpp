// ved solve: heads for given log-transmissivity fields with the TPFA solver.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <future>
#include <limits>
#include <optional>
#include <vector>

#include "cli_util.hpp"
#include "commands.hpp"
#include "ved/flow/tpfa.hpp"
#include "ved/mesh/site_io.hpp"
#include "ved/util/array_source.hpp"
#include "ved/util/atomic_file.hpp"
#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"
#include "ved/util/npy.hpp"
#include "ved/util/parse.hpp"
#include "ved/util/shape_text.hpp"
#include "ved/util/timing.hpp"

namespace ved::app {
namespace {

struct SolveOptions {
  std::string input;           // FILE.h5:/dataset or FILE.npy, [K, cells]
  std::string mesh = "hanford";
  int threads = default_threads();
  std::string out;
};

// Fields per block. The command reads, solves and writes the fields a block at a time:
// reading block b + 1 and writing block b - 1 overlap the solves of block b, and the
// buffers (1.5 MB each on Hanford) stay in cache instead of every field passing through
// [K, cells] arrays (docs/performance.md, "The solve command").
constexpr size_t kSolveBlock = 128;

// The rows of --input. An HDF5 dataset or a C-order .npy file is read a block of rows at a
// time (whole copies of a 10,000-field array cost more than its solves: page faults on
// 118 MB buffers); .npz members and Fortran-order .npy files are loaded whole.
class FieldRows {
 public:
  FieldRows(const std::string& spec, size_t n_cols) : src_(ArraySource::parse(spec)), cols_(n_cols) {
    if (ved::ends_with(src_.file, ".npy")) {
      VED_CHECK(std::filesystem::exists(src_.file), src_.file << ": file not found");
      npy_ = npy::read_header(src_.file);
      if (!npy_->fortran || npy_->dims.size() < 2) {
        rows_ = checked_rows(npy_->dims);
        if (npy_->dims.size() == 1) npy_->dims = {1, n_cols};  // one field [cells]
        return;
      }
      npy_.reset();
    }
    if (ved::ends_with(src_.file, ".npy") || ved::ends_with(src_.file, ".npz")) {
      whole_ = load_rows(spec, static_cast<long>(n_cols), "--input");
      rows_ = static_cast<size_t>(whole_.rows());
      return;
    }
    VED_CHECK(std::filesystem::exists(src_.file), src_.file << ": file not found");
    VED_CHECK(!src_.member.empty(), src_.file << ": name the dataset inside the HDF5 file, e.g. '" << src_.file << ":/x'");
    file_.emplace(h5::File::open_read(src_.file));
    name_ = src_.member[0] == '/' ? src_.member : "/" + src_.member;
    VED_CHECK(file_->has(name_), src_.file << ": dataset '" << name_ << "' not found");
    h5::ObjectInfo info = file_->info(name_);
    VED_CHECK(!info.is_group && (info.dtype.rfind("float", 0) == 0 || info.dtype.rfind("int", 0) == 0 ||
                                 info.dtype.rfind("uint", 0) == 0),
              src_.str() << ": --input has type " << info.dtype << "; expected a numeric array");
    rows_ = checked_rows(info.dims);
  }

  size_t rows() const { return rows_; }

  // Rows [row0, row0 + n) as [n, cols], every value checked finite.
  std::vector<double> read(size_t row0, size_t n) const {
    std::vector<double> out;
    if (file_ || npy_) {
      if (npy_) out = npy::read_rows(src_.file, *npy_, row0, n);
      else out = rows_ == 1 && n == 1 ? file_->read_double(name_, nullptr) : file_->read_rows_double(name_, row0, n);
      for (size_t i = 0; i < out.size(); ++i)
        VED_CHECK(std::isfinite(out[i]), src_.str() << ": --input row " << row0 + i / cols_ << " column " << i % cols_
                                                    << " is " << out[i] << "; remove or repair non-finite samples");
    } else {  // checked by load_rows
      const double* first = whole_.data() + row0 * cols_;
      out.assign(first, first + n * cols_);
    }
    return out;
  }

 private:
  // K of an input of shape `dims`, [K, cells] or one field [cells], checked against the mesh
  // (an HDF5 dataset and a .npy file alike).
  size_t checked_rows(const std::vector<size_t>& dims) const {
    VED_CHECK(!dims.empty(), src_.str() << ": --input is a scalar; expected [K, " << cols_ << "]");
    size_t total = 1;
    for (size_t d : dims) total *= d;
    const size_t rows = dims.size() == 1 ? 1 : dims[0];
    const size_t cols = total / std::max<size_t>(rows, 1);
    VED_CHECK(cols == cols_ && rows * cols == total,
              src_.str() << ": --input has shape " << shape_text(dims) << "; expected [K, " << cols_ << "] for this mesh");
    VED_CHECK(rows > 0, src_.str() << ": --input has zero rows");
    return rows;
  }
  ArraySource src_;
  size_t cols_ = 0;
  size_t rows_ = 0;
  std::optional<h5::File> file_;
  std::optional<npy::Header> npy_;
  std::string name_;
  MatrixRM whole_;
};

void run_solve(const SolveOptions& o) {
  check_output_path(o.out);
  VED_CHECK(o.threads >= 1, "--threads " << o.threads << ": must be at least 1");
  Site site = load_site(o.mesh);
  const size_t cells = static_cast<size_t>(site.mesh.n_cells), n_wells = site.wells.size();
  FieldRows input(o.input, cells);
  const size_t n = input.rows(), block = std::min(n, kSolveBlock);
  auto t0 = std::chrono::steady_clock::now();
  TpfaSolver solver(site);

  AtomicOutput out(o.out);
  auto f = h5::File::create(out);
  f.create_rows("/head", {n, cells});
  f.create_rows("/head_wells", {n, n_wells});
  double head_min = std::numeric_limits<double>::infinity(), head_max = -head_min;
  std::vector<double> wells(block * n_wells);
  auto write_block = [&](size_t row0, const std::vector<double>& head) {  // head [m, cells]
    const size_t m = head.size() / cells;
    for (size_t k = 0; k < m; ++k)
      for (size_t w = 0; w < n_wells; ++w) wells[k * n_wells + w] = head[k * cells + site.wells[w]];
    for (double h : head) {
      head_min = std::min(head_min, h);
      head_max = std::max(head_max, h);
    }
    f.write_rows("/head", row0, m, head.data());
    f.write_rows("/head_wells", row0, m, wells.data());
  };
  // Two buffers each: block b is solved from in[b % 2] into head[b % 2] while another
  // thread reads block b + 1 into the other input buffer and writes block b - 1 from the
  // other head buffer. Each block goes through solve_batch, so the heads are solve_batch's.
  std::vector<double> in[2], head[2];
  in[0] = input.read(0, block);
  for (size_t b = 0, row0 = 0; row0 < n; ++b, row0 += block) {
    const size_t m = std::min(block, n - row0), next = row0 + m;
    std::future<void> io = std::async(std::launch::async, [&, b, row0, next] {
      if (next < n) in[(b + 1) % 2] = input.read(next, std::min(block, n - next));
      if (b > 0) write_block(row0 - block, head[(b + 1) % 2]);
    });
    head[b % 2].resize(m * cells);
    try {
      solver.solve_batch(in[b % 2].data(), m, head[b % 2].data(), o.threads, row0);
    } catch (...) {
      io.wait();
      throw;
    }
    io.get();
  }
  write_block((n - 1) / block * block, head[((n - 1) / block) % 2]);
  const double secs = seconds_since(t0);
  std::vector<int64_t> w(site.wells.begin(), site.wells.end());
  f.write("/wells", w.data(), {w.size()});
  f.set_attr("/", "mesh", o.mesh);
  f.set_attr("/", "input", o.input);
  f.close();
  out.commit();
  std::printf("solved %zu fields on %s (%zu cells) in %.3f s (%.0f solves/s, %d threads; reading and writing "
              "included); heads %.2f–%.2f m -> %s\n",
              n, o.mesh.c_str(), cells, secs, n / secs, o.threads, head_min, head_max, o.out.c_str());
}

}  // namespace

void add_solve_command(CLI::App& app) {
  auto opt = std::make_shared<SolveOptions>();
  CLI::App* cmd = app.add_subcommand("solve", "Solve steady flow for log-transmissivity fields [K, cells]; "
                                              "writes /head [K, cells] and /head_wells [K, wells] (float64)");
  cmd->add_option("--input", opt->input, "Fields: FILE.h5:/dataset or FILE.npy, shape [K, cells] or [cells]")->required();
  cmd->add_option("--mesh", opt->mesh, "hanford, grid:NXxNY, or a folder with geom*.mat, bc*.mat, well_cells*.mat");
  cmd->add_option("--threads", opt->threads, "Worker threads");
  cmd->add_option("--out", opt->out, "Output HDF5 file")->required();
  cmd->callback([opt] { run_solve(*opt); });
}

}  // namespace ved::app
