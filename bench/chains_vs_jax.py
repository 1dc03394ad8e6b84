"""Elementwise chains: saddle's fused loops against jax.jit, in one run.

Usage: python bench/chains_vs_jax.py [--quick] [--filter SUBSTR]
    [--sizes 1e4,1e6,1e7] [--dtypes f64,f32] [--json FILE] [--saddle PATH]
    [--random K] [--seed S]

Needs jax, numpy and scipy (`python3 -m venv .venv && .venv/bin/pip install
jax==0.10.2 jaxlib==0.10.2 numpy scipy`) and a release build of saddle
(`cargo build --release --bin saddle`).

Three families of chains, each a `.sir` function over n-element vectors:

- log densities and helpers written the way users write them (normal,
  Student-t, Poisson, binomial with a logit link, gamma, the per-row
  logistic-regression log likelihood, softplus and the logistic written out
  next to the op or library helper that means the same, and log-sum-exp's
  elementwise part), each with data vectors and a vector `%theta` of scalar
  parameters. Variants: `value` (the elementwise log density), `grad_x` and
  `grad_theta` (of its sum), `hess_x_diag` (the gradient of the sum of
  `grad_x`, which is the Hessian's diagonal for an elementwise chain) and
  `hess_theta`, all derived by `saddle opt -p grad=K` / `-p hessian=K`, so
  that they are the chains saddle runs;
- random chains of 5 to 50 ops drawn from every elementwise op of the
  format (seeded; each op's operand is kept in its domain by ops that are
  themselves part of the chain, e.g. `abs` then `add 1` before a `log`);
- every op alone, whose times give the "fusion never loses" bound of the
  random chains.

Each chain is timed with `saddle bench` (median per call) and under
jax.jit (the same expression, read from the same text by `sir_jax.py`;
derivatives by `jax.grad`/`jax.hessian`; warm, block_until_ready, median),
at each size and dtype. Reported: jax / saddle (target >= 1.5 at 1e6 and
1e7), saddle / a numpy copy of the bytes the fused loop must move (its
n-element inputs and outputs; target <= 1.3 for memory-bound chains, those
with no transcendental op on n-element values), written-out / op form
(target <= 1.2), random chain / sum of its ops' single-op times (target
<= 1.2), and the largest relative error of saddle's result against jax's
(sizes up to 1e6; max |s - j| / max |j|).
"""
import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sir_jax  # noqa: E402  (enables jax_enable_x64)

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from scipy import special  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NP_DTYPES = {"f64": np.float64, "f32": np.float32}
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


# ---------------------------------------------------------------------------
# Writing `.sir` functions.


class Func:
    """A function under construction: n-element vector parameters, then an
    optional `%theta` of scalar parameters; one `%vK` per statement."""

    def __init__(self, name, n, dt, vectors, n_theta=0):
        self.name, self.n, self.dt = name, n, dt
        self.vectors, self.n_theta = list(vectors), n_theta
        self.lines, self.k = [], 0

    @property
    def vec(self):
        return f"{self.dt}[{self.n}]"

    def op(self, op, *args, attrs="", ty=None):
        self.k += 1
        name = f"%v{self.k}"
        operands = (" " + ", ".join(args)) if args else ""
        braces = f" {{{attrs}}}" if attrs else ""
        self.lines.append(f"  {name}: {ty or self.vec} = {op}{operands}{braces}")
        return name

    def splat(self, value):
        """An n-element constant (a splat)."""
        return self.op("const", attrs=f"value = {float(value)!r}")

    def scalar(self, value):
        return self.op("const", attrs=f"value = {float(value)!r}", ty=f"{self.dt}[]")

    def theta(self, i):
        """The i-th scalar parameter, as a scalar."""
        s = self.op("slice", "%theta", attrs=f"start = [{i}], limit = [{i + 1}]", ty=f"{self.dt}[1]")
        return self.op("reshape", s, attrs="shape = []", ty=f"{self.dt}[]")

    def bcast(self, scalar):
        """A scalar broadcast to n elements."""
        return self.op("broadcast_in_dim", scalar, attrs=f"shape = [{self.n}], dims = []")

    def text(self, result, summed=False):
        params = [f"%{v}: {self.vec}" for v in self.vectors]
        if self.n_theta:
            params.append(f"%theta: {self.dt}[{self.n_theta}]")
        lines = list(self.lines)
        ret = self.vec
        if summed:
            lines.append(f"  %total: {self.dt}[] = reduce_sum {result} {{axes = [0]}}")
            result, ret = "%total", f"{self.dt}[]"
        return (f"func @{self.name}({', '.join(params)}) -> {ret} {{\n" + "\n".join(lines)
                + f"\n  return {result}\n}}\n")


