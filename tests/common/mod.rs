//! Helpers shared by the workspace-level tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use ndarray::{ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use saddle::ir::{Array, DType, Module, TensorType};

/// A fresh directory in the system's temporary directory, named
/// `saddle-PREFIX-...` and removed with everything in it when the guard
/// drops (also when the test fails).
pub fn scratch_dir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(&format!("saddle-{prefix}-")).tempdir().expect("a temporary directory")
}

/// The JSON object a command printed on stdout, after checking it exited 0.
pub fn ok_json(out: &std::process::Output) -> serde_json::Value {
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON object")
}

/// Exit 1, `error:` lines on stderr mentioning `needle`, nothing on stdout,
/// no panic.
pub fn fails(out: &std::process::Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stdout: {} stderr: {err}", String::from_utf8_lossy(&out.stdout));
    assert!(out.stdout.is_empty(), "no partial output on failure");
    assert!(err.lines().any(|l| l.starts_with("error: ")), "{err}");
    assert!(err.contains(needle), "expected {needle:?} in {err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// The directory of the `.sir` test cases.
pub fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("cases")
}

/// Every `tests/cases/*.sir` file, parsed, sorted by file name.
pub fn cases() -> Vec<(String, Module)> {
    sir_modules(&cases_dir())
}

/// Every `*.sir` file of `dir`, parsed, sorted by file name.
pub fn sir_modules(dir: &Path) -> Vec<(String, Module)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sir"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let name = p.file_stem().expect("a file name").to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&p).expect("readable .sir file");
            let m = saddle::ir::parse_module(&p.display().to_string(), &text)
                .unwrap_or_else(|e| panic!("{name} does not parse:\n{e}"));
            (name, m)
        })
        .collect()
}

/// Random arguments for parameters of `types`, following the convention
/// of `tests/cases/README.md`: floats uniform in [0.5, 2], integers in
/// [0, 3), booleans fair coins.
pub fn random_inputs(types: &[TensorType], seed: u64) -> Vec<Array> {
    let mut rng = StdRng::seed_from_u64(seed);
    types.iter().map(|t| random_array(t, &mut rng, 0.5, 2.0)).collect()
}

/// A random array of type `t`, floats uniform in [lo, hi).
pub fn random_array(t: &TensorType, rng: &mut StdRng, lo: f64, hi: f64) -> Array {
    let dim = IxDyn(&t.shape);
    let n = t.num_elements();
    match t.dtype {
        DType::F64 => {
            Array::F64(ArrayD::from_shape_vec(dim, (0..n).map(|_| rng.random_range(lo..hi)).collect()).unwrap())
        }
        DType::F32 => {
            Array::F32(ArrayD::from_shape_vec(dim, (0..n).map(|_| rng.random_range(lo..hi) as f32).collect()).unwrap())
        }
        DType::I32 => {
            Array::I32(ArrayD::from_shape_vec(dim, (0..n).map(|_| rng.random_range(0..3)).collect()).unwrap())
        }
        DType::I64 => {
            Array::I64(ArrayD::from_shape_vec(dim, (0..n).map(|_| rng.random_range(0..3)).collect()).unwrap())
        }
        DType::Bool => {
            Array::Bool(ArrayD::from_shape_vec(dim, (0..n).map(|_| rng.random_bool(0.5)).collect()).unwrap())
        }
    }
}

/// Largest elementwise difference relative to `max(1, |b|)`, over arrays of
/// equal type; infinity when types differ. Equal non-finite values count as
/// equal.
pub fn max_rel_diff(a: &Array, b: &Array) -> f64 {
    if a.ty() != b.ty() {
        return f64::INFINITY;
    }
    a.to_f64_vec()
        .iter()
        .zip(b.to_f64_vec())
        .map(|(&x, y)| if x == y || (x.is_nan() && y.is_nan()) { 0.0 } else { (x - y).abs() / y.abs().max(1.0) })
        .fold(0.0, f64::max)
}
