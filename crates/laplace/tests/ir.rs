//! Laplace on saddle IR: traced closures and parsed `.sir` functions, with
//! derivatives from the AD crate and code compiled once by the runtime.
#![allow(clippy::needless_range_loop)]

use ndarray::{ArrayD, IxDyn, arr1, arr2};
use saddle_ir::trace::trace_with;
use saddle_ir::{Array, Func, TensorType, parse_module, trace};
use saddle_laplace::{
    Constraint, FnDensity, IrDensity, LaplaceError, LogDensity, Method, Options, Target, laplace, laplace_constrained,
    sdreport,
};

const LN_2PI: f64 = 1.837_877_066_409_345_5;

fn student_t_traced() -> Func {
    trace_with("log_posterior", &[TensorType::f64([2])], |tr, a| {
        let mu = tr.constant(arr1(&[0.5, 2.0]));
        let sinv = tr.constant(arr2(&[[4.0 / 3.0, -2.0 / 3.0], [-2.0 / 3.0, 4.0 / 3.0]]));
        let d = a[0] - mu;
        vec![-4.5 * (1.0 + d.dot(sinv.matmul(d)) / 7.0).log()]
    })
    .unwrap()
}

fn vec_f64(v: &[f64]) -> Array {
    Array::F64(ArrayD::from_shape_vec(IxDyn(&[v.len()]), v.to_vec()).unwrap())
}

#[test]
fn seed_student_t_traced_and_parsed() {
    let parsed = parse_module("student_t.sir", include_str!("../../../examples/sir/student_t.sir")).unwrap();
    for f in [student_t_traced(), parsed.funcs[0].clone()] {
        let mut density = IrDensity::new(&f, vec![]).unwrap();
        let opts = Options { grad_tol: 1e-11, ..Options::default() };
        let fit = laplace(&mut density, &[0.0, 0.0], &opts).unwrap();
        assert!((fit.mode[0] - 0.5).abs() < 1e-10 && (fit.mode[1] - 2.0).abs() < 1e-10);
        let sigma = [[1.0, 0.5], [0.5, 1.0]];
        for i in 0..2 {
            for j in 0..2 {
                assert!((fit.covariance.as_ref().unwrap()[[i, j]] - 7.0 / 9.0 * sigma[i][j]).abs() < 1e-10);
            }
        }
        let expected = LN_2PI + 0.5 * ((7.0_f64 / 9.0).powi(2) * 0.75).ln();
        assert!((fit.log_evidence - expected).abs() < 1e-10);
        assert!((fit.log_evidence - 1.4427216).abs() < 1e-7);
        // Newton needs [f, ∇f, ∇²f] alone: one function compiled, once.
        assert_eq!(density.report().compiled, 1);
        // The first Newton step overshoots: one rejection shrinks it enough.
        assert!(fit.evaluations.hess <= fit.iterations + 3, "{:?} in {} iterations", fit.evaluations, fit.iterations);
        let again = laplace(&mut density, &[3.0, -1.0], &opts).unwrap();
        assert!((again.mode[0] - 0.5).abs() < 1e-10);
        assert_eq!(density.report().compiled, 1, "no compiling inside or across fits");
        // L-BFGS uses [f, ∇f], then the Hessian at its end point, where
        // Newton's test confirms the mode (or takes one more step to it).
        let lb = laplace(&mut density, &[0.0, 0.0], &Options { method: Method::Lbfgs { memory: 5 }, ..opts }).unwrap();
        assert!((lb.mode[1] - 2.0).abs() < 1e-9);
        assert!((1..=2).contains(&lb.evaluations.hess), "{:?}", lb.evaluations);
        assert_eq!(density.report().compiled, 2);
    }
}

