//! `saddle laplace` on large models: the sparse path, the covariance left
//! out above 2,000 coordinates, `--hessian` and `--full-covariance`.

use std::process::{Command, Output};

fn saddle(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_saddle")).args(args).output().expect("the saddle binary runs")
}

/// A Gaussian AR(1) field of `d` coordinates (coefficient ρ = 0.6, unit
/// innovations, stationary start) around a mean of 0.5: Laplace is exact,
/// the mode is 0.5, every std is 1/sqrt(1 − ρ²) = 1.25.
fn ar1(d: usize) -> String {
    let n = d - 1;
    format!(
        "func @ar1(%x: f64[{d}]) -> f64[] {{
  %m: f64[{d}] = const {{value = 0.5}}
  %r: f64[{d}] = sub %x, %m
  %a: f64[{n}] = slice %r {{start = [1], limit = [{d}]}}
  %b: f64[{n}] = slice %r {{start = [0], limit = [{n}]}}
  %rho: f64[{n}] = const {{value = 0.6}}
  %rb: f64[{n}] = mul %rho, %b
  %e: f64[{n}] = sub %a, %rb
  %e2: f64[{n}] = mul %e, %e
  %q: f64[] = reduce_sum %e2 {{axes = [0]}}
  %r0: f64[1] = slice %r {{start = [0], limit = [1]}}
  %s: f64[1] = const {{value = 0.8}}
  %z: f64[1] = mul %s, %r0
  %z2: f64[1] = mul %z, %z
  %q0: f64[] = reduce_sum %z2 {{axes = [0]}}
  %qq: f64[] = add %q, %q0
  %h: f64[] = const {{value = -0.5}}
  %lp: f64[] = mul %h, %qq
  return %lp
}}
"
    )
}

fn write_model(dir: &tempfile::TempDir, d: usize) -> (String, String) {
    let model = dir.path().join("ar1.sir");
    std::fs::write(&model, ar1(d)).unwrap();
    let init = dir.path().join("init.json");
    std::fs::write(&init, format!("{:?}", vec![0.0; d])).unwrap();
    (model.display().to_string(), format!("@{}", init.display()))
}

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

#[test]
fn large_fit_is_sparse_and_leaves_out_the_covariance() {
    let dir = tempfile::tempdir().unwrap();
    let d = 2500;
    let (model, init) = write_model(&dir, d);
    let v = json(&saddle(&["laplace", &model, "--init", &init, "--json"]));
    assert!(v.get("covariance").is_none(), "no covariance above 2,000 coordinates");
    assert!(v.get("precision").is_none());
    assert_eq!(v["hessian"], "sparse");
    assert_eq!(v["hessian_nnz"], 3 * d - 2);
    assert_eq!(v["converged"], true);
    let std = v["std"].as_array().unwrap();
    let mode = v["mode"].as_array().unwrap();
    assert_eq!((std.len(), mode.len()), (d, d));
    for (m, s) in mode.iter().zip(std) {
        assert!((m.as_f64().unwrap() - 0.5).abs() < 1e-10);
        assert!((s.as_f64().unwrap() - 1.25).abs() < 1e-10);
    }
    // log ∫ exp f = (d/2)·log 2π − ½·log det Q, det Q = 1 − ρ².
    let want = 0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln() - 0.5 * 0.64f64.ln();
    assert!((v["log_evidence"].as_f64().unwrap() - want).abs() < 1e-8 * want);
    // The readable summary shows the first coordinates and says so.
    let out = saddle(&["laplace", &model, "--init", &init]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("sparse Hessian: 7498 entries"), "{text}");
    assert!(text.contains("2450 more coordinate(s)"), "{text}");
}

#[test]
fn hessian_flag_forces_either_path_with_the_same_answer() {
    let dir = tempfile::tempdir().unwrap();
    let (model, init) = write_model(&dir, 30);
    let dense = json(&saddle(&["laplace", &model, "--init", &init, "--json", "--hessian", "dense"]));
    let sparse = json(&saddle(&["laplace", &model, "--init", &init, "--json", "--hessian", "sparse"]));
    assert_eq!(dense["hessian"], "dense");
    assert_eq!(sparse["hessian"], "sparse");
    // Small enough for the covariance to be printed on both paths.
    let (cd, cs) = (dense["covariance"].as_array().unwrap(), sparse["covariance"].as_array().unwrap());
    for (rd, rs) in cd.iter().zip(cs) {
        for (a, b) in rd.as_array().unwrap().iter().zip(rs.as_array().unwrap()) {
            assert!((a.as_f64().unwrap() - b.as_f64().unwrap()).abs() < 1e-12);
        }
    }
    let (ed, es) = (dense["log_evidence"].as_f64().unwrap(), sparse["log_evidence"].as_f64().unwrap());
    assert!((ed - es).abs() < 1e-10);
    let bad = saddle(&["laplace", &model, "--init", &init, "--hessian", "banded"]);
    assert_eq!(bad.status.code(), Some(2), "an unknown --hessian value is a usage error");
}

#[test]
fn a_dense_hessian_of_a_hundred_thousand_coordinates_is_refused_at_once() {
    // -½((Σx)² + Σx²): every entry of the Hessian is nonzero.
    let d = 100_000;
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("dense.sir");
    std::fs::write(
        &model,
        format!(
            "func @dense(%x: f64[{d}]) -> f64[] {{
  %s: f64[] = reduce_sum %x {{axes = [0]}}
  %s2: f64[] = mul %s, %s
  %x2: f64[{d}] = mul %x, %x
  %q: f64[] = reduce_sum %x2 {{axes = [0]}}
  %t: f64[] = add %s2, %q
  %h: f64[] = const {{value = -0.5}}
  %lp: f64[] = mul %h, %t
  return %lp
}}
"
        ),
    )
    .unwrap();
    let init = dir.path().join("init.json");
    std::fs::write(&init, format!("{:?}", vec![0.0; d])).unwrap();
    let init = format!("@{}", init.display());
    let model = model.display().to_string();
    for hessian in ["auto", "sparse", "dense"] {
        let out = saddle(&["laplace", &model, "--init", &init, "--json", "--hessian", hessian]);
        assert_eq!(out.status.code(), Some(1), "{hessian}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.starts_with("error: "), "{hessian}: {err}");
        assert!(err.contains("100000"), "{hessian}: {err}");
    }
}
