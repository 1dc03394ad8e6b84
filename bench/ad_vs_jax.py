"""Cost of derivatives in saddle against JAX, on the same functions.

Times one call of `f`, of `grad(f)` and of `hessian(f)`:

- saddle: `cargo bench --bench ad_eval` (criterion; compiled once by the
  runtime; median), read from `target/criterion/`; the Hessian and gradient
  are also timed after the e-graph simplifier;
- JAX: `jax.jit` of the same function, interpreted from its `.sir` text by
  `sir_jax.py` (float64, median of repeated calls after compilation).

Functions: the seed examples (`examples/sir/student_t.sir`,
`examples/sir/logistic.sir`, all parameters 1.25) and a logistic regression
log density with N = 100000 observations and D = 50 predictors (the data
are parameters 1 and 2; derivatives with respect to parameter 0).

Peak memory of the logistic-regression Hessian: the maximum resident set
size (`/usr/bin/time -f %M`) of `saddle hessian` on `.npy` data against
that of a Python process running JAX's compiled Hessian, each next to the
same process computing only the gradient; and XLA's own figure for the
temporary buffers of its compiled Hessian.

Prints the table of `docs/ad.md`, with the ratios: `grad / f` (the
cheap-gradient principle asks for at most 4) and saddle over JAX.

    .venv/bin/python bench/ad_vs_jax.py [--no-cargo] [--n 100000] [--d 50]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import sir_jax  # noqa: E402  (enables float64 in JAX)

import jax  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

LOGREG = """# Logistic-regression log density: sum_i y_i z_i - log(1 + exp(z_i)), z = X beta,
# plus a standard normal prior on beta. X and y are data (parameters 1 and 2).
func @logreg(%beta: f64[{d}], %X: f64[{n},{d}], %y: f64[{n}]) -> f64[] {{
  %z = dot_general %X, %beta {{lhs_contract = [1], rhs_contract = [0]}}
  %yz = mul %y, %z
  %ez = exp %z
  %sp = log1p %ez
  %ll = sub %yz, %sp
  %loglik = reduce_sum %ll {{axes = [0]}}
  %b2 = mul %beta, %beta
  %ss = reduce_sum %b2 {{axes = [0]}}
  %mhalf: f64[] = const {{value = -0.5}}
  %prior = mul %mhalf, %ss
  %lp = add %loglik, %prior
  return %lp
}}
"""


def logreg_problem(tmp, n, d, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)) / np.sqrt(d)
    beta_true = rng.normal(size=d)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-x @ beta_true))).astype(np.float64)
    beta = rng.normal(size=d) * 0.1
    paths = {}
    for name, arr in [("beta", beta), ("X", x), ("y", y)]:
        paths[name] = os.path.join(tmp, f"{name}.npy")
        np.save(paths[name], arr)
    sir = os.path.join(tmp, "logreg.sir")
    with open(sir, "w") as fh:
        fh.write(LOGREG.format(n=n, d=d))
    args = os.path.join(tmp, "logreg_args.json")
    with open(args, "w") as fh:
        json.dump([f"@{paths['beta']}", f"@{paths['X']}", f"@{paths['y']}"], fh)
    return sir, args, [beta, x, y]


def max_rss_kib(cmd):
    """Runs `cmd` under /usr/bin/time; returns (stdout, max RSS in KiB)."""
    out = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr}")
    rss = int(out.stderr.strip().splitlines()[-1])
    return out.stdout, rss


def criterion_ms(group, name):
    path = os.path.join(ROOT, "target", "criterion", group, name, "new", "estimates.json")
    with open(path) as fh:
        return json.load(fh)["median"]["point_estimate"] / 1e6


JAX_CHILD = r"""
import sys, json, time, statistics
sys.path.insert(0, {bench!r})
import numpy as np, sir_jax, jax
f = sir_jax.load({sir!r})[0]
xs = [np.load(p) if isinstance(p, str) else np.asarray(p) for p in {inputs!r}]
g = {{"f": f, "grad": jax.grad(f), "hessian": jax.hessian(f)}}[{which!r}]
fn = jax.jit(g)
t0 = time.perf_counter(); c = fn.lower(*xs).compile(); compile_ms = (time.perf_counter() - t0) * 1e3
mem = c.memory_analysis()
temp = getattr(mem, "temp_size_in_bytes", -1) if mem is not None else -1
jax.block_until_ready(fn(*xs))
times = []
for _ in range({repeat}):
    t0 = time.perf_counter(); jax.block_until_ready(fn(*xs)); times.append(time.perf_counter() - t0)
