//! `saddle laplace` from the outside: the `--json` contract, the summary,
//! the figure, `.npy` data, and exit codes of every failure.

mod common;

use std::process::{Command, Output};

use common::{fails, ok_json};

fn saddle(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_saddle")).args(args).output().expect("the saddle binary runs")
}

fn root(path: &str) -> String {
    format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))
}

/// A directory of its own, removed when the value is dropped.
fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("saddle-cli-laplace-").tempdir().unwrap()
}

/// A file holding `contents` (its path, as text), in a directory removed
/// when the value is dropped.
struct TempFile {
    _dir: tempfile::TempDir,
    path: String,
}

impl std::ops::Deref for TempFile {
    type Target = str;
    fn deref(&self) -> &str {
        &self.path
    }
}

fn temp_file(name: &str, contents: &str) -> TempFile {
    let dir = temp_dir();
    let p = dir.path().join(name);
    std::fs::write(&p, contents).unwrap();
    TempFile { path: p.display().to_string(), _dir: dir }
}

fn num(v: &serde_json::Value) -> f64 {
    v.as_f64().expect("a number")
}

#[test]
fn seed_json_has_the_contract_fields_and_the_known_answer() {
    let out = saddle(&["laplace", &root("examples/sir/student_t.sir"), "--init", "[0, 0]", "--json"]);
    let j = ok_json(&out);
    for k in
        ["mode", "covariance", "std", "log_density_at_mode", "log_evidence", "converged", "iterations", "grad_norm"]
    {
        assert!(j.get(k).is_some(), "field {k} missing");
    }
    let mode = j["mode"].as_array().unwrap();
    assert!((num(&mode[0]) - 0.5).abs() < 1e-9 && (num(&mode[1]) - 2.0).abs() < 1e-9);
    let sigma = [[1.0, 0.5], [0.5, 1.0]];
    for i in 0..2 {
        for k in 0..2 {
            let c = num(&j["covariance"][i][k]);
            assert!((c - 7.0 / 9.0 * sigma[i][k]).abs() < 1e-8, "covariance {c}");
        }
        assert!((num(&j["std"][i]) - (7.0_f64 / 9.0).sqrt()).abs() < 1e-8);
    }
    assert!(num(&j["log_density_at_mode"]).abs() < 1e-14);
    assert!((num(&j["log_evidence"]) - 1.4427216).abs() < 1e-7);
    assert_eq!(j["converged"], serde_json::Value::Bool(true));
    assert!(j["iterations"].as_u64().unwrap() >= 1);
    assert!(num(&j["grad_norm"]) <= 1e-8);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("error"));
}

#[test]
fn summary_is_readable_and_the_figure_is_written() {
    let dir = temp_dir();
    let svg = dir.path().join("seed.svg");
    let out =
        saddle(&["laplace", &root("examples/sir/student_t.sir"), "--init", "[0, 0]", "--plot", svg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("mode") && text.contains("std") && text.contains("correlations"), "{text}");
    assert!(text.contains("0.500000") && text.contains("2.000000") && text.contains("0.881917"), "{text}");
    assert!(text.contains("1.4427216"), "{text}");
    let svg = std::fs::read_to_string(svg).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("marginal of θ1"));
}

#[test]
fn logistic_regression_from_npy() {
    let data =
        format!("[\"@{}\", \"@{}\"]", root("examples/data/logistic_X.npy"), root("examples/data/logistic_y.npy"));
    let sir = root("examples/data/logistic.sir");
    let init = "[0, 0, 0, 0, 0]";
    let j = ok_json(&saddle(&["laplace", &sir, "--init", init, "--data", &data, "--json"]));
    // Check stationarity at the reported mode independently of saddle.
    let x: ndarray::Array2<f64> = ndarray_npy::read_npy(root("examples/data/logistic_X.npy")).unwrap();
    let y: ndarray::Array1<f64> = ndarray_npy::read_npy(root("examples/data/logistic_y.npy")).unwrap();
    let beta: Vec<f64> = j["mode"].as_array().unwrap().iter().map(num).collect();
    let beta = ndarray::Array1::from(beta);
    let p = x.dot(&beta).mapv(|e| 1.0 / (1.0 + (-e).exp()));
    let grad = x.t().dot(&(&y - &p)) - &beta / 25.0;
    assert!(grad.iter().all(|g| g.abs() < 1e-6), "{grad}");
    // The covariance is the inverse of XᵀWX + I/25.
    let w = p.mapv(|v| v * (1.0 - v));
    let mut prec = x.t().dot(&(&x * &w.insert_axis(ndarray::Axis(1))));
    for i in 0..5 {
        prec[[i, i]] += 1.0 / 25.0;
    }
    let cov: Vec<Vec<f64>> =
        j["covariance"].as_array().unwrap().iter().map(|r| r.as_array().unwrap().iter().map(num).collect()).collect();
    let cov = ndarray::Array2::from_shape_fn((5, 5), |(m, k)| cov[m][k]);
    let identity = prec.dot(&cov);
    for i in 0..5 {
        for k in 0..5 {
            let id = identity[[i, k]];
            assert!((id - if i == k { 1.0 } else { 0.0 }).abs() < 1e-8, "P·Σ[{i}][{k}] = {id}");
        }
    }
    // L-BFGS finds the same mode.
    let l = ok_json(&saddle(&["laplace", &sir, "--init", init, "--data", &data, "--json", "--method", "lbfgs"]));
    for i in 0..5 {
        assert!((num(&l["mode"][i]) - beta[i]).abs() < 1e-6);
    }
    assert_eq!(l["method"], "lbfgs");
}

