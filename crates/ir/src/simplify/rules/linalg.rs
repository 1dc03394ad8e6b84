//! Rules rooted at `dot_general` (and at transposes of one): transposes
//! folded into the contraction, products with an identity, one-hot or
//! splat operand, and re-association of chains by flops.

use egg::Id;

use super::{Ctx, Rule};
use crate::op::{Binary, DotDims, ReduceKind, Unary};
use crate::{Literal, Op, Scalar, TensorType};

pub(super) fn rules() -> Vec<Rule> {
    vec![
        Rule::exact("dot-transpose", "dot_general", dot_transpose),
        Rule::exact("transpose-dot", "transpose", transpose_dot),
        Rule::exact("dot-delta", "dot_general", dot_delta),
        Rule::exact("dot-one-hot", "dot_general", dot_one_hot),
        Rule::exact("dot-splat-one", "dot_general", dot_splat_one),
        Rule::reassociate("dot-splat", "dot_general", dot_splat),
        Rule::reassociate("dot-reassociate", "dot_general", dot_reassociate),
        Rule::nan_unsafe("dot-zero", "dot_general", dot_zero),
    ]
}

fn increasing(v: &[usize]) -> bool {
    v.windows(2).all(|w| w[0] < w[1])
}

/// `dot_general(transpose(x, p), y)` contracts `x` directly when the free
/// axes keep their order (likewise on the right).
fn dot_transpose(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let Op::DotGeneral(d) = op else { return };
    for side in 0..2 {
        let rank = cx.ty(a[side]).rank();
        for (top, n) in cx.nodes(a[side], "transpose") {
            let Op::Transpose { perm } = top else { continue };
            let (contract, batch) =
                if side == 0 { (&d.lhs_contract, &d.lhs_batch) } else { (&d.rhs_contract, &d.rhs_batch) };
            let free: Vec<usize> = DotDims::free_axes(rank, contract, batch).iter().map(|&i| perm[i]).collect();
            if !increasing(&free) {
                continue;
            }
            let mut nd = d.clone();
            let (c, b) = if side == 0 {
                (&mut nd.lhs_contract, &mut nd.lhs_batch)
            } else {
                (&mut nd.rhs_contract, &mut nd.rhs_batch)
            };
            *c = contract.iter().map(|&i| perm[i]).collect();
            *b = batch.iter().map(|&i| perm[i]).collect();
            let args = if side == 0 { [n[0], a[1]] } else { [a[0], n[0]] };
            out.extend(cx.add(Op::DotGeneral(nd), &args));
        }
    }
}

/// `transpose(dot_general(x, y))` that swaps the two groups of free axes
/// is `dot_general(y, x)`; one that only reorders batch axes reorders the
/// batch lists.
fn transpose_dot(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let Op::Transpose { perm: q } = op else { return };
    for (dop, n) in cx.nodes(a[0], "dot_general") {
        let Op::DotGeneral(d) = dop else { continue };
        let nb = d.lhs_batch.len();
        let nl = d.lhs_free(cx.ty(n[0]).rank()).len();
        let nr = d.rhs_free(cx.ty(n[1]).rank()).len();
        if q[..nb].iter().any(|&i| i >= nb) {
            continue;
        }
        let lb: Vec<usize> = q[..nb].iter().map(|&j| d.lhs_batch[j]).collect();
        let rb: Vec<usize> = q[..nb].iter().map(|&j| d.rhs_batch[j]).collect();
        let rest = &q[nb..];
        let same: Vec<usize> = (nb..nb + nl + nr).collect();
        let swapped: Vec<usize> = (nb + nl..nb + nl + nr).chain(nb..nb + nl).collect();
        if rest == same {
            let nd = DotDims { lhs_batch: lb, rhs_batch: rb, ..d.clone() };
            out.extend(cx.add(Op::DotGeneral(nd), &[n[0], n[1]]));
        } else if rest == swapped {
            let nd = DotDims {
                lhs_contract: d.rhs_contract.clone(),
                rhs_contract: d.lhs_contract.clone(),
                lhs_batch: rb,
                rhs_batch: lb,
            };
            out.extend(cx.add(Op::DotGeneral(nd), &[n[1], n[0]]));
        }
    }
}

