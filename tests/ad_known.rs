//! Known answers of the AD transformations (the conventions at the edges,
//! as JAX has them), and transformations composed in several orders and
//! depths.

mod ad_common;
mod common;

use ad_common::{eval, rel_err, verified};
use saddle::ad;
use saddle::ir::trace::trace_with;
use saddle::ir::{Array, Func, TensorType, parse_func, trace};

fn f64s(xs: &[f64]) -> Array {
    Array::from(ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[xs.len()]), xs.to_vec()).unwrap())
}

fn scalar(x: f64) -> Array {
    Array::from(x)
}

fn grad_at(f: &Func, k: usize, x: &[Array]) -> Vec<f64> {
    eval(&verified("grad", ad::grad(f, k)), x)[0].to_f64_vec()
}

fn sir(text: &str) -> Func {
    parse_func("known.sir", text).unwrap()
}

#[test]
fn max_and_min_split_ties_evenly() {
    let f = sir("func @f(%x: f64[], %y: f64[]) -> f64[] {\n  %m = max %x, %y\n  return %m\n}");
    let at = [scalar(1.5), scalar(1.5)];
    assert_eq!(grad_at(&f, 0, &at), [0.5]);
    assert_eq!(grad_at(&f, 1, &at), [0.5]);
    assert_eq!(grad_at(&f, 0, &[scalar(2.0), scalar(1.0)]), [1.0]);
    assert_eq!(grad_at(&f, 1, &[scalar(2.0), scalar(1.0)]), [0.0]);
    let g = sir("func @f(%x: f64[], %y: f64[]) -> f64[] {\n  %m = min %x, %y\n  return %m\n}");
    assert_eq!(grad_at(&g, 1, &at), [0.5]);
    // max(x, x) has derivative 1: both halves land on x.
    let h = sir("func @f(%x: f64[]) -> f64[] {\n  %m = max %x, %x\n  return %m\n}");
    assert_eq!(grad_at(&h, 0, &[scalar(0.7)]), [1.0]);
    // reduce_max shares among all elements at the maximum.
    let r = sir("func @f(%x: f64[4]) -> f64[] {\n  %m = reduce_max %x {axes = [0]}\n  return %m\n}");
    assert_eq!(grad_at(&r, 0, &[f64s(&[1.0, 3.0, 3.0, 3.0])]), [0.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0]);
    let r = sir("func @f(%x: f64[3]) -> f64[] {\n  %m = reduce_min %x {axes = [0]}\n  return %m\n}");
    assert_eq!(grad_at(&r, 0, &[f64s(&[1.0, 3.0, 2.0])]), [1.0, 0.0, 0.0]);
}

#[test]
fn pow_sqrt_log_abs_at_the_edges() {
    let pow = sir("func @f(%x: f64[], %y: f64[]) -> f64[] {\n  %p = pow %x, %y\n  return %p\n}");
    // d/dy x^y at x = 0 is 0 (log 0 is not used); d/dx at y = 0 is 0 even at x = 0.
    assert_eq!(grad_at(&pow, 1, &[scalar(0.0), scalar(2.0)]), [0.0]);
    assert_eq!(grad_at(&pow, 0, &[scalar(0.0), scalar(0.0)]), [0.0]);
    assert_eq!(grad_at(&pow, 0, &[scalar(0.0), scalar(2.0)]), [0.0]);
    assert_eq!(grad_at(&pow, 0, &[scalar(3.0), scalar(2.0)]), [6.0]);
    let g = grad_at(&pow, 1, &[scalar(2.0), scalar(3.0)])[0];
    assert!((g - 8.0 * 2f64.ln()).abs() < 1e-14);
    let sqrt = sir("func @f(%x: f64[]) -> f64[] {\n  %s = sqrt %x\n  return %s\n}");
    assert_eq!(grad_at(&sqrt, 0, &[scalar(0.0)]), [f64::INFINITY]);
    assert_eq!(grad_at(&sqrt, 0, &[scalar(4.0)]), [0.25]);
    let log = sir("func @f(%x: f64[]) -> f64[] {\n  %s = log %x\n  return %s\n}");
    assert_eq!(grad_at(&log, 0, &[scalar(0.0)]), [f64::INFINITY]);
    let abs = sir("func @f(%x: f64[]) -> f64[] {\n  %s = abs %x\n  return %s\n}");
    assert_eq!(grad_at(&abs, 0, &[scalar(0.0)]), [1.0]);
    assert_eq!(grad_at(&abs, 0, &[scalar(-2.0)]), [-1.0]);
    let sign = sir("func @f(%x: f64[]) -> f64[] {\n  %s = sign %x\n  return %s\n}");
    assert_eq!(grad_at(&sign, 0, &[scalar(-2.0)]), [0.0]);
}

