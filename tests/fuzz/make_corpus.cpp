// Writes the seed corpora in tests/fuzz/corpus/<target>/ with ved's own writers: small
// valid inputs of every shape each loader accepts, so that the fuzzers start deep inside
// the formats instead of at the magic bytes.
//
//   build-checked/tests/fuzz/fuzz_make_corpus tests/fuzz/corpus
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ved/data/dataset.hpp"
#include "ved/grid/map2grid.hpp"
#include "ved/mesh/mesh.hpp"
#include "ved/mesh/site_io.hpp"
#include "ved/util/array_source.hpp"
#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"
#include "ved/util/npy.hpp"
#include "support/npz_writer.hpp"

namespace fs = std::filesystem;
using namespace ved;

namespace {

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  VED_CHECK(out.good(), path.string() << ": cannot write");
}

// A version-1.0 .npy image with a hand-written header (Fortran order, other dtypes).
std::string npy_image(const std::string& header_dict, const std::string& payload) {
  std::string header = header_dict;
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>(header.size() >> 8));
  return out + header + payload;
}

void npy_seeds(const fs::path& dir) {
  const double f8[6] = {1.5, -2.0, 3.25, 0.0, 1e-300, 7.0};
  npy::write((dir / "f8_2x3.npy").string(), f8, {2, 3});
  const float f4[4] = {1.0f, 2.0f, 3.0f, 4.0f};
  npy::write((dir / "f4_4.npy").string(), f4, {4});
  const int64_t obs[6] = {0, 7, 19, 3, 11, 49};  // observation sets [2, 3] on 50 cells
  npy::write((dir / "i8_obs_2x3.npy").string(), obs, {2, 3});
  npy::write((dir / "f8_empty_0x3.npy").string(), f8, {0, 3});
  std::string i4(16, '\0');
  for (int i = 0; i < 4; ++i) i4[4 * i] = static_cast<char>(i + 1);
  write_text(dir / "i4_fortran_2x2.npy",
             npy_image("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 2), }", i4));
  write_text(dir / "u1_3.npy", npy_image("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }",
                                         std::string("\x01\x02\xff", 3)));
  write_text(dir / "b1_scalar.npy",
             npy_image("{'descr': '|b1', 'fortran_order': False, 'shape': (), }", std::string("\x01", 1)));
  // Version 2.0: a four-byte header length.
  std::string v2 = npy_image("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", std::string(8, '\0'));
  v2[6] = '\x02';
  v2.insert(10, 2, '\0');
  write_text(dir / "f8_v2.npy", v2);
  fs::copy_file(data_dir() + "/hanford/yobs_10_1x.npy", dir / "yobs_10_1x.npy",
                fs::copy_options::overwrite_existing);
}

void dataset_seeds(const fs::path& dir) {
  // Fields on a 3x2 grid, as `ved generate --mesh grid:3x2 --head` and map2grid write them.
  Mesh mesh = make_structured_mesh(3, 2);
  Dataset d;
  d.x = MatrixRM::Random(3, 6);
  d.y = MatrixRM::Random(3, 2);
  d.xi = MatrixRM::Random(3, 2);
  d.head = MatrixRM::Random(3, 6);
  d.wells = {1, 4};
  d.mesh = "grid:3x2";
  d.grid_map = compute_grid_map(mesh);
  d.has_grid_map = true;
  d.text_attrs["generator"] = "{\"samples\": 3}";
  d.number_attrs["seed"] = 7;
  write_dataset((dir / "grid_3x2.h5").string(), d);

  Dataset img;  // gridded inputs [N, H, W]
  img.x = MatrixRM::Random(2, 6);
  img.x_shape = {2, 3};
  img.y = MatrixRM::Random(2, 1);
  write_dataset((dir / "image_2x3.h5").string(), img);
}

// MATLAB stores an m x n array column-major, which HDF5 shows as [n][m]: an MRST field
// of `count` items with `rows` values each is written as [rows][count].
void write_block(h5::File& f, const std::string& name, const std::vector<double>& v, size_t rows) {
  f.write(name, v.data(), {rows, v.size() / rows});
}

