#pragma once
// Whole-string parsing for command-line lists and ranges ("--rows 0:3000",
// "--latent 1:300", "--encoder-stages 16,32,64", "--alphas 0.1,1,10"): split_list cuts a
// comma list into items; parse_integer's error quotes the option and the whole spec;
// try_parse_integer and try_parse_number leave the message to the caller.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "ved/util/error.hpp"

namespace ved {

// The value of `s` when all of it is one integer in [lo, hi]; nothing otherwise (empty,
// trailing characters, out of range).
inline std::optional<int64_t> try_parse_integer(const std::string& s,
                                                int64_t lo = std::numeric_limits<int64_t>::min(),
                                                int64_t hi = std::numeric_limits<int64_t>::max()) {
  size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(s, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (s.empty() || used != s.size() || v < lo || v > hi) return std::nullopt;
  return v;
}

// Whether `s` ends with `suffix` (file extensions: ".npy", ".h5").
inline bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The value of `s` when all of it is one finite number; nothing otherwise.
inline std::optional<double> try_parse_number(const std::string& s) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (s.empty() || used != s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// The items of a comma list, each with the characters of `trim` removed from both ends;
// empty items are dropped ("16, 32,64" -> {"16", "32", "64"}).
inline std::vector<std::string> split_list(const std::string& text, const char* trim = " \t") {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    std::string item = text.substr(start, comma - start);
    item.erase(0, item.find_first_not_of(trim));
    item.erase(item.find_last_not_of(trim) + 1);
    if (!item.empty()) out.push_back(item);
    start = comma + 1;
  }
  return out;
}

inline int64_t parse_integer(const std::string& s, const std::string& option, const std::string& spec) {
  const std::optional<int64_t> v = try_parse_integer(s);
  VED_CHECK(v, option << " '" << spec << "': '" << s << "' is not an integer");
  return *v;
}

}  // namespace ved
