//! Batching rules of the linear-algebra ops.
//!
//! `dot_general` takes the batch axes of two batched operands as one more
//! batch dimension, wherever they are; when only one operand is batched,
//! its batch axis is a free axis of the product. `cholesky` takes leading
//! batch axes. `triangular_solve` with an unbatched triangle folds the
//! batch into the columns (left side) or rows (right side) of `b`: one
//! solve for the whole batch, and no copy of the matrix.

use saddle_ir::Op;
use saddle_ir::op::DotDims;

use super::{B, Ctx, with_batch};
use crate::util::move_axis;

fn shifted(v: &[usize], b: usize) -> Vec<usize> {
    v.iter().map(|&a| with_batch(a, b)).collect()
}

/// `dot_general lhs, rhs`.
pub(crate) fn dot_general<'t>(c: &Ctx<'_, 't>, d: &DotDims) -> B<'t> {
    let (l, r) = (c.args[0], c.args[1]);
    let nb = d.lhs_batch.len();
    match (l.bdim, r.bdim) {
        (Some(pl), Some(pr)) => {
            let mut lhs_batch = vec![pl];
            lhs_batch.extend(shifted(&d.lhs_batch, pl));
            let mut rhs_batch = vec![pr];
            rhs_batch.extend(shifted(&d.rhs_batch, pr));
            let dims = DotDims {
                lhs_contract: shifted(&d.lhs_contract, pl),
                rhs_contract: shifted(&d.rhs_contract, pr),
                lhs_batch,
                rhs_batch,
            };
            B::at(l.t.dot_general(r.t, dims), 0)
        }
        (Some(pl), None) => {
            let dims = DotDims {
                lhs_contract: shifted(&d.lhs_contract, pl),
                rhs_contract: d.rhs_contract.clone(),
                lhs_batch: shifted(&d.lhs_batch, pl),
                rhs_batch: d.rhs_batch.clone(),
            };
            // The batch axis is a free axis of lhs: after the batch axes,
            // at its place among lhs's free axes.
            let pos = nb + dims.lhs_free(l.t.rank()).iter().filter(|&&a| a < pl).count();
            B::at(l.t.dot_general(r.t, dims), pos)
        }
        (None, Some(pr)) => {
            let dims = DotDims {
                lhs_contract: d.lhs_contract.clone(),
                rhs_contract: shifted(&d.rhs_contract, pr),
                lhs_batch: d.lhs_batch.clone(),
                rhs_batch: shifted(&d.rhs_batch, pr),
            };
            let pos = nb + d.lhs_free(l.t.rank()).len() + dims.rhs_free(r.t.rank()).iter().filter(|&&a| a < pr).count();
            B::at(l.t.dot_general(r.t, dims), pos)
        }
        (None, None) => B::unbatched(l.t.dot_general(r.t, d.clone())),
    }
}

/// `cholesky`: the batch is one more leading axis (left in place when it
/// is among the leading axes already).
pub(crate) fn cholesky<'t>(c: &Ctx<'_, 't>) -> B<'t> {
    let a = c.args[0];
    let b = c.first_bdim();
    let b = if b + 2 < a.t.rank() { b } else { 0 };
    B::at(c.tr.op(Op::Cholesky, &[c.batched_at(0, b)]), b)
}

/// `triangular_solve a, b`.
pub(crate) fn triangular_solve<'t>(c: &Ctx<'_, 't>, op: &Op, left_side: bool) -> B<'t> {
    let (a, b) = (c.args[0], c.args[1]);
    if a.bdim.is_some() {
        return B::at(c.tr.op(op.clone(), &[c.front(0), c.front(1)]), 0);
    }
    let Some(p) = b.bdim else { return B::unbatched(c.tr.op(op.clone(), &[a.t, b.t])) };
    let shape = b.t.shape();
    let rank = shape.len();
    // The batch axis goes next to the axis of b it folds into: before the
    // columns (left side) or before the rows (right side).
    let pos = if left_side { rank - 1 } else { rank - 2 };
    let pos = pos - 1;
    let moved = move_axis(b.t, p, pos);
    let moved_shape = moved.shape();
    let mut folded_shape = moved_shape.clone();
    folded_shape.remove(pos);
    folded_shape[pos] *= c.size;
    let solved = c.tr.op(op.clone(), &[a.t, moved.reshape(&folded_shape)]);
    B::at(solved.reshape(&moved_shape), pos)
}
