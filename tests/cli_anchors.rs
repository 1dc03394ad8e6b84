//! The anchor workloads of `bench/anchors/` against the numbers TMB and
//! glmmTMB gave on the same data (`crates/laplace/tests/data/anchors/`,
//! written by `bench/anchors/anchors.R`): one Laplace value at given fixed
//! effects, and the whole `laplace --random` fit (log marginal to 1e-6
//! relative, estimates to 1e-5, standard errors to 1e-4 relative).
//!
//! The fits of the 8⁴ lattice, of orange_big and of instEval are
//! `#[ignore]`d (each takes from seconds to minutes in a release build,
//! far longer in a debug one); their one-Laplace-value tests run always.
//! Run them with `cargo test --release --test cli_anchors -- --ignored`.

use std::collections::BTreeMap;
use std::process::Command;

fn root(path: &str) -> String {
    format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))
}

fn data(file: &str) -> String {
    format!("@{}", root(&format!("crates/laplace/tests/data/anchors/{file}")))
}

/// The `key value...` lines of a reference file.
fn reference(name: &str) -> BTreeMap<String, Vec<f64>> {
    let text = std::fs::read_to_string(root(&format!("crates/laplace/tests/data/anchors/{name}_ref.txt")))
        .expect("the reference file is readable");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut words = l.split_whitespace();
            let key = words.next().expect("a key").to_string();
            (key, words.map(|w| w.parse().expect("a number")).collect())
        })
        .collect()
}

/// A `.npy` file of little-endian f64 values, as a vector.
fn npy_f64(file: &str) -> Vec<f64> {
    let raw = std::fs::read(&data(file)[1..]).expect("the data file is readable");
    let header = u16::from_le_bytes([raw[8], raw[9]]) as usize;
    raw[10 + header..].chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect()
}

fn json(v: &[f64]) -> String {
    serde_json::to_string(v).expect("numbers serialise")
}

