#pragma once
// The physical systems behind `ved generate --system` (docs/systems.md): what y is for a field.
//
//   steady     y = heads at the wells                                   [wells]
//   transient  y = heads at the wells after each saved step             [wells, times]
//   transport  y = concentration at the wells after each saved step     [wells, times]
//              (breakthrough curves), or arrival times at the wells     [wells]
//
// y is flattened row-major per sample: y[w * times + k]. The dataset stores the shape
// (attribute y_shape, JSON) and the times (y_times, JSON, days).
//
//   SystemOptions sys;  sys.system = "transient";
//   SystemModel model(site, sys);                 // fills site defaults (wells, source)
//   auto ws = model.make_workspace();              // one per thread
//   model.evaluate(log_t, y_row, head_or_null, *ws);
#include <memory>
#include <string>
#include <vector>

#include "ved/flow/transient.hpp"
#include "ved/flow/transport.hpp"
#include "ved/mesh/mesh.hpp"

namespace ved {

struct SystemOptions {
  std::string system = "steady";            // steady | transient | transport
  double length_unit = 0;                   // metres per mesh unit; 0 = site default (Hanford 50 km)
  TransientOptions transient;               // wells empty = site default
  TransportOptions transport;               // sources empty = site default
  std::string transport_output = "breakthrough";  // breakthrough | arrival
  // Breakthrough values below this are stored as 0: the far tails of upwind schemes
  // (1e-80 ... 1e-6) carry no information, and per-output standardisation would blow
  // them up to unit variance.
  double concentration_floor = 1e-6;
};

// Defaults that depend on the site, filled where the options leave them open: the length
// unit, pumping wells (Hanford: three cells in the centre of the domain pumping 2,000 m^3/d
// each; other meshes: the cell nearest the centre of the bounding box) and the transport
// source (Hanford: the cell next to the western inflow boundary at (0.164, 0.648); other
// meshes: the cell nearest (10%, 50%) of the bounding box), held at concentration 1.
SystemOptions resolve_system_options(const Site& site, const SystemOptions& opt);

// Cell whose centroid is nearest to (x, y), in mesh coordinates.
int nearest_cell(const Mesh& mesh, double x, double y);

// Parses "CELL:RATE[@START-END]" (days; END may be "inf"), e.g. "376:-2000" or
// "376:-2000@0-10"; `what` names the option in errors.
WellRate parse_well_rate(const std::string& spec, const std::string& what);
// Parses "CELL[:VALUE][@START-END]"; VALUE defaults to 1.
SoluteSource parse_solute_source(const std::string& spec, const std::string& what);

class SystemModel {
 public:
  struct Workspace;

  // Resolves the options (resolve_system_options) and builds the solver once.
  SystemModel(const Site& site, const SystemOptions& opt);
  ~SystemModel();
  SystemModel(const SystemModel&) = delete;
  SystemModel& operator=(const SystemModel&) = delete;

  const SystemOptions& options() const { return opt_; }  // resolved
  long n_outputs() const;
  std::vector<size_t> y_shape() const;   // {wells} or {wells, times}
  std::vector<double> y_times() const;   // [times] days (empty for steady and arrival)
  std::string y_quantity() const;        // "head [m]", "concentration [-]", ...
  // JSON object with every resolved setting (for the dataset's generator attribute).
  std::string describe_json() const;

  std::unique_ptr<Workspace, void (*)(Workspace*)> make_workspace() const;

  // log_t [cells] -> y [n_outputs]; head [cells] (may be null): steady heads, or the heads
  // at the end of the transient run.
  void evaluate(const double* log_t, double* y, double* head, Workspace& ws) const;

 private:
  SystemOptions opt_;
  std::vector<int> wells_;   // observation cells
  int n_cells_ = 0;
  std::unique_ptr<TpfaSolver> steady_;
  std::unique_ptr<TransientSolver> transient_;
  std::unique_ptr<TransportSolver> transport_;
};

}  // namespace ved
