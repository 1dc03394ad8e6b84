"""Laplace's approximation: saddle against JAX + scipy, same machine, same run.

    cargo build --release --bin saddle --example laplace_bench
    .venv/bin/python bench/laplace_vs_jax.py [--quick]

Workloads (docs/laplace.md has the table):
  1. the seed example (2-D Student-t), whole process: `saddle laplace FILE
     --init ... --json` against a fresh Python process doing the same with
     JAX (jit, grad, hessian) and scipy.optimize (import time reported apart);
  2. logistic regression N=1e5, D=50: warm fit (compiled, data in memory)
     against scipy L-BFGS-B on a jitted JAX value_and_grad, plus the Hessian
     at the mode that Laplace needs;
  3. the same cold: a fresh process reading the data from .npy;
  4. logistic regression N=1e6, D=20, warm.
Prints each time and the ratio JAX+scipy / saddle.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SADDLE = os.path.join(ROOT, "target", "release", "saddle")
BENCH = os.path.join(ROOT, "target", "release", "examples", "laplace_bench")
PY = sys.executable
QUICK = "--quick" in sys.argv

JAX_SEED = r"""
import time, json
t0 = time.perf_counter()
import jax, jax.numpy as jnp, numpy as np, scipy.optimize
jax.config.update("jax_enable_x64", True)
t1 = time.perf_counter()
mu = jnp.array([0.5, 2.0]); S = jnp.array([[1.0, 0.5], [0.5, 1.0]]); Si = jnp.linalg.inv(S); nu = 7.0
def logp(th):
    d = th - mu
    return -(nu + 2) / 2 * jnp.log1p(d @ Si @ d / nu)
negf = jax.jit(jax.value_and_grad(lambda th: -logp(th)))
hess = jax.jit(jax.hessian(logp))
def fg(x):
    v, g = negf(x)
    return float(v), np.asarray(g)
res = scipy.optimize.minimize(fg, np.zeros(2), jac=True, method="BFGS", options={"gtol": 1e-10})
H = np.asarray(hess(res.x)); cov = np.linalg.inv(-H)
logev = float(logp(res.x)) + np.log(2 * np.pi) - 0.5 * np.linalg.slogdet(-H)[1]
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "fit_s": t2 - t1, "mode": res.x.tolist(), "log_evidence": logev}))
"""

JAX_LOGREG = r"""
import time, json, sys
t0 = time.perf_counter()
import jax, jax.numpy as jnp, numpy as np, scipy.optimize
jax.config.update("jax_enable_x64", True)
t1 = time.perf_counter()
xp, yp, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
X = np.load(xp); y = np.load(yp)
Xj = jnp.asarray(X); yj = jnp.asarray(y)
def logp(b):
    eta = Xj @ b
    return jnp.sum(y * eta + jax.nn.log_sigmoid(-eta)) - 0.5 / 25.0 * jnp.sum(b * b)
vg = jax.jit(jax.value_and_grad(lambda b: -logp(b)))
hess = jax.jit(jax.hessian(logp))
def fg(b):
    v, g = vg(b)
    return float(v), np.asarray(g)
def fit():
    r = scipy.optimize.minimize(fg, np.zeros(X.shape[1]), jac=True, method="L-BFGS-B")
    t = time.perf_counter()
    H = np.asarray(hess(r.x))
    cov = np.linalg.inv(-H)
    return r, time.perf_counter() - t
t2 = time.perf_counter()
r, _ = fit()
cold = time.perf_counter() - t2
warm, warm_opt, warm_h = [], [], []
for _ in range(repeat):
    t = time.perf_counter()
    r, th = fit()
    warm.append(time.perf_counter() - t); warm_h.append(th)