#[test]
fn lgamma_digamma_polygamma_chain() {
    let euler_gamma = 0.5772156649015329;
    let zeta3 = 1.2020569031595942;
    let f = sir("func @f(%x: f64[]) -> f64[] {\n  %s = lgamma %x\n  return %s\n}");
    let one = [scalar(1.0)];
    assert!((grad_at(&f, 0, &one)[0] + euler_gamma).abs() < 1e-14);
    let h = eval(&verified("hessian", ad::hessian(&f, 0)), &one)[0].to_f64_vec();
    assert!((h[0] - std::f64::consts::PI.powi(2) / 6.0).abs() < 1e-13, "{h:?}");
    // Third derivative of lgamma at 1 is ψ''(1) = -2ζ(3).
    let third = verified("jacfwd of hessian", ad::jacfwd(&verified("hessian", ad::hessian(&f, 0)), 0));
    let t = eval(&third, &one)[0].to_f64_vec();
    assert!((t[0] + 2.0 * zeta3).abs() < 1e-12, "{t:?}");
    assert!(saddle::ir::print_func(&third).contains("polygamma"));
}

#[test]
fn erf_and_cholesky_known_derivatives() {
    let erf = sir("func @f(%x: f64[]) -> f64[] {\n  %s = erf %x\n  return %s\n}");
    let g = grad_at(&erf, 0, &[scalar(0.5)])[0];
    assert!((g - 2.0 / std::f64::consts::PI.sqrt() * (-0.25f64).exp()).abs() < 1e-15);
    // A 1×1 Cholesky factor is sqrt(a).
    let chol = sir(
        "func @f(%a: f64[1,1]) -> f64[] {\n  %l = cholesky %a\n  %s = reduce_sum %l {axes = [0, 1]}\n  return %s\n}",
    );
    let a = Array::from(ndarray::arr2(&[[4.0]]).into_dyn());
    assert_eq!(grad_at(&chol, 0, &[a]), [0.25]);
    // log det A = 2 Σ log diag(chol A), so its gradient is A⁻¹ (symmetric A).
    let logdet = trace_with("logdet", &[TensorType::f64([2, 2])], |tr, x| {
        let l = x[0].cholesky();
        let i = tr.iota(&TensorType::f64([2, 2]), 0);
        let j = tr.iota(&TensorType::f64([2, 2]), 1);
        let diag = (l * i.eq(j).select(i.scalar_like(1.0), i.scalar_like(0.0))).sum(&[1]);
        vec![diag.log().sum_all() * 2.0]
    })
    .unwrap();
    let a = Array::from(ndarray::arr2(&[[4.0, 1.0], [1.0, 3.0]]).into_dyn());
    let g = grad_at(&logdet, 0, &[a]);
    // JAX's rule differentiates with a symmetric perturbation assumed: the
    // gradient is the inverse, [[3, -1], [-1, 4]] / 11, on the diagonal and
    // the lower triangle (the factor reads only that), up to symmetrisation.
    let inv = [3.0 / 11.0, -1.0 / 11.0, -1.0 / 11.0, 4.0 / 11.0];
    assert!((g[0] - inv[0]).abs() < 1e-14 && (g[3] - inv[3]).abs() < 1e-14, "{g:?}");
    assert!((g[1] + g[2] - 2.0 * inv[1]).abs() < 1e-14, "{g:?}");
}

