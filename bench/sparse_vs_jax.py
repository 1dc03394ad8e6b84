"""Sparse Hessians: `saddle laplace` on large latent-field models, against
dense JAX (what blackjax's laplace_marginal does) in the same run.

    cargo build --release --bin saddle
    .venv/bin/python bench/sparse_vs_jax.py [--quick] [--no-jax]

Models: bench/sparse_models.py (AR(1) Poisson fields of 10^3 to 10^6
coordinates, a 2-D GMRF on 100x100 and 300x300 grids, the 8^4 separable
AR(1) lattice). For each: the whole `saddle laplace --json --stats`
process (wall time, peak RSS by /usr/bin/time -v, the --stats lines) and,
where dense JAX can hold the Hessian (d <= 4000), one warm
value + gradient + dense Hessian + log-determinant with jax.jit, which is
what one Newton step of a dense Laplace needs. Prints the load average
with the figures: the ratios are what to read.
"""
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SADDLE = os.path.join(ROOT, "target", "release", "saddle")
QUICK = "--quick" in sys.argv
NO_JAX = "--no-jax" in sys.argv
OUT = os.path.join(ROOT, "target", "sparse_models")


def models():
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    import sparse_models  # noqa: E402

    if not os.path.exists(os.path.join(OUT, "ar1_4d.sir")):
        sys.argv = [sys.argv[0], OUT]
        sparse_models.main()
    names = ["ar1_1000", "ar1_4000", "ar1_100000", "grid_100", "ar1_4d"]
    if not QUICK:
        names += ["grid_300", "ar1_1000000"]
    return names


def run_saddle(name):
    cmd = [
        "/usr/bin/time", "-v", SADDLE, "laplace", os.path.join(OUT, name + ".sir"),
        "--init", f'"@{os.path.join(OUT, name + "_init.npy")}"',
        "--data", json.dumps([f"@{os.path.join(OUT, name + '_y.npy')}"]),
        "--json", "--stats",
    ]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        return {"error": p.stderr.strip().splitlines()[-1]}
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1)) / 1024
    stats = [line for line in p.stderr.splitlines() if line.startswith("stats:")]
    fit = json.loads(p.stdout)
    return {"wall_s": wall, "rss_mb": rss, "stats": stats, "log_evidence": fit["log_evidence"],
            "iterations": fit["iterations"], "dim": fit["dim"]}


JAX_AR1 = r"""
import time, sys, json
import numpy as np
import jax, jax.numpy as jnp
jax.config.update("jax_enable_x64", True)
d = int(sys.argv[1]); y = jnp.asarray(np.load(sys.argv[2])); rho = 0.7
def f(x):
    e = x[1:] - rho * x[:-1]
    return jnp.sum(y * x - jnp.exp(x)) - 0.5 * jnp.sum(e * e) - 0.5 * (1 - rho * rho) * x[0] ** 2
@jax.jit
def step(x):
    v, g = jax.value_and_grad(f)(x)
    h = jax.hessian(f)(x)
    return v, g, h, jnp.linalg.slogdet(-h)[1]
x = jnp.zeros(d)
jax.block_until_ready(step(x))
ts = []
for _ in range(3):
    c0 = time.process_time(); t0 = time.perf_counter()
    jax.block_until_ready(step(x))
    ts.append((time.perf_counter() - t0, time.process_time() - c0))
print(json.dumps({"wall_s": min(t[0] for t in ts), "cpu_s": min(t[1] for t in ts)}))
"""


def run_jax(name, d):
    p = subprocess.run([sys.executable, "-c", JAX_AR1, str(d), os.path.join(OUT, name + "_y.npy")],
                       capture_output=True, text=True)
    if p.returncode != 0:
        return {"error": p.stderr.strip().splitlines()[-1] if p.stderr else "failed"}
    return json.loads(p.stdout)


def main():
    print(f"load average before: {os.getloadavg()}")
    for name in models():
        r = run_saddle(name)
        print(f"\n{name}: saddle laplace (whole process): {json.dumps(r)}")
        if not NO_JAX and name in ("ar1_1000", "ar1_4000"):
            j = run_jax(name, int(name.split("_")[1]))
            print(f"{name}: jax.jit dense value+grad+hessian+slogdet, warm: {json.dumps(j)}")
            if "wall_s" in j and "wall_s" in r:
                print(f"{name}: ratio (one warm dense JAX step) / (whole saddle fit) = {j['wall_s'] / r['wall_s']:.1f}x"
                      f" wall, {j['cpu_s'] / r['wall_s']:.1f}x JAX CPU time")
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
