//! JVP rules of the elementwise ops.
//!
//! Conventions at the edges, as JAX has them:
//! - `abs` at 0 has derivative 1 (`select(x >= 0, t, -t)`).
//! - `sqrt` and `log` at 0 give `t * (0.5 / sqrt(x))` and `t / x`: infinite
//!   for a non-zero tangent.
//! - `max` and `min` at a tie give each operand half of its tangent (JAX's
//!   balanced rule), so `max(x, x)` has derivative 1 and the gradient of
//!   `max(x, y)` at `x == y` is `(0.5, 0.5)`.
//! - `pow(x, y)`: the derivative in `x` is 0 where `y == 0` (also at
//!   `x == 0`); the derivative in `y` is `log(x) * x^y` with `log(1)` used
//!   where `x == 0`, so it is 0 there.

use saddle_ir::DType;
use saddle_ir::op::{Binary, Unary};

use super::{Ctx, Tangent};
use crate::util::{add_opt, or_zeros};

/// `2 / sqrt(pi)`, the scale of the derivative of `erf`.
const TWO_OVER_SQRT_PI: f64 = std::f64::consts::FRAC_2_SQRT_PI;

/// Tangents of the one-operand ops.
pub(crate) fn unary<'t>(c: &Ctx<'_, 't>, u: Unary) -> Tangent<'t> {
    let (x, y) = (c.x[0], c.out);
    let t = c.t[0]?;
    Some(match u {
        Unary::Neg => -t,
        Unary::Abs => x.ge(0.0).select(t, -t),
        Unary::Sign | Unary::Not => return None,
        Unary::Exp => t * y,
        Unary::Log => t / x,
        Unary::Log1p => t / (x + 1.0),
        Unary::Expm1 => t * (y + 1.0),
        Unary::Sin => t * x.cos(),
        Unary::Cos => t * -x.sin(),
        Unary::Tanh => t * (1.0 - y * y),
        Unary::Logistic => t * (y * (1.0 - y)),
        Unary::Sqrt => t * (0.5 / y),
        Unary::Rsqrt => t * (y / x * -0.5),
        Unary::Lgamma => t * x.digamma(),
        Unary::Digamma => t * x.polygamma(1),
        // Past the highest order the typing rule refuses `n + 1` cleanly.
        Unary::Polygamma { n } => t * x.polygamma(n.saturating_add(1)),
        Unary::Erf => t * ((-(x * x)).exp() * TWO_OVER_SQRT_PI),
        Unary::IntegerPow { y: k } => match k {
            0 => return None,
            1 => t,
            2 => t * (x * 2.0),
            // `k - 1` does not fit an i32 for the least k: x^k / x instead.
            k => match k.checked_sub(1) {
                Some(k1) => t * (x.powi(k1) * k as f64),
                None => t * (x.powi(k) / x * k as f64),
            },
        },
    })
}

/// Tangents of the two-operand ops.
pub(crate) fn binary<'t>(c: &Ctx<'_, 't>, b: Binary) -> Tangent<'t> {
    let (x, y, out) = (c.x[0], c.x[1], c.out);
    let (tx, ty) = (c.t[0], c.t[1]);
    match b {
        Binary::Add => add_opt(tx, ty),
        Binary::Sub => match (tx, ty) {
            (Some(a), Some(b)) => Some(a - b),
            (a, None) => a,
            (None, Some(b)) => Some(-b),
        },
        Binary::Mul => add_opt(tx.map(|t| t * y), ty.map(|t| x * t)),
        Binary::Div => add_opt(tx.map(|t| t / y), ty.map(|t| t * -(out / y))),
        Binary::Pow => {
            let dx = tx.map(|t| {
                let y_nz = replace_zero(y);
                t * y.eq(0.0).select(0.0, y_nz * x.pow(y - 1.0))
            });
            let dy = ty.map(|t| t * (replace_zero(x).log() * out));
            add_opt(dx, dy)
        }
        Binary::Max | Binary::Min => {
            let dx = tx.map(|t| t * balanced_eq(x, out, y));
            let dy = ty.map(|t| t * balanced_eq(y, out, x));
            add_opt(dx, dy)
        }
        Binary::And | Binary::Or => None,
    }
}

/// `x` with its zeros replaced by ones.
fn replace_zero(x: saddle_ir::Tensor<'_>) -> saddle_ir::Tensor<'_> {
    x.eq(0.0).select(1.0, x)
}

/// The share of the tangent of `x` in `out = max(x, y)` (or `min`): 1 where
/// `x` alone attains `out`, 1/2 at a tie, 0 elsewhere.
fn balanced_eq<'t>(
    x: saddle_ir::Tensor<'t>,
    out: saddle_ir::Tensor<'t>,
    y: saddle_ir::Tensor<'t>,
) -> saddle_ir::Tensor<'t> {
    x.eq(out).select(out.scalar_like(1.0), out.scalar_like(0.0))
        / y.eq(out).select(out.scalar_like(2.0), out.scalar_like(1.0))
}

/// `select`: the tangents of the two branches, chosen by the predicate.
pub(crate) fn select<'t>(c: &Ctx<'_, 't>) -> Tangent<'t> {
    let ty = c.out.ty();
    let on_true = or_zeros(c.tr, c.t[1], &ty);
    let on_false = or_zeros(c.tr, c.t[2], &ty);
    Some(c.x[0].select(on_true, on_false))
}

/// `convert`: float to float converts the tangent; anything else has none.
pub(crate) fn convert<'t>(c: &Ctx<'_, 't>, dtype: DType) -> Tangent<'t> {
    let t = c.t[0]?;
    (dtype.is_float() && t.dtype().is_float()).then(|| t.convert(dtype))
}
