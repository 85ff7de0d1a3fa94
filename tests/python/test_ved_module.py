"""Tests of the `ved` Python module against independent expectations: the `ved` program's
own output files, analytic solutions and the statistics of the random-field model.

Run by ctest (tests/python/CMakeLists.txt) with PYTHONPATH at the built module and
VED_BINARY at the `ved` program; by hand:

    PYTHONPATH=build/python VED_BINARY=build/apps/ved/ved /usr/bin/python3 tests/python/test_ved_module.py
"""
import os
import shutil
import subprocess
import tempfile
import unittest

import h5py
import numpy as np

import ved

VED_BINARY = os.environ.get("VED_BINARY", "build/apps/ved/ved")


def run_ved(*args):
    """Runs the ved program; returns stdout, fails the test with stderr on error."""
    r = subprocess.run([VED_BINARY, *map(str, args)], capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError(f"ved {' '.join(map(str, args))} failed ({r.returncode}):\n{r.stderr}")
    return r.stdout


class TempDirCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="ved_py_")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.dir, name)


class SiteTest(unittest.TestCase):
    def test_hanford(self):
        s = ved.load_site("hanford")
        self.assertEqual(s.n_cells, 1475)
        self.assertEqual(s.n_faces, 3134)
        self.assertEqual(s.n_nodes, 1655)
        self.assertEqual(s.n_wells, 323)
        self.assertEqual(s.cell_centroids.shape, (1475, 2))
        self.assertEqual(s.cell_centroids.dtype, np.float64)
        self.assertTrue(s.cell_centroids.flags.c_contiguous)
        self.assertEqual(s.cell_volumes.shape, (1475,))
        self.assertTrue(np.all(s.cell_volumes > 0))
        self.assertEqual(s.wells.shape, (323,))
        self.assertTrue(np.all((s.wells >= 0) & (s.wells < 1475)))
        self.assertEqual(len(set(s.wells.tolist())), 323)
        ref = s.reference_log_t
        self.assertEqual(ref.shape, (1475,))
        self.assertAlmostEqual(ref.mean(), 7.830, delta=5e-3)
        self.assertAlmostEqual(ref.std(), 1.709, delta=5e-3)
        self.assertIsNone(s.grid_shape)
        self.assertEqual(s.bc_kinds.count("D"), 176)
        self.assertEqual(s.bc_kinds.count("N"), 22)
        self.assertAlmostEqual(s.neumann_inflow, 10823, delta=5)
        d = s.bc_values[np.frombuffer(s.bc_kinds.encode(), dtype=np.uint8) == ord("D")]
        self.assertAlmostEqual(d.min(), 103.64, delta=0.01)
        self.assertAlmostEqual(d.max(), 120.69, delta=0.01)
        # Interior faces join two cells; 2766 of them (docs/method.md §5).
        fc = s.face_cells
        self.assertEqual(fc.shape, (3134, 2))
        self.assertEqual(int(np.sum((fc[:, 0] >= 0) & (fc[:, 1] >= 0))), 2766)
        self.assertEqual(len(s.cell_nodes), 1475)
        # Areas of the cells add up to the area of the domain polygon... at least positive and finite.
        self.assertTrue(np.isfinite(s.cell_volumes.sum()))
        self.assertIn("1475 cells", repr(s))

    def test_grid(self):
        s = ved.load_site("grid:8x4")
        self.assertEqual(s.n_cells, 32)
        self.assertEqual(s.grid_shape, (8, 4))
        self.assertIsNone(s.reference_log_t)
        # cell (i, j) is i + nx*j: centroids in row-major (j, i) order.
        c = s.cell_centroids.reshape(4, 8, 2)
        np.testing.assert_allclose(c[0, :, 0], (np.arange(8) + 0.5) / 8, rtol=0, atol=1e-15)
        np.testing.assert_allclose(c[:, 0, 1], (np.arange(4) + 0.5) / 4, rtol=0, atol=1e-15)
        np.testing.assert_allclose(s.cell_volumes, 1 / 32, rtol=1e-14)

    def test_errors(self):
        with self.assertRaises(ved.Error) as cm:
            ved.load_site("/no/such/folder")
        self.assertIn("/no/such/folder", str(cm.exception))
        self.assertTrue(issubclass(ved.Error, ValueError))
        with self.assertRaises(ValueError):
            ved.structured_site(4, 4, west=("sideways", 1.0))


