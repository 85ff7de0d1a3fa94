#pragma once
// Number formatting shared by the claims and the HTML report.
#include <cmath>
#include <sstream>
#include <string>

namespace ved {

// v with `digits` significant digits; `nan_text` for NaN.
inline std::string format_number(double v, int digits = 3, const char* nan_text = "n/a") {
  if (std::isnan(v)) return nan_text;
  std::ostringstream os;
  os.precision(digits);
  os << v;
  return os.str();
}

// v exactly enough to select table rows by value (12 significant digits).
inline std::string format_exact(double v) { return format_number(v, 12); }

}  // namespace ved
