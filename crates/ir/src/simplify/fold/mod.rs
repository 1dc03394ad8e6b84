//! Constant folding: a small evaluator of ops on constant operands, and the
//! structural facts (delta, iota) the analysis derives from ops.
//!
//! Values are flat row-major vectors of [`Scalar`]s: folding only runs on
//! small tensors (or on splats, which stay one element whatever their
//! shape), so clarity wins over speed. Every element is computed with the
//! runtime's own definitions ([`crate::math`]: the special functions too)
//! and sums in the runtime's canonical order, so a folded constant has the
//! bits that running the function gives. An op whose result the evaluator
//! cannot reproduce exactly is not folded (`cholesky`, `triangular_solve`),
//! and neither is one that would fail at run time (an integer division by
//! zero, an index out of range): the run-time error is kept.
//!
//! The evaluator is also the crate's own reference interpreter in tests.

mod elementwise;
mod index;
mod layout;
mod linalg;
mod reduce;

use egg::Id;

use super::lang::{Delta, Facts};
use crate::{Array, DType, Literal, Op, Scalar, TensorType};

/// A value in the evaluator: its type and row-major elements.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Vals {
    pub(crate) ty: TensorType,
    pub(crate) data: Vec<Scalar>,
}

impl Vals {
    pub(crate) fn from_literal(l: &Literal) -> Vals {
        let ty = l.ty();
        let data = match l {
            Literal::Splat { value, .. } => vec![*value; ty.num_elements()],
            Literal::Dense(a) => a.scalars(),
        };
        Vals { ty, data }
    }

    #[cfg(test)]
    pub(crate) fn from_array(a: &Array) -> Vals {
        Vals { ty: a.ty(), data: a.scalars() }
    }

    /// The literal, as a splat when every element has the same bits.
    pub(crate) fn into_literal(self) -> Literal {
        if let Some(&first) = self.data.first() {
            if self.data.iter().all(|&s| s == first) {
                return Literal::Splat { ty: self.ty, value: first };
            }
        }
        let arr = Array::from_scalars(&self.ty, &self.data).expect("evaluator results match their type");
        Literal::dense(arr)
    }

    #[cfg(test)]
    pub(crate) fn into_array(self) -> Array {
        Array::from_scalars(&self.ty, &self.data).expect("evaluator results match their type")
    }
}

/// Row-major strides of `shape`.
pub(crate) fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for a in (0..shape.len().saturating_sub(1)).rev() {
        s[a] = s[a + 1] * shape[a + 1];
    }
    s
}

/// Calls `f` with every multi-index of `shape` in row-major order.
pub(crate) fn for_each_index(shape: &[usize], mut f: impl FnMut(&[usize])) {
    if shape.contains(&0) {
        return;
    }
    let mut idx = vec![0; shape.len()];
    loop {
        f(&idx);
        let mut a = shape.len();
        loop {
            if a == 0 {
                return;
            }
            a -= 1;
            idx[a] += 1;
            if idx[a] < shape[a] {
                break;
            }
            idx[a] = 0;
        }
    }
}

/// Folds `op` over constant operands into the constant it computes, with
/// result type `ty`. Splats stay splats through elementwise and layout
/// ops whatever their size; other results are computed only when no
/// operand or result has more than `max_elements` elements and the op
/// needs no more flops than that.
pub(crate) fn fold(op: &Op, args: &[&Literal], ty: &TensorType, max_elements: usize) -> Option<Literal> {
    if let Some(l) = fold_splat(op, args, ty) {
        return Some(l);
    }
    if ty.num_elements() > max_elements || args.iter().any(|a| a.ty().num_elements() > max_elements) {
        return None;
    }
    let tys: Vec<TensorType> = args.iter().map(|a| a.ty()).collect();
    let refs: Vec<&TensorType> = tys.iter().collect();
    if super::cost::op_cost(op, &refs, ty).flops > max_elements as f64 {
        return None;
    }
    let vals: Vec<Vals> = args.iter().map(|a| Vals::from_literal(a)).collect();
    eval_op(op, &vals, ty).map(Vals::into_literal)
}

