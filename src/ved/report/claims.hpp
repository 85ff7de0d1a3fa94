#pragma once
// The paper's claims judged from a sweep's results, by the protocol of docs/claims.md.
//
//   ResultTable t = read_sweep_results("sweep");          // runs/*/result.json (with per-row errors)
//   std::vector<ClaimVerdict> v = assess_claims(t, {});
//   write_text_atomic("claims.json", claims_json(v));
//
// Every number is a mean with a 95% interval (training seeds x bootstrap over test rows,
// report/statistics.hpp); each verdict is "holds", "does not hold" or "inconclusive" from
// the intervals and the protocol's margins, never "holds" by failing to detect an effect.
// Column names follow `ved eval --json`, `ved baseline --json` and `ved sweep`.
#include <map>
#include <string>
#include <vector>

#include "ved/report/statistics.hpp"

namespace ved {

struct ResultRow {
  std::map<std::string, std::string> values;
  // Arrays of result.json: row_sq_err / row_sq_dev (per test row), *_draws (per prior draw).
  std::map<std::string, std::vector<double>> arrays;
  bool has(const std::string& key) const;
  double num(const std::string& key) const;  // NaN when absent or not a number
  std::string str(const std::string& key) const;
};

using ResultTable = std::vector<ResultRow>;

// The sweep's table: one reader and one writer. CSV cells holding a comma, quote or newline
// are quoted (RFC 4180); arrays live in result.json only.
ResultTable read_results_csv(const std::string& path);
void write_results_csv(const std::string& path, const ResultTable& rows);
// One run's result.json: scalars as text (numbers as JSON writes them), arrays of numbers.
ResultRow result_row_from_json(const std::string& text, const std::string& origin);
// A sweep folder: every runs/*/result.json when there are any (they carry the per-row
// errors the intervals need), else results.csv.
ResultTable read_sweep_results(const std::string& dir);

// Mean, min and max of a metric over the rows matching a filter (e.g. seeds).
struct Spread {
  double mean = 0, min = 0, max = 0;
  int n = 0;
};
Spread spread(const ResultTable& rows, const std::string& metric);

// Rows matching every (column, value) pair; numeric columns compare as numbers.
ResultTable select(const ResultTable& rows, const std::map<std::string, std::string>& where);

// The protocol's fixed choices (docs/claims.md). Margins are relative changes of the error
// (rel_l2_fluct) or of a generative metric.
struct ClaimSettings {
  int latent = 50;                      // r of the VED in claims 1-3
  double beta = 1e-3;                   // the "β > 0" setting
  double lambda = 1e-2;                 // the "λ > 0" setting
  int cca_latent = 147;                 // where the paper puts linear CCA
  std::string gen_metric = "gen_mmd_rbf";      // primary generative metric, lower is better
  std::string gen_metric2 = "gen_energy";      // secondary generative metric, lower is better
  std::string disent_metric = "mig";            // higher is better
  double margin_loss = 0.05;            // claim 1 and the open question: "minimal loss" / "reaches"
  double margin_gen = 0.10;             // claim 2: a material change of generative quality
  double margin_cost = 0.05;            // claim 2: "little cost" in reconstruction
  double margin_effect = 0.02;          // claims 3 and 4: a material accuracy effect
  double parameter_tolerance = 0.03;    // claim 4: pairs compared only within this
  int replicates = 2000;                // bootstrap replicates
};

struct ClaimNumber {
  std::string label;  // what was measured, e.g. "VED r=50 rel_l2_fluct"
  Estimate value;     // mean and 95% interval (lo = hi = NaN without per-row data)
};

struct ClaimVerdict {
  std::string id;        // "1", "2", "3", "4", "open"
  std::string claim;     // the claim as worded
  std::string rule;      // the decision rule with its margins
  std::string verdict;   // holds | does not hold | inconclusive
  std::string evidence;  // the deciding numbers in words
  std::vector<ClaimNumber> numbers;
};

std::vector<ClaimVerdict> assess_claims(const ResultTable& rows, const ClaimSettings& s);

// claims.json: [{"id", "claim", "verdict", "rule", "evidence", "numbers": [{"label", "mean",
// "lo", "hi", "seeds"}]}].
std::string claims_json(const std::vector<ClaimVerdict>& verdicts);

// Baselines that cannot support a verdict: error growing with r beyond its interval, or a
// rank-r linear method beaten by a rank-r' < r one. One line each.
std::vector<std::string> baseline_flags(const ResultTable& rows, const ClaimSettings& s);

// Disentanglement of the VED arms at r (next check 3): one row per (β, λ) arm at the largest
// training size, each metric a mean with its interval over seeds.
struct DisentanglementRow {
  double beta = 0, lambda = 0;
  std::map<std::string, Estimate> metrics;  // mig, dci_disentanglement, sap, modularity, ...
};
std::vector<DisentanglementRow> disentanglement_table(const ResultTable& rows, const ClaimSettings& s);
// Metrics that the covariance penalty itself minimises (so λ improves them by construction).
bool is_circular_metric(const std::string& name);

}  // namespace ved
