//! Unit tests of the simplifier: each rule on a small function, with the
//! result's text checked and its values compared with the input's by the
//! folding evaluator; limits, sharing, the type-merge assertion, and
//! random functions.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::fold::eval_func;
use super::*;
use crate::testing::{GenOptions, random_func};
use crate::{Array, DType, Scalar, TensorType, parse_func, print_func};

fn random_inputs(f: &Func, seed: u64) -> Vec<Array> {
    let mut rng = StdRng::seed_from_u64(seed);
    f.param_types()
        .iter()
        .map(|t| {
            let vals: Vec<Scalar> = (0..t.num_elements())
                .map(|_| match t.dtype {
                    DType::Bool => Scalar::Bool(rng.random_bool(0.5)),
                    DType::I32 | DType::I64 => Scalar::from_f64(t.dtype, rng.random_range(0..3) as f64),
                    DType::F32 | DType::F64 => Scalar::from_f64(t.dtype, rng.random_range(0.5..2.0)),
                })
                .collect();
            Array::from_scalars(t, &vals).unwrap()
        })
        .collect()
}

/// Whether two results agree: integers and bools exactly, floats to a
/// tolerance scaled by magnitude (re-ordered sums round differently), NaN
/// with NaN, equal infinities.
fn close(a: &Array, b: &Array, tol: f64) -> bool {
    a.ty() == b.ty()
        && a.to_f64_vec()
            .iter()
            .zip(b.to_f64_vec())
            .all(|(&x, y)| x == y || (x.is_nan() && y.is_nan()) || (x - y).abs() <= tol * x.abs().max(y.abs()).max(1.0))
}

fn same_values(f: &Func, g: &Func, seed: u64) {
    let inputs = random_inputs(f, seed);
    let (Some(a), Some(b)) = (eval_func(f, &inputs), eval_func(g, &inputs)) else {
        return;
    };
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        let tol = if x.dtype() == DType::F32 { 1e-3 } else { 1e-9 };
        assert!(close(x, y, tol), "result {i} differs:\n{}\nvs\n{}\n{x:?}\n{y:?}", print_func(f), print_func(g));
    }
}

fn run(src: &str, opts: &SimplifyOptions) -> (Func, Func, SimplifyReport) {
    let f = parse_func("t.sir", src).unwrap_or_else(|e| panic!("{e}"));
    let (g, r) = simplify(&f, opts).unwrap();
    verify(&g).unwrap();
    same_values(&f, &g, 1);
    same_values(&f, &g, 2);
    let (h, _) = simplify(&g, opts).unwrap();
    assert_eq!(print_func(&h), print_func(&g), "not idempotent");
    (f, g, r)
}

/// The statements and `return` line of the simplified function.
fn body_with(src: &str, opts: &SimplifyOptions) -> Vec<String> {
    let (_, g, _) = run(src, opts);
    let text = print_func(&g);
    let lines: Vec<&str> = text.lines().collect();
    lines[1..lines.len() - 1].iter().map(|l| l.trim().to_string()).collect()
}

fn body(src: &str) -> Vec<String> {
    body_with(src, &SimplifyOptions::default())
}

fn func(params: &str, result: &str, stmts: &str, ret: &str) -> String {
    format!("func @f({params}) -> {result} {{\n{stmts}\n  return {ret}\n}}\n")
}

#[test]
fn additive_and_multiplicative_identities() {
    let src = func(
        "%x: f64[3], %y: f64[3]",
        "(f64[3], f64[3], f64[3], f64[3])",
        "%one: f64[3] = const {value = 1.0}
         %zero: f64[3] = const {value = 0.0}
         %a: f64[3] = mul %x, %one
         %b: f64[3] = add %zero, %a
         %c: f64[3] = sub %b, %zero
         %d: f64[3] = div %c, %one
         %n: f64[3] = neg %y
         %nn: f64[3] = neg %n
         %e: f64[3] = add %d, %n
         %m: f64[3] = const {value = -1.0}
         %f: f64[3] = mul %m, %x
         %g: f64[3] = sub %zero, %y",
        "%d, %e, %f, %nn",
    );
    assert_eq!(body(&src), ["%e: f64[3] = sub %x, %y", "%f: f64[3] = neg %x", "return %x, %e, %f, %y"]);
}

#[test]
fn negations_fold_into_subtractions_and_constants() {
    let src = func(
        "%x: f64[], %y: f64[]",
        "(f64[], f64[], f64[], f64[])",
        "%d: f64[] = sub %x, %y
         %nd: f64[] = neg %d
         %ny: f64[] = neg %y
         %s: f64[] = sub %x, %ny
         %c: f64[] = const {value = 3.0}
         %m: f64[] = mul %x, %c
         %nm: f64[] = neg %m
         %nx: f64[] = neg %x
         %m2: f64[] = mul %nx, %c
         %ax: f64[] = abs %nx",
        "%nd, %s, %nm, %ax",
    );
    assert_eq!(
        body(&src),
        [
            "%nd: f64[] = sub %y, %x",
            "%s: f64[] = add %x, %y",
            "%0: f64[] = const {value = -3.0}",
            "%nm: f64[] = mul %x, %0",
            "%ax: f64[] = abs %x",
            "return %nd, %s, %nm, %ax"
        ]
    );
}

#[test]
fn boolean_identities_and_select() {
    let src = func(
        "%p: f64[2], %q: f64[2]",
        "(f64[2], f64[2], f64[2], f64[2])",
        "%t: bool[2] = const {value = true}
         %f: bool[2] = const {value = false}
         %lt: bool[2] = lt %p, %q
         %a: bool[2] = and %lt, %t
         %o: bool[2] = or %a, %f
         %nn: bool[2] = not %o
         %n2: bool[2] = not %nn
         %s1: f64[2] = select %n2, %p, %q
         %s2: f64[2] = select %t, %p, %q
         %s3: f64[2] = select %f, %p, %q
         %s4: f64[2] = select %nn, %p, %q
         %s5: f64[2] = select %lt, %q, %q
         %mx: f64[2] = max %s5, %s5",
        "%s1, %s2, %s4, %mx",
    );
    assert_eq!(
        body(&src),
        [
            "%lt: bool[2] = lt %p, %q",
            "%s1: f64[2] = select %lt, %p, %q",
            "%s4: f64[2] = select %lt, %q, %p",
            "return %s1, %p, %s4, %q"
        ]
    );
}

