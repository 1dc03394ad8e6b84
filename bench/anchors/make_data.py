#!/usr/bin/env python3
"""Simulated data of the anchor workloads, from fixed seeds, as NumPy .npy files.

Pure Python (no NumPy needed): writes under crates/laplace/tests/data/anchors/
  ar1_4d_y.npy          f64[4096]  Poisson counts on an 8^4 lattice
  thetalog_y.npy        f64[200]   noisy log-population series
  poisson_glmm_y.npy    i32[n]     counts
  poisson_glmm_group.npy i32[n]    group of each row, 0..1999
  poisson_glmm_x1.npy   i32[n]     row-level 0/1 covariate
  poisson_glmm_x2.npy   f64[2000]  group-level covariate (multiples of 1/8)
  orange_big_y.npy      f64[35000] trunk circumferences, tree-major: y[7 i + j] of tree i at age t[j]
  orange_big_t.npy      f64[7]     the ages (days) of the orange-tree data
The instEval files come from lme4's InstEval through bench/anchors/insteval_data.R.
Run from the repository root: python3 bench/anchors/make_data.py
"""
import math
import os
import random
import struct

OUT = "crates/laplace/tests/data/anchors"


def write_npy(path, values, dtype):
    """A version-1.0 .npy file of a 1-D array: dtype 'f8' or 'i4', little-endian."""
    code, fmt = {"f8": ("<f8", "d"), "i4": ("<i4", "i")}[dtype]
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%d,), }" % (code, len(values))
    pad = 64 - (10 + len(header) + 1) % 64
    header = header + " " * (pad % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        f.write(struct.pack("<%d%s" % (len(values), fmt), *values))


def poisson(r, lam):
    """Poisson draw by inversion of the CDF (lam is small here)."""
    u, k, p = r.random(), 0, math.exp(-lam)
    c = p
    while u > c and k < 10000:
        k += 1
        p *= lam / k
        c += p
    return k


def ar1_4d(r, phi=0.5, n=8):
    """A unit-variance separable AR(1) field: the AR(1) recursion along each axis in turn."""
    size = n**4
    x = [r.gauss(0.0, 1.0) for _ in range(size)]
    s = math.sqrt(1.0 - phi * phi)
    for axis in range(4):
        stride = n ** (3 - axis)
        for i in range(size):
            t = (i // stride) % n
            if t > 0:
                x[i] = phi * x[i - stride] + s * x[i]
    return [float(poisson(r, math.exp(v))) for v in x]


def thetalog(r, steps=200, r0=0.5, theta=1.0, log_k=4.6, sd_q=0.1, sd_r=0.1, x0=3.0):
    """Theta-logistic growth on the log scale, observed with Gaussian noise."""
    xs, x = [], x0
    for t in range(steps):
        if t > 0:
            x = x + r0 * (1.0 - math.exp(theta * (x - log_k))) + r.gauss(0.0, sd_q)
        xs.append(x)
    return [v + r.gauss(0.0, sd_r) for v in xs]


def poisson_glmm(r, groups=2000, beta=(0.5, 0.3, -0.4), sd=0.7):
    """Random intercepts, a 0/1 row covariate and a group covariate; 5 to 15 rows per group."""
    x2 = [round(8.0 * r.gauss(0.0, 1.0)) / 8.0 for _ in range(groups)]
    u = [r.gauss(0.0, sd) for _ in range(groups)]
    y, group, x1 = [], [], []
    for g in range(groups):
        for _ in range(r.randint(5, 15)):
            a = 1 if r.random() < 0.5 else 0
            eta = beta[0] + beta[1] * a + beta[2] * x2[g] + u[g]
            y.append(poisson(r, math.exp(eta)))
            group.append(g)
            x1.append(a)
    return y, group, x1, x2


ORANGE_AGES = (118.0, 484.0, 664.0, 1004.0, 1231.0, 1372.0, 1582.0)


def orange_big(r, trees=5000, beta=(192.0, 726.0, 356.0), sd_u=31.5, sd=7.85):
    """Logistic growth with a random asymptote per tree, observed at the 7 ages:
    y = (beta0 + u_i) / (1 + exp(-(t - beta1) / beta2)) + N(0, sd^2), u_i ~ N(0, sd_u^2).
    Observations are rounded to 1e-3."""
    y = []
    for _ in range(trees):
        a = beta[0] + r.gauss(0.0, sd_u)
        for t in ORANGE_AGES:
            f = a / (1.0 + math.exp(-(t - beta[1]) / beta[2]))
            y.append(round(f + r.gauss(0.0, sd), 3))
    return y


def main():
    os.makedirs(OUT, exist_ok=True)
    write_npy(os.path.join(OUT, "ar1_4d_y.npy"), ar1_4d(random.Random(41)), "f8")
    write_npy(os.path.join(OUT, "thetalog_y.npy"), thetalog(random.Random(42)), "f8")
    y, group, x1, x2 = poisson_glmm(random.Random(43))
    write_npy(os.path.join(OUT, "poisson_glmm_y.npy"), y, "i4")
    write_npy(os.path.join(OUT, "poisson_glmm_group.npy"), group, "i4")
    write_npy(os.path.join(OUT, "poisson_glmm_x1.npy"), x1, "i4")
    write_npy(os.path.join(OUT, "poisson_glmm_x2.npy"), x2, "f8")
    print("poisson_glmm rows", len(y))
    write_npy(os.path.join(OUT, "orange_big_y.npy"), orange_big(random.Random(44)), "f8")
    write_npy(os.path.join(OUT, "orange_big_t.npy"), list(ORANGE_AGES), "f8")


if __name__ == "__main__":
    main()
