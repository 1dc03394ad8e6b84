//! Every stage of the pipeline, on random well-typed functions over every op
//! and dtype (special floats included): nothing panics, and whatever a
//! transformation returns passes the verifier. Errors are allowed; panics
//! and invalid IR are not.

mod common;

use proptest::prelude::*;
use saddle::ir::simplify::{SimplifyOptions, simplify};
use saddle::ir::testing::{GenOptions, random_func};
use saddle::ir::{Func, TensorType, print_func, verify};

fn check(what: &str, f: &Func, out: &Func) {
    if let Err(e) = verify(out) {
        panic!("{what} produced invalid IR: {e}\ninput:\n{}\noutput:\n{}", print_func(f), print_func(out));
    }
}

/// `f` with its first result summed to a scalar, so that `grad` and
/// `hessian` apply; `None` when that result is not a float.
fn scalarized(f: &Func) -> Option<Func> {
    if !f.result_types()[0].dtype.is_float() {
        return None;
    }
    saddle::ir::trace::trace_with("scalar", f.param_types(), |tr, args| vec![tr.call(f, args)[0].sum_all()]).ok()
}

fn every_stage(f: &Func, seed: u64) {
    if let Some(g) = scalarized(f) {
        every_stage_of(&g, seed);
    }
    every_stage_of(f, seed);
}

/// Whether random arguments of these types fit in a test's memory (a rare
/// random function, or its vjp's cotangent, takes arrays of hundreds of
/// megabytes or more; building them would abort the test process).
fn affordable(types: &[TensorType]) -> bool {
    let bytes = |t: &TensorType| t.shape.iter().map(|&d| d as u128).product::<u128>() * t.dtype.size_bytes() as u128;
    types.iter().map(bytes).sum::<u128>() <= 1 << 26
}

fn every_stage_of(f: &Func, seed: u64) {
    if !affordable(f.param_types()) {
        return;
    }
    let inputs = common::random_inputs(f.param_types(), seed);
    let reference = saddle::runtime::reference::eval(f, &inputs);
    if let Ok(exe) = saddle::runtime::compile(f) {
        let compiled = exe.run(&inputs);
        assert_eq!(
            reference.is_ok(),
            compiled.is_ok(),
            "reference and compiled disagree on failing:\n{}",
            print_func(f)
        );
    }
    if let Ok((s, _)) = simplify(f, &SimplifyOptions::default()) {
        check("simplify", f, &s);
    }
    let _ = saddle::xla_lower::to_stablehlo(f);
    for (what, r) in [
        ("jvp", saddle::ad::jvp(f)),
        ("vjp", saddle::ad::vjp(f)),
        ("vmap", saddle::ad::vmap_leading(f, 3)),
        ("grad", saddle::ad::grad(f, 0)),
        ("hessian", saddle::ad::hessian(f, 0)),
        ("jacrev", saddle::ad::jacrev(f, 0)),
    ] {
        if let Ok(out) = r {
            check(what, f, &out);
            if affordable(out.param_types()) {
                let _ = saddle::runtime::reference::eval(&out, &common::random_inputs(out.param_types(), seed));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn no_stage_panics_on_random_functions(seed in any::<u64>()) {
        let f = random_func(seed, &GenOptions { max_insts: 16, ..GenOptions::default() });
        every_stage(&f, seed);
    }

    #[test]
    fn no_stage_panics_on_random_float_functions(seed in any::<u64>()) {
        let f = random_func(seed, &GenOptions { max_insts: 16, float_only: true, special_floats: false, ..GenOptions::default() });
        every_stage(&f, seed);
    }
}