class SolverTest(TempDirCase):
    def test_equals_ved_solve(self):
        site = ved.load_site("hanford")
        rng = np.random.default_rng(3)
        fields = site.reference_log_t + rng.normal(0, 0.5, size=(5, site.n_cells))
        np.save(self.path("fields.npy"), fields)
        run_ved("solve", "--input", self.path("fields.npy"), "--mesh", "hanford", "--threads", 2,
                "--out", self.path("heads.h5"))
        with h5py.File(self.path("heads.h5"), "r") as f:
            head_cli = f["head"][()]
            wells_cli = f["head_wells"][()]
        solver = ved.Solver(site)
        head = solver.solve(fields, threads=2)
        self.assertEqual(head.shape, (5, 1475))
        self.assertEqual(head.dtype, np.float64)
        np.testing.assert_allclose(head, head_cli, rtol=0, atol=1e-10)
        np.testing.assert_allclose(solver.solve_wells(fields), wells_cli, rtol=0, atol=1e-10)
        np.testing.assert_allclose(head[:, site.wells], wells_cli, rtol=0, atol=1e-10)
        # One field at a time, and thread counts, give the same heads.
        np.testing.assert_array_equal(solver.solve(fields[2]), head[2])
        np.testing.assert_array_equal(solver.solve(fields, threads=1), head)
        # A Fortran-ordered or float32 input is converted, not misread.
        np.testing.assert_allclose(solver.solve(np.asfortranarray(fields)), head, rtol=0, atol=0)

    def test_reference_heads(self):
        site = ved.load_site("hanford")
        solver = ved.Solver(site)
        h = solver.solve(site.reference_log_t)
        self.assertEqual(h.shape, (1475,))
        self.assertGreater(h.min(), 103.0)  # docs/method.md §5: roughly 103.7-126.5 m
        self.assertLess(h.max(), 127.5)
        fl = solver.boundary_fluxes(site.reference_log_t, h)
        self.assertAlmostEqual(fl["neumann_inflow"], site.neumann_inflow, delta=1e-6 * site.neumann_inflow)
        self.assertAlmostEqual(fl["dirichlet_outflow"], fl["neumann_inflow"], delta=1e-6 * fl["neumann_inflow"])

    def test_constant_field_is_linear(self):
        # Constant T on a uniform grid, head 1 west and 0 east, no flow north/south:
        # h = 1 - x exactly (TPFA is exact for linear heads on a uniform grid).
        site = ved.load_site("grid:20x5")
        solver = ved.Solver(site)
        h = solver.solve(np.full(site.n_cells, 2.3))
        np.testing.assert_allclose(h, 1 - site.cell_centroids[:, 0], rtol=0, atol=1e-10)
        # Inflow Q over the west side of height ly, head 0 east: h = Q (lx - x) / (T ly).
        q, t = 5.0, np.exp(0.7)
        s2 = ved.structured_site(16, 4, lx=2.0, ly=0.5, west=("neumann", q), east=("dirichlet", 0.0))
        h2 = ved.Solver(s2).solve(np.full(s2.n_cells, 0.7))
        np.testing.assert_allclose(h2, q * (2.0 - s2.cell_centroids[:, 0]) / (t * 0.5), rtol=1e-10, atol=1e-10)

    def test_shape_errors(self):
        solver = ved.Solver(ved.load_site("grid:4x4"))
        with self.assertRaises(ValueError) as cm:
            solver.solve(np.zeros(15))
        self.assertIn("expected [N, 16] or [16]", str(cm.exception))
        with self.assertRaises(ValueError):
            solver.solve(np.zeros((3, 17)))
        with self.assertRaises(ValueError):
            solver.solve(np.zeros(16), threads=0)


