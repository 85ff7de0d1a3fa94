#!/usr/bin/env python3
"""PyTorch eager reference for the training benchmark: the default model (docs/method.md §3) (conv encoder on a
1x69x54 image, r = 50, FC decoder 256-256-323; 343,351 parameters), Adam, the VED loss
(REC + beta KL + lambda COV), data resident on the device, mini-batches gathered by index.

usage: train_reference.py --device cpu|cuda --batches 64,256 --steps 100 --threads 1 [--precision bf16]
Prints one JSON object: samples/s per batch size.
"""
import argparse
import json
import time

import torch
import torch.nn as nn


class Res(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c1 = nn.Conv2d(c, c, 3, padding=1)
        self.c2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return torch.relu(x + self.c2(torch.relu(self.c1(x))))


class Ved(nn.Module):
    def __init__(self, r=50, m=323):
        super().__init__()
        layers = [nn.Conv2d(1, 16, 3, 2, 1), nn.ReLU()]
        cin = 16
        for c in (16, 32, 64):
            layers += [Res(cin), nn.Conv2d(cin, c, 3, 2, 1), nn.ReLU()]
            cin = c
        self.enc = nn.Sequential(*layers, nn.Flatten())
        self.head = nn.Linear(64 * 5 * 4, 2 * r)
        self.dec = nn.Sequential(nn.Linear(r, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, m))
        self.r = r

    def forward(self, x, eps):
        h = self.head(self.enc(x))
        mu, logvar = h[:, : self.r], h[:, self.r :].clamp(-20, 10)
        z = mu + torch.exp(0.5 * logvar) * eps
        return self.dec(z), mu, logvar


def loss_fn(yp, y, mu, logvar, beta=1e-3, lam=1e-2):
    rec = ((yp - y) ** 2).sum(1).mean()
    kl = 0.5 * (mu ** 2 + logvar.exp() - logvar - 1).sum(1).mean()
    c = torch.cov(mu.T) + torch.diag(logvar.exp().mean(0))
    eye = torch.eye(c.shape[0], device=c.device)
    cov = ((c - eye) ** 2).sum()
    return rec + beta * kl + lam * cov


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batches", default="64,256")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--samples", type=int, default=8192)
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "tf32"])
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dev = torch.device(a.device)
    x = torch.randn(a.samples, 1, 69, 54, device=dev)
    y = torch.randn(a.samples, 323, device=dev)
    out = {"framework": f"pytorch {torch.__version__} eager", "device": a.device, "threads": a.threads,
           "precision": a.precision}
    if a.precision == "tf32":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    for b in [int(v) for v in a.batches.split(",")]:
        model = Ved().to(dev)
        out["parameters"] = sum(p.numel() for p in model.parameters())
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        perm = torch.randperm(a.samples, device=dev)

        def step(i):
            idx = perm[(i * b) % (a.samples - b):][:b]
            xb, yb = x.index_select(0, idx), y.index_select(0, idx)
            eps = torch.randn(b, 50, device=dev)
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=a.precision == "bf16"):
                yp, mu, lv = model(xb, eps)
            loss = loss_fn(yp.float(), yb, mu.float(), lv.float())
            opt.zero_grad(set_to_none=False)
            loss.backward()
            opt.step()

        for i in range(a.warmup):
            step(i)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for i in range(a.steps):
            step(i)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        out[f"samples_per_s_b{b}"] = a.steps * b / dt
        out[f"ms_per_step_b{b}"] = 1e3 * dt / a.steps
    print(json.dumps(out))


if __name__ == "__main__":
    main()
