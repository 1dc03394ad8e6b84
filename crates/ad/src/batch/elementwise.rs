//! Batching rule of the elementwise ops: the op applied to the batch, with
//! unbatched operands broadcast along it.

use saddle_ir::Op;

use super::{B, Ctx};

/// Unary, binary, comparison, `select`, `convert`, `stop_gradient`.
pub(crate) fn elementwise<'t>(c: &Ctx<'_, 't>, op: &Op) -> B<'t> {
    if c.args.len() == 1 {
        return B::batched(c.tr.op(op.clone(), &[c.args[0].t]));
    }
    let full: Vec<_> = (0..c.args.len()).map(|i| c.full(i)).collect();
    B::batched(c.tr.op(op.clone(), &full))
}
