//! The simplifier keeps values. Every test case's function, gradient and
//! Hessian, and random well-typed functions over every op, evaluate (by the
//! runtime's reference interpreter) to the same values simplified as not;
//! the simplified function verifies, and simplifying it again changes
//! nothing. With the rules that re-associate off (the only ones allowed to
//! round differently), a random function compiled simplified gives the
//! bits it gives compiled as written: constant folding computes with the
//! runtime's own definitions (`saddle::ir::math`).

mod common;

use std::collections::BTreeSet;

use proptest::prelude::*;
use saddle::ir::simplify::{SimplifyOptions, simplify};
use saddle::ir::testing::{GenOptions, random_func};
use saddle::ir::{Array, DType, Func, Op, Scalar, print_func, verify};
use saddle::runtime::reference::eval;

/// Same values on `inputs`: integers and booleans exactly, floats to a
/// relative tolerance (re-associated sums round differently), NaN where
/// NaN. A function that fails may simplify to one that does not (a failing
/// value that no result needs is gone), never the other way round.
fn agree(f: &Func, g: &Func, inputs: &[Array]) -> Result<(), String> {
    match (eval(f, inputs), eval(g, inputs)) {
        (Ok(a), Ok(b)) => {
            for (i, (x, y)) in a.iter().zip(&b).enumerate() {
                let tol = match x.dtype() {
                    DType::F64 => 1e-9,
                    DType::F32 => 1e-3,
                    DType::I32 | DType::I64 | DType::Bool => 0.0,
                };
                let d = common::max_rel_diff(y, x);
                if d > tol {
                    return Err(format!(
                        "result {i} differs by {d:e}\noriginal:\n{}\nsimplified:\n{}\n{x:?}\n{y:?}",
                        print_func(f),
                        print_func(g)
                    ));
                }
            }
            Ok(())
        }
        (Err(_), _) => Ok(()),
        (Ok(_), Err(e)) => Err(format!("the simplified function fails ({e}):\n{}", print_func(g))),
    }
}

/// The same bits from the compiled functions on `inputs`, NaN payloads
/// aside (a failing original may simplify to one that runs).
fn same_bits(f: &Func, g: &Func, inputs: &[Array]) -> Result<(), String> {
    let run = |h: &Func| saddle::runtime::compile(h).and_then(|e| e.run(inputs));
    let (Ok(a), b) = (run(f), run(g)) else { return Ok(()) };
    let b = b.map_err(|e| format!("the simplified function fails ({e}):\n{}", print_func(g)))?;
    let nan = |s: &Scalar| match s {
        Scalar::F32(x) => x.is_nan(),
        Scalar::F64(x) => x.is_nan(),
        Scalar::I32(_) | Scalar::I64(_) | Scalar::Bool(_) => false,
    };
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        let (xs, ys) = (x.scalars(), y.scalars());
        if let Some(k) = (0..xs.len()).find(|&k| xs[k] != ys[k] && !(nan(&xs[k]) && nan(&ys[k]))) {
            return Err(format!(
                "result {i} element {k}: {:?} simplified, {:?} as written\noriginal:\n{}\nsimplified:\n{}",
                ys[k],
                xs[k],
                print_func(f),
                print_func(g)
            ));
        }
    }
    Ok(())
}

fn simplified(f: &Func) -> Func {
    simplified_with(f, &SimplifyOptions::default())
}

fn simplified_with(f: &Func, opts: &SimplifyOptions) -> Func {
    let (g, _) = simplify(f, opts).unwrap_or_else(|e| panic!("{e}\n{}", print_func(f)));
    verify(&g).unwrap_or_else(|e| panic!("{e}\ninput:\n{}\noutput:\n{}", print_func(f), print_func(&g)));
    let (again, _) = simplify(&g, opts).unwrap();
    assert_eq!(print_func(&again), print_func(&g), "not idempotent; input:\n{}", print_func(f));
    g
}

#[test]
fn every_case_its_gradient_and_its_hessian_keep_their_values() {
    for (name, m) in common::cases() {
        let f = &m.funcs[0];
        let derived = [
            ("function", f.clone()),
            ("grad", saddle::ad::grad(f, 0).unwrap()),
            ("hessian", saddle::ad::hessian(f, 0).unwrap()),
        ];
        for (what, d) in derived {
            let g = simplified(&d);
            for seed in 0..3 {
                let inputs = common::random_inputs(d.param_types(), seed);
                agree(&d, &g, &inputs).unwrap_or_else(|e| panic!("{what} of {name}: {e}"));
            }
        }
    }
}

fn finite() -> GenOptions {
    GenOptions { special_floats: false, ..GenOptions::default() }
}

#[test]
fn random_functions_cover_every_op() {
    let mut seen = BTreeSet::new();
    for seed in 0..300 {
        for (_, inst) in random_func(seed, &finite()).iter_insts() {
            seen.insert(inst.op.name());
        }
    }
    let all: BTreeSet<&str> = Op::every_kind().iter().map(Op::name).collect();
    let missing: Vec<&&str> = all.difference(&seen).collect();
    assert!(missing.is_empty(), "ops never drawn: {missing:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_functions_keep_their_values(seed in any::<u64>()) {
        let f = random_func(seed, &finite());
        let g = simplified(&f);
        for k in 0..2 {
            let inputs = common::random_inputs(f.param_types(), seed.wrapping_mul(3).wrapping_add(k));
            prop_assert!(agree(&f, &g, &inputs).is_ok(), "{}", agree(&f, &g, &inputs).unwrap_err());
        }
    }

    #[test]
    fn exact_rules_keep_every_bit(seed in any::<u64>()) {
        let f = random_func(seed, &GenOptions::default());
        let exact =
            SimplifyOptions { reassociate: false, unsafe_math: false, stable_forms: false, ..SimplifyOptions::default() };
        let g = simplified_with(&f, &exact);
        for k in 0..2 {
            let mut inputs = common::random_inputs(f.param_types(), seed.wrapping_mul(5).wrapping_add(k));
            if k == 1 {
                let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed);
                inputs = f.param_types().iter().map(|t| common::random_array(t, &mut rng, -800.0, 800.0)).collect();
            }
            let r = same_bits(&f, &g, &inputs);
            prop_assert!(r.is_ok(), "{}", r.unwrap_err());
        }
    }

    #[test]
    fn random_derivatives_keep_their_values(seed in any::<u64>()) {
        let f = random_func(seed, &GenOptions { float_only: true, max_insts: 12, ..finite() });
        if let Ok(h) = saddle::ir::trace::trace_with("scalar", f.param_types(), |tr, args| vec![tr.call(&f, args)[0].sum_all()]) {
            if let Ok(g) = saddle::ad::grad(&h, 0) {
                let s = simplified(&g);
                let inputs = common::random_inputs(g.param_types(), seed);
                prop_assert!(agree(&g, &s, &inputs).is_ok(), "{}", agree(&g, &s, &inputs).unwrap_err());
            }
        }
    }
}
