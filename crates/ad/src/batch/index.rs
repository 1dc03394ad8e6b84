//! Batching rules of `take` and `segment_sum`.
//!
//! When the indices are batched, the batch is folded into the indexed
//! axis: batch element `b`'s index `i` becomes `b * n + i` into the
//! flattened operand. An index outside `[0, n)` is sent to `size * n`, out
//! of range of the flattened operand too, so it remains a run-time error
//! rather than reading another batch element's data.

use saddle_ir::{Op, Tensor};

use super::{B, Ctx, with_batch};
use crate::util::move_axis;

/// `idx + b * n` for batch element `b` (idx batched along axis 0), with
/// out-of-range entries sent to `size * n`.
fn fold_indices<'t>(c: &Ctx<'_, 't>, idx: Tensor<'t>, n: usize) -> Tensor<'t> {
    let ty = idx.ty();
    let offsets = c.tr.iota(&ty, 0) * n as f64;
    let valid = idx.ge(0.0).and(idx.lt(n as f64));
    valid.select(idx + offsets, c.tr.full(&ty, (c.size * n) as f64))
}

/// `take x, idx {axis}`.
pub(crate) fn take<'t>(c: &Ctx<'_, 't>, axis: usize) -> B<'t> {
    let (x, idx) = (c.args[0], c.args[1]);
    match (x.bdim, idx.bdim) {
        (Some(p), None) => {
            // The indexed axis skips the batch axis; the batch axis moves
            // by the index rank minus one when it comes after.
            let a = with_batch(axis, p);
            let out = if p < a { p } else { p + idx.t.rank() - 1 };
            B::at(x.t.take(idx.t, a), out)
        }
        (None, Some(q)) => B::at(x.t.take(idx.t, axis), axis + q),
        (Some(_), Some(_)) | (None, None) => {
            let xb = c.front(0);
            let shape = xb.shape();
            let n = shape[axis + 1];
            // [B, n, pre..., post...] flattened to [B * n, pre..., post...].
            let moved = move_axis(xb, axis + 1, 1);
            let mut flat_shape = vec![c.size * n];
            flat_shape.extend(&shape[1..axis + 1]);
            flat_shape.extend(&shape[axis + 2..]);
            let flat = moved.reshape(&flat_shape);
            let folded = fold_indices(c, c.front(1), n);
            // [B, idx..., pre..., post...] back to [B, pre..., idx..., post...].
            let r = flat.take(folded, 0);
            let k = idx.t.rank() - 1;
            let mut perm = vec![0];
            perm.extend(1 + k..1 + k + axis);
            perm.extend(1..1 + k);
            perm.extend(1 + k + axis..r.rank());
            let identity = perm.iter().enumerate().all(|(i, &p)| i == p);
            B::at(if identity { r } else { r.transpose(&perm) }, 0)
        }
    }
}

/// `segment_sum data, idx {num_segments}`.
pub(crate) fn segment_sum<'t>(c: &Ctx<'_, 't>, num_segments: usize) -> B<'t> {
    let (data, idx) = (c.args[0], c.args[1]);
    if let (Some(p), None) = (data.bdim, idx.bdim) {
        // The rows are axis 0: keep the batch off it.
        let (d, p) = if p == 0 { (move_axis(data.t, 0, 1), 1) } else { (data.t, p) };
        return B::at(c.tr.op(Op::SegmentSum { num_segments }, &[d, idx.t]), p);
    }
    let d = c.front(0);
    let shape = d.shape();
    let m = shape[1];
    let mut flat_shape = vec![c.size * m];
    flat_shape.extend(&shape[2..]);
    let flat = d.reshape(&flat_shape);
    let folded = fold_indices(c, c.front(1), num_segments).reshape(&[c.size * m]);
    let summed = c.tr.op(Op::SegmentSum { num_segments: c.size * num_segments }, &[flat, folded]);
    let mut out_shape = vec![c.size, num_segments];
    out_shape.extend(&shape[2..]);
    B::at(summed.reshape(&out_shape), 0)
}