/// One operand `e` of a dot with no batch axes, seen as the special one,
/// and the other operand `x`.
struct Side {
    e: Id,
    x: Id,
    e_contract: Vec<usize>,
    x_contract: Vec<usize>,
    e_is_rhs: bool,
}

/// Both ways of seeing a dot's operands.
fn sides(d: &DotDims, a: &[Id]) -> [Side; 2] {
    [
        Side {
            e: a[1],
            x: a[0],
            e_contract: d.rhs_contract.clone(),
            x_contract: d.lhs_contract.clone(),
            e_is_rhs: true,
        },
        Side {
            e: a[0],
            x: a[1],
            e_contract: d.lhs_contract.clone(),
            x_contract: d.rhs_contract.clone(),
            e_is_rhs: false,
        },
    ]
}

/// `dot_general` with an identity-like operand (the `jacfwd` basis): the
/// product is the other operand with its contracted axes renamed to the
/// identity's free axes, a transpose and a reshape at most.
fn dot_delta(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let Op::DotGeneral(d) = op else { return };
    if !d.lhs_batch.is_empty() {
        return;
    }
    for Side { e, x, e_contract: ec, x_contract: xc, e_is_rhs } in sides(d, a) {
        let Some(delta) = cx.facts(e).delta.clone() else { continue };
        let mut sorted = ec.clone();
        sorted.sort_unstable();
        let (gc, gf) = if sorted == delta.a {
            (delta.a, delta.b)
        } else if sorted == delta.b {
            (delta.b, delta.a)
        } else {
            continue;
        };
        let eshape = cx.shape(e);
        let xrank = cx.ty(x).rank();
        let x_contract: Vec<usize> =
            gc.iter().map(|g| xc[ec.iter().position(|e| e == g).expect("g is contracted")]).collect();
        let x_free = DotDims::free_axes(xrank, &xc, &[]);
        let xshape = cx.shape(x);
        let free_dims: Vec<usize> = x_free.iter().map(|&i| xshape[i]).collect();
        let e_dims: Vec<usize> = gf.iter().map(|&g| eshape[g]).collect();
        let (perm, shape): (Vec<usize>, Vec<usize>) = if e_is_rhs {
            (x_free.iter().chain(&x_contract).copied().collect(), free_dims.iter().chain(&e_dims).copied().collect())
        } else {
            (x_contract.iter().chain(&x_free).copied().collect(), e_dims.iter().chain(&free_dims).copied().collect())
        };
        let Some(t) = cx.transpose(x, &perm) else { continue };
        out.extend(cx.reshape(t, &shape));
    }
}

fn is_one(s: Scalar) -> bool {
    s.dtype().is_numeric() && s.to_f64() == 1.0
}

/// `dot_general` against a constant with a single 1 and zeros elsewhere,
/// fully contracted: a slice of the other operand.
fn dot_one_hot(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    let Op::DotGeneral(d) = op else { return };
    if !d.lhs_batch.is_empty() {
        return;
    }
    for Side { e, x, e_contract: ec, x_contract: xc, .. } in sides(d, a) {
        let ety = cx.ty(e).clone();
        if ec.len() != ety.rank() || ety.num_elements() < 2 {
            continue;
        }
        let Some(Literal::Dense(arr)) = cx.facts(e).konst.as_deref().cloned() else { continue };
        if arr.len() > 1 << 16 {
            continue;
        }
        let vals = arr.scalars();
        let ones: Vec<usize> = (0..vals.len()).filter(|&i| is_one(vals[i])).collect();
        if ones.len() != 1 || vals.iter().enumerate().any(|(i, s)| i != ones[0] && s.to_f64() != 0.0) {
            continue;
        }
        // Multi-index of the one.
        let mut pos = vec![0; ety.rank()];
        let mut rem = ones[0];
        for ax in (0..ety.rank()).rev() {
            pos[ax] = rem % ety.shape[ax];
            rem /= ety.shape[ax];
        }
        let xshape = cx.shape(x);
        let mut start = vec![0; xshape.len()];
        let mut limit = xshape.clone();
        for (k, &eax) in ec.iter().enumerate() {
            start[xc[k]] = pos[eax];
            limit[xc[k]] = pos[eax] + 1;
        }
        let Some(s) = cx.add(Op::Slice { start, limit, stride: vec![1; xshape.len()] }, &[x]) else { continue };
        let free: Vec<usize> = DotDims::free_axes(xshape.len(), &xc, &[]).iter().map(|&i| xshape[i]).collect();
        out.extend(cx.reshape(s, &free));
    }
}