#[test]
fn powers_converts_and_stop_gradients() {
    let src = func(
        "%x: f32[2]",
        "(f32[2], f32[2], f32[2], f32[2])",
        "%a: f32[2] = integer_pow %x {y = 1}
         %b: f32[2] = integer_pow %x {y = 0}
         %w: f64[2] = convert %x {dtype = f64}
         %c: f32[2] = convert %w {dtype = f32}
         %s: f32[2] = stop_gradient %c
         %ss: f32[2] = stop_gradient %s
         %same: f32[2] = convert %ss {dtype = f32}",
        "%a, %b, %c, %same",
    );
    assert_eq!(
        body(&src),
        ["%b: f32[2] = const {value = 1.0}", "%s: f32[2] = stop_gradient %x", "return %x, %b, %x, %s"]
    );
}

#[test]
fn narrowing_converts_stay() {
    let src = func(
        "%x: f64[2]",
        "f64[2]",
        "%n: f32[2] = convert %x {dtype = f32}
         %w: f64[2] = convert %n {dtype = f64}",
        "%w",
    );
    assert_eq!(body(&src).len(), 3);
}

#[test]
fn nan_unsafe_rules_are_off_by_default() {
    let src = func(
        "%x: f64[2]",
        "(f64[2], f64[2], f64[2], f64[2])",
        "%zero: f64[2] = const {value = 0.0}
         %a: f64[2] = mul %x, %zero
         %b: f64[2] = sub %x, %x
         %c: f64[2] = div %x, %x
         %l: f64[2] = log %x
         %d: f64[2] = exp %l",
        "%a, %b, %c, %d",
    );
    assert_eq!(body(&src).len(), 7);
    let opts = SimplifyOptions { unsafe_math: true, ..SimplifyOptions::default() };
    assert_eq!(
        body_with(&src, &opts),
        ["%zero: f64[2] = const {value = 0.0}", "%c: f64[2] = const {value = 1.0}", "return %zero, %zero, %c, %x"]
    );
}

#[test]
fn constants_fold() {
    let src = func(
        "%x: f64[2]",
        "(f64[2], f64[2], i32[], f64[])",
        "%a: f64[2] = const {value = [1.0, 2.0]}
         %b: f64[2] = const {value = 3.0}
         %c: f64[2] = mul %a, %b
         %e: f64[2] = exp %c
         %r: f64[2] = add %x, %c
         %i: i32[] = const {value = 7}
         %j: i32[] = const {value = 2}
         %k: i32[] = div %i, %j
         %bb: f64[3,2] = broadcast_in_dim %a {shape = [3,2], dims = [1]}
         %s: f64[] = reduce_sum %bb {axes = [0, 1]}",
        "%e, %r, %k, %s",
    );
    let b = body(&src);
    assert_eq!(b[0], format!("%e: f64[2] = const {{value = [{:?}, {:?}]}}", 3f64.exp(), 6f64.exp()));
    assert_eq!(
        b[1..],
        [
            "%c: f64[2] = const {value = [3.0, 6.0]}",
            "%r: f64[2] = add %x, %c",
            "%k: i32[] = const {value = 3}",
            "%s: f64[] = const {value = 9.0}",
            "return %e, %r, %k, %s"
        ]
    );
}

#[test]
fn run_time_errors_are_not_folded_and_special_functions_are() {
    let src = func(
        "%x: i32[]",
        "(i32[], f64[], f64[2])",
        "%i: i32[] = const {value = 7}
         %z: i32[] = const {value = 0}
         %k: i32[] = div %i, %z
         %h: f64[] = const {value = 2.5}
         %g: f64[] = lgamma %h
         %v: f64[3] = const {value = [1.0, 2.0, 3.0]}
         %idx: i64[2] = const {value = [0, 5]}
         %t: f64[2] = take %v, %idx {axis = 0}",
        "%k, %g, %t",
    );
    let b = body(&src);
    assert!(b.iter().any(|l| l.contains("= div")), "{b:?}");
    // lgamma folds with the runtime's own definition (crate::math).
    assert!(!b.iter().any(|l| l.contains("= lgamma")), "{b:?}");
    assert!(b.iter().any(|l| l.contains("= take")), "{b:?}");
}

#[test]
fn elementwise_work_moves_under_broadcasts() {
    let src = func(
        "%x: f64[], %v: f64[5,3]",
        "(f64[5,3], f64[5,3])",
        "%b: f64[5,3] = broadcast_in_dim %x {shape = [5,3], dims = []}
         %e: f64[5,3] = exp %b
         %two: f64[5,3] = const {value = 2.0}
         %m: f64[5,3] = mul %e, %two
         %w: f64[5,3] = add %m, %v",
        "%m, %w",
    );
    assert_eq!(
        body(&src),
        [
            "%0: f64[] = exp %x",
            "%1: f64[] = const {value = 2.0}",
            "%2: f64[] = mul %0, %1",
            "%m: f64[5,3] = broadcast_in_dim %2 {shape = [5, 3], dims = []}",
            "%w: f64[5,3] = add %m, %v",
            "return %m, %w"
        ]
    );
}

#[test]
fn elementwise_work_moves_under_shared_transposes_and_reshapes() {
    let src = func(
        "%x: f64[2,3], %y: f64[2,3]",
        "(f64[3,2], f64[6])",
        "%a: f64[3,2] = transpose %x {perm = [1,0]}
         %b: f64[3,2] = transpose %y {perm = [1,0]}
         %c: f64[3,2] = mul %a, %b
         %ra: f64[6] = reshape %x {shape = [6]}
         %rb: f64[6] = reshape %y {shape = [6]}
         %d: f64[6] = sub %ra, %rb",
        "%c, %d",
    );
    assert_eq!(
        body(&src),
        [
            "%0: f64[2,3] = mul %x, %y",
            "%c: f64[3,2] = transpose %0 {perm = [1, 0]}",
            "%1: f64[2,3] = sub %x, %y",
            "%d: f64[6] = reshape %1 {shape = [6]}",
            "return %c, %d"
        ]
    );
}

#[test]
fn negations_on_both_sides_cancel() {
    let src = func(
        "%x: f64[3], %y: f64[3]",
        "(f64[3], f64[3], f64[3], f64[3])",
        "%nx: f64[3] = neg %x
         %ny: f64[3] = neg %y
         %m: f64[3] = mul %nx, %ny
         %d: f64[3] = div %nx, %ny
         %a: f64[3] = add %nx, %ny
         %s: f64[3] = sub %nx, %ny",
        "%m, %d, %a, %s",
    );
    assert_eq!(
        body(&src),
        [
            "%m: f64[3] = mul %x, %y",
            "%d: f64[3] = div %x, %y",
            "%0: f64[3] = add %x, %y",
            "%a: f64[3] = neg %0",
            "%s: f64[3] = sub %y, %x",
            "return %m, %d, %a, %s"
        ]
    );
}

