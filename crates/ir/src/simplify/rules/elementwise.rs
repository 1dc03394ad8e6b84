//! Rules rooted at elementwise ops: algebraic identities, and moving
//! elementwise work under broadcasts, transposes and reshapes so that it
//! runs on fewer elements or once instead of twice.

use egg::Id;

use super::{Ctx, Rule};
use crate::op::{Binary, Unary};
use crate::{DType, Literal, Op, Scalar};

const ELEMENTWISE: [&str; 36] = [
    "neg",
    "abs",
    "sign",
    "exp",
    "log",
    "log1p",
    "expm1",
    "sin",
    "cos",
    "tanh",
    "logistic",
    "sqrt",
    "rsqrt",
    "lgamma",
    "digamma",
    "erf",
    "polygamma",
    "integer_pow",
    "not",
    "add",
    "sub",
    "mul",
    "div",
    "pow",
    "max",
    "min",
    "and",
    "or",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "select",
    "convert",
];

pub(super) fn rules() -> Vec<Rule> {
    let mut r = vec![
        Rule::exact("add-zero", "add", add_zero),
        Rule::exact("add-neg", "add", add_neg),
        Rule::exact("sub-zero", "sub", sub_zero),
        Rule::exact("sub-neg", "sub", sub_neg),
        Rule::exact("mul-one", "mul", mul_one),
        Rule::exact("mul-neg-const", "mul", mul_neg_const),
        Rule::exact("neg-both", "mul", neg_both),
        Rule::exact("neg-both", "div", neg_both),
        Rule::exact("neg-both", "add", neg_both),
        Rule::exact("neg-both", "sub", neg_both),
        Rule::exact("div-one", "div", div_one),
        Rule::exact("neg-neg", "neg", neg_of),
        Rule::exact("abs-abs", "abs", abs_of),
        Rule::exact("not-not", "not", not_not),
        Rule::exact("and-const", "and", and_or),
        Rule::exact("or-const", "or", and_or),
        Rule::exact("max-same", "max", same_operands),
        Rule::exact("min-same", "min", same_operands),
        Rule::exact("select-const", "select", select),
        Rule::exact("integer-pow-trivial", "integer_pow", integer_pow),
        Rule::exact("convert-noop", "convert", convert),
        Rule::exact("stop-gradient-twice", "stop_gradient", stop_gradient),
        Rule::nan_unsafe("mul-zero", "mul", mul_zero),
        Rule::nan_unsafe("sub-self", "sub", sub_self),
        Rule::nan_unsafe("div-self", "div", div_self),
        Rule::nan_unsafe("exp-log", "exp", exp_log),
        Rule::nan_unsafe("log-exp", "log", log_exp),
        Rule::reassociate("mul-const-const", "mul", mul_const_const),
        Rule::reassociate("factor", "add", factor),
        Rule::reassociate("factor", "sub", factor),
        Rule::reassociate("factor-chain", "add", factor_chain),
        Rule::reassociate("factor-chain", "sub", factor_chain),
        Rule::reassociate("broadcast-reassociate", "mul", broadcast_reassociate),
        Rule::reassociate("broadcast-divide", "div", broadcast_divide),
        Rule::exact("neg-scaling", "neg", neg_scaling),
        Rule::exact("div-power-of-two", "div", div_power_of_two),
        Rule::accurate("logistic-written", "div", logistic_written),
        Rule::accurate("log1p-written", "log", log1p_written),
        Rule::accurate("expm1-written", "sub", expm1_written),
        Rule::accurate("expm1-written", "add", expm1_written),
    ];

    for root in ELEMENTWISE {
        r.push(Rule::exact("hoist-broadcast", root, hoist_broadcast));
        r.push(Rule::exact("hoist-transpose", root, hoist_transpose));
        r.push(Rule::exact("hoist-reshape", root, hoist_reshape));
    }
    r
}

/// `x / c → x · (1/c)` for a splat float `c = ±2^k` whose reciprocal is a
/// normal number: both sides are the correctly rounded value of the same
/// real number, so every bit is the same, and a product costs a fraction
/// of a division.
fn div_power_of_two(cx: &mut Ctx<'_>, _: &Op, a: &[Id], out: &mut Vec<Id>) {
    let exact = match cx.splat(a[1]) {
        Some(Scalar::F64(c)) => c.is_normal() && c.to_bits() << 12 == 0 && (1.0 / c).is_normal(),
        Some(Scalar::F32(c)) => c.is_normal() && c.to_bits() << 9 == 0 && (1.0 / c).is_normal(),
        _ => false,
    };
    if exact {
        let (dtype, c) = (cx.ty(a[1]).dtype, cx.splat(a[1]).expect("a splat").to_f64());
        let r = cx.splat_const(dtype, 1.0 / c, &cx.shape(a[1]));
        out.extend(cx.add(Op::Binary(Binary::Mul), &[a[0], r]));
    }
}

