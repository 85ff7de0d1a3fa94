#!/usr/bin/env python3
"""The (beta, lambda) table of `ved condition`: trains small VEDs on generated Hanford data
and scores their conditional predictions on held-out realisations against the Gaussian
(shrinkage covariance) and PCA-prior baselines.

usage: condition_study.py VED OUT [--train 2000] [--test 100] [--wells 50] [--epochs 40]
                                  [--grid 0:0,1e-3:0,1e-3:1e-2] [--noise 0] [--seed 1]

Writes OUT/hanford.h5 (train rows 0:TRAIN, test rows after), OUT/observed.h5 (heads at
WELLS wells chosen at random with --seed, for each test case), OUT/runs/b<beta>_l<lambda>/,
OUT/condition_*.json and OUT/table.md. Steps whose output exists are skipped, so a rerun
continues an interrupted study. Needs numpy and h5py.
"""
import argparse, json, os, subprocess, sys, time
import h5py
import numpy as np

p = argparse.ArgumentParser()
p.add_argument("ved")
p.add_argument("out")
p.add_argument("--train", type=int, default=2000)
p.add_argument("--test", type=int, default=100)
p.add_argument("--wells", type=int, default=50)
p.add_argument("--epochs", type=int, default=40)
p.add_argument("--grid", default="0:0,1e-3:0,1e-3:1e-2")
p.add_argument("--noise", type=float, default=0.0)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--latent", type=int, default=50)
p.add_argument("--threads", type=int, default=0)
p.add_argument("--condition-args", default="", help="extra arguments for ved condition")
a = p.parse_args()
os.makedirs(f"{a.out}/runs", exist_ok=True)

def run(cmd):
    print("+", " ".join(cmd), flush=True)
    t0 = time.time()
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    return out, time.time() - t0

data = f"{a.out}/hanford.h5"
n = a.train + a.test
if not os.path.exists(data):
    run([a.ved, "generate", "--samples", str(n), "--seed", str(a.seed), "--out", data])
obs = f"{a.out}/observed.h5"
with h5py.File(data, "r") as f:
    y_test = f["/y"][a.train:n]
if not os.path.exists(obs):
    rng = np.random.default_rng(a.seed)
    idx = np.sort(rng.choice(y_test.shape[1], a.wells, replace=False)).astype(np.int64)
    with h5py.File(obs, "w") as f:
        f["/index"] = idx
        f["/value"] = y_test[:, idx]

rows = []
for cell in a.grid.split(","):
    beta, lam = cell.split(":")
    run_dir = f"{a.out}/runs/b{beta}_l{lam}"
    if not os.path.exists(f"{run_dir}/model.h5"):
        _, secs = run([a.ved, "train", "--data", data, "--rows", f"0:{a.train}", "--latent", str(a.latent),
                       "--beta", beta, "--lambda", lam, "--epochs", str(a.epochs), "--seed", str(a.seed),
                       "--threads", str(a.threads), "--quiet", "--out", run_dir])
        print(f"  trained in {secs:.0f} s", flush=True)
    result = f"{a.out}/condition_b{beta}_l{lam}.json"
    if not os.path.exists(result):
        out, secs = run([a.ved, "condition", "--model", run_dir, "--observed", obs, "--noise", str(a.noise),
                         "--truth", data, "--rows", f"{a.train}:{n}", "--threads", str(a.threads), "--json",
                         "--out", f"{a.out}/condition_b{beta}_l{lam}.h5"] + a.condition_args.split())
        j = json.loads(out.strip().splitlines()[-1])
        j["wall_s"] = secs
        json.dump(j, open(result, "w"), indent=1)
    rows.append((beta, lam, json.load(open(result))))

lines = [f"Hanford, {a.train} training realisations, {a.test} held-out cases, heads at {a.wells} of 323 wells "
         f"observed (noise {a.noise}), scored on the {323 - a.wells} unobserved wells.", "",
         "| method | beta | lambda | rel. L2 (fluct.) | CRPS [m] | 50% coverage | 90% coverage | 90% width [m] | ESS min | R-hat max | acceptance |",
         "|---|---|---|---|---|---|---|---|---|---|---|"]
def fmt(m):
    return (f"{m['rel_l2_fluct']:.3f} | {m['crps']:.4f} | {m['coverage50']:.2f} | {m['coverage90']:.2f} | "
            f"{m['width90']:.3f}")
for beta, lam, j in rows:
    lines.append(f"| VED (HMC) | {beta} | {lam} | {fmt(j['methods']['ved'])} | {j['ess_min']:.0f} | "
                 f"{j['rhat_max']:.3f} | {j['accept_mean']:.2f} |")
j = rows[0][2]
for name, label in (("gaussian", "Gaussian, Ledoit-Wolf covariance"), ("pca", f"Gaussian, PCA prior r = {j['pca_rank']}")):
    if name in j["methods"]:
        lines.append(f"| {label} | | | {fmt(j['methods'][name])} | | | |")
open(f"{a.out}/table.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
