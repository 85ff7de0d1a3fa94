#include "ved/report/svg_plot.hpp"

#include <unistd.h>  // getpid

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ved/mesh/mesh.hpp"
#include "ved/util/error.hpp"

namespace ved {
namespace fs = std::filesystem;

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

std::string gp_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Viridis, 9 anchors, linear interpolation.
void viridis(double t, int& r, int& g, int& b) {
  static const double k[9][3] = {{68, 1, 84},    {71, 44, 122},  {59, 81, 139},  {44, 113, 142}, {33, 144, 141},
                                 {39, 173, 129}, {92, 200, 99},  {170, 220, 50}, {253, 231, 37}};
  t = std::clamp(t, 0.0, 1.0) * 8;
  int i = std::min(7, static_cast<int>(t));
  double f = t - i;
  r = static_cast<int>(k[i][0] + f * (k[i + 1][0] - k[i][0]));
  g = static_cast<int>(k[i][1] + f * (k[i + 1][1] - k[i][1]));
  b = static_cast<int>(k[i][2] + f * (k[i + 1][2] - k[i][2]));
}

std::string colour(double t) {
  int r, g, b;
  viridis(t, r, g, b);
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", r, g, b);
  return buf;
}

}  // namespace

std::string line_plot(const PlotLabels& labels, const std::vector<PlotSeries>& series) {
  static int counter = 0;
  fs::path dir = fs::temp_directory_path() / ("ved_plot_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  fs::create_directories(dir);
  std::ostringstream gp;
  gp << "set terminal svg size " << labels.width << "," << labels.height
     << " dynamic noenhanced font 'sans,11' background rgb 'white'\n"
     << "set title " << gp_quote(labels.title) << "\nset xlabel " << gp_quote(labels.x_label) << "\nset ylabel "
     << gp_quote(labels.y_label) << "\nset key outside right top\nset grid lc rgb '#dddddd'\n"
     << "set datafile missing 'nan'\n";
  if (labels.log_x) gp << "set logscale x\n";
  if (labels.log_y) gp << "set logscale y\n";
  std::string plot = "plot ";
  int idx = 0;
  for (const auto& s : series) {
    if (s.x.empty()) continue;
    std::string file = (dir / ("s" + std::to_string(idx) + ".dat")).string();
    std::ofstream out(file);
    out.precision(10);
    bool bars = s.y_lo.size() == s.y.size() && !s.y.empty();
    for (size_t i = 0; i < s.x.size(); ++i) {
      out << s.x[i] << " " << s.y[i];
      if (bars) out << " " << s.y_lo[i] << " " << s.y_hi[i];
      out << "\n";
    }
    if (idx++) plot += ", ";
    std::string style = s.points_only ? "points pt 7 ps 0.8" : "linespoints pt 7 ps 0.6 lw 2";
    plot += gp_quote(file) + " using 1:2 with " + style + " lc " + std::to_string(idx) + " title " + gp_quote(s.name);
    if (bars) plot += ", " + gp_quote(file) + " using 1:2:3:4 with yerrorbars lc " + std::to_string(idx) + " notitle";
  }
  VED_CHECK(idx > 0, "plot '" << labels.title << "': no data");
  gp << plot << "\n";
  std::string script = (dir / "plot.gp").string();
  std::ofstream(script) << gp.str();
  std::string cmd = "gnuplot " + gp_quote(script) + " 2>" + gp_quote((dir / "err.txt").string());
  FILE* p = popen(cmd.c_str(), "r");
  VED_CHECK(p, "cannot run gnuplot; install it (Debian: gnuplot-nox)");
  std::string svg;
  char buf[8192];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) svg.append(buf, n);
  int rc = pclose(p);
  std::ifstream err_in((dir / "err.txt").string());
  std::string err((std::istreambuf_iterator<char>(err_in)), std::istreambuf_iterator<char>());
  fs::remove_all(dir);
  VED_CHECK(rc == 0 && svg.find("<svg") != std::string::npos,
            "gnuplot failed for plot '" << labels.title << "'" << (err.empty() ? "; is gnuplot installed (Debian: gnuplot-nox)?" : ": " + err));
  // Drop the XML prologue so the SVG can sit inline in HTML.
  size_t start = svg.find("<svg");
  return svg.substr(start);
}

