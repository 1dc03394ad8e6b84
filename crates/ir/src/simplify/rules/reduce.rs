//! Rules rooted at reductions: empty reductions, reductions of broadcasts
//! (a sum of copies is a scaling), nested reductions, reductions of
//! transposes.

use egg::Id;

use super::{Ctx, Rule};
use crate::Op;
use crate::op::{Binary, ReduceKind};

pub(super) fn rules() -> Vec<Rule> {
    let mut r = Vec::new();
    for root in ["reduce_sum", "reduce_max", "reduce_min"] {
        r.push(Rule::exact("reduce-nothing", root, reduce_nothing));
        r.push(Rule::exact("reduce-broadcast", root, reduce_broadcast));
        r.push(Rule::exact("reduce-reduce", root, reduce_reduce));
        r.push(Rule::exact("reduce-transpose", root, reduce_transpose));
    }
    r
}

/// A reduction over no axes is the operand.
fn reduce_nothing(_: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    if let Op::Reduce { axes, .. } = op {
        if axes.is_empty() {
            out.push(a[0]);
        }
    }
}

/// `reduce(broadcast x)`: axes the broadcast created (or expanded from
/// extent 1) reduce to one copy, times their element count for a sum;
/// the other reduced axes reduce `x` itself, before broadcasting the rest.
fn reduce_broadcast(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let Op::Reduce { kind, axes } = op else { return };
    for (bop, n) in cx.nodes(a[0], "broadcast_in_dim") {
        let Op::BroadcastInDim { shape, dims } = bop else { continue };
        let x = n[0];
        let xshape = cx.shape(x);
        if axes.iter().any(|&ax| shape[ax] == 0) {
            continue;
        }
        let dtype = cx.ty(x).dtype;
        // Count of copies summed, and the operand axes reduced directly.
        let mut copies: usize = 1;
        let mut inner_axes = Vec::new();
        for &ax in axes {
            match dims.iter().position(|&d| d == ax) {
                None => copies *= shape[ax],
                Some(i) => {
                    inner_axes.push(i);
                    if xshape[i] == 1 {
                        copies *= shape[ax];
                    }
                }
            }
        }
        inner_axes.sort_unstable();
        let Some(inner) = (if inner_axes.is_empty() {
            Some(x)
        } else {
            cx.add(Op::Reduce { kind: *kind, axes: inner_axes.clone() }, &[x])
        }) else {
            continue;
        };
        // Broadcast the kept operand axes to the reduced result's shape.
        let kept_out: Vec<usize> = (0..shape.len()).filter(|d| !axes.contains(d)).collect();
        let out_shape: Vec<usize> = kept_out.iter().map(|&d| shape[d]).collect();
        let new_dims: Vec<usize> = (0..xshape.len())
            .filter(|i| !inner_axes.contains(i))
            .map(|i| kept_out.iter().position(|&d| d == dims[i]).expect("a kept operand axis maps to a kept axis"))
            .collect();
        let Some(b) = cx.broadcast(inner, &out_shape, &new_dims) else { continue };
        if dtype.is_int() && copies > i32::MAX as usize {
            continue;
        }
        let scaled = if *kind == ReduceKind::Sum && copies != 1 {
            let c = cx.splat_const(dtype, copies as f64, &out_shape);
            cx.add(Op::Binary(Binary::Mul), &[b, c])
        } else {
            Some(b)
        };
        out.extend(scaled);
    }
}

/// `reduce(reduce(x, a1), a2) → reduce(x, a1 ∪ a2)` for the same kind.
fn reduce_reduce(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let Op::Reduce { kind, axes } = op else { return };
    for (iop, n) in cx.nodes(a[0], kind.name()) {
        let Op::Reduce { axes: inner, .. } = iop else { continue };
        let rank = cx.ty(n[0]).rank();
        let kept: Vec<usize> = (0..rank).filter(|d| !inner.contains(d)).collect();
        let mut all: Vec<usize> = inner.iter().copied().chain(axes.iter().map(|&j| kept[j])).collect();
        all.sort_unstable();
        out.extend(cx.add(Op::Reduce { kind: *kind, axes: all }, &[n[0]]));
    }
}

/// `reduce(transpose(x, p), axes) → reduce(x, p[axes])`, followed by a
/// transpose of the (smaller) result when the kept axes change order.
fn reduce_transpose(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let Op::Reduce { kind, axes } = op else { return };
    for (top, n) in cx.nodes(a[0], "transpose") {
        let Op::Transpose { perm } = top else { continue };
        let mut mapped: Vec<usize> = axes.iter().map(|&i| perm[i]).collect();
        mapped.sort_unstable();
        // Kept axes of the transposed value, as operand axes, in output order.
        let kept: Vec<usize> = (0..perm.len()).filter(|i| !axes.contains(i)).map(|i| perm[i]).collect();
        let Some(r) = cx.add(Op::Reduce { kind: *kind, axes: mapped }, &[n[0]]) else { continue };
        // Result axis j of r is the j-th smallest kept operand axis.
        let mut sorted = kept.clone();
        sorted.sort_unstable();
        let q: Vec<usize> = kept.iter().map(|k| sorted.binary_search(k).expect("kept axis")).collect();
        out.extend(cx.transpose(r, &q));
    }
}