#[test]
fn negations_and_divisions_of_scaled_values_run_on_the_scaling() {
    let src = func(
        "%x: f64[4,3], %u: f64[3], %v: f64[3]",
        "(f64[4,3], f64[4,3])",
        "%bu: f64[4,3] = broadcast_in_dim %u {shape = [4,3], dims = [1]}
         %bv: f64[4,3] = broadcast_in_dim %v {shape = [4,3], dims = [1]}
         %m: f64[4,3] = mul %x, %bu
         %n: f64[4,3] = neg %m
         %d: f64[4,3] = div %m, %bv",
        "%n, %d",
    );
    assert_eq!(
        body(&src),
        [
            "%0: f64[3] = neg %u",
            "%1: f64[4,3] = broadcast_in_dim %0 {shape = [4, 3], dims = [1]}",
            "%n: f64[4,3] = mul %x, %1",
            "%2: f64[3] = div %u, %v",
            "%3: f64[4,3] = broadcast_in_dim %2 {shape = [4, 3], dims = [1]}",
            "%d: f64[4,3] = mul %x, %3",
            "return %n, %d"
        ]
    );
}

#[test]
fn chains_of_scaled_copies_scale_once() {
    let src = func(
        "%x: f64[4,3], %q: f64[4,3], %u: f64[3], %v: f64[3], %w: f64[3]",
        "f64[4,3]",
        "%bu: f64[4,3] = broadcast_in_dim %u {shape = [4,3], dims = [1]}
         %bv: f64[4,3] = broadcast_in_dim %v {shape = [4,3], dims = [1]}
         %bw: f64[4,3] = broadcast_in_dim %w {shape = [4,3], dims = [1]}
         %xu: f64[4,3] = mul %x, %bu
         %xv: f64[4,3] = mul %bv, %x
         %xw: f64[4,3] = mul %x, %bw
         %s1: f64[4,3] = sub %q, %xu
         %s2: f64[4,3] = add %s1, %xv
         %s3: f64[4,3] = sub %s2, %xw",
        "%s3",
    );
    let (_, g, _) = run(&src, &SimplifyOptions::default());
    let big_muls = g.iter_insts().filter(|(v, i)| i.op.name() == "mul" && g.ty(*v).num_elements() == 12).count();
    assert_eq!(big_muls, 1, "{}", print_func(&g));
    let off = SimplifyOptions { reassociate: false, ..SimplifyOptions::default() };
    let (_, h, _) = run(&src, &off);
    assert_eq!(h.iter_insts().filter(|(_, i)| i.op.name() == "mul").count(), 3, "{}", print_func(&h));
}

#[test]
fn transposes_sink_into_free_operands() {
    let src = func(
        "%x: f64[5,3], %y: f64[5,3], %v: f64[3]",
        "f64[3,3]",
        "%d: f64[3,3] = dot_general %x, %y {lhs_contract = [0], rhs_contract = [0]}
         %i0: i64[3,3] = iota {dim = 0}
         %i1: i64[3,3] = iota {dim = 1}
         %eq: bool[3,3] = eq %i0, %i1
         %eye: f64[3,3] = convert %eq {dtype = f64}
         %bv: f64[3,3] = broadcast_in_dim %v {shape = [3,3], dims = [1]}
         %m: f64[3,3] = mul %eye, %bv
         %s: f64[3,3] = sub %d, %m
         %t: f64[3,3] = transpose %s {perm = [1, 0]}",
        "%t",
    );
    let (_, g, _) = run(&src, &SimplifyOptions::default());
    assert!(g.iter_insts().all(|(_, i)| i.op.name() != "transpose"), "{}", print_func(&g));
    assert!(print_func(&g).contains("dot_general %y, %x"), "{}", print_func(&g));
}

#[test]
fn layout_ops_move_through_unary_ops_and_cancel() {
    let src = func(
        "%x: f64[]",
        "f64[]",
        "%r: f64[1] = reshape %x {shape = [1]}
         %n: f64[1] = neg %r
         %e: f64[1] = exp %n
         %b: f64[] = reshape %e {shape = []}",
        "%b",
    );
    assert_eq!(body(&src), ["%0: f64[] = neg %x", "%b: f64[] = exp %0", "return %b"]);
}

#[test]
fn sums_of_broadcasts_are_scalings() {
    let src = func(
        "%x: f64[4], %y: f64[4,1]",
        "(f64[4], f64[], f64[4], f64[3])",
        "%b: f64[4,3] = broadcast_in_dim %x {shape = [4,3], dims = [0]}
         %s: f64[4] = reduce_sum %b {axes = [1]}
         %t: f64[] = reduce_sum %b {axes = [0, 1]}
         %m: f64[4] = reduce_max %b {axes = [1]}
         %c: f64[4,3] = broadcast_in_dim %y {shape = [4,3], dims = [0, 1]}
         %u: f64[3] = reduce_sum %c {axes = [0]}",
        "%s, %t, %m, %u",
    );
    assert_eq!(
        body(&src),
        [
            "%0: f64[4] = const {value = 3.0}",
            "%s: f64[4] = mul %x, %0",
            "%1: f64[] = reduce_sum %x {axes = [0]}",
            "%2: f64[] = const {value = 3.0}",
            "%t: f64[] = mul %1, %2",
            "%3: f64[1] = reduce_sum %y {axes = [0]}",
            "%u: f64[3] = broadcast_in_dim %3 {shape = [3], dims = [0]}",
            "return %s, %t, %x, %u"
        ]
    );
}

#[test]
fn nested_and_transposed_reductions() {
    let src = func(
        "%x: f64[2,3,4]",
        "(f64[], f64[4,2])",
        "%a: f64[2,4] = reduce_sum %x {axes = [1]}
         %b: f64[] = reduce_sum %a {axes = [0, 1]}
         %t: f64[3,4,2] = transpose %x {perm = [1,2,0]}
         %c: f64[4,2] = reduce_max %t {axes = [0]}",
        "%b, %c",
    );
    assert_eq!(
        body(&src),
        [
            "%b: f64[] = reduce_sum %x {axes = [0, 1, 2]}",
            "%0: f64[2,4] = reduce_max %x {axes = [1]}",
            "%c: f64[4,2] = transpose %0 {perm = [1, 0]}",
            "return %b, %c"
        ]
    );
}

