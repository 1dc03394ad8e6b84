#!/usr/bin/env python3
"""Two builds of `saddle` side by side, quiet and with a busy core.

Usage: python3 bench/runtime_ab.py OLD_SADDLE NEW_SADDLE [--rounds R]

For each workload, runs `saddle bench` with the old and the new binary in
alternation (R rounds each), first on a quiet machine and then with a
competing process spinning on one core, and prints the median of the
per-call medians of each and their ratio (new / old: below 1 is faster).
Needs nothing but the standard library: the inputs are written as .npy
files by hand.
"""

import json
import math
import os
import statistics
import struct
import subprocess
import sys
import tempfile

N = 1_000_000


def npy(path, values):
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (%d,), }" % len(values)
    pad = 64 - (10 + len(header) + 1) % 64
    header += " " * pad + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack(f"<{len(values)}d", *values))


def elementwise(body, n=N):
    """A function of one f64[n] parameter %x whose body ends in %r."""
    return f"func @f(%x: f64[{n}]) -> f64[{n}] {{\n{body}  return %r\n}}\n"


def splat(name, value, n=N):
    return f"  %{name}: f64[{n}] = const {{value = {value}}}\n"


WORKLOADS = {
    "logistic (the op)": elementwise("  %r = logistic %x\n"),
    "exp": elementwise("  %r = exp %x\n"),
    "1/(1+exp(-x)) written out": elementwise(
        "  %n = neg %x\n  %e = exp %n\n" + splat("one", 1.0) + "  %d = add %one, %e\n  %r = div %one, %d\n"),
    "normal log density": elementwise(
        splat("mu", 0.3) + splat("is", 0.5) + splat("h", -0.5) + splat("c", -1.2655121234846454)
        + "  %a = sub %x, %mu\n  %z = mul %a, %is\n  %q = mul %z, %z\n  %p = mul %h, %q\n  %r = add %p, %c\n"),
    "sum": f"func @f(%x: f64[{N}]) -> f64[] {{\n  %r = reduce_sum %x {{axes = [0]}}\n  return %r\n}}\n",
}


def bench(saddle, sir, args, repeat, passes=()):
    cmd = [saddle, "bench", sir, "--args", args, "--repeat", str(repeat)]
    for p in passes:
        cmd += ["-p", p]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)["per_call_ns"]["median"]


def main():
    old, new = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 5
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    student = os.path.join(root, "examples", "sir", "student_t.sir")
    with tempfile.TemporaryDirectory(prefix="saddle-ab-") as d:
        x = os.path.join(d, "x.npy")
        npy(x, [math.sin(i) * 4.0 for i in range(N)])
        jobs = []
        for name, text in WORKLOADS.items():
            p = os.path.join(d, name.replace(" ", "_").replace("/", "_") + ".sir")
            with open(p, "w") as f:
                f.write(text)
            jobs.append((name, p, json.dumps(["@" + x]), 200, ()))
        jobs.append(("Student-t gradient, per call", student, "[[0.3, 1.7]]", 200_000, ("grad",)))
        jobs.append(("Student-t Hessian, per call", student, "[[0.3, 1.7]]", 200_000, ("hessian",)))
        print("| workload | load | old (ns) | new (ns) | new / old |")
        print("|---|---|---:|---:|---:|")
        for load in ["quiet", "one core busy"]:
            spinner = None
            if load != "quiet":
                spinner = subprocess.Popen(["taskset", "-c", "1", sys.executable, "-c", "while True: pass"])
            try:
                for name, sir, args, repeat, passes in jobs:
                    a, b = [], []
                    for _ in range(rounds):
                        a.append(bench(old, sir, args, repeat, passes))
                        b.append(bench(new, sir, args, repeat, passes))
                    ma, mb = statistics.median(a), statistics.median(b)
                    print(f"| {name} | {load} | {ma:.0f} | {mb:.0f} | {mb / ma:.2f} |", flush=True)
            finally:
                if spinner:
                    spinner.kill()
                    spinner.wait()


if __name__ == "__main__":
    main()