# Each chain: data generators (one per vector parameter, by a numpy
# Generator and n), theta, and a body writing the elementwise log density.


def normal(f):
    mu, sigma = f.theta(0), f.theta(1)
    z = f.op("div", f.op("sub", "%x", f.bcast(mu)), f.bcast(sigma))
    quad = f.op("mul", f.splat(-0.5), f.op("mul", z, z))
    norm = f.op("add", f.op("log", sigma, ty=f"{f.dt}[]"), f.scalar(HALF_LOG_2PI), ty=f"{f.dt}[]")
    return f.op("sub", quad, f.bcast(norm))


def student_t(f):
    nu, mu, sigma = f.theta(0), f.theta(1), f.theta(2)
    s = f"{f.dt}[]"
    half = f.scalar(0.5)
    a = f.op("mul", half, f.op("add", nu, f.scalar(1.0), ty=s), ty=s)  # (nu + 1) / 2
    c = f.op("sub", f.op("lgamma", a, ty=s), f.op("lgamma", f.op("mul", half, nu, ty=s), ty=s), ty=s)
    c = f.op("sub", c, f.op("mul", half, f.op("log", f.op("mul", nu, f.scalar(math.pi), ty=s), ty=s), ty=s), ty=s)
    c = f.op("sub", c, f.op("log", sigma, ty=s), ty=s)
    z = f.op("div", f.op("sub", "%x", f.bcast(mu)), f.bcast(sigma))
    t = f.op("div", f.op("mul", z, z), f.bcast(nu))
    lg = f.op("log", f.op("add", f.splat(1.0), t))
    return f.op("sub", f.bcast(c), f.op("mul", f.bcast(a), lg))


def poisson(f):
    lam = f.theta(0)
    s = f"{f.dt}[]"
    loglam = f.op("log", lam, ty=s)
    a = f.op("mul", "%x", f.bcast(loglam))
    b = f.op("lgamma", f.op("add", "%x", f.splat(1.0)))
    return f.op("sub", f.op("sub", a, f.bcast(lam)), b)


def binomial_logit(f):
    # %y successes out of 10 trials; logit of the probability a + b x.
    eta = f.op("add", f.bcast(f.theta(0)), f.op("mul", f.bcast(f.theta(1)), "%x"))
    trials = f.splat(10.0)
    one = f.splat(1.0)
    lchoose = f.op("sub", f.op("lgamma", f.op("add", trials, one)),
                   f.op("add", f.op("lgamma", f.op("add", "%y", one)),
                        f.op("lgamma", f.op("add", f.op("sub", trials, "%y"), one))))
    softplus = f.op("log", f.op("add", one, f.op("exp", eta)))
    return f.op("add", lchoose, f.op("sub", f.op("mul", "%y", eta), f.op("mul", trials, softplus)))


def gamma(f):
    alpha, beta = f.theta(0), f.theta(1)
    s = f"{f.dt}[]"
    c = f.op("sub", f.op("mul", alpha, f.op("log", beta, ty=s), ty=s), f.op("lgamma", alpha, ty=s), ty=s)
    am1 = f.op("sub", alpha, f.scalar(1.0), ty=s)
    body = f.op("sub", f.op("mul", f.bcast(am1), f.op("log", "%x")), f.op("mul", f.bcast(beta), "%x"))
    return f.op("add", f.bcast(c), body)


