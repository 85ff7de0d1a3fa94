#pragma once
// Shapes and positions in the shape the user gave, for error messages: an image array
// [N, 32, 32] is named as such, and its bad value as element [17, 3, 5], not as the
// flattened row 17 column 101 that ved works with.
//
//   shape_text({200, 16, 16})            -> "[200, 16, 16]"
//   element_text({200, 16, 16}, 17*256+3*16+5) -> "element [17, 3, 5]"
//   element_text({200, 323}, 17*323+101) -> "row 17 column 101"
#include <cstddef>
#include <string>
#include <vector>

namespace ved {

inline std::string shape_text(const std::vector<size_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

// The position of the flat (row-major) index `flat` in an array of shape `dims`.
inline std::string element_text(const std::vector<size_t>& dims, size_t flat) {
  if (dims.size() == 2 && dims[1] > 0) return "row " + std::to_string(flat / dims[1]) + " column " + std::to_string(flat % dims[1]);
  if (dims.size() < 2) return "element " + std::to_string(flat);
  std::vector<size_t> at(dims.size());
  for (size_t k = dims.size(); k-- > 0;) {
    const size_t d = dims[k] > 0 ? dims[k] : 1;
    at[k] = flat % d;
    flat /= d;
  }
  return "element " + shape_text(at);
}

}  // namespace ved
