#!/usr/bin/env python3
"""ved export, seen from Python: torch.jit.load the exported modules and compare them with
`ved predict` on a small Hanford run (Map2Grid with shared pixels, batch norm).

    python3 tests/integration/check_export.py --ved build/apps/ved/ved --work /tmp/check_export

Exit status 0: the modules agree with ved to float tolerance; 1: they do not (or a ved
command failed, or torch, numpy or h5py is installed but fails to import); 77: skipped,
with the reason printed, when this interpreter has no torch, numpy or h5py module at all
(Debian: apt-get install python3-torch python3-numpy python3-h5py).
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
    import torch
except ModuleNotFoundError as e:  # not installed: the ctest counts 77 as skipped
    if e.name not in ("h5py", "numpy", "torch"):
        raise  # a module that one of them needs is missing: a broken installation
    print(f"skipped: {sys.executable} has no module '{e.name}' (Debian: apt-get install python3-{e.name})")
    sys.exit(77)
# Any other import error (a broken torch, a missing shared library) propagates: exit 1.

RTOL = 1e-5  # of the largest magnitude; the network runs in float32 in both


def ved(binary, *args):
    cmd = [binary, *map(str, args)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stdout}{r.stderr}")
        sys.exit(1)
    return r.stdout


failures = []


def expect_close(name, got, want):
    got = got.detach().numpy() if isinstance(got, torch.Tensor) else np.asarray(got)
    want = np.asarray(want)
    if got.shape != want.shape:
        failures.append(f"{name}: shape {got.shape}, expected {want.shape}")
        return
    err = float(np.max(np.abs(got - want)) / max(1.0, float(np.max(np.abs(want)))))
    print(f"{name}: max relative difference {err:.2e}")
    if not err <= RTOL:
        failures.append(f"{name}: max relative difference {err:.2e} > {RTOL:g}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ved", required=True, help="the ved program")
    ap.add_argument("--work", required=True, help="scratch folder (emptied first)")
    a = ap.parse_args()
    work = Path(a.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    torch.set_num_threads(1)

    # 1. A tiny model on Hanford fields (69 x 54 Map2Grid image, 1475 cells, 17 conflicts).
    ved(a.ved, "generate", "--samples", 48, "--seed", 1, "--modes", 30, "--sigma", 1.5, "--length", 0.03,
        "--threads", 1, "--out", work / "data.h5")
    ved(a.ved, "train", "--data", work / "data.h5", "--out", work / "run", "--epochs", 2, "--latent", 3,
        "--encoder-stem", 4, "--encoder-stages", "8,8", "--decoder-hidden", 16, "--batch", 16, "--norm", "batch",
        "--threads", 1, "--quiet")
    ved(a.ved, "export", "--model", work / "run", "--out", work / "exported")

    # 2. ved's own predictions at z = mu(x) for raw inputs.
    with h5py.File(work / "data.h5", "r") as f:
        x = np.array(f["/x"][:12], dtype=np.float64)
    np.save(work / "x.npy", x)
    ved(a.ved, "predict", "--model", work / "run", "--input", work / "x.npy", "--samples", 0, "--out",
        work / "pred.npy")
    ved(a.ved, "predict", "--model", work / "run", "--input", work / "x.npy", "--samples", 0, "--out",
        work / "pred.h5")
    y_ref = np.load(work / "pred.npy")
    with h5py.File(work / "pred.h5", "r") as f:
        mu_ref, logvar_ref = np.array(f["/z_mu"]), np.array(f["/z_logvar"])

    # 3. The exported modules, with nothing but torch.
    extra = {"ved.json": ""}
    pred = torch.jit.load(str(work / "exported" / "predictor.pt"), _extra_files=extra)
    meta = json.loads(extra["ved.json"])
    assert meta == json.loads((work / "exported" / "export.json").read_text()), "ved.json differs from export.json"
    assert meta["input"]["kind"] == "grid_map" and meta["input"]["n_inputs"] == x.shape[1], meta["input"]
    encoder = torch.jit.load(str(work / "exported" / "encoder.pt"))
    decoder = torch.jit.load(str(work / "exported" / "decoder.pt"))
    xt = torch.from_numpy(x)
    with torch.no_grad():
        y = pred(xt)
        if y.dtype != torch.float64:
            failures.append(f"predictor(float64 x) gave {y.dtype}")
        expect_close("predictor(x) vs ved predict", y, y_ref)
        expect_close("predictor(float32 x) vs ved predict", pred(xt.float()).double(), y_ref)
        mu, logvar = pred.encode(xt)
        expect_close("predictor.encode(x) mu", mu, mu_ref)
        expect_close("predictor.encode(x) logvar", logvar, logvar_ref)
        expect_close("predictor.decode(mu)", pred.decode(torch.from_numpy(mu_ref)), y_ref)
        net_in = pred.preprocess(xt)
        if list(net_in.shape) != [x.shape[0]] + meta["input"]["network_shape"][1:]:
            failures.append(f"preprocess shape {list(net_in.shape)} vs {meta['input']['network_shape']}")
        mu2, logvar2 = encoder(net_in)
        expect_close("encoder(preprocess(x)) mu", mu2, mu_ref)
        expect_close("encoder(preprocess(x)) logvar", logvar2, logvar_ref)
        expect_close("decoder(mu)", decoder(torch.from_numpy(mu_ref)), y_ref)
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("ok: the exported TorchScript modules agree with ved predict")
    return 0


if __name__ == "__main__":
    sys.exit(main())
