//! `saddle hessian --sparse` and `saddle opt -p sparse_hessian`, from the
//! outside: exit codes, stdout, stderr.

use std::process::{Command, Output};

fn saddle(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_saddle")).args(args).output().expect("the saddle binary runs")
}

/// A file of its own holding `contents`, in a directory removed on drop.
struct TempFile {
    _dir: tempfile::TempDir,
    path: String,
}

fn temp_file(name: &str, contents: &str) -> TempFile {
    let dir = tempfile::Builder::new().prefix("saddle-cli-sparse-").tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, contents).unwrap();
    TempFile { path: path.to_str().unwrap().to_string(), _dir: dir }
}

fn stdout(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn failure(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "stdout: {}", String::from_utf8_lossy(&out.stdout));
    assert!(out.stdout.is_empty(), "nothing on stdout on failure");
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    assert!(err.lines().any(|l| l.starts_with("error: ")), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// `Σ (x[1:] - ½·x[:-1])² + Σ exp(x)`: tridiagonal Hessian, at x = 0
/// diagonal [1.5, 3.5, 3.5, 3.5, 3] and off-diagonal -1.
const AR1: &str = "func @ar1(%x: f64[5]) -> f64[] {
  %a: f64[4] = slice %x {start = [1], limit = [5]}
  %b: f64[4] = slice %x {start = [0], limit = [4]}
  %rho: f64[4] = const {value = 0.5}
  %c: f64[4] = mul %rho, %b
  %d: f64[4] = sub %a, %c
  %e: f64[4] = mul %d, %d
  %s: f64[] = reduce_sum %e {axes = [0]}
  %ex: f64[5] = exp %x
  %t: f64[] = reduce_sum %ex {axes = [0]}
  %r: f64[] = add %s, %t
  return %r
}
";

/// A global mean and 3 random intercepts `[μ, u0, u1, u2]`, observations
/// picking their group by a data index: an arrowhead Hessian.
const ARROW: &str = "func @arrow(%x: f64[4], %g: i64[6]) -> f64[] {
  %m0: f64[1] = slice %x {start = [0], limit = [1]}
  %m: f64[] = reshape %m0 {shape = []}
  %mu: f64[6] = broadcast_in_dim %m {shape = [6], dims = []}
  %u: f64[3] = slice %x {start = [1], limit = [4]}
  %ug: f64[6] = take %u, %g
  %eta: f64[6] = add %mu, %ug
  %ex: f64[6] = exp %eta
  %l: f64[6] = sub %ex, %eta
  %s: f64[] = reduce_sum %l {axes = [0]}
  %uu: f64[3] = mul %u, %u
  %p: f64[] = reduce_sum %uu {axes = [0]}
  %r: f64[] = add %s, %p
  return %r
}
";

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(out)).unwrap()
}

fn ints(v: &serde_json::Value) -> Vec<usize> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect()
}

/// The dense matrix of a sparse JSON object.
fn expand(v: &serde_json::Value) -> (usize, Vec<f64>) {
    let n = ints(&v["shape"])[0];
    let mut d = vec![0.0; n * n];
    let values: Vec<f64> = v["values"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    for ((i, j), x) in ints(&v["rows"]).into_iter().zip(ints(&v["cols"])).zip(values) {
        d[i * n + j] = x;
    }
    (n, d)
}

fn dense(v: &serde_json::Value) -> Vec<f64> {
    v.as_array().unwrap().iter().flat_map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap())).collect()
}

#[test]
fn sparse_hessian_of_an_ar1_density() {
    let file = temp_file("ar1.sir", AR1);
    let v = json(&saddle(&["hessian", &file.path, "--sparse", "--args", "[[0, 0, 0, 0, 0]]"]));
    assert_eq!(ints(&v["shape"]), [5, 5]);
    assert_eq!(v["nnz"], 13);
    assert_eq!(v["colours"], 3);
    // Column by column, rows increasing: both triangles.
    assert_eq!(ints(&v["cols"]), [0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4]);
    assert_eq!(ints(&v["rows"]), [0, 1, 0, 1, 2, 1, 2, 3, 2, 3, 4, 3, 4]);
    let (n, d) = expand(&v);
    for i in 0..n {
        for j in 0..n {
            let want = match (i, j) {
                (0, 0) => 1.5,
                (4, 4) => 3.0,
                _ if i == j => 3.5,
                _ if i.abs_diff(j) == 1 => -1.0,
                _ => 0.0,
            };
            assert!((d[i * n + j] - want).abs() < 1e-14, "({i}, {j}): {v}");
        }
    }
    // The same as the dense Hessian elsewhere.
    let args = "[[0.3, -1, 2, 0.1, 0.7]]";
    let (_, d) = expand(&json(&saddle(&["hessian", &file.path, "--sparse", "--args", args])));
    let want = dense(&json(&saddle(&["hessian", &file.path, "--args", args])));
    for (a, b) in d.iter().zip(&want) {
        assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{a} vs {b}");
    }
}