def logreg(f):
    # y eta - log(1 + exp(eta)), eta = a + b x: one row's log likelihood.
    eta = f.op("add", f.bcast(f.theta(0)), f.op("mul", f.bcast(f.theta(1)), "%x"))
    softplus = f.op("log", f.op("add", f.splat(1.0), f.op("exp", eta)))
    return f.op("sub", f.op("mul", "%y", eta), softplus)


def softplus_written(f):
    return f.op("log", f.op("add", f.splat(1.0), f.op("exp", "%x")))


def softplus_helper(f):
    return f.op("call", "%x", attrs="callee = @log1p_exp")


def logistic_written(f):
    return f.op("div", f.splat(1.0), f.op("add", f.splat(1.0), f.op("exp", f.op("neg", "%x"))))


def logistic_op(f):
    return f.op("logistic", "%x")


def lse_part(f):
    return f.op("exp", f.op("sub", "%x", f.bcast(f.theta(0))))


def gaussian(m, s):
    return lambda rng, n: rng.normal(m, s, n)


CHAINS = {
    # name: (body, vector data generators, theta or None)
    "normal": (normal, {"x": gaussian(0.3, 1.5)}, [0.3, 1.5]),
    "student_t": (student_t, {"x": gaussian(0.0, 2.0)}, [4.0, 0.2, 1.3]),
    "poisson": (poisson, {"x": lambda rng, n: rng.poisson(3.0, n).astype(float)}, [2.7]),
    "binomial_logit": (binomial_logit, {"x": gaussian(0.0, 1.0), "y": lambda rng, n: rng.binomial(10, 0.4, n).astype(float)}, [-0.3, 0.8]),
    "gamma": (gamma, {"x": lambda rng, n: rng.gamma(2.0, 1.0, n)}, [2.1, 0.9]),
    "logreg": (logreg, {"x": gaussian(0.0, 1.0), "y": lambda rng, n: (rng.uniform(size=n) < 0.4).astype(float)}, [-0.3, 0.8]),
    "softplus_written": (softplus_written, {"x": gaussian(0.0, 3.0)}, None),
    "softplus_helper": (softplus_helper, {"x": gaussian(0.0, 3.0)}, None),
    "logistic_written": (logistic_written, {"x": gaussian(0.0, 3.0)}, None),
    "logistic_op": (logistic_op, {"x": gaussian(0.0, 3.0)}, None),
    "lse_part": (lse_part, {"x": gaussian(0.0, 1.0)}, [2.5]),
}
# Written-out form -> the op (or library helper) that means the same.
WRITTEN = {"softplus_written": "softplus_helper", "logistic_written": "logistic_op"}

# ---------------------------------------------------------------------------
# Random chains.

FLOAT_UNARY = ["neg", "abs", "sign", "exp", "log", "log1p", "expm1", "sin", "cos", "tanh", "logistic",
               "sqrt", "rsqrt", "lgamma", "digamma", "erf", "polygamma", "integer_pow"]
FLOAT_BINARY = ["add", "sub", "mul", "div", "pow", "max", "min"]
COMPARE = ["eq", "ne", "lt", "le", "gt", "ge"]
BOOL_OPS = ["and", "or", "not"]
ALL_OPS = FLOAT_UNARY + FLOAT_BINARY + COMPARE + BOOL_OPS + ["select"]
TRANSCENDENTAL = {"exp", "log", "log1p", "expm1", "sin", "cos", "tanh", "logistic", "sqrt", "rsqrt",
                  "lgamma", "digamma", "polygamma", "erf", "pow"}


def _span(vals):
    vals = [v for v in vals if not math.isnan(v)]
    return (min(vals), max(vals))


