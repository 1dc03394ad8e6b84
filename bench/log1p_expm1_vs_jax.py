"""log1p, expm1 and softplus in saddle's runtime against jax.jit, at 1e6
f64 and f32 elements, in one run.

Usage: python bench/log1p_expm1_vs_jax.py [OTHER_SADDLE_BINARY]

Needs jax and numpy. Each row is an elementwise function of one array
(uniform on [-5, 5]) as a `.sir` function, timed by `saddle bench`
(median and fastest call), and the same expression under jax.jit
(median and fastest call, block_until_ready after each). Given a second
saddle binary (an older build), its times are printed beside, measured in
the same pass, so that a comparison is not skewed by the machine's load
changing between runs.
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
OTHER = sys.argv[1] if len(sys.argv) > 1 else None
N = 10**6
REPEAT = 60

# Each form as the lines of a .sir body (%x in, %y out; T is the dtype),
# and as a jax function.
FORMS = [
    ("log x", ["%y: T = log %x"], jnp.log),
    ("exp x", ["%y: T = exp %x"], jnp.exp),
    ("log1p x", ["%y: T = log1p %x"], jnp.log1p),
    ("expm1 x", ["%y: T = expm1 %x"], jnp.expm1),
    (
        "softplus (Tensor::softplus: max(x,0) + log1p(exp(-|x|)))",
        [
            "%zero: T = const {value = 0.0}",
            "%p: B = gt %x, %zero",
            "%r: T = select %p, %x, %zero",
            "%n: T = neg %x",
            "%m: T = select %p, %n, %x",
            "%e: T = exp %m",
            "%l: T = log1p %e",
            "%y: T = add %r, %l",
        ],
        jax.nn.softplus,
    ),
    (
        "log(1 + exp(x)) written out",
        ["%one: T = const {value = 1.0}", "%e: T = exp %x", "%s: T = add %one, %e", "%y: T = log %s"],
        lambda x: jnp.log(1 + jnp.exp(x)),
    ),
    (
        "log1p(exp(x))",
        ["%e: T = exp %x", "%y: T = log1p %e"],
        lambda x: jnp.log1p(jnp.exp(x)),
    ),
    (
        "exp(x) - 1 written out",
        ["%one: T = const {value = 1.0}", "%e: T = exp %x", "%y: T = sub %e, %one"],
        lambda x: jnp.exp(x) - 1,
    ),
]


def sir(lines, dt):
    t, b = f"{dt}[{N}]", f"bool[{N}]"
    body = "\n".join("  " + line.replace(": T", ": " + t).replace(": B", ": " + b) for line in lines)
    return f"func @f(%x: {t}) -> {t} {{\n{body}\n  return %y\n}}\n"


def saddle_bench(binary, path, arg):
    cmd = [binary, "bench", path, "--args", json.dumps([f"@{arg}"]), "--repeat", str(REPEAT)]
    r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)["per_call_ns"]
    return r["median"], r["min"]


def jax_bench(f, x):
    f = jax.jit(f)
    jax.block_until_ready(f(x))
    ts = []
    for _ in range(REPEAT):
        t = time.perf_counter_ns()
        jax.block_until_ready(f(x))
        ts.append(time.perf_counter_ns() - t)
    ts.sort()
    return ts[len(ts) // 2], ts[0]


def ms(p):
    return f"{p[0] / 1e6:.2f} ({p[1] / 1e6:.2f})"


tmp = tempfile.mkdtemp()
x = np.random.default_rng(0).uniform(-5.0, 5.0, N)
head = "| dtype | form | saddle ms, median (min) |"
head += " older saddle |" if OTHER else ""
print(head + " jax.jit |")
print("|---|---|---|" + ("---|" if OTHER else "") + "---|")
for dt, xs in [("f64", x), ("f32", x.astype(np.float32))]:
    arg = os.path.join(tmp, f"x_{dt}.npy")
    np.save(arg, xs)
    jx = jnp.asarray(xs)
    for name, lines, jf in FORMS:
        path = os.path.join(tmp, "f.sir")
        with open(path, "w") as f:
            f.write(sir(lines, dt))
        now = saddle_bench(SADDLE, path, arg)
        old = saddle_bench(OTHER, path, arg) if OTHER else None
        j = jax_bench(jf, jx)
        cells = [dt, name, ms(now)] + ([ms(old)] if OTHER else []) + [ms(j)]
        print("| " + " | ".join(cells) + " |", flush=True)
