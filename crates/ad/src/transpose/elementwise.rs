//! Transpose rules of the elementwise ops that can be linear: `neg`,
//! `add`, `sub`, `mul` and `div` by a known operand, `select` with a known
//! predicate, float-to-float `convert`, `stop_gradient` (the identity on
//! values) and `integer_pow` with exponent 1.

use saddle_ir::op::{Binary, Unary};

use super::{Cts, Ctx};

/// `neg` (and `integer_pow {y = 1}`); every other unary op is not linear.
pub(crate) fn unary<'t>(c: &Ctx<'_, 't>, u: Unary) -> Cts<'t> {
    match u {
        Unary::Neg => Ok(vec![Some(-c.ct)]),
        Unary::IntegerPow { y: 1 } => Ok(vec![Some(c.ct)]),
        Unary::Abs
        | Unary::Sign
        | Unary::Exp
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
        | Unary::IntegerPow { .. }
        | Unary::Not => Err(c.not_linear(format!("{} is not linear", u.name()))),
    }
}

/// `add`, `sub`; `mul` by a known factor; `div` by a known divisor.
pub(crate) fn binary<'t>(c: &Ctx<'_, 't>, b: Binary) -> Cts<'t> {
    let ct = c.ct;
    match b {
        Binary::Add => {
            c.linear_or_zero(0)?;
            c.linear_or_zero(1)?;
            Ok(vec![c.to(0, || ct), c.to(1, || ct)])
        }
        Binary::Sub => {
            c.linear_or_zero(0)?;
            c.linear_or_zero(1)?;
            Ok(vec![c.to(0, || ct), c.to(1, || -ct)])
        }
        Binary::Mul => {
            if c.linear(0) && c.linear(1) {
                return Err(c.not_linear("both factors depend on the linear inputs"));
            }
            if c.linear(0) {
                let y = c.known(1)?;
                Ok(vec![Some(ct * y), None])
            } else {
                let x = c.known(0)?;
                Ok(vec![None, Some(x * ct)])
            }
        }
        Binary::Div => {
            let y = c.known(1)?;
            Ok(vec![Some(ct / y), None])
        }
        Binary::Pow | Binary::Max | Binary::Min | Binary::And | Binary::Or => {
            Err(c.not_linear(format!("{} is not linear", b.name())))
        }
    }
}

/// `select p, a, b` with a known predicate: the cotangent goes to the
/// branch that was chosen.
pub(crate) fn select<'t>(c: &Ctx<'_, 't>) -> Cts<'t> {
    let p = c.known(0)?;
    c.linear_or_zero(1)?;
    c.linear_or_zero(2)?;
    let ct = c.ct;
    Ok(vec![None, c.to(1, || p.select(ct, 0.0)), c.to(2, || p.select(0.0, ct))])
}

/// `convert` between float dtypes: the cotangent converted back.
pub(crate) fn convert<'t>(c: &Ctx<'_, 't>) -> Cts<'t> {
    let from = c.types[0].dtype;
    if !(from.is_float() && c.ct.dtype().is_float()) {
        return Err(c.not_linear(format!("convert from {from} to {} is not linear", c.ct.dtype())));
    }
    Ok(vec![Some(c.ct.convert(from))])
}

/// `stop_gradient`: the identity on values, so its own transpose. (The
/// JVP never puts it on a linear path: its tangent is zero.)
pub(crate) fn stop_gradient<'t>(c: &Ctx<'_, 't>) -> Cts<'t> {
    Ok(vec![Some(c.ct)])
}
