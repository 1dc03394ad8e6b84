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
                    worst =
                        (if e.is_nan() { f64::INFINITY } else { e }, format!("{:?} -> {g} (scipy {w})", case["args"]));
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

#[test]
fn every_catalogue_entry_is_checked_against_scipy() {
    let refs = reference();
    // Structural helpers have no scipy counterpart; they are tested below.
    let structural = ["identity", "diag_matrix", "diagonal", "add", "sub", "mul", "div", "element"];
    let missing: Vec<&str> = dist::catalogue()
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| !structural.contains(n) && !refs.contains_key(*n))
        .collect();
    assert!(missing.is_empty(), "no reference values for {missing:?}");
    for name in refs.keys() {
        assert!(dist::catalogue().iter().any(|(n, _)| n == name), "{name} is not in the catalogue");
    }
}

fn arr(shape: &[usize], values: &[f64]) -> ArrayD<f64> {
    ArrayD::from_shape_vec(shape.to_vec(), values.to_vec()).unwrap()
}

fn s(v: f64) -> ArrayD<f64> {
    arr(&[], &[v])
}

/// Gradients of `name` at `args` with respect to each argument of `wrt`,
/// against central differences of its value, element by element.
fn check_gradient(name: &str, args: &[ArrayD<f64>], wrt: &[usize]) {
    let types: Vec<TensorType> = args.iter().map(|a| TensorType::f64(a.shape())).collect();
    let f = instantiate(name, &types, &[]);
    let value = compile(&f);
    let eval = |args: &[ArrayD<f64>]| {
        let inputs: Vec<Array> = args.iter().cloned().map(Array::from).collect();
        value.run(&inputs).unwrap()[0].to_f64_vec()[0]
    };
    for &i in wrt {
        let g = compile(&saddle::ad::grad(&f, i).unwrap());
        let inputs: Vec<Array> = args.iter().cloned().map(Array::from).collect();
        let grad = g.run(&inputs).unwrap()[0].to_f64_vec();
        assert_eq!(grad.len(), args[i].len(), "{name}: gradient size");
        for (j, &gj) in grad.iter().enumerate() {
            let x0 = args[i].as_slice().unwrap()[j];
            let h = 1e-5 * x0.abs().max(1.0);
            let mut plus = args.to_vec();
            plus[i].as_slice_mut().unwrap()[j] = x0 + h;
            let mut minus = args.to_vec();
            minus[i].as_slice_mut().unwrap()[j] = x0 - h;
            let fd = (eval(&plus) - eval(&minus)) / (2.0 * h);
            assert!(
                (gj - fd).abs() <= 1e-6 * gj.abs().max(1.0),
                "{name}: d/d(arg {i}[{j}]) = {gj}, finite differences {fd} at {args:?}"
            );
        }
    }
}

#[test]
fn helper_gradients_match_finite_differences() {
    let cases: &[(&str, &[f64], &[usize])] = &[
        ("log1p_exp", &[0.7], &[0]),
        ("log1p_exp", &[-30.0], &[0]),
        ("log_inv_logit", &[-1.3], &[0]),
        ("log1m_inv_logit", &[2.1], &[0]),
        ("log1m", &[0.3], &[0]),
        ("log1m_exp", &[-0.2], &[0]),
        ("log1m_exp", &[-3.0], &[0]),
        ("log_diff_exp", &[1.0, -0.5], &[0, 1]),
        ("log_sum_exp", &[0.2, 1.1], &[0, 1]),
        ("log_mix", &[0.3, -1.0, 0.5], &[0, 1, 2]),
        ("multiply_log", &[2.0, 3.0], &[0, 1]),
        ("lbeta", &[2.5, 3.5], &[0, 1]),
        ("lbeta", &[3.0, 50.0], &[0, 1]),
        ("lbeta", &[12.0, 40.0], &[0, 1]),
        ("lchoose", &[10.5, 3.2], &[0, 1]),
        ("Phi", &[-3.5], &[0]),
        ("Phi", &[0.4], &[0]),
        ("Phi", &[4.0], &[0]),
        ("log_Phi", &[-5.0], &[0]),
        ("log_Phi", &[-1.0], &[0]),
        ("log_Phi", &[3.5], &[0]),
        ("log1m_Phi", &[1.0], &[0]),
        ("square", &[1.7], &[0]),
    ];
    for (name, point, wrt) in cases {
        let args: Vec<ArrayD<f64>> = point.iter().map(|&v| s(v)).collect();
        check_gradient(name, &args, wrt);
    }
}

