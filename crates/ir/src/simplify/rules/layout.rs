//! Rules rooted at layout ops: no-op layouts, chains of reshapes,
//! transposes, broadcasts and slices, slices of pads, concatenations and
//! broadcasts, and concatenations of adjacent slices.

use egg::Id;

use super::{Ctx, Rule};
use crate::op::DotDims;
use crate::{Literal, Op};

pub(super) fn rules() -> Vec<Rule> {
    vec![
        Rule::exact("reshape-noop", "reshape", reshape_noop),
        Rule::exact("reshape-reshape", "reshape", reshape_reshape),
        Rule::exact("reshape-broadcast-scalar", "reshape", reshape_broadcast_scalar),
        Rule::exact("transpose-noop", "transpose", transpose_noop),
        Rule::exact("transpose-transpose", "transpose", transpose_transpose),
        Rule::exact("transpose-as-reshape", "transpose", transpose_as_reshape),
        Rule::exact("transpose-broadcast", "transpose", transpose_broadcast),
        Rule::exact("transpose-sink", "transpose", transpose_sink),
        Rule::exact("broadcast-noop", "broadcast_in_dim", broadcast_noop),
        Rule::exact("broadcast-broadcast", "broadcast_in_dim", broadcast_broadcast),
        Rule::exact("broadcast-as-reshape", "broadcast_in_dim", broadcast_as_reshape),
        Rule::exact("slice-noop", "slice", slice_noop),
        Rule::exact("slice-slice", "slice", slice_slice),
        Rule::exact("slice-pad", "slice", slice_pad),
        Rule::exact("slice-concatenate", "slice", slice_concatenate),
        Rule::exact("slice-broadcast", "slice", slice_broadcast),
        Rule::exact("pad-noop", "pad", pad_noop),
        Rule::exact("concatenate-one", "concatenate", concatenate_one),
        Rule::exact("concatenate-flatten", "concatenate", concatenate_flatten),
        Rule::exact("concatenate-slices", "concatenate", concatenate_slices),
    ]
}

fn reshape_noop(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    if let Op::Reshape { shape } = op {
        if cx.ty(a[0]).shape == *shape {
            out.push(a[0]);
        }
    }
}

/// `reshape(reshape x) → reshape x`.
fn reshape_reshape(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let Op::Reshape { shape } = op else { return };
    for (_, n) in cx.nodes(a[0], "reshape") {
        out.extend(cx.reshape(n[0], shape));
    }
}

/// A reshape of a broadcast one-element value is a broadcast of it.
fn reshape_broadcast_scalar(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let Op::Reshape { shape } = op else { return };
    for (_, n) in cx.nodes(a[0], "broadcast_in_dim") {
        if cx.ty(n[0]).num_elements() != 1 {
            continue;
        }
        let Some(s) = cx.reshape(n[0], &[]) else { continue };
        out.extend(cx.broadcast(s, shape, &[]));
    }
}

fn is_identity(perm: &[usize]) -> bool {
    perm.iter().enumerate().all(|(i, &p)| i == p)
}

fn transpose_noop(_: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    if let Op::Transpose { perm } = op {
        if is_identity(perm) {
            out.push(a[0]);
        }
    }
}

/// `transpose(transpose(x, p), q) → transpose(x, p∘q)`.
fn transpose_transpose(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let Op::Transpose { perm: q } = op else { return };
    for (iop, n) in cx.nodes(a[0], "transpose") {
        let Op::Transpose { perm: p } = iop else { continue };
        let r: Vec<usize> = q.iter().map(|&i| p[i]).collect();
        out.extend(cx.transpose(n[0], &r));
    }
}

/// A transpose that only moves axes of extent 1 is a reshape.
fn transpose_as_reshape(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let Op::Transpose { perm } = op else { return };
    if is_identity(perm) {
        return;
    }
    let shape = cx.shape(a[0]);
    let moved: Vec<usize> = perm.iter().copied().filter(|&p| shape[p] != 1).collect();
    if moved.windows(2).all(|w| w[0] < w[1]) {
        let new_shape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
        out.extend(cx.reshape(a[0], &new_shape));
    }
}