/// `saddle laplace ... --json`, which must succeed.
fn laplace(args: &[String]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_saddle"))
        .arg("laplace")
        .args(args)
        .arg("--json")
        .output()
        .expect("the saddle binary runs");
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

fn nums(v: &serde_json::Value) -> Vec<f64> {
    v.as_array().expect("an array").iter().map(|x| x.as_f64().expect("a number")).collect()
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

/// One Laplace value of `<name>_given` (the random effects alone, the
/// fixed effects as data) at the reference's `given` fixed effects.
fn given_value(name: &str, init: &[f64], data: &[String]) {
    let r = reference(name);
    let fixed = &r["given"];
    let fixed = if fixed.len() == 1 { fixed[0].to_string() } else { json(fixed) };
    let data = format!("[{fixed}, {}]", data.iter().map(|d| format!("{d:?}")).collect::<Vec<_>>().join(", "));
    let sir = root(&format!("bench/anchors/{name}.sir"));
    let v =
        laplace(&[sir, "--func".into(), format!("{name}_given"), "--init".into(), json(init), "--data".into(), data]);
    let value = v["log_evidence"].as_f64().expect("log_evidence");
    let want = r["given_log_marginal"][0];
    assert!(rel(value, want) < 1e-9, "{name}: {value} against {want}");
}

/// The whole fit with `--random` against the reference optimum; returns
/// saddle's answer.
fn fit(name: &str, ranges: &str, init: &[f64], data: &[String]) -> serde_json::Value {
    let r = reference(name);
    let data = format!("[{}]", data.iter().map(|d| format!("{d:?}")).collect::<Vec<_>>().join(", "));
    let sir = root(&format!("bench/anchors/{name}.sir"));
    let v = laplace(&[sir, "--random".into(), ranges.into(), "--init".into(), json(init), "--data".into(), data]);
    assert!(v["converged"].as_bool().expect("converged"), "{v}");
    let lm = v["log_marginal"].as_f64().expect("log_marginal");
    assert!(rel(lm, r["log_marginal"][0]) < 1e-6, "{name}: log marginal {lm} against {}", r["log_marginal"][0]);
    let (mode, std) = (nums(&v["mode"]), nums(&v["std"]));
    for (k, (&want, &want_std)) in r["estimates"].iter().zip(&r["std"]).enumerate() {
        assert!((mode[k] - want).abs() < 1e-5, "{name}: estimate {k} is {} against {want}", mode[k]);
        assert!(rel(std[k], want_std) < 1e-4, "{name}: std {k} is {} against {want_std}", std[k]);
    }
    v
}

fn thetalog_init() -> Vec<f64> {
    let mut init = vec![-1.0, 0.0, 4.0, -2.0, -2.0];
    init.extend(npy_f64("thetalog_y.npy"));
    init
}

fn glmm_data() -> Vec<String> {
    ["y", "group", "x1", "x2"].iter().map(|k| data(&format!("poisson_glmm_{k}.npy"))).collect()
}

fn orange_data() -> Vec<String> {
    vec![data("orange_big_y.npy"), data("orange_big_t.npy")]
}

/// The fit's initial values: b0, b1, b2, log sigma, log sigma_u, then
/// the 5,000 random effects at zero.
fn orange_init() -> Vec<f64> {
    let mut init = vec![200.0, 700.0, 300.0, 1.0, 2.0];
    init.resize(5005, 0.0);
    init
}

fn insteval_data() -> Vec<String> {
    ["y", "service", "s", "d", "ds"].iter().map(|k| data(&format!("instEval_{k}.npy"))).collect()
}

#[test]
fn thetalog_laplace_value_is_tmbs() {
    given_value("thetalog", &npy_f64("thetalog_y.npy"), &[data("thetalog_y.npy")]);
}

#[test]
fn thetalog_fit_is_tmbs() {
    _ = fit("thetalog", "5:205", &thetalog_init(), &[data("thetalog_y.npy")]);
}

#[test]
fn poisson_glmm_laplace_value_is_glmmtmbs() {
    given_value("poisson_glmm", &[0.0; 2000], &glmm_data());
}

#[test]
fn poisson_glmm_fit_is_glmmtmbs() {
    _ = fit("poisson_glmm", "4:2004", &[0.0; 2004], &glmm_data());
}

#[test]
fn ar1_4d_laplace_value_is_tmbs() {
    given_value("ar1_4d", &[0.0; 4096], &[data("ar1_4d_y.npy")]);
}

#[test]
#[ignore = "a minute or two in a debug build (4,096 random effects whose factor fills in)"]
fn ar1_4d_fit_is_tmbs() {
    _ = fit("ar1_4d", "1:4097", &[0.0; 4097], &[data("ar1_4d_y.npy")]);
}

#[test]
fn orange_big_laplace_value_is_tmbs() {
    given_value("orange_big", &[0.0; 5000], &orange_data());
}

#[test]
#[ignore = "about 8 CPU s in a release build (13 outer Newton steps, 200 inner solves over 5,000 random effects)"]
fn orange_big_fit_is_tmbs() {
    _ = fit("orange_big", "5:5005", &orange_init(), &orange_data());
}

#[test]
fn insteval_laplace_value_is_glmmtmbs() {
    given_value("instEval", &[0.0; 4128], &insteval_data());
}

/// The fit against glmmTMB's polished optimum, and its log marginal
/// against lme4's maximum likelihood (lme4's estimates are those of its
/// own optimiser's tolerance: 1e-4 here).
#[test]
#[ignore = "about 130 CPU s in a release build: 62 outer L-BFGS steps, 100 inner sparse solves whose factor has 628,832 entries"]
fn insteval_fit_is_glmmtmbs_and_lme4s() {
    let v = fit("instEval", "6:4134", &[0.0; 4134], &insteval_data());
    let r = reference("instEval");
    let lm = v["log_marginal"].as_f64().expect("log_marginal");
    assert!(rel(lm, r["lmer_log_lik"][0]) < 1e-6, "log marginal {lm} against lme4's {}", r["lmer_log_lik"][0]);
    let mode = nums(&v["mode"]);
    for (k, &want) in r["lmer_estimates"].iter().enumerate() {
        assert!((mode[k] - want).abs() < 1e-4, "estimate {k} is {} against lme4's {want}", mode[k]);
    }
}
