// The `ved` Python module (pybind11): sites, the TPFA solver, random fields, Map2Grid and
// trained VEDs, with NumPy arrays in and out (float64, C-contiguous, samples as rows).
//
//   import ved
//   site = ved.load_site("hanford")
//   rf = ved.RandomField(site)                  # Matérn-5/2 fitted as `ved generate` does
//   x = rf.sample(100, seed=1)                  # [100, cells] log-transmissivity
//   h = ved.Solver(site).solve(x, threads=2)    # [100, cells] heads
//   img = ved.grid_map(site).to_image(x)        # [100, 69, 54]
//   y = ved.Model("run/").predict(x)            # [100, wells]
//
// Errors: ved::Error becomes ved.Error (a ValueError) with ved's message; wrong array
// shapes raise ValueError; other C++ exceptions raise RuntimeError. Long computations
// release the GIL. docs/python.md is the user documentation.
#include <omp.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <Eigen/Core>
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "ved/data/generate.hpp"
#include "ved/field/random_field.hpp"
#include "ved/flow/tpfa.hpp"
#include "ved/grid/map2grid.hpp"
#include "ved/mesh/mesh.hpp"
#include "ved/mesh/site_io.hpp"
#include "ved/util/array.hpp"
#include "ved/util/error.hpp"
#include "ved/util/rng.hpp"
#ifdef VED_HAVE_TRAIN
#include "ved/train/trained_model.hpp"
#include "ved/train/trainer.hpp"  // set_torch_threads
#endif

namespace py = pybind11;

