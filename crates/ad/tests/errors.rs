//! Every kind of bad input is a typed error with a message that says what
//! is wrong, never a panic.

use saddle_ad::Error;
use saddle_ir::{Func, Inst, Op, TensorType, parse_func};

fn f() -> Func {
    parse_func("f.sir", "func @f(%x: f64[3], %n: i64[]) -> (f64[3], i64[]) {\n  %y = exp %x\n  return %y, %n\n}")
        .unwrap()
}

fn message(r: Result<Func, Error>) -> (Error, String) {
    let e = r.unwrap_err();
    let m = e.to_string();
    (e, m)
}

#[test]
fn bad_parameters_and_results() {
    let (e, m) = message(saddle_ad::grad(&f(), 0));
    assert!(matches!(e, Error::NonScalarResult { transform: "grad", .. }), "{e:?}");
    assert_eq!(m, "grad needs a scalar float first result, but @f returns f64[3] first");
    let (e, m) = message(saddle_ad::jacfwd(&f(), 5));
    assert!(matches!(e, Error::NoSuchParam { index: 5, count: 2, .. }));
    assert_eq!(m, "function @f has 2 parameter(s); there is no parameter 5");
    let (e, m) = message(saddle_ad::jacrev(&f(), 1));
    assert!(matches!(e, Error::NotFloat { index: 1, .. }));
    assert!(m.contains("i64[]") && m.contains("only float parameters"), "{m}");
    let (e, _) = message(saddle_ad::jvp_wrt(&f(), &[1]));
    assert!(matches!(e, Error::NotFloat { .. }));
    let g = parse_func("g.sir", "func @g(%x: f64[3]) -> i64[3] {\n  %y = convert %x {dtype = i64}\n  return %y\n}")
        .unwrap();
    let (e, m) = message(saddle_ad::jacfwd(&g, 0));
    assert!(matches!(e, Error::NonFloatResult { .. }), "{m}");
    for h in [saddle_ad::hessian(&f(), 0), saddle_ad::hvp(&f(), 0), saddle_ad::value_and_grad(&f(), 0)] {
        assert!(matches!(h.unwrap_err(), Error::NonScalarResult { .. }));
    }
}

#[test]
fn bad_batch_axes() {
    let f = f();
    let (e, m) = message(saddle_ad::vmap(&f, 2, &[Some(0)], &[Some(0), Some(0)]));
    assert!(matches!(e, Error::Count { what: "vmap in_axes", expected: 2, found: 1 }), "{m}");
    let (_, m) = message(saddle_ad::vmap(&f, 2, &[Some(0), None], &[Some(0)]));
    assert_eq!(m, "vmap out_axes: expected 2 entries, found 1");
    let (e, m) = message(saddle_ad::vmap(&f, 2, &[Some(2), None], &[Some(0), Some(0)]));
    assert!(matches!(e, Error::Batch(_)) && m.contains("in_axes[0] = 2 is out of range"), "{m}");
    let (_, m) = message(saddle_ad::vmap(&f, 2, &[Some(0), None], &[Some(2), Some(0)]));
    assert!(m.contains("out_axes[0] = 2 is out of range"), "{m}");
    let (_, m) = message(saddle_ad::vmap(&f, 2, &[Some(0), None], &[None, None]));
    assert!(m.contains("result 0 depends on a batched parameter"), "{m}");
    // A result that does not depend on the batch may be unbatched, or
    // broadcast along the batch.
    let v = saddle_ad::vmap(&f, 2, &[Some(0), None], &[Some(1), None]).unwrap();
    assert_eq!(v.result_types(), vec![TensorType::f64([3, 2]), TensorType::new(saddle_ir::DType::I64, [])]);
    let v = saddle_ad::vmap(&f, 2, &[Some(0), None], &[Some(0), Some(0)]).unwrap();
    assert_eq!(v.result_types()[1].shape, vec![2]);
    let (_, m) = message(saddle_ad::vmap(&f, usize::MAX, &[Some(0), None], &[Some(0), None]));
    assert!(m.contains("too large"), "{m}");
}

#[test]
fn invalid_ir_is_refused() {
    // An instruction whose recorded type is wrong.
    let bad = Func::from_raw_parts(
        "bad",
        1,
        vec![TensorType::f64([2]), TensorType::f64([3])],
        vec![Inst { op: Op::Unary(saddle_ir::op::Unary::Exp), args: vec![saddle_ir::Value::from_index(0)].into() }],
        vec![saddle_ir::Value::from_index(1)],
    );
    for r in
        [saddle_ad::jvp(&bad), saddle_ad::vjp(&bad), saddle_ad::vmap_leading(&bad, 2), saddle_ad::transpose(&bad, 1)]
    {
        let (e, m) = message(r);
        assert!(matches!(e, Error::Invalid(_)), "{m}");
        assert!(m.contains("not valid IR"), "{m}");
    }
    let (e, _) = message(saddle_ad::transpose(&f(), 3));
    assert!(matches!(e, Error::Count { what: "linear parameters", .. }));
}