std::string mesh_map(const Mesh& mesh, const Eigen::VectorXd& v, const MapOptions& opt) {
  VED_CHECK(!mesh.cell_node_ptr.empty(), "mesh map: the mesh has no cell nodes to draw");
  VED_CHECK(v.size() == mesh.n_cells || !opt.fill_cells, "mesh map: " << v.size() << " values for " << mesh.n_cells << " cells");
  double x0 = mesh.node_coords.row(0).minCoeff(), x1 = mesh.node_coords.row(0).maxCoeff();
  double y0 = mesh.node_coords.row(1).minCoeff(), y1 = mesh.node_coords.row(1).maxCoeff();
  const int bar = 60, title_h = 22;
  double scale = (opt.width - bar) / (x1 - x0);
  int height = static_cast<int>((y1 - y0) * scale) + title_h + 4;
  double lo = opt.v_min, hi = opt.v_max;
  if (lo == hi) {
    lo = 1e300;
    hi = -1e300;
    if (opt.fill_cells) {
      lo = v.minCoeff();
      hi = v.maxCoeff();
    }
    for (double p : opt.point_values) {
      lo = std::min(lo, p);
      hi = std::max(hi, p);
    }
    if (lo >= hi) hi = lo + 1;
  }
  auto t = [&](double val) { return (val - lo) / (hi - lo); };
  std::ostringstream s;
  s.precision(5);
  s << "<svg xmlns='http://www.w3.org/2000/svg' width='" << opt.width << "' height='" << height << "'>"
    << "<text x='4' y='15' font-family='sans-serif' font-size='12'>" << html_escape(opt.title) << "</text>"
    << "<g transform='translate(0," << title_h << ")'>";
  for (int c = 0; c < mesh.n_cells; ++c) {
    s << "<polygon points='";
    for (int i = mesh.cell_node_ptr[c]; i < mesh.cell_node_ptr[c + 1]; ++i) {
      int nd = mesh.cell_nodes[i];
      s << (mesh.node_coords(0, nd) - x0) * scale << "," << (y1 - mesh.node_coords(1, nd)) * scale << " ";
    }
    if (opt.fill_cells) s << "' fill='" << colour(t(v[c])) << "' stroke='none'/>";
    else s << "' fill='#eeeeee' stroke='#cccccc' stroke-width='0.3'/>";
  }
  for (size_t i = 0; i < opt.point_cells.size(); ++i) {
    int c = opt.point_cells[i];
    double px = (mesh.cell_centroids(0, c) - x0) * scale, py = (y1 - mesh.cell_centroids(1, c)) * scale;
    std::string fill = i < opt.point_values.size() ? colour(t(opt.point_values[i])) : "#000000";
    s << "<circle cx='" << px << "' cy='" << py << "' r='2.6' fill='" << fill << "' stroke='#222' stroke-width='0.4'/>";
  }
  s << "</g>";
  // Colour bar.
  int bx = opt.width - bar + 12, bh = height - title_h - 10;
  for (int k = 0; k < 20; ++k)
    s << "<rect x='" << bx << "' y='" << title_h + bh * (19 - k) / 20.0 << "' width='12' height='" << bh / 20.0 + 0.5
      << "' fill='" << colour(k / 19.0) << "'/>";
  s << "<text x='" << bx + 15 << "' y='" << title_h + 9 << "' font-size='10' font-family='sans-serif'>" << hi << "</text>"
    << "<text x='" << bx + 15 << "' y='" << title_h + bh << "' font-size='10' font-family='sans-serif'>" << lo << "</text>"
    << "<text x='" << bx << "' y='" << height - 1 << "' font-size='10' font-family='sans-serif'>" << html_escape(opt.units)
    << "</text></svg>";
  return s.str();
}

}  // namespace ved
