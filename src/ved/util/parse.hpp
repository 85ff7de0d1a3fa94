#pragma once
// Whole-string integer parsing for command-line lists and ranges ("--rows 0:3000",
// "--latent 1:300", "--encoder-stages 16,32,64"): parse_integer's error quotes the option
// and the whole spec; try_parse_integer leaves the message to the caller.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

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

inline int64_t parse_integer(const std::string& s, const std::string& option, const std::string& spec) {
  const std::optional<int64_t> v = try_parse_integer(s);
  VED_CHECK(v, option << " '" << spec << "': '" << s << "' is not an integer");
  return *v;
}

}  // namespace ved
