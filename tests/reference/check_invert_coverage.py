#!/usr/bin/python3
"""Calibration of `ved invert`: truths drawn from the prior, noisy heads at 10 of 48 wells
of an 8 x 6 grid, and the exact pCN posterior of each. The truth must lie inside the 90%
credible interval of the field at close to the nominal rate over 100 truths x 48 cells
(the mean per-truth coverage within 3 standard errors of 0.90, and the chains converged).

    /usr/bin/python3 tests/reference/check_invert_coverage.py --ved build/apps/ved/ved --work /tmp/invcov

Exit status 0: calibrated; 1: not (or a command failed); 77: skipped (no numpy or h5py).
"""
import argparse
import json
import shutil
import statistics
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

NOISE = 0.05


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ved", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    work = Path(a.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    subprocess.run([a.ved, "generate", "--mesh", "grid:8x6", "--samples", "100", "--modes", "20", "--sigma", "1",
                    "--length", "0.3", "--seed", "3", "--out", str(work / "prior.h5")], check=True, capture_output=True)
    with h5py.File(work / "prior.h5", "r") as f:
        x, y = f["/x"][()], f["/y"][()]
    rng = np.random.default_rng(0)
    idx = np.arange(0, y.shape[1], 5).astype(np.int64)
    with h5py.File(work / "obs.h5", "w") as g:
        g["/index"] = idx
        g["/value"] = y[:, idx] + NOISE * rng.standard_normal((y.shape[0], idx.size))
    np.save(work / "truth.npy", x.reshape(x.shape[0], -1))
    p = subprocess.run([a.ved, "invert", "--observed", str(work / "obs.h5"), "--noise", str(NOISE), "--prior",
                        str(work / "prior.h5"), "--mesh", "grid:8x6", "--truth", str(work / "truth.npy"),
                        "--threads", "2", "--warmup", "2000", "--samples", "8000", "--thin", "4", "--json",
                        "--out", str(work / "inv.h5")], capture_output=True, text=True)
    if p.returncode != 0:
        print(f"ved invert failed ({p.returncode}):\n{p.stderr[-3000:]}")
        return 1
    cases = json.loads([l for l in p.stdout.splitlines() if l.startswith("{")][-1])["cases"]
    cov = [c["coverage90"] for c in cases]
    mean, se = statistics.mean(cov), statistics.stdev(cov) / len(cov) ** 0.5
    ess = min(c["ess"] for c in cases)
    rhat = max(c["rhat_field_max"] for c in cases)
    print(f"{len(cov)} truths: 90% interval coverage {mean:.3f} (standard error {se:.3f}); ESS >= {ess:.0f}; "
          f"R-hat <= {rhat:.3f}")
    ok = abs(mean - 0.90) <= 3 * se and ess >= 100 and rhat <= 1.1
    print("ok" if ok else "FAIL: not calibrated or not converged")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
