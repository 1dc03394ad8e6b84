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
    let dir = tempfile::Builder::new().prefix("saddle-cli-simplify-").tempdir().unwrap();
    let p = dir.path().join("bad.sir");
    std::fs::write(&p, "func @f(%x: f64[2]) -> f64[2] {\n  %y = exp %x, %x\n  return %y\n}\n").unwrap();
    let out = saddle(&["opt", p.to_str().unwrap(), "-p", "simplify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8(out.stderr).unwrap().lines().any(|l| l.starts_with("error:")));
}

fn json_numbers(text: &str) -> Vec<f64> {
    fn walk(v: &serde_json::Value, out: &mut Vec<f64>) {
        match v {
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            serde_json::Value::Number(n) => out.push(n.as_f64().unwrap()),
            other => panic!("unexpected JSON {other}"),
        }
    }
    let mut out = Vec::new();
    walk(&serde_json::from_str(text).unwrap(), &mut out);
    out
}

#[test]
fn grad_and_hessian_simplify_by_default_and_agree_without() {
    for (cmd, file, args) in [
        ("hessian", "logreg.sir", "[[0.1, -0.2, 0.3]]"),
        ("grad", "logreg.sir", "[[0.1, -0.2, 0.3]]"),
        ("hessian", "student_t.sir", "[[1.0, 1.5]]"),
    ] {
        let on = saddle(&[cmd, &case(file), "--args", args]);
        let off = saddle(&[cmd, &case(file), "--args", args, "--no-simplify"]);
        assert_eq!(on.status.code(), Some(0), "{}", String::from_utf8_lossy(&on.stderr));
        assert_eq!(off.status.code(), Some(0), "{}", String::from_utf8_lossy(&off.stderr));
        let (a, b) = (
            json_numbers(&String::from_utf8(on.stdout).unwrap()),
            json_numbers(&String::from_utf8(off.stdout).unwrap()),
        );
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() <= 1e-12 * x.abs().max(1.0), "{cmd} {file}: {a:?} vs {b:?}");
        }
    }
}