class GridMapTest(TempDirCase):
    def test_hanford(self):
        site = ved.load_site("hanford")
        g = ved.grid_map(site)
        self.assertEqual(g.shape, (69, 54))
        self.assertEqual(g.n_filled, 1473)
        self.assertEqual(int(g.mask.sum()), 1473)
        self.assertEqual(g.n_cells, 1475)
        self.assertEqual(g.cell_pixel.shape, (1475,))
        self.assertEqual(int((g.pixel_count > 0).sum()), 1473)
        # A constant field becomes the mask: the mean of the cells on a pixel, 0 outside.
        np.testing.assert_array_equal(g.to_image(np.ones(1475)), g.mask.astype(float))
        fields = np.stack([site.reference_log_t, -site.reference_log_t, np.arange(1475.0)])
        img = g.to_image(fields, outside=-9.0)
        self.assertEqual(img.shape, (3, 69, 54))
        self.assertTrue(np.all(img[:, ~g.mask] == -9.0))
        # Cells alone on their pixel are drawn exactly there.
        counts = g.pixel_count.ravel()
        alone = np.where(counts[g.cell_pixel] == 1)[0]
        self.assertGreater(len(alone), 1400)
        np.testing.assert_array_equal(img[2].ravel()[g.cell_pixel[alone]], alone.astype(float))
        np.testing.assert_array_equal(g.to_cells(img[2])[alone], alone.astype(float))
        # Same images as `ved map2grid`.
        np.save(self.path("f.npy"), fields)
        run_ved("map2grid", "--input", self.path("f.npy"), "--mesh", "hanford", "--outside", -9,
                "--out", self.path("m.h5"))
        with h5py.File(self.path("m.h5"), "r") as f:
            np.testing.assert_array_equal(f["images"][()], img)
            np.testing.assert_array_equal(f["mask"][()].astype(bool), g.mask)

    def test_grid_identity(self):
        site = ved.load_site("grid:6x4")
        g = ved.grid_map(site)
        self.assertEqual(g.shape, (4, 6))
        f = np.arange(24.0)
        np.testing.assert_array_equal(g(f), f.reshape(4, 6))


