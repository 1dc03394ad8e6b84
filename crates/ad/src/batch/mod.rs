//! Batching (vmap): run a function on a batch of arguments at once.
//!
//! [`emit`] replays a function into a [`Tracer`] where every value is
//! either *unbatched* (the same for every batch element) or *batched*,
//! with the batch as its leading axis. An instruction whose operands are
//! all unbatched is copied as it is; otherwise its op's batching rule
//! rewrites it to work on the whole batch, broadcasting unbatched operands
//! only where the op needs them to be batched.
//!
//! The rules live in one file per op family, mirroring `saddle_ir::op`.

mod elementwise;
mod index;
mod layout;
mod linalg;
mod reduce;

use saddle_ir::{Func, Op, Tensor, Tracer};

use crate::util::{broadcast_front, check};
use crate::{Error, Result};

/// A value under batching: its tensor, and whether axis 0 is the batch.
#[derive(Clone, Copy, Debug)]
pub(crate) struct B<'t> {
    /// The tensor.
    pub t: Tensor<'t>,
    /// Whether it carries the batch as axis 0.
    pub batched: bool,
}

impl<'t> B<'t> {
    /// A batched value.
    pub fn batched(t: Tensor<'t>) -> B<'t> {
        B { t, batched: true }
    }

    /// An unbatched value.
    pub fn unbatched(t: Tensor<'t>) -> B<'t> {
        B { t, batched: false }
    }
}

/// What a batching rule sees of one instruction (at least one operand is
/// batched).
pub(crate) struct Ctx<'a, 't> {
    /// The tracer the rule writes into.
    pub tr: &'t Tracer,
    /// The operands.
    pub args: &'a [B<'t>],
    /// The batch size.
    pub size: usize,
}

impl<'t> Ctx<'_, 't> {
    /// Operand `i` with the batch axis, broadcast if it had none.
    pub fn full(&self, i: usize) -> Tensor<'t> {
        let a = self.args[i];
        if a.batched { a.t } else { broadcast_front(a.t, self.size) }
    }
}

/// Replays `f` into `tr` on batched or unbatched `args`; returns the
/// results, batched or not.
pub(crate) fn emit<'t>(tr: &'t Tracer, f: &Func, args: &[B<'t>], size: usize) -> Result<Vec<B<'t>>> {
    if args.len() != f.num_params() {
        return Err(Error::Count { what: "vmap arguments", expected: f.num_params(), found: args.len() });
    }
    let mut val: Vec<B<'t>> = Vec::with_capacity(f.num_values());
    val.extend_from_slice(args);
    for (v, inst) in f.iter_insts() {
        tr.set_location_override(f.loc(v).cloned());
        let xs: Vec<B<'t>> = inst.args.iter().map(|a| val[a.index()]).collect();
        let out = if xs.iter().any(|b| b.batched) {
            rule(&inst.op, &Ctx { tr, args: &xs, size })?
        } else {
            let ts: Vec<Tensor<'t>> = xs.iter().map(|b| b.t).collect();
            B::unbatched(tr.op(inst.op.clone(), &ts))
        };
        if let Some(name) = f.value_name(v) {
            out.t.named(name);
        }
        tr.set_location_override(None);
        check(tr)?;
        val.push(out);
    }
    Ok(f.results().iter().map(|r| val[r.index()]).collect())
}

/// The batching rule of every op.
fn rule<'t>(op: &Op, c: &Ctx<'_, 't>) -> Result<B<'t>> {
    Ok(match op {
        Op::Const(_) | Op::Iota { .. } => B::unbatched(c.tr.op(op.clone(), &[])),
        Op::Unary(_) | Op::Binary(_) | Op::Compare(_) | Op::Select | Op::Convert { .. } | Op::StopGradient => {
            elementwise::elementwise(c, op)
        }
        Op::BroadcastInDim { shape, dims } => layout::broadcast_in_dim(c, shape, dims),
        Op::Reshape { shape } => layout::reshape(c, shape),
        Op::Transpose { perm } => layout::transpose(c, perm),
        Op::Reduce { kind, axes } => reduce::reduce(c, *kind, axes),
        Op::Slice { start, limit, stride } => layout::slice(c, start, limit, stride),
        Op::Pad { low, high, interior } => layout::pad(c, low, high, interior),
        Op::Concatenate { axis } => layout::concatenate(c, *axis),
        Op::DotGeneral(d) => linalg::dot_general(c, d),
        Op::Cholesky => linalg::cholesky(c),
        Op::TriangularSolve { left_side, .. } => linalg::triangular_solve(c, op, *left_side),
        Op::Take { axis } => index::take(c, *axis),
        Op::SegmentSum { num_segments } => index::segment_sum(c, *num_segments),
    })
}
