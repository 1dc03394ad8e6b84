//! One lowering rule per op, one file per op family (mirroring
//! `saddle_ir::op`): [`elementwise`], [`reduce`], [`layout`], [`linalg`],
//! [`index`].

pub(crate) mod elementwise;
pub(crate) mod index;
pub(crate) mod layout;
pub(crate) mod linalg;
pub(crate) mod reduce;

use saddle_ir::{Inst, Op, Value};

use crate::Error;
use crate::emit::Emitter;

/// Writes the StableHLO for the instruction defining `v`.
///
/// This is the lowering's one match over [`Op`]: adding an op to the IR
/// makes it fail to compile until the op has a rule here.
pub(crate) fn lower_inst(em: &mut Emitter, v: Value, inst: &Inst) -> Result<(), Error> {
    let a = &inst.args;
    debug_assert_eq!(em.current(), v);
    match &inst.op {
        Op::Const(lit) => layout::constant(em, lit),
        Op::Iota { dim, .. } => layout::iota(em, *dim),
        Op::Unary(u) => elementwise::unary(em, *u, a[0]),
        Op::Binary(b) => elementwise::binary(em, *b, a[0], a[1]),
        Op::Compare(c) => elementwise::compare(em, *c, a[0], a[1]),
        Op::Select => elementwise::select(em, a[0], a[1], a[2]),
        Op::Convert { .. } => elementwise::convert(em, a[0]),
        Op::StopGradient => elementwise::stop_gradient(em, a[0]),
        Op::BroadcastInDim { dims, .. } => layout::broadcast_in_dim(em, a[0], dims),
        Op::Reshape { .. } => layout::reshape(em, a[0]),
        Op::Transpose { perm } => layout::transpose(em, a[0], perm),
        Op::Reduce { kind, axes } => reduce::reduce(em, *kind, a[0], axes),
        Op::Slice { start, limit, stride } => layout::slice(em, a[0], start, limit, stride),
        Op::Pad { low, high, interior } => layout::pad(em, a[0], a[1], low, high, interior),
        Op::Concatenate { axis } => layout::concatenate(em, a, *axis),
        Op::DotGeneral(dims) => linalg::dot_general(em, a[0], a[1], dims),
        Op::Take { axis } => index::take(em, a[0], a[1], *axis),
        Op::SegmentSum { num_segments } => index::segment_sum(em, a[0], a[1], *num_segments),
        Op::Cholesky => linalg::cholesky(em, a[0]),
        Op::TriangularSolve { left_side, lower, transpose_a, unit_diagonal } => {
            linalg::triangular_solve(em, a[0], a[1], *left_side, *lower, *transpose_a, *unit_diagonal)
        }
    }
}
