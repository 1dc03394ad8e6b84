//! Published models written in `.sir` with the distribution library and
//! dimension variables (examples/models/), fitted by `saddle laplace` and
//! checked against an independent JAX + scipy implementation of each
//! (bench/models_reference.py wrote tests/data/models/*.json).

use std::process::{Command, Output};

use serde_json::Value as Json;

fn saddle(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_saddle")).args(args).output().expect("the saddle binary runs")
}

fn model(name: &str) -> String {
    format!("{}/examples/models/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn reference(name: &str) -> Json {
    let path = format!("{}/tests/data/models/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn fit(args: &[&str]) -> Json {
    let out = saddle(args);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn floats(j: &Json) -> Vec<f64> {
    j.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn close(what: &str, got: f64, want: f64, tol: f64) {
    assert!((got - want).abs() <= tol * (1.0 + want.abs()), "{what}: {got} vs {want}");
}

/// `saddle laplace` of `examples/models/NAME.sir` on its data, from
/// `init`, to a tight gradient tolerance, with `extra` flags.
fn fit_model(name: &str, init: &str, extra: &[&str]) -> Json {
    let sir = model(&format!("{name}.sir"));
    let data = format!("@{}", model(&format!("{name}.data.json")));
    let mut args = vec!["laplace", &sir, "--init", init, "--data", &data, "--grad-tol", "1e-10", "--json"];
    args.extend_from_slice(extra);
    fit(&args)
}

fn close_matrix(what: &str, got: &Json, want: &Json, tol: f64) {
    for (i, (g, w)) in got.as_array().unwrap().iter().zip(want.as_array().unwrap()).enumerate() {
        for (j, (g, w)) in floats(g).iter().zip(floats(w)).enumerate() {
            close(&format!("{what}[{i}][{j}]"), *g, w, tol);
        }
    }
}

fn zeros(n: usize) -> String {
    format!("[{}]", vec!["0"; n].join(", "))
}

#[test]
fn eight_schools_matches_jax() {
    let want = reference("eight_schools");
    let got = fit_model("eight_schools", &zeros(10), &[]);
    for (i, (g, w)) in floats(&got["mode"]).iter().zip(floats(&want["mode"])).enumerate() {
        close(&format!("mode[{i}]"), *g, w, 1e-7);
    }
    close_matrix("covariance", &got["covariance"], &want["covariance"], 1e-6);
    close(
        "log density",
        got["log_density_at_mode"].as_f64().unwrap(),
        want["log_density_at_mode"].as_f64().unwrap(),
        1e-9,
    );
    close("log evidence", got["log_evidence"].as_f64().unwrap(), want["log_evidence"].as_f64().unwrap(), 1e-9);
}

#[test]
fn eight_schools_runs_on_any_number_of_schools() {
    // The first three schools only: the same file, J = 3.
    let data = "[[28, 8, -3], [15, 10, 16]]";
    let got = fit(&["laplace", &model("eight_schools.sir"), "--init", &zeros(5), "--data", data, "--json"]);
    assert_eq!(got["mode"].as_array().unwrap().len(), 5);
    assert_eq!(got["converged"], Json::Bool(true));
}

#[test]
fn radon_varying_intercepts_match_the_exact_marginal() {
    // The model is Gaussian in the intercepts: Laplace's marginal is exact,
    // and the reference integrates them out in closed form.
    let want = reference("radon");
    let got = fit_model("radon", &zeros(16), &["--random", "4:16"]);
    let mode = floats(&got["mode"]);
    for (i, w) in floats(&want["mode"]).iter().enumerate() {
        close(&format!("fixed[{i}]"), mode[i], *w, 1e-7);
    }
    for (j, w) in floats(&want["random_mode"]).iter().enumerate() {
        close(&format!("intercept[{j}]"), mode[4 + j], *w, 1e-7);
    }
    close_matrix("covariance", &got["covariance"], &want["covariance"], 1e-6);
    close("log marginal", got["log_marginal"].as_f64().unwrap(), want["log_marginal"].as_f64().unwrap(), 1e-9);
    close("log evidence", got["log_evidence"].as_f64().unwrap(), want["log_evidence"].as_f64().unwrap(), 1e-8);
}

#[test]
fn gp_regression_matches_jax() {
    let want = reference("gp_regression");
    let got = fit_model("gp_regression", "[0, 0, 0]", &[]);
    for (i, (g, w)) in floats(&got["mode"]).iter().zip(floats(&want["mode"])).enumerate() {
        close(&format!("mode[{i}]"), *g, w, 1e-7);
    }
    close_matrix("covariance", &got["covariance"], &want["covariance"], 1e-6);
    close("log evidence", got["log_evidence"].as_f64().unwrap(), want["log_evidence"].as_f64().unwrap(), 1e-9);
}

#[test]
fn the_model_files_check_and_print_with_their_names() {
    for name in ["eight_schools.sir", "radon.sir", "gp_regression.sir"] {
        let out = saddle(&["check", &model(name)]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let out = saddle(&["check", &model("eight_schools.sir")]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("func @eight_schools(%theta: f64[J+2], %y: f64[J], %sigma: f64[J]) -> f64[] {"), "{text}");
}

#[test]
fn transformed_models_keep_their_dimension_variables() {
    let dir = tempfile::Builder::new().prefix("saddle-models-").tempdir().unwrap();
    let args = "[[0.1, 0.2, 0.3, 0.4, 0.5], [28, 8, -3], [15, 10, 16]]";
    for (pass, cmd) in [("grad", "grad"), ("hessian", "hessian")] {
        let out = saddle(&["opt", &model("eight_schools.sir"), "-p", pass]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("(%theta: f64[J+2], %y: f64[J], %sigma: f64[J])"), "{text}");
        let path = dir.path().join(format!("{pass}.sir"));
        std::fs::write(&path, &text).unwrap();
        // The printed derivative, bound to J = 3, is the derivative at J = 3.
        let eval = saddle(&["eval", path.to_str().unwrap(), "--args", args]);
        let direct = saddle(&[cmd, &model("eight_schools.sir"), "--args", args]);
        let eval: Json = serde_json::from_slice(&eval.stdout).unwrap();
        let direct: Json = serde_json::from_slice(&direct.stdout).unwrap();
        assert_eq!(eval[0], direct, "{pass}");
    }
}