/// The operand `y` of `1 + y` or `y + 1` in class `id`, for every such
/// sum in it.
fn one_plus(cx: &Ctx<'_>, id: Id) -> smallvec::SmallVec<[Id; 1]> {
    let mut ys = smallvec::SmallVec::new();
    for (_, k) in cx.nodes(id, "add") {
        if cx.is_splat(k[0], 1.0) {
            ys.push(k[1]);
        } else if cx.is_splat(k[1], 1.0) {
            ys.push(k[0]);
        }
    }
    ys
}

/// `1 / (1 + exp(-x)) → logistic x`: the written form loses all accuracy
/// where `exp(-x)` overflows or `1 + exp(-x)` rounds, and costs four ops.
fn logistic_written(cx: &mut Ctx<'_>, _: &Op, a: &[Id], out: &mut Vec<Id>) {
    if !cx.is_splat(a[0], 1.0) {
        return;
    }
    for e in one_plus(cx, a[1]) {
        for (_, n) in cx.nodes(e, "exp") {
            for (_, x) in cx.nodes(n[0], "neg") {
                out.extend(cx.add(Op::Unary(Unary::Logistic), &[x[0]]));
            }
        }
    }
}

/// `log(1 + x) → log1p x` and `log(1 - x) → log1p(-x)`: exact where `x`
/// is tiny, where the written form rounds `x` away (so `log(1 + exp(x))`,
/// softplus as written, becomes `log1p(exp(x))`).
fn log1p_written(cx: &mut Ctx<'_>, _: &Op, a: &[Id], out: &mut Vec<Id>) {
    for y in one_plus(cx, a[0]) {
        out.extend(cx.add(Op::Unary(Unary::Log1p), &[y]));
    }
    for (_, k) in cx.nodes(a[0], "sub") {
        if cx.is_splat(k[0], 1.0) {
            let n = cx.add(Op::Unary(Unary::Neg), &[k[1]]);
            out.extend(n.and_then(|n| cx.add(Op::Unary(Unary::Log1p), &[n])));
        }
    }
}

/// `exp(x) - 1 → expm1 x` (and `exp(x) + (-1)`, `-1 + exp(x)`): exact near zero, where
/// the written form cancels.
fn expm1_written(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let pairs: &[(Id, Id)] = match op {
        Op::Binary(Binary::Sub) if cx.is_splat(a[1], 1.0) => &[(a[0], a[1])],
        Op::Binary(Binary::Add) => &[(a[0], a[1]), (a[1], a[0])],
        _ => &[],
    };
    for &(e, c) in pairs {
        if matches!(op, Op::Binary(Binary::Add)) && !cx.is_splat(c, -1.0) {
            continue;
        }
        for (_, x) in cx.nodes(e, "exp") {
            out.extend(cx.add(Op::Unary(Unary::Expm1), &[x[0]]));
        }
    }
}

/// `x + 0 → x` and `0 + x → x`. Exact except that `-0 + 0` is `+0`.
fn add_zero(cx: &mut Ctx<'_>, _: &Op, a: &[Id], out: &mut Vec<Id>) {
    if cx.is_splat(a[1], 0.0) {
        out.push(a[0]);
    }
    if cx.is_splat(a[0], 0.0) {
        out.push(a[1]);
    }
}

/// `x + (-y) → x - y`, `(-x) + y → y - x` (not for `x = 0`: `add-zero`
/// gives `-y` itself, and a `0 - y` per link would double a chain).
fn add_neg(cx: &mut Ctx<'_>, _: &Op, a: &[Id], out: &mut Vec<Id>) {
    if cx.is_splat(a[0], 0.0) || cx.is_splat(a[1], 0.0) {
        return;
    }
    for (_, n) in cx.nodes(a[1], "neg") {
        out.extend(cx.add(Op::Binary(Binary::Sub), &[a[0], n[0]]));
    }
    for (_, n) in cx.nodes(a[0], "neg") {
        out.extend(cx.add(Op::Binary(Binary::Sub), &[a[1], n[0]]));
    }
}