def unary_range(op, attrs, lo, hi):
    """A range holding op(v) for every v in [lo, hi] (the operand is in
    the op's domain)."""
    mono = {"exp": math.exp, "log": math.log, "log1p": math.log1p, "expm1": math.expm1, "tanh": math.tanh,
            "logistic": lambda v: 1 / (1 + math.exp(-v)), "sqrt": math.sqrt, "rsqrt": lambda v: 1 / math.sqrt(v),
            "erf": math.erf, "digamma": special.digamma, "neg": lambda v: -v}
    if op in mono:
        return _span([mono[op](lo), mono[op](hi)])
    if op == "abs":
        return (0.0 if lo <= 0 <= hi else min(abs(lo), abs(hi)), max(abs(lo), abs(hi)))
    if op in ("sign", "sin", "cos"):
        return (-1.0, 1.0)
    if op == "lgamma":  # operand >= 1: minimum near 1.4616
        return (-0.13, max(math.lgamma(lo), math.lgamma(hi), 0.0))
    if op == "polygamma":
        return _span([special.polygamma(1, lo), special.polygamma(1, hi)])
    if op == "integer_pow":
        y = attrs
        ends = [lo ** y, hi ** y]
        if y % 2 == 0 and lo <= 0 <= hi:
            ends.append(0.0)
        return _span(ends)
    raise ValueError(op)


def binary_range(op, a, b):
    (alo, ahi), (blo, bhi) = a, b
    if op == "add":
        return (alo + blo, ahi + bhi)
    if op == "sub":
        return (alo - bhi, ahi - blo)
    if op == "mul":
        return _span([alo * blo, alo * bhi, ahi * blo, ahi * bhi])
    if op == "div":  # denominator > 0
        return _span([alo / blo, alo / bhi, ahi / blo, ahi / bhi])
    if op == "pow":  # base > 0
        return _span([alo ** blo, alo ** bhi, ahi ** blo, ahi ** bhi])
    if op == "max":
        return (max(alo, blo), max(ahi, bhi))
    if op == "min":
        return (min(alo, blo), min(ahi, bhi))
    raise ValueError(op)


