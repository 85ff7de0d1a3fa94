#!/usr/bin/python3
"""ved's network and loss against a PyTorch definition written from docs/method.md §2-§3,
loaded with the weights ved trained (model.h5, /params and /buffers):

  * forward pass: encoder mu, log sigma^2 and decoder output at z = mu for the user's raw
    inputs, standardised with the statistics stored in model.h5, against `ved predict`;
  * loss: REC, KL, COV_od, COV_d and the weighted total on the validation rows, computed
    here in float64, against the last epoch's val_* terms in train.jsonl.

Two small models on synthetic 12 x 10 images: the conv encoder without normalisation (relu),
and one with batch norm, two blocks per stage, an encoder FC layer and silu.

    /usr/bin/python3 tests/reference/check_torch_reference.py --ved build/apps/ved/ved --work /tmp/ref

Exit status 0: ved agrees with PyTorch to float32 tolerance; 1: it does not (or a ved
command failed, or a module is installed but broken); 77: skipped, with the reason printed,
when this interpreter has no numpy, h5py or torch module (Debian: apt-get install
python3-torch python3-h5py).
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
    import torch.nn.functional as F
except ModuleNotFoundError as e:
    if e.name not in ("h5py", "numpy", "torch"):
        raise
    print(f"skipped: {sys.executable} has no module '{e.name}' (Debian: apt-get install python3-{e.name})")
    sys.exit(77)

RTOL = 2e-5  # of the largest magnitude; both networks run in float32

failures = []


def ved(binary, *args):
    cmd = [binary, *map(str, args)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stdout}{r.stderr}")
        sys.exit(1)
    return r.stdout


def expect_close(name, got, want, rtol=RTOL):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        failures.append(f"{name}: shape {got.shape}, expected {want.shape}")
        return
    err = float(np.max(np.abs(got - want)) / max(1e-12, float(np.max(np.abs(want)))))
    print(f"  {name}: max relative difference {err:.2e}")
    if not err <= rtol:
        failures.append(f"{name}: max relative difference {err:.2e} > {rtol:g}")


def act(name):
    return {"relu": F.relu, "leaky_relu": lambda x: F.leaky_relu(x, 0.01), "elu": F.elu,
            "gelu": lambda x: F.gelu(x), "silu": F.silu, "tanh": torch.tanh}[name]


class Reference:
    """The VED of docs/method.md §3, evaluated functionally from a dict of named tensors:
    stride-2 stem conv; per stage `blocks` residual blocks x -> act(x + conv(act(conv(x))))
    at the incoming width, then a stride-2 conv to the stage's width; optional FC layers;
    a linear head giving [mu, log sigma^2] (clamped); an FC decoder. Padding kernel // 2;
    normalisation (batch: running statistics, as in evaluation) after each conv."""

    def __init__(self, cfg, params, buffers):
        self.c, self.p, self.b = cfg, params, buffers
        self.a = act(cfg["activation"])

    def norm(self, name, h):
        kind = self.c["norm"]
        if kind == "none":
            return h
        if kind == "batch":
            return F.batch_norm(h, self.b[name + ".running_mean"], self.b[name + ".running_var"],
                                self.p[name + ".weight"], self.p[name + ".bias"], False, 0.0, 1e-5)
        return F.group_norm(h, min(8, h.shape[1]), self.p[name + ".weight"], self.p[name + ".bias"], 1e-5)

    def conv(self, name, h, stride):
        w = self.p[name + ".weight"]
        return F.conv2d(h, w, self.p[name + ".bias"], stride=stride, padding=w.shape[-1] // 2)

    def encode(self, x):
        c, a = self.c, self.a
        h = x
        if c["encoder"] == "conv":
            h = a(self.norm("stem_norm", self.conv("stem", h, 2)))
            for s in range(len(c["stages"])):
                for k in range(c["blocks"]):
                    blk = f"stage{s}_block{k}"
                    g = a(self.norm(blk + ".norm1", self.conv(blk + ".conv1", h, 1)))
                    g = self.norm(blk + ".norm2", self.conv(blk + ".conv2", g, 1))
                    h = a(h + g)
                h = a(self.norm(f"stage{s}_down_norm", self.conv(f"stage{s}_down", h, 2)))
            h = h.flatten(1)
        for i in range(len(c["encoder_hidden"])):
            h = a(F.linear(h, self.p[f"encoder_fc{i}.weight"], self.p[f"encoder_fc{i}.bias"]))
        out = F.linear(h, self.p["head.weight"], self.p["head.bias"])
        r = c["latent"]
        return out[:, :r], out[:, r:].clamp(c["logvar_min"], c["logvar_max"])

    def decode(self, z):
        h = z
        for i in range(len(self.c["decoder_hidden"])):
            h = self.a(F.linear(h, self.p[f"decoder_fc{i}.weight"], self.p[f"decoder_fc{i}.bias"]))
        return F.linear(h, self.p["decoder_out.weight"], self.p["decoder_out.bias"])


def read_group(f, group):
    out = {}
    if group in f:
        f[group].visititems(lambda name, obj: out.__setitem__(name.replace("/", "."), torch.from_numpy(np.asarray(obj[()])))
                            if isinstance(obj, h5py.Dataset) else None)
    return out


def loss_terms(y_hat, y, mu, logvar):
    """docs/method.md §2, float64 numpy: REC, KL, COV_od, COV_d over a batch."""
    b = y.shape[0]
    rec = ((y_hat - y) ** 2).sum(1).mean()
    kl = (0.5 * (mu ** 2 + np.exp(logvar) - logvar - 1).sum(1)).mean()
    m = mu - mu.mean(0)
    c = m.T @ m / (b - 1) + np.diag(np.exp(logvar).mean(0))
    off = c - np.diag(np.diag(c))
    return rec, kl, float((off ** 2).sum()), float(((np.diag(c) - 1) ** 2).sum())


def check_model(binary, work, name, x, train_args, beta, lam_od, lam_d):
    print(f"{name}: ved train {' '.join(map(str, train_args))}")
    run = work / name
    ved(binary, "train", "--x", work / "x.npy", "--y", work / "y.npy", "--out", run, "--epochs", 3, "--batch", 16,
        "--val-fraction", 0.25, "--beta", beta, "--lambda-offdiag", lam_od, "--lambda-diag", lam_d, "--threads", 1,
        "--quiet", *train_args)
    with h5py.File(run / "model.h5", "r") as f:
        cfg = json.loads(f.attrs["model_config"])
        params, buffers = read_group(f, "params"), read_group(f, "buffers")
        in_mean, in_scale = f["/input/mean"][:], f["/input/scale"][:]
        out_mean, out_scale = f["/output/mean"][:], f["/output/scale"][:]
        val = f["/split/val"][:].astype(int)
    net = Reference(cfg, params, buffers)
    n, h, w = x.shape
    xs = torch.from_numpy(((x.reshape(n, -1) - in_mean) / in_scale).astype(np.float32)).reshape(n, 1, h, w)
    with torch.no_grad():
        mu, logvar = net.encode(xs)
        y_std = net.decode(mu)
    mu, logvar, y_std = mu.double().numpy(), logvar.double().numpy(), y_std.double().numpy()

    # Forward pass: raw inputs through `ved predict`.
    ved(binary, "predict", "--model", run, "--input", work / "x.npy", "--samples", 0, "--out", run / "pred.h5")
    with h5py.File(run / "pred.h5", "r") as f:
        expect_close("predict z_mu", f["/z_mu"][:], mu)
        expect_close("predict z_logvar", f["/z_logvar"][:], logvar)
        y_key = "y_mu"  # the decoder at z = mu
        expect_close(f"predict /{y_key}", f[y_key][:], y_std * out_scale + out_mean)

    # Loss: the validation terms of the last epoch (z = mu, full beta, standardised y).
    y = np.load(work / "y.npy")
    rec, kl, cod, cd = loss_terms(y_std[val], ((y - out_mean) / out_scale)[val], mu[val], logvar[val])
    with open(run / "train.jsonl") as f:
        last = json.loads(f.read().splitlines()[-1])
    for term, value in [("val_rec", rec), ("val_kl", kl), ("val_cov_offdiag", cod), ("val_cov_diag", cd),
                        ("val_loss", rec + beta * kl + lam_od * cod + lam_d * cd)]:
        expect_close(f"train.jsonl {term} ({last[term]:.6g} vs {value:.6g})", last[term], value, 1e-4)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ved", required=True, help="the ved program")
    ap.add_argument("--work", required=True, help="scratch folder (emptied first)")
    a = ap.parse_args()
    work = Path(a.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    torch.set_num_threads(1)

    # Images showing three factors, outputs a smooth function of them (about 100 + O(1)).
    rng = np.random.default_rng(7)
    n, h, w = 96, 12, 10
    f = rng.standard_normal((n, 3))
    u, v = np.meshgrid((np.arange(h) + 0.5) / h, (np.arange(w) + 0.5) / w, indexing="ij")
    x = (f[:, 0, None, None] * np.sin(3.1 * u) + f[:, 1, None, None] * np.cos(2.7 * v)
         + f[:, 2, None, None] * (u - 0.5) * (v - 0.5) * 4 + 0.1 * rng.standard_normal((n, h, w)))
    j = np.arange(8)
    y = 100 + np.sin(j + 1.0) * f[:, :1] + np.cos(0.5 * j) * f[:, 1:2] + 0.3 * (j % 3) * f[:, 2:] + 0.3 * f[:, :1] * f[:, 1:2]
    np.save(work / "x.npy", x)
    np.save(work / "y.npy", y)

    check_model(a.ved, work, "plain", x, ["--latent", 3, "--encoder-stem", 4, "--encoder-stages", "8,8",
                                          "--decoder-hidden", "32,16"], 0.01, 0.05, 0.02)
    check_model(a.ved, work, "batchnorm", x, ["--latent", 4, "--encoder-stem", 4, "--encoder-stages", "6,8",
                                              "--encoder-blocks", 2, "--norm", "batch", "--activation", "silu",
                                              "--encoder-hidden", 12, "--decoder-hidden", 16], 0.2, 0.1, 0.3)
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("ok: ved's forward pass and loss agree with the PyTorch reference")
    return 0


if __name__ == "__main__":
    sys.exit(main())