/// `x - 0 → x`, `0 - x → -x`.
fn sub_zero(cx: &mut Ctx<'_>, _: &Op, a: &[Id], out: &mut Vec<Id>) {
    if cx.is_splat(a[1], 0.0) {
        out.push(a[0]);
    }
    if cx.is_splat(a[0], 0.0) {
        negated(cx, a[1], out);
    }
}

/// The classes `y` that class `x` is the negation of, by its e-nodes:
/// `-y`, `0 - y`, `y · -1`, `-1 · y`, `y / -1` (each exact up to the sign
/// of a zero).
fn negations(cx: &Ctx<'_>, x: Id) -> smallvec::SmallVec<[Id; 2]> {
    let mut ys = smallvec::SmallVec::new();
    for (_, n) in cx.nodes(x, "neg") {
        ys.push(n[0]);
    }
    for (_, n) in cx.nodes(x, "sub") {
        if cx.is_splat(n[0], 0.0) {
            ys.push(n[1]);
        }
    }
    for (_, n) in cx.nodes(x, "mul") {
        for (y, c) in [(n[0], n[1]), (n[1], n[0])] {
            if cx.is_splat(c, -1.0) {
                ys.push(y);
            }
        }
    }
    for (_, n) in cx.nodes(x, "div") {
        if cx.is_splat(n[1], -1.0) {
            ys.push(n[0]);
        }
    }
    ys
}

/// `-x` for a `0 - x`, `x · -1` or `x / -1`: the class `y` when `x` is
/// already the negation of `y` (a union, no new e-node: on a chain of
/// negations, adding `-x` to every link doubled the e-graph before the
/// next iteration could collapse it), otherwise a new `neg x`.
fn negated(cx: &mut Ctx<'_>, x: Id, out: &mut Vec<Id>) {
    let ys = negations(cx, x);
    if ys.is_empty() {
        out.extend(cx.add(Op::Unary(Unary::Neg), &[x]));
    } else {
        out.extend(ys);
    }
}

/// `x - (-y) → x + y` (not for `x = 0`: `sub-zero` gives `y` itself).
fn sub_neg(cx: &mut Ctx<'_>, _: &Op, a: &[Id], out: &mut Vec<Id>) {
    if cx.is_splat(a[0], 0.0) {
        return;
    }
    for (_, n) in cx.nodes(a[1], "neg") {
        out.extend(cx.add(Op::Binary(Binary::Add), &[a[0], n[0]]));
    }
}

/// `x · 1 → x`, `x · -1 → -x` (either side).
fn mul_one(cx: &mut Ctx<'_>, _: &Op, a: &[Id], out: &mut Vec<Id>) {
    for (x, c) in [(a[0], a[1]), (a[1], a[0])] {
        if cx.is_splat(c, 1.0) {
            out.push(x);
        } else if cx.is_splat(c, -1.0) {
            negated(cx, x, out);
        }
    }
}

/// `(-x) · c → x · (-c)` for a constant `c`: one op fewer, exact.
fn mul_neg_const(cx: &mut Ctx<'_>, _: &Op, a: &[Id], out: &mut Vec<Id>) {
    for (x, c) in [(a[0], a[1]), (a[1], a[0])] {
        let Some(k) = cx.facts(c).konst.clone() else { continue };
        let Some(negated) = negate(&k) else { continue };
        for (_, n) in cx.nodes(x, "neg") {
            let nc = cx.constant(negated.clone());
            out.extend(cx.add(Op::Binary(Binary::Mul), &[n[0], nc]));
        }
    }
}

/// `(-a)·(-b) → a·b`, `(-a)/(-b) → a/b`, `(-a)+(-b) → -(a+b)`,
/// `(-a)-(-b) → b-a`: exact, since rounding to nearest is symmetric in
/// sign.
fn neg_both(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    for (_, l) in cx.nodes(a[0], "neg") {
        for (_, r) in cx.nodes(a[1], "neg") {
            let made = match op {
                Op::Binary(Binary::Mul | Binary::Div) => cx.add(op.clone(), &[l[0], r[0]]),
                Op::Binary(Binary::Add) => {
                    cx.add(op.clone(), &[l[0], r[0]]).and_then(|s| cx.add(Op::Unary(Unary::Neg), &[s]))
                }
                Op::Binary(Binary::Sub) => cx.add(op.clone(), &[r[0], l[0]]),
                _ => None,
            };
            out.extend(made);
        }
    }
}

