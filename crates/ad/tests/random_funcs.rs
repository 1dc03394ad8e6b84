//! Every transformation of random well-typed functions (every op kind,
//! every dtype, odd shapes) builds IR that passes the verifier.

use saddle_ir::testing::{GenOptions, random_func};
use saddle_ir::trace::trace_with;
use saddle_ir::{DType, Func, verify};

fn check(what: &str, seed: u64, f: &Func, r: Result<Func, saddle_ad::Error>) -> Func {
    let g = r.unwrap_or_else(|e| panic!("{what} of seed {seed} failed: {e}\n{f}"));
    verify(&g).unwrap_or_else(|e| panic!("{what} of seed {seed} does not verify: {e}\n{f}\n{g}"));
    g
}

/// `f` with a scalar float first result prepended: the sum of its first
/// float result (or of its first float parameter).
fn with_scalar_first(f: &Func) -> Option<Func> {
    let first_float = f.results().iter().position(|&r| f.ty(r).dtype.is_float())?;
    trace_with("s", f.param_types(), |tr, args| {
        let outs = tr.call(f, args);
        let mut results = vec![outs[first_float].convert(DType::F64).sum_all()];
        results.extend(outs);
        results
    })
    .ok()
}

fn transform_all(seed: u64, opts: &GenOptions) {
    let f = random_func(seed, opts);
    check("jvp", seed, &f, saddle_ad::jvp(&f));
    check("vjp", seed, &f, saddle_ad::vjp(&f));
    check("vmap", seed, &f, saddle_ad::vmap_leading(&f, 2));
    let in_axes: Vec<_> = f.param_types().iter().enumerate().map(|(k, t)| (k % 2 == 0).then_some(t.rank())).collect();
    let out_axes: Vec<_> = f.result_types().iter().map(|t| Some(t.rank() / 2)).collect();
    check("vmap with axes", seed, &f, saddle_ad::vmap(&f, 3, &in_axes, &out_axes));
    let Some(s) = with_scalar_first(&f) else { return };
    for (k, ty) in s.param_types().iter().enumerate() {
        if !ty.dtype.is_float() {
            assert!(matches!(saddle_ad::grad(&s, k), Err(saddle_ad::Error::NotFloat { .. })));
            continue;
        }
        let g = check("grad", seed, &s, saddle_ad::grad(&s, k));
        check("vmap of grad", seed, &g, saddle_ad::vmap_leading(&g, 2));
        check("hessian", seed, &s, saddle_ad::hessian(&s, k));
        check("jacrev", seed, &f, saddle_ad::jacrev(&s, k));
        check("jvp of vjp", seed, &s, saddle_ad::vjp(&s).and_then(|b| saddle_ad::jvp(&b)));
    }
}

#[test]
fn transformations_of_random_functions_verify() {
    let opts = GenOptions::default();
    for seed in 0..150 {
        transform_all(seed, &opts);
    }
}

#[test]
fn transformations_of_random_float_functions_verify() {
    let opts = GenOptions { float_only: true, max_insts: 40, ..GenOptions::default() };
    for seed in 1000..1150 {
        transform_all(seed, &opts);
    }
}

/// Empty arrays and empty batches are ordinary: every transformation
/// handles them.
#[test]
fn empty_shapes_and_batches() {
    let f = saddle_ir::parse_func(
        "empty.sir",
        "func @f(%x: f64[0], %y: f64[2,0], %z: f64[3]) -> (f64[], f64[0]) {
  %e = exp %x
  %s = reduce_sum %e {axes = [0]}
  %t = reduce_sum %y {axes = [0, 1]}
  %w = slice %z {start = [1], limit = [1]}
  %p = pad %w, %s {low = [1], high = [0]}
  %q = reduce_sum %p {axes = [0]}
  %c = concatenate %x, %w {axis = 0}
  %st = add %s, %t
  %u = add %st, %q
  return %u, %c
}",
    )
    .unwrap();
    for (what, r) in [
        ("jvp", saddle_ad::jvp(&f)),
        ("vjp", saddle_ad::vjp(&f)),
        ("vmap 0", saddle_ad::vmap_leading(&f, 0)),
        ("vmap 2", saddle_ad::vmap_leading(&f, 2)),
        ("grad", saddle_ad::grad(&f, 0)),
        ("hessian 0", saddle_ad::hessian(&f, 0)),
        ("hessian 1", saddle_ad::hessian(&f, 1)),
        ("hessian 2", saddle_ad::hessian(&f, 2)),
        ("jacrev", saddle_ad::jacrev(&f, 2)),
    ] {
        check(what, 0, &f, r);
    }
    let h = saddle_ad::hessian(&f, 1).unwrap();
    assert_eq!(h.result_types(), vec![saddle_ir::TensorType::f64([2, 0, 2, 0])]);
}
