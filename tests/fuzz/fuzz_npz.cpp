// libFuzzer target: NumPy .npz archives (zip, read with libzip) through load_array
// ("FILE.npz:x", and a member that is not there) and the cell-graph mesh loader
// (load_cell_graph: members "centroids" and "adjacency").
//
// The loader checks each member's CRC-32, so almost every mutation of a member's bytes
// would stop at "CRC error". Under libFuzzer a custom mutator therefore rewrites the CRCs
// of stored members after every other mutation, letting mutated .npy headers and values
// through to npy::parse and load_cell_graph; the other half keep their CRC errors.
//
//   build-checked/tests/fuzz/fuzz_npz -max_total_time=60 tests/fuzz/corpus/fuzz_npz
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "fuzz_util.hpp"
#include "ved/mesh/mesh.hpp"
#include "ved/mesh/site_io.hpp"
#include "ved/util/array_source.hpp"

#if VED_LIBFUZZER
namespace {

uint32_t read_le(const uint8_t* p, int bytes) {
  uint32_t v = 0;
  for (int k = 0; k < bytes; ++k) v |= static_cast<uint32_t>(p[k]) << (8 * k);
  return v;
}

void write_le32(uint8_t* p, uint32_t v) {
  for (int k = 0; k < 4; ++k) p[k] = static_cast<uint8_t>(v >> (8 * k));
}

uint32_t crc32(const uint8_t* p, size_t n) {  // zip's CRC-32 (reflected, 0xEDB88320)
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

// For each central-directory entry of a stored member whose local header and data lie in
// the input: the CRC of its data, written into both headers. Offsets follow the zip
// specification (APPNOTE.TXT 4.3.7 local header, 4.3.12 central directory header).
void fix_stored_crcs(uint8_t* data, size_t size) {
  for (size_t c = 0; c + 46 <= size; ++c) {
    if (read_le(data + c, 4) != 0x02014b50u || read_le(data + c + 10, 2) != 0) continue;
    const size_t local = read_le(data + c + 42, 4), comp = read_le(data + c + 20, 4);
    if (local + 30 > size || read_le(data + local, 4) != 0x04034b50u) continue;
    const size_t start = local + 30 + read_le(data + local + 26, 2) + read_le(data + local + 28, 2);
    if (start > size || comp > size - start) continue;
    const uint32_t crc = crc32(data + start, comp);
    write_le32(data + c + 16, crc);
    write_le32(data + local + 14, crc);
  }
}

}  // namespace

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  size = LLVMFuzzerMutate(data, size, max_size);
  if (seed & 1u) fix_stored_crcs(data, size);
  return size;
}
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ved::fuzz::TempInput file(data, size, ".npz");
  for (const char* member : {"x", "no_such_array"}) {
    try {
      ved::LoadedArray a = ved::load_array(ved::ArraySource::parse(file.path() + ":" + member));
      size_t n = 1;
      for (size_t d : a.dims) n *= d;
      if (a.data.size() != n) std::abort();  // dims and data must agree
    } catch (const ved::Error& e) {
      ved::fuzz::rejected(e);
    }
  }
  try {
    ved::Mesh m = ved::load_cell_graph(file.path());
    // What Map2Grid relies on: one centroid per cell, faces joining two distinct cells.
    if (m.cell_centroids.cols() != m.n_cells || m.face_cells.cols() != m.n_faces) std::abort();
    for (int f = 0; f < m.n_faces; ++f)
      for (int k = 0; k < 2; ++k)
        if (m.face_cells(k, f) < 0 || m.face_cells(k, f) >= m.n_cells) std::abort();
  } catch (const ved::Error& e) {
    ved::fuzz::rejected(e);
  }
  return 0;
}