/// Folds ops that keep a splat a splat without materialising it.
fn fold_splat(op: &Op, args: &[&Literal], ty: &TensorType) -> Option<Literal> {
    let splat = |i: usize| match args.get(i)? {
        Literal::Splat { value, .. } => Some(*value),
        Literal::Dense(_) => None,
    };
    let value = match op {
        Op::Unary(_) | Op::Binary(_) | Op::Compare(_) | Op::Select | Op::Convert { .. } | Op::StopGradient => {
            let scalars: Vec<Scalar> = (0..args.len()).map(splat).collect::<Option<_>>()?;
            let vals: Vec<Vals> =
                scalars.iter().map(|&s| Vals { ty: TensorType::scalar(s.dtype()), data: vec![s] }).collect();
            let out = eval_op(op, &vals, &TensorType::scalar(ty.dtype))?;
            out.data[0]
        }
        Op::BroadcastInDim { .. } | Op::Reshape { .. } | Op::Transpose { .. } | Op::Slice { .. } => splat(0)?,
        Op::Pad { .. } => {
            let (x, v) = (splat(0)?, splat(1)?);
            if x != v {
                return None;
            }
            x
        }
        Op::Concatenate { .. } => {
            let first = splat(0)?;
            if (1..args.len()).any(|i| splat(i) != Some(first)) {
                return None;
            }
            first
        }
        Op::Reduce { kind, .. } if ty.num_elements() > 0 && args[0].ty().num_elements() > 0 => match kind {
            crate::op::ReduceKind::Max | crate::op::ReduceKind::Min => splat(0)?,
            crate::op::ReduceKind::Sum => return None,
        },
        _ => return None,
    };
    Some(Literal::Splat { ty: ty.clone(), value })
}

/// Evaluates one op on operand values; `None` when the op is not folded
/// (see the module doc) or would fail at run time.
pub(crate) fn eval_op(op: &Op, args: &[Vals], ty: &TensorType) -> Option<Vals> {
    let data = match op {
        Op::Const(l) => Vals::from_literal(l).data,
        Op::Iota { dim, ty } => layout::iota(*dim, ty),
        Op::Unary(u) => args[0].data.iter().map(|&x| elementwise::unary(*u, x)).collect::<Option<_>>()?,
        Op::Binary(b) => args[0]
            .data
            .iter()
            .zip(&args[1].data)
            .map(|(&x, &y)| elementwise::binary(*b, x, y))
            .collect::<Option<_>>()?,
        Op::Compare(c) => args[0]
            .data
            .iter()
            .zip(&args[1].data)
            .map(|(&x, &y)| elementwise::compare(*c, x, y))
            .collect::<Option<_>>()?,
        Op::Select => (0..ty.num_elements())
            .map(|i| match args[0].data[i] {
                Scalar::Bool(true) => Some(args[1].data[i]),
                Scalar::Bool(false) => Some(args[2].data[i]),
                _ => None,
            })
            .collect::<Option<_>>()?,
        Op::Convert { dtype } => {
            args[0].data.iter().map(|&x| elementwise::convert(x, *dtype)).collect::<Option<_>>()?
        }
        Op::StopGradient => args[0].data.clone(),
        Op::BroadcastInDim { dims, .. } => layout::broadcast_in_dim(&args[0], dims, ty),
        Op::Reshape { .. } => args[0].data.clone(),
        Op::Transpose { perm } => layout::transpose(&args[0], perm, ty),
        Op::Reduce { kind, axes } => reduce::reduce(*kind, &args[0], axes, ty)?,
        Op::Slice { start, stride, .. } => layout::slice(&args[0], start, stride, ty),
        Op::Pad { low, interior, .. } => layout::pad(&args[0], args[1].data[0], low, interior, ty),
        Op::Concatenate { axis } => layout::concatenate(args, *axis, ty),
        Op::DotGeneral(d) => linalg::dot_general(&args[0], &args[1], d, ty)?,
        Op::Take { axis } => index::take(&args[0], &args[1], *axis, ty)?,
        Op::SegmentSum { .. } => index::segment_sum(&args[0], &args[1], ty)?,
        Op::Cholesky | Op::TriangularSolve { .. } => return None,
    };
    debug_assert_eq!(data.len(), ty.num_elements());
    Some(Vals { ty: ty.clone(), data })
}

/// Evaluates a whole function on `inputs` with the folding evaluator;
/// `None` when some op is not supported or fails. For tests.
#[cfg(test)]
pub(crate) fn eval_func(f: &crate::Func, inputs: &[Array]) -> Option<Vec<Array>> {
    let mut vals: Vec<Vals> = inputs.iter().map(Vals::from_array).collect();
    for (v, inst) in f.iter_insts() {
        let args: Vec<Vals> = inst.args.iter().map(|a| vals[a.index()].clone()).collect();
        vals.push(eval_op(&inst.op, &args, f.ty(v))?);
    }
    Some(f.results().iter().map(|r| vals[r.index()].clone().into_array()).collect())
}

fn is_one(s: Scalar) -> bool {
    match s {
        Scalar::Bool(b) => b,
        other => other.to_f64() == 1.0,
    }
}

fn is_zero(s: Scalar) -> bool {
    match s {
        Scalar::Bool(b) => !b,
        other => other.to_f64() == 0.0,
    }
}