#[test]
fn reshape_transpose_and_broadcast_chains() {
    let src = func(
        "%x: f64[2,3], %s: f64[]",
        "(f64[2,3], f64[3,2], f64[1,6], f64[2,1,3], f64[4,2,3])",
        "%r: f64[6] = reshape %x {shape = [6]}
         %r2: f64[2,3] = reshape %r {shape = [2,3]}
         %t1: f64[3,2] = transpose %x {perm = [1,0]}
         %t2: f64[2,3] = transpose %t1 {perm = [1,0]}
         %t3: f64[3,2] = transpose %t2 {perm = [1,0]}
         %r3: f64[1,6] = reshape %r2 {shape = [1,6]}
         %u: f64[2,3,1] = reshape %x {shape = [2,3,1]}
         %ut: f64[2,1,3] = transpose %u {perm = [0,2,1]}
         %b1: f64[2,3] = broadcast_in_dim %x {shape = [2,3], dims = [0,1]}
         %b2: f64[4,2,3] = broadcast_in_dim %b1 {shape = [4,2,3], dims = [1,2]}",
        "%t2, %t3, %r3, %ut, %b2",
    );
    assert_eq!(
        body(&src),
        [
            "%t1: f64[3,2] = transpose %x {perm = [1, 0]}",
            "%r3: f64[1,6] = reshape %x {shape = [1, 6]}",
            "%ut: f64[2,1,3] = reshape %x {shape = [2, 1, 3]}",
            "%b2: f64[4,2,3] = broadcast_in_dim %x {shape = [4, 2, 3], dims = [1, 2]}",
            "return %x, %t1, %r3, %ut, %b2"
        ]
    );
}

#[test]
fn transposes_of_broadcasts_and_copy_free_broadcasts() {
    let src = func(
        "%x: f64[2], %y: f64[3]",
        "(f64[3,2], f64[1,3])",
        "%b: f64[2,3] = broadcast_in_dim %x {shape = [2,3], dims = [0]}
         %t: f64[3,2] = transpose %b {perm = [1,0]}
         %c: f64[1,3] = broadcast_in_dim %y {shape = [1,3], dims = [1]}",
        "%t, %c",
    );
    assert_eq!(
        body(&src),
        [
            "%t: f64[3,2] = broadcast_in_dim %x {shape = [3, 2], dims = [1]}",
            "%c: f64[1,3] = reshape %y {shape = [1, 3]}",
            "return %t, %c"
        ]
    );
}

#[test]
fn slices_of_slices_pads_concatenations_and_broadcasts() {
    let src = func(
        "%x: f64[6], %y: f64[4], %s: f64[]",
        "(f64[6], f64[2], f64[6], f64[2], f64[2,2], f64[4])",
        "%full: f64[6] = slice %x {start = [0], limit = [6]}
         %a: f64[4] = slice %x {start = [1], limit = [5]}
         %b: f64[2] = slice %a {start = [1], limit = [4], stride = [2]}
         %z: f64[] = const {value = 0.0}
         %p: f64[11] = pad %x, %z {low = [2], high = [3], interior = [0]}
         %q: f64[6] = slice %p {start = [2], limit = [8]}
         %cc: f64[10] = concatenate %x, %y {axis = 0}
         %cs: f64[2] = slice %cc {start = [7], limit = [9]}
         %bb: f64[3,4] = broadcast_in_dim %y {shape = [3,4], dims = [1]}
         %sb: f64[2,2] = slice %bb {start = [0,1], limit = [2,3]}
         %pi: f64[7] = pad %y, %s {low = [0], high = [0], interior = [1]}
         %si: f64[4] = slice %pi {start = [0], limit = [7], stride = [2]}",
        "%full, %b, %q, %cs, %sb, %si",
    );
    assert_eq!(
        body(&src),
        [
            "%b: f64[2] = slice %x {start = [2], limit = [5], stride = [2]}",
            "%cs: f64[2] = slice %y {start = [1], limit = [3]}",
            "%sb: f64[2,2] = broadcast_in_dim %cs {shape = [2, 2], dims = [1]}",
            "return %x, %b, %x, %cs, %sb, %y"
        ]
    );
}

#[test]
fn concatenations_of_adjacent_slices_and_nested_concatenations() {
    let src = func(
        "%x: f64[6,2], %y: f64[1,2]",
        "(f64[6,2], f64[4,2], f64[3,2])",
        "%a: f64[2,2] = slice %x {start = [0,0], limit = [2,2]}
         %b: f64[4,2] = slice %x {start = [2,0], limit = [6,2]}
         %c: f64[6,2] = concatenate %a, %b {axis = 0}
         %d: f64[1,2] = slice %x {start = [2,0], limit = [3,2]}
         %e: f64[3,2] = concatenate %a, %d {axis = 0}
         %f: f64[4,2] = concatenate %e, %y {axis = 0}
         %one: f64[3,2] = concatenate %e {axis = 0}
         %z: f64[] = const {value = 0.0}
         %p: f64[3,2] = pad %one, %z {low = [0,0], high = [0,0], interior = [0,0]}",
        "%c, %f, %p",
    );
    assert_eq!(
        body(&src),
        [
            "%e: f64[3,2] = slice %x {start = [0, 0], limit = [3, 2]}",
            "%f: f64[4,2] = concatenate %e, %y {axis = 0}",
            "return %x, %f, %e"
        ]
    );
}

#[test]
fn transposes_fold_into_dot_general() {
    let src = func(
        "%a: f64[3,4], %b: f64[5,4], %v: f64[3]",
        "(f64[3,5], f64[5,3], f64[4])",
        "%bt: f64[4,5] = transpose %b {perm = [1,0]}
         %ab: f64[3,5] = dot_general %a, %bt {lhs_contract = [1], rhs_contract = [0]}
         %ba: f64[5,3] = transpose %ab {perm = [1,0]}
         %at: f64[4,3] = transpose %a {perm = [1,0]}
         %w: f64[4] = dot_general %at, %v {lhs_contract = [1], rhs_contract = [0]}",
        "%ab, %ba, %w",
    );
    assert_eq!(
        body(&src),
        [
            "%ab: f64[3,5] = dot_general %a, %b {lhs_contract = [1], rhs_contract = [1]}",
            "%ba: f64[5,3] = transpose %ab {perm = [1, 0]}",
            "%w: f64[4] = dot_general %a, %v {lhs_contract = [0], rhs_contract = [0]}",
            "return %ab, %ba, %w"
        ]
    );
}

#[test]
fn products_with_an_iota_identity_vanish() {
    let src = func(
        "%x: f64[4,3]",
        "(f64[4,3], f64[3,4])",
        "%i0: i32[3,3] = iota {dim = 0}
         %i1: i32[3,3] = iota {dim = 1}
         %eq: bool[3,3] = eq %i0, %i1
         %eye: f64[3,3] = convert %eq {dtype = f64}
         %p: f64[4,3] = dot_general %x, %eye {lhs_contract = [1], rhs_contract = [0]}
         %q: f64[3,4] = dot_general %eye, %x {lhs_contract = [1], rhs_contract = [1]}",
        "%p, %q",
    );
    assert_eq!(body(&src), ["%q: f64[3,4] = transpose %x {perm = [1, 0]}", "return %x, %q"]);
}