fn negate(l: &Literal) -> Option<Literal> {
    let neg = |s: Scalar| match s {
        Scalar::F32(x) => Some(Scalar::F32(-x)),
        Scalar::F64(x) => Some(Scalar::F64(-x)),
        Scalar::I32(x) => x.checked_neg().map(Scalar::I32),
        Scalar::I64(x) => x.checked_neg().map(Scalar::I64),
        Scalar::Bool(_) => None,
    };
    match l {
        Literal::Splat { ty, value } => Some(Literal::Splat { ty: ty.clone(), value: neg(*value)? }),
        Literal::Dense(a) if a.len() <= 4096 => {
            let vals: Vec<Scalar> = a.scalars().into_iter().map(neg).collect::<Option<_>>()?;
            Some(Literal::dense(crate::Array::from_scalars(&a.ty(), &vals)?))
        }
        Literal::Dense(_) => None,
    }
}

/// `x / 1 → x`, `x / -1 → -x`.
fn div_one(cx: &mut Ctx<'_>, _: &Op, a: &[Id], out: &mut Vec<Id>) {
    if cx.is_splat(a[1], 1.0) {
        out.push(a[0]);
    } else if cx.is_splat(a[1], -1.0) {
        negated(cx, a[0], out);
    }
}

/// `-(-x) → x` (also `-(0 - x)`, `-(x · -1)`, `-(x / -1)`),
/// `-(a - b) → b - a`, `-(x · c) → x · (-c)` for a constant `c`.
fn neg_of(cx: &mut Ctx<'_>, _: &Op, a: &[Id], out: &mut Vec<Id>) {
    out.extend(negations(cx, a[0]));
    // `0 - b` and `x · -1` were negations above.
    for (_, n) in cx.nodes(a[0], "sub") {
        if !cx.is_splat(n[0], 0.0) {
            out.extend(cx.add(Op::Binary(Binary::Sub), &[n[1], n[0]]));
        }
    }
    for (_, n) in cx.nodes(a[0], "mul") {
        for (x, c) in [(n[0], n[1]), (n[1], n[0])] {
            if cx.is_splat(c, -1.0) {
                continue;
            }
            let Some(k) = cx.facts(c).konst.clone() else { continue };
            if let Some(negated) = negate(&k) {
                let nc = cx.constant(negated);
                out.extend(cx.add(Op::Binary(Binary::Mul), &[x, nc]));
            }
        }
    }
}

/// `|(|x|)| → |x|`, `|-x| → |x|`.
fn abs_of(cx: &mut Ctx<'_>, _: &Op, a: &[Id], out: &mut Vec<Id>) {
    if !cx.nodes(a[0], "abs").is_empty() {
        out.push(a[0]);
    }
    for (_, n) in cx.nodes(a[0], "neg") {
        out.extend(cx.add(Op::Unary(Unary::Abs), &[n[0]]));
    }
}

/// `not(not x) → x`.
fn not_not(cx: &mut Ctx<'_>, _: &Op, a: &[Id], out: &mut Vec<Id>) {
    for (_, n) in cx.nodes(a[0], "not") {
        out.push(n[0]);
    }
}

/// `x and true → x`, `x and false → false`, `x or false → x`,
/// `x or true → true`, `x and x → x`, `x or x → x`.
fn and_or(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let unit = matches!(op, Op::Binary(Binary::And));
    for (x, c) in [(a[0], a[1]), (a[1], a[0])] {
        if cx.is_bool(c, unit) {
            out.push(x);
        } else if cx.is_bool(c, !unit) {
            out.push(c);
        }
    }
    if cx.find(a[0]) == cx.find(a[1]) {
        out.push(a[0]);
    }
}

/// `max(x, x) → x`, `min(x, x) → x`.
fn same_operands(cx: &mut Ctx<'_>, _: &Op, a: &[Id], out: &mut Vec<Id>) {
    if cx.find(a[0]) == cx.find(a[1]) {
        out.push(a[0]);
    }
}

/// `select(true, a, b) → a`, `select(false, a, b) → b`,
/// `select(p, a, a) → a`, `select(not p, a, b) → select(p, b, a)`.
fn select(cx: &mut Ctx<'_>, _: &Op, a: &[Id], out: &mut Vec<Id>) {
    if cx.is_bool(a[0], true) {
        out.push(a[1]);
    } else if cx.is_bool(a[0], false) {
        out.push(a[2]);
    }
    if cx.find(a[1]) == cx.find(a[2]) {
        out.push(a[1]);
    }
    for (_, n) in cx.nodes(a[0], "not") {
        out.extend(cx.add(Op::Select, &[n[0], a[2], a[1]]));
    }
}

