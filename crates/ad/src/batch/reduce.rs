//! Batching rule of the reductions: the reduced axes shift past the batch
//! axis.

use saddle_ir::Op;
use saddle_ir::op::ReduceKind;

use super::{B, Ctx};

/// `reduce_* x {axes}` on a batched `x`.
pub(crate) fn reduce<'t>(c: &Ctx<'_, 't>, kind: ReduceKind, axes: &[usize]) -> B<'t> {
    let axes = axes.iter().map(|a| a + 1).collect();
    B::batched(c.tr.op(Op::Reduce { kind, axes }, &[c.args[0].t]))
}