#[test]
fn stop_gradient_and_integer_values_carry_no_derivative() {
    let f = sir("func @f(%x: f64[]) -> f64[] {\n  %s = stop_gradient %x\n  %y = mul %s, %x\n  return %y\n}");
    assert_eq!(grad_at(&f, 0, &[scalar(3.0)]), [3.0]);
    // An integer parameter gets no tangent and no cotangent; rounding
    // through an integer stops the derivative.
    let g = sir("func @f(%x: f64[], %n: i64[]) -> (f64[], i64[]) {
  %i = convert %x {dtype = i64}
  %j = add %i, %n
  %r = convert %j {dtype = f64}
  %y = mul %r, %x
  return %y, %j
}");
    let j = verified("jvp", ad::jvp(&g));
    assert_eq!(j.num_params(), 3);
    assert_eq!(j.results().len(), 3);
    let out = eval(&j, &[scalar(2.5), Array::from(ndarray::arr0(1i64).into_dyn()), scalar(1.0)]);
    assert_eq!(out[2].to_f64_vec(), [3.0], "d(r·x)/dx with r = floor(x) + n held constant");
    assert!(matches!(ad::grad(&g, 1), Err(ad::Error::NotFloat { index: 1, .. })));
}

#[test]
fn f32_functions_differentiate_in_f32() {
    let f = trace("f", &[TensorType::f32([3])], |x| vec![(x[0] * x[0]).sum_all()]).unwrap();
    let g = verified("grad", ad::grad(&f, 0));
    assert_eq!(g.result_types(), vec![TensorType::f32([3])]);
    let x = Array::F32(ndarray::arr1(&[1.0f32, -2.0, 0.5]).into_dyn());
    assert_eq!(eval(&g, &[x.clone()])[0].to_f64_vec(), [2.0, -4.0, 1.0]);
    let h = eval(&verified("hessian", ad::hessian(&f, 0)), &[x])[0].to_f64_vec();
    assert_eq!(h, [2.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 2.0]);
}

/// The cases, with an extra scalar function of their parameter 0 to play
/// with: `s(x) = Σ_i φ(x_i)` for a smooth unary φ.
fn separable() -> Func {
    trace("sep", &[TensorType::f64([4])], |x| {
        let x = x[0];
        vec![(x.sin() * x.exp() + x.lgamma() + x.powi(3) / x.sqrt()).sum_all()]
    })
    .unwrap()
}

#[test]
fn grad_of_grad_is_the_hessian_diagonal_for_separable_functions() {
    let f = separable();
    let x = [f64s(&[0.6, 1.1, 1.7, 1.95])];
    let g = verified("grad", ad::grad(&f, 0));
    // Σ_i ∂f/∂x_i, differentiated again: for a separable f, ∂/∂x_j of it
    // is the j-th diagonal entry of the Hessian.
    let sum_g = trace_with("sum_g", &[TensorType::f64([4])], |tr, x| vec![tr.call(&g, x)[0].sum_all()]).unwrap();
    let gg = eval(&verified("grad of grad", ad::grad(&sum_g, 0)), &x)[0].to_f64_vec();
    let h = eval(&verified("hessian", ad::hessian(&f, 0)), &x)[0].to_f64_vec();
    for i in 0..4 {
        assert!((gg[i] - h[i * 4 + i]).abs() <= 1e-12 * (1.0 + h[i * 4 + i].abs()), "{gg:?} vs {h:?}");
        for j in 0..4 {
            if i != j {
                assert_eq!(h[i * 4 + j], 0.0, "a separable function has a diagonal Hessian");
            }
        }
    }
}

