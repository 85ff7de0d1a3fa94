#pragma once
// The self-contained HTML report of a study (no external files or scripts): plots as
// inline SVG, the claims table with verdicts, and the full results table.
//
//   ReportInputs in;  in.results = read_sweep_results("sweep");
//   write_report("report.html", in);
#include <string>
#include <vector>

#include "ved/mesh/mesh.hpp"
#include "ved/report/claims.hpp"
#include "ved/util/array.hpp"

namespace ved {

struct ReportMaps {
  const Site* site = nullptr;          // mesh, wells (maps are skipped without it)
  Eigen::VectorXd field;               // [cells] one log-transmissivity realisation
  Eigen::VectorXd head;                // [cells] its heads
  MatrixRM prior_samples;              // [M, wells] y decoded from z ~ N(0, I)
  MatrixRM traversal;                  // [steps, wells] y along one latent axis
  std::vector<double> traversal_values;  // z value of each step
  int traversal_dim = 0;
};

struct ReportInputs {
  std::string title = "ved study: VEDs vs linear and nonlinear encoders on Hanford";
  ResultTable results;
  ClaimSettings claims;
  std::vector<ClaimVerdict> verdicts;  // of results by claims (computed here when empty)
  ReportMaps maps;
  std::vector<std::pair<std::string, std::string>> facts;  // "Training set" -> "3000 realisations", ...
  // Further physical systems (name, their sweep's results): a section each, after the
  // main study, with the claims re-checked and the error against r.
  std::vector<std::pair<std::string, ResultTable>> systems;
};

void write_report(const std::string& path, const ReportInputs& in);

}  // namespace ved
