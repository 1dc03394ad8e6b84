//! `saddle laplace --random` from the outside: the JSON fields of the
//! contract's "Large and random-effects models" on lme4's sleepstudy (the
//! numbers are lme4's), the summary, and bad RANGES.

use std::process::{Command, Output};

fn saddle(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_saddle")).args(args).output().expect("the saddle binary runs")
}

fn root(path: &str) -> String {
    format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))
}

const INIT: &str = "[250, 10, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]";

fn sleepstudy(extra: &[&str]) -> Output {
    let model = root("examples/sir/sleepstudy.sir");
    let data = format!("@{}", root("examples/data/sleepstudy.json"));
    let mut args = vec!["laplace", &model, "--init", INIT, "--data", &data];
    args.extend_from_slice(extra);
    saddle(&args)
}

/// Exit 1, `error:` lines on stderr, nothing on stdout.
fn fails(out: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stdout: {} stderr: {err}", String::from_utf8_lossy(&out.stdout));
    assert!(out.stdout.is_empty(), "no partial output on failure");
    assert!(err.lines().any(|l| l.starts_with("error: ")), "{err}");
    assert!(err.contains(needle), "expected {needle:?} in {err}");
    assert!(!err.contains("panicked"), "{err}");
}

fn nums(v: &serde_json::Value) -> Vec<f64> {
    v.as_array().expect("an array").iter().map(|x| x.as_f64().expect("a number")).collect()
}

#[test]
fn sleepstudy_json_has_the_random_effects_fields_and_lme4_numbers() {
    let out = sleepstudy(&["--random", "4:22", "--json"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let fixed: Vec<u64> = v["fixed"].as_array().unwrap().iter().map(|i| i.as_u64().unwrap()).collect();
    let random: Vec<u64> = v["random"].as_array().unwrap().iter().map(|i| i.as_u64().unwrap()).collect();
    assert_eq!(fixed, [0, 1, 2, 3]);
    assert_eq!(random, (4..22).collect::<Vec<u64>>());
    let mode = nums(&v["mode"]);
    let std = nums(&v["std"]);
    assert_eq!((mode.len(), std.len()), (22, 22));
    // lme4: lmer(Reaction ~ Days + (1 | Subject), REML = FALSE).
    let log_marginal = v["log_marginal"].as_f64().unwrap();
    assert!((log_marginal - -897.039_321_502_612_9).abs() < 1e-6, "{log_marginal}");
    assert!((mode[0] - 251.405_104_848_484_43).abs() < 1e-4 && (mode[1] - 10.467_285_959_595_975).abs() < 1e-5);
    assert!((mode[2].exp() - 36.012_081_937_762_325).abs() < 1e-3);
    assert!((mode[3].exp() - 30.895_433_873_311_1).abs() < 1e-3);
    // lme4's standard error of the Days slope under ML.
    assert!((std[1] - 0.8017).abs() < 1e-4, "{}", std[1]);
    let cov: Vec<Vec<f64>> = v["covariance"].as_array().unwrap().iter().map(nums).collect();
    assert_eq!((cov.len(), cov[0].len()), (4, 4));
    for k in 0..4 {
        assert!((std[k] - cov[k][k].sqrt()).abs() < 1e-12);
    }
    // Random effects' joint std exceed their conditional ones, all finite.
    assert!(std[4..].iter().all(|s| s.is_finite() && *s > 0.0));
    assert!(v["converged"].as_bool().unwrap());
    // The marginal's gradient at the reported θ̂ comes from a fresh inner
    // solve, accurate to that solve's tolerance (about 1e-8 here).
    assert!(v["grad_norm"].as_f64().unwrap() < 5e-8, "{}", v["grad_norm"]);
    assert!(v["iterations"].as_u64().unwrap() >= 1);
    let f_mode = v["log_density_at_mode"].as_f64().unwrap();
    assert!(f_mode < log_marginal);
    // log_evidence = log_marginal + (p/2) log 2π − ½ log det(−∇²L): with
    // the precision printed, det(precision) = 1 / det(covariance).
    let evidence = v["log_evidence"].as_f64().unwrap();
    assert!(evidence.is_finite() && evidence > log_marginal);
}

#[test]
fn sparse_and_dense_inner_hessians_give_the_same_fit() {
    let run = |hessian: &str| {
        let out = sleepstudy(&["--random", "4:22", "--json", "--hessian", hessian, "--stats"]);
        assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
        let stats = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(stats.contains(&format!("stats: inner hessian {hessian}")), "{stats}");
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("one JSON object")
    };
    let (dense, sparse) = (run("dense"), run("sparse"));
    assert_eq!((dense["hessian"].as_str(), sparse["hessian"].as_str()), (Some("dense"), Some("sparse")));
    let (a, b) = (dense["log_marginal"].as_f64().unwrap(), sparse["log_marginal"].as_f64().unwrap());
    assert!((a - b).abs() < 1e-9 * a.abs(), "{a} vs {b}");
    for field in ["mode", "std"] {
        for (x, y) in nums(&dense[field]).iter().zip(nums(&sparse[field])) {
            assert!((x - y).abs() < 1e-6 * (1.0 + x.abs()), "{field}: {x} vs {y}");
        }
    }
}

#[test]
fn summary_lists_fixed_and_random_effects() {
    let out = sleepstudy(&["--random", "4:10,10:22"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("p = 4 fixed, q = 18 random effects"), "{text}");
    assert!(text.contains("log marginal         -897.03932"), "{text}");
}

#[test]
fn bad_ranges_are_errors() {
    for (ranges, needle) in [
        ("", "empty entry"),
        ("4:22,", "empty entry"),
        ("4:30", "index 29 is out of range"),
        ("22", "index 22 is out of range"),
        ("5:5", "the range 5:5 is empty"),
        ("9:4", "the range 9:4 is empty"),
        ("4:22,7", "coordinate 7 is listed twice"),
        ("4:10,8:22", "coordinate 8 is listed twice"),
        ("a:b", "\"a\" is not an index"),
        ("-1", "\"-1\" is not an index"),
    ] {
        fails(&sleepstudy(&["--random", ranges]), needle);
    }
    fails(&sleepstudy(&["--random", "4:22", "--plot", "x.svg"]), "--plot is not available with --random");
}
