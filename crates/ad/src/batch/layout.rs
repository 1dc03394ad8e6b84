//! Batching rules of the layout ops: each gains the batch axis, left where
//! it is where the op allows.

use saddle_ir::{DType, Op, TensorType};

use super::{B, Ctx, with_batch};

fn inserted(v: &[usize], at: usize, value: usize) -> Vec<usize> {
    let mut out = v.to_vec();
    out.insert(at, value);
    out
}

/// `broadcast_in_dim`: the batch axis goes right after the result axis of
/// the operand axis before it, so `dims` stays increasing.
pub(crate) fn broadcast_in_dim<'t>(c: &Ctx<'_, 't>, shape: &[usize], dims: &[usize]) -> B<'t> {
    let b = c.first_bdim();
    let q = if b == 0 { 0 } else { dims[b - 1] + 1 };
    let mut new_dims: Vec<usize> = dims.iter().map(|&d| with_batch(d, q)).collect();
    new_dims.insert(b, q);
    B::at(c.args[0].t.broadcast_in_dim(&inserted(shape, q, c.size), &new_dims), q)
}

/// `reshape`: each batch element reshaped, with the batch in front (where
/// row-major order keeps the elements of one batch element together).
pub(crate) fn reshape<'t>(c: &Ctx<'_, 't>, shape: &[usize]) -> B<'t> {
    B::at(c.front(0).reshape(&inserted(shape, 0, c.size)), 0)
}

/// `transpose`: the batch axis stays where it is.
pub(crate) fn transpose<'t>(c: &Ctx<'_, 't>, perm: &[usize]) -> B<'t> {
    let b = c.first_bdim();
    let mut new_perm: Vec<usize> = perm.iter().map(|&p| with_batch(p, b)).collect();
    new_perm.insert(b, b);
    B::at(c.args[0].t.transpose(&new_perm), b)
}

/// `slice`: the whole batch axis is kept.
pub(crate) fn slice<'t>(c: &Ctx<'_, 't>, start: &[usize], limit: &[usize], stride: &[usize]) -> B<'t> {
    let b = c.first_bdim();
    let op =
        Op::Slice { start: inserted(start, b, 0), limit: inserted(limit, b, c.size), stride: inserted(stride, b, 1) };
    B::at(c.tr.op(op, &[c.args[0].t]), b)
}

/// `pad x, v`: no padding along the batch axis. A batched padding value
/// (one per batch element) is written with `select` over a mask of the
/// padded positions.
pub(crate) fn pad<'t>(c: &Ctx<'_, 't>, low: &[usize], high: &[usize], interior: &[usize]) -> B<'t> {
    let v = c.args[1];
    let b = if v.bdim.is_some() { 0 } else { c.first_bdim() };
    let op = Op::Pad { low: inserted(low, b, 0), high: inserted(high, b, 0), interior: inserted(interior, b, 0) };
    let x = c.batched_at(0, b);
    if v.bdim.is_none() {
        return B::at(c.tr.op(op, &[x, v.t]), b);
    }
    let zero = c.tr.zeros(&TensorType::scalar(x.dtype()));
    let padded = c.tr.op(op.clone(), &[x, zero]);
    let inside = c.tr.full(&x.ty().with_dtype(DType::Bool), 1.0);
    let outside = c.tr.full(&TensorType::scalar(DType::Bool), 0.0);
    let mask = c.tr.op(op, &[inside, outside]);
    let fill = v.t.broadcast_in_dim(&padded.shape(), &[0]);
    B::at(mask.select(padded, fill), 0)
}

/// `concatenate`: joined along the axis past the batch axis of the first
/// batched operand; unbatched parts broadcast.
pub(crate) fn concatenate<'t>(c: &Ctx<'_, 't>, axis: usize) -> B<'t> {
    let b = c.first_bdim();
    let parts: Vec<_> = (0..c.args.len()).map(|i| c.batched_at(i, b)).collect();
    B::at(c.tr.concatenate(&parts, with_batch(axis, b)), b)
}
