// ved map2grid: fields on a quadrilateral mesh -> images for convolutional encoders.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli_util.hpp"
#include "commands.hpp"
#include "ved/grid/map2grid.hpp"
#include "ved/mesh/site_io.hpp"
#include "ved/util/atomic_file.hpp"
#include "ved/util/error.hpp"
#include "ved/util/h5.hpp"

namespace ved::app {
namespace {

struct Map2GridOptions {
  std::string input;  // optional: fields [K, cells]
  std::string mesh = "hanford";
  double outside = 0.0;
  std::string out;
};

void run_map2grid(const Map2GridOptions& o) {
  check_output_path(o.out);
  Site site = load_site(o.mesh);
  GridMap g = compute_grid_map(site.mesh);
  MatrixRM images;
  if (!o.input.empty()) {
    MatrixRM fields = load_rows(o.input, site.mesh.n_cells, "--input");
    images.resize(fields.rows(), g.n_pixels());
    for (Eigen::Index k = 0; k < fields.rows(); ++k) g.to_image(fields.row(k).data(), images.row(k).data(), o.outside);
  }
  AtomicOutput out(o.out);
  {
    auto f = h5::File::create(out);
    const size_t h = g.height, w = g.width;
    if (images.size() > 0) f.write("/images", images.data(), {static_cast<size_t>(images.rows()), h, w});
    std::vector<int64_t> mask(g.pixel_count.size()), cp(g.cell_pixel.begin(), g.cell_pixel.end());
    for (size_t p = 0; p < mask.size(); ++p) mask[p] = g.pixel_count[p] > 0;
    std::vector<int64_t> count(g.pixel_count.begin(), g.pixel_count.end());
    std::vector<int64_t> ec(g.entry_cell.begin(), g.entry_cell.end()), ep(g.entry_pixel.begin(), g.entry_pixel.end());
    f.write("/mask", mask.data(), {h, w});
    f.write("/pixel_count", count.data(), {h, w});
    f.write("/cell_pixel", cp.data(), {cp.size()});
    f.write("/entry_cell", ec.data(), {ec.size()});
    f.write("/entry_pixel", ep.data(), {ep.size()});
    f.set_attr("/", "height", static_cast<int64_t>(h));
    f.set_attr("/", "width", static_cast<int64_t>(w));
    f.set_attr("/", "mesh", o.mesh);
    f.close();
  }
  out.commit();
  std::printf("map2grid %s: %d cells -> %d x %d image, %d filled pixels, %d conflict entries%s -> %s\n",
              o.mesh.c_str(), g.n_cells(), g.height, g.width, g.n_filled(), g.n_conflicts(),
              images.size() ? (", " + std::to_string(images.rows()) + " images").c_str() : "", o.out.c_str());
}

}  // namespace

void add_map2grid_command(CLI::App& app) {
  auto opt = std::make_shared<Map2GridOptions>();
  CLI::App* cmd = app.add_subcommand("map2grid", "Map fields on a quadrilateral mesh to images (docs/method.md §4); writes "
                                                 "/images [K,H,W], /mask [H,W] and the cell->pixel map");
  cmd->add_option("--input", opt->input, "Fields FILE.h5:/dataset or FILE.npy [K, cells]; omit to write the map only");
  cmd->add_option("--mesh", opt->mesh, "hanford, grid:NXxNY, or a folder with MRST .mat files");
  cmd->add_option("--outside", opt->outside, "Value of pixels outside the mesh");
  cmd->add_option("--out", opt->out, "Output HDF5 file")->required();
  cmd->callback([opt] { run_map2grid(*opt); });
}

}  // namespace ved::app
