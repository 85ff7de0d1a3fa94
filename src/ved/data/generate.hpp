#pragma once
// Dataset generation (docs/method.md §6): random log-transmissivity fields from a KL expansion of a
// Matérn-5/2 process, outputs at the wells from the chosen physical system (docs/systems.md,
// data/systems.hpp): steady heads (default), transient heads or solute concentrations.
//
//   Site site = load_site("hanford");
//   GenerateOptions opt;  opt.samples = 4000;  opt.seed = 1;
//   GeneratorModel model = make_generator_model(site, opt);   // fit + KL, once
//   Dataset d = generate_dataset(site, model, opt);            // N realisations
//
// Realisation i draws xi from the stream (seed, i), and rows are produced in fixed blocks,
// so the dataset does not depend on the thread count (or on how rows are partitioned
// between processes).
#include <functional>
#include <string>

#include "ved/data/dataset.hpp"
#include "ved/data/systems.hpp"
#include "ved/field/random_field.hpp"
#include "ved/mesh/mesh.hpp"

namespace ved {

struct GenerateOptions {
  long samples = 1000;          // N realisations
  long first = 0;               // index of the first realisation (for partitioned runs)
  uint64_t seed = 0;
  int threads = 1;
  bool conditional = false;     // kriging on the observations
  int modes = 1000;             // KL modes kept
  int obs_size = 100;           // which yobs_<n>_1x.npy observation file (Hanford)
  int obs_set = 0;              // which row of it
  double sigma = 0;             // > 0 with length > 0: use these instead of fitting
  double length = 0;
  double mean = 0;              // used only with given sigma/length; 0 = mean of the reference field
  bool store_head = false;      // also keep the full head fields [N, cells]
  SystemOptions system;         // what y is: steady | transient | transport
};

struct GeneratorModel {
  MaternParams params;
  bool fitted = false;          // true when params come from a maximum-likelihood fit
  double log_likelihood = 0;
  KlExpansion kl;
  std::string obs_file;         // observation set used (empty if none)
};

// Realisations per block: rows are computed in these fixed blocks (one GEMM each), so a
// partition of the rows into whole blocks reproduces a single-process run exactly.
constexpr long kGenerateBlock = 128;

// Records the extent of the whole dataset (samples, first realisation) in its generator
// attribute, after rows computed in parts were assembled.
void set_generated_extent(Dataset& d, long samples, long first);

GeneratorModel make_generator_model(const Site& site, const GenerateOptions& opt);

// `on_rows(n)` is called as blocks of realisations finish (for progress display).
Dataset generate_dataset(const Site& site, const GeneratorModel& model, const GenerateOptions& opt,
                         const std::function<void(long)>& on_rows = {});

}  // namespace ved
