#pragma once
// Whole-string integer parsing for command-line lists and ranges ("--rows 0:3000",
// "--latent 1:300"): the error quotes the option and the whole spec.
#include <cstdint>
#include <string>

#include "ved/util/error.hpp"

namespace ved {

inline int64_t parse_integer(const std::string& s, const std::string& option, const std::string& spec) {
  size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  VED_CHECK(!s.empty() && used == s.size(), option << " '" << spec << "': '" << s << "' is not an integer");
  return v;
}

}  // namespace ved
