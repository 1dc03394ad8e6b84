//! Batching rules of `take` and `segment_sum`.
//!
//! When the indices are batched, the batch is folded into the indexed
//! axis: batch element `b`'s index `i` becomes `b * n + i` into the
//! flattened operand. An index outside `[0, n)` is sent to `size * n`, out
//! of range of the flattened operand too, so it remains a run-time error
//! rather than reading another batch element's data.

use saddle_ir::{Op, Tensor};

use super::{B, Ctx};
use crate::util::{move_from_front, move_to_front};

/// `idx + b * n` for batch element `b`, with out-of-range entries sent to
/// `size * n`.
fn fold_indices<'t>(c: &Ctx<'_, 't>, idx: Tensor<'t>, n: usize) -> Tensor<'t> {
    let ty = idx.ty();
    let offsets = c.tr.iota(&ty, 0) * n as f64;
    let valid = idx.ge(0.0).and(idx.lt(n as f64));
    valid.select(idx + offsets, c.tr.full(&ty, (c.size * n) as f64))
}

/// `take x, idx {axis}`.
pub(crate) fn take<'t>(c: &Ctx<'_, 't>, axis: usize) -> B<'t> {
    let (x, idx) = (c.args[0], c.args[1]);
    match (x.batched, idx.batched) {
        (true, false) => B::batched(x.t.take(idx.t, axis + 1)),
        (false, true) => B::batched(move_to_front(x.t.take(idx.t, axis), axis)),
        (true, true) | (false, false) => {
            let xb = c.full(0);
            let shape = xb.shape();
            let n = shape[axis + 1];
            // [B, n, pre..., post...] flattened to [B * n, pre..., post...].
            let moved = if axis == 0 {
                xb
            } else {
                let mut perm = vec![0, axis + 1];
                perm.extend(1..=axis);
                perm.extend(axis + 2..shape.len());
                xb.transpose(&perm)
            };
            let mut flat_shape = vec![c.size * n];
            flat_shape.extend(&shape[1..axis + 1]);
            flat_shape.extend(&shape[axis + 2..]);
            let flat = moved.reshape(&flat_shape);
            let folded = fold_indices(c, idx.t, n);
            // [B, idx..., pre..., post...] back to [B, pre..., idx..., post...].
            let r = flat.take(folded, 0);
            let k = idx.t.rank() - 1;
            let mut perm = vec![0];
            perm.extend(1 + k..1 + k + axis);
            perm.extend(1..1 + k);
            perm.extend(1 + k + axis..r.rank());
            let identity = perm.iter().enumerate().all(|(i, &p)| i == p);
            B::batched(if identity { r } else { r.transpose(&perm) })
        }
    }
}

/// `segment_sum data, idx {num_segments}`.
pub(crate) fn segment_sum<'t>(c: &Ctx<'_, 't>, num_segments: usize) -> B<'t> {
    let (data, idx) = (c.args[0], c.args[1]);
    if !idx.batched {
        // [B, m, ...] to [m, B, ...], summed to [S, B, ...], back to [B, S, ...].
        let summed = c.tr.op(Op::SegmentSum { num_segments }, &[move_from_front(data.t, 1), idx.t]);
        return B::batched(move_to_front(summed, 1));
    }
    let d = c.full(0);
    let shape = d.shape();
    let m = shape[1];
    let mut flat_shape = vec![c.size * m];
    flat_shape.extend(&shape[2..]);
    let flat = d.reshape(&flat_shape);
    let folded = fold_indices(c, idx.t, num_segments).reshape(&[c.size * m]);
    let summed = c.tr.op(Op::SegmentSum { num_segments: c.size * num_segments }, &[flat, folded]);
    let mut out_shape = vec![c.size, num_segments];
    out_shape.extend(&shape[2..]);
    B::batched(summed.reshape(&out_shape))
}