/// `x^1 → x`; `x^0 → 1` (also for NaN, as IEEE `pown` does).
fn integer_pow(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    match op {
        Op::Unary(Unary::IntegerPow { y: 1 }) => out.push(a[0]),
        Op::Unary(Unary::IntegerPow { y: 0 }) => {
            let ty = cx.ty(a[0]).clone();
            out.push(cx.splat_const(ty.dtype, 1.0, &ty.shape));
        }
        _ => {}
    }
}

/// `convert` to the operand's own dtype, and round trips through a wider
/// type (`f32 → f64 → f32`, `i32 → i64 → i32`, `i32 → f64 → i32`).
fn convert(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let Op::Convert { dtype } = op else { return };
    if cx.ty(a[0]).dtype == *dtype {
        out.push(a[0]);
    }
    for (inner, n) in cx.nodes(a[0], "convert") {
        let Op::Convert { dtype: mid } = inner else { continue };
        let src = cx.ty(n[0]).dtype;
        let widening = matches!(
            (src, mid),
            (DType::F32, DType::F64) | (DType::I32, DType::I64) | (DType::I32, DType::F64) | (DType::Bool, _)
        );
        if src == *dtype && widening {
            out.push(n[0]);
        }
    }
}

/// `stop_gradient(stop_gradient x) → stop_gradient x`.
fn stop_gradient(cx: &mut Ctx<'_>, _: &Op, a: &[Id], out: &mut Vec<Id>) {
    if !cx.nodes(a[0], "stop_gradient").is_empty() {
        out.push(a[0]);
    }
}

/// `x · 0 → 0` (NaN-unsafe: `∞ · 0` is NaN).
fn mul_zero(cx: &mut Ctx<'_>, _: &Op, a: &[Id], out: &mut Vec<Id>) {
    for c in [a[0], a[1]] {
        if cx.is_splat(c, 0.0) {
            let ty = cx.ty(c).clone();
            out.push(cx.splat_const(ty.dtype, 0.0, &ty.shape));
        }
    }
}

/// `x - x → 0` (NaN-unsafe: `∞ - ∞` is NaN).
fn sub_self(cx: &mut Ctx<'_>, _: &Op, a: &[Id], out: &mut Vec<Id>) {
    if cx.find(a[0]) == cx.find(a[1]) {
        let ty = cx.ty(a[0]).clone();
        out.push(cx.splat_const(ty.dtype, 0.0, &ty.shape));
    }
}

/// `x / x → 1` (NaN-unsafe: `0 / 0` is NaN), floats only.
fn div_self(cx: &mut Ctx<'_>, _: &Op, a: &[Id], out: &mut Vec<Id>) {
    let ty = cx.ty(a[0]).clone();
    if ty.dtype.is_float() && cx.find(a[0]) == cx.find(a[1]) {
        out.push(cx.splat_const(ty.dtype, 1.0, &ty.shape));
    }
}

/// `exp(log x) → x` (NaN-unsafe: wrong for `x < 0`, rounds differently).
fn exp_log(cx: &mut Ctx<'_>, _: &Op, a: &[Id], out: &mut Vec<Id>) {
    for (_, n) in cx.nodes(a[0], "log") {
        out.push(n[0]);
    }
}

/// `log(exp x) → x` (NaN-unsafe: wrong where `exp x` overflows).
fn log_exp(cx: &mut Ctx<'_>, _: &Op, a: &[Id], out: &mut Vec<Id>) {
    for (_, n) in cx.nodes(a[0], "exp") {
        out.push(n[0]);
    }
}

/// `(x · c1) · c2 → x · (c1 c2)` for splat constants (re-association:
/// rounds differently, and `x · c1` may overflow where `x · (c1 c2)` does
/// not).
fn mul_const_const(cx: &mut Ctx<'_>, _: &Op, a: &[Id], out: &mut Vec<Id>) {
    for (inner, c2) in [(a[0], a[1]), (a[1], a[0])] {
        let Some(k2) = cx.splat(c2) else { continue };
        for (_, n) in cx.nodes(inner, "mul") {
            for (x, c1) in [(n[0], n[1]), (n[1], n[0])] {
                let Some(k1) = cx.splat(c1) else { continue };
                let Some(v) = super::super::fold::fold(
                    &Op::Binary(Binary::Mul),
                    &[&Literal::splat(k1, []), &Literal::splat(k2, [])],
                    &crate::TensorType::scalar(k1.dtype()),
                    1,
                ) else {
                    continue;
                };
                let Some(s) = v.uniform_value() else { continue };
                let shape = cx.shape(x);
                let c = cx.constant(Literal::splat(s, shape));
                out.extend(cx.add(Op::Binary(Binary::Mul), &[x, c]));
            }
        }
    }
}

