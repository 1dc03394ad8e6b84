//! Transpose rules of the indexing ops: `take` and `segment_sum` are each
//! other's transposes (in the data; the indices must be known).

use saddle_ir::Op;

use super::{Cts, Ctx};
use crate::util::move_axis;

/// `take x, idx {axis}`: the cotangent scattered back with `segment_sum`
/// (repeated indices add up).
pub(crate) fn take<'t>(c: &Ctx<'_, 't>, axis: usize) -> Cts<'t> {
    let idx = c.known(1)?;
    let x = c.types[0];
    let k = idx.rank();
    let ct = c.ct;
    // Bring the index axes (axis..axis+k of the cotangent) to the front and
    // flatten them into one.
    let mut perm: Vec<usize> = (axis..axis + k).collect();
    perm.extend(0..axis);
    perm.extend(axis + k..ct.rank());
    let moved = if perm.iter().enumerate().all(|(i, &p)| i == p) { ct } else { ct.transpose(&perm) };
    let count: usize = idx.shape().iter().product();
    let mut flat_shape = vec![count];
    flat_shape.extend(&x.shape[..axis]);
    flat_shape.extend(&x.shape[axis + 1..]);
    let flat = if moved.shape() == flat_shape { moved } else { moved.reshape(&flat_shape) };
    let flat_idx = if k == 1 { idx } else { idx.reshape(&[count]) };
    let summed = c.tr.op(Op::SegmentSum { num_segments: x.shape[axis] }, &[flat, flat_idx]);
    Ok(vec![Some(move_axis(summed, 0, axis)), None])
}

/// `segment_sum data, idx`: the cotangent gathered back with `take`.
pub(crate) fn segment_sum<'t>(c: &Ctx<'_, 't>) -> Cts<'t> {
    let idx = c.known(1)?;
    Ok(vec![Some(c.ct.take(idx, 0)), None])
}
