#!/usr/bin/env python3
"""Writes the large sparse models of the benchmarks as `.sir` files with
their data (`.npy`), for `saddle laplace` and for the JAX/TMB comparisons.

    python3 bench/sparse_models.py OUTDIR

Models (Poisson counts on a log link over a Gaussian latent field x):
  ar1_D        x an AR(1) series (coefficient 0.7), D = 10^3, 4·10^3, 10^5, 10^6
  grid_N       x a 2-D intrinsic GMRF on an N×N grid (4-neighbour) plus a
               small ridge, N = 100, 300
  ar1_4d       x a separable AR(1) field on an 8^4 lattice (TMB's ar1_4D):
               precision Q⊗Q⊗Q⊗Q, an 81-point stencil

Each model M gets M.sir, M_y.npy and M_init.npy; the command line is
    saddle laplace M.sir --init '"@M_init.npy"' --data '["@M_y.npy"]' --json
Needs numpy (only to write .npy files).
"""
import os
import sys

import numpy as np

RHO = 0.7


def poisson_counts(rate, seed):
    return np.random.default_rng(seed).poisson(rate).astype(np.float64)


def write(outdir, name, text, y):
    with open(os.path.join(outdir, name + ".sir"), "w") as f:
        f.write(text)
    np.save(os.path.join(outdir, name + "_y.npy"), y)
    np.save(os.path.join(outdir, name + "_init.npy"), np.zeros(y.size))


def ar1(d):
    n = d - 1
    s = (1 - RHO * RHO) ** 0.5
    return f"""# Poisson counts y over an AR(1) latent field x (coefficient {RHO}).
func @ar1_poisson(%x: f64[{d}], %y: f64[{d}]) -> f64[] {{
  %yx: f64[{d}] = mul %y, %x
  %ex: f64[{d}] = exp %x
  %t: f64[{d}] = sub %yx, %ex
  %lik: f64[] = reduce_sum %t {{axes = [0]}}
  %a: f64[{n}] = slice %x {{start = [1], limit = [{d}]}}
  %b: f64[{n}] = slice %x {{start = [0], limit = [{n}]}}
  %rho: f64[{n}] = const {{value = {RHO}}}
  %rb: f64[{n}] = mul %rho, %b
  %e: f64[{n}] = sub %a, %rb
  %e2: f64[{n}] = mul %e, %e
  %q: f64[] = reduce_sum %e2 {{axes = [0]}}
  %x0: f64[1] = slice %x {{start = [0], limit = [1]}}
  %s: f64[1] = const {{value = {s}}}
  %z0: f64[1] = mul %s, %x0
  %z2: f64[1] = mul %z0, %z0
  %q0: f64[] = reduce_sum %z2 {{axes = [0]}}
  %qq: f64[] = add %q, %q0
  %half: f64[] = const {{value = -0.5}}
  %prior: f64[] = mul %half, %qq
  %lp: f64[] = add %lik, %prior
  return %lp
}}
"""


def grid(n):
    d = n * n
    m = n - 1
    return f"""# Poisson counts y over a 2-D GMRF on a {n}x{n} grid: 4-neighbour
# differences plus a ridge of 0.01.
func @grid_poisson(%x: f64[{d}], %y: f64[{d}]) -> f64[] {{
  %yx: f64[{d}] = mul %y, %x
  %ex: f64[{d}] = exp %x
  %t: f64[{d}] = sub %yx, %ex
  %lik: f64[] = reduce_sum %t {{axes = [0]}}
  %g: f64[{n},{n}] = reshape %x {{shape = [{n}, {n}]}}
  %r1: f64[{m},{n}] = slice %g {{start = [1, 0], limit = [{n}, {n}]}}
  %r0: f64[{m},{n}] = slice %g {{start = [0, 0], limit = [{m}, {n}]}}
  %dr: f64[{m},{n}] = sub %r1, %r0
  %dr2: f64[{m},{n}] = mul %dr, %dr
  %qr: f64[] = reduce_sum %dr2 {{axes = [0, 1]}}
  %c1: f64[{n},{m}] = slice %g {{start = [0, 1], limit = [{n}, {n}]}}
  %c0: f64[{n},{m}] = slice %g {{start = [0, 0], limit = [{n}, {m}]}}
  %dc: f64[{n},{m}] = sub %c1, %c0
  %dc2: f64[{n},{m}] = mul %dc, %dc
  %qc: f64[] = reduce_sum %dc2 {{axes = [0, 1]}}
  %x2: f64[{d}] = mul %x, %x
  %qx: f64[] = reduce_sum %x2 {{axes = [0]}}
  %ridge: f64[] = const {{value = 0.01}}
  %qxr: f64[] = mul %ridge, %qx
  %q1: f64[] = add %qr, %qc
  %q: f64[] = add %q1, %qxr
  %half: f64[] = const {{value = -0.5}}
  %prior: f64[] = mul %half, %q
  %lp: f64[] = add %lik, %prior
  return %lp
}}
"""


