//! Batching rule of the elementwise ops: the op applied to the batch, with
//! the batch axis of the first batched operand; other batched operands
//! are moved to match and unbatched ones broadcast along it.

use saddle_ir::Op;

use super::{B, Ctx};

/// Unary, binary, comparison, `select`, `convert`, `stop_gradient`.
pub(crate) fn elementwise<'t>(c: &Ctx<'_, 't>, op: &Op) -> B<'t> {
    let b = c.first_bdim();
    let args: Vec<_> = (0..c.args.len()).map(|i| c.batched_at(i, b)).collect();
    B::at(c.tr.op(op.clone(), &args), b)
}
