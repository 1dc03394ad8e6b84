//! Derived functions keep the index checks of the original: on random
//! functions that gather and scatter with data indices, some of them out of
//! range, every transformation (jvp, vjp, grad, value_and_grad, hessian,
//! jacfwd, jacrev, hvp, vmap) fails whenever the original fails, and
//! succeeds whenever it succeeds.
//!
//! The functions are built to need the indices only through derivative
//! structure in some transformations (a function linear in `take(x, idx)`
//! has a zero Hessian whatever the indices; a second result that gathers is
//! not needed by the gradient), which is where a check used to disappear.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use saddle::ad;
use saddle::ir::{Array, DType, Func, TensorType, trace};
use saddle::runtime::{CompileOptions, compile_with, reference};

const N: usize = 4;
const K: usize = 3;

/// A random function of `x: f64[N]` and `idx: i64[K]` whose first result is
/// a scalar, with `take` and `segment_sum` in linear or non-linear use.
fn random_index_func(seed: u64) -> Func {
    let mut rng = StdRng::seed_from_u64(seed);
    let choices: Vec<u32> = (0..4).map(|_| rng.random_range(0..6)).collect();
    let extra_result = rng.random_bool(0.5);
    trace("f", &[TensorType::f64([N]), TensorType::new(DType::I64, [K])], |p| {
        let (x, idx) = (p[0], p[1]);
        let mut acc = x.sum_all() * 0.5;
        for &c in &choices {
            let term = match c {
                // Linear in the gathered values: no second derivative.
                0 => x.take(idx, 0).sum_all(),
                // Non-linear in them.
                1 => x.take(idx, 0).sin().sum_all(),
                // Scatter of a function of x.
                2 => x.slice(&[0], &[K]).exp().segment_sum(idx, N).sum_all(),
                // Scatter then gather, linear.
                3 => x.slice(&[0], &[K]).segment_sum(idx, N).take(idx, 0).sum_all(),
                // Gathered values as weights of a quadratic.
                4 => (x.take(idx, 0) * x.slice(&[1], &[K + 1])).sum_all(),
                // A term with no index at all.
                _ => (x * x).sum_all(),
            };
            acc = acc + term;
        }
        let mut out = vec![acc];
        if extra_result {
            out.push(x.take(idx, 0) * 2.0);
        }
        out
    })
    .expect("the generator builds valid functions")
}

fn arg(x: &[f64], idx: &[i64]) -> Vec<Array> {
    vec![
        Array::from(ndarray::Array1::from(x.to_vec()).into_dyn()),
        Array::from(ndarray::Array1::from(idx.to_vec()).into_dyn()),
    ]
}

/// Arguments for the derived function's extra parameters (tangents,
/// cotangents, the vector of hvp): ones of each type.
fn extend_args(g: &Func, base: &[Array]) -> Vec<Array> {
    let mut args = base.to_vec();
    for ty in &g.param_types()[base.len()..] {
        args.push(Array::from(ndarray::ArrayD::from_elem(ndarray::IxDyn(&ty.shape), 1.0)));
    }
    args
}

/// Runs `g` compiled (simplified and not) and by the reference evaluator;
/// all three must agree on failing.
fn fails(g: &Func, args: &[Array], what: &str) -> bool {
    let r = reference::eval(g, args).is_err();
    for simplify in [false, true] {
        let exe = compile_with(g, &CompileOptions { simplify, ..Default::default() }).expect("compiles");
        assert_eq!(exe.run(args).is_err(), r, "{what}: compiled (simplify {simplify}) and reference disagree\n{g}");
    }
    r
}

fn batched_args(args: &[Array], size: usize) -> Vec<Array> {
    args.iter()
        .map(|a| {
            let v = a.to_f64_vec();
            let mut shape = vec![size];
            shape.extend(a.ty().shape.iter());
            let data: Vec<f64> = (0..size).flat_map(|_| v.iter().copied()).collect();
            let t = ndarray::ArrayD::from_shape_vec(shape, data).expect("shape");
            if a.ty().dtype == DType::I64 { Array::from(t.mapv(|x| x as i64)) } else { Array::from(t) }
        })
        .collect()
}

#[test]
fn every_derived_function_fails_exactly_when_the_original_does() {
    let mut rng = StdRng::seed_from_u64(11);
    for seed in 0..40 {
        let f = random_index_func(seed);
        for trial in 0..3 {
            let x: Vec<f64> = (0..N).map(|_| rng.random_range(-1.0..1.0)).collect();
            let idx: Vec<i64> = (0..K)
                .map(|_| {
                    if trial > 0 && rng.random_bool(0.3) {
                        [-1, N as i64, 99][rng.random_range(0..3)]
                    } else {
                        rng.random_range(0..N as i64)
                    }
                })
                .collect();
            let base = arg(&x, &idx);
            let original = fails(&f, &base, "original");
            let derived: Vec<(&str, Func)> = vec![
                ("jvp", ad::jvp(&f).unwrap()),
                ("vjp", ad::vjp(&f).unwrap()),
                ("grad", ad::grad(&f, 0).unwrap()),
                ("value_and_grad", ad::value_and_grad(&f, 0).unwrap()),
                ("hessian", ad::hessian(&f, 0).unwrap()),
                ("jacfwd", ad::jacfwd(&f, 0).unwrap()),
                ("jacrev", ad::jacrev(&f, 0).unwrap()),
                ("hvp", ad::hvp(&f, 0).unwrap()),
                ("grad of grad's sum", {
                    let g = ad::grad(&f, 0).unwrap();
                    let s = trace("s", g.param_types(), |p| {
                        let tr = p[0].tracer();
                        vec![tr.call(&g, p)[0].sum_all()]
                    })
                    .unwrap();
                    ad::grad(&s, 0).unwrap()
                }),
            ];
            for (what, g) in &derived {
                let args = extend_args(g, &base);
                assert_eq!(
                    fails(g, &args, what),
                    original,
                    "seed {seed}, idx {idx:?}: {what} fails: {}, the original: {original}\n{f}\n{g}",
                    !original
                );
            }
            let v = ad::vmap_leading(&ad::hessian(&f, 0).unwrap(), 2).unwrap();
            assert_eq!(fails(&v, &batched_args(&base, 2), "vmap of hessian"), original, "seed {seed}, idx {idx:?}");
        }
    }
}

#[test]
fn dead_index_ops_of_the_original_are_not_checked() {
    // The original never runs its dead gather, so neither do its derivatives.
    let f = trace("f", &[TensorType::f64([N]), TensorType::new(DType::I64, [K])], |p| {
        let _dead = p[0].take(p[1], 0);
        vec![(p[0] * p[0]).sum_all()]
    })
    .unwrap();
    let args = arg(&[1.0, 2.0, 3.0, 4.0], &[9, 9, 9]);
    assert!(!fails(&f, &args, "original"));
    for g in [ad::grad(&f, 0).unwrap(), ad::hessian(&f, 0).unwrap()] {
        assert!(!fails(&g, &args, "derived"), "{g}");
    }
}
