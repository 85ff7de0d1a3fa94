#pragma once
// Plots as inline SVG for the self-contained HTML report: line/scatter plots drawn by
// gnuplot (its svg terminal, run as a child process), maps of mesh fields drawn directly.
//
//   PlotSeries s{"VED", {10, 50}, {0.5, 0.4}};
//   std::string svg = line_plot({"error vs r", "latent size r", "rel. L2 (fluct.)"}, {s});
#include <Eigen/Core>
#include <string>
#include <vector>

namespace ved {

struct Mesh;

struct PlotSeries {
  std::string name;
  std::vector<double> x, y;
  std::vector<double> y_lo, y_hi;  // optional error bars (same length as y)
  bool points_only = false;
};

struct PlotLabels {
  std::string title, x_label, y_label;
  bool log_x = false;
  bool log_y = false;
  int width = 640;
  int height = 400;
};

// Throws ved::Error when gnuplot is missing or fails.
std::string line_plot(const PlotLabels& labels, const std::vector<PlotSeries>& series);

struct MapOptions {
  std::string title;
  std::string units;
  int width = 360;
  double v_min = 0, v_max = 0;   // colour range; equal -> data range
  std::vector<int> point_cells;          // cells drawn as dots (wells)
  std::vector<double> point_values;      // values at those dots (coloured); empty -> black dots
  bool fill_cells = true;                // false: outline only (for dot-only maps)
};

// The mesh's cells as coloured polygons (viridis), value per cell; needs cell nodes.
std::string mesh_map(const Mesh& mesh, const Eigen::VectorXd& cell_values, const MapOptions& opt);

std::string html_escape(const std::string& s);

}  // namespace ved