#[test]
fn products_with_a_reshaped_identity_basis_vanish() {
    // The jacfwd basis of a [2,3] parameter: eye(6) reshaped to [6,2,3].
    let eye: Vec<String> = (0..6)
        .map(|i| format!("[{}]", (0..6).map(|j| if i == j { "1.0" } else { "0.0" }).collect::<Vec<_>>().join(", ")))
        .collect();
    let src = func(
        "%x: f64[4,2,3]",
        "f64[4,6]",
        &format!(
            "%e: f64[6,6] = const {{value = [{}]}}
             %basis: f64[6,2,3] = reshape %e {{shape = [6,2,3]}}
             %p: f64[4,6] = dot_general %x, %basis {{lhs_contract = [1,2], rhs_contract = [1,2]}}",
            eye.join(", ")
        ),
        "%p",
    );
    assert_eq!(body(&src), ["%p: f64[4,6] = reshape %x {shape = [4, 6]}", "return %p"]);
}

#[test]
fn products_with_one_hot_and_splat_operands() {
    let src = func(
        "%x: f64[3,4]",
        "(f64[3], f64[3], f64[3,2], f64[3])",
        "%e: f64[4] = const {value = [0.0, 0.0, 1.0, 0.0]}
         %p: f64[3] = dot_general %x, %e {lhs_contract = [1], rhs_contract = [0]}
         %ones: f64[4] = const {value = 1.0}
         %s: f64[3] = dot_general %x, %ones {lhs_contract = [1], rhs_contract = [0]}
         %twos: f64[4,2] = const {value = 2.0}
         %t: f64[3,2] = dot_general %x, %twos {lhs_contract = [1], rhs_contract = [0]}
         %m: f64[4] = const {value = -1.0}
         %n: f64[3] = dot_general %x, %m {lhs_contract = [1], rhs_contract = [0]}",
        "%p, %s, %t, %n",
    );
    assert_eq!(
        body(&src),
        [
            "%0: f64[3,1] = slice %x {start = [0, 2], limit = [3, 3]}",
            "%p: f64[3] = reshape %0 {shape = [3]}",
            "%s: f64[3] = reduce_sum %x {axes = [1]}",
            "%1: f64[3] = const {value = 2.0}",
            "%2: f64[3] = mul %s, %1",
            "%t: f64[3,2] = broadcast_in_dim %2 {shape = [3, 2], dims = [0]}",
            "%n: f64[3] = neg %s",
            "return %p, %s, %t, %n"
        ]
    );
}

#[test]
fn dot_chains_reassociate_by_flops() {
    // (A·B)·v costs 2·n³ + 2·n²; A·(B·v) costs 4·n².
    let src = func(
        "%a: f64[8,8], %b: f64[8,8], %v: f64[8]",
        "f64[8]",
        "%ab: f64[8,8] = dot_general %a, %b {lhs_contract = [1], rhs_contract = [0]}
         %abv: f64[8] = dot_general %ab, %v {lhs_contract = [1], rhs_contract = [0]}",
        "%abv",
    );
    assert_eq!(
        body(&src),
        [
            "%0: f64[8] = dot_general %b, %v {lhs_contract = [1], rhs_contract = [0]}",
            "%abv: f64[8] = dot_general %a, %0 {lhs_contract = [1], rhs_contract = [0]}",
            "return %abv"
        ]
    );
    let off = SimplifyOptions { reassociate: false, ..SimplifyOptions::default() };
    assert_eq!(body_with(&src, &off).len(), 3);
    // v·(A·B) → (v·A)·B
    let src = func(
        "%a: f64[8,8], %b: f64[8,8], %v: f64[8]",
        "f64[8]",
        "%ab: f64[8,8] = dot_general %a, %b {lhs_contract = [1], rhs_contract = [0]}
         %vab: f64[8] = dot_general %v, %ab {lhs_contract = [0], rhs_contract = [0]}",
        "%vab",
    );
    assert_eq!(
        body(&src),
        [
            "%0: f64[8] = dot_general %v, %a {lhs_contract = [0], rhs_contract = [0]}",
            "%vab: f64[8] = dot_general %0, %b {lhs_contract = [0], rhs_contract = [0]}",
            "return %vab"
        ]
    );
}

#[test]
fn takes_of_runs_are_slices_and_segment_sums_of_iotas_are_pads() {
    let src = func(
        "%x: f64[4,3]",
        "(f64[4,3], f64[2,3], f64[3], f64[6,3])",
        "%i: i64[4] = iota {dim = 0}
         %a: f64[4,3] = take %x, %i {axis = 0}
         %j: i32[2] = iota {dim = 0}
         %b: f64[2,3] = take %x, %j {axis = 0}
         %k: i64[] = const {value = 2}
         %c: f64[3] = take %x, %k {axis = 0}
         %d: f64[6,3] = segment_sum %x, %i {num_segments = 6}",
        "%a, %b, %c, %d",
    );
    assert_eq!(
        body(&src),
        [
            "%b: f64[2,3] = slice %x {start = [0, 0], limit = [2, 3]}",
            "%0: f64[1,3] = slice %x {start = [2, 0], limit = [3, 3]}",
            "%c: f64[3] = reshape %0 {shape = [3]}",
            "%1: f64[] = const {value = 0.0}",
            "%d: f64[6,3] = pad %x, %1 {low = [0, 0], high = [2, 0]}",
            "return %x, %b, %c, %d"
        ]
    );
}

#[test]
fn dead_code_goes_and_shared_values_are_computed_once() {
    let src = func(
        "%x: f64[3]",
        "(f64[3], f64[3])",
        "%dead: f64[3] = sin %x
         %a: f64[3] = exp %x
         %b: f64[3] = exp %x
         %c: f64[3] = mul %a, %b
         %d: f64[3] = add %c, %a",
        "%c, %d",
    );
    assert_eq!(
        body(&src),
        ["%a: f64[3] = exp %x", "%c: f64[3] = mul %a, %a", "%d: f64[3] = add %c, %a", "return %c, %d"]
    );
}