/// Rebuilds `dot_general(x, splat c)` (no batch axes) as a sum of `x` over
/// its contracted axes, scaled by `c` when `scale` and broadcast over the
/// splat's free axes.
fn splat_product(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>, accept: fn(f64) -> bool) {
    let Op::DotGeneral(d) = op else { return };
    if !d.lhs_batch.is_empty() {
        return;
    }
    let out_ty = match op.infer_type(&[cx.ty(a[0]), cx.ty(a[1])]) {
        Ok(t) => t,
        Err(_) => return,
    };
    for Side { e, x, x_contract: xc, e_is_rhs, .. } in sides(d, a) {
        let Some(c) = cx.splat(e) else { continue };
        if !accept(c.to_f64()) {
            continue;
        }
        let mut axes = xc.clone();
        axes.sort_unstable();
        let Some(r) = cx.add(Op::Reduce { kind: ReduceKind::Sum, axes }, &[x]) else { continue };
        let r = if c.to_f64() == 1.0 {
            Some(r)
        } else if c.to_f64() == -1.0 {
            cx.add(Op::Unary(Unary::Neg), &[r])
        } else {
            let shape = cx.shape(r);
            let k = cx.constant(Literal::splat(c, shape));
            cx.add(Op::Binary(Binary::Mul), &[r, k])
        };
        let Some(r) = r else { continue };
        let nr = cx.ty(r).rank();
        let ne = out_ty.rank() - nr;
        let dims: Vec<usize> = if e_is_rhs { (0..nr).collect() } else { (ne..ne + nr).collect() };
        out.extend(cx.broadcast(r, &out_ty.shape, &dims));
    }
}

/// `dot_general(x, ones) → broadcast(reduce_sum x)` (and `-1`).
fn dot_splat_one(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    splat_product(cx, op, a, out, |c| c == 1.0 || c == -1.0);
}

/// `dot_general(x, splat c) → broadcast(c · reduce_sum x)`: distributes the
/// constant, so rounds (and, at the edge of the range, overflows)
/// differently; in the re-association class.
fn dot_splat(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    splat_product(cx, op, a, out, |c| c.is_finite() && c != 0.0 && c != 1.0 && c != -1.0);
}

/// `dot_general(x, 0) → 0` (NaN-unsafe: `∞ · 0` is NaN).
fn dot_zero(cx: &mut Ctx<'_>, op: &Op, a: &[Id], out: &mut Vec<Id>) {
    if !(cx.is_splat(a[0], 0.0) || cx.is_splat(a[1], 0.0)) {
        return;
    }
    if let Ok(t) = op.infer_type(&[cx.ty(a[0]), cx.ty(a[1])]) {
        out.push(cx.splat_const(t.dtype, 0.0, &t.shape));
    }
}

fn flops(d: &DotDims, l: &TensorType, r: &TensorType) -> f64 {
    super::super::cost::op_cost(&Op::DotGeneral(d.clone()), &[l, r], &TensorType::scalar(l.dtype)).flops
}