#[test]
fn density_gradients_match_finite_differences() {
    let cases: &[(&str, &[f64], &[usize])] = &[
        ("normal_lpdf", &[0.3, -0.2, 1.7], &[0, 1, 2]),
        ("normal_lcdf", &[-4.0, 0.5, 1.3], &[0, 1, 2]),
        ("normal_lcdf", &[1.0, 0.5, 1.3], &[0, 1, 2]),
        ("normal_lccdf", &[2.5, 0.0, 0.8], &[0, 1, 2]),
        ("lognormal_lpdf", &[1.3, 0.2, 0.7], &[0, 1, 2]),
        ("student_t_lpdf", &[0.4, 4.5, -0.3, 1.2], &[0, 1, 2, 3]),
        ("student_t_lpdf", &[-2.0, 40.0, 0.3, 0.5], &[0, 1, 2, 3]),
        ("cauchy_lpdf", &[0.4, -0.3, 1.2], &[0, 1, 2]),
        ("half_normal_lpdf", &[0.8, 1.5], &[0, 1]),
        ("half_cauchy_lpdf", &[0.8, 1.5], &[0, 1]),
        ("exponential_lpdf", &[0.8, 1.5], &[0, 1]),
        ("gamma_lpdf", &[1.2, 2.5, 1.5], &[0, 1, 2]),
        ("inv_gamma_lpdf", &[1.2, 2.5, 1.5], &[0, 1, 2]),
        ("beta_lpdf", &[0.3, 2.5, 1.7], &[0, 1, 2]),
        ("uniform_lpdf", &[0.3, -1.0, 2.0], &[1, 2]),
        ("logistic_lpdf", &[0.4, -0.3, 1.2], &[0, 1, 2]),
        ("double_exponential_lpdf", &[0.4, -0.3, 1.5], &[0, 1, 2]),
        ("weibull_lpdf", &[1.2, 1.8, 0.9], &[0, 1, 2]),
        ("bernoulli_lpmf", &[1.0, 0.3], &[1]),
        ("bernoulli_logit_lpmf", &[0.0, 0.7], &[1]),
        ("binomial_lpmf", &[3.0, 10.0, 0.35], &[2]),
        ("binomial_logit_lpmf", &[3.0, 10.0, -0.4], &[2]),
        ("poisson_lpmf", &[4.0, 3.3], &[1]),
        ("poisson_log_lpmf", &[4.0, 1.1], &[1]),
        ("neg_binomial_2_lpmf", &[4.0, 3.3, 2.2], &[1, 2]),
        ("neg_binomial_2_lpmf", &[0.0, 3.3, 2.2], &[1, 2]),
        ("neg_binomial_2_log_lpmf", &[4.0, 1.1, 2.2], &[1, 2]),
        ("beta_binomial_lpmf", &[3.0, 10.0, 2.5, 1.5], &[2, 3]),
    ];
    for (name, point, wrt) in cases {
        let args: Vec<ArrayD<f64>> = point.iter().map(|&v| s(v)).collect();
        check_gradient(name, &args, wrt);
    }
}