class RandomChain:
    """A random chain over `%x` (in [-2, 2]) and `%y` (in [0.5, 2]): each
    step applies the next op of a shuffled deck of every op to the current
    value; `ops` records (op, operand kinds) for the single-op bound."""

    def __init__(self, rng, length, deck):
        self.rng, self.deck = rng, deck
        self.stmts, self.ops, self.k = [], [], 0
        self.values = [("%x", (-2.0, 2.0)), ("%y", (0.5, 2.0))]
        cur = ("%x", (-2.0, 2.0))
        while len(self.ops) < length:
            cur = self.step(cur)
        self.result = cur[0]

    def emit(self, op, operands, kinds, attrs="", is_bool=False):
        self.k += 1
        name = f"%c{self.k}"
        self.stmts.append((name, op, operands, attrs, is_bool))
        self.ops.append((op, kinds, attrs))
        return name

    def un(self, op, v, attrs_text="", attr=None):
        name = self.emit(op, [v[0]], "v", attrs_text)
        out = (name, unary_range(op, attr, *v[1]))
        self.values.append(out)
        return out

    def bounded(self, v, bound=20.0):
        lo, hi = v[1]
        return self.un("tanh", v) if max(abs(lo), abs(hi)) > bound else v

    def positive(self, v):
        """v, made >= 1 by `abs` and `add 1` unless it already is."""
        v = self.bounded(v, 100.0)
        if v[1][0] >= 1.0:
            return v
        v = self.un("abs", v)
        name = self.emit("add", [v[0], "splat:1.0"], "vs")
        out = (name, (v[1][0] + 1.0, v[1][1] + 1.0))
        self.values.append(out)
        return out

    def other(self):
        """A second operand: an earlier value, an input, or a splat."""
        r = self.rng.random()
        if r < 0.4:
            c = round(self.rng.uniform(0.5, 2.0) * self.rng.choice([-1, 1]), 3)
            return (f"splat:{c!r}", (c, c)), "s"
        return self.rng.choice(self.values), "v"

    def binary(self, op, cur, b, kind):
        name = self.emit(op, [cur[0], b[0]], "v" + kind)
        out = (name, binary_range(op, cur[1], b[1]))
        self.values.append(out)
        return out

    def mask(self):
        a = self.bounded(self.rng.choice(self.values), 100.0)
        b, kind = self.other()
        return self.emit(self.rng.choice(COMPARE), [a[0], b[0]], "v" + kind, is_bool=True)

    def step(self, cur):
        if not self.deck:
            self.deck.extend(ALL_OPS)
            self.rng.shuffle(self.deck)
        op = self.deck.pop()
        cur = self.bounded(cur, 100.0)
        if op in ("neg", "abs", "sign", "sin", "cos", "tanh", "logistic", "erf"):
            return self.un(op, cur)
        if op in ("exp", "expm1"):
            return self.un(op, self.bounded(cur))
        if op == "log1p":
            if cur[1][0] <= -0.5:
                cur = self.un("abs", cur)
            return self.un(op, cur)
        if op in ("log", "sqrt", "rsqrt", "lgamma", "digamma"):
            return self.un(op, self.positive(cur))
        if op == "polygamma":
            return self.un(op, self.positive(cur), "n = 1", 1)
        if op == "integer_pow":
            y = self.rng.choice([2, 3, -1, -2])
            base = self.positive(cur) if y < 0 else self.bounded(cur)
            return self.un(op, base, f"y = {y}", y)
        if op in ("add", "sub", "mul", "max", "min"):
            b, kind = self.other()
            if op == "mul":
                cur, b = self.bounded(cur), (b if kind == "s" else self.bounded(b))
            else:
                b = b if kind == "s" else self.bounded(b, 100.0)
            return self.binary(op, cur, b, kind)
        if op == "div":
            b, kind = self.other()
            b = (f"splat:{abs(b[1][0])!r}", (abs(b[1][0]),) * 2) if kind == "s" else self.positive(b)
            return self.binary(op, cur, b, kind)
        if op == "pow":
            base = self.positive(cur)
            b, kind = self.other()
            b = (f"splat:{b[1][0] / 2!r}", (b[1][0] / 2,) * 2) if kind == "s" else self.un("tanh", b)
            return self.binary(op, base, b, kind)
        # select, fed by a compare, and/or/not of compares.
        m = self.mask()
        if op in ("and", "or"):
            m = self.emit(op, [m, self.mask()], "bb", is_bool=True)
        elif op == "not":
            m = self.emit("not", [m], "b", is_bool=True)
        b, kind = self.other()
        if kind == "v":
            b = self.bounded(b, 100.0)
        name = self.emit("select", [m, cur[0], b[0]], "bv" + kind)
        out = (name, (min(cur[1][0], b[1][0]), max(cur[1][1], b[1][1])))
        self.values.append(out)
        return out

    def text(self, name, n, dt):
        vec, bvec = f"{dt}[{n}]", f"bool[{n}]"
        lines, splats = [], {}

        def operand(a):
            if not a.startswith("splat:"):
                return a
            if a not in splats:
                splats[a] = f"%s{len(splats)}"
                lines.append(f"  {splats[a]}: {vec} = const {{value = {float(a[6:])!r}}}")
            return splats[a]

        for dest, op, operands, attrs, is_bool in self.stmts:
            ops = ", ".join(operand(a) for a in operands)
            braces = f" {{{attrs}}}" if attrs else ""
            lines.append(f"  {dest}: {bvec if is_bool else vec} = {op} {ops}{braces}")
        return f"func @{name}(%x: {vec}, %y: {vec}) -> {vec} {{\n" + "\n".join(lines) + f"\n  return {self.result}\n}}\n"


def single_op_text(op, kinds, attrs, n, dt):
    """One op alone, on operands of the given kinds (v: a vector parameter,
    s: a splat constant, b: a bool vector parameter)."""
    vec, bvec = f"{dt}[{n}]", f"bool[{n}]"
    params, lines, operands = [], [], []
    for i, k in enumerate(kinds):
        if k == "s":
            lines.append(f"  %s{i}: {vec} = const {{value = 1.25}}")
            operands.append(f"%s{i}")
        else:
            params.append(f"%a{i}: {bvec if k == 'b' else vec}")
            operands.append(f"%a{i}")
    out = bvec if op in COMPARE or op in BOOL_OPS else vec
    braces = f" {{{attrs}}}" if attrs else ""
    lines.append(f"  %r: {out} = {op} {', '.join(operands)}{braces}")
    return f"func @single({', '.join(params)}) -> {out} {{\n" + "\n".join(lines) + "\n  return %r\n}\n"


# ---------------------------------------------------------------------------
# Running saddle and jax.


