#!/usr/bin/env python3
"""Architecture and optimisation study for ved's default model, in a PyTorch mirror of
ved's VED (src/ved/nn/model.cpp: same layers, initialisation, loss, Adam, per-epoch
cosine schedule, shuffled batches with the last partial one dropped, z = mu at test).

It exists to choose and justify the defaults of `ved train` (docs/model.md) quickly on a
GPU; the chosen default is then confirmed with ved itself on CPU.

usage: train_study.py DATA.npz OUT.jsonl [--variants a,b,...] [--seeds 1,2] [--device cuda]
       [--worker I/N]
DATA.npz: x [N, cells], y [N, m] float32, entry_cell/entry_pixel (Map2Grid), hw = [H, W].
Rows 0:3000 are the training pool, 3000:4000 the test set (as in docs/model.md §5).
Prints and appends one JSON line per run: variant, seed, test rel_l2_fluct, r2, time.
"""
import argparse
import json
import math
import time

import numpy as np
import torch
import torch.nn as nn

BASE = dict(stem=16, stages=(16, 32, 64), blocks=1, kernel=3, enc_hidden=(), dec_hidden=(256, 256),
            act="relu", norm="none", latent=50, beta=1e-3, lam=1e-2, lr=1e-3, lr_min=1e-5, batch=64,
            epochs=150, n_train=2700, weight_decay=0.0, clip=0.0)

VARIANTS = {
    "ref": {},                                   # the default model on ved's default 90/10 split
    "ref_full3000": {"n_train": 3000},           # the default model exactly (no validation rows)
    "blocks2": {"blocks": 2},
    "wide": {"stem": 32, "stages": (32, 64, 128)},
    "enc_fc256": {"enc_hidden": (256,)},
    "dec_512": {"dec_hidden": (512, 512)},
    "dec_1x256": {"dec_hidden": (256,)},
    "dec_3x256": {"dec_hidden": (256, 256, 256)},
    "group_norm": {"norm": "group"},
    "batch_norm": {"norm": "batch"},
    "silu": {"act": "silu"},
    "gelu": {"act": "gelu"},
    "lr2e-3": {"lr": 2e-3},
    "lr5e-4": {"lr": 5e-4},
    "batch32": {"batch": 32},
    "batch128": {"batch": 128, "lr": 2e-3},
    "epochs300": {"epochs": 300},
    "wide_blocks2": {"stem": 32, "stages": (32, 64, 128), "blocks": 2},
    "stages4": {"stages": (16, 32, 64, 128)},
    "adamw1e-4": {"weight_decay": 1e-4},
    "beta0_lam0": {"beta": 0.0, "lam": 0.0},
}


def activation(name):
    return {"relu": nn.ReLU, "silu": nn.SiLU, "gelu": nn.GELU}[name]()


def norm_layer(kind, c):
    if kind == "batch":
        return nn.BatchNorm2d(c)
    if kind == "group":
        return nn.GroupNorm(min(8, c), c)
    return nn.Identity()