void mesh_seeds(const fs::path& dir) {
  Mesh m = make_structured_mesh(3, 2);
  const int C = m.n_cells, F = m.n_faces;
  {
    auto f = h5::File::create((dir / "geom_3x2.mat").string());
    write_block(f, "/cells/num", {double(C)}, 1);
    write_block(f, "/faces/num", {double(F)}, 1);
    write_block(f, "/nodes/num", {double(m.n_nodes)}, 1);
    std::vector<double> cc, fc, fn, nb(2 * F), nc, cn(4 * C);
    for (int k = 0; k < 2; ++k) {
      for (int c = 0; c < C; ++c) cc.push_back(m.cell_centroids(k, c));
      for (int j = 0; j < F; ++j) {
        fc.push_back(m.face_centroids(k, j));
        fn.push_back(m.face_normals(k, j));
        nb[k * F + j] = m.face_cells(k, j) + 1;
      }
      for (int n = 0; n < m.n_nodes; ++n) nc.push_back(m.node_coords(k, n));
    }
    for (int c = 0; c < C; ++c)
      for (int i = 0; i < 4; ++i) cn[i * C + c] = m.cell_nodes[4 * c + i] + 1;
    write_block(f, "/cells/centroids", cc, 2);
    write_block(f, "/cells/volumes", std::vector<double>(m.cell_volumes.data(), m.cell_volumes.data() + C), 1);
    write_block(f, "/faces/centroids", fc, 2);
    write_block(f, "/faces/normals", fn, 2);
    write_block(f, "/faces/areas", std::vector<double>(m.face_areas.data(), m.face_areas.data() + F), 1);
    write_block(f, "/faces/neighbors", nb, 2);
    write_block(f, "/nodes/coords", nc, 2);
    write_block(f, "/cells/nodes", cn, 4);
    f.close();
  }
  {
    // Head 1 on the west side, 0 on the east, an inflow on one south face (1-based ids).
    auto f = h5::File::create((dir / "bc_3x2.mat").string());
    std::vector<int64_t> index = {1, 5, 4, 8, 9}, kind = {'D', 'D', 'D', 'D', 'N'};
    std::vector<double> value = {1, 1, 0, 0, 0.5};
    f.write("/index", index.data(), {1, index.size()});
    f.write("/kind", kind.data(), {1, kind.size()});
    f.write("/value", value.data(), {1, value.size()});
    f.close();
  }
  {
    auto f = h5::File::create((dir / "well_cells_3x2.mat").string());
    std::vector<double> wells = {1, 6};
    f.write("/well_cells", wells.data(), {1, wells.size()});
    f.close();
  }
  {
    auto f = h5::File::create((dir / "conduct_log_3x2.mat").string());
    std::vector<double> field = {0.1, -0.2, 0.3, 0.0, 1.5, -1.0};
    f.write("/conduct_log", field.data(), {1, field.size()});
    f.close();
  }
  fs::copy_file(data_dir() + "/hanford/bc_1x.mat", dir / "bc_1x.mat", fs::copy_options::overwrite_existing);
  // Every seed must load: a corpus of rejected files would only exercise error paths.
  load_mrst_mesh((dir / "geom_3x2.mat").string());
  load_mrst_bc((dir / "bc_3x2.mat").string(), m);
  load_well_cells((dir / "well_cells_3x2.mat").string(), C);
  load_mrst_field((dir / "conduct_log_3x2.mat").string(), "conduct_log", C);
}

// .npz archives as numpy.savez (stored) and numpy.savez_compressed (deflated) write them:
// an array "x" that fuzz_npz loads, and the cell graph of the 3x2 grid (centroids and the
// 0-based cell pairs of its interior faces) that load_cell_graph reads.
void npz_seeds(const fs::path& dir) {
  Mesh m = make_structured_mesh(3, 2);
  test::NpzMember centroids{"centroids", {}, {size_t(m.n_cells), 2}};
  for (int c = 0; c < m.n_cells; ++c)
    for (int k = 0; k < 2; ++k) centroids.data.push_back(m.cell_centroids(k, c));
  test::NpzMember adjacency{"adjacency", {}, {0, 2}};
  for (int f = 0; f < m.n_faces; ++f) {
    if (m.is_boundary_face(f)) continue;
    adjacency.data.push_back(m.face_cells(0, f));
    adjacency.data.push_back(m.face_cells(1, f));
  }
  adjacency.dims[0] = adjacency.data.size() / 2;
  test::NpzMember x{"x", {1.5, -2.0, 3.25, 0.0, 1e-300, 7.0}, {2, 3}};
  test::write_npz((dir / "x_2x3_stored.npz").string(), {x}, false);
  test::write_npz((dir / "x_2x3_deflated.npz").string(), {x}, true);
  test::write_npz((dir / "graph_3x2_stored.npz").string(), {centroids, adjacency, x}, false);
  test::write_npz((dir / "graph_3x2_deflated.npz").string(), {centroids, adjacency}, true);
  // Every seed must load.
  for (const char* f : {"x_2x3_stored.npz", "x_2x3_deflated.npz", "graph_3x2_stored.npz"})
    load_array({(dir / f).string(), "x"});
  for (const char* f : {"graph_3x2_stored.npz", "graph_3x2_deflated.npz"}) load_cell_graph((dir / f).string());
}

void config_seeds(const fs::path& dir) {
  write_text(dir / "generate.toml",
             "# ved generate --config generate.toml\n"
             "samples = 200\nseed = 42\nsigma = 1.25\nmesh = \"grid:8x8\"\nhead = true\n");
  write_text(dir / "tables.toml",
             "[encoder]\nstages = [16, 32, 64]\n\n[pump]\n# a repeated option as an array\n"
             "\"\" = 1\n");
  write_text(dir / "lists.toml", "pump = [\"3:-10@0-5\", \"7:-2.5\"]\nencoder_stages = [8]\nhead = false\n");
  write_text(dir / "misspelt.toml", "sampels = 5\n");
  write_text(dir / "types.toml",
             "samples = 1e3\nseed = 0x2A\nmesh = '''multi\nline'''\nwhen = 1979-05-27T07:32:00Z\n"
             "inline = { a = 1, b = [1, 2] }\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s tests/fuzz/corpus\n", argv[0]);
    return 2;
  }
  try {
    fs::path root = argv[1];
    for (const char* t : {"fuzz_npy", "fuzz_dataset", "fuzz_mesh", "fuzz_config", "fuzz_npz"})
      fs::create_directories(root / t);
    npy_seeds(root / "fuzz_npy");
    dataset_seeds(root / "fuzz_dataset");
    mesh_seeds(root / "fuzz_mesh");
    config_seeds(root / "fuzz_config");
    npz_seeds(root / "fuzz_npz");
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
