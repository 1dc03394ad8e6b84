//! `saddle laplace --params` and `--derived` from the outside, and `.npy`
//! paths inside a JSON file relative to that file.

use std::path::Path;
mod common;

use std::process::{Command, Output};

use common::{fails, ok_json};

use ndarray_npy::WriteNpyExt;

fn saddle_in(dir: Option<&Path>, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_saddle"));
    if let Some(d) = dir {
        c.current_dir(d);
    }
    c.args(args).output().expect("the saddle binary runs")
}

fn saddle(args: &[&str]) -> Output {
    saddle_in(None, args)
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("saddle-cli-params-").tempdir().unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn num(v: &serde_json::Value) -> f64 {
    v.as_f64().expect("a number")
}

fn nums(v: &serde_json::Value) -> Vec<f64> {
    v.as_array().expect("an array").iter().map(num).collect()
}

/// y_i ~ N(0, 1/τ), τ ~ Gamma(3, 2), four observations: the posterior is
/// Gamma(α, β) with α = 3 + 4/2 = 5, β = 2 + Σy²/2; and a derived
/// standard deviation 1/sqrt(τ).
const GAMMA: &str = "
func @logp(%theta: f64[1], %y: f64[4]) -> f64[] {
  %lt = log %theta
  %a: f64[] = const {value = 4.0}
  %ab = broadcast_in_dim %a {shape = [1], dims = []}
  %t1 = mul %ab, %lt
  %yy = mul %y, %y
  %ss = reduce_sum %yy {axes = [0]}
  %h: f64[] = const {value = 0.5}
  %hs = mul %h, %ss
  %two: f64[] = const {value = 2.0}
  %beta = add %two, %hs
  %bb = broadcast_in_dim %beta {shape = [1], dims = []}
  %t2 = mul %bb, %theta
  %d = sub %t1, %t2
  %lp = reduce_sum %d {axes = [0]}
  return %lp
}

func @sd(%theta: f64[1]) -> f64[] {
  %r = rsqrt %theta
  %s = reduce_sum %r {axes = [0]}
  return %s
}

func @scaled(%theta: f64[1], %y: f64[4]) -> f64[] {
  %s = reduce_sum %y {axes = [0]}
  %t = reduce_sum %theta {axes = [0]}
  %p = mul %s, %t
  return %p
}

func @nothing() -> f64[] {
  %c: f64[] = const {value = 1.0}
  return %c
}

func @wrong(%theta: f64[1], %y: f64[3]) -> f64[] {
  %t = reduce_sum %theta {axes = [0]}
  return %t
}
";

const Y: &str = "[0.5, -1.0, 1.5, 0.0]";

#[test]
fn positive_block_has_the_known_answer_on_both_scales_and_derived_quantities() {
    let dir = temp_dir();
    let f = write(dir.path(), "gamma.sir", GAMMA);
    let data = format!("[{Y}]");
    let spec = r#"[{"name": "tau", "constraint": "positive"}]"#;
    let v = ok_json(&saddle(&[
        "laplace",
        &f,
        "--init",
        "[1.0]",
        "--data",
        &data,
        "--params",
        spec,
        "--derived",
        "sd",
        "--json",
    ]));
    let (alpha, beta) = (5.0f64, 2.0 + (0.25 + 1.0 + 2.25) / 2.0);
    let tau = alpha / beta;
    // The contract fields are on the unconstrained scale u = log τ.
    assert!((nums(&v["mode"])[0] - tau.ln()).abs() < 1e-9);
    assert!((nums(&v["std"])[0] - 1.0 / alpha.sqrt()).abs() < 1e-9);
    assert_eq!(num(&v["dim"]), 1.0);
    // Their log evidence is Laplace's on u, of ∫ exp f dτ.
    let laplace = alpha * tau.ln() - alpha + 0.5 * (2.0 * std::f64::consts::PI / alpha).ln();
    assert!((num(&v["log_evidence"]) - laplace).abs() < 1e-9);
    assert_eq!(v["names"], serde_json::json!(["tau"]));
    assert_eq!(v["unconstrained_names"], serde_json::json!(["log(tau)"]));
    assert!((nums(&v["constrained_mode"])[0] - tau).abs() < 1e-9);
    assert!((nums(&v["constrained_std"])[0] - alpha.sqrt() / beta).abs() < 1e-9);
    let b = &v["blocks"]["tau"];
    assert_eq!(b["constraint"], "positive");
    assert_eq!(b["shape"], serde_json::json!([]));
    assert!((num(&b["mode"]) - tau).abs() < 1e-9);
    assert!((num(&b["std"]) - alpha.sqrt() / beta).abs() < 1e-9);
    assert!((nums(&b["unconstrained_mode"])[0] - tau.ln()).abs() < 1e-9);
    // sd = τ^{-1/2}: delta-method std ½ τ^{-1/2} / √α.
    let d = &v["derived"];
    assert_eq!(d["function"], "sd");
    assert_eq!(d["names"], serde_json::json!(["sd"]));
    assert!((nums(&d["value"])[0] - tau.powf(-0.5)).abs() < 1e-9);
    assert!((nums(&d["std"])[0] - 0.5 * tau.powf(-0.5) / alpha.sqrt()).abs() < 1e-9);
    // A derived function with the model's data.
    let v = ok_json(&saddle(&[
        "laplace",
        &f,
        "--init",
        "[1.0]",
        "--data",
        &data,
        "--params",
        spec,
        "--derived",
        "scaled",
        "--json",
    ]));
    assert!((nums(&v["derived"]["value"])[0] - 1.0 * tau).abs() < 1e-9);
    assert!((nums(&v["derived"]["std"])[0] - alpha.sqrt() / beta).abs() < 1e-9);
    // The summary names the block on both scales.
    let out = saddle(&["laplace", &f, "--init", "[1.0]", "--data", &data, "--params", spec, "--derived", "sd"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("tau ") && text.contains("log(tau)") && text.contains("@sd"), "{text}");
    // The figure is labelled by name.
    let svg = dir.path().join("fit.svg");
    let out =
        saddle(&["laplace", &f, "--init", "[1.0]", "--data", &data, "--params", spec, "--plot", svg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(std::fs::read_to_string(&svg).unwrap().contains("log(tau)"));
}

/// f(θ) = −½ Σ θ² over a real scalar, a 3-simplex and a 2×2 Cholesky
/// factor of a correlation matrix: by symmetry the mode is μ = 0, w
/// uniform, L = I.
const BLOCKS: &str = "
func @f(%theta: f64[8]) -> f64[] {
  %sq = mul %theta, %theta
  %s = reduce_sum %sq {axes = [0]}
  %h: f64[] = const {value = -0.5}
  %lp = mul %h, %s
  return %lp
}

func @first_two(%theta: f64[8]) -> f64[2] {
  %m: f64[2,8] = const {value = [[1, 0, 0, 0, 0, 0, 0, 0], [2, 0, 0, 0, 0, 0, 0, 0]]}
  %r = dot_general %m, %theta {lhs_contract = [1], rhs_contract = [0]}
  return %r
}
";

#[test]
fn blocks_are_named_per_coordinate_and_shaped() {
    let dir = temp_dir();
    let f = write(dir.path(), "blocks.sir", BLOCKS);
    let spec = write(
        dir.path(),
        "params.json",
        r#"[{"name": "mu"}, {"name": "w", "shape": [3], "constraint": "simplex"},
            {"name": "L", "shape": [2, 2], "constraint": "cholesky_corr"}]"#,
    );
    let init = "[0.3, 0.2, 0.3, 0.5, 1, 0, 0.6, 0.8]";
    let v = ok_json(&saddle(&["laplace", &f, "--init", init, "--params", &format!("@{spec}"), "--json"]));
    assert_eq!(v["names"], serde_json::json!(["mu", "w[0]", "w[1]", "w[2]", "L[0,0]", "L[0,1]", "L[1,0]", "L[1,1]"]));
    assert_eq!(v["unconstrained_names"], serde_json::json!(["mu", "free(w)[0]", "free(w)[1]", "free(L)[0]"]));
    assert_eq!(nums(&v["mode"]).len(), 4);
    let cm = nums(&v["constrained_mode"]);
    let want = [0.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0, 1.0, 0.0, 0.0, 1.0];
    for (a, b) in cm.iter().zip(want) {
        assert!((a - b).abs() < 1e-8, "{cm:?}");
    }
    let l = &v["blocks"]["L"]["mode"];
    assert!((num(&l[0][0]) - 1.0).abs() < 1e-12 && num(&l[0][1]) == 0.0 && num(&l[1][0]).abs() < 1e-8);
    assert_eq!(v["blocks"]["w"]["constraint"], "simplex");
    assert!((num(&v["blocks"]["mu"]["std"]) - 1.0).abs() < 1e-8);
    // The Cholesky factor's fixed entries have no spread.
    assert_eq!(num(&v["blocks"]["L"]["std"][0][0]), 0.0);
    // Without --params, the output is as before: no names.
    let v = ok_json(&saddle(&["laplace", &f, "--init", init, "--json"]));
    assert!(v.get("names").is_none() && v.get("blocks").is_none() && v.get("derived").is_none());
    assert_eq!(nums(&v["mode"]).len(), 8);
    // --derived without --params: value [μ, 2μ], std [1, 2].
    let v = ok_json(&saddle(&["laplace", &f, "--init", init, "--derived", "first_two", "--json"]));
    let (val, std) = (nums(&v["derived"]["value"]), nums(&v["derived"]["std"]));
    assert_eq!(v["derived"]["names"], serde_json::json!(["first_two[0]", "first_two[1]"]));
    assert!(val[0].abs() < 1e-8 && val[1].abs() < 1e-8);
    assert!((std[0] - 1.0).abs() < 1e-8 && (std[1] - 2.0).abs() < 1e-8, "{std:?}");
}

#[test]
fn bad_params_and_derived_are_errors() {
    let dir = temp_dir();
    let f = write(dir.path(), "gamma.sir", GAMMA);
    let data = format!("[{Y}]");
    let run = |extra: &[&str]| {
        let mut args = vec!["laplace", f.as_str(), "--init", "[1.0]", "--data", data.as_str()];
        args.extend_from_slice(extra);
        saddle(&args)
    };
    fails(&run(&["--params", r#"[{"name": "tau", "constraint": "positiv"}]"#]), "unknown constraint \"positiv\"");
    fails(&run(&["--params", r#"[{"name": "tau", "shape": [2]}]"#]), "add up to 2");
    fails(&run(&["--params", r#"[{"name": "a"}, {"name": "a"}]"#]), "used by two blocks");
    fails(&run(&["--params", r#"[{"name": "tau", "constraint": {"lower": 1, "upper": 0}}]"#]), "lower < upper");
    fails(&run(&["--params", r#"[{"name": "tau", "constraint": "simplex"}]"#]), "simplex needs a vector");
    fails(&run(&["--params", r#"[{"nme": "tau"}]"#]), "unknown field");
    fails(&run(&["--params", r#"{"name": "tau"}"#]), "expected a JSON array");
    fails(&run(&["--params", "[1"]), "invalid JSON");
    fails(&run(&["--params", "@/nonexistent/params.json"]), "--params");
    fails(&run(&["--params", r#"[{"name": "tau", "constraint": {"lower": 2}}]"#]), "not above 2");
    fails(&run(&["--derived", "nosuch"]), "nosuch");
    fails(&run(&["--derived", "wrong"]), "same data");
    fails(&run(&["--derived", "nothing"]), "--derived nothing");
    fails(&run(&["--random", "0", "--params", r#"[{"name": "tau"}]"#]), "not available with --random");
}

#[test]
fn npy_paths_inside_a_json_file_are_relative_to_it() {
    let dir = temp_dir();
    let sub = dir.path().join("data");
    std::fs::create_dir(&sub).unwrap();
    let f = write(dir.path(), "gamma.sir", GAMMA);
    ndarray::arr1(&[0.5f64, -1.0, 1.5, 0.0]).write_npy(std::fs::File::create(sub.join("y.npy")).unwrap()).unwrap();
    let json = write(&sub, "data.json", r#"["@y.npy"]"#);
    let reference = ok_json(&saddle(&["laplace", &f, "--init", "[1.0]", "--data", &format!("[{Y}]"), "--json"]));
    // From another directory: the .npy is found beside data.json.
    let v = ok_json(&saddle_in(
        Some(dir.path()),
        &["laplace", &f, "--init", "[1.0]", "--data", &format!("@{json}"), "--json"],
    ));
    assert_eq!(v["mode"], reference["mode"]);
    // A relative path to the JSON file works the same.
    let v = ok_json(&saddle_in(
        Some(dir.path()),
        &["laplace", &f, "--init", "[1.0]", "--data", "@data/data.json", "--json"],
    ));
    assert_eq!(v["mode"], reference["mode"]);
    // On the command line, paths stay relative to the current directory.
    let v = ok_json(&saddle_in(Some(&sub), &["laplace", &f, "--init", "[1.0]", "--data", r#"["@y.npy"]"#, "--json"]));
    assert_eq!(v["mode"], reference["mode"]);
    fails(&saddle_in(Some(dir.path()), &["laplace", &f, "--init", "[1.0]", "--data", r#"["@y.npy"]"#]), "y.npy");
}
