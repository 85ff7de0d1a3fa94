#pragma once
// ved::Error and the always-on VED_CHECK: library code reports what failed, the values
// involved and what to do, and never exits the process (main catches once).
#include <sstream>
#include <stdexcept>
#include <string>

namespace ved {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {
[[noreturn]] inline void throw_error(const std::string& msg) { throw Error(msg); }
}  // namespace detail

}  // namespace ved

// VED_CHECK(cond, msg): msg is a stream expression, e.g.
//   VED_CHECK(n > 0, path << ": field 'x' has " << n << " rows; expected at least 1");
#define VED_CHECK(cond, msg)                    \
  do {                                          \
    if (!(cond)) {                              \
      std::ostringstream ved_check_os_;         \
      ved_check_os_ << msg;                     \
      ::ved::detail::throw_error(ved_check_os_.str()); \
    }                                           \
  } while (0)

#define VED_FAIL(msg) VED_CHECK(false, msg)