class RandomFieldTest(TempDirCase):
    def test_statistics(self):
        site = ved.load_site("hanford")
        rf = ved.RandomField(site, modes=1000, sigma=1.5, length=0.04, mean=3.0)
        self.assertFalse(rf.fitted)
        self.assertEqual(rf.modes.shape, (1475, 1000))
        self.assertGreater(rf.variance_fraction, 0.99)
        np.testing.assert_allclose(rf.kl_mean, 3.0)
        # Eigenvalues descending and summing to at most the trace n sigma^2.
        ev = rf.eigenvalues
        self.assertTrue(np.all(np.diff(ev) <= 0))
        self.assertAlmostEqual(rf.total_variance, 1475 * 1.5**2, delta=1e-6)
        n = 4000
        x, xi = rf.sample(n, seed=11, threads=2, return_xi=True)
        self.assertEqual(x.shape, (n, 1475))
        self.assertEqual(xi.shape, (n, 1000))
        # xi ~ N(0, I).
        self.assertLess(abs(xi.mean()), 0.01)
        self.assertLess(abs(xi.std() - 1), 0.01)
        # Mean 3 and marginal variance sigma^2 (truncation loses < 1 %). Standard errors:
        # 1.5 / sqrt(4000) = 0.024 per cell for the mean, sqrt(2/4000) = 2.2 % for variances.
        self.assertLess(np.abs(x.mean(axis=0) - 3).max(), 5 * 0.024)
        var = x.var(axis=0, ddof=1)
        self.assertLess(abs(var.mean() / 1.5**2 - 1), 0.03)
        self.assertLess(np.abs(var / 2.25 - 1).max(), 5 * 0.022 + 0.01)
        # The empirical covariance follows the Matérn-5/2 model (independent formula).
        c = site.cell_centroids
        pairs = [(0, 1), (0, 50), (100, 700), (200, 210), (1000, 1400)]
        for a, b in pairs:
            r = np.linalg.norm(c[a] - c[b]) / 0.04
            k = 1.5**2 * (1 + np.sqrt(5) * r + 5 * r * r / 3) * np.exp(-np.sqrt(5) * r)
            emp = np.cov(x[:, a], x[:, b])[0, 1]
            self.assertLess(abs(emp - k), 0.15, (a, b, emp, k))
            self.assertAlmostEqual(ved.matern52_covariance(c[a:a + 1], c[b:b + 1], 1.5, 0.04)[0, 0], k, delta=1e-12)
        # field(xi) rebuilds the samples; threads and partitions do not change them.
        np.testing.assert_allclose(rf.field(xi[:7]), x[:7], rtol=0, atol=1e-10)
        np.testing.assert_array_equal(rf.sample(300, seed=11), x[:300])
        np.testing.assert_allclose(rf.sample(10, seed=11, first=200), x[200:210], rtol=0, atol=1e-12)

    def test_equals_ved_generate(self):
        out = self.path("gen.h5")
        run_ved("generate", "--samples", 150, "--seed", 7, "--modes", 200, "--threads", 2, "--out", out)
        with h5py.File(out, "r") as f:
            x_cli, xi_cli, y_cli = f["x"][()], f["xi"][()], f["y"][()]
        site = ved.load_site("hanford")
        rf = ved.RandomField(site, modes=200)  # fitted to yobs_100_1x.npy row 0, as the CLI
        self.assertTrue(rf.fitted)
        self.assertGreater(rf.sigma, 1.0)
        x, xi = rf.sample(150, seed=7, return_xi=True)
        np.testing.assert_array_equal(xi, xi_cli)
        np.testing.assert_allclose(x, x_cli, rtol=0, atol=1e-12)
        np.testing.assert_allclose(ved.Solver(site).solve_wells(x), y_cli, rtol=0, atol=1e-10)
        d = ved.generate(site, 150, seed=7, modes=200, threads=2)
        np.testing.assert_allclose(d["x"], x_cli, rtol=0, atol=1e-12)
        np.testing.assert_allclose(d["y"], y_cli, rtol=0, atol=1e-10)
        np.testing.assert_array_equal(d["wells"], site.wells)
        self.assertEqual(d["y_shape"], (323,))
        # The fitted parameters are those the dataset records.
        with h5py.File(out, "r") as f:
            self.assertAlmostEqual(f.attrs["sigma"], rf.sigma, delta=1e-12)
            self.assertAlmostEqual(f.attrs["length"], rf.length, delta=1e-12)

    def test_fit_recovers_parameters(self):
        # Maximum likelihood on a dense sample of one realisation of a known process.
        site = ved.load_site("grid:20x20")
        rf = ved.RandomField(site, modes=400, sigma=1.2, length=0.2, mean=0.5)
        x = rf.sample(1, seed=5)[0]
        fit = ved.matern52_fit(site.cell_centroids, x)
        self.assertLess(abs(fit["length"] / 0.2 - 1), 0.5)
        self.assertLess(abs(fit["sigma"] / 1.2 - 1), 0.5)

    def test_errors(self):
        site = ved.load_site("grid:4x4")
        with self.assertRaises(ved.Error) as cm:
            ved.RandomField(site)  # no reference field to fit to
        self.assertIn("give --sigma and --length", str(cm.exception))
        with self.assertRaises(ved.Error):
            ved.RandomField(site, modes=17, sigma=1, length=0.3)


