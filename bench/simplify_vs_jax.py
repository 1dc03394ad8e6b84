"""The simplifier's effect on the Hessian of a logistic-regression log density
(N = 100000, D = 50), against JAX and against the hand-written XᵀWX, on the
same machine in the same run.

Times one call (median of repeated calls after compiling once) of:
  - saddle: `hessian`, compiled with the simplifier (the default) and
    without it (`--no-simplify`), and the hand-written
    H = -Xᵀ diag(σ(1-σ)) X - I written as saddle IR;
  - JAX: `jax.jit(jax.hessian(f))` of the same function (float64), and the
    hand-written formula under `jax.jit`.

    cargo build --release --bin saddle
    .venv/bin/python bench/simplify_vs_jax.py [--n 100000] [--d 50] [--repeat 20] [--markdown]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import ad_vs_jax  # noqa: E402  (helpers; enables float64 in JAX)

BY_HAND = """# The Hessian of the logistic-regression log density, written by hand:
# -X^T diag(s (1 - s)) X - I with s = logistic(X beta).
func @by_hand(%beta: f64[{d}], %X: f64[{n},{d}], %y: f64[{n}]) -> f64[{d},{d}] {{
  %z = dot_general %X, %beta {{lhs_contract = [1], rhs_contract = [0]}}
  %s = logistic %z
  %one: f64[{n}] = const {{value = 1.0}}
  %oms = sub %one, %s
  %w = mul %s, %oms
  %wb = broadcast_in_dim %w {{shape = [{n}, {d}], dims = [0]}}
  %wx = mul %X, %wb
  %xtwx = dot_general %X, %wx {{lhs_contract = [0], rhs_contract = [0]}}
  %i0: i64[{d},{d}] = iota {{dim = 0}}
  %i1: i64[{d},{d}] = iota {{dim = 1}}
  %eq = eq %i0, %i1
  %eye = convert %eq {{dtype = f64}}
  %neg = neg %xtwx
  %h = sub %neg, %eye
  return %h
}}
"""

JAX_BY_HAND = r"""
import json, time, statistics
import numpy as np, jax, jax.numpy as jnp
jax.config.update("jax_enable_x64", True)
beta, X, y = (np.load(p) for p in {inputs!r})
@jax.jit
def h(beta, X, y):
    s = jax.nn.sigmoid(X @ beta)
    w = s * (1 - s)
    return -(X.T * w) @ X - jnp.eye(X.shape[1])
jax.block_until_ready(h(beta, X, y))
times = []
for _ in range({repeat}):
    t0 = time.perf_counter(); jax.block_until_ready(h(beta, X, y)); times.append(time.perf_counter() - t0)
print(json.dumps({{"median_ms": statistics.median(times) * 1e3}}))
"""


def saddle_bench(saddle, sir, args, passes, repeat, no_simplify=False):
    cmd = [saddle, "bench", sir, "--args", f"@{args}", "--repeat", str(repeat)]
    for p in passes:
        cmd += ["-p", p]
    if no_simplify:
        cmd.append("--no-simplify")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    r = json.loads(out)
    return r["per_call_ns"]["median"] / 1e6, r["compile_us"] / 1e3


def saddle_ops(saddle, sir, passes):
    """Op count and estimated flops before and after simplification, from `opt --stats`."""
    cmd = [saddle, "opt", sir, "--stats"] + [x for p in passes for x in ("-p", p)] + ["-p", "simplify"]
    err = subprocess.run(cmd, capture_output=True, text=True, check=True).stderr
    return next(l for l in err.splitlines() if l.startswith("stats: simplify: ops ")).removeprefix("stats: ")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--saddle", default=os.path.join(ad_vs_jax.ROOT, "target", "release", "saddle"))
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--d", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sir, args, _ = ad_vs_jax.logreg_problem(tmp, a.n, a.d)
        inputs = [os.path.join(tmp, f"{n}.npy") for n in ("beta", "X", "y")]
        by_hand = os.path.join(tmp, "by_hand.sir")
        with open(by_hand, "w") as fh:
            fh.write(BY_HAND.format(n=a.n, d=a.d))
        stats = saddle_ops(a.saddle, sir, ["hessian"])
        simp, simp_c = saddle_bench(a.saddle, sir, args, ["hessian"], a.repeat)
        raw, raw_c = saddle_bench(a.saddle, sir, args, ["hessian"], a.repeat, no_simplify=True)
        hand, _ = saddle_bench(a.saddle, by_hand, args, [], a.repeat)
        jax_h, _, _, _ = ad_vs_jax.jax_time(sir, inputs, "hessian", a.repeat)
        code = JAX_BY_HAND.format(inputs=inputs, repeat=a.repeat)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        jax_hand = json.loads(out.strip().splitlines()[-1])["median_ms"]
    rows = [
        ("saddle `hessian`, simplified (default)", simp, f"compile {simp_c:.1f} ms"),
        ("saddle `hessian`, `--no-simplify`", raw, f"compile {raw_c:.1f} ms"),
        ("saddle, hand-written XᵀWX", hand, ""),
        ("JAX `jit(hessian(f))`", jax_h, ""),
        ("JAX, hand-written XᵀWX under `jit`", jax_hand, ""),
    ]
    print(f"logistic regression N={a.n} D={a.d}: {stats}\n")
    print("| Hessian | median per call | vs JAX hessian | note |")
    print("|---|---:|---:|---|")
    for name, ms, note in rows:
        print(f"| {name} | {ms:.2f} ms | {jax_h / ms:.2f}× | {note} |")


if __name__ == "__main__":
    main()
