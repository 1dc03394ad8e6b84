//! JVP rules of the indexing ops: linear in the data, and the integer
//! indices carry no tangent.

use saddle_ir::Op;

use super::{Ctx, Tangent};

/// `take x, idx`: the tangent of `x` gathered with the same indices.
pub(crate) fn take<'t>(c: &Ctx<'_, 't>, axis: usize) -> Tangent<'t> {
    Some(c.t[0]?.take(c.x[1], axis))
}

/// `segment_sum data, idx`: the tangent of `data` summed the same way.
pub(crate) fn segment_sum<'t>(c: &Ctx<'_, 't>, num_segments: usize) -> Tangent<'t> {
    Some(c.tr.op(Op::SegmentSum { num_segments }, &[c.t[0]?, c.x[1]]))
}