def ar1_4d(k=8):
    d = k ** 4
    s = (1 - RHO * RHO) ** 0.5
    shape = [k] * 4
    lines = [
        f"# Poisson counts over a separable AR(1) field on a {k}^4 lattice (TMB's ar1_4D):",
        "# x'(Q⊗Q⊗Q⊗Q)x = |(L⊗L⊗L⊗L)x|² with L the AR(1) innovation operator.",
        f"func @ar1_4d(%x: f64[{d}], %y: f64[{d}]) -> f64[] {{",
        f"  %yx: f64[{d}] = mul %y, %x",
        f"  %ex: f64[{d}] = exp %x",
        f"  %t: f64[{d}] = sub %yx, %ex",
        f"  %lik: f64[] = reduce_sum %t {{axes = [0]}}",
        f"  %v0: f64[{k},{k},{k},{k}] = reshape %x {{shape = [{k}, {k}, {k}, {k}]}}",
    ]
    full = ",".join(str(v) for v in shape)
    for ax in range(4):
        def sl(name, lo, hi):
            st = [0] * 4
            lim = list(shape)
            st[ax] = lo
            lim[ax] = hi
            sh = list(shape)
            sh[ax] = hi - lo
            shs = ",".join(map(str, sh))
            return (f"  %{name}: f64[{shs}] = slice %v{ax} {{start = {st}, limit = {lim}}}", shs)
        l0, sh0 = sl(f"h{ax}", 0, 1)
        la, sha = sl(f"a{ax}", 1, k)
        lb, _ = sl(f"b{ax}", 0, k - 1)
        lines += [
            l0,
            f"  %s{ax}: f64[{sh0}] = const {{value = {s}}}",
            f"  %f{ax}: f64[{sh0}] = mul %s{ax}, %h{ax}",
            la,
            lb,
            f"  %r{ax}: f64[{sha}] = const {{value = {RHO}}}",
            f"  %rb{ax}: f64[{sha}] = mul %r{ax}, %b{ax}",
            f"  %e{ax}: f64[{sha}] = sub %a{ax}, %rb{ax}",
            f"  %v{ax + 1}: f64[{full}] = concatenate %f{ax}, %e{ax} {{axis = {ax}}}",
        ]
    lines += [
        f"  %w: f64[{full}] = mul %v4, %v4",
        "  %q: f64[] = reduce_sum %w {axes = [0, 1, 2, 3]}",
        "  %half: f64[] = const {value = -0.5}",
        "  %prior: f64[] = mul %half, %q",
        "  %lp: f64[] = add %lik, %prior",
        "  return %lp",
        "}",
    ]
    return "\n".join(lines) + "\n"


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else "target/sparse_models"
    os.makedirs(outdir, exist_ok=True)
    for d in [1000, 4000, 100_000, 1_000_000]:
        t = np.arange(d)
        write(outdir, f"ar1_{d}", ar1(d), poisson_counts(np.exp(0.5 * np.sin(t / 50.0)), d))
    for n in [100, 300]:
        i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        rate = np.exp(np.sin(i / 15.0) * np.cos(j / 20.0)).ravel()
        write(outdir, f"grid_{n}", grid(n), poisson_counts(rate, n))
    write(outdir, "ar1_4d", ar1_4d(), poisson_counts(np.ones(8 ** 4), 4))
    print(outdir)


if __name__ == "__main__":
    main()