print(json.dumps({{"median_ms": statistics.median(times) * 1e3, "compile_ms": compile_ms, "temp_bytes": temp}}))
"""


def jax_time(sir, inputs, which, repeat):
    code = JAX_CHILD.format(bench=os.path.dirname(os.path.abspath(__file__)), sir=sir, inputs=inputs, which=which,
                            repeat=repeat)
    out, rss = max_rss_kib([sys.executable, "-c", code])
    r = json.loads(out.strip().splitlines()[-1])
    return r["median_ms"], r["compile_ms"], rss, r["temp_bytes"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--saddle", default=os.path.join(ROOT, "target", "release", "saddle"))
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--d", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--no-cargo", action="store_true", help="reuse the last `cargo bench --bench ad_eval` results")
    a = ap.parse_args()
    if not a.no_cargo:
        env = dict(os.environ, SADDLE_BENCH_N=str(a.n), SADDLE_BENCH_D=str(a.d))
        subprocess.run(["cargo", "bench", "--bench", "ad_eval"], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(["cargo", "build", "--release"], cwd=ROOT, check=True, stderr=subprocess.DEVNULL)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        sir, args, _ = logreg_problem(tmp, a.n, a.d)
        data = [os.path.join(tmp, f"{n}.npy") for n in ("beta", "X", "y")]
        problems = [
            ("student_t", os.path.join(ROOT, "examples", "sir", "student_t.sir"), [[1.25, 1.25]], 200),
            ("logistic", os.path.join(ROOT, "examples", "sir", "logistic.sir"), [1.25], 200),
            ("logreg", sir, data, a.repeat),
        ]
        for group, path, inputs, repeat in problems:
            row = {"name": group if group != "logreg" else f"logreg N={a.n} D={a.d}"}
            for which in ("f", "grad", "hessian", "grad_simplified", "hessian_simplified"):
                row[which] = criterion_ms(group, which)
            for which in ("f", "grad", "hessian"):
                row["jax_" + which] = jax_time(path, inputs, which, repeat)[0]
            rows.append(row)
        # Peak memory of the logistic-regression Hessian (and the gradient,
        # for the baseline of the data and the process).
        mem = {}
        for which in ("grad", "hessian"):
            _, mem["saddle_" + which] = max_rss_kib([a.saddle, which, sir, "--args", f"@{args}"])
            _, _, mem["jax_" + which], temp = jax_time(sir, data, which, 2)
            mem["xla_temp_" + which] = temp
    print("| function | f | grad | grad / f | hessian | hessian, simplified | JAX f | JAX grad | JAX grad / f "
          "| JAX hessian | saddle / JAX, hessian (simplified) |")
    print("|---" * 11 + "|")
    for r in rows:
        print(f"| {r['name']} | {r['f']:.4g} ms | {r['grad']:.4g} ms | {r['grad'] / r['f']:.2f} | "
              f"{r['hessian']:.4g} ms | {r['hessian_simplified']:.4g} ms | {r['jax_f']:.4g} ms | "
              f"{r['jax_grad']:.4g} ms | {r['jax_grad'] / r['jax_f']:.2f} | {r['jax_hessian']:.4g} ms | "
              f"{r['hessian'] / r['jax_hessian']:.2f} ({r['hessian_simplified'] / r['jax_hessian']:.2f}) |")
    print()
    print(f"| peak RSS, logreg N={a.n} D={a.d} | grad | hessian | XLA temporaries (hessian) |")
    print("|---|---|---|---|")
    print(f"| saddle (`saddle grad` / `saddle hessian`) | {mem['saddle_grad'] / 1024:.0f} MiB | "
          f"{mem['saddle_hessian'] / 1024:.0f} MiB | |")
    print(f"| JAX (`jax.jit`) | {mem['jax_grad'] / 1024:.0f} MiB | {mem['jax_hessian'] / 1024:.0f} MiB | "
          f"{mem['xla_temp_hessian'] / 2**20:.1f} MiB |")


if __name__ == "__main__":
    main()
