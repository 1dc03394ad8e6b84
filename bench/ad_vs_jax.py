"""Cost of derivatives in saddle against JAX, on the same functions.

Measures, for each function, the time of one call of `f`, of `grad(f)` and
of `hessian(f)`, in saddle (`saddle bench`, compiled once, median of
repeated calls) and in JAX (`jax.jit` of the same function interpreted from
its `.sir` by `sir_jax.py`, median of repeated calls, float64), and prints
the ratios: the cheap-gradient ratio `grad / f` (the target is at most 4)
and saddle's time and peak memory against JAX's for the Hessian.

Functions: the seed examples (`examples/sir/*.sir`) and a logistic
regression log density with N = 100000 observations and D = 50 predictors
(the data are parameters 1 and 2, passed as `.npy` files; derivatives are
with respect to parameter 0, the coefficients).

Peak memory is the maximum resident set size of a process that loads the
data, compiles and runs the function (`/usr/bin/time -f %M`), and, for JAX,
also XLA's own figure for the temporary buffers of the compiled Hessian.

    /work/venv/bin/python bench/ad_vs_jax.py [--saddle target/release/saddle] [--n 100000] [--d 50]
        [--passes-extra simplify] [--markdown]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

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


def seed_problem(tmp, path, seed=0):
    f = sir_jax.load(path)[0]
    rng = np.random.default_rng(seed)
    xs = [rng.uniform(0.5, 2.0, size=s) for _, s in f.param_types]
    args = os.path.join(tmp, os.path.basename(path) + ".json")
    with open(args, "w") as fh:
        json.dump([x.tolist() for x in xs], fh)
    return path, args, xs


def max_rss_kib(cmd):
    """Runs `cmd` under /usr/bin/time; returns (stdout, max RSS in KiB)."""
    out = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr}")
    rss = int(out.stderr.strip().splitlines()[-1])
    return out.stdout, rss


def saddle_time(saddle, sir, args, passes, repeat):
    cmd = [saddle, "bench", sir, "--args", f"@{args}", "--repeat", str(repeat)]
    for p in passes:
        cmd += ["-p", p]
    out, rss = max_rss_kib(cmd)
    r = json.loads(out)
    return r["per_call_ns"]["median"] / 1e6, r["compile_us"] / 1e3, rss


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
    ap.add_argument("--passes-extra", nargs="*", default=[],
                    help="passes applied after each derivative pass in saddle (e.g. simplify)")
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()
    extra = a.passes_extra
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        problems = [(os.path.basename(p), *seed_problem(tmp, p), 200)
                    for p in sorted(__import__("glob").glob(os.path.join(ROOT, "examples", "sir", "*.sir")))]
        sir, args, _ = logreg_problem(tmp, a.n, a.d)
        inputs = [os.path.join(tmp, f"{n}.npy") for n in ("beta", "X", "y")]
        problems.append((f"logreg N={a.n} D={a.d}", sir, args, inputs, a.repeat))
        for name, sir, args, xs, repeat in problems:
            inputs = xs if isinstance(xs[0], str) else [x.tolist() for x in xs]
            row = {"name": name}
            for which, passes in [("f", []), ("grad", ["grad"]), ("hessian", ["hessian"])]:
                ms, cms, rss = saddle_time(a.saddle, sir, args, passes + (extra if passes else []), repeat)
                jms, jcms, jrss, jtemp = jax_time(sir, inputs, which, repeat)
                row[which] = dict(saddle_ms=ms, saddle_rss_mib=rss / 1024, saddle_compile_ms=cms,
                                  jax_ms=jms, jax_rss_mib=jrss / 1024, jax_compile_ms=jcms,
                                  jax_temp_mib=jtemp / 2**20)
            rows.append(row)
    header = ("| function | f (saddle) | grad (saddle) | grad/f saddle | grad/f JAX | hessian saddle | hessian JAX "
              "| saddle/JAX hessian | peak RSS saddle hessian | peak RSS JAX hessian | XLA temp hessian |")
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    for r in rows:
        f, g, h = r["f"], r["grad"], r["hessian"]
        print(f"| {r['name']} | {f['saddle_ms']:.4g} ms | {g['saddle_ms']:.4g} ms | "
              f"{g['saddle_ms'] / f['saddle_ms']:.2f} | {g['jax_ms'] / f['jax_ms']:.2f} | "
              f"{h['saddle_ms']:.4g} ms | {h['jax_ms']:.4g} ms | {h['saddle_ms'] / h['jax_ms']:.2f} | "
              f"{h['saddle_rss_mib']:.0f} MiB | {h['jax_rss_mib']:.0f} MiB | {h['jax_temp_mib']:.1f} MiB |")
    if not a.markdown:
        print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
