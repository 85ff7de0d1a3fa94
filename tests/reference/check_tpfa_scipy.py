#!/usr/bin/python3
"""Hanford heads from `ved generate` and `ved solve` against an independent solver: SciPy's
two-point flux assembly and sparse LU (bench/tpfa_scipy.py, class Tpfa), on the shipped
reference field and on generated random fields.

    /usr/bin/python3 tests/reference/check_tpfa_scipy.py --ved build/apps/ved/ved \
        --data data/hanford --work /tmp/check_tpfa

Also the source of the published head range that tests/integration/test_cli_physics.cpp
checks (CliSolve.ReferenceFieldFromNpyGivesPublishedHeadRange): heads at the 323 wells
from 104.47 m to 124.62 m, 126.54 m at most over the cells.

Exit status 0: ved agrees with SciPy; 1: it does not (or a command failed, or a module is
installed but broken); 77: skipped, with the reason printed, when this interpreter has no
numpy, scipy or h5py module (Debian: apt-get install python3-scipy python3-h5py).
"""
import argparse
import shutil
import subprocess
import sys
from pathlib import Path

try:
    import h5py
    import numpy as np
    import scipy  # noqa: F401  (tpfa_scipy imports scipy.sparse)
except ModuleNotFoundError as e:
    if e.name not in ("h5py", "numpy", "scipy"):
        raise
    print(f"skipped: {sys.executable} has no module '{e.name}' (Debian: apt-get install python3-{e.name})")
    sys.exit(77)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from tpfa_scipy import Tpfa  # noqa: E402

TOL_M = 1e-8  # heads are ~100 m; both solve the same linear system to rounding

failures = []


def ved(binary, *args):
    cmd = [binary, *map(str, args)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stdout}{r.stderr}")
        sys.exit(1)


def expect_close(name, got, want, tol):
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        failures.append(f"{name}: shape {got.shape}, expected {want.shape}")
        return
    err = float(np.max(np.abs(got - want)))
    print(f"{name}: max |difference| {err:.3g}")
    if not err <= tol:
        failures.append(f"{name}: max |difference| {err:.3g} > {tol:g}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ved", required=True, help="the ved program")
    ap.add_argument("--data", required=True, help="the Hanford data folder (data/hanford)")
    ap.add_argument("--work", required=True, help="scratch folder (emptied first)")
    a = ap.parse_args()
    work = Path(a.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    tpfa = Tpfa(a.data)
    with h5py.File(f"{a.data}/well_cells_1x.mat", "r") as f:
        wells = f["well_cells"][:].ravel().astype(int) - 1  # MATLAB's 1-based cells
    with h5py.File(f"{a.data}/conduct_log_1x.mat", "r") as f:
        reference = f["conduct_log"][:].ravel()

    # 1. The shipped reference field through `ved solve`, and the published head range.
    np.save(work / "ref.npy", reference[None, :])
    ved(a.ved, "solve", "--input", work / "ref.npy", "--threads", 1, "--out", work / "ref_heads.h5")
    h_ref = tpfa.heads(reference)
    with h5py.File(work / "ref_heads.h5", "r") as f:
        expect_close("ved solve, reference field: heads", f["/head"][0], h_ref, TOL_M)
        expect_close("ved solve, reference field: heads at the wells", f["/head_wells"][0], h_ref[wells], TOL_M)
    print(f"SciPy, reference field: wells {h_ref[wells].min():.4f} to {h_ref[wells].max():.4f} m, "
          f"cells up to {h_ref.max():.4f} m")
    for name, got, want in [("well minimum", h_ref[wells].min(), 104.47), ("well maximum", h_ref[wells].max(), 124.62),
                            ("cell maximum", h_ref.max(), 126.54)]:
        if abs(got - want) > 0.005:
            failures.append(f"reference field {name} {got:.4f} m; the tests use {want} m")

    # 2. Random fields from `ved generate` (its own solver, in parallel): every cell's head
    #    and y at the wells.
    ved(a.ved, "generate", "--samples", 4, "--modes", 200, "--seed", 3, "--head", "--threads", 2, "--out",
        work / "d.h5")
    with h5py.File(work / "d.h5", "r") as f:
        x, head, y, w = f["/x"][:], f["/head"][:], f["/y"][:], f["/wells"][:]
    if not np.array_equal(w, wells):
        failures.append("ved generate's /wells differ from well_cells_1x.mat")
    h = np.stack([tpfa.heads(row) for row in x])
    expect_close("ved generate: /head", head, h, TOL_M)
    expect_close("ved generate: /y (heads at the wells)", y, h[:, wells], TOL_M)
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("ok: ved's heads agree with SciPy's TPFA")
    return 0


if __name__ == "__main__":
    sys.exit(main())