/// `transpose(broadcast x)` is a broadcast of `x` (transposed first when
/// its axes must change order; `x` is the smaller tensor).
fn transpose_broadcast(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let Op::Transpose { perm } = op else { return };
    let mut inv = vec![0; perm.len()];
    for (k, &p) in perm.iter().enumerate() {
        inv[p] = k;
    }
    for (bop, n) in cx.nodes(a[0], "broadcast_in_dim") {
        let Op::BroadcastInDim { shape, dims } = bop else { continue };
        let out_shape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
        let mapped: Vec<usize> = dims.iter().map(|&d| inv[d]).collect();
        let mut order: Vec<usize> = (0..mapped.len()).collect();
        order.sort_by_key(|&i| mapped[i]);
        let Some(x) = cx.transpose(n[0], &order) else { continue };
        let sorted: Vec<usize> = order.iter().map(|&i| mapped[i]).collect();
        out.extend(cx.broadcast(x, &out_shape, &sorted));
    }
}

fn broadcast_noop(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    if let Op::BroadcastInDim { shape, dims } = op {
        if cx.ty(a[0]).shape == *shape && is_identity(dims) {
            out.push(a[0]);
        }
    }
}

/// `broadcast(broadcast x) → broadcast x` with composed axes.
fn broadcast_broadcast(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let Op::BroadcastInDim { shape, dims: d2 } = op else { return };
    for (iop, n) in cx.nodes(a[0], "broadcast_in_dim") {
        let Op::BroadcastInDim { dims: d1, .. } = iop else { continue };
        let dims: Vec<usize> = d1.iter().map(|&i| d2[i]).collect();
        out.extend(cx.broadcast(n[0], shape, &dims));
    }
}

/// A broadcast that copies nothing (it only adds axes of extent 1) is a
/// reshape.
fn broadcast_as_reshape(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let Op::BroadcastInDim { shape, dims } = op else { return };
    let xshape = cx.shape(a[0]);
    let copies_nothing = xshape.iter().zip(dims).all(|(&e, &d)| e == shape[d])
        && (0..shape.len()).all(|d| dims.contains(&d) || shape[d] == 1);
    if copies_nothing && !(xshape == *shape && is_identity(dims)) {
        out.extend(cx.reshape(a[0], shape));
    }
}

fn slice_noop(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let Op::Slice { start, limit, stride } = op else { return };
    let shape = cx.shape(a[0]);
    if start.iter().all(|&s| s == 0) && stride.iter().all(|&s| s == 1) && *limit == shape {
        out.push(a[0]);
    }
}

/// The slice of `x` selecting positions `start + k·stride`, `k < n`, per axis.
fn slice_op(starts: Vec<usize>, counts: &[usize], strides: Vec<usize>) -> Op {
    let limit = starts
        .iter()
        .zip(counts)
        .zip(&strides)
        .map(|((&s, &n), &st)| if n == 0 { s } else { s + (n - 1) * st + 1 })
        .collect();
    Op::Slice { start: starts, limit, stride: strides }
}

/// The slice of `x` selecting `counts[a]` positions from `starts[a]` by
/// `strides[a]` on each axis (`x` itself when that is everything). Empty
/// results are left alone.
fn add_slice(cx: &mut Ctx<'_>, x: Id, starts: Vec<usize>, counts: &[usize], strides: Vec<usize>) -> Option<Id> {
    if counts.contains(&0) {
        return None;
    }
    let full = starts.iter().all(|&s| s == 0)
        && *counts == cx.shape(x)[..]
        && strides.iter().zip(counts).all(|(&s, &n)| s == 1 || n <= 1);
    if full {
        return Some(x);
    }
    let strides = strides.iter().zip(counts).map(|(&s, &n)| if n <= 1 { 1 } else { s }).collect();
    cx.add(slice_op(starts, counts, strides), &[x])
}

/// `slice(slice x) → slice x` with composed starts and strides.
fn slice_slice(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let Op::Slice { start: s2, stride: st2, .. } = op else { return };
    let Some(counts) = result_counts(cx, op, a[0]) else { return };
    for (iop, n) in cx.nodes(a[0], "slice") {
        let Op::Slice { start: s1, stride: st1, .. } = iop else { continue };
        let starts = (0..s1.len()).map(|i| s1[i] + s2[i] * st1[i]).collect();
        let strides = (0..s1.len()).map(|i| st1[i] * st2[i]).collect();
        out.extend(add_slice(cx, n[0], starts, &counts, strides));
    }
}

