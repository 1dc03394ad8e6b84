//! Elementwise ops: one StableHLO op each, CHLO for the special functions
//! XLA decomposes itself (`lgamma`, `digamma`, `polygamma`, `erf`), and
//! square-and-multiply for `integer_pow`.

use saddle_ir::op::{Binary, Compare, Unary};
use saddle_ir::{Scalar, Value};

use crate::Error;
use crate::emit::{Emitter, comparison_type};

/// How a unary op lowers.
enum UnaryRule {
    /// `stablehlo.NAME %x : T`.
    Hlo(&'static str),
    /// `chlo.NAME %x : T -> T`.
    Chlo(&'static str),
    /// `chlo.polygamma %n, %x` with `n` a float tensor of x's type.
    Polygamma(u32),
    /// Square-and-multiply.
    IntegerPow(i32),
}

fn unary_rule(u: Unary) -> UnaryRule {
    match u {
        Unary::Neg => UnaryRule::Hlo("negate"),
        Unary::Abs => UnaryRule::Hlo("abs"),
        Unary::Sign => UnaryRule::Hlo("sign"),
        Unary::Exp => UnaryRule::Hlo("exponential"),
        Unary::Log => UnaryRule::Hlo("log"),
        Unary::Log1p => UnaryRule::Hlo("log_plus_one"),
        Unary::Expm1 => UnaryRule::Hlo("exponential_minus_one"),
        Unary::Sin => UnaryRule::Hlo("sine"),
        Unary::Cos => UnaryRule::Hlo("cosine"),
        Unary::Tanh => UnaryRule::Hlo("tanh"),
        Unary::Logistic => UnaryRule::Hlo("logistic"),
        Unary::Sqrt => UnaryRule::Hlo("sqrt"),
        Unary::Rsqrt => UnaryRule::Hlo("rsqrt"),
        Unary::Not => UnaryRule::Hlo("not"),
        Unary::Lgamma => UnaryRule::Chlo("lgamma"),
        Unary::Digamma => UnaryRule::Chlo("digamma"),
        Unary::Erf => UnaryRule::Chlo("erf"),
        Unary::Polygamma { n } => UnaryRule::Polygamma(n),
        Unary::IntegerPow { y } => UnaryRule::IntegerPow(y),
    }
}

/// A one-operand elementwise op.
pub(crate) fn unary(em: &mut Emitter, u: Unary, x: Value) -> Result<(), Error> {
    let (out, t, xs) = (em.out(), em.out_ty(), em.arg(x));
    match unary_rule(u) {
        UnaryRule::Hlo(name) => em.line(format!("{out} = stablehlo.{name} {xs} : {t}")),
        UnaryRule::Chlo(name) => em.line(format!("{out} = chlo.{name} {xs} : {t} -> {t}")),
        UnaryRule::Polygamma(n) => {
            let ty = em.f.ty(x).clone();
            let order = em.splat_const(Scalar::from_f64(ty.dtype, f64::from(n)), &ty);
            em.line(format!("{out} = chlo.polygamma {order}, {xs} : {t}, {t} -> {t}"));
        }
        UnaryRule::IntegerPow(y) => integer_pow(em, x, y),
    }
    Ok(())
}

/// An operand of a step of [`integer_pow`]: `x` itself or an earlier step.
#[derive(Clone, Copy)]
enum Factor {
    X,
    Step(usize),
}

/// `x^y` by square-and-multiply (as XLA's own clients expand it), then one
/// division for a negative `y`.
fn integer_pow(em: &mut Emitter, x: Value, y: i32) {
    let ty = em.f.ty(x).clone();
    let (out, t) = (em.out(), em.out_ty());
    if y == 0 {
        em.line(format!("{out} = stablehlo.constant dense<{}> : {t}", crate::scalar_text(Scalar::one(ty.dtype))));
        return;
    }
    // Plan the multiplications first so that the last one can define `out`.
    let mut steps: Vec<(Factor, Factor)> = Vec::new();
    let mut acc: Option<Factor> = None;
    let mut base = Factor::X;
    let mut e = y.unsigned_abs();
    loop {
        if e & 1 == 1 {
            acc = Some(match acc {
                None => base,
                Some(a) => {
                    steps.push((a, base));
                    Factor::Step(steps.len() - 1)
                }
            });
        }
        e >>= 1;
        if e == 0 {
            break;
        }
        steps.push((base, base));
        base = Factor::Step(steps.len() - 1);
    }
    // The loop stops at the highest bit of `y`, so the result is `x` itself
    // (y = ±1) or the last step.
    let result = acc.unwrap_or(Factor::X);
    let mut names: Vec<String> = Vec::with_capacity(steps.len());
    let xs = em.arg(x);
    let last = steps.len().checked_sub(1);
    for (i, &(l, r)) in steps.iter().enumerate() {
        let name = if y > 0 && Some(i) == last { out.clone() } else { em.helper() };
        let text = |f: Factor| match f {
            Factor::X => xs.clone(),
            Factor::Step(j) => names[j].clone(),
        };
        let line = format!("{name} = stablehlo.multiply {}, {} : {t}", text(l), text(r));
        em.line(line);
        names.push(name);
    }
    let power = match result {
        Factor::X => xs,
        Factor::Step(j) => names[j].clone(),
    };
    if y < 0 {
        let one = em.splat_const(Scalar::one(ty.dtype), &ty);
        em.line(format!("{out} = stablehlo.divide {one}, {power} : {t}"));
    } else if steps.is_empty() {
        em.alias(x);
    }
}

fn binary_name(b: Binary) -> &'static str {
    match b {
        Binary::Add => "add",
        Binary::Sub => "subtract",
        Binary::Mul => "multiply",
        Binary::Div => "divide",
        Binary::Pow => "power",
        Binary::Max => "maximum",
        Binary::Min => "minimum",
        Binary::And => "and",
        Binary::Or => "or",
    }
}

/// A two-operand elementwise op.
pub(crate) fn binary(em: &mut Emitter, b: Binary, x: Value, y: Value) -> Result<(), Error> {
    let line = format!("{} = stablehlo.{} {}, {} : {}", em.out(), binary_name(b), em.arg(x), em.arg(y), em.out_ty());
    em.line(line);
    Ok(())
}

fn direction(c: Compare) -> &'static str {
    match c {
        Compare::Eq => "EQ",
        Compare::Ne => "NE",
        Compare::Lt => "LT",
        Compare::Le => "LE",
        Compare::Gt => "GT",
        Compare::Ge => "GE",
    }
}

