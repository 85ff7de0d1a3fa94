#!/usr/bin/python3
"""Datasets written as users write them with h5py's defaults, through the `ved` verbs.

h5py stores `f.attrs["mesh"] = "grid:4x3"` as a variable-length UTF-8 string and NumPy
arrays as float64 (or int64) datasets with no ved metadata. Every verb that reads a
dataset must accept such a file; `--mesh` must serve a file without a mesh attribute, and
a `--mesh` that differs from the file's attribute is named in a warning.

    /usr/bin/python3 tests/reference/check_h5py_files.py --ved build/apps/ved/ved --work /tmp/h5py

Exit status 0: every verb read the files; 1: one failed; 77: skipped (no numpy or h5py).
"""
import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

try:
    import h5py
    import numpy as np
except ModuleNotFoundError as e:
    if e.name not in ("h5py", "numpy"):
        raise
    print(f"skipped: {sys.executable} has no module '{e.name}' (Debian: apt-get install python3-{e.name})")
    sys.exit(77)

failures = []


def run(ved, *args, expect_ok=True):
    p = subprocess.run([ved, *args], capture_output=True, text=True, timeout=600)
    text = p.stdout + p.stderr
    if (p.returncode == 0) != expect_ok:
        failures.append(f"ved {' '.join(args)}: exit {p.returncode}\n{text}")
    return p, text


def write_user_file(path, n_rows, seed, mesh=None):
    """x on a 4 x 3 grid (12 cells) and a smooth nonlinear map to 5 outputs, h5py defaults."""
    w = np.random.default_rng(0).standard_normal((12, 5)) / np.sqrt(12)  # one map for every file
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_rows, 12))
    y = np.tanh(x @ w) + 0.01 * rng.standard_normal((n_rows, 5))
    with h5py.File(path, "w") as f:
        f["x"] = x
        f["y"] = y
        if mesh is not None:
            f.attrs["mesh"] = mesh                       # variable-length UTF-8
        f.attrs["comment"] = "log-conductivity in m²/s"  # non-ASCII
        f.attrs["seed"] = seed                           # int64 scalar
        f["names"] = np.array(["a", "b", "c"], dtype=h5py.string_dtype())
    with h5py.File(path, "r") as f:                    # the premise of this test
        t = f.attrs.get_id("mesh").get_type() if mesh is not None else None
        if t is not None and not (t.is_variable_str() and t.get_cset() == h5py.h5t.CSET_UTF8):
            failures.append("h5py did not write the mesh attribute as a variable-length UTF-8 string")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ved", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--train", action="store_true", help="also `ved train` / `ved eval` (LibTorch build)")
    a = ap.parse_args()
    work = Path(a.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    train, test, bare = work / "train.h5", work / "test.h5", work / "bare.h5"
    write_user_file(train, 240, 1, mesh="grid:4x3")
    write_user_file(test, 60, 2, mesh="grid:4x3")
    write_user_file(bare, 240, 1)

    _, text = run(a.ved, "info", str(train))
    for want in ("grid:4x3", "log-conductivity in m²/s", '["a", "b", "c"]'):
        if want not in text:
            failures.append(f"ved info {train}: '{want}' not shown:\n{text}")

    p, text = run(a.ved, "baseline", "--method", "ridge", "--data", str(train), "--test", str(test), "--json")
    if p.returncode == 0:
        r = json.loads(p.stdout.splitlines()[-1])
        if not (0 <= r["rel_l2_fluct"] < 0.5):
            failures.append(f"ridge on the user file: rel_l2_fluct {r['rel_l2_fluct']} (a linear-ish map should fit)")

    if a.train:
        out = work / "run"
        args = ["--test-fraction", "0.2", "--epochs", "2", "--latent", "4", "--threads", "2"]
        run(a.ved, "train", "--data", str(train), "--out", str(out), *args)
        if not (out / "model.h5").exists():
            failures.append("ved train on the h5py file wrote no model.h5")
        else:
            run(a.ved, "eval", "--model", str(out), "--data", str(test), "--split", "all", "--json")
        # No mesh attribute: --mesh gives the layout.
        run(a.ved, "train", "--data", str(bare), "--mesh", "grid:4x3", "--out", str(work / "bare-run"), *args)
        # Another mesh than the file names: a warning that says both.
        _, text = run(a.ved, "train", "--data", str(train), "--mesh", "grid:3x4", "--out", str(work / "other"), *args)
        if "grid:4x3" not in text or "grid:3x4" not in text:
            failures.append(f"--mesh grid:3x4 on a file naming grid:4x3: no warning naming both:\n{text}")

    for f in failures:
        print("FAIL:", f)
    print("ok" if not failures else f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