fn result_counts(cx: &Ctx<'_>, op: &Op, x: Id) -> Option<Vec<usize>> {
    op.infer_type(&[cx.ty(x)]).ok().map(|t| t.shape.to_vec())
}

/// A slice of a pad that selects only elements of the padded operand is a
/// slice of that operand (or the operand itself).
fn slice_pad(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let Op::Slice { start, stride, .. } = op else { return };
    let Some(counts) = result_counts(cx, op, a[0]) else { return };
    if counts.contains(&0) {
        return;
    }
    'nodes: for (pop, n) in cx.nodes(a[0], "pad") {
        let Op::Pad { low, interior, .. } = pop else { continue };
        let xshape = cx.shape(n[0]);
        let mut starts = Vec::new();
        let mut strides = Vec::new();
        for ax in 0..counts.len() {
            let step = interior[ax] + 1;
            let Some(first) = start[ax].checked_sub(low[ax]) else { continue 'nodes };
            if first % step != 0 || (counts[ax] > 1 && stride[ax] % step != 0) {
                continue 'nodes;
            }
            let (s, st) = (first / step, if counts[ax] > 1 { stride[ax] / step } else { 1 });
            if s + (counts[ax] - 1) * st >= xshape[ax] {
                continue 'nodes;
            }
            starts.push(s);
            strides.push(st);
        }
        out.extend(add_slice(cx, n[0], starts, &counts, strides));
    }
}

/// A slice of a concatenation that stays inside one operand is a slice of
/// that operand.
fn slice_concatenate(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let Op::Slice { start, stride, .. } = op else { return };
    let Some(counts) = result_counts(cx, op, a[0]) else { return };
    for (cop, parts) in cx.nodes(a[0], "concatenate") {
        let Op::Concatenate { axis } = cop else { continue };
        if counts[axis] == 0 {
            continue;
        }
        let first = start[axis];
        let last = first + (counts[axis] - 1) * stride[axis];
        let mut offset = 0;
        for &p in &parts {
            let e = cx.ty(p).shape[axis];
            if first >= offset && last < offset + e {
                let mut starts = start.clone();
                starts[axis] -= offset;
                out.extend(add_slice(cx, p, starts, &counts, stride.clone()));
                break;
            }
            offset += e;
        }
    }
}

/// `slice(broadcast x) → broadcast(slice x)`: slice the smaller tensor.
fn slice_broadcast(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let Op::Slice { start, stride, .. } = op else { return };
    let Some(counts) = result_counts(cx, op, a[0]) else { return };
    for (bop, n) in cx.nodes(a[0], "broadcast_in_dim") {
        let Op::BroadcastInDim { dims, .. } = bop else { continue };
        let xshape = cx.shape(n[0]);
        let mut starts = Vec::new();
        let mut xcounts = Vec::new();
        let mut strides = Vec::new();
        for (i, &d) in dims.iter().enumerate() {
            if xshape[i] == 1 {
                starts.push(0);
                xcounts.push(1);
                strides.push(1);
            } else {
                starts.push(start[d]);
                xcounts.push(counts[d]);
                strides.push(stride[d]);
            }
        }
        let Some(x) = add_slice(cx, n[0], starts, &xcounts, strides) else { continue };
        out.extend(cx.broadcast(x, &counts, &dims));
    }
}

fn pad_noop(_: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    if let Op::Pad { low, high, interior } = op {
        if low.iter().chain(high).chain(interior).all(|&p| p == 0) {
            out.push(a[0]);
        }
    }
}

fn concatenate_one(_: &mut Ctx<'_>, _: &Op, a: &[Id], out: &mut Vec<Id>) {
    if a.len() == 1 {
        out.push(a[0]);
    }
}

/// Operands that are concatenations along the same axis are spliced in.
fn concatenate_flatten(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let mut flat = Vec::new();
    let mut changed = false;
    for &x in a {
        let inner = cx.nodes(x, "concatenate").into_iter().find(|(iop, _)| iop == op);
        match inner {
            Some((_, parts)) => {
                flat.extend(parts);
                changed = true;
            }
            None => flat.push(x),
        }
    }
    if changed {
        out.extend(cx.add(op.clone(), &flat));
    }
}