#[test]
fn derivatives_match_the_closed_form() {
    let mut ir = IrDensity::new(&student_t_traced(), vec![]).unwrap();
    let sinv = [4.0 / 3.0, -2.0 / 3.0, -2.0 / 3.0, 4.0 / 3.0];
    let q = move |x: &[f64]| {
        let d = [x[0] - 0.5, x[1] - 2.0];
        let s = [sinv[0] * d[0] + sinv[1] * d[1], sinv[2] * d[0] + sinv[3] * d[1]];
        (s, d[0] * s[0] + d[1] * s[1])
    };
    let mut exact = FnDensity::new(
        2,
        move |x: &[f64]| -4.5 * (1.0 + q(x).1 / 7.0).ln(),
        move |x: &[f64], g: &mut [f64]| {
            let (s, qq) = q(x);
            let k = -9.0 / 7.0 / (1.0 + qq / 7.0);
            g[0] = k * s[0];
            g[1] = k * s[1];
        },
        move |x: &[f64], h: &mut [f64]| {
            let (s, qq) = q(x);
            let u = 1.0 + qq / 7.0;
            for i in 0..2 {
                for j in 0..2 {
                    h[i * 2 + j] = -9.0 / 7.0 * sinv[i * 2 + j] / u + 18.0 / 49.0 * s[i] * s[j] / (u * u);
                }
            }
        },
    );
    for x in [[0.0, 0.0], [1.3, -0.7], [-4.0, 6.0]] {
        let (mut g1, mut h1, mut g2, mut h2) = ([0.0; 2], [0.0; 4], [0.0; 2], [0.0; 4]);
        let v1 = ir.value_grad_hess(&x, &mut g1, &mut h1).unwrap();
        let v2 = exact.value_grad_hess(&x, &mut g2, &mut h2).unwrap();
        assert!((v1 - v2).abs() < 1e-13);
        assert!((ir.value(&x).unwrap() - v2).abs() < 1e-13);
        for k in 0..2 {
            assert!((g1[k] - g2[k]).abs() < 1e-13);
        }
        for k in 0..4 {
            assert!((h1[k] - h2[k]).abs() < 1e-13);
        }
    }
}

/// y ~ N(Aθ, σ² I) with θ ~ N(0, I): the posterior is Gaussian, so Laplace
/// is exact; the data are fixed arguments of the traced function.
#[test]
fn conjugate_gaussian_with_data_arguments() {
    let (n, d, sigma2) = (6, 3, 0.3_f64);
    let a: Vec<f64> = (0..n * d).map(|k| ((k * 5 + 1) % 7) as f64 / 3.0 - 1.0).collect();
    let y = [0.5, -1.0, 0.2, 1.4, -0.3, 0.8];
    let types = [TensorType::f64([d]), TensorType::f64([n, d]), TensorType::f64([n])];
    let f = trace_with("post", &types, |_, p| {
        let r = p[2] - p[1].matmul(p[0]);
        vec![-0.5 / sigma2 * (r * r).sum_all() - 0.5 * (p[0] * p[0]).sum_all()]
    })
    .unwrap();
    let data = vec![
        Array::F64(ArrayD::from_shape_vec(IxDyn(&[n, d]), a.clone()).unwrap()),
        Array::F64(ArrayD::from_shape_vec(IxDyn(&[n]), y.to_vec()).unwrap()),
    ];
    let mut density = IrDensity::new(&f, data).unwrap();
    let fit = laplace(&mut density, &[0.0; 3], &Options { grad_tol: 1e-12, ..Options::default() }).unwrap();
    // Exact: P = AᵀA/σ² + I, mode = P⁻¹ Aᵀy/σ².
    let p =
        |i: usize, j: usize| (0..n).map(|k| a[k * d + i] * a[k * d + j]).sum::<f64>() / sigma2 + (i == j) as u8 as f64;
    for i in 0..d {
        let pm: f64 = (0..d).map(|j| p(i, j) * fit.mode[j]).sum();
        let b: f64 = (0..n).map(|k| a[k * d + i] * y[k]).sum::<f64>() / sigma2;
        assert!((pm - b).abs() < 1e-10);
        for j in 0..d {
            assert!((fit.precision.get(i, j) - p(i, j)).abs() < 1e-10);
            let id: f64 = (0..d).map(|k| p(i, k) * fit.covariance.as_ref().unwrap()[[k, j]]).sum();
            assert!((id - (i == j) as u8 as f64).abs() < 1e-10);
        }
    }
    // The evidence of an exact Gaussian: f(θ*) + (d/2) log 2π − ½ log det P.
    let logdet = 2.0 * (0..d).map(|i| fit.precision_cholesky.as_ref().unwrap()[[i, i]].ln()).sum::<f64>();
    let expected = fit.log_density_at_mode + 0.5 * d as f64 * LN_2PI - 0.5 * logdet;
    assert!((fit.log_evidence - expected).abs() < 1e-12);
    // New data, same compiled code.
    let before = density.report().compiled;
    density.set_data(vec![Array::F64(ArrayD::zeros(IxDyn(&[n, d]))), vec_f64(&y)]).unwrap();
    let fit = laplace(&mut density, &[1.0; 3], &Options::default()).unwrap();
    assert!(fit.mode.iter().all(|m| m.abs() < 1e-12) && (fit.std[0] - 1.0).abs() < 1e-12);
    assert_eq!(density.report().compiled, before);
}