/// Re-associates `(A·B)·C ↔ A·(B·C)` when the outer product contracts only
/// axes from the inner product's inner operand, and the new order needs
/// strictly fewer flops.
fn dot_reassociate(cx: &mut Ctx<'_>, op: &Op, args: &[Id], out: &mut Vec<Id>) {
    let Op::DotGeneral(d2) = op else { return };
    if !d2.lhs_batch.is_empty() {
        return;
    }
    let old_outer = flops(d2, cx.ty(args[0]), cx.ty(args[1]));
    // (A·B)·C → A·(B·C)
    for (iop, n) in cx.nodes(args[0], "dot_general") {
        let Op::DotGeneral(d1) = iop else { continue };
        let (a, b, c) = (n[0], n[1], args[1]);
        let (ta, tb, tc) = (cx.ty(a).clone(), cx.ty(b).clone(), cx.ty(c).clone());
        if !d1.lhs_batch.is_empty() {
            continue;
        }
        let na = d1.lhs_free(ta.rank()).len();
        let bf = d1.rhs_free(tb.rank());
        if d2.lhs_contract.iter().any(|&i| i < na) {
            continue;
        }
        let d3 = DotDims {
            lhs_contract: d2.lhs_contract.iter().map(|&i| bf[i - na]).collect(),
            rhs_contract: d2.rhs_contract.clone(),
            ..DotDims::default()
        };
        let b_rest = DotDims::free_axes(tb.rank(), &d3.lhs_contract, &[]);
        let d4 = DotDims {
            lhs_contract: d1.lhs_contract.clone(),
            rhs_contract: d1.rhs_contract.iter().map(|r| b_rest.binary_search(r).expect("kept axis")).collect(),
            ..DotDims::default()
        };
        let Ok(tbc) = Op::DotGeneral(d3.clone()).infer_type(&[&tb, &tc]) else { continue };
        let old = flops(&d1, &ta, &tb) + old_outer;
        let new = flops(&d3, &tb, &tc) + flops(&d4, &ta, &tbc);
        if new < old {
            if let Some(bc) = cx.add(Op::DotGeneral(d3), &[b, c]) {
                out.extend(cx.add(Op::DotGeneral(d4), &[a, bc]));
            }
        }
    }
    // A·(B·C) → (A·B)·C
    for (iop, n) in cx.nodes(args[1], "dot_general") {
        let Op::DotGeneral(d1) = iop else { continue };
        let (a, b, c) = (args[0], n[0], n[1]);
        let (ta, tb, tc) = (cx.ty(a).clone(), cx.ty(b).clone(), cx.ty(c).clone());
        if !d1.lhs_batch.is_empty() {
            continue;
        }
        let bf = d1.lhs_free(tb.rank());
        if d2.rhs_contract.iter().any(|&i| i >= bf.len()) {
            continue;
        }
        let d3 = DotDims {
            lhs_contract: d2.lhs_contract.clone(),
            rhs_contract: d2.rhs_contract.iter().map(|&i| bf[i]).collect(),
            ..DotDims::default()
        };
        let na = d3.lhs_free(ta.rank()).len();
        let b_rest = DotDims::free_axes(tb.rank(), &d3.rhs_contract, &[]);
        let d4 = DotDims {
            lhs_contract: d1.lhs_contract.iter().map(|l| na + b_rest.binary_search(l).expect("kept axis")).collect(),
            rhs_contract: d1.rhs_contract.clone(),
            ..DotDims::default()
        };
        let Ok(tab) = Op::DotGeneral(d3.clone()).infer_type(&[&ta, &tb]) else { continue };
        let old = flops(&d1, &tb, &tc) + old_outer;
        let new = flops(&d3, &ta, &tb) + flops(&d4, &tab, &tc);
        if new < old {
            if let Some(ab) = cx.add(Op::DotGeneral(d3), &[a, b]) {
                out.extend(cx.add(Op::DotGeneral(d4), &[ab, c]));
            }
        }
    }
}
