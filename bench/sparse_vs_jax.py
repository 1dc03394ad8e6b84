"""Sparse Hessians: `saddle laplace` on large latent-field models, against
dense JAX (what blackjax's laplace_marginal does) in the same run.

    cargo build --release --bin saddle --example sparse_step_bench
    PYTHON_WITH_JAX bench/sparse_vs_jax.py [--quick] [--no-jax] [--only NAME,...]

Models: bench/sparse_models.py (AR(1) Poisson fields of 10^3 to 10^6
coordinates, a 2-D GMRF on 100x100 and 300x300 grids, the 8^4 separable
AR(1) lattice), written to target/sparse_models on first use.

For each model:
  - the whole `saddle laplace --json --stats` process under
    /usr/bin/time -v: wall seconds, CPU seconds (user + system), peak RSS,
    and the --stats lines (detection, colouring, compile, Newton
    evaluations and factorisations, the final factor and variances);
  - one warm Newton step of saddle (examples/sparse_step_bench: the
    compressed value + gradient + sparse Hessian, the sparse Cholesky
    factorisation of -H and its log determinant, at x = 0), wall and
    process CPU seconds per step;
  - where dense JAX can hold the Hessian (d <= 4000), the same step dense:
    value + gradient + dense Hessian + Cholesky log determinant of -H,
    jitted, timed warm (after the compile), wall and process CPU seconds.
    The two log determinants are printed side by side: the same quantity.

Prints the load average before and after, and a summary table. The ratios
are what to read: this runs on shared machines.
"""
import json
import os
import re
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SADDLE = os.path.join(ROOT, "target", "release", "saddle")
STEP = os.path.join(ROOT, "target", "release", "examples", "sparse_step_bench")
QUICK = "--quick" in sys.argv
NO_JAX = "--no-jax" in sys.argv
ONLY = None
if "--only" in sys.argv:
    ONLY = sys.argv[sys.argv.index("--only") + 1].split(",")
OUT = os.path.join(ROOT, "target", "sparse_models")
JAX_MAX_DIM = 4000


def models():
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    import sparse_models  # noqa: E402

    if not os.path.exists(os.path.join(OUT, "ar1_4d.sir")):
        argv = sys.argv
        sys.argv = [argv[0], OUT]
        sparse_models.main()
        sys.argv = argv
    names = ["ar1_1000", "ar1_4000", "ar1_100000", "grid_100", "ar1_4d"]
    if not QUICK:
        names += ["grid_300", "ar1_1000000"]
    return [n for n in names if ONLY is None or n in ONLY]


def data_arg(name):
    return json.dumps([f"@{os.path.join(OUT, name + '_y.npy')}"])


def run_saddle(name):
    cmd = [
        "/usr/bin/time", "-v", SADDLE, "laplace", os.path.join(OUT, name + ".sir"),
        "--init", f'"@{os.path.join(OUT, name + "_init.npy")}"',
        "--data", data_arg(name),
        "--json", "--stats",
    ]
    # CPU seconds from the children's rusage (microseconds; /usr/bin/time
    # prints hundredths), /usr/bin/time for the peak RSS of this run alone.
    u0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    u1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        return {"error": (p.stderr.strip().splitlines() or ["failed"])[-1]}
    rss = float(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1)) / 1024
    cpu = (u1.ru_utime - u0.ru_utime) + (u1.ru_stime - u0.ru_stime)
    stats = [line for line in p.stderr.splitlines() if line.startswith("stats:")]
    fit = json.loads(p.stdout)
    return {"wall_s": round(wall, 4), "cpu_s": round(cpu, 4), "rss_mb": round(rss, 1), "stats": stats,
            "log_evidence": fit["log_evidence"], "iterations": fit["iterations"], "dim": fit["dim"]}


def run_step(name):
    p = subprocess.run([STEP, os.path.join(OUT, name + ".sir"), data_arg(name), "1"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        return {"error": (p.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(p.stdout)


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
    # One dense Newton step's work: value, gradient, Hessian, and the
    # Cholesky factor of -H with its log determinant.
    v, g = jax.value_and_grad(f)(x)
    h = jax.hessian(f)(x)
    c = jnp.linalg.cholesky(-h)
    return v, g, c, 2.0 * jnp.sum(jnp.log(jnp.diag(c)))
x = jnp.zeros(d)
t0 = time.perf_counter()
log_det = float(jax.block_until_ready(step(x))[3])
compile_s = time.perf_counter() - t0
ts = []
for _ in range(5):
    c0 = time.process_time(); t0 = time.perf_counter()
    jax.block_until_ready(step(x))
    ts.append((time.perf_counter() - t0, time.process_time() - c0))
ts.sort()
print(json.dumps({"wall_s": ts[len(ts) // 2][0], "wall_min_s": ts[0][0],
                  "cpu_s": sorted(t[1] for t in ts)[len(ts) // 2], "compile_s": compile_s,
                  "log_det": log_det, "jax": jax.__version__}))
"""


def run_jax(name, d):
    p = subprocess.run([sys.executable, "-c", JAX_AR1, str(d), os.path.join(OUT, name + "_y.npy")],
                       capture_output=True, text=True)
    if p.returncode != 0:
        return {"error": (p.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(p.stdout)


def main():
    print(f"load average before: {os.getloadavg()}")
    rows = []
    for name in models():
        r = run_saddle(name)
        print(f"\n{name}: saddle laplace (whole process): {json.dumps(r)}")
        s = run_step(name)
        print(f"{name}: saddle warm Newton step (value+grad+sparse Hessian+sparse Cholesky log det): {json.dumps(s)}")
        j = {}
        if not NO_JAX and name.startswith("ar1_") and name[4:].isdigit() and int(name[4:]) <= JAX_MAX_DIM:
            j = run_jax(name, int(name[4:]))
            print(f"{name}: JAX dense warm step (value+grad+hessian+cholesky log det): {json.dumps(j)}")
            if "cpu_s" in j and "cpu_s" in s:
                print(f"{name}: warm step, JAX dense / saddle sparse: {j['cpu_s'] / s['cpu_s']:.0f}x CPU, "
                      f"{j['wall_s'] / s['wall_s']:.0f}x wall (log det {j['log_det']:.10g} vs {s['log_det']:.10g})")
            if "cpu_s" in j and r.get("cpu_s"):
                print(f"{name}: one warm JAX dense step / the whole saddle process: "
                      f"{j['cpu_s'] / r['cpu_s']:.1f}x CPU, {j['wall_s'] / r['wall_s']:.1f}x wall")
        rows.append((name, r, s, j))
        print(f"load average now: {os.getloadavg()}")
    print(f"\nload average after: {os.getloadavg()}")
    print("\n| model | d | whole process CPU s | wall s | peak RSS MB | Newton iterations "
          "| warm step CPU ms | wall ms | JAX dense step CPU ms | wall ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r, s, j in rows:
        def ms(x, k):
            return f"{1e3 * x[k]:.3g}" if isinstance(x.get(k), (int, float)) else "—"
        print(f"| {name} | {r.get('dim', '—')} | {r.get('cpu_s', '—')} | {r.get('wall_s', '—')} | "
              f"{r.get('rss_mb', '—')} | {r.get('iterations', '—')} | {ms(s, 'cpu_s')} | {ms(s, 'wall_s')} | "
              f"{ms(j, 'cpu_s')} | {ms(j, 'wall_s')} |")


if __name__ == "__main__":
    main()
