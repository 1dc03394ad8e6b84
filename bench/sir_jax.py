"""A small interpreter of the saddle IR text format (`.sir`) on top of JAX.

`load(path_or_text)` parses a module and returns, for each function, a
Python callable built from `jax.lax` ops, so that JAX's own transformations
(`jax.grad`, `jax.hessian`, `jax.vmap`, `jax.jit`) apply to exactly the
function saddle sees. The benchmarks use it to compare saddle with JAX on
the same log density, and to check saddle's transformed IR against JAX's
derivatives of the original.

Only what the text format specifies is supported; the parser is lenient
(it trusts `saddle check` for validation).
"""

import re

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.scipy import special

jax.config.update("jax_enable_x64", True)

DTYPES = {"f32": jnp.float32, "f64": jnp.float64, "i32": jnp.int32, "i64": jnp.int64, "bool": jnp.bool_}

TOKEN = re.compile(
    r"\s*(?:(#[^\n]*)|(->)|([%@][A-Za-z0-9_.]+)|([A-Za-z_][A-Za-z0-9_]*)"
    r"|(-?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|inf|nan))|([\[\](){},:=]))"
)


def tokenize(text):
    pos, out = 0, []
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            if text[pos:].strip() == "":
                break
            raise SyntaxError(f"cannot tokenize at {text[pos:pos + 30]!r}")
        pos = m.end()
        comment, arrow, name, word, num, punct = m.groups()
        if comment:
            continue
        tok = arrow or name or word or num or punct
        if tok is not None:
            out.append(tok)
    return out


class Parser:
    def __init__(self, toks):
        self.t, self.i = toks, 0

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else None

    def next(self):
        tok = self.t[self.i]
        self.i += 1
        return tok

    def expect(self, s):
        tok = self.next()
        if tok != s:
            raise SyntaxError(f"expected {s!r}, found {tok!r}")

    def type_(self):
        dt = self.next()
        self.expect("[")
        shape = []
        while self.peek() != "]":
            shape.append(int(self.next()))
            if self.peek() == ",":
                self.next()
        self.expect("]")
        return dt, tuple(shape)

    def value(self):
        tok = self.peek()
        if tok == "[":
            self.next()
            items = []
            while self.peek() != "]":
                items.append(self.value())
                if self.peek() == ",":
                    self.next()
            self.expect("]")
            return items
        tok = self.next()
        if tok in ("true", "false"):
            return tok == "true"
        if tok in DTYPES:
            return tok
        if tok in ("inf", "-inf", "nan"):
            return float(tok)
        if re.fullmatch(r"-?\d+", tok):
            return int(tok)
        return float(tok)

    def func(self):
        self.expect("func")
        name = self.next()[1:]
        self.expect("(")
        params = []
        while self.peek() != ")":
            p = self.next()[1:]
            self.expect(":")
            params.append((p, self.type_()))
            if self.peek() == ",":
                self.next()
        self.expect(")")
        self.expect("->")
        if self.peek() == "(":
            self.next()
            while self.peek() != ")":
                self.type_()
                if self.peek() == ",":
                    self.next()
            self.next()
        else:
            self.type_()
        self.expect("{")
        stmts = []
        while self.peek() != "return":
            dest = self.next()[1:]
            ty = None
            if self.peek() == ":":
                self.next()
                ty = self.type_()
            self.expect("=")
            op = self.next()
            args = []
            if self.peek() is not None and self.peek().startswith("%"):
                args.append(self.next()[1:])
                while self.peek() == ",":
                    self.next()
                    args.append(self.next()[1:])
            attrs = {}
            if self.peek() == "{":
                self.next()
                while self.peek() != "}":
                    k = self.next()
                    self.expect("=")
                    attrs[k] = self.value()
                    if self.peek() == ",":
                        self.next()
                self.next()
            stmts.append((dest, ty, op, args, attrs))
        self.next()
        results = [self.next()[1:]]
        while self.peek() == ",":
            self.next()
            results.append(self.next()[1:])
        self.expect("}")
        return name, params, stmts, results


