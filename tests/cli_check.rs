//! `saddle check` from the outside: exit codes, stdout, stderr.

use std::process::{Command, Output};

fn saddle(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_saddle")).args(args).output().expect("the saddle binary runs")
}

fn example(name: &str) -> String {
    format!("{}/examples/sir/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn temp_file(name: &str, contents: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("saddle-cli-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    p
}

#[test]
fn check_prints_canonical_text() {
    let out = saddle(&["check", &example("student_t.sir")]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("func @log_posterior(%theta: f64[2]) -> f64[] {\n"));
    // Canonical text is a fixed point.
    let p = temp_file("canon.sir", text.as_bytes());
    let again = saddle(&["check", p.to_str().unwrap()]);
    assert_eq!(String::from_utf8(again.stdout).unwrap(), text);
}

#[test]
fn errors_are_located_and_exit_1() {
    let p = temp_file("bad.sir", b"func @f(%x: f64[2]) -> f64[2] {\n  %y = exp %q\n  return %y\n}\n");
    let out = saddle(&["check", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing on stdout on failure");
    let err = String::from_utf8(out.stderr).unwrap();
    let file = p.display().to_string();
    assert!(err.contains(&format!("{file}:2:12: error: undefined value %q")), "{err}");
    assert!(err.lines().any(|l| l.starts_with("error: ") && l.contains("undefined value %q")), "{err}");
    assert!(err.contains("^^"), "a caret under the token: {err}");
}

#[test]
fn hostile_inputs_exit_1_without_panicking() {
    let nesting =
        format!("func @f() -> f64[] {{\n  %c: f64[] = const {{value = {}}}\n  return %c\n}}", "[".repeat(10_000_000));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty.sir", vec![]),
        ("garbage.sir", (0..=255u8).cycle().take(4096).collect()),
        ("truncated.sir", b"func @f(%x: f64[2]) -> f64[] {\n  %y = reduce_sum %x {axes = [0".to_vec()),
        ("nesting.sir", nesting.into_bytes()),
        ("absurd.sir", b"func @f(%x: f64[4294967296,4294967296,4294967296]) -> f64[] {\n  return %x\n}".to_vec()),
    ];
    for (name, bytes) in cases {
        let p = temp_file(name, &bytes);
        let out = saddle(&["check", p.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert!(err.lines().any(|l| l.starts_with("error: ")), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
}

#[test]
fn unreadable_file_is_an_error() {
    let out = saddle(&["check", "/nonexistent/dir/x.sir"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: cannot read /nonexistent/dir/x.sir"));
}

#[test]
fn usage_errors_exit_2() {
    let out = saddle(&["check", "--no-such-flag", &example("logistic.sir")]);
    assert_eq!(out.status.code(), Some(2));
    let out = saddle(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn dot_output_draws_the_dataflow_graph() {
    let out = saddle(&["check", "--dot", &example("logistic.sir")]);
    assert_eq!(out.status.code(), Some(0));
    let dot = String::from_utf8(out.stdout).unwrap();
    assert!(dot.starts_with("digraph {"), "{dot}");
    assert!(dot.contains("%e: f64[] = exp"), "{dot}");
    let out = saddle(&["check", "--dot", "--func", "nope", &example("logistic.sir")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no function named @nope"));
}
