//! `saddle eval` and `saddle bench`: outputs and exit codes (0 on success,
//! 1 with `error:` lines for bad input, 2 for usage errors).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ndarray_npy::WriteNpyExt;

fn saddle(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_saddle")).args(args).output().expect("the saddle binary runs")
}

fn case(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases").join(name).display().to_string()
}

/// A fresh directory for one test's files.
fn scratch(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("saddle-cli-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// Exit status 1, nothing on stdout, an `error:` line mentioning `needle`.
fn fails_with(o: &Output, needle: &str) {
    assert_eq!(o.status.code(), Some(1), "stderr: {}", stderr(o));
    assert!(o.stdout.is_empty(), "partial output: {}", stdout(o));
    let e = stderr(o);
    assert!(
        e.lines().any(|l| l.starts_with("error:") && l.contains(needle)),
        "expected an error about {needle:?}, got:\n{e}"
    );
    assert!(!e.contains("panicked"), "{e}");
}

const INT_PARAM: &str = "func @f(%i: i64[2], %x: f64[3]) -> f64[2] {\n  %t: f64[2] = take %x, %i\n  return %t\n}\n";

#[test]
fn eval_student_t() {
    let o = saddle(&["eval", &case("student_t.sir"), "--args", "[[1.5, 1.0]]"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let got = v[0].as_f64().unwrap();
    let want = -4.5 * (1.0f64 + 4.0 / 7.0).ln();
    assert!((got - want).abs() < 1e-14, "{got} vs {want}");
}

#[test]
fn eval_prints_shortest_round_trip_floats() {
    let dir = scratch("roundtrip");
    let f = dir.join("f.sir");
    std::fs::write(&f, "func @f(%x: f64[3]) -> (f64[3], f64[]) {\n  %y: f64[3] = div %x, %x\n  %s: f64[] = reduce_sum %x {axes = [0]}\n  return %x, %s\n}\n").unwrap();
    let o = saddle(&["eval", f.to_str().unwrap(), "--args", "[[0.1, 1e-300, 3]]"]);
    assert_eq!(stdout(&o), "[[0.1, 1e-300, 3.0], 3.1]\n");
}

#[test]
fn eval_reads_args_from_json_file_and_npy() {
    let dir = scratch("files");
    let npy = dir.join("theta.npy");
    ndarray::arr1(&[1.5f64, 1.0]).write_npy(std::fs::File::create(&npy).unwrap()).unwrap();
    let json = dir.join("args.json");
    std::fs::write(&json, format!("[\"@{}\"]", npy.display())).unwrap();
    let by_npy = saddle(&["eval", &case("student_t.sir"), "--args", &format!("@{}", json.display())]);
    assert_eq!(by_npy.status.code(), Some(0), "{}", stderr(&by_npy));
    let direct = saddle(&["eval", &case("student_t.sir"), "--args", "[[1.5, 1]]"]);
    assert_eq!(stdout(&by_npy), stdout(&direct));
    // Integer parameters.
    let f = dir.join("take.sir");
    std::fs::write(&f, INT_PARAM).unwrap();
    let o = saddle(&["eval", f.to_str().unwrap(), "--args", "[[2, 0], [1, 2, 3]]"]);
    assert_eq!(stdout(&o), "[[3.0, 1.0]]\n");
}

#[test]
fn eval_bad_arguments_exit_1() {
    let st = case("student_t.sir");
    fails_with(&saddle(&["eval", &st, "--args", "[]"]), "expected 1 argument");
    fails_with(&saddle(&["eval", &st, "--args", "[[1, 2], [3]]"]), "expected 1 argument");
    fails_with(&saddle(&["eval", &st, "--args", "[[1, 2, 3]]"]), "shape");
    fails_with(&saddle(&["eval", &st, "--args", "[[1, 2"]), "invalid JSON");
    fails_with(&saddle(&["eval", &st, "--args", "[\"@/nonexistent/x.npy\"]"]), "cannot read");
    fails_with(&saddle(&["eval", &st, "--args", "@/nonexistent/args.json"]), "cannot read");
    fails_with(&saddle(&["eval", &st, "--args", "[[true, 1]]"]), "not a valid f64");
    fails_with(&saddle(&["eval", "/nonexistent.sir", "--args", "[]"]), "cannot read");
    fails_with(&saddle(&["eval", &st, "--func", "nope", "--args", "[[1, 2]]"]), "no function named @nope");
    let dir = scratch("bad");
    let f = dir.join("take.sir");
    std::fs::write(&f, INT_PARAM).unwrap();
    // A float for an integer parameter.
    fails_with(&saddle(&["eval", f.to_str().unwrap(), "--args", "[[0.5, 1], [1, 2, 3]]"]), "not a valid i64");
    // A .npy of the wrong dtype.
    let npy = dir.join("i.npy");
    ndarray::arr1(&[0.5f64, 1.0]).write_npy(std::fs::File::create(&npy).unwrap()).unwrap();
    fails_with(
        &saddle(&["eval", f.to_str().unwrap(), "--args", &format!("[\"@{}\", [1, 2, 3]]", npy.display())]),
        "i64",
    );
    // Run-time errors: an index out of range.
    fails_with(&saddle(&["eval", f.to_str().unwrap(), "--args", "[[3, 0], [1, 2, 3]]"]), "out of range");
    // Syntax errors.
    let bad = dir.join("bad.sir");
    std::fs::write(&bad, "func @f(%x: f64[]) -> f64[] {\n  %y = frobnicate %x\n  return %y\n}\n").unwrap();
    fails_with(&saddle(&["eval", bad.to_str().unwrap(), "--args", "[1]"]), "bad.sir:2");
}

#[test]
fn eval_usage_errors_exit_2() {
    assert_eq!(saddle(&["eval", &case("student_t.sir")]).status.code(), Some(2));
    assert_eq!(saddle(&["eval", &case("student_t.sir"), "--args", "[[1, 2]]", "--bogus"]).status.code(), Some(2));
}

#[test]
fn bench_reports_timings() {
    let o = saddle(&["bench", &case("student_t.sir"), "--args", "[[1.5, 1.0]]", "--repeat", "50"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(v["compile_us"].as_f64().unwrap() > 0.0);
    let (median, min) = (v["per_call_ns"]["median"].as_u64().unwrap(), v["per_call_ns"]["min"].as_u64().unwrap());
    assert!(min <= median && min > 0);
    assert_eq!(v["calls"].as_u64(), Some(50));
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
    // With a pass first.
    let o = saddle(&["bench", &case("student_t.sir"), "--args", "[[1.5, 1.0]]", "-p", "dce", "--repeat", "3"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Without the warm-up, and with a long one.
    for (warmup, at_least_ms) in [("0", 0), ("300", 300)] {
        let args = ["bench", &case("student_t.sir"), "--args", "[[1.5, 1.0]]", "--repeat", "5", "--warmup", warmup];
        let t = std::time::Instant::now();
        let o = saddle(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(t.elapsed().as_millis() >= at_least_ms, "--warmup {warmup} ran");
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v["calls"].as_u64(), Some(5));
    }
    // Each cap on the vector instruction sets.
    for isa in ["widest", "avx2", "baseline"] {
        let o = saddle(&["bench", &case("student_t.sir"), "--args", "[[1.5, 1.0]]", "--repeat", "3", "--isa", isa]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v["calls"].as_u64(), Some(3));
    }
}

#[test]
fn bench_bad_input() {
    let st = case("student_t.sir");
    fails_with(&saddle(&["bench", &st, "--args", "[[1, 2, 3]]"]), "shape");
    fails_with(&saddle(&["bench", &st, "--args", "{"]), "invalid JSON");
    fails_with(&saddle(&["bench", &st, "--args", "[]"]), "expected 1 argument");
    fails_with(&saddle(&["bench", &st, "--args", "[\"@missing.npy\"]"]), "cannot read");
    let dir = scratch("bench");
    let f = dir.join("take.sir");
    std::fs::write(&f, INT_PARAM).unwrap();
    fails_with(&saddle(&["bench", f.to_str().unwrap(), "--args", "[[1.5, 0], [1, 2, 3]]"]), "not a valid i64");
    fails_with(&saddle(&["bench", f.to_str().unwrap(), "--args", "[[0, 7], [1, 2, 3]]"]), "out of range");
    assert_eq!(saddle(&["bench", &st, "--args", "[[1, 2]]", "--repeat", "0"]).status.code(), Some(2));
    assert_eq!(saddle(&["bench", &st, "--args", "[[1, 2]]", "--isa", "sse9"]).status.code(), Some(2));
    assert_eq!(saddle(&["bench", &st, "--args", "[[1, 2]]", "--warmup", "-1"]).status.code(), Some(2));
    assert_eq!(saddle(&["bench", &st, "--args", "[[1, 2]]", "-p", "nonsense"]).status.code(), Some(2));
    assert_eq!(saddle(&["bench", &st]).status.code(), Some(2));
}
