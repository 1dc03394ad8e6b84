//! The distribution library (`saddle::ir::dist`) against scipy's values
//! (`tests/data/dist_reference.json`, written by
//! `tests/data/gen_dist_reference.py`), its derivatives against central
//! finite differences, `f32`, integer data, and the registry's errors.

use std::collections::HashMap;

use ndarray::ArrayD;
use saddle::ir::{Array, DType, Error, Func, TensorType, dist};
use saddle::runtime::Executable;
use serde_json::Value as Json;

fn reference() -> serde_json::Map<String, Json> {
    match serde_json::from_str(include_str!("data/dist_reference.json")) {
        Ok(Json::Object(m)) => m,
        other => panic!("the reference file is not a JSON object: {other:?}"),
    }
}

fn num(v: &Json) -> f64 {
    match v {
        Json::Number(n) => n.as_f64().unwrap(),
        Json::String(s) if s == "inf" => f64::INFINITY,
        Json::String(s) if s == "-inf" => f64::NEG_INFINITY,
        other => panic!("not a number: {other}"),
    }
}

/// A number or nested list as an `f64` array.
fn array(v: &Json) -> ArrayD<f64> {
    fn walk(v: &Json, shape: &mut Vec<usize>, depth: usize, out: &mut Vec<f64>) {
        match v {
            Json::Array(items) => {
                if shape.len() == depth {
                    shape.push(items.len());
                }
                for item in items {
                    walk(item, shape, depth + 1, out);
                }
            }
            other => out.push(num(other)),
        }
    }
    let (mut shape, mut out) = (Vec::new(), Vec::new());
    walk(v, &mut shape, 0, &mut out);
    ArrayD::from_shape_vec(shape, out).unwrap()
}

fn attrs_of(case: &Json) -> Vec<(String, Vec<i64>)> {
    let Some(Json::Object(m)) = case.get("attrs") else { return vec![] };
    m.iter().map(|(k, v)| (k.clone(), v.as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect())).collect()
}

fn instantiate(name: &str, types: &[TensorType], attrs: &[(String, Vec<i64>)]) -> Func {
    let attrs: Vec<(&str, Vec<i64>)> = attrs.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    match dist::instantiate(name, types, &attrs) {
        Some(Ok(f)) => f,
        Some(Err(e)) => panic!("{name} at {types:?}: {e}"),
        None => panic!("{name} is not in the library"),
    }
}

fn compile(f: &Func) -> Executable {
    saddle::runtime::compile(f).unwrap_or_else(|e| panic!("compiling @{}: {e}", f.name()))
}

/// Relative error, measured against 1 for values near 0; exact for
/// infinities.
fn error(got: f64, want: f64) -> f64 {
    if want.is_infinite() || got.is_infinite() {
        return if got == want { 0.0 } else { f64::INFINITY };
    }
    (got - want).abs() / want.abs().max(1.0)
}

/// The largest error allowed for each function.
fn tolerance(name: &str) -> f64 {
    match name {
        // Two log-beta functions of order 100 cancel to a result of order
        // 1 at (n, N, α, β) = (1, 20, 30, 1000): a few ulps of the terms is
        // 2e-12 of the result (scipy's betabinom has the same cancellation).
        "beta_binomial_lpmf" => 1e-11,
        _ => 1e-12,
    }
}

#[test]
fn every_function_matches_scipy() {
    let refs = reference();
    let mut cache: HashMap<String, Executable> = HashMap::new();
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for (name, cases) in &refs {
        let mut worst = (0.0f64, String::new());
        for case in cases.as_array().unwrap() {
            let args: Vec<ArrayD<f64>> = case["args"].as_array().unwrap().iter().map(array).collect();
            let types: Vec<TensorType> = args.iter().map(|a| TensorType::f64(a.shape())).collect();
            let attrs = attrs_of(case);
            let key = format!("{name} {types:?} {attrs:?}");
            let exe = cache.entry(key).or_insert_with(|| compile(&instantiate(name, &types, &attrs)));
            let inputs: Vec<Array> = args.iter().cloned().map(Array::from).collect();
            let got = exe.run(&inputs).unwrap()[0].to_f64_vec();
            let want = array(&case["value"]).iter().copied().collect::<Vec<_>>();
            assert_eq!(got.len(), want.len(), "{name}: result size");
            for (g, w) in got.iter().zip(&want) {
                let e = error(*g, *w);
                if e.is_nan() || e > worst.0 {
                    worst = (if e.is_nan() { f64::INFINITY } else { e }, format!("{:?} -> {g} (scipy {w})", case["args"]));
                }
            }
        }
        report.push(format!("{name:28} {:3} cases, max error {:.2e}", cases.as_array().unwrap().len(), worst.0));
        if worst.0 > tolerance(name) {
            failures.push(format!("{name}: error {:.2e} at {}", worst.0, worst.1));
        }
    }
    eprintln!("{}", report.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