/// Bayesian logistic regression: Newton where the Hessian is cheap,
/// L-BFGS with one Hessian (at the mode) where it is not; same answer.
#[test]
fn auto_method_follows_the_cost_of_the_hessian() {
    let (n, d) = (300, 4);
    let x: Vec<f64> =
        (0..n * d).map(|k| if k % d == 0 { 1.0 } else { ((k * 7919 % 97) as f64) / 32.0 - 1.5 }).collect();
    let y: Vec<f64> = (0..n).map(|i| ((i * 31 + 7) % 5 < 2) as u8 as f64).collect();
    let types = [TensorType::f64([d]), TensorType::f64([n, d]), TensorType::f64([n])];
    let f = trace_with("logreg", &types, |_, p| {
        let eta = p[1].matmul(p[0]);
        vec![(p[2] * eta + (-eta).log_sigmoid()).sum_all() - 0.02 * (p[0] * p[0]).sum_all()]
    })
    .unwrap();
    let data = || {
        vec![
            Array::F64(ArrayD::from_shape_vec(IxDyn(&[n, d]), x.clone()).unwrap()),
            Array::F64(ArrayD::from_shape_vec(IxDyn(&[n]), y.clone()).unwrap()),
        ]
    };
    let mut newton_density = IrDensity::new(&f, data()).unwrap();
    assert_eq!(newton_density.data_size(), n * d + n);
    let opts = Options { grad_tol: 1e-10, ..Options::default() };
    assert_eq!(opts.resolve(d, n * d + n), Method::Newton);
    let nt = laplace(&mut newton_density, &[0.0; 4], &opts).unwrap();
    assert_eq!(nt.method, Method::Newton);
    assert_eq!((nt.evaluations.grad, newton_density.report().compiled), (0, 1));
    // The same density judged expensive: L-BFGS on [f, ∇f], then [f, ∇f, ∇²f] once.
    let mut density = IrDensity::new(&f, data()).unwrap();
    let costly = Options { newton_max_work: d * (d + n * d + n) - 1, ..opts.clone() };
    let lb = laplace(&mut density, &[0.0; 4], &costly).unwrap();
    assert_eq!(lb.method, Method::Lbfgs { memory: 10 });
    assert_eq!(lb.evaluations.hess, 1);
    assert!(lb.evaluations.grad > lb.iterations);
    assert_eq!(density.report().compiled, 2);
    // Stationary to the tolerance reached, so the fits agree to second order.
    let scale = nt.log_density_at_mode.abs();
    assert!((lb.log_density_at_mode - nt.log_density_at_mode).abs() < 1e-12 * scale);
    assert!((lb.log_evidence - nt.log_evidence).abs() < 1e-9 * scale);
    for i in 0..d {
        assert!((lb.mode[i] - nt.mode[i]).abs() < 1e-5 * nt.std[i], "{i}: {} vs {}", lb.mode[i], nt.mode[i]);
        for j in 0..d {
            let c = nt.covariance.as_ref().unwrap()[[i, j]];
            assert!((lb.covariance.as_ref().unwrap()[[i, j]] - c).abs() < 1e-5 * nt.std[i] * nt.std[j]);
        }
    }
}

#[test]
fn positive_parameter_and_sdreport_through_the_log() {
    // Gamma(a, b) kernel: f(λ) = (a - 1) log λ - b λ; with the log-Jacobian
    // the density of u = log λ has mode log(a/b) and variance 1/a.
    let (a, b) = (6.0_f64, 1.5_f64);
    let f = trace("gamma", &[TensorType::f64([1])], |p| vec![((a - 1.0) * p[0].log() - b * p[0]).sum_all()]).unwrap();
    let mut density = IrDensity::new(&f, vec![]).unwrap();
    let opts = Options { grad_tol: 1e-12, ..Options::default() };
    let fit = laplace_constrained(&mut density, &[1.0], &[Constraint::Positive], Target::UnconstrainedPosterior, &opts)
        .unwrap();
    assert!((fit.mode[0] - (a / b).ln()).abs() < 1e-10);
    assert!((fit.std[0] - 1.0 / a.sqrt()).abs() < 1e-10);
    assert!((fit.constrained_mode[0] - a / b).abs() < 1e-10);
    // sdreport of g(λ) = λ² : value (a/b)², std 2λ · λ/√a by the delta method.
    let g = trace("sq", &[TensorType::f64([1])], |p| vec![(p[0] * p[0]).sum_all()]).unwrap();
    let r = sdreport(&fit, &g, &[]).unwrap();
    let lam = a / b;
    assert!((r.value[0] - lam * lam).abs() < 1e-9);
    assert!((r.std[0] - 2.0 * lam * lam / a.sqrt()).abs() < 1e-9);
    // A vector-valued g: (λ, 2λ).
    let g2 = trace_with("two", &[TensorType::f64([1])], |tr, p| vec![tr.concatenate(&[p[0], p[0] * 2.0], 0)]).unwrap();
    let r = sdreport(&fit, &g2, &[]).unwrap();
    assert!((r.std[1] - 2.0 * r.std[0]).abs() < 1e-12);
    assert!((r.covariance[[0, 1]] - 2.0 * r.std[0] * r.std[0]).abs() < 1e-12);
    // Errors: g over the wrong parameter, g with a matrix result.
    let wrong = trace("w", &[TensorType::f64([2])], |p| vec![p[0].sum_all()]).unwrap();
    assert!(matches!(sdreport(&fit, &wrong, &[]), Err(LaplaceError::Signature { .. })));
}