@unittest.skipUnless(ved.has_model, "ved was built without LibTorch")
class ModelTest(TempDirCase):
    TINY = ["--latent", 3, "--encoder-stem", 4, "--encoder-stages", "8,8", "--decoder-hidden", 32,
            "--batch", 16, "--lr", 0.01, "--threads", 1]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.data = os.path.join(cls.dir, "d.h5")
        cls.run_dir = os.path.join(cls.dir, "run")
        run_ved("generate", "--mesh", "grid:12x10", "--samples", 160, "--seed", 1, "--sigma", 1, "--length", 0.3,
                "--modes", 30, "--out", cls.data)
        run_ved("train", "--data", cls.data, "--out", cls.run_dir, "--epochs", 2, *cls.TINY)
        with h5py.File(cls.data, "r") as f:
            cls.x = f["x"][()]

    def test_properties(self):
        m = ved.Model(self.run_dir, threads=1)
        self.assertEqual(m.latent, 3)
        self.assertEqual(m.n_inputs, 120)
        self.assertEqual(m.n_outputs, 120)  # every cell of a grid is a well
        self.assertEqual(m.epoch, 2)
        self.assertEqual(m.input_kind, "grid_map")
        self.assertGreater(m.parameters, 0)
        self.assertEqual(m.noise_std.shape, (120,))
        self.assertTrue(m.path.endswith("model.h5"))

    def test_equals_ved_predict_and_sample(self):
        out = self.path("p.h5")
        run_ved("predict", "--model", self.run_dir, "--input", self.data, "--samples", 5, "--seed", 3,
                "--threads", 1, "--out", out)
        with h5py.File(out, "r") as f:
            cli = {k: f[k][()] for k in ("y_mu", "y_mean", "y_std", "z_mu", "z_logvar")}
        m = ved.Model(self.run_dir, threads=1)
        x = self.x
        y = m.predict(x)
        self.assertEqual(y.shape, (160, 120))
        self.assertEqual(y.dtype, np.float64)
        # float32 network: equal to float rounding.
        np.testing.assert_allclose(y, cli["y_mu"], rtol=1e-5, atol=1e-5)
        mean, std = m.predict_moments(x, samples=5, seed=3)
        np.testing.assert_allclose(mean, cli["y_mean"], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(std, cli["y_std"], rtol=1e-4, atol=1e-5)
        mean3, std3, std_z = m.predict_moments(x, samples=5, seed=3, latent_std=True)
        np.testing.assert_array_equal(mean3, mean)
        self.assertTrue(np.all(std_z <= std + 1e-12))
        mu, logvar = m.encode(x)
        np.testing.assert_allclose(mu, cli["z_mu"], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(logvar, cli["z_logvar"], rtol=1e-5, atol=1e-5)
        # predict is decode at the mean code.
        np.testing.assert_allclose(m.decode(mu), y, rtol=1e-5, atol=1e-5)
        # One sample in, one out; gridded [N, H, W] inputs are accepted.
        np.testing.assert_allclose(m.predict(x[4]), y[4], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(m.predict(x.reshape(160, 10, 12)), y, rtol=0, atol=0)
        # One image [H, W], as the exported predictor takes it: one sample out.
        one = m.predict(x[4].reshape(10, 12))
        self.assertEqual(one.shape, (120,))
        np.testing.assert_allclose(one, y[4], rtol=1e-5, atol=1e-5)

        run_ved("sample", "--model", self.run_dir, "--samples", 7, "--seed", 3, "--threads", 1,
                "--out", self.path("s.npy"))
        np.testing.assert_allclose(m.sample(7, seed=3), np.load(self.path("s.npy")), rtol=1e-5, atol=1e-5)

    def test_errors(self):
        with self.assertRaises(ved.Error) as cm:
            ved.Model(self.path("no-such-run"))
        self.assertIn("no-such-run", str(cm.exception))
        m = ved.Model(self.run_dir, threads=1)
        with self.assertRaises(ValueError) as cm:
            m.predict(np.zeros((2, 7)))
        self.assertIn("expected [N, 120] or [120]", str(cm.exception))
        with self.assertRaises(ValueError):
            m.decode(np.zeros((2, 4)))
        with self.assertRaises(ved.Error):
            m.predict_moments(self.x[:2], samples=1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