#[test]
fn transformations_compose() {
    let f = separable();
    let x0 = f64s(&[0.6, 1.1, 1.7, 1.95]);
    let x1 = f64s(&[1.3, 0.8, 1.2, 0.55]);
    let batch = Array::from(
        ndarray::stack(ndarray::Axis(0), &[x0.as_f64().unwrap().view(), x1.as_f64().unwrap().view()]).unwrap(),
    );
    let g = verified("grad", ad::grad(&f, 0));
    // vmap of grad: each row is the gradient at that row.
    let vg = eval(&verified("vmap of grad", ad::vmap_leading(&g, 2)), std::slice::from_ref(&batch))[0].to_f64_vec();
    let g0 = eval(&g, std::slice::from_ref(&x0))[0].to_f64_vec();
    let g1 = eval(&g, std::slice::from_ref(&x1))[0].to_f64_vec();
    assert!(rel_err(&vg, &[g0.clone(), g1.clone()].concat()) <= 1e-14);
    // Hessian of a batched function summed over the batch: block diagonal
    // with the Hessians of the rows.
    let vf = verified("vmap", ad::vmap_leading(&f, 2));
    let total = trace_with("total", &[TensorType::f64([2, 4])], |tr, x| vec![tr.call(&vf, x)[0].sum_all()]).unwrap();
    let hb = eval(&verified("hessian of vmap", ad::hessian(&total, 0)), std::slice::from_ref(&batch))[0].to_f64_vec();
    let h0 = eval(&verified("hessian", ad::hessian(&f, 0)), std::slice::from_ref(&x0))[0].to_f64_vec();
    let h1 = eval(&verified("hessian", ad::hessian(&f, 0)), std::slice::from_ref(&x1))[0].to_f64_vec();
    for (b, hrow) in [(0usize, &h0), (1, &h1)] {
        for i in 0..4 {
            for j in 0..4 {
                let got = hb[((b * 4 + i) * 2 + b) * 4 + j];
                assert!((got - hrow[i * 4 + j]).abs() <= 1e-12 * (1.0 + got.abs()), "block {b} ({i}, {j})");
            }
        }
        let other = 1 - b;
        for i in 0..4 {
            for j in 0..4 {
                assert_eq!(hb[((b * 4 + i) * 2 + other) * 4 + j], 0.0);
            }
        }
    }
    // jvp of vjp: forward derivative of the pull-back, against central
    // differences of the pull-back.
    let v = verified("vjp", ad::vjp(&f));
    let jv = verified("jvp of vjp", ad::jvp(&v));
    let t = f64s(&[0.3, -0.2, 0.5, 0.1]);
    let ct = scalar(1.5);
    let out = eval(&jv, &[x0.clone(), ct.clone(), t.clone(), scalar(0.0)]);
    let h = 1e-6;
    let plus = eval(&v, &[ad_common::axpy(&x0, h, &t), ct.clone()]);
    let minus = eval(&v, &[ad_common::axpy(&x0, -h, &t), ct]);
    let fd: Vec<f64> =
        plus[1].to_f64_vec().iter().zip(minus[1].to_f64_vec()).map(|(p, m)| (p - m) / (2.0 * h)).collect();
    assert!(rel_err(&out[3].to_f64_vec(), &fd) <= 1e-6, "{:?} vs {fd:?}", out[3]);
    // Reverse over reverse and forward over forward agree with forward
    // over reverse.
    let hess = eval(&verified("hessian", ad::hessian(&f, 0)), std::slice::from_ref(&x0))[0].to_f64_vec();
    let rr = eval(&verified("jacrev of grad", ad::jacrev(&g, 0)), std::slice::from_ref(&x0))[0].to_f64_vec();
    let jf = verified("jacfwd", ad::jacfwd(&f, 0));
    let ff = eval(&verified("jacfwd of jacfwd", ad::jacfwd(&jf, 0)), std::slice::from_ref(&x0))[0].to_f64_vec();
    assert!(rel_err(&rr, &hess) <= 1e-13 && rel_err(&ff, &hess) <= 1e-13);
    // Linearize, then transpose the linear part: the VJP again.
    let l = ad::linearize(&f).unwrap();
    let res = eval(&l.primal, std::slice::from_ref(&x0));
    let lin_t = verified("transpose", ad::transpose(&l.linear, l.linear.num_params() - l.num_residuals));
    let mut args: Vec<Array> = res[1..].to_vec();
    args.push(scalar(1.0));
    let back = eval(&lin_t, &args)[0].to_f64_vec();
    assert!(rel_err(&back, &g0) <= 1e-14);
    let mut args: Vec<Array> = res[1..].to_vec();
    args.push(t.clone());
    let fwd = eval(&l.linear, &args)[0].to_f64_vec()[0];
    let want: f64 = g0.iter().zip(t.to_f64_vec()).map(|(a, b)| a * b).sum();
    assert!((fwd - want).abs() <= 1e-13 * (1.0 + want.abs()));
    let _ = g1;
}

#[test]
fn grad_and_hessian_of_every_case_are_finite() {
    for (name, m) in common::cases() {
        let f = &m.funcs[0];
        let x = common::random_inputs(f.param_types(), 7);
        for k in 0..f.num_params() {
            let g = eval(&verified("grad", ad::grad(f, k)), &x)[0].to_f64_vec();
            let h = eval(&verified("hessian", ad::hessian(f, k)), &x)[0].to_f64_vec();
            assert!(g.iter().chain(&h).all(|v| v.is_finite()), "{name}: parameter {k}");
        }
    }
}
