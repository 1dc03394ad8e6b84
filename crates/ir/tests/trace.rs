//! The tracing frontend: snapshots of traced functions, broadcasting,
//! constants, errors with call-site locations.

use ndarray::{arr1, arr2};
use saddle_ir::trace::trace_with;
use saddle_ir::{DType, Error, PrintOptions, TensorType, TypeError, print_func, print_func_with, trace, verify};

fn student_t() -> saddle_ir::Func {
    trace_with("log_posterior", &[TensorType::f64([2])], |tr, args| {
        let theta = args[0].named("theta");
        let mu = tr.constant(arr1(&[0.5, 2.0])).named("mu");
        let sinv = tr.constant(arr2(&[[4.0 / 3.0, -2.0 / 3.0], [-2.0 / 3.0, 4.0 / 3.0]])).named("sinv");
        let d = theta - mu;
        let q = d.dot(sinv.matmul(d));
        vec![-4.5 * (1.0 + q / 7.0).log()]
    })
    .unwrap()
}

#[test]
fn seed_student_t() {
    let f = student_t();
    verify(&f).unwrap();
    insta::assert_snapshot!(print_func(&f));
}

#[test]
fn seed_logistic() {
    let f = trace("logistic", &[TensorType::f64([])], |x| vec![1.0 / (1.0 + (-x[0]).exp())]).unwrap();
    verify(&f).unwrap();
    insta::assert_snapshot!(print_func(&f));
}

#[test]
fn logistic_regression() {
    let f = trace_with("logreg", &[TensorType::f64([3]), TensorType::f64([5, 3]), TensorType::f64([5])], |_, a| {
        let (beta, x, y) = (a[0].named("beta"), a[1].named("x"), a[2].named("y"));
        let eta = x.matmul(beta);
        let loglik = (y * eta - eta.softplus()).sum_all();
        let logprior = -0.5 * beta.square().sum_all();
        vec![loglik + logprior]
    })
    .unwrap();
    verify(&f).unwrap();
    insta::assert_snapshot!(print_func(&f));
}

#[test]
fn numpy_broadcasting() {
    let f = trace("bcast", &[TensorType::f64([3]), TensorType::f64([2, 1])], |a| vec![a[0] * a[1] + 1.0]).unwrap();
    assert_eq!(f.result_types(), vec![TensorType::f64([2, 3])]);
    insta::assert_snapshot!(print_func(&f));
}

#[test]
fn logsumexp_and_reductions() {
    let f = trace("lse", &[TensorType::f64([4, 3])], |a| {
        let x = a[0];
        vec![x.logsumexp(&[1]).sum_all(), x.mean(&[0]), x.reduce_max(&[0, 1])]
    })
    .unwrap();
    verify(&f).unwrap();
    insta::assert_snapshot!(print_func(&f));
}

#[test]
fn multivariate_normal_with_cholesky() {
    let f = trace_with("mvn", &[TensorType::f64([3]), TensorType::f64([3, 3])], |tr, a| {
        let (x, cov) = (a[0], a[1]);
        let l = cov.cholesky();
        let z = l.solve_lower(x.reshape(&[3, 1])).reshape(&[3]);
        let eye = tr.iota(&TensorType::new(DType::I64, [3, 3]), 0).eq(tr.iota(&TensorType::new(DType::I64, [3, 3]), 1));
        let logdet = eye.select(l, 1.0).log().sum_all();
        vec![-0.5 * z.dot(z) - logdet - 1.5 * (2.0 * std::f64::consts::PI).ln()]
    })
    .unwrap();
    verify(&f).unwrap();
    insta::assert_snapshot!(print_func(&f));
}

#[test]
fn hierarchical_take_and_segments() {
    let f = trace_with("hier", &[TensorType::f64([4]), TensorType::f64([6])], |tr, a| {
        let (mu, y) = (a[0], a[1]);
        let group = tr.constant(&[0i64, 0, 1, 2, 3, 3]);
        let fitted = mu.take(group, 0);
        let resid = y - fitted;
        let per_group = resid.square().segment_sum(group, 4);
        vec![-0.5 * per_group.sum_all()]
    })
    .unwrap();
    verify(&f).unwrap();
    insta::assert_snapshot!(print_func(&f));
}