class Saddle:
    def __init__(self, path, tmp):
        self.path, self.tmp, self.k = path, tmp, 0

    def write(self, text):
        self.k += 1
        p = os.path.join(self.tmp, f"f{self.k}.sir")
        with open(p, "w") as fh:
            fh.write(text)
        return p

    def run(self, *args):
        r = subprocess.run([self.path, *args], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"saddle {' '.join(args[:1])}: {r.stderr.strip()[:2000]}")
        return r.stdout

    def opt(self, text, *passes):
        args = ["opt", self.write(text)]
        for p in passes:
            args += ["-p", p]
        return self.run(*args)

    def check(self, text):
        return self.run("check", self.write(text))

    def bench(self, text, arg_paths, repeat, max_time):
        out = self.run("bench", self.write(text), "--args", json.dumps([f"@{p}" for p in arg_paths]),
                       "--repeat", str(repeat), "--warmup", "20", "--max-time", str(max_time))
        return json.loads(out)["per_call_ns"]["median"]

    def eval(self, text, arg_paths):
        out = self.run("eval", self.write(text), "--args", json.dumps([f"@{p}" for p in arg_paths]))
        return json.loads(out)[0]


def first_func_name(module_text):
    start = module_text.index("func @") + len("func @")
    return module_text[start:module_text.index("(", start)]