#[test]
fn multivariate_and_categorical_gradients_match_finite_differences() {
    let l = arr(&[3, 3], &[1.2, 0.0, 0.0, 0.3, 0.9, 0.0, -0.4, 0.2, 1.5]);
    let x = arr(&[2, 3], &[0.1, -0.5, 2.0, 1.0, 0.3, -0.7]);
    let mu = arr(&[3], &[0.2, -0.1, 0.5]);
    check_gradient("multi_normal_cholesky_lpdf", &[x, mu, l], &[0, 1, 2]);
    // A correlation matrix's Cholesky factor (rows of unit length).
    let (a, b, c) = (0.3f64, -0.2f64, 0.5f64);
    let lc = arr(&[3, 3], &[1.0, 0.0, 0.0, a, (1.0 - a * a).sqrt(), 0.0, b, c, (1.0 - b * b - c * c).sqrt()]);
    check_gradient("lkj_corr_cholesky_lpdf", &[lc, s(2.5)], &[0, 1]);
    let xd = arr(&[2, 3], &[0.2, 0.3, 0.5, 0.6, 0.1, 0.3]);
    check_gradient("dirichlet_lpdf", &[xd, arr(&[3], &[0.7, 2.0, 3.5])], &[0, 1]);
    let beta = arr(&[4], &[0.3, -2.0, 5.0, 1.0]);
    check_gradient("categorical_logit_lpmf", &[arr(&[3], &[2.0, 4.0, 1.0]), beta], &[1]);
    let cuts = arr(&[3], &[-1.0, 0.5, 2.0]);
    check_gradient("ordered_logistic_lpmf", &[arr(&[4], &[1.0, 2.0, 3.0, 4.0]), s(0.4), cuts], &[1, 2]);
}

fn run_f64(name: &str, args: &[ArrayD<f64>]) -> f64 {
    let types: Vec<TensorType> = args.iter().map(|a| TensorType::f64(a.shape())).collect();
    let inputs: Vec<Array> = args.iter().cloned().map(Array::from).collect();
    compile(&instantiate(name, &types, &[])).run(&inputs).unwrap()[0].to_f64_vec()[0]
}

#[test]
fn f32_operands_compute_in_f32() {
    let cases: &[(&str, &[f64])] = &[
        ("normal_lpdf", &[0.3, -0.2, 1.7]),
        ("gamma_lpdf", &[1.2, 2.5, 1.5]),
        ("student_t_lpdf", &[0.4, 4.5, -0.3, 1.2]),
        ("normal_lcdf", &[-9.0, 0.0, 1.0]),
        ("poisson_log_lpmf", &[4.0, 1.1]),
        ("beta_lpdf", &[0.3, 2.5, 1.7]),
    ];
    for (name, point) in cases {
        let x32 = ArrayD::from_shape_vec(vec![4], vec![point[0] as f32; 4]).unwrap();
        let mut types = vec![TensorType::f32([4])];
        let mut inputs = vec![Array::from(x32)];
        for &p in &point[1..] {
            types.push(TensorType::f32([]));
            inputs.push(Array::from(ArrayD::from_elem(vec![], p as f32)));
        }
        let f = instantiate(name, &types, &[]);
        assert_eq!(f.result_types(), vec![TensorType::f32([])], "{name}");
        let got = compile(&f).run(&inputs).unwrap()[0].to_f64_vec()[0];
        let mut args = vec![ArrayD::from_elem(vec![4], point[0] as f32 as f64)];
        args.extend(point[1..].iter().map(|&p| s(p as f32 as f64)));
        let want = run_f64(name, &args);
        assert!((got - want).abs() <= 1e-5 * want.abs().max(1.0), "{name} in f32: {got}, in f64 {want}");
    }
}

