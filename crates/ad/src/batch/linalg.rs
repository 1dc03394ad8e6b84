//! Batching rules of the linear-algebra ops.
//!
//! `dot_general` gains a batch dimension when both operands are batched;
//! when only one is, its batch axis is a free axis of the product, moved
//! to the front afterwards. `cholesky` and `triangular_solve` already take
//! leading batch axes.

use saddle_ir::Op;
use saddle_ir::op::DotDims;

use super::{B, Ctx};
use crate::util::{move_from_front, move_to_front};

fn shifted(v: &[usize]) -> Vec<usize> {
    v.iter().map(|a| a + 1).collect()
}

/// `dot_general lhs, rhs`.
pub(crate) fn dot_general<'t>(c: &Ctx<'_, 't>, d: &DotDims) -> B<'t> {
    let (l, r) = (c.args[0], c.args[1]);
    let nb = d.lhs_batch.len();
    match (l.batched, r.batched) {
        (true, true) | (false, false) => {
            let mut lhs_batch = vec![0];
            lhs_batch.extend(shifted(&d.lhs_batch));
            let mut rhs_batch = vec![0];
            rhs_batch.extend(shifted(&d.rhs_batch));
            let dims = DotDims {
                lhs_contract: shifted(&d.lhs_contract),
                rhs_contract: shifted(&d.rhs_contract),
                lhs_batch,
                rhs_batch,
            };
            B::batched(c.full(0).dot_general(c.full(1), dims))
        }
        (true, false) => {
            let dims = DotDims {
                lhs_contract: shifted(&d.lhs_contract),
                rhs_contract: d.rhs_contract.clone(),
                lhs_batch: shifted(&d.lhs_batch),
                rhs_batch: d.rhs_batch.clone(),
            };
            // The batch axis is the first lhs free axis: result axis nb.
            B::batched(move_to_front(l.t.dot_general(r.t, dims), nb))
        }
        (false, true) => {
            let dims = DotDims {
                lhs_contract: d.lhs_contract.clone(),
                rhs_contract: shifted(&d.rhs_contract),
                lhs_batch: d.lhs_batch.clone(),
                rhs_batch: shifted(&d.rhs_batch),
            };
            // The batch axis is the first rhs free axis.
            let pos = nb + d.lhs_free(l.t.rank()).len();
            B::batched(move_to_front(l.t.dot_general(r.t, dims), pos))
        }
    }
}

/// `cholesky`: the batch is one more leading axis.
pub(crate) fn cholesky<'t>(c: &Ctx<'_, 't>) -> B<'t> {
    B::batched(c.tr.op(Op::Cholesky, &[c.args[0].t]))
}

/// `triangular_solve a, b`. With `a` unbatched, the batch folds into the
/// columns (left side) or rows (right side) of `b`, so one solve serves the
/// whole batch and `a` is not copied; otherwise both operands carry it.
pub(crate) fn triangular_solve<'t>(c: &Ctx<'_, 't>, op: &Op, left_side: bool) -> B<'t> {
    let (a, b) = (c.args[0], c.args[1]);
    if a.batched {
        return B::batched(c.tr.op(op.clone(), &[a.t, c.full(1)]));
    }
    let shape = b.t.shape();
    let rank = shape.len();
    // Where the batch axis goes: next to the axis of b it folds into.
    let pos = if left_side { rank - 2 } else { rank - 3 };
    let moved = move_from_front(b.t, pos);
    let mut folded_shape: Vec<usize> = shape[1..].to_vec();
    folded_shape[pos] *= c.size;
    let moved_shape = moved.shape();
    let solved = c.tr.op(op.clone(), &[a.t, moved.reshape(&folded_shape)]);
    B::batched(move_to_front(solved.reshape(&moved_shape), pos))
}
