//! Folding of elementwise ops, one scalar at a time, with the runtime's
//! definitions ([`crate::math`]), so a folded constant has the bits the
//! runtime would compute.

use crate::math::Real;
use crate::op::{Binary, Compare, Unary};
use crate::{DType, Scalar};

/// A float unary op on one element: [`Real`]'s definition, which the
/// runtime calls too.
fn float_unary<T: Real>(u: Unary, x: T) -> Option<T> {
    Some(match u {
        Unary::Neg => -x,
        Unary::Abs => x.abs(),
        Unary::Sign => x.sign(),
        Unary::Exp => x.exp(),
        Unary::Log => x.ln(),
        Unary::Log1p => x.ln_1p(),
        Unary::Expm1 => x.exp_m1(),
        Unary::Sin => x.sin(),
        Unary::Cos => x.cos(),
        Unary::Tanh => x.tanh(),
        Unary::Logistic => x.logistic(),
        Unary::Sqrt => x.sqrt(),
        Unary::Rsqrt => x.rsqrt(),
        Unary::Lgamma => x.lgamma(),
        Unary::Digamma => x.digamma(),
        Unary::Erf => x.erf(),
        Unary::Polygamma { n } => x.polygamma(n),
        Unary::IntegerPow { y } => x.powi(y),
        Unary::Not => return None,
    })
}

macro_rules! int_unary {
    ($u:expr, $x:expr) => {{
        let x = $x;
        match $u {
            Unary::Neg => x.checked_neg(),
            Unary::Abs => x.checked_abs(),
            Unary::Sign => Some(x.signum()),
            Unary::IntegerPow { y } => u32::try_from(y).ok().and_then(|y| x.checked_pow(y)),
            Unary::Exp
            | Unary::Log
            | Unary::Log1p
            | Unary::Expm1
            | Unary::Sin
            | Unary::Cos
            | Unary::Tanh
            | Unary::Logistic
            | Unary::Sqrt
            | Unary::Rsqrt
            | Unary::Lgamma
            | Unary::Digamma
            | Unary::Erf
            | Unary::Polygamma { .. }
            | Unary::Not => None,
        }
    }};
}

/// A unary op on one element.
pub(super) fn unary(u: Unary, x: Scalar) -> Option<Scalar> {
    match x {
        Scalar::F32(x) => float_unary(u, x).map(Scalar::F32),
        Scalar::F64(x) => float_unary(u, x).map(Scalar::F64),
        Scalar::I32(x) => int_unary!(u, x).map(Scalar::I32),
        Scalar::I64(x) => int_unary!(u, x).map(Scalar::I64),
        Scalar::Bool(x) => matches!(u, Unary::Not).then_some(Scalar::Bool(!x)),
    }
}

/// A float binary op on two elements, as the runtime computes it.
fn float_binary<T: Real>(b: Binary, x: T, y: T) -> Option<T> {
    Some(match b {
        Binary::Add => x + y,
        Binary::Sub => x - y,
        Binary::Mul => x * y,
        Binary::Div => x / y,
        Binary::Pow => x.pow(y),
        Binary::Max => Real::max(x, y),
        Binary::Min => Real::min(x, y),
        Binary::And | Binary::Or => return None,
    })
}

macro_rules! int_binary {
    ($b:expr, $x:expr, $y:expr) => {{
        let (x, y) = ($x, $y);
        match $b {
            Binary::Add => x.checked_add(y),
            Binary::Sub => x.checked_sub(y),
            Binary::Mul => x.checked_mul(y),
            Binary::Div => x.checked_div(y),
            Binary::Max => Some(x.max(y)),
            Binary::Min => Some(x.min(y)),
            Binary::Pow | Binary::And | Binary::Or => None,
        }
    }};
}