#[test]
fn integer_data_equals_float_data() {
    let counts = [0i64, 3, 7, 1];
    let as_f64 = arr(&[4], &counts.map(|c| c as f64));
    let cases: &[(&str, &[f64])] =
        &[("poisson_lpmf", &[2.5]), ("binomial_lpmf", &[9.0, 0.4]), ("neg_binomial_2_log_lpmf", &[1.1, 2.2])];
    for (name, params) in cases {
        for dtype in [DType::I64, DType::I32] {
            let data = match dtype {
                DType::I64 => Array::from(ArrayD::from_shape_vec(vec![4], counts.to_vec()).unwrap()),
                _ => Array::from(ArrayD::from_shape_vec(vec![4], counts.map(|c| c as i32).to_vec()).unwrap()),
            };
            let mut types = vec![TensorType::new(dtype, [4])];
            let mut inputs = vec![data];
            for &p in *params {
                types.push(TensorType::f64([]));
                inputs.push(Array::from(s(p)));
            }
            let got = compile(&instantiate(name, &types, &[])).run(&inputs).unwrap()[0].to_f64_vec()[0];
            let mut args = vec![as_f64.clone()];
            args.extend(params.iter().map(|&p| s(p)));
            let want = run_f64(name, &args);
            assert!(error(got, want) <= 1e-15, "{name} on {dtype} data: {got}, on floats {want}");
        }
    }
    // Categories as integers.
    let y = Array::from(ArrayD::from_shape_vec(vec![3], vec![2i64, 4, 1]).unwrap());
    let beta = arr(&[4], &[0.3, -2.0, 5.0, 1.0]);
    let types = [TensorType::new(DType::I64, [3]), TensorType::f64([4])];
    let got =
        compile(&instantiate("categorical_logit_lpmf", &types, &[])).run(&[y, Array::from(beta.clone())]).unwrap()[0]
            .to_f64_vec()[0];
    let want = run_f64("categorical_logit_lpmf", &[arr(&[3], &[2.0, 4.0, 1.0]), beta]);
    assert!(error(got, want) <= 1e-15, "{got} {want}");
}

/// Operand shapes at which each catalogue entry is instantiated, with the
/// result shape expected: scalars, then a vector against scalar parameters.
fn shapes_for(name: &str, arity: usize) -> Vec<(Vec<Vec<usize>>, Vec<usize>)> {
    let density = ["_lpdf", "_lpmf", "_lcdf", "_lccdf"].iter().any(|s| name.ends_with(s));
    match name {
        "identity" | "element" => vec![],
        "add" | "mul" => vec![(vec![vec![], vec![4], vec![2, 1]], vec![2, 4]), (vec![vec![3], vec![]], vec![3])],
        "sub" | "div" => vec![(vec![vec![], vec![4]], vec![4]), (vec![vec![2, 1], vec![3]], vec![2, 3])],
        "log_sum_exp" => vec![(vec![vec![4]], vec![]), (vec![vec![2, 3]], vec![]), (vec![vec![5], vec![]], vec![5])],
        "log_softmax" => vec![(vec![vec![4]], vec![4]), (vec![vec![2, 3]], vec![2, 3])],
        "diag_matrix" => vec![(vec![vec![3]], vec![3, 3]), (vec![vec![2, 3]], vec![2, 3, 3])],
        "diagonal" => vec![(vec![vec![3, 3]], vec![3]), (vec![vec![2, 3, 3]], vec![2, 3])],
        "multi_normal_cholesky_lpdf" => {
            vec![(vec![vec![3], vec![3], vec![3, 3]], vec![]), (vec![vec![7, 3], vec![], vec![3, 3]], vec![])]
        }
        "lkj_corr_cholesky_lpdf" => vec![(vec![vec![3, 3], vec![]], vec![]), (vec![vec![2, 4, 4], vec![]], vec![])],
        "dirichlet_lpdf" => vec![(vec![vec![3], vec![3]], vec![]), (vec![vec![5, 3], vec![3]], vec![])],
        "categorical_logit_lpmf" => vec![(vec![vec![], vec![4]], vec![]), (vec![vec![6], vec![4]], vec![])],
        "ordered_logistic_lpmf" => {
            vec![(vec![vec![], vec![], vec![3]], vec![]), (vec![vec![6], vec![6], vec![3]], vec![])]
        }
        _ => {
            let vector: Vec<Vec<usize>> = (0..arity).map(|i| if i == 0 { vec![5] } else { vec![] }).collect();
            let out = if density { vec![] } else { vec![5] };
            vec![(vec![vec![]; arity], vec![]), (vector, out)]
        }
    }
}

fn arity_of(name: &str) -> usize {
    (0..=4).find(|&n| matches!(dist::instantiate(name, &vec![TensorType::f64([]); n], &[]), Some(Ok(_)))).unwrap_or(0)
}