#[test]
fn f32_parameters_work() {
    let f = trace("f", &[TensorType::f32([2])], |p| vec![-0.5 * ((p[0] - 1.0) * (p[0] - 1.0)).sum_all()]).unwrap();
    let mut density = IrDensity::new(&f, vec![]).unwrap();
    let fit = laplace(&mut density, &[0.0, 0.0], &Options { grad_tol: 1e-5, ..Options::default() }).unwrap();
    assert!((fit.mode[0] - 1.0).abs() < 1e-6 && (fit.std[1] - 1.0).abs() < 1e-5);
}

#[test]
fn signatures_are_checked() {
    let sig = |r: Result<IrDensity, LaplaceError>| match r {
        Err(LaplaceError::Signature { message, .. }) => message,
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("accepted"),
    };
    let scalar_param = trace("f", &[TensorType::f64([])], |p| vec![p[0] * p[0]]).unwrap();
    assert!(sig(IrDensity::new(&scalar_param, vec![])).contains("vector"));
    let int_param = trace("f", &[TensorType::new(saddle_ir::DType::I64, [2])], |p| {
        vec![p[0].convert(saddle_ir::DType::F64).sum_all()]
    })
    .unwrap();
    assert!(sig(IrDensity::new(&int_param, vec![])).contains("float vector"));
    let vector_result = trace("f", &[TensorType::f64([2])], |p| vec![p[0] * p[0]]).unwrap();
    assert!(sig(IrDensity::new(&vector_result, vec![])).contains("scalar"));
    let with_data =
        trace("f", &[TensorType::f64([2]), TensorType::f64([3])], |p| vec![p[0].sum_all() + p[1].sum_all()]).unwrap();
    assert!(sig(IrDensity::new(&with_data, vec![])).contains("1 data argument"));
    assert!(sig(IrDensity::new(&with_data, vec![vec_f64(&[1.0, 2.0])])).contains("f64[3]"));
    let mut ok = IrDensity::new(&with_data, vec![vec_f64(&[1.0, 2.0, 3.0])]).unwrap();
    assert!(ok.set_data(vec![]).is_err());
    assert_eq!(ok.dim(), 2);
}

#[test]
fn non_finite_start_through_ir() {
    let f = trace("f", &[TensorType::f64([1])], |p| vec![p[0].log().sum_all()]).unwrap();
    let mut density = IrDensity::new(&f, vec![]).unwrap();
    assert!(matches!(laplace(&mut density, &[-1.0], &Options::default()), Err(LaplaceError::NonFiniteDensity { .. })));
}

#[test]
fn a_bad_data_index_is_reported_as_the_users_take() {
    // The data index 5 is out of range: the derivatives fail, and the error
    // names the user's `take` and its value, not an op of the derivative.
    let src = "func @f(%x: f64[3], %i: i64[2]) -> f64[] {\n  %y: f64[2] = take %x, %i {axis = 0}\n  %q: f64[2] = mul %y, %y\n  %s: f64[] = reduce_sum %q {axes = [0]}\n  %n: f64[] = neg %s\n  return %n\n}\n";
    let m = parse_module("bad.sir", src).unwrap();
    let idx = Array::from(ArrayD::from_shape_vec(IxDyn(&[2]), vec![0i64, 5]).unwrap());
    for method in [Method::Newton, Method::Lbfgs { memory: 5 }] {
        let mut density = IrDensity::new(&m.funcs[0], vec![idx.clone()]).unwrap();
        let opts = Options { method, ..Options::default() };
        match laplace(&mut density, &[1.0, 2.0, 3.0], &opts) {
            Err(LaplaceError::Eval(msg)) => {
                assert!(msg.contains("take at %y") && msg.contains("index 5"), "{method:?}: {msg}");
                assert!(msg.contains("bad.sir:2:"), "{method:?}: {msg}");
            }
            other => panic!("{method:?}: {:?}", other.map(|f| f.mode)),
        }
    }
}