/// A unit-stride slice: source, start, limit.
type UnitSlice = (Id, Vec<usize>, Vec<usize>);

/// Adjacent operands that are unit-stride slices of one value, contiguous
/// along the axis and equal elsewhere, become one slice.
fn concatenate_slices(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let Op::Concatenate { axis } = op else { return };
    let axis = *axis;
    let slices: Vec<Option<UnitSlice>> = a
        .iter()
        .map(|&x| {
            cx.nodes(x, "slice").into_iter().find_map(|(sop, n)| match sop {
                Op::Slice { start, limit, stride } if stride.iter().all(|&s| s == 1) => Some((n[0], start, limit)),
                _ => None,
            })
        })
        .collect();
    let mut merged: Vec<Id> = Vec::new();
    let mut changed = false;
    let mut i = 0;
    while i < a.len() {
        let Some((src, start, mut limit)) = slices[i].clone() else {
            merged.push(a[i]);
            i += 1;
            continue;
        };
        let mut j = i + 1;
        while let Some(Some((s2, st2, l2))) = slices.get(j) {
            let same_elsewhere = (0..start.len()).all(|d| d == axis || (st2[d] == start[d] && l2[d] == limit[d]));
            if cx.find(*s2) != cx.find(src) || st2[axis] != limit[axis] || !same_elsewhere {
                break;
            }
            limit[axis] = l2[axis];
            j += 1;
        }
        if j > i + 1 {
            changed = true;
            let counts: Vec<usize> = start.iter().zip(&limit).map(|(s, l)| l - s).collect();
            match add_slice(cx, src, start.clone(), &counts, vec![1; start.len()]) {
                Some(s) => merged.push(s),
                None => return,
            }
        } else {
            merged.push(a[i]);
        }
        i = j;
    }
    if !changed {
        return;
    }
    if merged.len() == 1 {
        out.push(merged[0]);
    } else {
        out.extend(cx.add(op.clone(), &merged));
    }
}

/// How deep [`transpose_sink`] looks through elementwise ops.
const SINK_DEPTH: usize = 3;

/// The elementwise ops a transpose sinks through.
const SINKS: [&str; 6] = ["add", "sub", "mul", "neg", "div", "select"];

/// `transpose(f(a, b)) → f(a', b')` when the transpose of every operand is
/// free: a splat, a small constant (folded), an identity-like tensor that
/// the transpose maps to itself, a transpose it cancels, a broadcast, a
/// `dot_general` whose operands it swaps, or (a few levels deep) an
/// elementwise op of such operands. The transpose at the end of a Hessian
/// (`jacfwd`'s basis axis moved last) disappears this way.
fn transpose_sink(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let Op::Transpose { perm } = op else { return };
    if is_identity(perm) {
        return;
    }
    for name in SINKS {
        for (fop, n) in cx.nodes(a[0], name) {
            if n.iter().all(|&x| free_transpose(cx, perm, x, SINK_DEPTH)) {
                let args: Option<Vec<Id>> = n.iter().map(|&x| sink(cx, perm, x, SINK_DEPTH)).collect();
                if let Some(args) = args {
                    out.extend(cx.add(fop, &args));
                    return;
                }
            }
        }
    }
}

fn inverse(perm: &[usize]) -> Vec<usize> {
    let mut inv = vec![0; perm.len()];
    for (k, &p) in perm.iter().enumerate() {
        inv[p] = k;
    }
    inv
}

/// Whether `x`'s identity-like structure is unchanged by `perm`.
fn symmetric_delta(cx: &Ctx<'_>, perm: &[usize], x: Id) -> bool {
    let Some(d) = cx.facts(x).delta.clone() else { return false };
    let shape = cx.shape(x);
    let inv = inverse(perm);
    let map = |g: &[usize]| -> Vec<usize> {
        let mut v: Vec<usize> = g.iter().map(|&i| inv[i]).collect();
        v.sort_unstable();
        v
    };
    let (a, b) = (map(&d.a), map(&d.b));
    let same_shape = perm.iter().enumerate().all(|(k, &p)| shape[p] == shape[k]);
    let keeps_order = |g: &[usize]| g.iter().map(|&i| inv[i]).collect::<Vec<_>>().windows(2).all(|w| w[0] < w[1]);
    same_shape && keeps_order(&d.a) && keeps_order(&d.b) && ((a == d.a && b == d.b) || (a == d.b && b == d.a))
}