#[test]
fn every_entry_instantiates_at_several_shapes() {
    for (name, doc) in dist::catalogue() {
        assert!(!doc.is_empty(), "{name} has no description");
        let arity = match *name {
            "multi_normal_cholesky_lpdf" | "ordered_logistic_lpmf" => 3,
            "lkj_corr_cholesky_lpdf" | "dirichlet_lpdf" | "categorical_logit_lpmf" => 2,
            "diag_matrix" | "diagonal" | "log_softmax" | "element" => 1,
            "add" | "sub" | "mul" | "div" => 2,
            _ => arity_of(name),
        };
        for (shapes, out) in shapes_for(name, arity) {
            let types: Vec<TensorType> = shapes.iter().map(TensorType::f64).collect();
            let f = instantiate(name, &types, &[]);
            saddle::ir::verify(&f).unwrap_or_else(|e| panic!("{name} at {types:?}: {e}"));
            assert_eq!(f.param_types(), types.as_slice(), "{name}");
            assert_eq!(f.result_types()[0], TensorType::f64(&out), "{name} at {types:?}");
        }
    }
    let eye = instantiate("identity", &[], &[("n".into(), vec![3])]);
    let out = compile(&eye).run(&[]).unwrap()[0].to_f64_vec();
    assert_eq!(out, vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
    let d = instantiate("diag_matrix", &[TensorType::f64([2])], &[]);
    assert_eq!(
        compile(&d).run(&[Array::from(arr(&[2], &[3.0, -1.0]))]).unwrap()[0].to_f64_vec(),
        vec![3.0, 0.0, 0.0, -1.0]
    );
    let e = instantiate("element", &[TensorType::f64([2, 3])], &[("index".into(), vec![1, 2])]);
    let m23 = arr(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_eq!(compile(&e).run(&[Array::from(m23.clone())]).unwrap()[0].to_f64_vec(), vec![6.0]);
    let row = instantiate("element", &[TensorType::f64([2, 3])], &[("index".into(), vec![1])]);
    assert_eq!(compile(&row).run(&[Array::from(m23)]).unwrap()[0].to_f64_vec(), vec![4.0, 5.0, 6.0]);
    let sum = instantiate("add", &[TensorType::f64([]), TensorType::f64([2])], &[]);
    let two = [Array::from(s(1.5)), Array::from(arr(&[2], &[1.0, 2.0]))];
    assert_eq!(compile(&sum).run(&two).unwrap()[0].to_f64_vec(), vec![2.5, 3.5]);
    let g = instantiate("diagonal", &[TensorType::f64([2, 2])], &[]);
    let m = arr(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
    assert_eq!(compile(&g).run(&[Array::from(m)]).unwrap()[0].to_f64_vec(), vec![1.0, 4.0]);
}

fn library_error(name: &str, types: &[TensorType], attrs: &[(&str, Vec<i64>)]) -> String {
    match dist::instantiate(name, types, attrs) {
        Some(Err(e @ Error::Library { .. })) => e.to_string(),
        Some(Err(e)) => panic!("{name}: not a library error: {e}"),
        Some(Ok(_)) => panic!("{name} at {types:?} {attrs:?} was accepted"),
        None => panic!("{name} is not in the library"),
    }
}

#[test]
fn bad_calls_are_errors_naming_the_function_and_the_types() {
    let v = |n: usize| TensorType::f64([n]);
    let sc = TensorType::f64([]);
    let e = library_error("normal_lpdf", &[v(4), sc.clone()], &[]);
    assert!(e.contains("@normal_lpdf") && e.contains("f64[4]") && e.contains("takes 3 operand(s), given 2"), "{e}");
    let e = library_error("normal_lpdf", &[v(4), v(3), sc.clone()], &[]);
    assert!(e.contains("@normal_lpdf") && e.contains("f64[3]") && e.contains("broadcast"), "{e}");
    let e = library_error("normal_lpdf", &[v(4), sc.clone(), sc.clone()], &[("axes", vec![0])]);
    assert!(e.contains("no attribute `axes`"), "{e}");
    let e = library_error("log_sum_exp", &[v(4)], &[("axes", vec![1])]);
    assert!(e.contains("axes [1]"), "{e}");
    let e = library_error("log_sum_exp", &[v(4), v(4), v(4)], &[]);
    assert!(e.contains("takes 1 to 2 operand(s), given 3"), "{e}");
    let e = library_error("identity", &[], &[]);
    assert!(e.contains("`n = [N]`"), "{e}");
    let e = library_error("multi_normal_cholesky_lpdf", &[v(4), v(4), TensorType::f64([3, 3])], &[]);
    assert!(e.contains("[K, K]"), "{e}");
    let e = library_error("multi_normal_cholesky_lpdf", &[v(3), v(3), TensorType::f64([3, 2])], &[]);
    assert!(e.contains("square"), "{e}");
    let e = library_error("lkj_corr_cholesky_lpdf", &[TensorType::f64([3, 3]), v(2)], &[]);
    assert!(e.contains("scalar"), "{e}");
    let e = library_error("diagonal", &[v(3)], &[]);
    assert!(e.contains("square"), "{e}");
    let e = library_error("ordered_logistic_lpmf", &[v(3), sc.clone(), TensorType::f64([2, 2])], &[]);
    assert!(e.contains("vector"), "{e}");
    assert!(dist::instantiate("normal_lpmf", &[sc], &[]).is_none());
}

#[test]
fn vectorised_calls_sum_the_elementwise_values() {
    // normal_lpdf(x [3], μ [3], σ scalar) is the sum of three scalar calls.
    let x = [0.3, -1.2, 4.0];
    let mu = [0.0, 0.5, 3.0];
    let total = run_f64("normal_lpdf", &[arr(&[3], &x), arr(&[3], &mu), s(1.5)]);
    let parts: f64 = (0..3).map(|i| run_f64("normal_lpdf", &[s(x[i]), s(mu[i]), s(1.5)])).sum();
    assert!(error(total, parts) < 1e-15, "{total} {parts}");
    // And a parameter may broadcast along rows: x [2, 3] against μ [3].
    let x2 = arr(&[2, 3], &[0.3, -1.2, 4.0, 1.0, 1.0, 1.0]);
    let total = run_f64("normal_lpdf", &[x2, arr(&[3], &mu), s(1.5)]);
    let parts: f64 = parts + (0..3).map(|i| run_f64("normal_lpdf", &[s(1.0), s(mu[i]), s(1.5)])).sum::<f64>();
    assert!(error(total, parts) < 1e-15, "{total} {parts}");
}

#[test]
fn log_phi_gradient_is_the_inverse_mills_ratio_far_in_the_tails() {
    // d/dx log Φ(x) = φ(x) / Φ(x), from the (scipy-checked) value of log Φ.
    let f = instantiate("log_Phi", &[TensorType::f64([])], &[]);
    let value = compile(&f);
    let grad = compile(&saddle::ad::grad(&f, 0).unwrap());
    for x in [-37.0, -30.0, -10.0, -3.0, -2.83, 0.0, 2.83, 5.0, 30.0] {
        let log_phi = value.run(&[Array::from(s(x))]).unwrap()[0].to_f64_vec()[0];
        let want = (-0.5 * x * x - 0.5 * (2.0 * std::f64::consts::PI).ln() - log_phi).exp();
        let got = grad.run(&[Array::from(s(x))]).unwrap()[0].to_f64_vec()[0];
        assert!((got - want).abs() <= 1e-12 * want.abs().max(1e-300) + 1e-300, "log Φ'({x}) = {got}, expected {want}");
    }
}

#[test]
fn second_derivatives_match_finite_differences_of_the_gradient() {
    // Laplace's approximation needs Hessians: the branch-clamping must keep
    // them finite and right too, in the tails included.
    let cases: &[(&str, &[f64], usize)] = &[
        ("log_Phi", &[-30.0], 0),
        ("log_Phi", &[-1.0], 0),
        ("log_Phi", &[6.0], 0),
        ("student_t_lpdf", &[0.4, 4.5, -0.3, 1.2], 1),
        ("lbeta", &[12.0, 40.0], 0),
        ("lbeta", &[3.0, 5.0], 1),
        ("neg_binomial_2_log_lpmf", &[4.0, 1.1, 2.2], 2),
        ("gamma_lpdf", &[1.2, 2.5, 1.5], 1),
        ("log1m_exp", &[-0.3], 0),
        ("log_diff_exp", &[1.0, -0.5], 1),
    ];
    for (name, point, i) in cases {
        let args: Vec<ArrayD<f64>> = point.iter().map(|&v| s(v)).collect();
        let types: Vec<TensorType> = args.iter().map(|a| TensorType::f64(a.shape())).collect();
        let f = instantiate(name, &types, &[]);
        let grad = compile(&saddle::ad::grad(&f, *i).unwrap());
        let hess = compile(&saddle::ad::hessian(&f, *i).unwrap());
        let run = |e: &Executable, args: &[ArrayD<f64>]| {
            let inputs: Vec<Array> = args.iter().cloned().map(Array::from).collect();
            e.run(&inputs).unwrap()[0].to_f64_vec()[0]
        };
        let h = 1e-5 * point[*i].abs().max(1.0);
        let (mut plus, mut minus) = (args.clone(), args.clone());
        plus[*i] = s(point[*i] + h);
        minus[*i] = s(point[*i] - h);
        let fd = (run(&grad, &plus) - run(&grad, &minus)) / (2.0 * h);
        let got = run(&hess, &args);
        assert!((got - fd).abs() <= 1e-6 * got.abs().max(1.0), "{name}: second derivative {got}, differences {fd}");
    }
}

#[test]
fn the_docs_page_names_every_function() {
    let page = include_str!("../docs/distributions.md");
    let missing: Vec<&str> =
        dist::catalogue().iter().map(|(n, _)| *n).filter(|n| !page.contains(&format!("`{n}`"))).collect();
    assert!(missing.is_empty(), "docs/distributions.md does not list {missing:?}");
}

#[test]
fn data_outside_the_support_have_zero_mass() {
    // (function, data outside the support, the other arguments): each gives
    // -inf, never a finite value from a branch that treats the datum as
    // another category or count.
    let p = |v: f64| s(v);
    let cases: Vec<(&str, f64, Vec<ArrayD<f64>>)> = vec![
        ("bernoulli_lpmf", 2.0, vec![p(0.3)]),
        ("bernoulli_lpmf", 0.5, vec![p(0.3)]),
        ("bernoulli_logit_lpmf", -1.0, vec![p(0.3)]),
        ("binomial_lpmf", 7.0, vec![p(5.0), p(0.3)]),
        ("binomial_lpmf", -1.0, vec![p(5.0), p(0.3)]),
        ("binomial_logit_lpmf", 2.5, vec![p(5.0), p(0.3)]),
        ("poisson_lpmf", -1.0, vec![p(2.0)]),
        ("poisson_lpmf", 1.5, vec![p(2.0)]),
        ("poisson_log_lpmf", -3.0, vec![p(0.2)]),
        ("neg_binomial_2_lpmf", -2.0, vec![p(2.0), p(3.0)]),
        ("neg_binomial_2_log_lpmf", 0.5, vec![p(0.2), p(3.0)]),
        ("beta_binomial_lpmf", 6.0, vec![p(5.0), p(2.0), p(3.0)]),
        ("categorical_logit_lpmf", 0.0, vec![arr(&[3], &[0.1, 0.2, 0.3])]),
        ("categorical_logit_lpmf", 4.0, vec![arr(&[3], &[0.1, 0.2, 0.3])]),
        ("ordered_logistic_lpmf", 0.0, vec![p(0.5), arr(&[2], &[-1.0, 1.0])]),
        ("ordered_logistic_lpmf", 4.0, vec![p(0.5), arr(&[2], &[-1.0, 1.0])]),
    ];
    for (name, datum, rest) in cases {
        let mut args = vec![s(datum)];
        args.extend(rest);
        assert_eq!(run_f64(name, &args), f64::NEG_INFINITY, "{name} at {datum}");
        // The same distribution at a datum inside the support is finite.
        args[0] = s(1.0);
        assert!(run_f64(name, &args).is_finite(), "{name} at 1");
    }
}