#[test]
fn deep_sharing_extracts_as_a_dag() {
    // x_{i+1} = x_i · x_{i-1}: a tree of this DAG has Fibonacci(400) nodes.
    let mut stmts = String::from("%v1: f64[2] = exp %x\n");
    for i in 2..400 {
        let prev2 = if i == 2 { "%x".to_string() } else { format!("%v{}", i - 2) };
        stmts.push_str(&format!("%v{i}: f64[2] = mul %v{}, {prev2}\n", i - 1));
    }
    let src = func("%x: f64[2]", "f64[2]", &stmts, "%v399");
    let (f, g, r) = run(&src, &SimplifyOptions::default());
    assert_eq!(g.insts().len(), f.insts().len());
    assert!(r.limit_hit.is_none());
}

#[test]
fn hitting_a_limit_is_reported_not_an_error() {
    let src = func(
        "%x: f64[3]",
        "f64[3]",
        "%one: f64[3] = const {value = 1.0}
         %a: f64[3] = mul %x, %one
         %b: f64[3] = mul %a, %one
         %t: f64[3] = transpose %b {perm = [0]}",
        "%t",
    );
    let f = parse_func("t.sir", &src).unwrap();
    let opts = SimplifyOptions { iter_limit: 1, ..SimplifyOptions::default() };
    let (g, r) = simplify(&f, &opts).unwrap();
    assert_eq!(r.limit_hit, Some(Limit::Iterations));
    assert_eq!(r.warnings().len(), 1);
    assert!(r.to_string().contains("stopped at the iteration limit"), "{r}");
    verify(&g).unwrap();
    same_values(&f, &g, 3);
    let opts = SimplifyOptions { node_limit: 1, node_limit_per_value: 0, ..SimplifyOptions::default() };
    let (g, r) = simplify(&f, &opts).unwrap();
    assert_eq!(r.limit_hit, Some(Limit::Nodes));
    same_values(&f, &g, 3);
    let opts = SimplifyOptions { time_limit: Duration::ZERO, ..SimplifyOptions::default() };
    let (_, r) = simplify(&f, &opts).unwrap();
    assert_eq!(r.limit_hit, Some(Limit::Time));
}

#[test]
fn report_counts_ops_and_flops() {
    let src = func(
        "%a: f64[4,3]",
        "f64[4,3]",
        "%i0: i32[3,3] = iota {dim = 0}
         %i1: i32[3,3] = iota {dim = 1}
         %eq: bool[3,3] = eq %i0, %i1
         %eye: f64[3,3] = convert %eq {dtype = f64}
         %p: f64[4,3] = dot_general %a, %eye {lhs_contract = [1], rhs_contract = [0]}",
        "%p",
    );
    let (_, _, r) = run(&src, &SimplifyOptions::default());
    assert_eq!((r.before.ops, r.after.ops), (5, 0));
    assert_eq!(r.before.cost.flops, 2.0 * 4.0 * 3.0 * 3.0 + 9.0 + 9.0 + 9.0);
    assert_eq!(r.after.cost.flops, 0.0);
    assert!(r.rules_applied.iter().any(|(n, k)| n == "dot-delta" && *k > 0));
    assert!(!r.kept_input);
}

#[test]
fn invalid_input_is_an_error() {
    let f = Func::from_raw_parts("f", 1, vec![TensorType::f64([2])], vec![], vec![Value::from_index(3)]);
    assert!(matches!(simplify(&f, &SimplifyOptions::default()), Err(Error::Verify(_))));
}

use crate::Value;

/// A deliberately unsound rule: claims `neg x` equals a scalar zero.
fn unsound(cx: &mut rules::Ctx<'_>, _: &crate::Op, _: &[egg::Id], out: &mut Vec<egg::Id>) {
    out.push(cx.splat_const(DType::F64, 0.0, &[]));
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "unsound rewrite: a rule merged e-classes of different types: f64[3] and f64[]")]
fn a_rule_merging_different_types_fails_loudly() {
    let f = parse_func("t.sir", &func("%x: f64[3]", "f64[3]", "%n: f64[3] = neg %x", "%n")).unwrap();
    let rule = Rule::exact("unsound", "neg", unsound);
    let _ = simplify_with(&f, &SimplifyOptions::default(), &[rule]);
}

#[test]
#[cfg(not(debug_assertions))]
fn a_rule_merging_different_types_is_an_error() {
    let f = parse_func("t.sir", &func("%x: f64[3]", "f64[3]", "%n: f64[3] = neg %x", "%n")).unwrap();
    let rule = Rule::exact("unsound", "neg", unsound);
    let e = simplify_with(&f, &SimplifyOptions::default(), &[rule]).unwrap_err();
    assert!(e.to_string().contains("unsound rewrite"), "{e}");
}

#[test]
fn random_functions_keep_their_values_and_simplify_idempotently() {
    let opts = GenOptions { special_floats: false, ..GenOptions::default() };
    for seed in 0..300 {
        let f = random_func(seed, &opts);
        let (g, r) = simplify(&f, &SimplifyOptions::default()).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        verify(&g).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{}", print_func(&g)));
        assert!(weight(&r.after) <= weight(&r.before) * (1.0 + 1e-12), "seed {seed}: dearer");
        for k in 0..2 {
            same_values(&f, &g, seed * 7 + k);
        }
        let (h, _) = simplify(&g, &SimplifyOptions::default()).unwrap();
        assert_eq!(print_func(&h), print_func(&g), "seed {seed}: not idempotent\ninput:\n{}", print_func(&f));
    }
}

#[test]
fn random_functions_with_special_constants_stay_valid() {
    for seed in 0..200 {
        let f = random_func(seed, &GenOptions::default());
        let (g, _) = simplify(&f, &SimplifyOptions::default()).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        verify(&g).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{}", print_func(&g)));
    }
}

#[test]
fn nothing_to_rewrite_keeps_the_input_without_extraction() {
    let src = func(
        "%x: f64[3], %y: f64[3]",
        "f64[3]",
        "%a: f64[3] = exp %x
         %b: f64[3] = mul %a, %y
         %c: f64[3] = tanh %b",
        "%c",
    );
    let (f, g, r) = run(&src, &SimplifyOptions::default());
    assert_eq!(print_func(&g), print_func(&f));
    assert!(r.kept_input && r.rules_applied.is_empty() && r.limit_hit.is_none(), "{r}");
    assert_eq!((r.egraph_nodes, r.egraph_classes), (5, 5));
}

#[test]
fn constants_fold_even_when_no_rule_fires() {
    // Folding happens in the e-class analysis, not in a rule: the shortcut
    // for an unchanged e-graph must not skip it.
    let src = func(
        "%x: f64[]",
        "f64[]",
        "%two: f64[] = const {value = 2.0}
         %three: f64[] = const {value = 3.0}
         %five: f64[] = add %two, %three
         %y: f64[] = max %x, %five",
        "%y",
    );
    assert_eq!(body(&src), ["%five: f64[] = const {value = 5.0}", "%y: f64[] = max %x, %five", "return %y"]);
}

