#!/usr/bin/env python3
"""Runs the anchors (TMB, glmmTMB, lme4 through anchors.R) and the same
models in saddle, and prints a markdown table: workload, anchor CPU s,
saddle whole-process CPU s, ratio, agreement.

Run from the repository root, after `cargo build --release --bin saddle`:
    python3 bench/anchors/run.py [--repeats 3] [--skip-r] [--only NAME]
--skip-r reuses the reference numbers already in
crates/laplace/tests/data/anchors/ and times saddle alone.
"""
import argparse
import json
import math
import os
import statistics
import struct
import subprocess
import sys
import tempfile

DATA = "crates/laplace/tests/data/anchors"
SADDLE = "target/release/saddle"


def npy(path):
    raw = open(path, "rb").read()
    hlen = struct.unpack("<H", raw[8:10])[0]
    header = raw[10 : 10 + hlen].decode("latin1")
    n = int(header.split("'shape': (")[1].split(",")[0])
    fmt = "d" if "<f8" in header else "i"
    return list(struct.unpack("<%d%s" % (n, fmt), raw[10 + hlen :]))


def reference(name):
    ref = {}
    for line in open(os.path.join(DATA, name + "_ref.txt")):
        if line.startswith("#") or not line.strip():
            continue
        key, *vals = line.split()
        ref[key] = [float(v) for v in vals]
    return ref


def workloads(tmp):
    """name -> (.sir, random ranges, fit init, data JSON, given init, number of fixed effects)."""
    y = npy(os.path.join(DATA, "thetalog_y.npy"))

    def dump(name, value):
        path = os.path.join(tmp, name + ".json")
        with open(path, "w") as f:
            json.dump(value, f)
        return "@" + path

    d = lambda f: "@%s/%s" % (DATA, f)
    return {
        "ar1_4d": ("bench/anchors/ar1_4d.sir", "1:4097", dump("ar1_init", [0.0] * 4097),
                   [d("ar1_4d_y.npy")], dump("ar1_given", [0.0] * 4096), 1),
        "thetalog": ("bench/anchors/thetalog.sir", "5:205", dump("tl_init", [-1.0, 0.0, 4.0, -2.0, -2.0] + y),
                     [d("thetalog_y.npy")], dump("tl_given", y), 5),
        "poisson_glmm": ("bench/anchors/poisson_glmm.sir", "4:2004", dump("pg_init", [0.0] * 2004),
                         [d("poisson_glmm_%s.npy" % k) for k in ("y", "group", "x1", "x2")],
                         dump("pg_given", [0.0] * 2000), 4),
        "orange_big": ("bench/anchors/orange_big.sir", "5:5005",
                       dump("or_init", [200.0, 700.0, 300.0, 1.0, 2.0] + [0.0] * 5000),
                       [d("orange_big_y.npy"), d("orange_big_t.npy")], dump("or_given", [0.0] * 5000), 5),
        "instEval": ("bench/anchors/instEval.sir", "6:4134", dump("ie_init", [0.0] * 4134),
                     [d("instEval_%s.npy" % k) for k in ("y", "service", "s", "d", "ds")],
                     dump("ie_given", [0.0] * 4128), 6),
    }


