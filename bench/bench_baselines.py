#!/usr/bin/python3
"""References for bench_baselines: CCA fit time in NumPy (the same algorithm as ved:
standardise, Cholesky whitening with a ridge, SVD of the whitened cross-covariance,
canonical directions and the nested least-squares decoder) and in scikit-learn
(sklearn.cross_decomposition.CCA, iterative). Prints one JSON line; writes NumPy's
canonical correlations so the C++ side can check agreement.

usage: bench_baselines.py X.npy Y.npy RIDGE SKLEARN_COMPONENTS RHO_OUT.npy
"""
import json
import sys
import time

import numpy as np
import scipy.linalg
from sklearn.cross_decomposition import CCA


def standardise(a):
    mean = a.mean(0)
    sd = a.std(0)
    sd[~(sd > 1e-12 * np.maximum(1.0, np.abs(mean)))] = 1.0
    return (a - mean) / sd


def numpy_cca(x, y, ridge):
    n_rows = x.shape[0]
    xs, ys = standardise(x), standardise(y)
    cxx = xs.T @ xs / n_rows + ridge * np.eye(xs.shape[1])
    cyy = ys.T @ ys / n_rows + ridge * np.eye(ys.shape[1])
    cxy = xs.T @ ys / n_rows
    lx = np.linalg.cholesky(cxx)
    ly = np.linalg.cholesky(cyy)
    k = scipy.linalg.solve_triangular(lx, cxy, lower=True)
    k = scipy.linalg.solve_triangular(ly, k.T, lower=True).T
    u, rho, vt = np.linalg.svd(k, full_matrices=False)
    a = scipy.linalg.solve_triangular(lx, u, lower=True, trans="T")  # encoder [n, k]
    g = n_rows * (np.eye(a.shape[1]) - ridge * a.T @ a)               # Z'Z
    zty = n_rows * (rho[:, None] * vt) @ ly.T                         # Z'Y
    lg = np.linalg.cholesky(g)
    orth = scipy.linalg.solve_triangular(lg, a.T, lower=True).T       # A L^-T
    coef = scipy.linalg.solve_triangular(lg, zty, lower=True)         # L^-1 Z'Y
    return rho, orth, coef


def main():
    x = np.load(sys.argv[1])
    y = np.load(sys.argv[2])
    ridge, n_sklearn, rho_out = float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]

    best = float("inf")
    for _ in range(5):  # best of 5, as on the C++ side
        t0 = time.perf_counter()
        rho, _, _ = numpy_cca(x, y, ridge)
        best = min(best, time.perf_counter() - t0)
    np.save(rho_out, rho)

    t0 = time.perf_counter()
    model = CCA(n_components=n_sklearn).fit(x, y)
    sklearn_s = time.perf_counter() - t0
    print(json.dumps({"numpy_fit_s": best, "sklearn_fit_s": sklearn_s,
                      "sklearn_n_iter": [int(i) for i in model.n_iter_]}))


if __name__ == "__main__":
    main()
