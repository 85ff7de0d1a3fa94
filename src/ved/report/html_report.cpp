#include "ved/report/html_report.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "ved/report/format.hpp"
#include "ved/report/svg_plot.hpp"
#include "ved/util/atomic_file.hpp"
#include "ved/util/error.hpp"

namespace ved {
namespace {

std::string num_text(double v) { return format_exact(v); }

std::string fmt(double v, int prec = 3) { return format_number(v, prec, "–"); }

std::set<double> distinct(const ResultTable& t, const std::string& col) {
  std::set<double> s;
  for (const auto& r : t)
    if (!std::isnan(r.num(col))) s.insert(r.num(col));
  return s;
}

ResultTable default_arch(const ResultTable& t) {
  ResultTable o;
  for (const auto& r : t)
    if (!r.has("preset") || r.str("preset") == "default") o.push_back(r);
  return o;
}

// y(metric) against x(col), mean over the other columns (seeds), with min/max bars.
PlotSeries series_over(const ResultTable& rows, const std::string& name, const std::string& x_col,
                       const std::string& metric) {
  PlotSeries s;
  s.name = name;
  for (double x : distinct(rows, x_col)) {
    Spread sp = spread(select(rows, {{x_col, num_text(x)}}), metric);
    if (sp.n == 0) continue;
    s.x.push_back(x);
    s.y.push_back(sp.mean);
    s.y_lo.push_back(sp.min);
    s.y_hi.push_back(sp.max);
  }
  return s;
}

const char* kStyle = R"(<style>
body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}
th{background:#f3f3f3}.holds{background:#d9f2d9}.doesnot{background:#f7d6d6}.inconclusive{background:#fff3cd}
.row{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}.note{color:#555;font-size:.9em}
</style>)";

std::string interval_text(const Estimate& e) {
  if (!e.valid()) return "–";
  std::string out = fmt(e.mean, 4);
  if (!std::isnan(e.lo)) out += " [" + fmt(e.lo, 4) + ", " + fmt(e.hi, 4) + "]";
  return out;
}

// heading: an <h2> for the main study, an <h3> inside a further system's section.
std::string claims_section(const ResultTable& rows, const std::vector<ClaimVerdict>& verdicts, const ClaimSettings& s,
                           const std::string& heading = "<h2 id='claims'>The paper's claims and the open question</h2>") {
  std::ostringstream h;
  h << heading << "<table><tr><th>claim</th><th>rule</th><th>measured evidence (mean [95% interval])</th><th>verdict</th></tr>";
  for (const auto& v : verdicts) {
    std::string cls = v.verdict == "holds" ? "holds" : (v.verdict == "does not hold" ? "doesnot" : "inconclusive");
    h << "<tr><td><b>" << html_escape(v.id) << ".</b> " << html_escape(v.claim) << "</td><td class='note'>"
      << html_escape(v.rule) << "</td><td>" << html_escape(v.evidence);
    if (!v.numbers.empty()) {
      h << "<details><summary>numbers (" << v.numbers.size() << ")</summary><table>";
      for (const auto& n : v.numbers)
        h << "<tr><td>" << html_escape(n.label) << "</td><td>" << interval_text(n.value) << "</td><td>" << n.value.seeds
          << " seed" << (n.value.seeds == 1 ? "" : "s") << "</td></tr>";
      h << "</table></details>";
    }
    h << "</td><td class='" << cls << "'><b>" << v.verdict << "</b></td></tr>";
  }
  h << "</table><p class='note'>Every number is a mean over training seeds with a 95% interval from a bootstrap over "
       "seeds and held-out test rows (generative and disentanglement metrics: over seeds and prior draws). A verdict "
       "says \"holds\" or \"does not hold\" only when the interval lies wholly on one side of the protocol's margin "
       "(docs/claims.md); otherwise it is \"inconclusive\". Generative quality: "
    << html_escape(s.gen_metric) << " and " << html_escape(s.gen_metric2)
    << " between outputs decoded from z ~ N(0, I) and held-out outputs (lower is better; one kernel for every model); "
    << "disentanglement: " << html_escape(s.disent_metric) << " against the leading KL coefficients.</p>";
  const std::vector<std::string> flags = baseline_flags(rows, s);
  if (!flags.empty()) {
    h << "<p><b>Baseline checks</b> (results that support no verdict):</p><ul>";
    for (const auto& f : flags) h << "<li>" << html_escape(f) << "</li>";
    h << "</ul>";
  }
  const std::vector<DisentanglementRow> dis = disentanglement_table(rows, s);
  if (!dis.empty()) {
    const std::vector<std::string> cols = {"mig", "dci_disentanglement", "dci_completeness", "sap", "modularity",
                                           "total_correlation", "agg_cov_err"};
    h << "<h3>Disentanglement against the known factors (leading KL coefficients), r = " << s.latent
      << "</h3><table><tr><th>β</th><th>λ</th>";
    for (const auto& c : cols) h << "<th>" << c << (is_circular_metric(c) ? " *" : "") << "</th>";
    h << "</tr>";
    for (const auto& d : dis) {
      h << "<tr><td>" << fmt(d.beta) << "</td><td>" << fmt(d.lambda) << "</td>";
      for (const auto& c : cols) {
        auto it = d.metrics.find(c);
        h << "<td>" << (it == d.metrics.end() ? "–" : interval_text(it->second)) << "</td>";
      }
      h << "</tr>";
    }
    h << "</table><p class='note'>* circular: the covariance penalty (λ) minimises the aggregate covariance error "
         "and, with it, the Gaussian total correlation, so λ improves these by construction. MIG, DCI, SAP and "
         "modularity are measured against the factors ξ that generated the fields, which no loss term sees. "
         "Higher is better except total_correlation and agg_cov_err.</p>";
  }
  return h.str();
}

std::string error_vs_r(const ResultTable& rows, const ClaimSettings& s,
                       const std::string& heading = "<h2>Reconstruction error against latent size</h2>") {
  double n_max = *distinct(rows, "train_size").rbegin();
  ResultTable at_n = select(rows, {{"train_size", num_text(n_max)}});
  std::vector<PlotSeries> series;
  std::set<std::string> methods;
  for (const auto& r : at_n) methods.insert(r.str("method"));
  for (const auto& m : methods) {
    ResultTable mr = select(at_n, {{"method", m}});
    std::string name = m;
    if (m == "ved") {
      mr = default_arch(select(mr, {{"beta", num_text(s.beta)}, {"lambda", num_text(s.lambda)}}));
      name = "VED (β=" + fmt(s.beta) + ", λ=" + fmt(s.lambda) + ")";
    }
    PlotSeries ps = series_over(mr, name, "latent", "rel_l2_fluct");
    if (!ps.x.empty()) series.push_back(ps);
  }
  // Full-rank methods (ridge: latent 0) are a level line across the r axis.
  double r_lo = 1e300, r_hi = 0;
  for (const auto& s2 : series)
    for (double x : s2.x)
      if (x > 0) {
        r_lo = std::min(r_lo, x);
        r_hi = std::max(r_hi, x);
      }
  for (auto& s2 : series)
    if (s2.x.size() == 1 && s2.x[0] == 0 && r_hi > 0) {
      s2.name += " (full rank)";
      s2.x = {r_lo, r_hi};
      s2.y = {s2.y[0], s2.y[0]};
      s2.y_lo.clear();
      s2.y_hi.clear();
    }
  series.erase(std::remove_if(series.begin(), series.end(), [](const PlotSeries& p) { return p.x.size() == 1 && p.x[0] <= 0; }),
               series.end());
  if (series.empty()) return "";
  std::ostringstream h;
  h << heading << "<p class='note'>Held-out test set, " << fmt(n_max, 6)
    << " training samples. Relative L2 error of the fluctuations about the training mean.</p>"
    << line_plot({"Test error vs latent size r", "latent size r", "rel. L2 error of fluctuations", true, false, 760, 420},
                 series);
  return h.str();
}

std::string beta_lambda_grid(const ResultTable& rows, const ClaimSettings& s) {
  ResultTable ved = default_arch(select(rows, {{"method", "ved"}, {"latent", std::to_string(s.latent)}}));
  if (ved.empty()) return "";
  double n_max = *distinct(ved, "train_size").rbegin();
  ved = select(ved, {{"train_size", num_text(n_max)}});
  auto betas = distinct(ved, "beta"), lambdas = distinct(ved, "lambda");
  std::ostringstream h;
  h << "<h2>β × λ: reconstruction, generative quality, disentanglement</h2><p class='note'>r = " << s.latent << ", "
    << fmt(n_max, 6) << " training samples; each cell: rel. L2 error (fluct.) / " << s.gen_metric << " / "
    << s.disent_metric << " / aggregate covariance error, mean over seeds.</p><table><tr><th>β \\ λ</th>";
  for (double l : lambdas) h << "<th>" << fmt(l) << "</th>";
  h << "</tr>";
  std::vector<PlotSeries> scatter;
  for (double b : betas) {
    h << "<tr><th>" << fmt(b) << "</th>";
    for (double l : lambdas) {
      ResultTable c = select(ved, {{"beta", num_text(b)}, {"lambda", num_text(l)}});
      Spread e = spread(c, "rel_l2_fluct"), g = spread(c, s.gen_metric), d = spread(c, s.disent_metric),
             cv = spread(c, "agg_cov_err");
      h << "<td>" << fmt(e.mean) << " / " << fmt(g.mean) << " / " << fmt(d.mean) << " / " << fmt(cv.mean) << "</td>";
      if (e.n && g.n) {
        PlotSeries p;
        p.name = "β=" + fmt(b) + ", λ=" + fmt(l);
        p.points_only = true;
        for (const auto& r : c) {
          p.x.push_back(r.num("rel_l2_fluct"));
          p.y.push_back(r.num(s.gen_metric));
        }
        scatter.push_back(p);
      }
    }
    h << "</tr>";
  }
  h << "</table>";
  if (!scatter.empty())
    h << line_plot({"Reconstruction vs generative quality (one point per seed)", "rel. L2 error of fluctuations",
                    s.gen_metric + " of prior samples", false, false, 760, 420},
                   scatter);
  return h.str();
}

std::string train_size_section(const ResultTable& rows, const ClaimSettings& s) {
  auto sizes = distinct(rows, "train_size");
  if (sizes.size() < 2) return "";
  const std::string r = std::to_string(s.latent);
  std::vector<PlotSeries> err, gen;
  ResultTable ved = default_arch(select(rows, {{"method", "ved"}, {"latent", r}}));
  for (double b : distinct(ved, "beta"))
    for (double l : distinct(ved, "lambda")) {
      ResultTable c = select(ved, {{"beta", num_text(b)}, {"lambda", num_text(l)}});
      std::string name = "VED β=" + fmt(b) + ", λ=" + fmt(l);
      PlotSeries pe = series_over(c, name, "train_size", "rel_l2_fluct");
      PlotSeries pg = series_over(c, name, "train_size", s.gen_metric);
      if (pe.x.size() > 1) err.push_back(pe);
      if (pg.x.size() > 1) gen.push_back(pg);
    }
  std::set<std::string> methods;
  for (const auto& row : rows) methods.insert(row.str("method"));
  for (const auto& m : methods) {
    if (m == "ved") continue;
    PlotSeries pe = series_over(select(rows, {{"method", m}, {"latent", r}}), m + " (r=" + r + ")", "train_size", "rel_l2_fluct");
    if (pe.x.size() > 1) err.push_back(pe);
  }
  std::ostringstream h;
  h << "<h2>Effect of the training-set size</h2><div class='row'>";
  if (!err.empty())
    h << line_plot({"Test error vs training-set size", "training samples", "rel. L2 error of fluctuations", true, false, 580, 380}, err);
  if (!gen.empty())
    h << line_plot({"Generative quality vs training-set size", "training samples", s.gen_metric, true, false, 580, 380}, gen);
  h << "</div>";
  return h.str();
}

std::string depth_section(const ResultTable& rows) {
  ResultTable p;
  for (const auto& r : rows)
    if (r.str("method") == "ved" && r.has("preset")) p.push_back(r);
  if (p.empty()) return "";
  std::set<std::string> presets;
  for (const auto& r : p) presets.insert(r.str("preset"));
  std::ostringstream h;
  h << "<h2>Encoder and decoder depth</h2><table><tr><th>architecture</th><th>parameters</th><th>rel. L2 error (fluct.)</th>"
       "<th>R²</th><th>runs</th></tr>";
  for (const auto& name : presets) {
    ResultTable c = select(p, {{"preset", name}});
    Spread e = spread(c, "rel_l2_fluct"), r2 = spread(c, "r2"), par = spread(c, "parameters");
    h << "<tr><td>" << html_escape(name) << "</td><td>" << fmt(par.mean, 7) << "</td><td>" << fmt(e.mean) << " ("
      << fmt(e.min) << "–" << fmt(e.max) << ")</td><td>" << fmt(r2.mean) << "</td><td>" << e.n << "</td></tr>";
  }
  h << "</table>";
  return h.str();
}

std::string maps_section(const ReportMaps& m) {
  if (!m.site || m.site->mesh.cell_node_ptr.empty()) return "";
  const Mesh& mesh = m.site->mesh;
  std::ostringstream h;
  h << "<h2>Maps of the domain</h2><div class='row'>";
  if (m.field.size() == mesh.n_cells) {
    MapOptions o;
    o.title = "log-transmissivity (one realisation)";
    o.units = "ln T";
    h << mesh_map(mesh, m.field, o);
  }
  if (m.head.size() == mesh.n_cells) {
    MapOptions o;
    o.title = "its heads, with the wells";
    o.units = "m";
    o.point_cells = m.site->wells;
    h << mesh_map(mesh, m.head, o);
  }
  h << "</div>";
  auto dots = [&](const Eigen::RowVectorXd& y, const std::string& title, double lo, double hi) {
    MapOptions o;
    o.title = title;
    o.units = "m";
    o.fill_cells = false;
    o.point_cells = m.site->wells;
    o.point_values.assign(y.data(), y.data() + y.size());
    o.v_min = lo;
    o.v_max = hi;
    o.width = 300;
    return mesh_map(mesh, Eigen::VectorXd(), o);
  };
  if (m.prior_samples.rows() > 0 && m.prior_samples.cols() == static_cast<Eigen::Index>(m.site->wells.size())) {
    double lo = m.prior_samples.minCoeff(), hi = m.prior_samples.maxCoeff();
    h << "<h3>Heads decoded from prior samples z ~ N(0, I)</h3><div class='row'>";
    for (Eigen::Index i = 0; i < std::min<Eigen::Index>(4, m.prior_samples.rows()); ++i)
      h << dots(m.prior_samples.row(i), "sample " + std::to_string(i + 1), lo, hi);
    h << "</div>";
  }
  if (m.traversal.rows() > 0 && m.traversal.cols() == static_cast<Eigen::Index>(m.site->wells.size())) {
    // The change from the decoded z = 0 (the step nearest to it) shows what the coordinate
    // controls; absolute heads would hide it under the regional gradient.
    Eigen::Index mid = 0;
    for (Eigen::Index i = 0; i < static_cast<Eigen::Index>(m.traversal_values.size()); ++i)
      if (std::abs(m.traversal_values[i]) < std::abs(m.traversal_values[mid])) mid = i;
    MatrixRM delta = m.traversal.rowwise() - m.traversal.row(mid);
    double amp = std::max(delta.cwiseAbs().maxCoeff(), 1e-12);
    h << "<h3>Latent traversal along z<sub>" << m.traversal_dim + 1
      << "</sub> (other coordinates 0): change of the decoded heads from z = "
      << fmt(mid < static_cast<Eigen::Index>(m.traversal_values.size()) ? m.traversal_values[mid] : 0.0)
      << "</h3><div class='row'>";
    for (Eigen::Index i = 0; i < m.traversal.rows(); ++i)
      h << dots(delta.row(i),
                "z = " + fmt(i < static_cast<Eigen::Index>(m.traversal_values.size()) ? m.traversal_values[i] : i), -amp, amp);
    h << "</div>";
  }
  return h.str();
}

std::string results_table(const ResultTable& rows) {
  std::vector<std::string> cols;
  std::set<std::string> seen;
  for (const auto& r : rows)
    for (const auto& [k, v] : r.values)
      if (seen.insert(k).second) cols.push_back(k);
  std::ostringstream h;
  h << "<h2>All runs</h2><details><summary>" << rows.size() << " runs (click to show)</summary><table><tr>";
  for (const auto& c : cols) h << "<th>" << html_escape(c) << "</th>";
  h << "</tr>";
  for (const auto& r : rows) {
    h << "<tr>";
    for (const auto& c : cols) {
      double v = r.num(c);
      h << "<td>" << (std::isnan(v) ? html_escape(r.str(c)) : fmt(v, 4)) << "</td>";
    }
    h << "</tr>";
  }
  h << "</table></details>";
  return h.str();
}

}  // namespace

void write_report(const std::string& path, const ReportInputs& in) {
  VED_CHECK(!in.results.empty(), "report: the results table is empty; run `ved sweep` first");
  std::ostringstream h;
  h << "<!DOCTYPE html><html><head><meta charset='utf-8'><title>" << html_escape(in.title) << "</title>" << kStyle
    << "</head><body><h1>" << html_escape(in.title) << "</h1>";
  if (!in.facts.empty()) {
    h << "<table>";
    for (const auto& [k, v] : in.facts) h << "<tr><th>" << html_escape(k) << "</th><td>" << html_escape(v) << "</td></tr>";
    h << "</table>";
  }
  h << claims_section(in.results, in.verdicts.empty() ? assess_claims(in.results, in.claims) : in.verdicts, in.claims)
    << error_vs_r(in.results, in.claims) << beta_lambda_grid(in.results, in.claims)
    << train_size_section(in.results, in.claims) << depth_section(in.results) << maps_section(in.maps);
  // Further physical systems: each with its claims re-checked and its error-vs-r plot.
  for (const auto& [name, rows] : in.systems) {
    VED_CHECK(!rows.empty(), "report: the results table of system '" << name << "' is empty");
    h << "<h2 id='system-" << html_escape(name) << "'>System: " << html_escape(name) << "</h2>"
      << claims_section(rows, assess_claims(rows, in.claims), in.claims, "<h3>The paper's claims and the open question on this system</h3>")
      << error_vs_r(rows, in.claims, "<h3>Reconstruction error against latent size</h3>");
  }
  h << results_table(in.results) << "</body></html>\n";
  write_text_atomic(path, h.str());
}

}  // namespace ved