/// The operands of an elementwise op rebuilt on the sources of one layout
/// op shared by all non-constant operands; splat constants are re-shaped.
fn hoist(
    cx: &mut Ctx<'_>,
    a: &[Id],
    layout: &str,
    min_hoisted: usize,
    mut smaller: impl FnMut(&Ctx<'_>, Id, Id) -> bool,
) -> Option<(Op, Vec<Id>)> {
    // Most operands are neither splats nor layout ops: leave before
    // allocating anything.
    if a.iter().any(|&x| cx.splat(x).is_none() && !cx.has(x, layout)) {
        return None;
    }
    let mut key: Option<Op> = None;
    let mut src_shape: Option<Vec<usize>> = None;
    let mut srcs: Vec<Option<Id>> = Vec::with_capacity(a.len());
    let mut hoisted = 0;
    for &x in a {
        if cx.splat(x).is_some() {
            srcs.push(None);
            continue;
        }
        let cand = cx.nodes(x, layout).into_iter().find(|(lop, n)| {
            key.as_ref().is_none_or(|k| k == lop)
                && src_shape.as_ref().is_none_or(|s| *s == cx.ty(n[0]).shape)
                && smaller(cx, n[0], x)
        })?;
        src_shape.get_or_insert_with(|| cx.ty(cand.1[0]).shape.to_vec());
        key.get_or_insert(cand.0);
        srcs.push(Some(cand.1[0]));
        hoisted += 1;
    }
    if hoisted < min_hoisted {
        return None;
    }
    let (key, shape) = (key?, src_shape?);
    let args = a
        .iter()
        .zip(srcs)
        .map(|(&x, s)| match s {
            Some(s) => s,
            None => {
                let v = cx.splat(x).expect("non-hoisted operands are splats");
                cx.constant(Literal::splat(v, shape.clone()))
            }
        })
        .collect();
    Some((key, args))
}

/// `f(broadcast x, broadcast y, c) → broadcast f(x, y, c)`: the op runs on
/// the smaller, un-broadcast operands.
fn hoist_broadcast(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let smaller = |cx: &Ctx<'_>, src: Id, x: Id| cx.ty(src).num_elements() < cx.ty(x).num_elements();
    let Some((Op::BroadcastInDim { shape, dims }, args)) = hoist(cx, a, "broadcast_in_dim", 1, smaller) else {
        return;
    };
    if let Some(inner) = cx.add(op.clone(), &args) {
        out.extend(cx.add(Op::BroadcastInDim { shape, dims }, &[inner]));
    }
}

/// `f(transpose(x, p), transpose(y, p)) → transpose(f(x, y), p)`: one
/// transpose instead of two.
fn hoist_transpose(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let Some((key @ Op::Transpose { .. }, args)) = hoist(cx, a, "transpose", 1, |_, _, _| true) else { return };
    if let Some(inner) = cx.add(op.clone(), &args) {
        out.extend(cx.add(key, &[inner]));
    }
}

/// `f(reshape x, reshape y) → reshape f(x, y)`.
fn hoist_reshape(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let Some((key @ Op::Reshape { .. }, args)) = hoist(cx, a, "reshape", 1, |_, _, _| true) else { return };
    if let Some(inner) = cx.add(op.clone(), &args) {
        out.extend(cx.add(key, &[inner]));
    }
}

/// `x·a ± x·b → x·(a ± b)` when `a` and `b` are constant along the same
/// broadcast axes (splats, or broadcasts from one shape), so that `a ± b`
/// runs on the small tensor: one full-size multiplication fewer
/// (re-association class: rounds differently). Restricting `a` and `b` so
/// keeps distribution from growing the e-graph without bound.
fn factor(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let (left, right) = (cx.nodes(a[0], "mul"), cx.nodes(a[1], "mul"));
    for (_, m1) in &left {
        for (_, m2) in &right {
            for i in 0..2 {
                for j in 0..2 {
                    let (x, p, q) = (m1[i], m1[1 - i], m2[1 - j]);
                    if cx.find(x) != cx.find(m2[j]) || is_scaled(cx, x) || !scalings(cx, p, q) {
                        continue;
                    }
                    if let Some(s) = cx.add(op.clone(), &[p, q]) {
                        out.extend(cx.add(Op::Binary(Binary::Mul), &[x, s]));
                    }
                }
            }
        }
    }
}

/// `(q ± x·a) ± x·b → q ± x·(±a ± b)` (and the other orders and signs)
/// for scalings `a`, `b` along the same broadcast axes: a sum that adds
/// scaled copies of `x` one after the other (a Hessian's diagonal terms,
/// each `I·bcast v`) scales `x` once. Re-association class.
fn factor_chain(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let outer_sub = matches!(op, Op::Binary(Binary::Sub));
    for (pi, ti) in [(0, 1), (1, 0)] {
        let (p, t) = (a[pi], a[ti]);
        // Signs (true: negative) of the outer term `t` and the inner sum `p`.
        let (st, sp) = (outer_sub && ti == 1, outer_sub && pi == 1);
        let tm = cx.nodes(t, "mul");
        if tm.is_empty() {
            continue;
        }
        for (inner, inner_sub) in [("add", false), ("sub", true)] {
            for (_, n) in cx.nodes(p, inner) {
                for (k, kq) in [(0, 1), (1, 0)] {
                    let (u, q) = (n[k], n[kq]);
                    let su = sp ^ (inner_sub && k == 1);
                    let sq = sp ^ (inner_sub && kq == 1);
                    for (_, um) in cx.nodes(u, "mul") {
                        for (_, tmm) in &tm {
                            for i in 0..2 {
                                for j in 0..2 {
                                    let (x, sa, sb) = (um[i], um[1 - i], tmm[1 - j]);
                                    if cx.find(x) != cx.find(tmm[j]) || is_scaled(cx, x) || !scalings(cx, sa, sb) {
                                        continue;
                                    }
                                    if let Some(r) = chain_term(cx, x, (su, sa), (st, sb), (sq, q)) {
                                        // One factored form per sum: every
                                        // grouping of a long chain would
                                        // grow the e-graph exponentially.
                                        out.push(r);
                                        return;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `±q ± x·a ± x·b` as `q ± x·c` (or `x·c - q`), `c` the signed sum of the
/// scalings; `None` when both `q` and `x·c` would be negative.
fn chain_term(cx: &mut Ctx<'_>, x: Id, (su, sa): (bool, Id), (st, sb): (bool, Id), (sq, q): (bool, Id)) -> Option<Id> {
    let (add, sub, mul) = (Op::Binary(Binary::Add), Op::Binary(Binary::Sub), Op::Binary(Binary::Mul));
    let (negative, c) = match (su, st) {
        (false, false) => (false, cx.add(add.clone(), &[sa, sb])?),
        (false, true) => (false, cx.add(sub.clone(), &[sa, sb])?),
        (true, false) => (false, cx.add(sub.clone(), &[sb, sa])?),
        (true, true) => (true, cx.add(add.clone(), &[sa, sb])?),
    };
    let xc = cx.add(mul, &[x, c])?;
    match (sq, negative) {
        (false, false) => cx.add(add, &[q, xc]),
        (false, true) => cx.add(sub, &[q, xc]),
        (true, false) => cx.add(sub, &[xc, q]),
        (true, true) => None,
    }
}

/// Whether `x` is a splat, or a product of something with a splat or a
/// smaller broadcast. The distribution rules only take unscaled values as
/// the common factor `x`: that keeps one factored form per pair of terms
/// instead of one per way of grouping a chain of scalings.
fn is_scaled(cx: &mut Ctx<'_>, x: Id) -> bool {
    if cx.splat(x).is_some() {
        return true;
    }
    cx.nodes(x, "mul").iter().any(|(_, n)| n.iter().any(|&k| is_scaling(cx, k)))
}

/// Whether `k` is a splat or a broadcast of a smaller tensor.
fn is_scaling(cx: &Ctx<'_>, k: Id) -> bool {
    cx.splat(k).is_some()
        || cx.nodes(k, "broadcast_in_dim").iter().any(|(_, n)| cx.ty(n[0]).num_elements() < cx.ty(k).num_elements())
}

/// Whether `p` and `q` are both splats, or broadcasts (or splats) of one
/// source shape along the same axes.
fn scalings(cx: &mut Ctx<'_>, p: Id, q: Id) -> bool {
    if cx.splat(p).is_some() && cx.splat(q).is_some() {
        return true;
    }
    for (b, other) in [(p, q), (q, p)] {
        if let Some((key, u)) = broadcast_source(cx, b, None, None) {
            let ushape = cx.shape(u);
            if cx.ty(u).num_elements() < cx.ty(b).num_elements()
                && broadcast_source(cx, other, Some(&key), Some(&ushape)).is_some()
            {
                return true;
            }
        }
    }
    false
}

/// The source of a broadcast (or a splat constant) that yields a value of
/// `shape`/`dims` from a source of `src` shape.
fn broadcast_source(cx: &mut Ctx<'_>, x: Id, key: Option<&Op>, src: Option<&[usize]>) -> Option<(Op, Id)> {
    if let (Some(k), Some(src), Some(v)) = (key, src, cx.splat(x)) {
        return Some((k.clone(), cx.constant(Literal::splat(v, src))));
    }
    cx.nodes(x, "broadcast_in_dim").into_iter().find_map(|(bop, n)| {
        let same_key = key.is_none_or(|k| *k == bop);
        let same_src = src.is_none_or(|s| cx.ty(n[0]).shape == s);
        (same_key && same_src).then_some((bop, n[0]))
    })
}

/// `(x ∘ broadcast u) ∘ broadcast v → x ∘ broadcast(u ∘ v)` for `∘` in
/// `+`, `·`: the constant-along-axes factors combine on the small tensor
/// (re-association class: rounds differently).
fn broadcast_reassociate(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    for (inner, outer) in [(a[0], a[1]), (a[1], a[0])] {
        let Some((key, v)) = broadcast_source(cx, outer, None, None) else { continue };
        let vshape = cx.shape(v);
        for (iop, n) in cx.nodes(inner, op.name()) {
            if iop != *op {
                continue;
            }
            for (x, b) in [(n[0], n[1]), (n[1], n[0])] {
                if *op == Op::Binary(Binary::Mul) && is_scaled(cx, x) {
                    continue;
                }
                let Some((_, u)) = broadcast_source(cx, b, Some(&key), Some(&vshape)) else { continue };
                let Some(uv) = cx.add(op.clone(), &[u, v]) else { continue };
                let Some(bc) = cx.add(key.clone(), &[uv]) else { continue };
                out.extend(cx.add(op.clone(), &[x, bc]));
            }
        }
    }
}

/// `(x · broadcast u) / broadcast v → x · broadcast(u / v)`: the division
/// runs on the small tensor (re-association class: `(x·u)/v` and
/// `x·(u/v)` round differently).
fn broadcast_divide(cx: &mut Ctx<'_>, _: &Op, a: &[Id], out: &mut Vec<Id>) {
    let Some((key, v)) = broadcast_source(cx, a[1], None, None) else { return };
    if cx.ty(v).num_elements() >= cx.ty(a[1]).num_elements() {
        return;
    }
    let vshape = cx.shape(v);
    for (_, n) in cx.nodes(a[0], "mul") {
        for (x, b) in [(n[0], n[1]), (n[1], n[0])] {
            if is_scaled(cx, x) {
                continue;
            }
            let Some((_, u)) = broadcast_source(cx, b, Some(&key), Some(&vshape)) else { continue };
            let Some(uv) = cx.add(Op::Binary(Binary::Div), &[u, v]) else { continue };
            let Some(bc) = cx.add(key.clone(), &[uv]) else { continue };
            out.extend(cx.add(Op::Binary(Binary::Mul), &[x, bc]));
        }
    }
}

/// `-(x · broadcast u) → x · broadcast(-u)`: the negation runs on the
/// small tensor; exact.
fn neg_scaling(cx: &mut Ctx<'_>, _: &Op, a: &[Id], out: &mut Vec<Id>) {
    for (_, n) in cx.nodes(a[0], "mul") {
        for (x, b) in [(n[0], n[1]), (n[1], n[0])] {
            for (bop, m) in cx.nodes(b, "broadcast_in_dim") {
                if cx.ty(m[0]).num_elements() >= cx.ty(b).num_elements() {
                    continue;
                }
                let Some(nu) = cx.add(Op::Unary(Unary::Neg), &[m[0]]) else { continue };
                let Some(bc) = cx.add(bop, &[nu]) else { continue };
                out.extend(cx.add(Op::Binary(Binary::Mul), &[x, bc]));
            }
        }
    }
}