#[test]
fn layout_methods() {
    let f = trace("layout", &[TensorType::f64([2, 3])], |a| {
        let x = a[0];
        let s = x.slice(&[0, 1], &[2, 3]);
        let p = s.pad(0.0, &[1, 0], &[0, 1], &[0, 0]);
        let c = x.tracer().concatenate(&[x, x.t().reshape(&[2, 3])], 0);
        vec![p.sum_all() + c.sum_all(), x.t().matmul(x)]
    })
    .unwrap();
    verify(&f).unwrap();
    insta::assert_snapshot!(print_func(&f));
}

#[test]
fn f32_functions_trace_too() {
    let f = trace("f32", &[TensorType::f32([3])], |a| vec![(a[0] * 2.0 + 1.0).exp().sum_all()]).unwrap();
    assert_eq!(f.result_types(), vec![TensorType::f32([])]);
    assert!(print_func(&f).contains("f32[3] = const {value = 2.0}"));
}

#[test]
fn calling_a_traced_function_inlines_it() {
    let g = trace("square", &[TensorType::f64([2])], |a| vec![a[0] * a[0]]).unwrap();
    let f = trace_with("outer", &[TensorType::f64([2])], |tr, a| {
        let r = tr.call(&g, &[a[0].exp()]);
        vec![r[0].sum_all()]
    })
    .unwrap();
    let names: Vec<&str> = f.insts().iter().map(|i| i.op.name()).collect();
    assert_eq!(names, ["exp", "mul", "reduce_sum"]);
}

#[test]
fn type_errors_carry_the_call_site() {
    let line = line!() + 1;
    let err = trace("bad", &[TensorType::f64([2]), TensorType::f64([3])], |a| vec![a[0].matmul(a[1])]).unwrap_err();
    let Error::Type { error, loc } = &err else { panic!("expected a type error, got {err}") };
    assert!(matches!(error, TypeError::Invalid { op: "dot_general", .. }), "{error}");
    let loc = loc.as_ref().expect("a location");
    assert!(loc.file.ends_with("trace.rs"), "{loc}");
    assert_eq!(loc.line, line);
    assert!(err.to_string().contains("contracting axes differ in extent"), "{err}");
}

#[test]
fn the_first_error_wins_and_later_ops_are_skipped() {
    let err = trace("bad", &[TensorType::f64([2]), TensorType::f64([3])], |a| {
        let bad = a[0] + a[1];
        vec![bad.exp().log().sum_all()]
    })
    .unwrap_err();
    assert!(err.to_string().contains("broadcast: operand 1 has type f64[3], expected f64[2]"), "{err}");
}

#[test]
fn locations_print_on_request() {
    let line = line!() + 1;
    let f = trace("loc", &[TensorType::f64([])], |a| vec![a[0].exp()]).unwrap();
    let text = print_func_with(&f, PrintOptions { locations: true });
    assert!(text.contains(&format!("trace.rs:{line}:")), "{text}");
    assert!(!print_func(&f).contains("# at"));
}

#[test]
fn wrong_dtype_constant_is_an_error() {
    let err = trace("bad", &[TensorType::new(DType::I64, [2])], |a| vec![a[0] * 1.5]).unwrap_err();
    assert!(err.to_string().contains("1.5 cannot be represented in i64"), "{err}");
}

#[test]
fn indexing_takes_elements_and_rows_and_refuses_bad_indices() {
    use saddle_ir::{Array, TensorType, trace};
    let f = trace("rows", &[TensorType::f64([3, 2])], |m| vec![m[0].at(1), m[0].index(&[2, 1])]).unwrap();
    assert_eq!(f.result_types(), vec![TensorType::f64([2]), TensorType::f64([])]);
    let err = trace("oob", &[TensorType::f64([3])], |x| vec![x[0].at(3)]).unwrap_err().to_string();
    assert!(err.contains("slice"), "{err}");
    let err = trace("rank", &[TensorType::f64([3])], |x| vec![x[0].index(&[0, 0])]).unwrap_err().to_string();
    assert!(err.contains("2 indices for a value of rank 1"), "{err}");
    // ndarray arrays of any rank convert.
    assert_eq!(Array::from(ndarray::arr1(&[1.0, 2.0])).ty(), TensorType::f64([2]));
    assert_eq!(Array::from(ndarray::arr2(&[[1i64], [2]])).ty(), TensorType::new(saddle_ir::DType::I64, [2, 1]));
}
