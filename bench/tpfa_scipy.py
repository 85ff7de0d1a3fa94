#!/usr/bin/python3
"""SciPy reference for the Hanford TPFA solve: assembly + spsolve per field, the way the
dataset's authors generate their data. Prints one JSON line with timings, and writes the
heads so the C++ benchmark can check agreement. tests/reference/check_tpfa_scipy.py uses
the same solver (class Tpfa) as the test suite's independent reference for the heads.

usage: tpfa_scipy.py DATA_DIR FIELDS.npy N_FIELDS HEADS_OUT.npy
"""
import json
import sys
import time

import h5py
import numpy as np
import scipy.sparse as sps
import scipy.sparse.linalg as spla


def load(data_dir):
    with h5py.File(f"{data_dir}/geom_1x.mat", "r") as f:
        nb = f["faces/neighbors"][:].astype(int) - 1          # [2, F], -1 = none
        fc = f["faces/centroids"][:]                           # [2, F]
        fn = f["faces/normals"][:]                             # [2, F]
        cc = f["cells/centroids"][:]                           # [2, C]
    with h5py.File(f"{data_dir}/bc_1x.mat", "r") as f:
        idx = f["index"][:].ravel().astype(int) - 1
        kind = f["kind"][:].ravel()
        val = f["value"][:].ravel()
    return nb, fc, fn, cc, idx, kind, val


class Tpfa:
    """Two-point flux finite volumes on the MRST mesh: half-transmissibilities from the
    geometry (set up once), then one sparse system per field (`heads`)."""

    def __init__(self, data_dir):
        nb, fc, fn, cc, idx, kind, val = load(data_dir)
        self.n = n = cc.shape[1]
        interior = (nb[0] >= 0) & (nb[1] >= 0)
        self.c1, self.c2 = nb[0, interior], nb[1, interior]

        def half(c, faces, sign):
            d = fc[:, faces] - cc[:, c]
            return sign * np.sum(d * fn[:, faces], axis=0) / np.sum(d * d, axis=0)

        fi = np.nonzero(interior)[0]
        self.g1, self.g2 = half(self.c1, fi, 1.0), half(self.c2, fi, -1.0)
        self.bcell = np.maximum(nb[0, idx], nb[1, idx])
        bsign = np.where(nb[0, idx] >= 0, 1.0, -1.0)
        self.gb = half(self.bcell, idx, bsign)
        self.dmask, self.nmask = kind == ord("D"), kind == ord("N")
        self.val = val

    def heads(self, log_t):
        """Heads [cells] for one log-transmissivity field [cells]."""
        n, c1, c2, bcell, dmask, nmask = self.n, self.c1, self.c2, self.bcell, self.dmask, self.nmask
        t = np.exp(log_t)
        a1, a2 = self.g1 * t[c1], self.g2 * t[c2]
        tf = a1 * a2 / (a1 + a2)
        diag = np.bincount(c1, tf, n) + np.bincount(c2, tf, n)
        diag += np.bincount(bcell[dmask], self.gb[dmask] * t[bcell[dmask]], n)
        rhs = np.bincount(bcell[dmask], self.gb[dmask] * t[bcell[dmask]] * self.val[dmask], n)
        rhs += np.bincount(bcell[nmask], self.val[nmask], n)
        a = sps.csc_matrix((np.concatenate([-tf, -tf, diag]),
                            (np.concatenate([c1, c2, np.arange(n)]), np.concatenate([c2, c1, np.arange(n)]))),
                           shape=(n, n))
        return spla.spsolve(a, rhs)


def main():
    data_dir, fields_path, n_fields, heads_out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    fields = np.load(fields_path)[:n_fields]
    t0 = time.perf_counter()
    tpfa = Tpfa(data_dir)
    setup = time.perf_counter() - t0

    heads = np.empty_like(fields)
    t1 = time.perf_counter()
    for k in range(fields.shape[0]):
        heads[k] = tpfa.heads(fields[k])
    solve = time.perf_counter() - t1
    np.save(heads_out, heads)
    print(json.dumps({"fields": int(fields.shape[0]), "setup_s": setup, "solve_s": solve,
                      "ms_per_field": 1e3 * solve / fields.shape[0],
                      "solves_per_s": fields.shape[0] / solve}))


if __name__ == "__main__":
    main()
