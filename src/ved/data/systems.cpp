#include "ved/data/systems.hpp"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>

#include "ved/util/error.hpp"

namespace ved {
namespace {

// Hanford's mesh coordinates are normalised (bounding box 0.1-0.8 x 0.07-0.9). The fitted
// correlation length 0.0316 against the site's 1.5-2 km (docs/method.md §6) gives 47-63 km per unit: 50 km.
constexpr double kHanfordLengthUnit = 50000.0;
// Default pumping wells at Hanford (mesh coordinates): three cells in the middle of the
// domain, none of them an observation well (cells 376, 252, 918).
constexpr double kHanfordPumps[3][2] = {{0.35, 0.55}, {0.45, 0.45}, {0.55, 0.6}};
constexpr double kHanfordPumpRate = -2000.0;  // m^3/d each, about 55% of the natural inflow in all
// Default solute source: next to the western Neumann inflow (cell 411).
constexpr double kHanfordSource[2] = {0.14, 0.65};

bool is_hanford(const Site& site) { return site.source == "hanford"; }

double parse_number(const std::string& s, const std::string& what, const std::string& spec) {
  if (s == "inf") return std::numeric_limits<double>::infinity();
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  VED_CHECK(!s.empty() && end == s.c_str() + s.size() && std::isfinite(v),
            what << " '" << spec << "': '" << s << "' is not a number");
  return v;
}

int parse_cell(const std::string& s, const std::string& what, const std::string& spec) {
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  VED_CHECK(!s.empty() && end == s.c_str() + s.size() && v >= 0 && v <= std::numeric_limits<int>::max(),
            what << " '" << spec << "': cell '" << s << "' is not a non-negative integer (0-based cell index)");
  return static_cast<int>(v);
}

// Splits "HEAD@START-END" into HEAD and the interval (default [0, inf)).
std::string split_interval(const std::string& spec, const std::string& what, double* start, double* end) {
  *start = 0;
  *end = std::numeric_limits<double>::infinity();
  size_t at = spec.find('@');
  if (at == std::string::npos) return spec;
  std::string iv = spec.substr(at + 1);
  size_t dash = iv.find('-');
  VED_CHECK(dash != std::string::npos && dash > 0,
            what << " '" << spec << "': the interval after '@' must be START-END in days, e.g. @0-10 or @5-inf");
  *start = parse_number(iv.substr(0, dash), what, spec);
  *end = parse_number(iv.substr(dash + 1), what, spec);
  VED_CHECK(*start >= 0 && *end > *start, what << " '" << spec << "': need 0 <= START < END");
  return spec.substr(0, at);
}

}  // namespace

int nearest_cell(const Mesh& mesh, double x, double y) {
  int best = 0;
  double best_d = std::numeric_limits<double>::infinity();
  for (int c = 0; c < mesh.n_cells; ++c) {
    double d = std::hypot(mesh.cell_centroids(0, c) - x, mesh.cell_centroids(1, c) - y);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

WellRate parse_well_rate(const std::string& spec, const std::string& what) {
  WellRate w;
  std::string head = split_interval(spec, what, &w.start, &w.end);
  size_t colon = head.find(':');
  VED_CHECK(colon != std::string::npos,
            what << " '" << spec << "': expected CELL:RATE[@START-END], e.g. 376:-2000 (m^3/d, < 0 pumps)");
  w.cell = parse_cell(head.substr(0, colon), what, spec);
  w.rate = parse_number(head.substr(colon + 1), what, spec);
  return w;
}

SoluteSource parse_solute_source(const std::string& spec, const std::string& what) {
  SoluteSource s;
  std::string head = split_interval(spec, what, &s.start, &s.end);
  size_t colon = head.find(':');
  s.cell = parse_cell(head.substr(0, colon), what, spec);
  if (colon != std::string::npos) s.value = parse_number(head.substr(colon + 1), what, spec);
  return s;
}

SystemOptions resolve_system_options(const Site& site, const SystemOptions& in) {
  SystemOptions o = in;
  VED_CHECK(o.system == "steady" || o.system == "transient" || o.system == "transport",
            "--system '" << o.system << "': expected steady, transient or transport");
  VED_CHECK(o.transport_output == "breakthrough" || o.transport_output == "arrival",
            "--transport-output '" << o.transport_output << "': expected breakthrough or arrival");
  VED_CHECK(std::isfinite(o.concentration_floor) && o.concentration_floor >= 0,
            "--concentration-floor " << o.concentration_floor << ": must be >= 0");
  VED_CHECK(std::isfinite(o.length_unit) && o.length_unit >= 0,
            "--length-unit " << o.length_unit << ": must be positive (metres per mesh unit), or 0 for the site default");
  if (o.length_unit == 0) o.length_unit = is_hanford(site) ? kHanfordLengthUnit : 1.0;
  o.transient.length_unit = o.transport.length_unit = o.length_unit;
  const Mesh& m = site.mesh;
  const double x0 = m.cell_centroids.row(0).minCoeff(), x1 = m.cell_centroids.row(0).maxCoeff();
  const double y0 = m.cell_centroids.row(1).minCoeff(), y1 = m.cell_centroids.row(1).maxCoeff();
  if (o.system == "transient" && o.transient.wells.empty()) {
    if (is_hanford(site)) {
      for (const auto& p : kHanfordPumps) o.transient.wells.push_back({nearest_cell(m, p[0], p[1]), kHanfordPumpRate});
    } else {
      o.transient.wells.push_back({nearest_cell(m, 0.5 * (x0 + x1), 0.5 * (y0 + y1)), kHanfordPumpRate});
    }
  }
  if (o.system == "transport" && o.transport.sources.empty()) {
    int c = is_hanford(site) ? nearest_cell(m, kHanfordSource[0], kHanfordSource[1])
                             : nearest_cell(m, x0 + 0.1 * (x1 - x0), 0.5 * (y0 + y1));
    o.transport.sources.push_back({c, 1.0});
  }
  return o;
}

struct SystemModel::Workspace {
  std::unique_ptr<TpfaSolver::Workspace, void (*)(TpfaSolver::Workspace*)> steady{nullptr, nullptr};
  std::unique_ptr<TransientSolver::Workspace, void (*)(TransientSolver::Workspace*)> transient{nullptr, nullptr};
  std::unique_ptr<TransportSolver::Workspace, void (*)(TransportSolver::Workspace*)> transport{nullptr, nullptr};
  std::vector<double> head;  // [cells]
};

namespace {
void delete_workspace(SystemModel::Workspace* ws) { delete ws; }
}  // namespace

SystemModel::SystemModel(const Site& site, const SystemOptions& opt)
    : opt_(resolve_system_options(site, opt)), wells_(site.wells), n_cells_(site.mesh.n_cells) {
  VED_CHECK(!wells_.empty(), site.source << ": no observation wells to record y at");
  if (opt_.system == "steady") steady_ = std::make_unique<TpfaSolver>(site);
  else if (opt_.system == "transient") transient_ = std::make_unique<TransientSolver>(site, opt_.transient);
  else transport_ = std::make_unique<TransportSolver>(site, opt_.transport);
}

SystemModel::~SystemModel() = default;

long SystemModel::n_outputs() const {
  long n = 1;
  for (size_t d : y_shape()) n *= static_cast<long>(d);
  return n;
}

std::vector<size_t> SystemModel::y_shape() const {
  if (transient_) return {wells_.size(), transient_->n_saved()};
  if (transport_ && opt_.transport_output == "breakthrough") return {wells_.size(), transport_->n_saved()};
  return {wells_.size()};
}

std::vector<double> SystemModel::y_times() const {
  if (transient_) return transient_->saved_times();
  if (transport_ && opt_.transport_output == "breakthrough") return transport_->saved_times();
  return {};
}

std::string SystemModel::y_quantity() const {
  if (transient_) return "head [m]";
  if (transport_) return opt_.transport_output == "breakthrough" ? "concentration [-]" : "arrival time [d]";
  return "head [m]";
}

std::string SystemModel::describe_json() const {
  nlohmann::json j = {{"system", opt_.system}, {"y_shape", y_shape()}, {"y_quantity", y_quantity()}};
  if (transient_) {
    const TransientOptions& t = opt_.transient;
    nlohmann::json wells = nlohmann::json::array();
    for (const WellRate& w : t.wells) wells.push_back({{"cell", w.cell}, {"rate", w.rate}, {"start", w.start},
                                                       {"end", std::isinf(w.end) ? nlohmann::json("inf") : nlohmann::json(w.end)}});
    j["length_unit"] = opt_.length_unit;
    j["storativity"] = t.storativity;
    j["total_time"] = t.total_time;
    j["steps"] = t.steps;
    j["dt_growth"] = t.dt_growth;
    j["dt_growth_every"] = t.dt_growth_every;
    j["save_every"] = t.save_every;
    j["pumping"] = wells;
    j["initial_head"] = "steady state without wells";
    j["y_times"] = y_times();
  }
  if (transport_) {
    const TransportOptions& t = opt_.transport;
    nlohmann::json src = nlohmann::json::array();
    for (const SoluteSource& s : t.sources) src.push_back({{"cell", s.cell}, {"value", s.value}, {"start", s.start},
                                                           {"end", std::isinf(s.end) ? nlohmann::json("inf") : nlohmann::json(s.end)}});
    j["length_unit"] = opt_.length_unit;
    j["porosity"] = t.porosity;
    j["thickness"] = t.thickness;
    j["dispersivity_long"] = t.dispersivity_long;
    j["dispersivity_trans"] = t.dispersivity_trans;
    j["diffusion"] = t.diffusion;
    j["total_time"] = t.total_time;
    j["steps"] = t.steps;
    j["dt_growth"] = t.dt_growth;
    j["dt_growth_every"] = t.dt_growth_every;
    j["save_every"] = t.save_every;
    j["source_kind"] = t.source_kind == SourceKind::kConcentration ? "concentration" : "mass";
    j["sources"] = src;
    nlohmann::json pumps = nlohmann::json::array();
    for (const WellRate& w : t.wells) pumps.push_back({{"cell", w.cell}, {"rate", w.rate}});
    j["pumping"] = pumps;
    j["injection_concentration"] = t.injection_concentration;
    j["inflow_concentration"] = t.inflow_concentration;
    j["inflow_condition"] = t.inflow_condition == InflowCondition::kFlux ? "flux" : "fixed";
    j["output"] = opt_.transport_output;
    j["concentration_floor"] = opt_.concentration_floor;
    j["threshold"] = t.threshold;
    if (opt_.transport_output == "arrival") j["arrival_censored_at"] = t.total_time;  // never arrived
    else j["y_times"] = y_times();
  }
  return j.dump();
}

std::unique_ptr<SystemModel::Workspace, void (*)(SystemModel::Workspace*)> SystemModel::make_workspace() const {
  std::unique_ptr<Workspace, void (*)(Workspace*)> ws(new Workspace, delete_workspace);
  if (steady_) ws->steady = steady_->make_workspace();
  if (transient_) ws->transient = transient_->make_workspace();
  if (transport_) ws->transport = transport_->make_workspace();
  ws->head.resize(n_cells_);
  return ws;
}

void SystemModel::evaluate(const double* log_t, double* y, double* head, Workspace& ws) const {
  if (steady_) {
    steady_->solve(log_t, ws.head.data(), *ws.steady);
    for (size_t w = 0; w < wells_.size(); ++w) y[w] = ws.head[wells_[w]];
    if (head) std::copy(ws.head.begin(), ws.head.end(), head);
  } else if (transient_) {
    transient_->solve(log_t, wells_, y, *ws.transient, nullptr, head);
  } else if (opt_.transport_output == "breakthrough") {
    transport_->solve(log_t, wells_, y, nullptr, *ws.transport, head);
    const long m = n_outputs();
    for (long i = 0; i < m; ++i)
      if (y[i] < opt_.concentration_floor) y[i] = 0;
  } else {
    transport_->solve(log_t, wells_, nullptr, y, *ws.transport, head);
    // Wells the solute never reaches: censored at the end of the run (finite for learning).
    for (size_t w = 0; w < wells_.size(); ++w)
      if (std::isinf(y[w])) y[w] = opt_.transport.total_time;
  }
}

}  // namespace ved