#[test]
fn plot_dims_for_more_than_two_dimensions() {
    let data =
        format!("[\"@{}\", \"@{}\"]", root("examples/data/logistic_X.npy"), root("examples/data/logistic_y.npy"));
    let sir = root("examples/data/logistic.sir");
    let dir = temp_dir();
    let svg = dir.path().join("slice.svg");
    let s = svg.to_str().unwrap();
    let out = saddle(&["laplace", &sir, "--init", "[0,0,0,0,0]", "--data", &data, "--plot", s, "--plot-dims", "1,3"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let svg = std::fs::read_to_string(&svg).unwrap();
    assert!(svg.contains("slice") && svg.contains("marginal of θ3"));
    let out = saddle(&["laplace", &sir, "--init", "[0,0,0,0,0]", "--data", &data, "--plot", s, "--plot-dims", "1,5"]);
    fails(&out, "--plot-dims");
    let out = saddle(&["laplace", &sir, "--init", "[0,0,0,0,0]", "--data", &data, "--plot-dims", "1,2"]);
    fails(&out, "--plot");
}

#[test]
fn failures_exit_1_with_error_lines() {
    let seed = root("examples/sir/student_t.sir");
    // Wrong shape of --init.
    fails(&saddle(&["laplace", &seed, "--init", "[0, 0, 0]"]), "--init");
    // Unreadable file.
    fails(&saddle(&["laplace", "/nonexistent/x.sir", "--init", "[0]"]), "cannot read");
    // Syntax error.
    let bad = temp_file("syntax.sir", "func @f(%x: f64[2]) -> f64[] {\n  return %nope\n}\n");
    fails(&saddle(&["laplace", &bad, "--init", "[0, 0]"]), "syntax.sir");
    // Data needed but not given; and data of the wrong shape.
    let sir = root("examples/data/logistic.sir");
    fails(&saddle(&["laplace", &sir, "--init", "[0,0,0,0,0]"]), "--data");
    fails(&saddle(&["laplace", &sir, "--init", "[0,0,0,0,0]", "--data", "[[1, 2], [3]]"]), "--data");
    // The first parameter is not a vector.
    let scalar = temp_file("scalar.sir", "func @f(%x: f64[]) -> f64[] {\n  %y: f64[] = mul %x, %x\n  return %y\n}\n");
    fails(&saddle(&["laplace", &scalar, "--init", "0"]), "vector");
    // The first result is not a scalar.
    let vector = temp_file("vec.sir", "func @f(%x: f64[2]) -> f64[2] {\n  %y: f64[2] = mul %x, %x\n  return %y\n}\n");
    fails(&saddle(&["laplace", &vector, "--init", "[0, 0]"]), "scalar");
    // Non-finite density at the start.
    let log = temp_file(
        "log.sir",
        "func @f(%x: f64[1]) -> f64[] {\n  %l: f64[1] = log %x\n  %s: f64[] = reduce_sum %l {axes = [0]}\n  return %s\n}\n",
    );
    fails(&saddle(&["laplace", &log, "--init", "[-1]", "--json"]), "not finite at the starting point");
    // A Hessian that is not negative definite at the mode (a minimum).
    let bowl = temp_file(
        "bowl.sir",
        "func @f(%x: f64[2]) -> f64[] {\n  %q: f64[2] = mul %x, %x\n  %s: f64[] = reduce_sum %q {axes = [0]}\n  return %s\n}\n",
    );
    fails(&saddle(&["laplace", &bowl, "--init", "[0, 0]", "--json"]), "not negative definite");
    // No convergence within the iteration limit.
    fails(&saddle(&["laplace", &seed, "--init", "[30, -40]", "--json", "--max-iter", "1"]), "no convergence");
    // --func naming a function that does not exist.
    fails(&saddle(&["laplace", &seed, "--init", "[0, 0]", "--func", "nope"]), "nope");
}

#[test]
fn usage_errors_exit_2() {
    let out = saddle(&["laplace", &root("examples/sir/student_t.sir"), "--init", "[0, 0]", "--bogus"]);
    assert_eq!(out.status.code(), Some(2));
    let out = saddle(&["laplace", &root("examples/sir/student_t.sir")]);
    assert_eq!(out.status.code(), Some(2), "--init is required");
}
