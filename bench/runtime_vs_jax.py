"""saddle's runtime against jax.jit (CPU, f64), side by side in one run.

Usage: python bench/runtime_vs_jax.py [--quick]

Needs jax and numpy (e.g. `.venv/bin/python` after `python3 -m venv .venv && .venv/bin/pip install jax scipy`) and builds the release
binary of saddle if it is missing. Each workload runs `saddle bench`
(compile once, time each call of the allocation-free path) and the same
function under jax.jit (block_until_ready after each call), and prints
the ratio. Times are medians of single calls; the per-call row alternates
saddle and JAX on one CPU (7 pairs) and reports the pair with the median
ratio.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SADDLE = os.path.join(ROOT, "target", "release", "saddle")
QUICK = "--quick" in sys.argv


def saddle_bench(sir_text, args, repeat, passes=(), extra=()):
    with tempfile.NamedTemporaryFile("w", suffix=".sir", delete=False) as f:
        f.write(sir_text)
        path = f.name
    cmd = [SADDLE, "bench", path, "--args", json.dumps(args), "--repeat", str(repeat)]
    for p in passes:
        cmd += ["-p", p]
    cmd += list(extra)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    os.unlink(path)
    return json.loads(out)


def time_calls(fn, repeat):
    fn()  # warm up (and compile)
    ts = []
    for _ in range(repeat):
        t = time.perf_counter_ns()
        fn()
        ts.append(time.perf_counter_ns() - t)
    ts.sort()
    return ts[len(ts) // 2]


def jax_call(f, *xs):
    return lambda: jax.block_until_ready(f(*xs))


rows = []


def row(name, saddle_ns, other_ns, other_name, target):
    rows.append((name, saddle_ns, other_ns, other_name, other_ns / saddle_ns, target))


def fmt_ns(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.0f} ns"


# 1. Per call: the seed's Student-t log density.
student_t = open(os.path.join(ROOT, "examples", "sir", "student_t.sir")).read()
mu = jnp.array([0.5, 2.0])
sinv = jnp.array([[4 / 3, -2 / 3], [-2 / 3, 4 / 3]])


@jax.jit
def log_posterior(theta):
    d = theta - mu
    q = d @ (sinv @ d)
    return -4.5 * jnp.log(1.0 + q / 7.0)


theta = jnp.array([1.5, 1.0])
# A shared or virtual machine's neighbours slow one of its CPUs by up to
# 2x, in phases of seconds, and a child process tends to run on another
# CPU than its waiting parent: both sides are pinned to one CPU (the child
# inherits the affinity) and timed in alternation, saddle (one `saddle
# bench` process, its median call) and jax.jit, 7 pairs; the pair with the
# median ratio is reported.
calls = 20000 if not QUICK else 2000
pairs = []
all_cpus = os.sched_getaffinity(0)
os.sched_setaffinity(0, {min(all_cpus)})
for _ in range(7):
    s_ns = saddle_bench(student_t, [[1.5, 1.0]], calls)["per_call_ns"]["median"]
    pairs.append((s_ns, time_calls(jax_call(log_posterior, theta), calls)))
os.sched_setaffinity(0, all_cpus)
pairs.sort(key=lambda p: p[1] / p[0])
st_ns, jt = pairs[len(pairs) // 2]
st_min = min(p[0] for p in pairs)
row(f"Student-t log density, per call (one CPU, median of 7 alternating pairs; fastest saddle {fmt_ns(st_min)})", st_ns, jt, "jax.jit", "≥ 30×")


# 2. Compile of a 1,000-op function (elementwise, reductions, dots, layout).
def thousand_ops():
    lines = ["func @big(%x: f64[16], %m: f64[16,16]) -> f64[] {"]
    prev, k = "%x", 0
    kinds = ["exp", "log1p", "tanh", "logistic", "neg", "sin"]
    while k < 996:
        i = k
        if k % 50 == 49:
            lines.append(f"  %v{i}: f64[16] = dot_general %m, {prev} {{lhs_contract = [1], rhs_contract = [0]}}")
        elif k % 3 == 0:
            lines.append(f"  %v{i}: f64[16] = {kinds[k % len(kinds)]} {prev}")
        elif k % 3 == 1:
            lines.append(f"  %v{i}: f64[16] = mul {prev}, %x")
        else:
            lines.append(f"  %v{i}: f64[16] = add {prev}, %v{i - 2}")
        prev = f"%v{i}"
        k += 1
    lines.append(f"  %s: f64[] = reduce_sum {prev} {{axes = [0]}}")
    lines.append("  return %s")
    lines.append("}")
    return "\n".join(lines) + "\n"


big = thousand_ops()
big_args = [list(range(16)), [[0.01] * 16] * 16]
# Each `saddle bench` process compiles once (cold); the median of 11
# processes is reported (and the fastest), with and without the
# equality-saturation simplifier.
def cold_compiles(extra=()):
    ts = sorted(saddle_bench(big, big_args, 1, extra=[*extra, "--warmup", "0"])["compile_us"] * 1e3 for _ in range(11))
    return ts[len(ts) // 2], ts[0]


compile_ns, compile_min = cold_compiles()
plan_ns, plan_min = cold_compiles(["--no-simplify"])


def big_jax(x, m):
    prev, vals = x, []
    fns = [jnp.exp, jnp.log1p, jnp.tanh, jax.nn.sigmoid, jnp.negative, jnp.sin]
    for k in range(996):
        if k % 50 == 49:
            v = m @ prev
        elif k % 3 == 0:
            v = fns[k % 6](prev)
        elif k % 3 == 1:
            v = prev * x
        else:
            v = prev + vals[k - 2]
        vals.append(v)
        prev = v
    return prev.sum()


xs = (jnp.arange(16.0), jnp.full((16, 16), 0.01))
t = time.perf_counter_ns()
jax.jit(big_jax).lower(*xs).compile()
jax_compile = time.perf_counter_ns() - t
row(f"compile, 1,000-op function (with simplifier; fastest {fmt_ns(compile_min)})", compile_ns, jax_compile, "jax.jit lower+compile", "< 1 ms")
row(f"compile, 1,000-op function (--no-simplify; fastest {fmt_ns(plan_min)})", plan_ns, jax_compile, "jax.jit lower+compile", "< 1 ms")


# 3. Logistic over 1e6 and 1e7 f64; memory bandwidth = a numpy copy of the same bytes.
def logistic_sir(n):
    return f"func @f(%x: f64[{n}]) -> f64[{n}] {{\n  %y: f64[{n}] = logistic %x\n  return %y\n}}\n"


tmp = tempfile.mkdtemp()
for n in [10**6, 10**7]:
    x = np.random.default_rng(0).normal(0, 3, n)
    path = os.path.join(tmp, f"x{n}.npy")
    np.save(path, x)
    reps = 50 if n == 10**6 else 20
    r = saddle_bench(logistic_sir(n), [f"@{path}"], reps)
    s = r["per_call_ns"]["median"]
    sig = jax.jit(jax.nn.sigmoid)
    xj = jnp.asarray(x)
    jt = time_calls(jax_call(sig, xj), reps)
    out = np.empty_like(x)
    copy = time_calls(lambda: np.copyto(out, x), reps)
    row(f"logistic, {n:.0e} f64", s, jt, "jax.jit", "≥ 2×")
    row(f"logistic, {n:.0e} f64 vs memory copy", s, copy, "numpy copy (bandwidth)", "≥ 1/1.5 = 0.67")

# 4. dot_general 1e5×50 by 50, and XᵀWX.
n, p = 10**5, 50
rng = np.random.default_rng(1)
X = rng.normal(size=(n, p))
v = rng.normal(size=p)
w = rng.uniform(size=n)
np.save(os.path.join(tmp, "X.npy"), X)
np.save(os.path.join(tmp, "v.npy"), v)
np.save(os.path.join(tmp, "w.npy"), w)
xv = f"func @f(%X: f64[{n},{p}], %v: f64[{p}]) -> f64[{n}] {{\n  %y: f64[{n}] = dot_general %X, %v {{lhs_contract = [1], rhs_contract = [0]}}\n  return %y\n}}\n"
r = saddle_bench(xv, [f"@{tmp}/X.npy", f"@{tmp}/v.npy"], 50)
Xj, vj, wj = jnp.asarray(X), jnp.asarray(v), jnp.asarray(w)
jt = time_calls(jax_call(jax.jit(lambda a, b: a @ b), Xj, vj), 50)
npt = time_calls(lambda: X @ v, 50)
row("dot_general 1e5×50 · 50", r["per_call_ns"]["median"], jt, "jax.jit", "—")
row("dot_general 1e5×50 · 50", r["per_call_ns"]["median"], npt, "numpy (OpenBLAS)", "—")
xtwx = f"""func @f(%X: f64[{n},{p}], %w: f64[{n}]) -> f64[{p},{p}] {{
  %wb: f64[{n},{p}] = broadcast_in_dim %w {{shape = [{n}, {p}], dims = [0]}}
  %wx: f64[{n},{p}] = mul %X, %wb
  %h: f64[{p},{p}] = dot_general %X, %wx {{lhs_contract = [0], rhs_contract = [0]}}
  return %h
}}
"""
r = saddle_bench(xtwx, [f"@{tmp}/X.npy", f"@{tmp}/w.npy"], 30)
jt = time_calls(jax_call(jax.jit(lambda a, b: a.T @ (b[:, None] * a)), Xj, wj), 30)
npt = time_calls(lambda: X.T @ (w[:, None] * X), 30)
row("XᵀWX, X 1e5×50", r["per_call_ns"]["median"], jt, "jax.jit", "—")
row("XᵀWX, X 1e5×50", r["per_call_ns"]["median"], npt, "numpy (OpenBLAS)", "—")

print(f"jax {jax.__version__}, numpy {np.__version__}, {os.cpu_count()} CPUs")
print()
print("| workload | saddle | other | other time | other / saddle | target |")
print("|---|---|---|---|---|---|")
for name, s, o, oname, ratio, target in rows:
    print(f"| {name} | {fmt_ns(s)} | {oname} | {fmt_ns(o)} | {ratio:.2f}× | {target} |")
