#!/usr/bin/python3
"""The Hanford numbers the C++ tests hold fixed, computed here another way (NumPy, from the
shipped MRST files only), so that each has a source in the repository:

  Map2Grid (docs/method.md §4): a 69 x 54 image, 1,473 filled pixels, 17 cells drawn on a
      second pixel (tests/unit/grid/test_map2grid.cpp, test_cli_physics.cpp,
      test_ved_module.py). A plain breadth-first walk, printed for comparison, gives
      another image: the sweep order matters.
  Karhunen-Loeve (docs/method.md §6): with sigma = 1.62, length = 0.0316, the 1,000 leading
      eigenvalues of the 1,475 x 1,475 Matern-5/2 covariance hold 0.998 of its trace
      (tests/unit/field/test_random_field.cpp), by LAPACK's symmetric eigensolver.

    /usr/bin/python3 tests/reference/hanford_golden.py data/hanford

Prints each number; exit status 1 when one differs from the value the tests use, 77
(skipped, reason printed) when numpy or h5py is missing.
"""
import collections
import sys

try:
    import h5py
    import numpy as np
except ModuleNotFoundError as e:
    if e.name not in ("h5py", "numpy"):
        raise
    print(f"skipped: {sys.executable} has no module '{e.name}' (Debian: apt-get install python3-{e.name})")
    sys.exit(77)


def load_mesh(data_dir):
    with h5py.File(f"{data_dir}/geom_1x.mat", "r") as f:
        nb = f["faces/neighbors"][:].astype(int) - 1  # [2, faces], -1 = boundary
        cc = f["cells/centroids"][:]                   # [2, cells]
    n = cc.shape[1]
    adj = [set() for _ in range(n)]
    for a, b in nb.T:
        if a >= 0 and b >= 0:
            adj[a].add(b)
            adj[b].add(a)
    return cc, [sorted(s) for s in adj]


def step(cc, c, nb):
    dx, dy = cc[0, nb] - cc[0, c], cc[1, nb] - cc[1, c]
    assert abs(dx) != abs(dy), f"ambiguous step {c} -> {nb}"
    return (int(np.sign(dx)), 0) if abs(dx) > abs(dy) else (0, int(np.sign(dy)))


def image_stats(entries):
    """entries: (x, y) per drawn entry -> (height, width, filled pixels)."""
    xs, ys = [e[0] for e in entries], [e[1] for e in entries]
    return max(ys) - min(ys) + 1, max(xs) - min(xs) + 1, len(set(entries))


def sweep_walk(cc, adj):
    """The documented walk: sweeps over the cells in index order until nothing new is placed;
    a placed cell that a neighbour would put elsewhere is also drawn there."""
    n = len(adj)
    pos, second = {0: (0, 0)}, {}
    progress = True
    while len(pos) < n and progress:
        progress = False
        for c in range(n):
            if c not in pos:
                continue
            for nb in adj[c]:
                sx, sy = step(cc, c, nb)
                p = (pos[c][0] + sx, pos[c][1] + sy)
                if nb not in pos:
                    pos[nb] = p
                    progress = True
                elif p != pos[nb]:
                    second[nb] = p
    assert len(pos) == n, "mesh not connected"
    return list(pos.values()) + list(second.values()), len(second)


def bfs_walk(cc, adj):
    pos, queue = {0: (0, 0)}, collections.deque([0])
    while queue:
        c = queue.popleft()
        for nb in adj[c]:
            if nb not in pos:
                sx, sy = step(cc, c, nb)
                pos[nb] = (pos[c][0] + sx, pos[c][1] + sy)
                queue.append(nb)
    return list(pos.values())


def matern52(r, sigma, length):
    x = np.sqrt(5.0) * r / length
    return sigma ** 2 * (1 + x + x * x / 3) * np.exp(-x)


def main():
    data_dir = sys.argv[1] if len(sys.argv) > 1 else "data/hanford"
    cc, adj = load_mesh(data_dir)
    failures = []

    def check(name, got, want):
        print(f"{name}: {got}")
        if got != want:
            failures.append(f"{name} is {got}; the tests use {want}")

    entries, n_second = sweep_walk(cc, adj)
    h, w, filled = image_stats(entries)
    check("Map2Grid image (height, width)", (h, w), (69, 54))
    check("Map2Grid filled pixels", filled, 1473)
    check("Map2Grid cells on a second pixel", n_second, 17)
    h, w, filled = image_stats(bfs_walk(cc, adj))
    print(f"breadth-first walk instead (height, width, filled): {(h, w, filled)}")

    d = np.sqrt(((cc[:, :, None] - cc[:, None, :]) ** 2).sum(0))  # [cells, cells]
    ev = np.linalg.eigvalsh(matern52(d, 1.62, 0.0316))[::-1]
    fraction = ev[:1000].sum() / ev.sum()
    print(f"KL variance fraction, 1000 of {len(ev)} modes: {fraction:.5f}")
    if abs(fraction - 0.998) > 0.001:
        failures.append(f"KL variance fraction {fraction:.5f}; the tests use 0.998 +- 0.001")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("ok: the Hanford reference numbers hold")
    return 0


if __name__ == "__main__":
    sys.exit(main())