/// A comparison.
pub(crate) fn compare(em: &mut Emitter, c: Compare, x: Value, y: Value) -> Result<(), Error> {
    let (xt, kind) = (em.ty(x), comparison_type(em.f.ty(x).dtype));
    let line = format!(
        "{} = stablehlo.compare {}, {}, {}, {kind} : ({xt}, {xt}) -> {}",
        em.out(),
        direction(c),
        em.arg(x),
        em.arg(y),
        em.out_ty()
    );
    em.line(line);
    Ok(())
}

/// `select pred, on_true, on_false`.
pub(crate) fn select(em: &mut Emitter, pred: Value, on_true: Value, on_false: Value) -> Result<(), Error> {
    let line = format!(
        "{} = stablehlo.select {}, {}, {} : {}, {}",
        em.out(),
        em.arg(pred),
        em.arg(on_true),
        em.arg(on_false),
        em.ty(pred),
        em.out_ty()
    );
    em.line(line);
    Ok(())
}

/// `convert`: nothing when the dtype does not change.
pub(crate) fn convert(em: &mut Emitter, x: Value) -> Result<(), Error> {
    if em.f.ty(x) == em.f.ty(em.current()) {
        em.alias(x);
    } else {
        let line = format!("{} = stablehlo.convert {} : ({}) -> {}", em.out(), em.arg(x), em.ty(x), em.out_ty());
        em.line(line);
    }
    Ok(())
}

/// `stop_gradient`: the value itself (XLA programs are not differentiated
/// after lowering).
pub(crate) fn stop_gradient(em: &mut Emitter, x: Value) -> Result<(), Error> {
    em.alias(x);
    Ok(())
}