#[test]
fn cse_merges_commuted_operands() {
    let src = func(
        "%x: f64[2], %y: f64[2]",
        "f64[2]",
        "%a: f64[2] = add %x, %y
         %b: f64[2] = add %y, %x
         %c: f64[2] = sub %a, %b",
        "%c",
    );
    let mut f = parse_func("t.sir", &src).unwrap();
    assert!(crate::passes::cse(&mut f));
    assert_eq!(f.insts().len(), 2);
}

/// Whether saturating `f` (verified, cleaned) changes its e-graph, as the
/// e-graph finds it and as the probe predicts it.
fn changes(f: &Func, opts: &SimplifyOptions) -> (bool, bool) {
    let rules = enabled_rules(opts);
    let full = saturate_and_extract(f, opts, &rules, far_future()).unwrap();
    (!full.left_egraph_alone(f.num_values()), !probe::nothing_to_rewrite(f, &rules, opts))
}

#[test]
fn the_probe_agrees_with_the_egraph_on_random_functions() {
    let unsafe_math = SimplifyOptions { unsafe_math: true, ..SimplifyOptions::default() };
    let plain = SimplifyOptions { reassociate: false, ..SimplifyOptions::default() };
    let (mut kept, mut rewritten) = (0, 0);
    for seed in 0..300 {
        let gen_opts = GenOptions { max_insts: 4 + (seed as usize % 20), ..GenOptions::default() };
        let mut f = random_func(seed, &gen_opts);
        crate::passes::dce(&mut f);
        crate::passes::cse(&mut f);
        for opts in [&SimplifyOptions::default(), &unsafe_math, &plain] {
            let (egraph, probe) = changes(&f, opts);
            assert_eq!(probe, egraph, "seed {seed}: the e-graph changes: {egraph}\n{}", print_func(&f));
            if egraph { rewritten += 1 } else { kept += 1 }
        }
    }
    // Both answers occur, so the comparison says something.
    assert!(kept > 30 && rewritten > 30, "kept {kept}, rewritten {rewritten}");
}

#[test]
fn the_probe_sees_rules_folding_and_lean_code() {
    let opts = SimplifyOptions::default();
    let case = |params: &str, body: &str, ret: &str| {
        let f = parse_func("t.sir", &func(params, "f64[3]", body, ret)).unwrap();
        changes(&f, &opts)
    };
    // A rule returns another class (`x + 0 → x`).
    let zero = case("%x: f64[3]", "%z: f64[3] = const {value = 0.0}\n%y: f64[3] = add %x, %z", "%y");
    assert_eq!(zero, (true, true));
    // A rule builds a node the function lacks (`x + (-y) → x - y`).
    let neg = case("%x: f64[3], %y: f64[3]", "%n: f64[3] = neg %y\n%s: f64[3] = add %x, %n", "%s");
    assert_eq!(neg, (true, true));
    // The analysis folds a value to a constant.
    let fold =
        case("%x: f64[3]", "%a: f64[3] = const {value = 2.0}\n%b: f64[3] = exp %a\n%c: f64[3] = mul %x, %b", "%c");
    assert_eq!(fold, (true, true));
    // Nothing to do.
    let lean =
        case("%x: f64[3], %y: f64[3]", "%a: f64[3] = exp %x\n%b: f64[3] = mul %a, %y\n%c: f64[3] = tanh %b", "%c");
    assert_eq!(lean, (false, false));
}

/// Long chains of one op that the rules collapse (every kind of
/// [`chains::KINDS`]) saturate in a few iterations, with an e-graph linear
/// in the chain's length, and keep their values. Merging classes in the
/// middle of an iteration made these cubic (a 200-op `sub` chain took 10 s);
/// the random functions above are too short to show it.
#[test]
fn long_chains_of_every_kind_saturate_in_a_few_linear_iterations() {
    for kind in chains::KINDS {
        for n in [10, 1_000, 5_000] {
            let f = parse_func("c.sir", &chains::chain(kind, n)).unwrap_or_else(|e| panic!("{kind}: {e}"));
            let ops = f.insts().len();
            let (g, r) = simplify(&f, &SimplifyOptions::default()).unwrap();
            verify(&g).unwrap();
            assert_eq!(r.limit_hit, None, "{kind} {n}: {r}");
            assert!(r.iterations <= 8, "{kind} {n}: {r}");
            // Well under two nodes per op: a rule that adds a node per
            // link doubles the e-graph of a long chain, and at 100,000 ops
            // that reached the node limit before the chain could collapse.
            assert!(r.egraph_nodes <= ops + ops / 2 + 16, "{kind} {n}: {r}");
            assert!(g.insts().len() <= 1, "{kind} {n}: {}", print_func(&g));
            same_values(&f, &g, n as u64);
        }
    }
}

/// Large random functions stay within the limits too.
#[test]
fn large_random_functions_saturate_within_the_limits() {
    let opts = GenOptions { special_floats: false, max_insts: 3_000, ..GenOptions::default() };
    for seed in 0..4 {
        let f = random_func(seed, &opts);
        let (g, r) = simplify(&f, &SimplifyOptions::default()).unwrap();
        verify(&g).unwrap();
        assert_eq!(r.limit_hit, None, "seed {seed}: {r}");
        same_values(&f, &g, seed);
    }
}

/// A budget spent before the rules could finish leaves the function as it
/// came (dead code and duplicates aside), and says so.
#[test]
fn a_spent_time_budget_keeps_the_input_with_a_note() {
    for kind in chains::KINDS {
        let f = parse_func("c.sir", &chains::chain(kind, 2_000)).unwrap();
        let opts = SimplifyOptions { time_limit: Duration::from_nanos(1), ..SimplifyOptions::default() };
        let (g, r) = simplify(&f, &opts).unwrap();
        assert_eq!(r.limit_hit, Some(Limit::Time), "{kind}: {r}");
        assert!(r.kept_input, "{kind}: {r}");
        assert_eq!(print_func(&g), print_func(&f), "{kind}");
        assert_eq!(r.after, r.before);
        let w = r.warnings();
        assert_eq!(w, ["simplify: time budget of 1ns spent after 1 iterations; function left unsimplified"]);
    }
    // The same budget, unspent, simplifies.
    let f = parse_func("c.sir", &chains::chain("neg", 2_000)).unwrap();
    let (g, r) = simplify(&f, &SimplifyOptions::default()).unwrap();
    assert!(r.limit_hit.is_none() && r.warnings().is_empty() && g.insts().is_empty(), "{r}");
}

