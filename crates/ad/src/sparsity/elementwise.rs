//! Elementwise ops: each result element depends on the same element of
//! the operands. Nonlinear unary ops make an element interact with itself,
//! `mul` and `div` make their operands interact; `add`, `sub`, `neg`,
//! `abs`, `max`, `min`, `select` and `convert` are linear almost
//! everywhere and add no interaction.

use saddle_ir::DType;
use saddle_ir::op::{Binary, Unary};

use super::{Ctx, Error, Out, Pairs};

/// How a unary op's second derivative looks.
enum Curvature {
    /// The derivative is zero: no dependency at all.
    Constant,
    /// Linear (almost everywhere): dependencies pass, no interaction.
    Linear,
    /// The element interacts with itself.
    Nonlinear,
}

fn curvature(u: Unary) -> Curvature {
    match u {
        Unary::Sign | Unary::Not | Unary::IntegerPow { y: 0 } => Curvature::Constant,
        Unary::Neg | Unary::Abs | Unary::IntegerPow { y: 1 } => Curvature::Linear,
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
        | Unary::IntegerPow { .. } => Curvature::Nonlinear,
    }
}

/// The sets of a result whose element `e` depends on the elements `e` of
/// `operands`, recording `interact(e)` as it goes.
fn same_position(
    c: &Ctx<'_>,
    operands: &[usize],
    pairs: &mut Pairs,
    mut interact: impl FnMut(&Ctx<'_>, usize, &mut Pairs) -> Result<bool, Error>,
) -> Result<Out, Error> {
    if operands.iter().all(|&k| c.deps[k].is_none()) {
        return Ok(Out::deps(None));
    }
    let mut b = c.builder();
    for e in 0..c.out.num_elements() {
        if interact(c, e, pairs)? {
            b.push_union(operands.iter().map(|&k| c.set(k, e)));
        } else {
            b.push_empty();
        }
    }
    Ok(Out::deps(b.finish()))
}

/// The known value of an elementwise op of known operands.
fn known(c: &Ctx<'_>, f: impl Fn(&[f64]) -> f64) -> Option<Vec<f64>> {
    let vals: Vec<&[f64]> = c.known.iter().copied().collect::<Option<_>>()?;
    let mut xs = vec![0.0; vals.len()];
    Some(
        (0..c.out.num_elements())
            .map(|e| {
                for (x, v) in xs.iter_mut().zip(&vals) {
                    *x = v[e];
                }
                f(&xs)
            })
            .collect(),
    )
}

/// Unary ops.
pub(crate) fn unary(c: &Ctx<'_>, u: Unary, pairs: &mut Pairs) -> Result<Out, Error> {
    let mut out = match curvature(u) {
        Curvature::Constant => Out::deps(None),
        Curvature::Linear => same_position(c, &[0], pairs, |_, _, _| Ok(true))?,
        Curvature::Nonlinear => same_position(c, &[0], pairs, |c, e, p| {
            p.add_square(c.set(0, e))?;
            Ok(true)
        })?,
    };
    if matches!(u, Unary::Neg) {
        out.known = known(c, |x| -x[0]);
    }
    Ok(out)
}

/// Binary ops.
pub(crate) fn binary(c: &Ctx<'_>, op: Binary, pairs: &mut Pairs) -> Result<Out, Error> {
    Ok(match op {
        Binary::Add => {
            Out { known: known(c, |x| x[0] + x[1]), ..same_position(c, &[0, 1], pairs, |_, _, _| Ok(true))? }
        }
        Binary::Sub => {
            Out { known: known(c, |x| x[0] - x[1]), ..same_position(c, &[0, 1], pairs, |_, _, _| Ok(true))? }
        }
        Binary::Max | Binary::Min => same_position(c, &[0, 1], pairs, |_, _, _| Ok(true))?,
        Binary::Mul => Out {
            known: known(c, |x| x[0] * x[1]),
            // A known zero factor makes the product constant.
            ..same_position(c, &[0, 1], pairs, |c, e, p| {
                if c.is_zero(0, e) || c.is_zero(1, e) {
                    return Ok(false);
                }
                p.add(c.set(0, e), c.set(1, e))?;
                Ok(true)
            })?
        },
        Binary::Div => same_position(c, &[0, 1], pairs, |c, e, p| {
            p.add(c.set(0, e), c.set(1, e))?;
            p.add_square(c.set(1, e))?;
            Ok(true)
        })?,
        Binary::Pow => same_position(c, &[0, 1], pairs, |c, e, p| {
            let (a, b) = (c.set(0, e), c.set(1, e));
            p.add_square(a)?;
            p.add(a, b)?;
            p.add_square(b)?;
            Ok(true)
        })?,
        Binary::And | Binary::Or => Out::deps(None),
    })
}

/// `select pred, on_true, on_false`: linear in the two branches.
pub(crate) fn select(c: &Ctx<'_>, pairs: &mut Pairs) -> Result<Out, Error> {
    Ok(Out {
        known: known(c, |x| if x[0] != 0.0 { x[1] } else { x[2] }),
        ..same_position(c, &[1, 2], pairs, |_, _, _| Ok(true))?
    })
}

/// `convert`: the identity on float results (integer and bool results
/// carry no derivative).
pub(crate) fn convert(c: &Ctx<'_>, dtype: DType, pairs: &mut Pairs) -> Result<Out, Error> {
    let out = if dtype.is_float() { same_position(c, &[0], pairs, |_, _, _| Ok(true))? } else { Out::deps(None) };
    let known = match dtype {
        DType::F32 => known(c, |x| x[0] as f32 as f64),
        DType::F64 => known(c, |x| x[0]),
        DType::I32 => known(c, |x| x[0] as i32 as f64),
        DType::I64 => known(c, |x| x[0] as i64 as f64),
        DType::Bool => known(c, |x| if x[0] != 0.0 { 1.0 } else { 0.0 }),
    };
    Ok(Out { known, ..out })
}
