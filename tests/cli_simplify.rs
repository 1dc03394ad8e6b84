//! `saddle opt -p simplify` from the outside.

use std::process::{Command, Output};

fn saddle(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_saddle")).args(args).output().expect("the saddle binary runs")
}

fn case(name: &str) -> String {
    format!("{}/tests/cases/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn simplify_pass_prints_a_valid_cheaper_module() {
    let out = saddle(&["opt", &case("logreg.sir"), "-p", "hessian", "-p", "simplify"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty());
    let text = String::from_utf8(out.stdout).unwrap();
    let m = saddle::ir::parse_module("out.sir", &text).unwrap();
    saddle::ir::verify_module(&m).unwrap();
    let raw = saddle(&["opt", &case("logreg.sir"), "-p", "hessian"]);
    let raw = saddle::ir::parse_module("raw.sir", &String::from_utf8(raw.stdout).unwrap()).unwrap();
    assert!(m.funcs[0].insts().len() < raw.funcs[0].insts().len());
    // The identity basis of jacfwd is gone.
    assert!(!text.contains("iota"), "{text}");
}

#[test]
fn stats_report_ops_flops_and_saturation_on_stderr() {
    let out = saddle(&["opt", &case("logreg.sir"), "-p", "hessian", "-p", "simplify", "--stats"]);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8(out.stderr).unwrap();
    let line = err.lines().find(|l| l.starts_with("stats: simplify: ops ")).unwrap_or_else(|| panic!("{err}"));
    assert!(line.contains("flops") && line.contains("->"), "{line}");
    assert!(err.contains("saturated"), "{err}");
}

#[test]
fn simplify_of_a_bad_file_is_an_error() {
    let dir = std::env::temp_dir().join(format!("saddle-cli-simplify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("bad.sir");
    std::fs::write(&p, "func @f(%x: f64[2]) -> f64[2] {\n  %y = exp %x, %x\n  return %y\n}\n").unwrap();
    let out = saddle(&["opt", p.to_str().unwrap(), "-p", "simplify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8(out.stderr).unwrap().lines().any(|l| l.starts_with("error:")));
}