/// The node limit of a large input grows with it: a chain of 5,000 ops
/// saturates under a node limit of 1,000 (4 nodes per value are allowed),
/// and stops at it when the limit does not scale.
#[test]
fn the_node_limit_scales_with_the_input() {
    for kind in chains::KINDS {
        let f = parse_func("c.sir", &chains::chain(kind, 5_000)).unwrap();
        let opts = SimplifyOptions { node_limit: 1_000, ..SimplifyOptions::default() };
        let (g, r) = simplify(&f, &opts).unwrap();
        assert_eq!(r.limit_hit, None, "{kind}: {r}");
        assert!(g.insts().len() <= 1, "{kind}: {r}");
        let fixed = SimplifyOptions { node_limit_per_value: 0, ..opts };
        let (g, r) = simplify(&f, &fixed).unwrap();
        assert_eq!(r.limit_hit, Some(Limit::Nodes), "{kind}: {r}");
        verify(&g).unwrap();
    }
}

#[test]
fn formulas_as_written_become_the_stable_ops() {
    let src = func(
        "%x: f64[3], %s: f64[]",
        "(f64[3], f64[3], f64[3], f64[3], f64[3], f64[3])",
        "%one: f64[3] = const {value = 1.0}
         %m1: f64[3] = const {value = -1.0}
         %n: f64[3] = neg %x
         %e: f64[3] = exp %n
         %d: f64[3] = add %one, %e
         %sig: f64[3] = div %one, %d
         %ex: f64[3] = exp %x
         %p: f64[3] = add %ex, %one
         %soft: f64[3] = log %p
         %q: f64[3] = sub %one, %x
         %l1m: f64[3] = log %q
         %em: f64[3] = sub %ex, %one
         %em2: f64[3] = add %m1, %ex
         %r: f64[3] = add %x, %one
         %l1p: f64[3] = log %r",
        "%sig, %soft, %l1m, %em, %em2, %l1p",
    );
    assert_eq!(
        body(&src),
        [
            "%sig: f64[3] = logistic %x",
            "%ex: f64[3] = exp %x",
            "%soft: f64[3] = log1p %ex",
            "%n: f64[3] = neg %x",
            "%l1m: f64[3] = log1p %n",
            "%em: f64[3] = expm1 %x",
            "%l1p: f64[3] = log1p %x",
            "return %sig, %soft, %l1m, %em, %em, %l1p"
        ]
    );
    // Off, every op stays as written.
    let off = SimplifyOptions { stable_forms: false, ..SimplifyOptions::default() };
    assert_eq!(body_with(&src, &off).len(), 16);
}

#[test]
fn stable_forms_are_more_accurate_than_the_formulas() {
    // Where the written forms round their argument away, the ops keep it.
    let src = func(
        "%x: f64[]",
        "(f64[], f64[], f64[])",
        "%one: f64[] = const {value = 1.0}
         %ex: f64[] = exp %x
         %p: f64[] = add %ex, %one
         %soft: f64[] = log %p
         %em: f64[] = sub %ex, %one
         %r: f64[] = add %x, %one
         %l1p: f64[] = log %r",
        "%soft, %em, %l1p",
    );
    let f = parse_func("t.sir", &src).unwrap();
    let (g, _) = simplify(&f, &SimplifyOptions::default()).unwrap();
    let x = -40.0_f64;
    let at = |h: &Func, v: f64| eval_func(h, &[Array::scalar(Scalar::F64(v))]).unwrap();
    let (written, stable) = (at(&f, x), at(&g, x));
    let get = |r: &[Array], i: usize| r[i].scalars()[0].to_f64();
    // softplus(-40) = log1p(e^-40) ≈ e^-40, which the written form keeps
    // only to the rounding of 1 + e^-40 (it gives 0).
    assert_eq!(get(&written, 0), 0.0);
    assert!((get(&stable, 0) - (-40.0_f64).exp()).abs() <= 1e-16 * (-40.0_f64).exp());
    // expm1 and log1p at a tiny argument.
    let (written, stable) = (at(&f, 1e-12), at(&g, 1e-12));
    assert!((get(&stable, 1) - 1.0000000000005e-12).abs() < 1e-27);
    assert!((get(&written, 1) - 1.0000000000005e-12).abs() > 1e-17);
    assert!((get(&stable, 2) - 9.999999999995e-13).abs() < 1e-27);
    assert!((get(&written, 2) - 9.999999999995e-13).abs() > 1e-17);
}

#[test]
fn divisions_by_powers_of_two_become_exact_products() {
    let src = func(
        "%x: f64[4], %y: f32[4]",
        "(f64[4], f32[4], f64[4], f64[4])",
        "%h: f64[4] = const {value = 4.0}
         %a: f64[4] = div %x, %h
         %g: f32[4] = const {value = 0.5}
         %b: f32[4] = div %y, %g
         %t: f64[4] = const {value = 3.0}
         %c: f64[4] = div %x, %t
         %z: f64[4] = const {value = 1e-310}
         %d: f64[4] = div %x, %z",
        "%a, %b, %c, %d",
    );
    let lines = body(&src);
    assert!(
        lines.contains(&"%a: f64[4] = mul %x, %0".to_string())
            || lines.iter().any(|l| l.starts_with("%a: f64[4] = mul %x")),
        "{lines:?}"
    );
    assert!(lines.iter().any(|l| l.starts_with("%b: f32[4] = mul %y")), "{lines:?}");
    // 3 is not a power of two, 1e-310 is subnormal (its reciprocal overflows).
    assert!(lines.iter().any(|l| l.starts_with("%c: f64[4] = div %x")), "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("%d: f64[4] = div %x")), "{lines:?}");
    // The same bits, every input.
    let f = parse_func("t.sir", &src).unwrap();
    let (g, _) = simplify(&f, &SimplifyOptions::default()).unwrap();
    for v in [1.0, -3.7, 1e-308, 5e-324, f64::MAX, f64::INFINITY, f64::NAN, -0.0] {
        let xs = Array::F64(ndarray::ArrayD::from_elem(ndarray::IxDyn(&[4]), v));
        let ys = Array::F32(ndarray::ArrayD::from_elem(ndarray::IxDyn(&[4]), v as f32));
        let (a, b) = (eval_func(&f, &[xs.clone(), ys.clone()]).unwrap(), eval_func(&g, &[xs, ys]).unwrap());
        for (p, q) in a.iter().zip(&b) {
            let (p, q) = (p.scalars(), q.scalars());
            let same = p.iter().zip(&q).all(|(s, t)| s == t || s.to_f64().is_nan() && t.to_f64().is_nan());
            assert!(same, "{v}: {p:?} vs {q:?}");
        }
    }
}