/// The row-major position of the single 1 of a dense constant that is 0
/// everywhere else.
pub(crate) fn one_hot(l: &Literal) -> Option<usize> {
    let Literal::Dense(a) = l else { return None };
    if a.len() < 2 || a.len() > 1 << 16 || a.dtype() == DType::Bool {
        return None;
    }
    let vals = a.to_f64_vec();
    let mut pos = None;
    for (i, &v) in vals.iter().enumerate() {
        if v == 1.0 && pos.is_none() {
            pos = Some(i);
        } else if v != 0.0 {
            return None;
        }
    }
    pos
}

/// The delta structure of a constant: an identity matrix, or an identity
/// reshaped so that a prefix of its axes indexes rows and the rest columns.
pub(crate) fn delta_of_literal(l: &Literal) -> Option<Delta> {
    let Literal::Dense(a) = l else { return None };
    let shape = a.shape().to_vec();
    if shape.len() < 2 || a.len() > 1 << 20 || a.is_empty() {
        return None;
    }
    let data = a.scalars();
    for k in 1..shape.len() {
        let n: usize = shape[..k].iter().product();
        if n * n != a.len() {
            continue;
        }
        let ok = data.iter().enumerate().all(|(i, &s)| if i / n == i % n { is_one(s) } else { is_zero(s) });
        if ok {
            return Delta::new((0..k).collect(), (k..shape.len()).collect(), &shape);
        }
    }
    None
}

/// The axis whose index a class's value equals (an `iota`, possibly
/// broadcast, transposed or converted), if known.
pub(crate) fn iota_of_op<'a>(op: &Op, args: &[Id], ty: &TensorType, facts: impl Fn(Id) -> &'a Facts) -> Option<usize> {
    match op {
        Op::Iota { dim, .. } => Some(*dim),
        Op::Convert { dtype } => {
            let a = facts(args[0]);
            let limit: usize = if *dtype == DType::F32 { 1 << 24 } else { i32::MAX as usize };
            let exact = dtype.is_numeric() && a.ty.shape.iter().all(|&e| e <= limit);
            if exact { a.iota } else { None }
        }
        Op::BroadcastInDim { dims, .. } => {
            let a = facts(args[0]);
            let d = a.iota?;
            (a.ty.shape[d] == ty.shape[dims[d]]).then_some(dims[d])
        }
        Op::Transpose { perm } => {
            let d = facts(args[0]).iota?;
            perm.iter().position(|&p| p == d)
        }
        Op::StopGradient => facts(args[0]).iota,
        _ => None,
    }
}

/// The delta structure an op produces from its operands' facts.
pub(crate) fn delta_of_op<'a>(op: &Op, args: &[Id], ty: &TensorType, facts: impl Fn(Id) -> &'a Facts) -> Option<Delta> {
    match op {
        Op::Compare(crate::op::Compare::Eq) => {
            let (i, j) = (facts(args[0]).iota?, facts(args[1]).iota?);
            if ty.rank() != 2 || i == j {
                return None;
            }
            Delta::new(vec![i.min(j)], vec![i.max(j)], &ty.shape)
        }
        Op::Convert { .. } | Op::StopGradient => facts(args[0]).delta.clone(),
        Op::Select => {
            let d = facts(args[0]).delta.clone()?;
            let one = facts(args[1]).splat().is_some_and(is_one);
            let zero = facts(args[2]).splat().is_some_and(is_zero);
            (one && zero).then_some(d)
        }
        Op::Transpose { perm } => {
            let d = facts(args[0]).delta.clone()?;
            let mut inv = vec![0; perm.len()];
            for (k, &p) in perm.iter().enumerate() {
                inv[p] = k;
            }
            let map = |g: &[usize]| -> Option<Vec<usize>> {
                let out: Vec<usize> = g.iter().map(|&x| inv[x]).collect();
                out.windows(2).all(|w| w[0] < w[1]).then_some(out)
            };
            let (a, b) = (map(&d.a)?, map(&d.b)?);
            Delta::new(a, b, &ty.shape)
        }
        Op::Reshape { shape } => {
            let x = facts(args[0]);
            let d = x.delta.clone()?;
            let prefix = if d.a.first() == Some(&0) { &d.a } else { &d.b };
            if prefix.iter().enumerate().any(|(i, &x)| i != x) {
                return None;
            }
            let n: usize = prefix.iter().map(|&a| x.ty.shape[a]).product();
            let k = (1..shape.len()).find(|&k| shape[..k].iter().product::<usize>() == n)?;
            Delta::new((0..k).collect(), (k..shape.len()).collect(), shape)
        }
        _ => None,
    }
}
