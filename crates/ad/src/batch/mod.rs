//! Batching (vmap): run a function on a batch of arguments at once.
//!
//! [`emit`] replays a function into a [`Tracer`] where every value is
//! either *unbatched* (the same for every batch element) or *batched*,
//! with the batch along one of its axes (its batch dimension, as JAX
//! tracks it: wherever the producing op leaves it, so that no transpose is
//! spent on moving it). An instruction whose operands are all unbatched is
//! copied as it is; otherwise its op's batching rule rewrites it to work on
//! the whole batch, broadcasting unbatched operands only where the op needs
//! them to be batched, and moving batch axes only where the op needs them
//! in a given place.
//!
//! The rules live in one file per op family, mirroring `saddle_ir::op`.

mod elementwise;
mod index;
mod layout;
mod linalg;
mod reduce;

use saddle_ir::{Func, Op, Tensor, Tracer};

use crate::util::{check, move_axis};
use crate::{Error, Result};

/// A value under batching: its tensor, and the axis that carries the
/// batch (`None` when unbatched).
#[derive(Clone, Copy, Debug)]
pub(crate) struct B<'t> {
    /// The tensor.
    pub t: Tensor<'t>,
    /// The batch axis.
    pub bdim: Option<usize>,
}

impl<'t> B<'t> {
    /// A value batched along `bdim`.
    pub fn at(t: Tensor<'t>, bdim: usize) -> B<'t> {
        B { t, bdim: Some(bdim) }
    }

    /// An unbatched value.
    pub fn unbatched(t: Tensor<'t>) -> B<'t> {
        B { t, bdim: None }
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
    /// Operand `i` with the batch along axis `pos`: moved there, or
    /// broadcast along a new axis there if it had none.
    pub fn batched_at(&self, i: usize, pos: usize) -> Tensor<'t> {
        let a = self.args[i];
        match a.bdim {
            Some(p) => move_axis(a.t, p, pos),
            None => {
                let mut shape = a.t.shape();
                shape.insert(pos, self.size);
                let dims: Vec<usize> = (0..shape.len()).filter(|&d| d != pos).collect();
                a.t.broadcast_in_dim(&shape, &dims)
            }
        }
    }

    /// Operand `i` with the batch along axis 0.
    pub fn front(&self, i: usize) -> Tensor<'t> {
        self.batched_at(i, 0)
    }

    /// The batch axis of the first batched operand.
    pub fn first_bdim(&self) -> usize {
        self.args.iter().find_map(|a| a.bdim).unwrap_or(0)
    }
}

/// Axis `a` of an unbatched shape, in the shape with a batch axis at `b`.
pub(crate) fn with_batch(a: usize, b: usize) -> usize {
    if a < b { a } else { a + 1 }
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
        tr.set_location_override(f.loc(v));
        let xs: Vec<B<'t>> = inst.args.iter().map(|a| val[a.index()]).collect();
        let out = if xs.iter().any(|b| b.bdim.is_some()) {
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