/// A binary op on two elements of one dtype.
pub(super) fn binary(b: Binary, x: Scalar, y: Scalar) -> Option<Scalar> {
    match (x, y) {
        (Scalar::F32(x), Scalar::F32(y)) => float_binary(b, x, y).map(Scalar::F32),
        (Scalar::F64(x), Scalar::F64(y)) => float_binary(b, x, y).map(Scalar::F64),
        (Scalar::I32(x), Scalar::I32(y)) => int_binary!(b, x, y).map(Scalar::I32),
        (Scalar::I64(x), Scalar::I64(y)) => int_binary!(b, x, y).map(Scalar::I64),
        (Scalar::Bool(x), Scalar::Bool(y)) => match b {
            Binary::And => Some(Scalar::Bool(x && y)),
            Binary::Or => Some(Scalar::Bool(x || y)),
            Binary::Add | Binary::Sub | Binary::Mul | Binary::Div | Binary::Pow | Binary::Max | Binary::Min => None,
        },
        _ => None,
    }
}

fn cmp<T: PartialOrd>(c: Compare, x: T, y: T) -> bool {
    match c {
        Compare::Eq => x == y,
        Compare::Ne => x != y,
        Compare::Lt => x < y,
        Compare::Le => x <= y,
        Compare::Gt => x > y,
        Compare::Ge => x >= y,
    }
}

/// A comparison of two elements of one dtype.
pub(super) fn compare(c: Compare, x: Scalar, y: Scalar) -> Option<Scalar> {
    let r = match (x, y) {
        (Scalar::F32(x), Scalar::F32(y)) => cmp(c, x, y),
        (Scalar::F64(x), Scalar::F64(y)) => cmp(c, x, y),
        (Scalar::I32(x), Scalar::I32(y)) => cmp(c, x, y),
        (Scalar::I64(x), Scalar::I64(y)) => cmp(c, x, y),
        (Scalar::Bool(x), Scalar::Bool(y)) => match c {
            Compare::Eq => x == y,
            Compare::Ne => x != y,
            Compare::Lt | Compare::Le | Compare::Gt | Compare::Ge => return None,
        },
        _ => return None,
    };
    Some(Scalar::Bool(r))
}

/// `convert`: exact or IEEE-rounded conversions only; a float that does not
/// fit the target integer type (or is NaN) is not folded.
pub(super) fn convert(x: Scalar, to: DType) -> Option<Scalar> {
    let float_to_int = |v: f64, lo: f64, hi: f64| -> Option<f64> {
        let t = v.trunc();
        (v.is_finite() && t >= lo && t <= hi).then_some(t)
    };
    Some(match (x, to) {
        (Scalar::F32(v), DType::F32) => Scalar::F32(v),
        (Scalar::F32(v), DType::F64) => Scalar::F64(v as f64),
        (Scalar::F64(v), DType::F32) => Scalar::F32(v as f32),
        (Scalar::F64(v), DType::F64) => Scalar::F64(v),
        (Scalar::F32(_) | Scalar::F64(_), DType::I32) => {
            Scalar::I32(float_to_int(x.to_f64(), i32::MIN as f64, i32::MAX as f64)? as i32)
        }
        (Scalar::F32(_) | Scalar::F64(_), DType::I64) => {
            Scalar::I64(float_to_int(x.to_f64(), -9.223372036854776e18, 9.223372036854775e18)? as i64)
        }
        (Scalar::F32(v), DType::Bool) => Scalar::Bool(if v.is_nan() { return None } else { v != 0.0 }),
        (Scalar::F64(v), DType::Bool) => Scalar::Bool(if v.is_nan() { return None } else { v != 0.0 }),
        (Scalar::I32(v), DType::F32) => Scalar::F32(v as f32),
        (Scalar::I32(v), DType::F64) => Scalar::F64(v as f64),
        (Scalar::I32(v), DType::I32) => Scalar::I32(v),
        (Scalar::I32(v), DType::I64) => Scalar::I64(v as i64),
        (Scalar::I32(v), DType::Bool) => Scalar::Bool(v != 0),
        (Scalar::I64(v), DType::F32) => Scalar::F32(v as f32),
        (Scalar::I64(v), DType::F64) => Scalar::F64(v as f64),
        (Scalar::I64(v), DType::I32) => Scalar::I32(i32::try_from(v).ok()?),
        (Scalar::I64(v), DType::I64) => Scalar::I64(v),
        (Scalar::I64(v), DType::Bool) => Scalar::Bool(v != 0),
        (Scalar::Bool(v), d) => Scalar::from_f64(d, v as u8 as f64),
    })
}