UNARY = {
    "neg": lax.neg, "abs": lax.abs, "sign": lax.sign, "exp": lax.exp, "log": lax.log, "log1p": lax.log1p,
    "expm1": lax.expm1, "sin": lax.sin, "cos": lax.cos, "tanh": lax.tanh, "logistic": lax.logistic,
    "sqrt": lax.sqrt, "rsqrt": lax.rsqrt, "lgamma": lax.lgamma, "digamma": lax.digamma, "erf": lax.erf,
    "not": lax.bitwise_not, "stop_gradient": lax.stop_gradient,
}
BINARY = {
    "add": lax.add, "sub": lax.sub, "mul": lax.mul, "div": lax.div, "pow": lax.pow, "max": lax.max,
    "min": lax.min, "and": lax.bitwise_and, "or": lax.bitwise_or, "eq": lax.eq, "ne": lax.ne, "lt": lax.lt,
    "le": lax.le, "gt": lax.gt, "ge": lax.ge,
}


def apply(op, ty, x, a):
    if op == "const":
        dt, shape = ty
        return jnp.broadcast_to(jnp.asarray(a["value"], dtype=DTYPES[dt]), shape)
    if op == "iota":
        dt, shape = ty
        return lax.broadcasted_iota(DTYPES[dt], shape, a["dim"])
    if op in UNARY:
        return UNARY[op](x[0])
    if op in BINARY:
        return BINARY[op](x[0], x[1])
    if op == "polygamma":
        return special.polygamma(a["n"], x[0])
    if op == "integer_pow":
        return lax.integer_pow(x[0], a["y"])
    if op == "select":
        return lax.select(x[0], x[1], x[2])
    if op == "convert":
        return lax.convert_element_type(x[0], DTYPES[a["dtype"]])
    if op == "broadcast_in_dim":
        return lax.broadcast_in_dim(x[0], tuple(a["shape"]), tuple(a["dims"]))
    if op == "reshape":
        return lax.reshape(x[0], tuple(a["shape"]))
    if op == "transpose":
        return lax.transpose(x[0], tuple(a["perm"]))
    if op in ("reduce_sum", "reduce_max", "reduce_min"):
        f = {"reduce_sum": jnp.sum, "reduce_max": jnp.max, "reduce_min": jnp.min}[op]
        return f(x[0], axis=tuple(a["axes"]))
    if op == "slice":
        r = x[0].ndim
        return lax.slice(x[0], a["start"], a["limit"], a.get("stride", [1] * r))
    if op == "pad":
        r = x[0].ndim
        interior = a.get("interior", [0] * r)
        return lax.pad(x[0], x[1], list(zip(a["low"], a["high"], interior)))
    if op == "concatenate":
        return lax.concatenate(x, a["axis"])
    if op == "dot_general":
        dims = ((a["lhs_contract"], a["rhs_contract"]), (a.get("lhs_batch", []), a.get("rhs_batch", [])))
        return lax.dot_general(x[0], x[1], dims, precision=lax.Precision.HIGHEST)
    if op == "take":
        return jnp.take(x[0], x[1], axis=a.get("axis", 0))
    if op == "segment_sum":
        return jax.ops.segment_sum(x[0], x[1], num_segments=a["num_segments"])
    if op == "cholesky":
        return lax.linalg.cholesky(x[0], symmetrize_input=False)
    if op == "triangular_solve":
        return lax.linalg.triangular_solve(
            x[0], x[1], left_side=a.get("left_side", True), lower=a.get("lower", True),
            transpose_a=a.get("transpose_a", False), unit_diagonal=a.get("unit_diagonal", False))
    raise NotImplementedError(op)


def make(func):
    name, params, stmts, results = func

    def f(*args):
        env = {p: jnp.asarray(v) for (p, _), v in zip(params, args)}
        for dest, ty, op, argnames, attrs in stmts:
            env[dest] = apply(op, ty, [env[n] for n in argnames], attrs)
        outs = tuple(env[r] for r in results)
        return outs[0] if len(outs) == 1 else outs

    f.__name__ = name
    f.param_types = [t for _, t in params]
    return f


def load(path_or_text):
    """The functions of a module, in order, as JAX-traceable callables."""
    text = path_or_text
    if "\n" not in path_or_text and not path_or_text.lstrip().startswith("func"):
        with open(path_or_text) as fh:
            text = fh.read()
    p = Parser(tokenize(text))
    funcs = []
    while p.peek() is not None:
        funcs.append(make(p.func()))
    return funcs


if __name__ == "__main__":
    import sys

    f = load(sys.argv[1])[0]
    rng = np.random.default_rng(0)
    args = [rng.uniform(0.5, 2.0, size=s).astype(DTYPES[d]) for d, s in f.param_types]
    print(f(*args))