def timed(cmd):
    """(CPU seconds of the whole process, its stdout)."""
    t = tempfile.NamedTemporaryFile(delete=False)
    t.close()
    out = subprocess.run(["/usr/bin/time", "-f", "%U %S %e", "-o", t.name] + cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("saddle failed: %s\n%s" % (" ".join(cmd), out.stderr))
    user, system, _ = map(float, open(t.name).read().split()[-3:])
    os.unlink(t.name)
    return user + system, out.stdout


def saddle(name, spec, repeats):
    sir, ranges, init, data, given_init, p = spec
    ref = reference(name)
    fit_cmd = [SADDLE, "laplace", sir, "--random", ranges, "--init", init, "--data", json.dumps(data), "--json"]
    given_data = json.dumps([ref["given"] if p > 1 else ref["given"][0]] + data)
    given_cmd = [SADDLE, "laplace", sir, "--func", name + "_given", "--init", given_init, "--data", given_data, "--json"]
    fits = [timed(fit_cmd) for _ in range(repeats)]
    givens = [timed(given_cmd) for _ in range(repeats)]
    fit = json.loads(fits[-1][1])
    given = json.loads(givens[-1][1])
    lm_rel = abs(fit["log_marginal"] - ref["log_marginal"][0]) / abs(ref["log_marginal"][0])
    est = max(abs(a - b) for a, b in zip(fit["mode"][:p], ref["estimates"]))
    std = max(abs(a - b) / b for a, b in zip(fit["std"][:p], ref["std"]))
    g_rel = abs(given["log_evidence"] - ref["given_log_marginal"][0]) / abs(ref["given_log_marginal"][0])
    return {
        "fit_cpu": statistics.median(c for c, _ in fits),
        "given_cpu": statistics.median(c for c, _ in givens),
        "agree_fit": "log marginal rel %.1e, estimates abs %.1e, std rel %.1e" % (lm_rel, est, std),
        "agree_given": "rel %.1e" % g_rel,
    }


def run_r(repeats, only):
    out = subprocess.run(["Rscript", "bench/anchors/anchors.R", str(repeats), only], capture_output=True, text=True)
    sys.stderr.write(out.stdout[-3000:])
    if out.returncode != 0:
        sys.exit("anchors.R failed:\n" + out.stderr[-3000:])
    times = {}
    for line in out.stdout.splitlines():
        if line.startswith("TIMING "):
            _, w, phase, cpu, _ = line.split()
            times.setdefault((w, phase), []).append(float(cpu))
    return {k: statistics.median(v) for k, v in times.items()}


def fmt(x):
    return "%.3f" % x if x is not None else "—"


def ratio(anchor, ours):
    """anchor CPU s / saddle CPU s: above 1 where saddle is faster."""
    return "%.2f" % (anchor / ours) if anchor and ours else "—"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-r", action="store_true")
    ap.add_argument("--only", default="all")
    a = ap.parse_args()
    if not os.path.exists(SADDLE):
        sys.exit("build first: cargo build --release --bin saddle")
    load = [subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()]
    anchor = {} if a.skip_r else run_r(a.repeats, a.only)
    load.append(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec in workloads(tmp).items():
            if a.only not in ("all", name):
                continue
            s = saddle(name, spec, a.repeats)
            if name == "instEval":
                rows.append((name + " fit (lmer, ML)", anchor.get((name, "lmer_fit")), s["fit_cpu"], s["agree_fit"]))
                rows.append((name + " fit (glmmTMB, ML)", anchor.get((name, "glmmTMB_fit")), s["fit_cpu"], ""))
                rows.append((name + " one Laplace value", None, s["given_cpu"], s["agree_given"]))
            elif name == "poisson_glmm":
                fit_anchor = anchor.get((name, "glmmTMB_fit"))
                rows.append((name + " fit (glmmTMB)", fit_anchor, s["fit_cpu"], s["agree_fit"]))
                rows.append((name + " fit (glmer nAGQ=1)", anchor.get((name, "glmer_fit")), s["fit_cpu"], "see docs"))
                rows.append((name + " one Laplace value", None, s["given_cpu"], s["agree_given"]))
            else:
                rows.append((name + " fit (TMB)", anchor.get((name, "fit")), s["fit_cpu"], s["agree_fit"]))
                rows.append((name + " one Laplace value (TMB)", anchor.get((name, "laplace_value")), s["given_cpu"], s["agree_given"]))
                if (name, "compile") in anchor:
                    rows.append((name + " TMB template compile", anchor[(name, "compile")], None, ""))
            load.append(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    print("| workload | anchor CPU s | saddle whole-process CPU s | anchor / saddle | agreement |")
    print("|---|---:|---:|---:|---|")
    for w, an, sa, agree in rows:
        print("| %s | %s | %s | %s | %s |" % (w, fmt(an), fmt(sa), ratio(an, sa), agree))
    print()
    print("median of %d runs; load (uptime) before, after R, after each workload:" % a.repeats)
    for l in load:
        print("- `%s`" % l)


if __name__ == "__main__":
    main()
