// ved report: the self-contained HTML report of a sweep.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>

#include "commands.hpp"
#include "ved/data/dataset.hpp"
#include "ved/flow/tpfa.hpp"
#include "ved/mesh/site_io.hpp"
#include "ved/report/html_report.hpp"
#include "ved/util/array_source.hpp"
#include "ved/util/atomic_file.hpp"
#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"

namespace ved::app {
namespace {
namespace fs = std::filesystem;

struct ReportOptions {
  std::string sweep;
  std::string data;        // dataset for the maps (first row)
  std::string mesh;        // default: the dataset's mesh
  std::string samples;     // FILE.h5:/y prior samples [M, wells]
  std::string traversal;   // FILE.h5:/y traversal [steps, wells] (attrs: dim, values)
  std::vector<std::string> facts;
  std::vector<std::string> systems;  // NAME=SWEEP_DIR of further physical systems
  std::string title;
  ClaimSettings claims;
  std::string out;
};

MatrixRM load_matrix(const std::string& spec) {
  LoadedArray a = load_array(ArraySource::parse(spec, "/y"));
  VED_CHECK(a.dims.size() == 2, spec << ": expected a 2-D array [rows, wells]");
  return Eigen::Map<MatrixRM>(a.data.data(), a.dims[0], a.dims[1]);
}

void run_report(const ReportOptions& o) {
  check_output_path(o.out);
  ReportInputs in;
  if (!o.title.empty()) in.title = o.title;
  in.results = read_sweep_results(o.sweep);
  in.claims = o.claims;
  // The verdicts, also as claims.json beside the report (docs/claims.md).
  in.verdicts = assess_claims(in.results, in.claims);
  const std::string claims_file = (fs::path(o.out).parent_path() / "claims.json").string();
  for (const auto& f : o.facts) {
    size_t eq = f.find('=');
    VED_CHECK(eq != std::string::npos, "--fact '" << f << "': expected KEY=VALUE");
    in.facts.emplace_back(f.substr(0, eq), f.substr(eq + 1));
  }
  for (const auto& spec : o.systems) {
    size_t eq = spec.find('=');
    VED_CHECK(eq != std::string::npos && eq > 0, "--system '" << spec << "': expected NAME=SWEEP_DIR, e.g. transport=demo-transport/sweep");
    const std::string dir = spec.substr(eq + 1);
    VED_CHECK(fs::is_directory(dir), "--system " << spec << ": folder " << dir << " not found; run `ved sweep --out " << dir
                                                 << "` first");
    in.systems.emplace_back(spec.substr(0, eq), read_sweep_results(dir));
  }
  Site site;
  if (!o.data.empty()) {
    auto f = h5::File::open_read(o.data);
    std::string mesh = o.mesh;
    if (mesh.empty() && f.has_attr("/", "mesh")) mesh = f.attr_string("/", "mesh");
    VED_CHECK(!mesh.empty(), o.data << ": no 'mesh' attribute; give --mesh for the maps");
    site = load_site(mesh);
    std::vector<double> row = f.read_rows_double("/x", 0, 1);
    VED_CHECK(static_cast<int>(row.size()) == site.mesh.n_cells,
              o.data << ": '/x' rows have " << row.size() << " values; the mesh has " << site.mesh.n_cells << " cells");
    in.maps.site = &site;
    in.maps.field = Eigen::Map<Eigen::VectorXd>(row.data(), row.size());
    in.maps.head.resize(site.mesh.n_cells);
    TpfaSolver solver(site);
    auto ws = solver.make_workspace();
    solver.solve(in.maps.field.data(), in.maps.head.data(), *ws);
  }
  if (!o.samples.empty()) in.maps.prior_samples = load_matrix(o.samples);
  if (!o.traversal.empty()) {
    in.maps.traversal = load_matrix(o.traversal);
    ArraySource src = ArraySource::parse(o.traversal, "/y");
    auto f = h5::File::open_read(src.file);
    if (f.has_attr(src.member, "dim")) in.maps.traversal_dim = static_cast<int>(f.attr_double(src.member, "dim"));
    if (f.has("/z_values")) in.maps.traversal_values = f.read_double("/z_values", nullptr);
  }
  write_report(o.out, in);
  write_text_atomic(claims_file, claims_json(in.verdicts));
  std::printf("report: %zu runs -> %s, %s\n", in.results.size(), o.out.c_str(), claims_file.c_str());
  for (const auto& v : in.verdicts) std::printf("  claim %-4s %s\n", v.id.c_str(), v.verdict.c_str());
}

}  // namespace

void add_report_command(CLI::App& app) {
  auto o = std::make_shared<ReportOptions>();
  CLI::App* cmd = app.add_subcommand("report", "Write the self-contained HTML report of a sweep (plots, maps, the "
                                               "paper's claims with verdicts)");
  cmd->add_option("--sweep", o->sweep, "Sweep folder (runs/*/result.json, or results.csv)")->required();
  cmd->add_option("--data", o->data, "Dataset whose first realisation is mapped (field and heads)");
  cmd->add_option("--mesh", o->mesh, "Mesh of --data (default: its 'mesh' attribute)");
  cmd->add_option("--samples", o->samples, "Prior samples y [M, wells] (FILE.h5:/y or .npy), e.g. from `ved sample`");
  cmd->add_option("--traversal", o->traversal, "Latent traversal y [steps, wells] (FILE.h5:/y)");
  cmd->add_option("--fact", o->facts, "KEY=VALUE line for the header table (repeatable)");
  cmd->add_option("--system", o->systems, "NAME=SWEEP_DIR: a section for a further physical system's sweep (its "
                                          "claims re-checked, error against r); repeatable");
  cmd->add_option("--title", o->title, "Report title");
  cmd->add_option("--latent", o->claims.latent, "r of the VED in the claims");
  cmd->add_option("--beta", o->claims.beta, "The β > 0 setting of the claims");
  cmd->add_option("--lambda", o->claims.lambda, "The λ > 0 setting of the claims");
  cmd->add_option("--gen-metric", o->claims.gen_metric, "Primary generative-quality column (lower is better)");
  cmd->add_option("--gen-metric2", o->claims.gen_metric2, "Secondary generative-quality column (lower is better)");
  cmd->add_option("--disent-metric", o->claims.disent_metric, "Disentanglement column (higher is better)");
  cmd->add_option("--out", o->out, "Output HTML file; claims.json is written beside it")->required();
  cmd->callback([o] { run_report(*o); });
}

}  // namespace ved::app
