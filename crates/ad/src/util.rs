//! Small tensor helpers shared by the rules of every transformation.

use saddle_ir::op::DotDims;
use saddle_ir::{DType, Func, Op, Tensor, TensorType, Tracer, Value};

use crate::{Error, Result};

/// `a + b` where `None` is a symbolic zero.
pub(crate) fn add_opt<'t>(a: Option<Tensor<'t>>, b: Option<Tensor<'t>>) -> Option<Tensor<'t>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a + b),
        (a, None) => a,
        (None, b) => b,
    }
}

/// Accumulates `c` into the slot `acc` (a symbolic zero when empty).
pub(crate) fn accumulate<'t>(acc: &mut Option<Tensor<'t>>, c: Tensor<'t>) {
    *acc = add_opt(acc.take(), Some(c));
}

/// The tensor, or zeros of `ty` for a symbolic zero.
pub(crate) fn or_zeros<'t>(tr: &'t Tracer, t: Option<Tensor<'t>>, ty: &TensorType) -> Tensor<'t> {
    t.unwrap_or_else(|| tr.zeros(ty))
}

/// Moves axis `from` of `t` to position `to`, keeping the others in
/// order (no op when they are equal).
pub(crate) fn move_axis(t: Tensor<'_>, from: usize, to: usize) -> Tensor<'_> {
    if from == to {
        return t;
    }
    let mut perm: Vec<usize> = (0..t.rank()).filter(|&a| a != from).collect();
    perm.insert(to, from);
    t.transpose(&perm)
}

/// Swaps the last two axes.
pub(crate) fn swap_last2(t: Tensor<'_>) -> Tensor<'_> {
    t.t()
}

/// Batched matrix product `[..., m, k] · [..., k, n]` of equal-rank
/// operands (rank at least 2).
pub(crate) fn matmul<'t>(a: Tensor<'t>, b: Tensor<'t>) -> Tensor<'t> {
    let r = a.rank();
    let batch: Vec<usize> = (0..r.saturating_sub(2)).collect();
    a.dot_general(
        b,
        DotDims { lhs_contract: vec![r - 1], rhs_contract: vec![r - 2], lhs_batch: batch.clone(), rhs_batch: batch },
    )
}

/// The identity matrix of size `n` as `convert(eq(iota 0, iota 1))`, the
/// form the simplifier recognises.
pub(crate) fn eye(tr: &Tracer, n: usize, dtype: DType) -> Tensor<'_> {
    let ty = TensorType::new(DType::I64, [n, n]);
    tr.iota(&ty, 0).eq(tr.iota(&ty, 1)).convert(dtype)
}

/// A bool mask over the last two axes of `shape` (`[..., n, n]`): the lower
/// triangle (`lower`) or the upper one, without the diagonal when `strict`.
pub(crate) fn triangle_mask<'t>(tr: &'t Tracer, shape: &[usize], lower: bool, strict: bool) -> Tensor<'t> {
    let r = shape.len();
    let n = shape[r - 1];
    let ty = TensorType::new(DType::I64, [n, n]);
    let (i, j) = (tr.iota(&ty, 0), tr.iota(&ty, 1));
    let m = match (lower, strict) {
        (true, false) => i.ge(j),
        (true, true) => i.gt(j),
        (false, false) => i.le(j),
        (false, true) => i.lt(j),
    };
    if r == 2 { m } else { m.broadcast_in_dim(shape, &[r - 2, r - 1]) }
}

/// Whether `v` of `f` is zero by construction: a zero constant, or a
/// layout op, negation or conversion of one.
pub(crate) fn is_zero(f: &Func, v: Value) -> bool {
    let mut v = v;
    loop {
        let Some(inst) = f.inst(v) else { return false };
        match &inst.op {
            Op::Const(lit) => return lit.uniform_value().is_some_and(|s| s.to_f64() == 0.0),
            Op::BroadcastInDim { .. }
            | Op::Reshape { .. }
            | Op::Transpose { .. }
            | Op::Convert { .. }
            | Op::Unary(saddle_ir::op::Unary::Neg) => v = inst.args[0],
            _ => return false,
        }
    }
}

/// The parameter `k` of `f`, checked to exist and to be a float.
pub(crate) fn float_param(f: &Func, k: usize) -> Result<&TensorType> {
    if k >= f.num_params() {
        return Err(Error::NoSuchParam { func: f.name().to_string(), count: f.num_params(), index: k });
    }
    let ty = &f.param_types()[k];
    if !ty.dtype.is_float() {
        return Err(Error::NotFloat { func: f.name().to_string(), index: k, ty: ty.clone() });
    }
    Ok(ty)
}

/// Returns the first error the tracer recorded.
pub(crate) fn check(tr: &Tracer) -> Result<()> {
    match tr.error() {
        Some(e) => Err(Error::Ir(e)),
        None => Ok(()),
    }
}
