//! `saddle lower`: output, exit codes and errors.

use std::process::{Command, Output};

fn saddle(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_saddle"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("saddle runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn lowers_the_first_function_by_default() {
    let out = saddle(&["lower", "tests/cases/student_t.sir"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("module @log_posterior {\n"), "{stdout}");
    assert!(stdout.contains("func.func public @main(%theta: tensor<2xf64>) -> tensor<f64> {"), "{stdout}");
    assert!(out.stderr.is_empty());
    // --to stablehlo is the default and gives the same text.
    let explicit = saddle(&["lower", "tests/cases/student_t.sir", "--to", "stablehlo"]);
    assert_eq!(explicit.status.code(), Some(0));
    assert_eq!(explicit.stdout, out.stdout);
}

#[test]
fn func_picks_the_function() {
    let scratch = tempfile::Builder::new().prefix("saddle-cli-lower-").tempdir().unwrap();
    let dir = scratch.path();
    let path = dir.join("two_funcs.sir");
    std::fs::write(
        &path,
        "func @f(%x: f64[]) -> f64[] { %y: f64[] = sin %x  return %y }\n\
         func @g(%x: f64[2]) -> f64[2] { %y: f64[2] = cos %x  return %y }\n",
    )
    .unwrap();
    let out = saddle(&["lower", path.to_str().unwrap(), "--func", "g"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("@main(%x: tensor<2xf64>) -> tensor<2xf64>"), "{stdout}");
    assert!(stdout.contains("stablehlo.cosine"), "{stdout}");

    let out = saddle(&["lower", path.to_str().unwrap(), "--func", "h"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(text(&out.stderr), "error: no function named @h in the module\n");
}

#[test]
fn unknown_target_is_an_error() {
    let out = saddle(&["lower", "tests/cases/student_t.sir", "--to", "llvm"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(text(&out.stderr), "error: unknown target `llvm` for --to; expected one of: stablehlo\n");
}

#[test]
fn missing_file_is_an_error() {
    let out = saddle(&["lower", "tests/cases/no_such_file.sir"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(stderr.starts_with("error: cannot read tests/cases/no_such_file.sir: "), "{stderr}");
}

#[test]
fn syntax_error_points_at_the_token() {
    let scratch = tempfile::Builder::new().prefix("saddle-cli-lower-").tempdir().unwrap();
    let dir = scratch.path();
    let path = dir.join("bad_syntax.sir");
    std::fs::write(&path, "func @f(%x: f64[]) -> f64[] {\n  %y: f64[] = frobnicate %x\n  return %y\n}\n").unwrap();
    let out = saddle(&["lower", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(stderr.lines().any(|l| l.starts_with("error: ") && l.contains("bad_syntax.sir:2:")), "{stderr}");
}

#[test]
fn unlowerable_function_is_an_error() {
    let scratch = tempfile::Builder::new().prefix("saddle-cli-lower-").tempdir().unwrap();
    let dir = scratch.path();
    let path = dir.join("bad_index.sir");
    std::fs::write(
        &path,
        "func @f(%x: f64[3]) -> f64[1] {\n  %i: i64[1] = const {value = [7]}\n  %t: f64[1] = take %x, %i\n  return %t\n}\n",
    )
    .unwrap();
    let out = saddle(&["lower", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(
        text(&out.stderr),
        format!("error: {}: take %t: index 7 at position 0 is out of range for an axis of extent 3\n", path.display())
    );
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let out = saddle(&["lower", "tests/cases/student_t.sir", "--frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}
