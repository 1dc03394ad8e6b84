//! Rules rooted at `take` and `segment_sum`: gathers and scatters through
//! an `iota` (or a constant run of consecutive indices) are slices and pads.

use egg::Id;

use super::{Ctx, Rule};
use crate::{Literal, Op, Scalar};

pub(super) fn rules() -> Vec<Rule> {
    vec![Rule::exact("take-iota", "take", take_range), Rule::exact("segment-sum-iota", "segment_sum", segment_sum_iota)]
}

fn index(s: Scalar) -> Option<usize> {
    match s {
        Scalar::I32(i) => usize::try_from(i).ok(),
        Scalar::I64(i) => usize::try_from(i).ok(),
        Scalar::F32(_) | Scalar::F64(_) | Scalar::Bool(_) => None,
    }
}

/// The run `first, first + 1, ...` that an index tensor holds, when it is
/// rank 0 or 1 and such a run: `(first, len, is_scalar)`.
fn index_run(cx: &Ctx<'_>, idx: Id) -> Option<(usize, usize, bool)> {
    let f = cx.facts(idx);
    match f.ty.rank() {
        1 if f.iota == Some(0) => Some((0, f.ty.shape[0], false)),
        0 | 1 => {
            let vals = match f.konst.as_deref()? {
                Literal::Splat { value, ty } if ty.num_elements() == 1 => vec![*value],
                Literal::Splat { .. } => return None,
                Literal::Dense(a) => a.scalars(),
            };
            let first = index(*vals.first()?)?;
            let run = vals.iter().enumerate().all(|(k, &v)| index(v) == Some(first + k));
            run.then_some((first, vals.len(), f.ty.rank() == 0))
        }
        _ => None,
    }
}

/// `take(x, first..first+n)` along an axis is a slice of that axis (the
/// operand itself for the full run); a scalar index also drops the axis.
/// Indices out of range are left alone: they stay a run-time error.
fn take_range(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let Op::Take { axis } = op else { return };
    let Some((first, len, scalar)) = index_run(cx, a[1]) else { return };
    let xshape = cx.shape(a[0]);
    if first + len > xshape[*axis] {
        return;
    }
    let mut start = vec![0; xshape.len()];
    let mut limit = xshape.clone();
    start[*axis] = first;
    limit[*axis] = first + len;
    let sliced = if start.iter().all(|&s| s == 0) && limit == xshape {
        Some(a[0])
    } else {
        cx.add(Op::Slice { start, limit, stride: vec![1; xshape.len()] }, &[a[0]])
    };
    let Some(s) = sliced else { return };
    if scalar {
        let mut shape = xshape;
        shape.remove(*axis);
        out.extend(cx.reshape(s, &shape));
    } else {
        out.push(s);
    }
}

/// `segment_sum(x, iota)` puts row `i` in segment `i`: the operand, padded
/// with zero rows up to `num_segments`.
fn segment_sum_iota(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let Op::SegmentSum { num_segments } = op else { return };
    let Some((0, len, false)) = index_run(cx, a[1]) else { return };
    if *num_segments < len {
        return;
    }
    let ty = cx.ty(a[0]).clone();
    if *num_segments == len {
        out.push(a[0]);
        return;
    }
    let zero = cx.splat_const(ty.dtype, 0.0, &[]);
    let mut high = vec![0; ty.rank()];
    high[0] = num_segments - len;
    out.extend(cx.add(Op::Pad { low: vec![0; ty.rank()], high, interior: vec![0; ty.rank()] }, &[a[0], zero]));
}
