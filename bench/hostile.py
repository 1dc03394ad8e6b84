#!/usr/bin/env python3
"""Hostile inputs against the `saddle` binary: time, peak memory, outcome.

Usage: python3 bench/hostile.py [PATH/TO/saddle] > table.md

Writes each input into a temporary directory (removed at the end), runs
the binary on it as a child process, and prints one Markdown table row per
input: wall time, the child's peak resident memory (from wait4), the exit
status and the first line of stderr. The rows of docs/robustness.md come
from this script (run on a release build).
"""

import os
import resource
import subprocess
import sys
import tempfile
import time

SADDLE = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/release/saddle")
AS_LIMIT_KB = 2_000_000  # `ulimit -v 2000000`


def write(d, name, text):
    p = os.path.join(d, name)
    with open(p, "w") as f:
        f.write(text)
    return p


def chain(op, n, ty="f64[4]"):
    lines = [f"func @f(%v0: {ty}) -> {ty} {{"]
    for i in range(1, n + 1):
        lines.append(f"  %v{i}: {ty} = {op.format(p=f'%v{i - 1}')}")
    lines.append(f"  return %v{n}\n}}\n")
    return "\n".join(lines)


def cases(d):
    """(description, argv, address-space limit in KiB or None)."""
    yield (
        "2 GiB `const` splat, under `ulimit -v 2000000`",
        ["eval", write(d, "splat.sir", "func @f() -> f64[268435456] {\n"
                       "  %c: f64[268435456] = const {value = 1.0}\n  return %c\n}\n"), "--args", "[]"],
        AS_LIMIT_KB,
    )
    yield (
        "`pad` with `low = [268435456]`, under `ulimit -v 2000000`",
        ["eval", write(d, "pad.sir", "func @f(%x: f64[2]) -> f64[268435458] {\n"
                       "  %z: f64[] = const {value = 0.0}\n"
                       "  %p = pad %x, %z {low = [268435456], high = [0], interior = [0]}\n  return %p\n}\n"),
         "--args", "[[1, 2]]"],
        AS_LIMIT_KB,
    )
    yield (
        "`slice` with `stride = [2^63]`",
        ["eval", write(d, "stride.sir", "func @f(%x: f64[4]) -> f64[1] {\n"
                       "  %s = slice %x {start = [0], limit = [4], stride = [9223372036854775808]}\n"
                       "  return %s\n}\n"), "--args", "[[1, 2, 3, 4]]"],
        None,
    )
    yield (
        "`grad` of `integer_pow {y = -2147483648}`",
        ["grad", write(d, "ipow.sir", "func @f(%x: f64[]) -> f64[] {\n"
                       "  %y = integer_pow %x {y = -2147483648}\n  return %y\n}\n"), "--args", "[1.0]"],
        None,
    )
    yield (
        "`polygamma {n = 4294967295}`",
        ["eval", write(d, "polygamma.sir", "func @f(%x: f64[]) -> f64[] {\n"
                       "  %y = polygamma %x {n = 4294967295}\n  return %y\n}\n"), "--args", "[1.5]"],
        None,
    )
    yield (
        "`hessian` with a `take` index out of range",
        ["hessian", write(d, "take.sir", "func @f(%x: f64[3], %i: i64[2]) -> f64[] {\n"
                          "  %y = take %x, %i {axis = 0}\n  %s = reduce_sum %y {axes = [0]}\n  return %s\n}\n"),
         "--args", "[[1, 2, 3], [0, 7]]"],
        None,
    )
    attrs = ", ".join(f"a{i} = {i}" for i in range(100_000))
    yield (
        "one op with 100,000 attributes (1.2 MB)",
        ["check", write(d, "attrs.sir", f"func @f(%x: f64[]) -> f64[] {{\n  %y = neg %x {{{attrs}}}\n  return %y\n}}\n")],
        None,
    )
    yield (
        "1,000,000 type errors (35 MB)",
        ["check", write(d, "errors.sir", "func @f(%x: f64[]) -> f64[] {\n"
                        + "".join(f"  %e{i}: f32[] = neg %x\n" for i in range(1_000_000))
                        + "  return %x\n}\n")],
        None,
    )
    yield ("a chain of 1,000,000 `sin` (33 MB)", ["check", write(d, "sin.sir", chain("sin {p}", 1_000_000))], None)
    n = 4_000_000
    yield (
        "a 4,000,000-element `const` (36 MB)",
        ["check", write(d, "const.sir", f"func @f() -> f64[{n}] {{\n  %c: f64[{n}] = const {{value = ["
                        + ", ".join("0.5" for _ in range(n)) + f"]}}\n  return %c\n}}\n")],
        None,
    )
    sub = "func @f(%z: f64[4], %v0: f64[4]) -> f64[4] {\n" + "".join(
        f"  %v{i}: f64[4] = sub %z, %v{i - 1}\n" for i in range(1, 1001)) + "  return %v1000\n}\n"
    yield ("`opt -p simplify` of a 1,000-op chain of `sub %z, %v` (32 KB)",
           ["opt", write(d, "sub.sir", sub), "-p", "simplify"], None)
    for op in ["neg {p}", "max {p}, {p}"]:
        name = op.split()[0]
        yield (f"`opt -p simplify` of a 100,000-op chain of `{name}`",
               ["opt", write(d, f"{name}_chain.sir", chain(op, 100_000)), "-p", "simplify"], None)
    yield (
        "`laplace` of `-exp(-t)` (no maximum)",
        ["laplace", write(d, "improper.sir", "func @f(%t: f64[1]) -> f64[] {\n  %n = neg %t\n  %e = exp %n\n"
                          "  %m = neg %e\n  %s = reduce_sum %m {axes = [0]}\n  return %s\n}\n"), "--init", "[0]", "--json"],
        None,
    )
    d5 = 100_000
    yield (
        "`laplace` with 100,000 coordinates (dense Hessian: 80 GB)",
        ["laplace", write(d, "big.sir", f"func @f(%x: f64[{d5}]) -> f64[] {{\n  %q = mul %x, %x\n"
                          "  %s = reduce_sum %q {axes = [0]}\n  %h: f64[] = const {value = -0.5}\n"
                          "  %r = mul %h, %s\n  return %r\n}\n"),
         "--init", "@" + write(d, "zeros.json", "[" + ",".join("0" for _ in range(d5)) + "]"), "--json"],
        None,
    )


def run(argv, as_limit):
    def limit():
        if as_limit is not None:
            resource.setrlimit(resource.RLIMIT_AS, (as_limit * 1024, as_limit * 1024))

    start = time.perf_counter()
    p = subprocess.Popen([SADDLE] + argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=limit)
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    first = next((l for l in err.decode(errors="replace").splitlines() if l.strip()), "")
    return wall, usage.ru_maxrss / 1024, code, first[:160]


def main():
    print("| input | time | peak RSS | exit | first line of stderr |")
    print("|---|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory(prefix="saddle-hostile-") as d:
        for what, argv, as_limit in cases(d):
            wall, rss, code, first = run(argv, as_limit)
            first = first.replace(d + "/", "").replace("|", "\\|")
            first = f"`` {first} ``" if first else "(nothing)"
            print(f"| {what} | {wall:.2f} s | {rss:.0f} MiB | {code} | {first} |", flush=True)


if __name__ == "__main__":
    main()