class Res(nn.Module):
    def __init__(self, c, k, act, norm):
        super().__init__()
        self.c1, self.n1 = nn.Conv2d(c, c, k, padding=k // 2), norm_layer(norm, c)
        self.c2, self.n2 = nn.Conv2d(c, c, k, padding=k // 2), norm_layer(norm, c)
        self.act = activation(act)

    def forward(self, x):
        return self.act(x + self.n2(self.c2(self.act(self.n1(self.c1(x))))))


class Ved(nn.Module):
    def __init__(self, cfg, hw, m):
        super().__init__()
        k, act = cfg["kernel"], cfg["act"]
        layers = [nn.Conv2d(1, cfg["stem"], k, 2, k // 2), norm_layer(cfg["norm"], cfg["stem"]), activation(act)]
        c, h, w = cfg["stem"], (hw[0] - 1) // 2 + 1, (hw[1] - 1) // 2 + 1
        for out in cfg["stages"]:
            layers += [Res(c, k, act, cfg["norm"]) for _ in range(cfg["blocks"])]
            layers += [nn.Conv2d(c, out, k, 2, k // 2), norm_layer(cfg["norm"], out), activation(act)]
            c, h, w = out, (h - 1) // 2 + 1, (w - 1) // 2 + 1
        layers.append(nn.Flatten())
        f = c * h * w
        for hdim in cfg["enc_hidden"]:
            layers += [nn.Linear(f, hdim), activation(act)]
            f = hdim
        self.enc = nn.Sequential(*layers)
        self.head = nn.Linear(f, 2 * cfg["latent"])
        dec, f = [], cfg["latent"]
        for hdim in cfg["dec_hidden"]:
            dec += [nn.Linear(f, hdim), activation(act)]
            f = hdim
        dec.append(nn.Linear(f, m))
        self.dec = nn.Sequential(*dec)
        self.r = cfg["latent"]

    def encode(self, x):
        o = self.head(self.enc(x))
        return o[:, :self.r], o[:, self.r:].clamp(-20, 10)


def ved_loss(yp, y, mu, lv, beta, lam):
    b = y.shape[0]
    rec = (yp - y).square().sum() / b
    kl = 0.5 * (mu.square() + lv.exp() - lv - 1).sum() / b
    mc = mu - mu.mean(0, keepdim=True)
    c = mc.t() @ mc / (b - 1) + torch.diag(lv.exp().mean(0))
    d = torch.diagonal(c)
    cov = (c - torch.diag(d)).square().sum() + (d - 1).square().sum()
    return rec + beta * kl + lam * cov


def run(cfg, seed, data, device):
    x, y, ec, ep, (H, W) = data
    rng = np.random.default_rng(seed)
    pool = rng.permutation(3000)
    train = np.sort(pool[:cfg["n_train"]])
    test = np.arange(3000, 4000)
    xm, xs = x[train].mean(0), x[train].std(0)
    ym, ys = y[train].mean(0), y[train].std(0)
    xz = (x - xm) / xs
    img = np.zeros((x.shape[0], H * W), np.float32)
    cnt = np.bincount(ep, minlength=H * W).astype(np.float32)
    np.add.at(img.T, ep, xz.T[ec])
    img[:, cnt > 0] /= cnt[cnt > 0]
    X = torch.tensor(img.reshape(-1, 1, H, W), device=device)
    Y = torch.tensor((y - ym) / ys, device=device)
    torch.manual_seed(seed)
    model = Ved(cfg, (H, W), y.shape[1]).to(device)
    if cfg["weight_decay"] > 0:
        opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    else:
        opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    tr = torch.tensor(train, device=device)
    nb = len(train) // cfg["batch"]
    g = torch.Generator(device=device)
    g.manual_seed(seed)
    t0 = time.time()
    for e in range(cfg["epochs"]):
        lr = cfg["lr_min"] + (cfg["lr"] - cfg["lr_min"]) * 0.5 * (1 + math.cos(math.pi * e / cfg["epochs"]))
        for grp in opt.param_groups:
            grp["lr"] = lr
        model.train()
        perm = tr[torch.randperm(len(train), device=device, generator=g)]
        for b in range(nb):
            idx = perm[b * cfg["batch"]:(b + 1) * cfg["batch"]]
            xb, yb = X[idx], Y[idx]
            mu, lv = model.encode(xb)
            z = mu + torch.exp(0.5 * lv) * torch.randn(mu.shape, device=device, generator=g)
            loss = ved_loss(model.dec(z), yb, mu, lv, cfg["beta"], cfg["lam"])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if cfg["clip"] > 0:
                nn.utils.clip_grad_norm_(model.parameters(), cfg["clip"])
            opt.step()
    model.eval()
    with torch.no_grad():
        mu, _ = model.encode(X[torch.tensor(test, device=device)])
        yp = model.dec(mu).cpu().numpy() * ys + ym
    yt = y[test]
    err2 = ((yp - yt) ** 2).sum()
    fluct = ((yt - ym) ** 2).sum()
    r2 = np.mean(1 - ((yp - yt) ** 2).sum(0) / ((yt - yt.mean(0)) ** 2).sum(0))
    params = sum(p.numel() for p in model.parameters())
    return dict(rel_l2_fluct=float(np.sqrt(err2 / fluct)), r2=float(r2), params=params, seconds=time.time() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("out")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--seeds", default="1,2")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--worker", default="0/1")
    a = ap.parse_args()
    d = np.load(a.data)
    data = (d["x"], d["y"], d["entry_cell"], d["entry_pixel"], tuple(d["hw"]))
    jobs = [(v, int(s)) for v in a.variants.split(",") for s in a.seeds.split(",")]
    wi, wn = map(int, a.worker.split("/"))
    for i, (v, s) in enumerate(jobs):
        if i % wn != wi:
            continue
        cfg = dict(BASE, **VARIANTS[v])
        res = dict(variant=v, seed=s, **run(cfg, s, data, a.device))
        line = json.dumps(res)
        print(line, flush=True)
        with open(a.out, "a") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
