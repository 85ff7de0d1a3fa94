#include "config.hpp"

#include <CLI/CLI.hpp>
#include <toml++/toml.h>

#include <algorithm>
#include <sstream>

#include "ved/util/error.hpp"

namespace ved::app {
namespace {

// The long option names of a verb ("latent", "val-fraction", ...): what config keys and
// command-line options may name.
std::vector<std::string> long_option_names(const CLI::App& verb) {
  std::vector<std::string> names;
  for (const CLI::Option* opt : verb.get_options())
    for (const auto& ln : opt->get_lnames()) names.push_back(ln);
  return names;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::string nearest_name(const std::string& name, const std::vector<std::string>& known) {
  std::string best;
  size_t best_d = 1000;
  for (const auto& k : known) {
    const size_t d = edit_distance(name, k);
    if (d < best_d) {
      best_d = d;
      best = k;
    }
  }
  return best_d <= std::max<size_t>(2, name.size() / 3) ? best : "";
}

std::string unknown_options_message(const std::vector<std::string>& args, CLI::App& app) {
  CLI::App* verb = nullptr;
  for (const std::string& a : args) {
    if (a.rfind("-", 0) == 0) continue;
    for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
      if (sub->get_name() == a) verb = sub;
    break;
  }
  if (!verb) return "";
  const std::vector<std::string> known = long_option_names(*verb);
  std::string out;
  for (const std::string& a : args) {
    if (a.rfind("--", 0) != 0 || a.size() <= 2) continue;
    const std::string name = a.substr(2, a.find('=') == std::string::npos ? std::string::npos : a.find('=') - 2);
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    const std::string best = nearest_name(name, known);
    out += (out.empty() ? "" : "\n") + std::string("error: 'ved ") + verb->get_name() + "' has no option --" + name +
           (best.empty() ? "" : "; did you mean --" + best + "?");
  }
  if (!out.empty()) out += "\n(ved " + verb->get_name() + " --help lists every option)";
  return out;
}

namespace {

std::string value_text(const toml::node& node, const std::string& file, const std::string& key) {
  if (auto s = node.as_string()) return s->get();
  if (auto i = node.as_integer()) return std::to_string(i->get());
  if (auto f = node.as_floating_point()) {
    std::ostringstream os;
    os.precision(17);
    os << f->get();
    return os.str();
  }
  if (auto b = node.as_boolean()) return b->get() ? "true" : "false";
  if (auto a = node.as_array()) {
    std::string out;
    for (const auto& el : *a) {
      if (!out.empty()) out += ",";
      out += value_text(el, file, key);
    }
    return out;
  }
  VED_FAIL(file << ": key '" << key << "' has an unsupported value type; use a number, string, boolean or array");
}

void flatten(const toml::table& table, const std::string& prefix, const std::string& file,
             std::vector<std::pair<std::string, std::string>>& out, std::vector<std::string>& bool_keys) {
  for (const auto& [k, node] : table) {
    std::string key = prefix.empty() ? std::string(k.str()) : prefix + "-" + std::string(k.str());
    std::replace(key.begin(), key.end(), '_', '-');
    if (auto sub = node.as_table()) {
      flatten(*sub, key, file, out, bool_keys);
      continue;
    }
    if (node.is_boolean()) bool_keys.push_back(key);
    out.emplace_back(key, value_text(node, file, key));
  }
}

}  // namespace

std::vector<std::string> expand_config(const std::vector<std::string>& args, CLI::App& app) {
  // The verb is the first argument that names a subcommand.
  CLI::App* verb = nullptr;
  for (const auto& a : args) {
    for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
      if (sub->get_name() == a) verb = sub;
    if (verb) break;
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string file;
    if (args[i] == "--config" && i + 1 < args.size()) {
      file = args[++i];
    } else if (args[i].rfind("--config=", 0) == 0) {
      file = args[i].substr(9);
    } else {
      out.push_back(args[i]);
      continue;
    }
    VED_CHECK(verb, "--config must follow a command, e.g. 'ved train --config run.toml'");
    toml::table table;
    try {
      table = toml::parse_file(file);
    } catch (const toml::parse_error& e) {
      std::ostringstream os;
      os << file << ":" << e.source().begin.line << ": " << e.description();
      VED_FAIL(os.str());
    } catch (const std::exception& e) {
      VED_FAIL(file << ": cannot read config: " << e.what());
    }
    std::vector<std::pair<std::string, std::string>> kv;
    std::vector<std::string> bool_keys;
    flatten(table, "", file, kv, bool_keys);
    const std::vector<std::string> known = long_option_names(*verb);
    for (const auto& [key, value] : kv) {
      if (key == "config") continue;
      bool found = std::find(known.begin(), known.end(), key) != known.end();
      if (!found) {
        const std::string best = nearest_name(key, known);
        std::string hint = best.empty() ? "" : "; did you mean '" + best + "'?";
        VED_FAIL(file << ": unknown key '" << key << "' for 'ved " << verb->get_name() << "'" << hint);
      }
      const CLI::Option* opt = verb->get_option("--" + key);
      bool is_flag = opt->get_type_size() == 0;
      if (is_flag) {
        if (value == "true") out.push_back("--" + key);
        continue;
      }
      out.push_back("--" + key);
      out.push_back(value);
    }
  }
  return out;
}

}  // namespace ved::app