#[test]
fn sparse_hessian_uses_the_data_for_the_pattern() {
    let file = temp_file("arrow.sir", ARROW);
    let args = "[[0.1, 0.2, -0.3, 0.4], [0, 1, 2, 0, 1, 1]]";
    let v = json(&saddle(&["hessian", &file.path, "--sparse", "--args", args]));
    // μ with everything, each u with itself: an arrowhead, 2 colours.
    assert_eq!(v["nnz"], 4 + 2 * 3);
    assert_eq!(v["colours"], 2);
    let (_, d) = expand(&v);
    let want = dense(&json(&saddle(&["hessian", &file.path, "--args", args])));
    for (a, b) in d.iter().zip(&want) {
        assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{a} vs {b}");
    }
}

#[test]
fn opt_prints_the_compressed_hessian() {
    let file = temp_file("ar1.sir", AR1);
    let out = saddle(&["opt", &file.path, "-p", "sparse_hessian", "--stats"]);
    let text = stdout(&out);
    let m = saddle::ir::parse_module("opt.sir", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    saddle::ir::verify_module(&m).unwrap();
    let f = &m.funcs[0];
    assert_eq!(f.name(), "ar1_sparse_hessian");
    assert_eq!(f.param_types().len(), 2);
    assert_eq!(f.param_types()[1].to_string(), "f64[3,5]");
    let types: Vec<String> = f.result_types().iter().map(|t| t.to_string()).collect();
    assert_eq!(types, ["f64[]", "f64[5]", "f64[3,5]"]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(
            "stats: sparse_hessian: n 5, nnz 13 (both triangles), lower 9 (with the whole diagonal), colours 3 (data unknown)"
        ),
        "{err}"
    );
    // Without data the index of the arrowhead is unknown: every u may meet
    // every other, the pattern is dense.
    let arrow = temp_file("arrow.sir", ARROW);
    let out = saddle(&["opt", &arrow.path, "-p", "sparse_hessian", "--stats"]);
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    stdout(&out);
    assert!(err.contains("nnz 16 (both triangles)") && err.contains("colours 4"), "{err}");
}

#[test]
fn bad_input_is_an_error_line() {
    let vector = temp_file("v.sir", "func @v(%x: f64[3]) -> f64[3] {\n  %y = exp %x\n  return %y\n}\n");
    let err = failure(&saddle(&["hessian", &vector.path, "--sparse", "--args", "[[1, 2, 3]]"]));
    assert!(err.contains("scalar"), "{err}");
    let err = failure(&saddle(&["opt", &vector.path, "-p", "sparse_hessian"]));
    assert!(err.contains("pass sparse_hessian=0"), "{err}");
    let ar1 = temp_file("ar1.sir", AR1);
    let err = failure(&saddle(&["hessian", &ar1.path, "--sparse", "--wrt", "3", "--args", "[[0, 0, 0, 0, 0]]"]));
    assert!(err.contains("parameter"), "{err}");
    failure(&saddle(&["opt", &ar1.path, "-p", "sparse_hessian=1"]));
    // Arguments of the wrong shape, and an index out of range in the data.
    failure(&saddle(&["hessian", &ar1.path, "--sparse", "--args", "[[0, 0]]"]));
    let arrow = temp_file("arrow.sir", ARROW);
    let err = failure(&saddle(&["hessian", &arrow.path, "--sparse", "--args", "[[0, 0, 0, 0], [0, 1, 7, 0, 1, 1]]"]));
    assert!(err.contains("out of range"), "{err}");
    // A malformed K is a usage error.
    let out = saddle(&["opt", &ar1.path, "-p", "sparse_hessian=x"]);
    assert_eq!(out.status.code(), Some(2));
}
