#pragma once
// The last line of a command's stdout as JSON (`ved eval --json`, `ved baseline --json`).
#include <nlohmann/json.hpp>

#include <string>

namespace ved::test {

inline nlohmann::json last_json_line(const std::string& out) {
  std::string line = out.substr(0, out.find_last_not_of('\n') + 1);
  line = line.substr(line.find_last_of('\n') + 1);
  return nlohmann::json::parse(line);
}

}  // namespace ved::test
