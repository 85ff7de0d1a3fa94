#!/usr/bin/python3
"""A small part of the ved study on the Hanford model, from Python.

    PYTHONPATH=build/python /usr/bin/python3 examples/python/small_study.py --fast   # ~15 s
    PYTHONPATH=build/python /usr/bin/python3 examples/python/small_study.py          # 3000 rows, 30 epochs

Steps:
  1. the Hanford site and the random-field model of `ved generate` (Matérn-5/2 fitted to
     the shipped observations, truncated Karhunen-Loeve expansion);
  2. training and test log-transmissivity fields, heads at the 323 wells by the TPFA solver;
  3. linear baselines in NumPy: PCA(x) with r components + least squares, and the mean;
  4. a VED trained by the `ved` program on the same training rows (its `ved generate` file
     is checked to hold exactly the fields drawn here), loaded with ved.Model and scored on
     the same test rows, with the calibration of its predictive standard deviation.

Writes OUT/results.json with every number printed.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import h5py
import numpy as np

import ved


def rel_l2_fluct(y, y_hat, y_train_mean):
    """||(y - ybar) - (y_hat - ybar)||_F / ||y - ybar||_F, ybar the training mean (docs/method.md §9.1)."""
    return float(np.linalg.norm(y - y_hat) / np.linalg.norm(y - y_train_mean))


def pca_least_squares(x_train, y_train, x_test, r):
    """Project x onto its r leading principal directions, then fit y linearly on them."""
    x_mean, y_mean = x_train.mean(0), y_train.mean(0)
    _, _, vt = np.linalg.svd(x_train - x_mean, full_matrices=False)
    p = vt[:r].T                                  # [cells, r]
    z_train = (x_train - x_mean) @ p
    coef, *_ = np.linalg.lstsq(z_train, y_train - y_mean, rcond=None)
    return y_mean + ((x_test - x_mean) @ p) @ coef


def run(cmd):
    print("  $", " ".join(map(str, cmd)), flush=True)
    subprocess.run(list(map(str, cmd)), check=True, stdout=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fast", action="store_true", help="300/100 rows, 200 KL modes, a small VED trained 15 epochs (~15 s; for tests)")
    ap.add_argument("--ved", default="build/apps/ved/ved", help="the ved program (to train the VED)")
    ap.add_argument("--out", default="study-py", help="output folder (its train.h5 and run/ are replaced)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    n_train, n_test = (300, 100) if a.fast else (3000, 1000)
    modes = 200 if a.fast else 1000
    os.makedirs(a.out, exist_ok=True)
    results = {"n_train": n_train, "n_test": n_test, "modes": modes, "seed": a.seed}

    # 1. Site and random-field model (the fit `ved generate` makes, to yobs_100_1x.npy row 0).
    t0 = time.perf_counter()
    site = ved.load_site("hanford")
    rf = ved.RandomField(site, modes=modes)
    print(f"{site}: {rf}; KL keeps {100 * rf.variance_fraction:.1f} % of the variance")

    # 2. Fields and heads. Test rows continue the training streams (like `ved generate --first`).
    x_train = rf.sample(n_train, seed=a.seed, threads=a.threads)
    x_test = rf.sample(n_test, seed=a.seed, first=n_train, threads=a.threads)
    solver = ved.Solver(site)
    y_train = solver.solve_wells(x_train, threads=a.threads)   # [N, 323] heads at the wells
    y_test = solver.solve_wells(x_test, threads=a.threads)
    images = ved.grid_map(site).to_image(x_test[:4] - rf.mean)
    print(f"fields {x_train.shape} + {x_test.shape}, heads {y_train.min():.1f}-{y_train.max():.1f} m, "
          f"Map2Grid images {images.shape} ({time.perf_counter() - t0:.1f} s)")

    # 3. Linear baselines on the test rows.
    y_bar = y_train.mean(0)
    base = {"mean": rel_l2_fluct(y_test, np.broadcast_to(y_bar, y_test.shape), y_bar)}
    for r in (10, 50, 147):
        if r < n_train:
            base[f"pca_ls_r{r}"] = rel_l2_fluct(y_test, pca_least_squares(x_train, y_train, x_test, r), y_bar)
    results["baselines"] = base
    for k, v in base.items():
        print(f"  {k:14s} rel_l2_fluct {v:.3f}")

    # 4. A VED trained by the ved program on the same rows.
    if not ved.has_model or not os.path.exists(a.ved):
        print("ved was built without LibTorch or the ved program is missing: no VED", file=sys.stderr)
    else:
        data = os.path.join(a.out, "train.h5")
        run_dir = os.path.join(a.out, "run")
        shutil.rmtree(run_dir, ignore_errors=True)  # a rerun starts afresh (ved train refuses to overwrite a run)
        run([a.ved, "generate", "--samples", n_train, "--seed", a.seed, "--modes", modes,
             "--threads", a.threads, "--out", data])
        with h5py.File(data, "r") as f:
            gap = np.abs(f["x"][()] - x_train).max()
            np.testing.assert_allclose(f["y"][()], y_train, rtol=0, atol=1e-9)
        assert gap <= 1e-12, f"ved generate and ved.RandomField disagree by {gap}"
        if a.fast:
            model_args = ["--epochs", 15, "--latent", 10, "--encoder-stem", 8, "--encoder-stages", "8,16",
                          "--decoder-hidden", 64, "--batch", 16]
        else:
            model_args = ["--epochs", 30, "--latent", 50]
        run([a.ved, "train", "--data", data, "--out", run_dir, "--threads", a.threads, "--quiet", *model_args])
        model = ved.Model(run_dir, threads=a.threads)
        y_hat = model.predict(x_test)
        mean, std = model.predict_moments(x_test, samples=50, seed=1)
        inside = float(np.mean(np.abs(y_test - mean) <= 2 * std))
        results["ved"] = {"latent": model.latent, "parameters": model.parameters, "epochs": model.epoch,
                          "rel_l2_fluct": rel_l2_fluct(y_test, y_hat, y_bar),
                          "rel_l2_fluct_predictive_mean": rel_l2_fluct(y_test, mean, y_bar),
                          "within_2std": inside}
        v = results["ved"]
        print(f"  VED r={model.latent:<8d} rel_l2_fluct {v['rel_l2_fluct']:.3f} "
              f"({model.parameters} parameters, {model.epoch} epochs); {100 * inside:.0f} % of test heads "
              "within 2 predictive std")
        assert y_hat.shape == y_test.shape and np.all(np.isfinite(y_hat))

    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    print(f"-> {os.path.join(a.out, 'results.json')} ({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
