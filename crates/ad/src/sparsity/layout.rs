//! Layout ops: every result element is a copy of one operand element, so
//! the rules only move dependency sets (and known values) around and add
//! no interaction. `iota` is data.

use saddle_ir::Op;

use super::{Ctx, Out, strides, unravel};

/// The source of each result element of a layout op: `(operand, row-major
/// position in it)`.
pub(crate) fn sources(c: &Ctx<'_>, op: &Op) -> Vec<(usize, usize)> {
    let out = &c.out.shape;
    let n = c.out.num_elements();
    let mut idx = vec![0; out.len()];
    let mut src: Vec<(usize, usize)> = Vec::with_capacity(n);
    match op {
        Op::Reshape { .. } => src.extend((0..n).map(|e| (0, e))),
        Op::BroadcastInDim { dims, .. } => {
            let x = &c.tys[0].shape;
            let st = strides(x);
            for e in 0..n {
                unravel(e, out, &mut idx);
                let flat = dims.iter().enumerate().map(|(i, &d)| if x[i] == 1 { 0 } else { idx[d] * st[i] }).sum();
                src.push((0, flat));
            }
        }
        Op::Transpose { perm } => {
            let st = strides(&c.tys[0].shape);
            for e in 0..n {
                unravel(e, out, &mut idx);
                src.push((0, perm.iter().enumerate().map(|(i, &p)| idx[i] * st[p]).sum()));
            }
        }
        Op::Slice { start, stride, .. } => {
            let st = strides(&c.tys[0].shape);
            for e in 0..n {
                unravel(e, out, &mut idx);
                src.push((0, (0..out.len()).map(|a| (start[a] + idx[a] * stride[a]) * st[a]).sum()));
            }
        }
        Op::Pad { low, interior, .. } => {
            let x = &c.tys[0].shape;
            let st = strides(x);
            for e in 0..n {
                unravel(e, out, &mut idx);
                let mut flat = 0;
                let mut inside = true;
                for a in 0..out.len() {
                    let step = interior[a] + 1;
                    match idx[a].checked_sub(low[a]) {
                        Some(t) if t % step == 0 && t / step < x[a] => flat += (t / step) * st[a],
                        _ => inside = false,
                    }
                }
                src.push(if inside { (0, flat) } else { (1, 0) });
            }
        }
        Op::Concatenate { axis } => {
            let ax = *axis;
            // Operand holding each position along the axis, and its offset.
            let mut owner = Vec::with_capacity(out[ax]);
            for (k, t) in c.tys.iter().enumerate() {
                owner.extend((0..t.shape[ax]).map(|p| (k, p)));
            }
            let sts: Vec<Vec<usize>> = c.tys.iter().map(|t| strides(&t.shape)).collect();
            for e in 0..n {
                unravel(e, out, &mut idx);
                let (k, p) = owner[idx[ax]];
                let flat = (0..out.len()).map(|a| if a == ax { p } else { idx[a] } * sts[k][a]).sum();
                src.push((k, flat));
            }
        }
        Op::Const(_)
        | Op::Iota { .. }
        | Op::Unary(_)
        | Op::Binary(_)
        | Op::Compare(_)
        | Op::Select
        | Op::Convert { .. }
        | Op::StopGradient
        | Op::Reduce { .. }
        | Op::DotGeneral(_)
        | Op::Take { .. }
        | Op::SegmentSum { .. }
        | Op::Cholesky
        | Op::TriangularSolve { .. } => {}
    }
    src
}

/// The result of an op that copies the source elements `src`.
pub(crate) fn gather(c: &Ctx<'_>, src: &[(usize, usize)]) -> Out {
    let deps = if c.deps.iter().any(Option::is_some) {
        let mut b = c.builder();
        for &(k, flat) in src {
            b.push_union([c.set(k, flat)]);
        }
        b.finish()
    } else {
        None
    };
    let known = if c.known.iter().all(Option::is_some) {
        Some(src.iter().map(|&(k, flat)| c.known[k].map_or(0.0, |v| v[flat])).collect())
    } else {
        None
    };
    Out { deps, known }
}

/// `iota`: data, each element its index along `dim`.
pub(crate) fn iota(c: &Ctx<'_>, op: &Op) -> Out {
    let Op::Iota { dim, .. } = op else { return Out::deps(None) };
    let shape = &c.out.shape;
    let st = strides(shape);
    let known = (0..c.out.num_elements()).map(|e| ((e / st[*dim]) % shape[*dim].max(1)) as f64).collect();
    Out { deps: None, known: Some(known) }
}
