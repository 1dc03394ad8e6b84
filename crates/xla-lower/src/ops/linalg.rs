//! Linear algebra: `dot_general` at the highest precision, `cholesky` with
//! the upper triangle zeroed, `triangular_solve`.

use saddle_ir::op::DotDims;
use saddle_ir::{DType, Scalar, TensorType, Value};

use crate::Error;
use crate::emit::{Emitter, list};

/// `dot_general`, with `precision = [HIGHEST, HIGHEST]` so that backends
/// whose default trades accuracy for speed (TPUs multiply `f32` in
/// bfloat16 passes by default) compute what saddle computes.
pub(crate) fn dot_general(em: &mut Emitter, lhs: Value, rhs: Value, d: &DotDims) -> Result<(), Error> {
    let batching = if d.lhs_batch.is_empty() {
        String::new()
    } else {
        format!("batching_dims = {} x {}, ", list(&d.lhs_batch), list(&d.rhs_batch))
    };
    let line = format!(
        "{} = stablehlo.dot_general {}, {}, {batching}contracting_dims = {} x {}, precision = [HIGHEST, HIGHEST] : ({}, {}) -> {}",
        em.out(),
        em.arg(lhs),
        em.arg(rhs),
        list(&d.lhs_contract),
        list(&d.rhs_contract),
        em.ty(lhs),
        em.ty(rhs),
        em.out_ty()
    );
    em.line(line);
    Ok(())
}

/// `cholesky`: StableHLO leaves the upper triangle of its result
/// unspecified, saddle's is zero, so the factor is masked with
/// `row >= col`.
pub(crate) fn cholesky(em: &mut Emitter, a: Value) -> Result<(), Error> {
    let ty = em.f.ty(a).clone();
    let (out, t) = (em.out(), em.out_ty());
    let r = ty.rank();
    let index_ty = crate::tensor_type(&ty.with_dtype(DType::I32));
    let mask_ty = crate::tensor_type(&ty.with_dtype(DType::Bool));
    let factor = em.helper();
    em.line(format!("{factor} = stablehlo.cholesky {}, lower = true : {t}", em.arg(a)));
    let row = em.helper();
    em.line(format!("{row} = stablehlo.iota dim = {} : {index_ty}", r - 2));
    let col = em.helper();
    em.line(format!("{col} = stablehlo.iota dim = {} : {index_ty}", r - 1));
    let lower = em.helper();
    em.line(format!("{lower} = stablehlo.compare GE, {row}, {col}, SIGNED : ({index_ty}, {index_ty}) -> {mask_ty}"));
    let zero = em.splat_const(Scalar::zero(ty.dtype), &TensorType::new(ty.dtype, ty.shape.clone()));
    em.line(format!("{out} = stablehlo.select {lower}, {factor}, {zero} : {mask_ty}, {t}"));
    Ok(())
}

/// `triangular_solve` (the same attributes as StableHLO's).
pub(crate) fn triangular_solve(
    em: &mut Emitter,
    a: Value,
    b: Value,
    left_side: bool,
    lower: bool,
    transpose_a: bool,
    unit_diagonal: bool,
) -> Result<(), Error> {
    let transpose = if transpose_a { "TRANSPOSE" } else { "NO_TRANSPOSE" };
    let line = format!(
        "{} = \"stablehlo.triangular_solve\"({}, {}) <{{left_side = {left_side}, lower = {lower}, \
         transpose_a = #stablehlo<transpose {transpose}>, unit_diagonal = {unit_diagonal}}}> : ({}, {}) -> {}",
        em.out(),
        em.arg(a),
        em.arg(b),
        em.ty(a),
        em.ty(b),
        em.out_ty()
    );
    em.line(line);
    Ok(())
}