namespace ved {
namespace {

// Any array-like in; converted to a C-contiguous float64 array (copied only if needed).
using ArrayD = py::array_t<double, py::array::c_style | py::array::forcecast>;
using ArrayI = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;

// A batch of samples as rows: [N, n] (or [N, ...] whose trailing dimensions multiply to n),
// or one sample [n] (single = true: the caller returns 1-D results).
struct Rows {
  const double* data = nullptr;
  Eigen::Index n_rows = 0;
  bool single = false;
};

std::string shape_str(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

Rows rows_of(const ArrayD& a, Eigen::Index n_cols, const std::string& what) {
  Rows r;
  r.data = a.data();
  if (a.ndim() == 1 && a.shape(0) == n_cols) {
    r.n_rows = 1;
    r.single = true;
    return r;
  }
  py::ssize_t tail = 1;
  for (py::ssize_t i = 1; i < a.ndim(); ++i) tail *= a.shape(i);
  // One image [H, W] (or [C, H, W]) of a gridded model, as the exported predictor takes it:
  // all of it is one sample, and its trailing dimensions alone are not.
  if (a.ndim() >= 2 && tail != n_cols && a.shape(0) * tail == n_cols) {
    r.n_rows = 1;
    r.single = true;
    return r;
  }
  if (a.ndim() < 2 || tail != n_cols)
    throw py::value_error(what + " has shape " + shape_str(a) + "; expected [N, " + std::to_string(n_cols) +
                          "] or [" + std::to_string(n_cols) + "], or one image whose values number " +
                          std::to_string(n_cols));
  r.n_rows = a.shape(0);
  return r;
}

MatrixRM to_matrix(const Rows& r, Eigen::Index n_cols) {
  return Eigen::Map<const MatrixRM>(r.data, r.n_rows, n_cols);
}

ArrayD new_array(std::vector<py::ssize_t> shape) { return ArrayD(shape); }

ArrayD from_matrix(const MatrixRM& m, bool single = false) {
  ArrayD out = single ? new_array({m.cols()}) : new_array({m.rows(), m.cols()});
  if (m.size()) std::memcpy(out.mutable_data(), m.data(), sizeof(double) * m.size());
  return out;
}

ArrayD from_vector(const Eigen::VectorXd& v) {
  ArrayD out = new_array({v.size()});
  if (v.size()) std::memcpy(out.mutable_data(), v.data(), sizeof(double) * v.size());
  return out;
}

// [2, n] column-major coordinates -> [n, 2] row-major: the same memory layout.
ArrayD from_points(const Eigen::Matrix2Xd& p) {
  ArrayD out = new_array({p.cols(), 2});
  if (p.size()) std::memcpy(out.mutable_data(), p.data(), sizeof(double) * p.size());
  return out;
}

template <class Int>
ArrayI from_ints(const std::vector<Int>& v) {
  ArrayI out({static_cast<py::ssize_t>(v.size())});
  std::copy(v.begin(), v.end(), out.mutable_data());
  return out;
}

// ---------------------------------------------------------------------------- sites

SideCondition parse_side(const py::object& o, const char* side) {
  if (o.is_none()) return {};
  auto t = o.cast<py::tuple>();
  if (t.size() != 2) throw py::value_error(std::string(side) + ": expected (kind, value), e.g. (\"dirichlet\", 1.0)");
  std::string kind = t[0].cast<std::string>();
  std::transform(kind.begin(), kind.end(), kind.begin(), [](unsigned char c) { return std::tolower(c); });
  SideCondition c;
  c.value = t[1].cast<double>();
  if (kind == "dirichlet" || kind == "d")
    c.kind = BcKind::kDirichlet;
  else if (kind == "neumann" || kind == "n")
    c.kind = BcKind::kNeumann;
  else if (kind == "noflow" || kind == "no-flow" || kind == "none")
    c.kind = BcKind::kNoFlow;
  else
    throw py::value_error(std::string(side) + ": unknown kind '" + kind + "'; expected dirichlet, neumann or noflow");
  return c;
}

void bind_site(py::module_& m) {
  py::class_<Site>(m, "Site",
                   "A flow problem: mesh, boundary conditions, observation wells and (if shipped) a reference "
                   "log-transmissivity field. Made by load_site() or structured_site(); arrays are copies.")
      .def_property_readonly("source", [](const Site& s) { return s.source; }, "Spec or folder it was loaded from")
      .def_property_readonly("name", [](const Site& s) { return s.mesh.name; })
      .def_property_readonly("n_cells", [](const Site& s) { return s.mesh.n_cells; })
      .def_property_readonly("n_faces", [](const Site& s) { return s.mesh.n_faces; })
      .def_property_readonly("n_nodes", [](const Site& s) { return s.mesh.n_nodes; })
      .def_property_readonly("n_wells", [](const Site& s) { return s.wells.size(); })
      .def_property_readonly("cell_centroids", [](const Site& s) { return from_points(s.mesh.cell_centroids); },
                             "[cells, 2] cell centroids (mesh units)")
      .def_property_readonly("cell_volumes", [](const Site& s) { return from_vector(s.mesh.cell_volumes); },
                             "[cells] cell areas")
      .def_property_readonly("face_centroids", [](const Site& s) { return from_points(s.mesh.face_centroids); },
                             "[faces, 2]")
      .def_property_readonly("face_normals", [](const Site& s) { return from_points(s.mesh.face_normals); },
                             "[faces, 2] normals scaled by face length, from face_cells[:, 0] to face_cells[:, 1]")
      .def_property_readonly("face_areas", [](const Site& s) { return from_vector(s.mesh.face_areas); },
                             "[faces] face lengths")
      .def_property_readonly(
          "face_cells",
          [](const Site& s) {
            const Eigen::Matrix2Xi& fc = s.mesh.face_cells;
            ArrayI out({fc.cols(), Eigen::Index(2)});
            std::copy(fc.data(), fc.data() + fc.size(), out.mutable_data());
            return out;
          },
          "[faces, 2] adjacent cells (0-based), -1 where there is none")
      .def_property_readonly("node_coords", [](const Site& s) { return from_points(s.mesh.node_coords); },
                             "[nodes, 2]")
      .def_property_readonly(
          "cell_nodes",
          [](const Site& s) {
            py::list out;
            const Mesh& mesh = s.mesh;
            for (int c = 0; c + 1 < static_cast<int>(mesh.cell_node_ptr.size()); ++c)
              out.append(from_ints(std::vector<int>(mesh.cell_nodes.begin() + mesh.cell_node_ptr[c],
                                                    mesh.cell_nodes.begin() + mesh.cell_node_ptr[c + 1])));
            return out;
          },
          "list of [cells] arrays: the nodes of each cell in boundary order (for plotting polygons)")
      .def_property_readonly("wells", [](const Site& s) { return from_ints(s.wells); },
                             "[wells] 0-based observation cells: y = heads[..., wells]")
      .def_property_readonly(
          "reference_log_t",
          [](const Site& s) -> py::object {
            if (s.reference_log_t.size() == 0) return py::none();
            return from_vector(s.reference_log_t);
          },
          "[cells] reference natural-log transmissivity, or None")
      .def_property_readonly(
          "grid_shape",
          [](const Site& s) -> py::object {
            if (s.mesh.grid_nx <= 0) return py::none();
            return py::make_tuple(s.mesh.grid_nx, s.mesh.grid_ny);
          },
          "(nx, ny) for a structured grid (cell (i, j) is i + nx*j, so field.reshape(ny, nx)), else None")
      .def_property_readonly("bc_faces", [](const Site& s) { return from_ints(s.bc.face); },
                             "0-based boundary faces with a condition (others are no-flow)")
      .def_property_readonly(
          "bc_kinds",
          [](const Site& s) {
            std::string k;
            for (BcKind b : s.bc.kind) k += b == BcKind::kDirichlet ? 'D' : b == BcKind::kNeumann ? 'N' : '0';
            return k;
          },
          "one character per bc face: 'D' Dirichlet, 'N' Neumann")
      .def_property_readonly("bc_values",
                             [](const Site& s) { return from_vector(Eigen::Map<const Eigen::VectorXd>(
                                                     s.bc.value.data(), s.bc.value.size())); },
                             "head [m] (Dirichlet) or inflow [m^3/d] (Neumann) per bc face")
      .def_property_readonly("neumann_inflow", [](const Site& s) { return s.bc.neumann_inflow(); },
                             "total inflow through Neumann faces [m^3/d]")
      .def("__repr__", [](const Site& s) {
        return "<ved.Site '" + s.source + "': " + std::to_string(s.mesh.n_cells) + " cells, " +
               std::to_string(s.wells.size()) + " wells>";
      });

  m.def("load_site", &load_site, py::arg("spec") = "hanford",
        "Load a flow problem: 'hanford' (shipped with ved), 'grid:NXxNY' (unit square, head 1 west, 0 east) "
        "or a folder with MRST-style geom*.mat, bc*.mat, well_cells*.mat (same as the CLI's --mesh).");
  m.def(
      "structured_site",
      [](int nx, int ny, double lx, double ly, const py::object& west, const py::object& east,
         const py::object& south, const py::object& north) {
        StructuredSiteOptions o;
        o.nx = nx;
        o.ny = ny;
        o.lx = lx;
        o.ly = ly;
        o.west = parse_side(west, "west");
        o.east = parse_side(east, "east");
        o.south = parse_side(south, "south");
        o.north = parse_side(north, "north");
        VED_CHECK(nx >= 1 && ny >= 1, "structured_site: nx " << nx << ", ny " << ny << " must be at least 1");
        return make_structured_site(o);
      },
      py::arg("nx"), py::arg("ny"), py::arg("lx") = 1.0, py::arg("ly") = 1.0,
      py::arg("west") = py::make_tuple("dirichlet", 1.0), py::arg("east") = py::make_tuple("dirichlet", 0.0),
      py::arg("south") = py::none(), py::arg("north") = py::none(),
      "Rectangle [0, lx] x [0, ly] with nx x ny cells. Each side is None (no-flow) or (kind, value) with kind "
      "'dirichlet' (head) or 'neumann' (total inflow over the side). Wells are every cell.");
  m.def("data_dir", &data_dir, "Folder of the data shipped with ved ($VED_DATA_DIR overrides it)");
}

// ---------------------------------------------------------------------------- solver

// TpfaSolver copies what it needs from the Site; the wells are kept for solve_wells.
struct Solver {
  explicit Solver(const Site& site) : tpfa(site), wells(site.wells) {}
  TpfaSolver tpfa;
  std::vector<int> wells;
};

ArrayD solve_fields(const Solver& s, const ArrayD& log_t, int threads) {
  VED_CHECK(threads >= 1, "Solver.solve: threads " << threads << " must be at least 1");
  const int n = s.tpfa.n_cells();
  Rows r = rows_of(log_t, n, "Solver.solve: log_t");
  ArrayD head = r.single ? new_array({n}) : new_array({r.n_rows, n});
  double* out = head.mutable_data();
  {
    py::gil_scoped_release release;
    s.tpfa.solve_batch(r.data, r.n_rows, out, threads);
  }
  return head;
}

void bind_solver(py::module_& m) {
  py::class_<Solver>(m, "Solver",
                     "Steady confined flow div(exp(Y) grad h) = 0 by two-point flux approximation (docs/method.md §5). "
                     "Symbolic Cholesky once per site; each field costs one numeric factorisation.")
      .def(py::init<const Site&>(), py::arg("site"))
      .def_property_readonly("n_cells", [](const Solver& s) { return s.tpfa.n_cells(); })
      .def_property_readonly("factor_nnz", [](const Solver& s) { return s.tpfa.factor_nnz(); },
                             "non-zeros of the Cholesky factor")
      .def("solve", &solve_fields, py::arg("log_t"), py::arg("threads") = 1,
           "Heads [cells] for log_t [cells], or [K, cells] for [K, cells] (natural-log transmissivity). "
           "Results do not depend on threads.")
      .def(
          "solve_wells",
          [](const Solver& s, const ArrayD& log_t, int threads) {
            ArrayD head = solve_fields(s, log_t, threads);
            const py::ssize_t n = s.tpfa.n_cells(), w = s.wells.size();
            const bool single = head.ndim() == 1;
            const py::ssize_t k = single ? 1 : head.shape(0);
            ArrayD y = single ? new_array({w}) : new_array({k, w});
            for (py::ssize_t i = 0; i < k; ++i)
              for (py::ssize_t j = 0; j < w; ++j) y.mutable_data()[i * w + j] = head.data()[i * n + s.wells[j]];
            return y;
          },
          py::arg("log_t"), py::arg("threads") = 1,
          "Heads at the site's wells: what `ved generate` stores as y ([wells] or [K, wells]).")
      .def(
          "boundary_fluxes",
          [](const Solver& s, const ArrayD& log_t, const ArrayD& head) {
            const int n = s.tpfa.n_cells();
            Rows a = rows_of(log_t, n, "Solver.boundary_fluxes: log_t");
            Rows b = rows_of(head, n, "Solver.boundary_fluxes: head");
            if (!a.single || !b.single) throw py::value_error("Solver.boundary_fluxes: give one field and its heads");
            FluxBalance f = s.tpfa.boundary_fluxes(a.data, b.data);
            py::dict d;
            d["neumann_inflow"] = f.neumann_inflow;
            d["dirichlet_outflow"] = f.dirichlet_outflow;
            return d;
          },
          py::arg("log_t"), py::arg("head"),
          "Mass balance of one solution: {'neumann_inflow', 'dirichlet_outflow'} in m^3/d.")
      .def("__repr__", [](const Solver& s) {
        return "<ved.Solver: " + std::to_string(s.tpfa.n_cells()) + " cells>";
      });
}

// ---------------------------------------------------------------------------- random fields

// The random-field model of `ved generate`: Matérn-5/2 parameters (fitted or given) and the
// KL expansion, with the generator's per-realisation random streams.
struct RandomField {
  GeneratorModel model;
  int n_cells = 0;

  // xi [k, nb] of realisations first .. first + nb - 1: stream (seed, i) each, as generate.
  void draw_xi(uint64_t seed, long first, long nb, Eigen::MatrixXd& xi) const {
    const int k = model.kl.n_modes();
    xi.resize(k, nb);
    for (long j = 0; j < nb; ++j) {
      NormalStream rng(seed, static_cast<uint64_t>(first + j));
      for (int i = 0; i < k; ++i) xi(i, j) = rng.normal();
    }
  }

  // Same blocks and products as generate_dataset, so x is bitwise the dataset's /x.
  void sample(long n, uint64_t seed, long first, int threads, double* x, double* xi_out) const {
    const int k = model.kl.n_modes();
    const long n_blocks = (n + kGenerateBlock - 1) / kGenerateBlock;
    Eigen::setNbThreads(1);
#pragma omp parallel num_threads(threads)
    {
      Eigen::MatrixXd xi, fields;  // [k, B], [cells, B]
#pragma omp for schedule(dynamic, 1)
      for (long b = 0; b < n_blocks; ++b) {
        const long r0 = b * kGenerateBlock, nb = std::min(kGenerateBlock, n - r0);
        draw_xi(seed, first + r0, nb, xi);
        fields.noalias() = model.kl.modes * xi;
        fields.colwise() += model.kl.mean;
        for (long j = 0; j < nb; ++j) {
          std::memcpy(x + (r0 + j) * n_cells, fields.col(j).data(), sizeof(double) * n_cells);
          if (xi_out) std::memcpy(xi_out + (r0 + j) * k, xi.col(j).data(), sizeof(double) * k);
        }
      }
    }
  }
};

GenerateOptions generate_options(const Site& site, const py::object& modes, double sigma, double length,
                                 double mean, bool conditional, int obs_size, int obs_set) {
  GenerateOptions o;
  o.modes = modes.is_none() ? std::min(1000, site.mesh.n_cells) : modes.cast<int>();
  o.sigma = sigma;
  o.length = length;
  o.mean = mean;
  o.conditional = conditional;
  o.obs_size = obs_size;
  o.obs_set = obs_set;
  return o;
}

py::dict params_dict(const MaternParams& p) {
  py::dict d;
  d["sigma"] = p.sigma;
  d["length"] = p.length;
  d["mean"] = p.mean;
  d["nugget"] = p.nugget;
  return d;
}

void bind_field(py::module_& m) {
  py::class_<RandomField>(
      m, "RandomField",
      "Log-transmissivity fields Y = mean + Psi xi, xi ~ N(0, I): a Matérn-5/2 Gaussian process, fitted by "
      "maximum likelihood to the site's observations or given (sigma and length), as a truncated Karhunen-Loeve "
      "expansion; unconditional or conditioned on the observations (kriging). Same model and random streams as "
      "`ved generate` with the same options.")
      .def(py::init([](const Site& site, const py::object& modes, double sigma, double length, double mean,
                       bool conditional, int obs_size, int obs_set) {
             GenerateOptions o = generate_options(site, modes, sigma, length, mean, conditional, obs_size, obs_set);
             RandomField rf;
             {
               py::gil_scoped_release release;
               rf.model = make_generator_model(site, o);
             }
             rf.n_cells = site.mesh.n_cells;
             return rf;
           }),
           py::arg("site"), py::arg("modes") = py::none(), py::arg("sigma") = 0.0, py::arg("length") = 0.0,
           py::arg("mean") = 0.0, py::arg("conditional") = false, py::arg("obs_size") = 100, py::arg("obs_set") = 0,
           "modes: KL modes kept (None: min(1000, cells), the CLI's default on Hanford). sigma, length > 0: use "
           "them (mean 0 = mean of the reference field) instead of fitting to yobs_<obs_size>_1x.npy row obs_set.")
      .def_property_readonly("sigma", [](const RandomField& r) { return r.model.params.sigma; })
      .def_property_readonly("length", [](const RandomField& r) { return r.model.params.length; },
                             "correlation length in mesh units")
      .def_property_readonly("mean", [](const RandomField& r) { return r.model.params.mean; })
      .def_property_readonly("nugget", [](const RandomField& r) { return r.model.params.nugget; })
      .def_property_readonly("params", [](const RandomField& r) { return params_dict(r.model.params); })
      .def_property_readonly("fitted", [](const RandomField& r) { return r.model.fitted; },
                             "True when the parameters come from the maximum-likelihood fit")
      .def_property_readonly("log_likelihood", [](const RandomField& r) { return r.model.log_likelihood; })
      .def_property_readonly("obs_file", [](const RandomField& r) { return r.model.obs_file; })
      .def_property_readonly("n_cells", [](const RandomField& r) { return r.n_cells; })
      .def_property_readonly("n_modes", [](const RandomField& r) { return r.model.kl.n_modes(); })
      .def_property_readonly("kl_mean", [](const RandomField& r) { return from_vector(r.model.kl.mean); },
                             "[cells] mean field (constant, or the kriging mean)")
      .def_property_readonly(
          "modes",
          [](const RandomField& r) {
            const Eigen::MatrixXd& p = r.model.kl.modes;
            MatrixRM rm = p;
            return from_matrix(rm);
          },
          "[cells, modes] Psi: eigenvectors scaled by sqrt(eigenvalue)")
      .def_property_readonly("eigenvalues", [](const RandomField& r) { return from_vector(r.model.kl.eigenvalues); },
                             "[modes] descending")
      .def_property_readonly("total_variance", [](const RandomField& r) { return r.model.kl.total_variance; })
      .def_property_readonly("variance_fraction", [](const RandomField& r) { return r.model.kl.variance_fraction(); })
      .def(
          "sample",
          [](const RandomField& r, long n, uint64_t seed, long first, int threads, bool return_xi) -> py::object {
            VED_CHECK(n >= 1, "RandomField.sample: n " << n << " must be at least 1");
            VED_CHECK(first >= 0, "RandomField.sample: first " << first << " must be at least 0");
            VED_CHECK(threads >= 1, "RandomField.sample: threads " << threads << " must be at least 1");
            ArrayD x = new_array({n, r.n_cells});
            ArrayD xi = return_xi ? new_array({n, r.model.kl.n_modes()}) : new_array({0});
            double* px = x.mutable_data();
            double* pxi = return_xi ? xi.mutable_data() : nullptr;
            {
              py::gil_scoped_release release;
              r.sample(n, seed, first, threads, px, pxi);
            }
            if (return_xi) return py::make_tuple(x, xi);
            return std::move(x);
          },
          py::arg("n"), py::arg("seed") = 0, py::arg("first") = 0, py::arg("threads") = 1,
          py::arg("return_xi") = false,
          "n realisations [n, cells] of log-transmissivity (and xi [n, modes] with return_xi=True). Realisation i "
          "uses the random stream (seed, first + i): equal to rows first .. first+n-1 of /x and /xi of "
          "`ved generate --seed SEED` with the same model options. Independent of threads.")
      .def(
          "field",
          [](const RandomField& r, const ArrayD& xi) {
            const int k = r.model.kl.n_modes();
            Rows rows = rows_of(xi, k, "RandomField.field: xi");
            MatrixRM x(rows.n_rows, r.n_cells);
            Eigen::Map<const MatrixRM> z(rows.data, rows.n_rows, k);
            x.noalias() = z * r.model.kl.modes.transpose();
            x.rowwise() += r.model.kl.mean.transpose();
            return from_matrix(x, rows.single);
          },
          py::arg("xi"), "mean + Psi xi for xi [modes] or [n, modes] -> [cells] or [n, cells]")
      .def("__repr__", [](const RandomField& r) {
        const MaternParams& p = r.model.params;
        return "<ved.RandomField Matern-5/2 sigma=" + std::to_string(p.sigma) + " length=" +
               std::to_string(p.length) + " mean=" + std::to_string(p.mean) + ", " +
               std::to_string(r.model.kl.n_modes()) + " modes" + (r.model.fitted ? ", fitted" : "") + ">";
      });

  m.def(
      "matern52_fit",
      [](const ArrayD& points, const ArrayD& values) {
        Rows p = rows_of(points, 2, "matern52_fit: points");
        if (values.ndim() != 1 || values.shape(0) != p.n_rows)
          throw py::value_error("matern52_fit: values has shape " + shape_str(values) + "; expected [" +
                                std::to_string(p.n_rows) + "], one per point");
        Eigen::Matrix2Xd pts = Eigen::Map<const Eigen::Matrix2Xd>(p.data, 2, p.n_rows);
        Eigen::VectorXd v = Eigen::Map<const Eigen::VectorXd>(values.data(), values.shape(0));
        GpFit fit;
        {
          py::gil_scoped_release release;
          fit = fit_matern52(pts, v);
        }
        py::dict d = params_dict(fit.params);
        d["log_likelihood"] = fit.log_likelihood;
        return d;
      },
      py::arg("points"), py::arg("values"),
      "Maximum-likelihood Matérn-5/2 fit to values [n] at points [n, 2]: dict sigma, length, mean, nugget, "
      "log_likelihood (the fit `ved generate` makes to the observation set).");
  m.def(
      "matern52_covariance",
      [](const ArrayD& a, const ArrayD& b, double sigma, double length) {
        Rows ra = rows_of(a, 2, "matern52_covariance: a");
        Rows rb = rows_of(b, 2, "matern52_covariance: b");
        Eigen::Matrix2Xd pa = Eigen::Map<const Eigen::Matrix2Xd>(ra.data, 2, ra.n_rows);
        Eigen::Matrix2Xd pb = Eigen::Map<const Eigen::Matrix2Xd>(rb.data, 2, rb.n_rows);
        MatrixRM c = matern52_covariance(pa, pb, sigma, length);
        return from_matrix(c);
      },
      py::arg("a"), py::arg("b"), py::arg("sigma"), py::arg("length"),
      "[n_a, n_b] Matérn-5/2 covariance between points a [n_a, 2] and b [n_b, 2].");

  m.def(
      "generate",
      [](const Site& site, long samples, uint64_t seed, int threads, const py::object& modes, double sigma,
         double length, double mean, bool conditional, int obs_size, int obs_set, long first, bool store_head,
         const std::string& system) {
        GenerateOptions o = generate_options(site, modes, sigma, length, mean, conditional, obs_size, obs_set);
        o.samples = samples;
        o.seed = seed;
        o.threads = threads;
        o.first = first;
        o.store_head = store_head;
        o.system.system = system;
        Dataset d;
        {
          py::gil_scoped_release release;
          GeneratorModel g = make_generator_model(site, o);
          d = generate_dataset(site, g, o);
        }
        py::dict out;
        out["x"] = from_matrix(d.x);
        out["y"] = from_matrix(d.y);
        out["xi"] = from_matrix(d.xi);
        if (store_head) out["head"] = from_matrix(d.head);
        out["wells"] = from_ints(d.wells);
        out["generator"] = d.text_attrs["generator"];
        // Per-sample shape of y: (wells,) or (wells, times) for the time-dependent systems.
        out["y_shape"] = py::tuple(py::module_::import("json").attr("loads")(d.text_attrs["y_shape"]));
        return out;
      },
      py::arg("site"), py::arg("samples"), py::arg("seed") = 0, py::arg("threads") = 1, py::arg("modes") = py::none(),
      py::arg("sigma") = 0.0, py::arg("length") = 0.0, py::arg("mean") = 0.0, py::arg("conditional") = false,
      py::arg("obs_size") = 100, py::arg("obs_set") = 0, py::arg("first") = 0, py::arg("store_head") = false,
      py::arg("system") = "steady",
      "What `ved generate` computes, in memory: dict x [N, cells], y [N, outputs], xi [N, modes], wells, "
      "y_shape (per sample, y is flattened row-major), head [N, cells] (store_head=True) and generator (JSON "
      "of the settings). system: steady | transient | "
      "transport with their default settings.");
}

// ---------------------------------------------------------------------------- Map2Grid

ArrayD map_images(const GridMap& g, const ArrayD& fields, double outside) {
  Rows r = rows_of(fields, g.n_cells(), "GridMap.to_image: fields");
  ArrayD img = r.single ? new_array({g.height, g.width}) : new_array({r.n_rows, g.height, g.width});
  double* out = img.mutable_data();
  for (Eigen::Index k = 0; k < r.n_rows; ++k)
    g.to_image(r.data + k * g.n_cells(), out + k * g.n_pixels(), outside);
  return img;
}

void bind_grid(py::module_& m) {
  py::class_<GridMap>(m, "GridMap",
                      "Map2Grid (docs/method.md §4): cell -> pixel map of a quadrilateral mesh, without interpolation. Row "
                      "index = y step (row 0 holds the smallest y), column = x step.")
      .def_readonly("height", &GridMap::height)
      .def_readonly("width", &GridMap::width)
      .def_property_readonly("shape", [](const GridMap& g) { return py::make_tuple(g.height, g.width); })
      .def_property_readonly("n_cells", &GridMap::n_cells)
      .def_property_readonly("n_filled", &GridMap::n_filled, "pixels holding at least one cell")
      .def_property_readonly("n_conflicts", &GridMap::n_conflicts, "extra (cell, pixel) entries")
      .def_property_readonly("n_shared_cells", &GridMap::n_shared_cells)
      .def_property_readonly(
          "mask",
          [](const GridMap& g) {
            py::array_t<bool> out({g.height, g.width});
            for (int p = 0; p < g.n_pixels(); ++p) out.mutable_data()[p] = g.pixel_count[p] > 0;
            return out;
          },
          "[H, W] True inside the mesh")
      .def_property_readonly(
          "pixel_count",
          [](const GridMap& g) {
            ArrayI out({g.height, g.width});
            std::copy(g.pixel_count.begin(), g.pixel_count.end(), out.mutable_data());
            return out;
          },
          "[H, W] entries on each pixel (0 = outside)")
      .def_property_readonly("cell_pixel", [](const GridMap& g) { return from_ints(g.cell_pixel); },
                             "[cells] flat pixel (row * width + col) of each cell")
      .def_property_readonly("entry_cell", [](const GridMap& g) { return from_ints(g.entry_cell); })
      .def_property_readonly("entry_pixel", [](const GridMap& g) { return from_ints(g.entry_pixel); })
      .def("to_image", &map_images, py::arg("fields"), py::arg("outside") = 0.0,
           "fields [cells] or [K, cells] -> images [H, W] or [K, H, W]: mean of the cells on each pixel, "
           "`outside` where no cell lands.")
      .def("__call__", &map_images, py::arg("fields"), py::arg("outside") = 0.0, "Same as to_image.")
      .def(
          "to_cells",
          [](const GridMap& g, const ArrayD& images) {
            // One image [H, W], or a batch [K, H, W] (or flat [K, H*W]).
            const bool one = images.ndim() == 2 && images.shape(0) == g.height && images.shape(1) == g.width;
            Rows r = one ? Rows{images.data(), 1, true} : rows_of(images, g.n_pixels(), "GridMap.to_cells: images");
            MatrixRM f(r.n_rows, g.n_cells());
            for (Eigen::Index k = 0; k < r.n_rows; ++k)
              for (int c = 0; c < g.n_cells(); ++c) f(k, c) = r.data[k * g.n_pixels() + g.cell_pixel[c]];
            return from_matrix(f, r.single);
          },
          py::arg("images"),
          "images [H, W] or [K, H, W] -> fields [cells] or [K, cells]: each cell reads its (first) pixel.")
      .def("__repr__", [](const GridMap& g) {
        return "<ved.GridMap " + std::to_string(g.height) + "x" + std::to_string(g.width) + ", " +
               std::to_string(g.n_filled()) + " filled pixels, " + std::to_string(g.n_cells()) + " cells>";
      });

  m.def(
      "grid_map", [](const Site& site, int seed_cell) { return compute_grid_map(site.mesh, seed_cell); },
      py::arg("site"), py::arg("seed_cell") = 0,
      "Map2Grid of the site's mesh (69 x 54 with 1,473 filled pixels on Hanford; the identity on grid:NXxNY).");
}

// ---------------------------------------------------------------------------- trained models

#ifdef VED_HAVE_TRAIN
MatrixRM model_rows(const TrainedModel& model, const ArrayD& x, const std::string& what, bool* single) {
  Rows r = rows_of(x, model.n_inputs(), what);
  *single = r.single;
  return to_matrix(r, model.n_inputs());
}

void bind_model(py::module_& m) {
  py::class_<TrainedModel>(m, "Model",
                           "A trained VED (`ved train --out RUN`) for inference, in physical units. x is raw inputs "
                           "as stored in the dataset ([N, n] or one sample [n]; gridded [N, H, W] also); the model "
                           "applies its standardisation and Map2Grid itself.")
      .def(py::init([](const std::string& path, const std::string& device, int threads) {
             set_torch_threads(threads);
             return TrainedModel(path, device);
           }),
           py::arg("path"), py::arg("device") = "cpu", py::arg("threads") = 0,
           "path: a run folder or model/checkpoint file. threads: LibTorch intra-op threads (0 = all cores; "
           "process-wide, like the CLI's --threads).")
      .def_property_readonly("path", &TrainedModel::path, "the file loaded")
      .def_property_readonly("latent", &TrainedModel::latent, "r, the latent dimension")
      .def_property_readonly("n_inputs", &TrainedModel::n_inputs)
      .def_property_readonly("n_outputs", &TrainedModel::n_outputs)
      .def_property_readonly("parameters", &TrainedModel::parameters, "trainable parameters")
      .def_property_readonly("epoch", [](const TrainedModel& t) { return t.meta().epoch; }, "completed epochs")
      .def_property_readonly("input_kind", [](const TrainedModel& t) { return t.meta().input.kind; },
                             "grid_map | image | vector")
      .def_property_readonly(
          "noise_std",
          [](const TrainedModel& t) -> py::object {
            if (t.meta().noise_std.size() == 0) return py::none();
            return from_vector(t.meta().noise_std);
          },
          "[outputs] decoder noise s in physical units, or None (an unfinished run's checkpoint)")
      .def(
          "predict",
          [](const TrainedModel& t, const ArrayD& x) {
            bool single = false;
            MatrixRM xm = model_rows(t, x, "Model.predict: x", &single);
            MatrixRM y;
            {
              py::gil_scoped_release release;
              y = t.predict(xm);
            }
            return from_matrix(y, single);
          },
          py::arg("x"), "y at z = mu(x): [N, outputs] (or [outputs] for one sample). Same as `ved eval`'s predictions.")
      .def(
          "predict_moments",
          [](const TrainedModel& t, const ArrayD& x, int samples, uint64_t seed, bool latent_std) {
            VED_CHECK(samples >= 2, "Model.predict_moments: samples " << samples << " must be at least 2");
            bool single = false;
            MatrixRM xm = model_rows(t, x, "Model.predict_moments: x", &single);
            PredictiveMoments p;
            {
              py::gil_scoped_release release;
              p = t.predict_moments(xm, samples, seed);
            }
            if (latent_std)
              return py::make_tuple(from_matrix(p.mean, single), from_matrix(p.std, single),
                                    from_matrix(p.std_latent, single));
            return py::make_tuple(from_matrix(p.mean, single), from_matrix(p.std, single));
          },
          py::arg("x"), py::arg("samples") = 100, py::arg("seed") = 1, py::arg("latent_std") = false,
          "(mean, std) of y over `samples` draws z ~ q(z|x); std includes the decoder noise. latent_std=True adds "
          "the spread over z alone. Same numbers as `ved predict --samples S --seed SEED` (/y_mean, /y_std).")
      .def(
          "encode",
          [](const TrainedModel& t, const ArrayD& x) {
            bool single = false;
            MatrixRM xm = model_rows(t, x, "Model.encode: x", &single);
            Encodings e;
            {
              py::gil_scoped_release release;
              e = t.encode(xm);
            }
            return py::make_tuple(from_matrix(e.mu, single), from_matrix(e.logvar, single));
          },
          py::arg("x"), "(mu, logvar) of q(z|x): [N, latent] each")
      .def(
          "decode",
          [](const TrainedModel& t, const ArrayD& z) {
            Rows r = rows_of(z, t.latent(), "Model.decode: z");
            MatrixRM zm = to_matrix(r, t.latent()), y;
            {
              py::gil_scoped_release release;
              y = t.decode(zm);
            }
            return from_matrix(y, r.single);
          },
          py::arg("z"), "f(z): z [N, latent] -> y [N, outputs] in physical units")
      .def(
          "sample",
          [](const TrainedModel& t, int64_t n, uint64_t seed) {
            VED_CHECK(n >= 1, "Model.sample: n " << n << " must be at least 1");
            MatrixRM y;
            {
              py::gil_scoped_release release;
              y = t.sample(n, seed);
            }
            return from_matrix(y);
          },
          py::arg("n"), py::arg("seed") = 1,
          "y = f(z) for n draws z ~ N(0, I): [n, outputs]. Same as `ved sample --samples N --seed SEED`.")
      .def("__repr__", [](const TrainedModel& t) {
        return "<ved.Model '" + t.path() + "': " + std::to_string(t.n_inputs()) + " -> latent " +
               std::to_string(t.latent()) + " -> " + std::to_string(t.n_outputs()) + ">";
      });
}
#endif

}  // namespace
}  // namespace ved

PYBIND11_MODULE(ved, m) {
  m.doc() =
      "ved: variational encoder-decoders for physical systems. Sites and the TPFA flow solver, Matérn random "
      "fields, Map2Grid and trained VEDs, with NumPy float64 arrays (samples as rows). See docs/python.md.";
  py::register_exception<ved::Error>(m, "Error", PyExc_ValueError);
  ved::bind_site(m);
  ved::bind_solver(m);
  ved::bind_field(m);
  ved::bind_grid(m);
#ifdef VED_HAVE_TRAIN
  ved::bind_model(m);
  m.attr("has_model") = true;
#else
  m.attr("has_model") = false;
#endif
  m.attr("__version__") = VED_VERSION;
}
