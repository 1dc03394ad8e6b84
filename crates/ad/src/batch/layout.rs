//! Batching rules of the layout ops: each gains a leading axis.

use saddle_ir::{DType, Op, TensorType};

use super::{B, Ctx};

fn shifted(v: &[usize]) -> Vec<usize> {
    v.iter().map(|a| a + 1).collect()
}

fn prefixed(first: usize, v: &[usize]) -> Vec<usize> {
    let mut out = vec![first];
    out.extend_from_slice(v);
    out
}

/// `broadcast_in_dim`: the batch axis maps to result axis 0.
pub(crate) fn broadcast_in_dim<'t>(c: &Ctx<'_, 't>, shape: &[usize], dims: &[usize]) -> B<'t> {
    let shape = prefixed(c.size, shape);
    let dims = prefixed(0, &shifted(dims));
    B::batched(c.args[0].t.broadcast_in_dim(&shape, &dims))
}

/// `reshape`: each batch element reshaped (row-major order keeps the
/// batch axis outermost).
pub(crate) fn reshape<'t>(c: &Ctx<'_, 't>, shape: &[usize]) -> B<'t> {
    B::batched(c.args[0].t.reshape(&prefixed(c.size, shape)))
}

/// `transpose`: the batch axis stays in front.
pub(crate) fn transpose<'t>(c: &Ctx<'_, 't>, perm: &[usize]) -> B<'t> {
    B::batched(c.args[0].t.transpose(&prefixed(0, &shifted(perm))))
}

/// `slice`: the whole batch axis is kept.
pub(crate) fn slice<'t>(c: &Ctx<'_, 't>, start: &[usize], limit: &[usize], stride: &[usize]) -> B<'t> {
    let op = Op::Slice { start: prefixed(0, start), limit: prefixed(c.size, limit), stride: prefixed(1, stride) };
    B::batched(c.tr.op(op, &[c.args[0].t]))
}

/// `pad x, v`: no padding along the batch axis. A batched padding value
/// (one per batch element) is written with `select` over a mask of the
/// padded positions.
pub(crate) fn pad<'t>(c: &Ctx<'_, 't>, low: &[usize], high: &[usize], interior: &[usize]) -> B<'t> {
    let op = Op::Pad { low: prefixed(0, low), high: prefixed(0, high), interior: prefixed(0, interior) };
    let x = c.full(0);
    let v = c.args[1];
    if !v.batched {
        return B::batched(c.tr.op(op, &[x, v.t]));
    }
    let zero = c.tr.zeros(&TensorType::scalar(x.dtype()));
    let padded = c.tr.op(op.clone(), &[x, zero]);
    let inside = c.tr.full(&x.ty().with_dtype(DType::Bool), 1.0);
    let outside = c.tr.full(&TensorType::scalar(DType::Bool), 0.0);
    let mask = c.tr.op(op, &[inside, outside]);
    let fill = v.t.broadcast_in_dim(&padded.shape(), &[0]);
    B::batched(mask.select(padded, fill))
}

/// `concatenate`: joined along the shifted axis, unbatched parts
/// broadcast.
pub(crate) fn concatenate<'t>(c: &Ctx<'_, 't>, axis: usize) -> B<'t> {
    let parts: Vec<_> = (0..c.args.len()).map(|i| c.full(i)).collect();
    B::batched(c.tr.concatenate(&parts, axis + 1))
}
