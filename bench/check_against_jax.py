"""Checks saddle's AD transformations against JAX's on the same functions.

For every `.sir` file given (default: tests/cases/*.sir), runs
`saddle opt -p PASS` for jvp, vjp, grad, value_and_grad, hessian, jacfwd,
jacrev and vmap, evaluates the transformed IR with the JAX interpreter of
`sir_jax.py`, and compares it with JAX's own transformation of the original
function at random points in [0.5, 2]. Prints one line per check and exits
non-zero on any mismatch.

    .venv/bin/python bench/check_against_jax.py [--saddle target/release/saddle] [FILE.sir ...]
"""

import argparse
import glob
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import sir_jax  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def transformed(saddle, path, p):
    out = subprocess.run([saddle, "opt", path, "-p", p], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"saddle opt -p {p} {path}: {out.stderr}")
    return sir_jax.load(out.stdout)[0]


def as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def max_rel(a, b):
    worst = 0.0
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        if x.shape != y.shape:
            return float("inf")
        if x.size:
            worst = max(worst, float(np.max(np.abs(x - y) / np.maximum(1.0, np.abs(y)))))
    return worst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--saddle", default=os.path.join(ROOT, "target", "debug", "saddle"))
    ap.add_argument("--tol", type=float, default=1e-9)
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()
    files = a.files or sorted(glob.glob(os.path.join(ROOT, "tests", "cases", "*.sir")))
    rng = np.random.default_rng(1)
    failures = 0
    for path in files:
        f = sir_jax.load(path)[0]
        types = f.param_types
        x = [jnp.asarray(rng.uniform(0.5, 2.0, size=s), dtype=sir_jax.DTYPES[d]) for d, s in types]
        outs = as_tuple(f(*x))
        first = lambda *args: as_tuple(f(*args))[0]  # noqa: E731
        float_params = [i for i, (d, _) in enumerate(types) if d in ("f32", "f64")]
        float_results = [i for i, o in enumerate(outs) if jnp.issubdtype(o.dtype, jnp.floating)]
        t = [jnp.asarray(rng.normal(size=x[i].shape)) for i in float_params]
        c = [jnp.asarray(rng.normal(size=outs[i].shape)) for i in float_results]
        checks = []

        def full_tangents():
            return tuple(t[float_params.index(i)] if i in float_params else np.zeros(x[i].shape, jax.dtypes.float0)
                         for i in range(len(x)))

        jo, jt = jax.jvp(lambda *args: as_tuple(f(*args)), tuple(x), full_tangents())
        checks.append(("jvp", as_tuple(transformed(a.saddle, path, "jvp")(*x, *t)),
                       tuple(jo) + tuple(jt[i] for i in float_results)))
        vo, pull = jax.vjp(lambda *args: tuple(as_tuple(f(*args))[i] for i in float_results), *x)
        cts = pull(tuple(c))
        checks.append(("vjp", as_tuple(transformed(a.saddle, path, "vjp")(*x, *c)),
                       tuple(outs) + tuple(cts[i] for i in float_params)))
        checks.append(("grad", transformed(a.saddle, path, "grad")(*x), jax.grad(first)(*x)))
        checks.append(("value_and_grad", transformed(a.saddle, path, "value_and_grad")(*x),
                       jax.value_and_grad(first)(*x)))
        checks.append(("hessian", transformed(a.saddle, path, "hessian")(*x), jax.hessian(first)(*x)))
        checks.append(("jacfwd", transformed(a.saddle, path, "jacfwd")(*x), jax.jacfwd(first)(*x)))
        checks.append(("jacrev", transformed(a.saddle, path, "jacrev")(*x), jax.jacrev(first)(*x)))
        xb = [jnp.stack([xi, xi * 1.1, xi * 0.9]) for xi in x]
        checks.append(("vmap", as_tuple(transformed(a.saddle, path, "vmap=3")(*xb)),
                       as_tuple(jax.vmap(f)(*xb))))
        if len(x) > 1:
            checks.append(("grad=1", transformed(a.saddle, path, "grad=1")(*x), jax.grad(first, argnums=1)(*x)))
            checks.append(("hessian=1", transformed(a.saddle, path, "hessian=1")(*x),
                           jax.hessian(first, argnums=1)(*x)))
        checks.append(("hessian of vmap of grad", None, None))
        for name, got, want in checks:
            if got is None:
                continue
            err = max_rel(got, want)
            ok = err <= a.tol
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {os.path.basename(path):28} {name:16} max rel diff {err:.2e}")
    print(f"{failures} failure(s)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