warm.sort(); warm_h.sort()
print(json.dumps({"import_s": t1 - t0, "cold_after_import_s": cold + (t2 - t1),
                  "warm_s": warm[len(warm) // 2], "warm_hessian_s": warm_h[len(warm_h) // 2],
                  "nit": int(r.nit), "grad_inf": float(np.max(np.abs(fg(r.x)[1])))}))
"""


def run(cmd, **kw):
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr}")
    return p.stdout, dt


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def row(name, jax_s, saddle_s, target):
    ratio = jax_s / saddle_s
    print(f"| {name} | {jax_s * 1e3:.1f} ms | {saddle_s * 1e3:.2f} ms | {ratio:.1f}x | {target} |")


def make_logreg(tmp, n, d):
    prefix = os.path.join(tmp, f"logreg_{n}_{d}")
    run([PY, os.path.join(ROOT, "examples", "data", "make_logistic.py"), str(n), str(d), prefix])
    return prefix


def main():
    for exe in (SADDLE, BENCH):
        if not os.path.exists(exe):
            sys.exit(f"missing {exe}: cargo build --release --bin saddle --example laplace_bench")
    print("| workload | JAX + scipy | saddle | ratio | target |")
    print("|---|---|---|---|---|")
    # 1. The seed, whole process.
    seed = os.path.join(ROOT, "examples", "sir", "student_t.sir")
    times = []
    for _ in range(5 if QUICK else 100):
        out, dt = run([SADDLE, "laplace", seed, "--init", "[0, 0]", "--json"])
        times.append(dt)
    mode = json.loads(out)["mode"]
    assert abs(mode[0] - 0.5) < 1e-8 and abs(mode[1] - 2.0) < 1e-8
    jax_runs = [json.loads(run([PY, "-c", JAX_SEED])[0]) for _ in range(2 if QUICK else 3)]
    jfit = median([r["fit_s"] for r in jax_runs])
    jimp = median([r["import_s"] for r in jax_runs])
    row(f"seed example, whole process (JAX import {jimp * 1e3:.0f} ms not counted)", jfit, median(times), "<= 5 ms")

    with tempfile.TemporaryDirectory() as tmp:
        for n, d, target_warm, target_cold in [(100_000, 50, "<= 90 ms", "<= 150 ms"), (1_000_000, 20, "<= 280 ms", None)]:
            if QUICK and n > 100_000:
                continue
            prefix = make_logreg(tmp, n, d)
            init = json.dumps([0.0] * d)
            data = json.dumps([f"@{prefix}_X.npy", f"@{prefix}_y.npy"])
            out, _ = run([BENCH, prefix + ".sir", init, data, "3" if QUICK else "10"])
            s = json.loads(out)
            out, _ = run([PY, "-c", JAX_LOGREG, prefix + "_X.npy", prefix + "_y.npy", "2" if QUICK else "5"])
            j = json.loads(out)
            method = "L-BFGS" if s["method"].startswith("Lbfgs") else s["method"]
            row(f"logistic N={n:.0e}, D={d}, warm fit (JAX: L-BFGS-B {j['nit']} it + Hessian "
                f"{j['warm_hessian_s'] * 1e3:.0f} ms; saddle: {method} {s['iterations']} it, {s['grad_evals']} "
                f"gradients + {s['hess_evals']} Hessian(s))",
                j["warm_s"], s["warm_fit_median_s"], target_warm)
            if n == 100_000 and not QUICK:
                out, _ = run([BENCH, prefix + ".sir", init, data, "3", "newton"])
                nt = json.loads(out)
                row(f"logistic N={n:.0e}, D={d}, warm fit, Newton forced ({nt['iterations']} it, "
                    f"{nt['hess_evals']} Hessians)", j["warm_s"], nt["warm_fit_median_s"], target_warm)
            if target_cold:
                with open(os.path.join(tmp, "init.json"), "w") as f:
                    f.write(init)
                cold = []
                for _ in range(2 if QUICK else 5):
                    _, dt = run([SADDLE, "laplace", prefix + ".sir", "--init", "@" + os.path.join(tmp, "init.json"),
                                 "--data", data, "--json"])
                    cold.append(dt)
                row(f"logistic N={n:.0e}, D={d}, cold from .npy (JAX: after import)", j["cold_after_import_s"],
                    median(cold), target_cold)
            print(f"  saddle build: differentiate {s['differentiate_s'] * 1e3:.1f} ms, simplify "
                  f"{s['simplify_s'] * 1e3:.1f} ms, compile {s['compile_s'] * 1e3:.1f} ms; Hessian function "
                  f"{s['hessian_ops'][0]} -> {s['hessian_ops'][1]} ops; first fit {s['first_fit_s'] * 1e3:.1f} ms "
                  f"(optimiser {s['optimize_s'] * 1e3:.1f} ms, Hessian at the mode {s['hessian_s'] * 1e3:.1f} ms); "
                  f"one call of [f, grad f] {s['grad_call_s'] * 1e3:.2f} ms, of [f, grad f, Hessian] "
                  f"{s['hess_call_s'] * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
