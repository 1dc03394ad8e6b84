//! Batching rule of the reductions: the reduced axes skip the batch axis,
//! which stays.

use saddle_ir::Op;
use saddle_ir::op::ReduceKind;

use super::{B, Ctx, with_batch};

/// `reduce_* x {axes}` on a batched `x`.
pub(crate) fn reduce<'t>(c: &Ctx<'_, 't>, kind: ReduceKind, axes: &[usize]) -> B<'t> {
    let b = c.first_bdim();
    let out_b = b - axes.iter().filter(|&&a| a < b).count();
    let axes = axes.iter().map(|&a| with_batch(a, b)).collect();
    B::at(c.tr.op(Op::Reduce { kind, axes }, &[c.args[0].t]), out_b)
}
