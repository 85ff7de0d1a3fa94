#pragma once
// The paper's claims (SPEC §1), judged from a sweep's results table.
//
//   ResultTable t = read_results_csv("sweep/results.csv");
//   std::vector<ClaimVerdict> v = assess_claims(t, {});
//
// Each verdict is "holds", "does not hold" or "inconclusive", with the evidence (means and
// the spread over seeds) in words. Column names follow `ved eval --json` and `ved sweep`.
#include <map>
#include <string>
#include <vector>

namespace ved {

struct ResultRow {
  std::map<std::string, std::string> values;
  bool has(const std::string& key) const;
  double num(const std::string& key) const;  // NaN when absent or not a number
  std::string str(const std::string& key) const;
};

using ResultTable = std::vector<ResultRow>;

ResultTable read_results_csv(const std::string& path);

// Mean, min and max of a metric over the rows matching a filter (e.g. seeds).
struct Spread {
  double mean = 0, min = 0, max = 0;
  int n = 0;
};
Spread spread(const ResultTable& rows, const std::string& metric);

struct ClaimSettings {
  int latent = 50;                      // r of the VED in claims 1-2
  double beta = 1e-3;                   // the "β > 0" setting
  double lambda = 1e-2;                 // the "λ > 0" setting
  std::string gen_metric = "gen_mmd_rbf";    // lower is better
  std::string disent_metric = "mig";          // higher is better
  double recon_cost_tolerance = 0.10;   // "little cost": relative increase of rel_l2_fluct
};

struct ClaimVerdict {
  std::string claim;
  std::string evidence;
  std::string verdict;  // holds | does not hold | inconclusive
};

std::vector<ClaimVerdict> assess_claims(const ResultTable& rows, const ClaimSettings& s);

// Rows matching every (column, value) pair; numeric columns compare as numbers.
ResultTable select(const ResultTable& rows, const std::map<std::string, std::string>& where);

}  // namespace ved