/// The `dot_general` e-node of `x` whose transpose by `perm` swaps its
/// operands (no batch axes): `(xᵀ)` is `dot(y, x)`.
fn swapped_dot(cx: &Ctx<'_>, perm: &[usize], x: Id) -> Option<(DotDims, Id, Id)> {
    cx.nodes(x, "dot_general").into_iter().find_map(|(dop, n)| {
        let Op::DotGeneral(d) = dop else { return None };
        if !d.lhs_batch.is_empty() {
            return None;
        }
        let nl = d.lhs_free(cx.ty(n[0]).rank()).len();
        let nr = d.rhs_free(cx.ty(n[1]).rank()).len();
        let swapped: Vec<usize> = (nl..nl + nr).chain(0..nl).collect();
        (perm == swapped.as_slice()).then(|| {
            let nd = DotDims {
                lhs_contract: d.rhs_contract.clone(),
                rhs_contract: d.lhs_contract.clone(),
                lhs_batch: Vec::new(),
                rhs_batch: Vec::new(),
            };
            (nd, n[1], n[0])
        })
    })
}

/// Whether `x` is a constant that folding writes out (its transpose folds
/// into a constant too).
fn small_constant(cx: &Ctx<'_>, x: Id) -> bool {
    cx.facts(x).konst.as_deref().is_some_and(|l| match l {
        Literal::Splat { .. } => true,
        Literal::Dense(a) => a.len() <= cx.max_fold_elements(),
    })
}

/// Whether transposing `x` by `perm` costs nothing (see [`transpose_sink`]).
fn free_transpose(cx: &Ctx<'_>, perm: &[usize], x: Id, depth: usize) -> bool {
    if small_constant(cx, x) || symmetric_delta(cx, perm, x) {
        return true;
    }
    let cancels = cx.nodes(x, "transpose").into_iter().any(|(top, _)| match top {
        Op::Transpose { perm: p } => is_identity(&perm.iter().map(|&i| p[i]).collect::<Vec<_>>()),
        _ => false,
    });
    if cancels || !cx.nodes(x, "broadcast_in_dim").is_empty() || swapped_dot(cx, perm, x).is_some() {
        return true;
    }
    depth > 0
        && SINKS.iter().any(|name| {
            cx.nodes(x, name).iter().any(|(_, n)| n.iter().all(|&y| free_transpose(cx, perm, y, depth - 1)))
        })
}

/// The transpose of `x` by `perm`, built without a `transpose` where
/// [`free_transpose`] says it can be.
fn sink(cx: &mut Ctx<'_>, perm: &[usize], x: Id, depth: usize) -> Option<Id> {
    let shape = cx.shape(x);
    let tshape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
    if let Some(v) = cx.splat(x) {
        return Some(cx.constant(Literal::splat(v, tshape)));
    }
    if symmetric_delta(cx, perm, x) {
        return Some(x);
    }
    if small_constant(cx, x) {
        return cx.add(Op::Transpose { perm: perm.to_vec() }, &[x]);
    }
    for (top, n) in cx.nodes(x, "transpose") {
        let Op::Transpose { perm: p } = top else { continue };
        if is_identity(&perm.iter().map(|&i| p[i]).collect::<Vec<_>>()) {
            return Some(n[0]);
        }
    }
    if let Some((d, l, r)) = swapped_dot(cx, perm, x) {
        return cx.add(Op::DotGeneral(d), &[l, r]);
    }
    if !cx.nodes(x, "broadcast_in_dim").is_empty() {
        let mut v = Vec::new();
        transpose_broadcast(cx, &Op::Transpose { perm: perm.to_vec() }, &[x], &mut v);
        return v.first().copied();
    }
    if depth == 0 {
        return None;
    }
    for name in SINKS {
        for (fop, n) in cx.nodes(x, name) {
            if n.iter().all(|&y| free_transpose(cx, perm, y, depth - 1)) {
                let args: Option<Vec<Id>> = n.iter().map(|&y| sink(cx, perm, y, depth - 1)).collect();
                return cx.add(fop, &args?);
            }
        }
    }
    None
}
