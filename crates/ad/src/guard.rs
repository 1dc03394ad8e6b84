//! Index checks that derived functions keep from the original.
//!
//! `take` and `segment_sum` refuse an index out of range at run time. A
//! derived function often needs only the derivative structure of such an
//! op: the Hessian of a function linear in `take(x, idx)` is zero whatever
//! the indices, and the gradient of a function that returns `take(x, idx)`
//! beside its value never reads the gathered values. Dead-code elimination
//! would then remove the op and its check, and the derived function would
//! return numbers where the original fails.
//!
//! [`keep_index_checks`] runs on every function a transformation builds,
//! before dead-code elimination: each index op that no result needs, and
//! whose indices no live index op checks against the same extent, gets a
//! guard, an index op of the same kind on zeros (O(number of indices)),
//! named and located like the original. The guards' sums (always 0) are
//! then used as the index of a `take` that passes each result through
//! unchanged, so the guards stay alive through dead-code elimination and
//! simplification (which never folds an index it cannot see).

use std::collections::HashSet;

use saddle_ir::op::ReduceKind;
use saddle_ir::{DType, Func, FuncBuilder, Inst, Literal, Op, Scalar, TensorType, Value};

use crate::{Error, Result};

/// The indices of an index op and the extent they must stay below.
fn index_operand(f: &Func, inst: &Inst) -> Option<(Value, usize)> {
    match &inst.op {
        Op::Take { axis } => Some((inst.args[1], f.ty(inst.args[0]).shape[*axis])),
        Op::SegmentSum { num_segments } => Some((inst.args[1], *num_segments)),
        Op::Const(_)
        | Op::Iota { .. }
        | Op::Unary(_)
        | Op::Binary(_)
        | Op::Compare(_)
        | Op::Select
        | Op::Convert { .. }
        | Op::StopGradient
        | Op::BroadcastInDim { .. }
        | Op::Reshape { .. }
        | Op::Transpose { .. }
        | Op::Reduce { .. }
        | Op::Slice { .. }
        | Op::Pad { .. }
        | Op::Concatenate { .. }
        | Op::DotGeneral(_)
        | Op::Cholesky
        | Op::TriangularSolve { .. } => None,
    }
}

/// Adds guards for the index ops of `f` that its results do not need (see
/// the module doc); `f` unchanged when there are none.
pub(crate) fn keep_index_checks(f: Func) -> Result<Func> {
    let n = f.num_values();
    let mut live = vec![false; n];
    for r in f.results() {
        live[r.index()] = true;
    }
    for (v, inst) in f.iter_insts().rev() {
        if live[v.index()] {
            for a in &inst.args {
                live[a.index()] = true;
            }
        }
    }
    let mut checked: HashSet<(Value, usize)> = HashSet::new();
    for (v, inst) in f.iter_insts() {
        if live[v.index()] {
            checked.extend(index_operand(&f, inst));
        }
    }
    let mut pending = Vec::new();
    for (v, inst) in f.iter_insts() {
        if live[v.index()] {
            continue;
        }
        if let Some((idx, extent)) = index_operand(&f, inst) {
            if f.ty(idx).num_elements() > 0 && !known_in_range(&f, idx, extent) && checked.insert((idx, extent)) {
                pending.push((v, idx, extent));
            }
        }
    }
    if pending.is_empty() {
        return Ok(f);
    }
    let mut b = FuncBuilder::new(f.name());
    b.reserve(n + 4 * pending.len() + 2 * f.results().len() + 1);
    for p in f.params() {
        let q = b.param(f.ty(p).clone())?;
        copy_side(&f, p, &mut b, q);
    }
    for (v, inst) in f.iter_insts() {
        let w = b.push_typed(inst.op.clone(), &inst.args, f.ty(v).clone());
        copy_side(&f, v, &mut b, w);
    }
    let push = |b: &mut FuncBuilder, op: Op, args: &[Value]| {
        b.push(op, args).map_err(|e| Error::Internal(format!("an index check is ill-typed: {e}")))
    };
    let mut total: Option<Value> = None;
    for &(v, idx, extent) in &pending {
        let count = f.ty(idx).num_elements();
        let flat = if f.ty(idx).rank() == 1 { idx } else { push(&mut b, Op::Reshape { shape: vec![count] }, &[idx])? };
        let zeros = |len| Literal::Splat { ty: TensorType::new(DType::I32, [len]), value: Scalar::I32(0) };
        // A guard of the original's kind, so that its error names the op
        // the user wrote.
        let guard = if let Some(Op::SegmentSum { num_segments }) = f.inst(v).map(|i| &i.op) {
            let data = b.constant(zeros(count));
            push(&mut b, Op::SegmentSum { num_segments: *num_segments }, &[data, flat])?
        } else {
            let data = b.constant(zeros(extent));
            push(&mut b, Op::Take { axis: 0 }, &[data, flat])?
        };
        copy_side(&f, v, &mut b, guard);
        let zero = push(&mut b, Op::Reduce { kind: ReduceKind::Sum, axes: vec![0] }, &[guard])?;
        total = Some(match total {
            Some(t) => push(&mut b, Op::Binary(saddle_ir::op::Binary::Add), &[t, zero])?,
            None => zero,
        });
    }
    let total = total.expect("at least one guard");
    let mut results = Vec::with_capacity(f.results().len());
    for &r in f.results() {
        let ty = f.ty(r);
        let mut shape = vec![1];
        shape.extend(&ty.shape);
        let lifted = push(&mut b, Op::Reshape { shape }, &[r])?;
        let kept = push(&mut b, Op::Take { axis: 0 }, &[lifted, total])?;
        copy_side(&f, r, &mut b, kept);
        results.push(kept);
    }
    Ok(b.finish(&results)?)
}

/// Whether `idx` is a constant whose entries are all in `0..extent`: such
/// a check cannot fail and needs no guard.
fn known_in_range(f: &Func, idx: Value, extent: usize) -> bool {
    let Some(Inst { op: Op::Const(lit), .. }) = f.inst(idx) else { return false };
    let in_range = |s: Scalar| match s {
        Scalar::I32(i) => usize::try_from(i).is_ok_and(|i| i < extent),
        Scalar::I64(i) => usize::try_from(i).is_ok_and(|i| i < extent),
        Scalar::F32(_) | Scalar::F64(_) | Scalar::Bool(_) => false,
    };
    match lit {
        Literal::Splat { value, .. } => in_range(*value),
        Literal::Dense(a) => a.scalars().into_iter().all(in_range),
    }
}

fn copy_side(f: &Func, from: Value, b: &mut FuncBuilder, to: Value) {
    if let Some(name) = f.value_name(from) {
        b.set_name(to, name);
    }
    if let Some(loc) = f.loc(from) {
        b.set_loc(to, loc);
    }
}
