#!/usr/bin/env python3
"""Runs saddle's StableHLO on XLA and checks it against saddle's runtime.

For every `.sir` file of the case directory, and for its `grad`, `hessian`
and `vmap` transforms (made with `saddle opt`), and for every file of the
op directory as it is, this script:

1. lowers the function with `saddle lower`,
2. draws random arguments (floats uniform in [0.5, 2], integers in [0, 3),
   booleans fair coins; seeded by the job's name, so runs repeat),
3. runs the function on saddle's runtime (`saddle eval`) and the lowered
   module on XLA's CPU client (through jaxlib, in double precision; or on
   another backend with `--backend cuda`, `rocm` or `tpu`),
4. compares every result: same dtype and shape, and elementwise
   |xla - saddle| / max(1, |saddle|) within the job's tolerance (integers
   and booleans exactly; equal infinities and NaN against NaN agree).

Random functions (`--random`) are run as they are too. Their values may
pass through poles and overflows, and non-finite values spread differently
through different algorithms (at a pole of digamma XLA gives NaN where
saddle gives -inf; XLA's blocked triangular solve turns one inf into NaNs
across a block). So a random function's result in which saddle has a
non-finite element is compared where both sides are finite; a result that
is finite in saddle must agree everywhere.

The tolerance is 1e-10 in f64 and 1e-5 in f32 (also for the f64 results
of a function that computes in f32 anywhere), looser only where an op in
`OP_TOLERANCE` below says why, and exact (bit for bit) for a file that
carries the comment `# xla-exact`.

Exit status 0 when every job agrees, 1 otherwise, 2 when jax is missing.

    python tests/xla/harness.py --saddle target/debug/saddle \\
        --cases tests/cases --ops tests/xla/ops [--json report.json]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import zlib

BASE_TOLERANCE = {"f64": 1e-10, "f32": 1e-5}

# Ops whose XLA implementation is a different approximation from saddle's:
# op name of the text format -> ({numpy dtype: tolerance}, why). A job
# containing the op gets that tolerance for its results of that dtype.
OP_TOLERANCE = {}

TRANSFORMS = ["grad", "hessian", "vmap=3"]

MLIR_DTYPES = {"f64": "float64", "f32": "float32", "i64": "int64", "i32": "int32", "i1": "bool"}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--saddle", required=True, help="the saddle binary")
    p.add_argument("--cases", action="append", default=[], help="directory of cases run with every transform")
    p.add_argument("--ops", action="append", default=[], help="directory of modules run as they are")
    p.add_argument("--random", action="append", default=[],
                   help="directory of random functions, run as they are; where both sides are non-finite "
                        "(a pole or an overflow) they agree whichever non-finite value each chose")
    p.add_argument("--work", default=None, help="directory for the generated files (default: a temporary one)")
    p.add_argument("--transforms", default=",".join(TRANSFORMS), help="comma-separated saddle opt passes")
    p.add_argument("--json", default=None, help="write the per-result measurements here")
    p.add_argument("--markdown", action="store_true",
                   help="also print a table of the largest relative difference per file and transform")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--backend", default="cpu",
                   help="XLA backend to run on: cpu (default), cuda, rocm or tpu, as jax names them")
    return p.parse_args()


def sir_files(directory):
    return sorted(os.path.join(directory, f) for f in os.listdir(directory) if f.endswith(".sir"))


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd)}` exited with {r.returncode}:\n{r.stderr.strip()}")
    return r.stdout


def main_signature(mlir):
    """The (shape, numpy dtype) of each parameter of @main."""
    m = re.search(r"func\.func public @main\((.*?)\) ->", mlir)
    if m is None:
        raise RuntimeError("no func.func public @main in the lowered module")
    out = []
    for t in re.finditer(r"tensor<((?:\d+x)*)(f64|f32|i64|i32|i1)>", m.group(1)):
        shape = tuple(int(d) for d in t.group(1).split("x") if d)
        out.append((shape, MLIR_DTYPES[t.group(2)]))
    return out


def random_inputs(np, signature, seed):
    rng = np.random.default_rng(seed)
    args = []
    for shape, dtype in signature:
        if dtype.startswith("float"):
            a = rng.uniform(0.5, 2.0, shape).astype(dtype)
        elif dtype == "bool":
            a = rng.integers(0, 2, shape).astype(bool)
        else:
            a = rng.integers(0, 3, shape).astype(dtype)
        args.append(a)
    return args


def op_names(sir):
    return set(re.findall(r"=\s*([a-z_0-9]+)", re.sub(r"#.*", "", sir)))


def tolerance(sir, dtype):
    """The tolerance of one result of dtype `dtype` (numpy's name), and the
    reasons for any loosening."""
    if re.search(r"^\s*#\s*xla-exact\b", sir, re.M):
        return 0.0, ["exact: constants must arrive bit for bit"]
    tol = {"float64": BASE_TOLERANCE["f64"], "float32": BASE_TOLERANCE["f32"]}.get(dtype, 0.0)
    reasons = []
    if dtype == "float64" and re.search(r"\bf32\[", sir):
        tol = BASE_TOLERANCE["f32"]
        reasons.append("the function computes in f32, and an f32 value may reach this f64 result")
    for op in sorted(op_names(sir)):
        if op in OP_TOLERANCE and dtype in OP_TOLERANCE[op][0]:
            t, why = OP_TOLERANCE[op][0][dtype], OP_TOLERANCE[op][1]
            if t > tol:
                tol = t
                reasons.append(f"{op}: {why}")
    return tol, reasons


def compare(np, got, want, tol, lenient_nonfinite=False):
    """(agrees, largest relative difference, what differs) of one result."""
    if got.dtype != want.dtype:
        return False, float("inf"), f"dtype {got.dtype} vs {want.dtype}"
    if got.shape != want.shape:
        return False, float("inf"), f"shape {got.shape} vs {want.shape}"
    if got.size == 0:
        return True, 0.0, ""
    if got.dtype.kind != "f":
        same = bool(np.array_equal(got, want))
        return same, (0.0 if same else float("inf")), ""
    both_nan = np.isnan(got) & np.isnan(want)
    if tol == 0.0:
        bits = np.uint64 if got.dtype == np.float64 else np.uint32
        same = bool(((got.view(bits) == want.view(bits)) | both_nan).all())
        return same, (0.0 if same else float("inf")), "" if same else "bits differ"
    g = got.astype(np.float64)
    w = want.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        rel = np.abs(g - w) / np.maximum(1.0, np.abs(w))
    agree = (g == w) | both_nan
    if lenient_nonfinite and not np.isfinite(w).all():
        # Non-finite values spread differently through different algorithms
        # (XLA's blocked triangular solve turns one inf into a NaN across a
        # block; its digamma gives NaN at a pole where saddle gives -inf):
        # compare the positions where both sides are finite.
        agree |= ~np.isfinite(g) | ~np.isfinite(w)
    rel = np.where(agree, 0.0, rel)
    rel = np.where(np.isnan(rel), np.inf, rel)
    worst = float(rel.max())
    return worst <= tol, worst, ""


def markdown_table(rows, columns):
    """Largest relative difference per file (rows) and transform (columns)."""
    worst = {}
    order = []
    for r in rows:
        name, _, transform = r["job"].partition(" | ")
        transform = transform or "as written"
        if name not in order:
            order.append(name)
        value = r.get("max_rel_diff", float("inf")) if r["ok"] else float("inf")
        key = (name, transform)
        worst[key] = max(worst.get(key, 0.0), value)
    out = ["| file | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for name in order:
        cells = []
        for c in columns:
            v = worst.get((name, c))
            cells.append("" if v is None else ("fails" if v == float("inf") else f"{v:.1e}"))
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main():
    args = parse_args()
    try:
        import jax
        import numpy as np
        from jax.extend import backend
    except ImportError as e:
        print(f"jax is not importable: {e}", file=sys.stderr)
        return 2
    jax.config.update("jax_enable_x64", True)
    client = backend.get_backend(args.backend)
    device = client.devices()[0]

    work = args.work or tempfile.mkdtemp(prefix="saddle-xla-")
    os.makedirs(work, exist_ok=True)
    transforms = [t for t in args.transforms.split(",") if t]
    jobs = []  # (file, transform, lenient about non-finite values)
    for d in args.cases:
        for path in sir_files(d):
            jobs.append((path, None, False))
            jobs.extend((path, t, False) for t in transforms)
    for d in args.ops:
        jobs.extend((path, None, False) for path in sir_files(d))
    for d in args.random:
        jobs.extend((path, None, True) for path in sir_files(d))

    rows = []
    failures = 0
    for path, transform, lenient in jobs:
        name = os.path.splitext(os.path.basename(path))[0]
        label = name if transform is None else f"{name} | {transform}"
        stem = os.path.join(work, name if transform is None else f"{name}.{transform.replace('=', '')}")
        try:
            source = path
            if transform is not None:
                source = stem + ".sir"
                with open(source, "w") as f:
                    f.write(run([args.saddle, "opt", path, "-p", transform]))
            with open(source) as f:
                sir = f.read()
            mlir = run([args.saddle, "lower", source])
            with open(stem + ".mlir", "w") as f:
                f.write(mlir)
            signature = main_signature(mlir)
            inputs = random_inputs(np, signature, args.seed + zlib.crc32(label.encode()))
            with open(stem + ".args.json", "w") as f:
                json.dump([a.tolist() for a in inputs], f)
            want_json = json.loads(run([args.saddle, "eval", source, "--args", "@" + stem + ".args.json"]))
            executable = client.compile_and_load(mlir, [device])
            got = [np.asarray(o) for o in executable.execute([jax.device_put(a, device) for a in inputs])]
        except Exception as e:  # a failure of one job must not hide the others
            failures += 1
            rows.append({"job": label, "result": None, "ok": False, "error": str(e)})
            print(f"FAIL {label}: {e}")
            continue
        if len(got) != len(want_json):
            failures += 1
            rows.append({"job": label, "result": None, "ok": False, "error": "result counts differ"})
            print(f"FAIL {label}: XLA returned {len(got)} results, saddle {len(want_json)}")
            continue
        for i, (g, w) in enumerate(zip(got, want_json)):
            want = np.array(w, dtype=g.dtype)
            if want.size == 0 and g.size == 0:
                want = want.reshape(g.shape)  # JSON cannot tell [0, 3] from [0]
            tol, reasons = tolerance(sir, str(g.dtype))
            ok, worst, why = compare(np, g, want, tol, lenient)
            rows.append({"job": label, "result": i, "dtype": str(g.dtype), "shape": list(g.shape),
                         "max_rel_diff": worst, "tolerance": tol, "ok": ok, "why_looser": reasons})
            status = "ok  " if ok else "FAIL"
            note = f"  ({'; '.join(reasons)})" if reasons else ""
            print(f"{status} {label:<32} result {i}  {str(g.dtype):<8} {str(list(g.shape)):<14} "
                  f"max rel diff {worst:.3e}  tol {tol:.0e}{note}{'  ' + why if why else ''}")
            if not ok:
                failures += 1

    agreeing = [r for r in rows if r.get("max_rel_diff") is not None and r["ok"]]
    worst = max((r["max_rel_diff"] for r in agreeing), default=0.0)
    print(f"\n{len(jobs)} modules, {len(rows)} results, {failures} failures; "
          f"largest relative difference among agreeing results: {worst:.3e}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    if args.markdown:
        print()
        print(markdown_table(rows, ["as written"] + transforms))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
