#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <vector>

#include "ved/data/generate.hpp"
#include "ved/data/systems.hpp"
#include "ved/flow/tpfa.hpp"
#include "ved/mesh/site_io.hpp"
#include "ved/util/error.hpp"

namespace ved {
namespace {

GenerateOptions small_grid_options(const std::string& system) {
  GenerateOptions g;
  g.samples = 300;  // three blocks of 128: the last one partial
  g.seed = 11;
  g.modes = 40;
  g.sigma = 1.0;
  g.length = 0.3;
  g.mean = 0.5;
  g.system.system = system;
  g.system.transient.total_time = 2e-3;  // S L^2 / T ~ 1e-4 d on the unit square
  g.system.transient.steps = 6;
  g.system.transient.save_every = 2;
  g.system.transient.wells = {{65, -0.5}, {30, 0.2, 1e-3, 2e-3}};
  g.system.transport.total_time = 0.5;   // |v| ~ 1 m/d with phi b = 2
  g.system.transport.steps = 10;
  g.system.transport.dispersivity_long = 0.05;
  g.system.transport.dispersivity_trans = 0.005;
  return g;
}

}  // namespace

TEST(Systems, ParsesWellAndSourceSpecs) {
  WellRate w = parse_well_rate("376:-2000", "--pump");
  EXPECT_EQ(w.cell, 376);
  EXPECT_EQ(w.rate, -2000);
  EXPECT_EQ(w.start, 0);
  EXPECT_TRUE(std::isinf(w.end));
  w = parse_well_rate("12:150.5@2.5-10", "--pump");
  EXPECT_EQ(w.start, 2.5);
  EXPECT_EQ(w.end, 10);
  SoluteSource s = parse_solute_source("411", "--source");
  EXPECT_EQ(s.cell, 411);
  EXPECT_EQ(s.value, 1.0);
  s = parse_solute_source("7:3@0-inf", "--source");
  EXPECT_EQ(s.value, 3.0);
  EXPECT_TRUE(std::isinf(s.end));
  try {
    parse_well_rate("376", "--pump");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "--pump '376': expected CELL:RATE[@START-END], e.g. 376:-2000 (m^3/d, < 0 pumps)");
  }
  try {
    parse_well_rate("-3:10", "--pump");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "--pump '-3:10': cell '-3' is not a non-negative integer (0-based cell index)");
  }
  EXPECT_THROW(parse_solute_source("5:1@10-2", "--source"), Error);
  EXPECT_THROW(parse_solute_source("5:x", "--source"), Error);
}

TEST(Systems, HanfordDefaultsAndUnknownSystem) {
  Site s = load_site("hanford");
  SystemOptions o;
  o.system = "transient";
  SystemOptions r = resolve_system_options(s, o);
  EXPECT_EQ(r.length_unit, 50000);
  ASSERT_EQ(r.transient.wells.size(), 3u);
  EXPECT_EQ(r.transient.wells[0].cell, 376);
  EXPECT_EQ(r.transient.wells[1].cell, 252);
  EXPECT_EQ(r.transient.wells[2].cell, 918);
  o.system = "transport";
  r = resolve_system_options(s, o);
  ASSERT_EQ(r.transport.sources.size(), 1u);
  EXPECT_EQ(r.transport.sources[0].cell, 411);
  o.system = "steddy";
  try {
    resolve_system_options(s, o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "--system 'steddy': expected steady, transient or transport");
  }
}

TEST(Systems, SteadySystemGivesTheTpfaHeadsAtTheWells) {
  Site s = load_site("hanford");
  std::vector<double> log_t(s.reference_log_t.data(), s.reference_log_t.data() + s.mesh.n_cells);
  SystemModel model(s, {});
  ASSERT_EQ(model.n_outputs(), 323);
  std::vector<double> y(323), h(s.mesh.n_cells);
  auto ws = model.make_workspace();
  model.evaluate(log_t.data(), y.data(), nullptr, *ws);
  TpfaSolver tpfa(s);
  auto tws = tpfa.make_workspace();
  tpfa.solve(log_t.data(), h.data(), *tws);
  for (int w = 0; w < 323; ++w) EXPECT_EQ(y[w], h[s.wells[w]]);
}

TEST(Systems, GeneratedDatasetsDoNotDependOnTheThreadCount) {
  Site site = load_site("grid:12x10");
  for (const char* system : {"transient", "transport"}) {
    GenerateOptions g = small_grid_options(system);
    GeneratorModel model = make_generator_model(site, g);
    g.threads = 1;
    Dataset a = generate_dataset(site, model, g);
    g.threads = 2;
    Dataset b = generate_dataset(site, model, g);
    ASSERT_EQ(a.y.rows(), 300);
    EXPECT_EQ(a.y.cols(), 120 * (std::string(system) == "transient" ? 3 : 2)) << system;
    EXPECT_TRUE(a.y.allFinite());
    EXPECT_EQ(a.y, b.y) << system;
    EXPECT_EQ(a.x, b.x) << system;
    EXPECT_EQ(a.text_attrs.at("system"), system);
    auto shape = nlohmann::json::parse(a.text_attrs.at("y_shape"));
    EXPECT_EQ(shape[0], 120);
    auto times = nlohmann::json::parse(a.text_attrs.at("y_times"));
    EXPECT_EQ(shape[1], times.size());
    auto gen = nlohmann::json::parse(a.text_attrs.at("generator"));
    EXPECT_EQ(gen["physics"]["system"], system);
    // The responses vary between realisations (the dataset carries information).
    EXPECT_GT((a.y.row(0) - a.y.row(1)).norm(), 0) << system;
    if (std::string(system) == "transport") {
      EXPECT_TRUE((a.y.array() == 0 || a.y.array() >= 1e-6).all()) << "concentration floor";
      EXPECT_GT((a.y.array() > 0.05).count(), 0) << "the plume reaches some wells";
    }
  }
}

TEST(Systems, ArrivalTimesAreCensoredAtTheEndOfTheRun) {
  Site site = load_site("grid:12x10");
  SystemOptions o = small_grid_options("transport").system;
  o.transport_output = "arrival";
  o.transport.threshold = 0.2;
  SystemModel model(site, o);
  ASSERT_EQ(model.n_outputs(), 120);
  EXPECT_TRUE(model.y_times().empty());
  std::vector<double> log_t(site.mesh.n_cells, 0.0), y(120);
  auto ws = model.make_workspace();
  model.evaluate(log_t.data(), y.data(), nullptr, *ws);
  int censored = 0, arrived = 0;
  for (double t : y) {
    EXPECT_TRUE(std::isfinite(t));
    EXPECT_GE(t, 0);
    EXPECT_LE(t, 0.5);
    censored += t == 0.5;
    arrived += t < 0.5;
  }
  EXPECT_GT(censored, 0);
  EXPECT_GT(arrived, 0);
}

}  // namespace ved