def jax_time(fn, args, repeat):
    jax.block_until_ready(fn(*args))
    ts = []
    for _ in range(repeat):
        t = time.perf_counter_ns()
        jax.block_until_ready(fn(*args))
        ts.append(time.perf_counter_ns() - t)
    ts.sort()
    return ts[len(ts) // 2]


_copy_cache = {}


def copy_time(nbytes, repeat):
    """Median time of a numpy copy that reads and writes nbytes in all."""
    if nbytes not in _copy_cache:
        src = np.ones(max(nbytes // 2, 1), dtype=np.uint8)
        dst = np.empty_like(src)
        _copy_cache[nbytes] = jax_time(lambda: np.copyto(dst, src), (), max(repeat, 5))
    return _copy_cache[nbytes]


def rel_err(s, j):
    s, j = np.asarray(s, dtype=np.float64), np.asarray(j, dtype=np.float64)
    scale = np.max(np.abs(j)) if j.size else 0.0
    return float(np.max(np.abs(s - j)) / (scale if scale > 0 else 1.0))


def memory_bound(module_text, n):
    """No transcendental op on an n-element value in the function benched."""
    body = module_text.split("\n}\n")[0]
    for line in body.splitlines():
        if f"[{n}] = " in line and line.split("= ", 1)[1].split(" ")[0] in TRANSCENDENTAL:
            return False
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1e6 f64 only, few repeats")
    ap.add_argument("--filter", default="", help="only rows whose name contains this")
    ap.add_argument("--sizes", default="1e4,1e6,1e7")
    ap.add_argument("--dtypes", default="f64,f32")
    ap.add_argument("--json", help="write every row to this file")
    ap.add_argument("--saddle", default=os.path.join(ROOT, "target", "release", "saddle"))
    ap.add_argument("--random", type=int, default=8, help="number of random chains")
    ap.add_argument("--seed", type=int, default=17)
    opts = ap.parse_args()
    sizes = [int(float(s)) for s in opts.sizes.split(",")]
    dtypes = opts.dtypes.split(",")
    if opts.quick:
        sizes, dtypes = [10**6], ["f64"]
    tmp = tempfile.mkdtemp(prefix="chains")
    sad = Saddle(opts.saddle, tmp)
    rows = []

    # The random chains, the same at every size and dtype.
    rng = random.Random(opts.seed)
    deck = []
    chains = [RandomChain(rng, rng.randint(5, 45), deck) for _ in range(opts.random)]

    def reps(n):
        if opts.quick:
            return 10
        return 200 if n <= 10**4 else 20 if n <= 10**6 else 3

    for dt in dtypes:
        for n in sizes:
            repeat, max_time = reps(n), 10
            drng = np.random.default_rng(0)
            data_cache = {}

            def save(key, arr):
                p = os.path.join(tmp, f"{key}_{n}_{dt}.npy")
                np.save(p, np.asarray(arr, dtype=NP_DTYPES[dt] if arr.dtype != np.bool_ else np.bool_))
                data_cache[p] = np.load(p)
                return p

            def record(name, variant, text, paths, jfn, outs_n, check=True):
                s_ns = sad.bench(text, paths, repeat, max_time)
                jargs = [jnp.asarray(data_cache[p]) for p in paths]
                jfn = jax.jit(jfn)
                j_ns = jax_time(jfn, jargs, repeat)
                nbytes = sum(data_cache[p].nbytes for p in paths if data_cache[p].size == n)
                nbytes += outs_n * n * np.dtype(NP_DTYPES[dt]).itemsize
                c_ns = copy_time(nbytes, repeat)
                err = None
                if check and n <= 10**6:
                    err = rel_err(sad.eval(text, paths), jfn(*jargs))
                row = {"chain": name, "variant": variant, "n": n, "dtype": dt, "saddle_ns": s_ns,
                       "jax_ns": j_ns, "jax_over_saddle": j_ns / s_ns, "copy_ns": c_ns,
                       "bandwidth_ratio": s_ns / c_ns, "memory_bound": memory_bound(sad.check(text), n), "rel_err": err}
                rows.append(row)
                print(f"{name:18s} {variant:12s} {n:>9d} {dt} saddle {s_ns / 1e6:9.3f} ms  jax {j_ns / 1e6:9.3f} ms  "
                      f"jax/saddle {j_ns / s_ns:6.2f}  vs copy {s_ns / c_ns:6.2f}"
                      + ("  mem" if row["memory_bound"] else "")
                      + (f"  err {err:.1e}" if err is not None else ""), flush=True)
                return row

            # Named chains.
            for name, (body, gens, theta) in CHAINS.items():
                variants = ["value", "grad_x", "hess_x_diag"] + (["grad_theta", "hess_theta"] if theta else [])
                variants = [v for v in variants if opts.filter in f"{name}/{v}"]
                if not variants:
                    continue
                paths = [save(f"{name}_{v}", g(drng, n)) for v, g in gens.items()]
                if theta:
                    paths.append(save(f"{name}_theta", np.array(theta)))
                f = Func(name, n, dt, gens.keys(), len(theta or []))
                res = body(f)
                value = f.text(res)
                summed = f.text(res, summed=True)
                jvalue = sir_jax.load(sad.check(value))[0]
                jsum = sir_jax.load(sad.check(summed))[0]
                last = len(paths) - 1

                def hdiag(*a, jsum=jsum):
                    return jnp.sum(jax.grad(jsum, 0)(*a))

                for v in variants:
                    try:
                        if v == "value":
                            record(name, v, value, paths, jvalue, 1)
                        elif v == "grad_x":
                            record(name, v, sad.opt(summed, "grad=0"), paths, jax.grad(jsum, 0), 1)
                        elif v == "grad_theta":
                            record(name, v, sad.opt(summed, f"grad={last}"), paths, jax.grad(jsum, last), 0)
                        elif v == "hess_theta":
                            record(name, v, sad.opt(summed, f"hessian={last}"), paths, jax.hessian(jsum, last), 0)
                        elif v == "hess_x_diag":
                            g = sad.opt(summed, "grad=0")
                            params = ", ".join([f"%{k}: {f.vec}" for k in gens] + ([f"%theta: {dt}[{len(theta)}]"] if theta else []))
                            operands = ", ".join([f"%{k}" for k in gens] + (["%theta"] if theta else []))
                            wrapper = (f"func @hdiag({params}) -> {dt}[] {{\n"
                                       f"  %g: {f.vec} = call {operands} {{callee = @{first_func_name(g)}}}\n"
                                       f"  %s: {dt}[] = reduce_sum %g {{axes = [0]}}\n  return %s\n}}\n")
                            record(name, v, sad.opt(wrapper + g, "grad=0"), paths, jax.grad(hdiag, 0), 1)
                    except RuntimeError as e:
                        print(f"{name} {v} {n} {dt}: {e}", file=sys.stderr)

            # Random chains and the single ops they are made of.
            singles = {}
            xs = save("rx", drng.uniform(-2.0, 2.0, n))
            ys = save("ry", drng.uniform(0.5, 2.0, n))
            for i, ch in enumerate(chains):
                name = f"random{i}"
                if opts.filter not in f"{name}/value":
                    continue
                text = ch.text(name, n, dt)
                try:
                    row = record(name, "value", text, [xs, ys], sir_jax.load(text)[0], 1)
                except RuntimeError as e:
                    print(f"{name} {n} {dt}: {e}", file=sys.stderr)
                    continue
                total = 0.0
                for op, kinds, attrs in ch.ops:
                    key = (op, kinds, attrs)
                    if key not in singles:
                        args = []
                        for j, k in enumerate(kinds):
                            if k == "v":
                                args.append(save(f"sv{j}", drng.uniform(1.0, 2.0, n)))
                            elif k == "b":
                                args.append(save(f"sb{j}", drng.uniform(size=n) < 0.5))
                        singles[key] = sad.bench(single_op_text(op, kinds, attrs, n, dt), args, repeat, max_time)
                    total += singles[key]
                row["ops"] = len(ch.ops)
                row["single_ops_ns"] = total
                row["fusion_ratio"] = row["saddle_ns"] / total
                print(f"{'':18s} {len(ch.ops)} ops; sum of single ops {total / 1e6:.3f} ms; chain / sum {row['fusion_ratio']:.2f}",
                      flush=True)

    # Written-out forms against the op that means the same.
    index = {(r["chain"], r["variant"], r["n"], r["dtype"]): r for r in rows}
    for r in rows:
        op = WRITTEN.get(r["chain"])
        o = index.get((op, r["variant"], r["n"], r["dtype"]))
        if o:
            r["written_over_op"] = r["saddle_ns"] / o["saddle_ns"]

    # Summary.
    big = [r for r in rows if r["n"] >= 10**6]
    checks = {
        "jax/saddle >= 1.5 (n >= 1e6)": [r["jax_over_saddle"] >= 1.5 for r in big],
        "saddle/copy <= 1.3 (memory-bound, n >= 1e6)": [r["bandwidth_ratio"] <= 1.3 for r in big if r["memory_bound"]],
        "written-out/op <= 1.2": [r["written_over_op"] <= 1.2 for r in rows if "written_over_op" in r],
        "random chain <= 1.2 x sum of single ops": [r["fusion_ratio"] <= 1.2 for r in rows if "fusion_ratio" in r],
    }
    print()
    print(f"jax {jax.__version__}, numpy {np.__version__}, {os.cpu_count()} CPUs, load {os.getloadavg()}")
    print("| chain | variant | n | dtype | saddle ms | jax ms | jax/saddle | saddle/copy | other | rel. err |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        other = ""
        if "written_over_op" in r:
            other = f"written/op {r['written_over_op']:.2f}"
        if "fusion_ratio" in r:
            other = f"{r['ops']} ops, chain/sum {r['fusion_ratio']:.2f}"
        bw = f"{r['bandwidth_ratio']:.2f}" + (" (mem)" if r["memory_bound"] else "")
        err = f"{r['rel_err']:.1e}" if r["rel_err"] is not None else "—"
        print(f"| {r['chain']} | {r['variant']} | {r['n']:.0e} | {r['dtype']} | {r['saddle_ns'] / 1e6:.3f} | "
              f"{r['jax_ns'] / 1e6:.3f} | {r['jax_over_saddle']:.2f} | {bw} | {other} | {err} |")
    print()
    for k, v in checks.items():
        print(f"{k}: {sum(v)} of {len(v)} met")
    if opts.json:
        with open(opts.json, "w") as fh:
            json.dump({"jax": jax.__version__, "load": os.getloadavg(), "rows": rows,
                       "random_chains": [c.text(f"random{i}", "N", "f64") for i, c in enumerate(chains)],
                       "targets": {k: [sum(v), len(v)] for k, v in checks.items()}}, fh, indent=1)


if __name__ == "__main__":
    main()
