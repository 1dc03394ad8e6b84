//! Reductions: `stablehlo.reduce` with an `add`, `maximum` or `minimum`
//! body and that body's identity as the initial value.

use saddle_ir::op::ReduceKind;
use saddle_ir::{DType, Scalar, TensorType, Value};

use crate::Error;
use crate::emit::{Emitter, list};

/// The identity of the reduction over `dtype`: what an empty reduction
/// gives (0, -inf or the least integer for max, +inf or the greatest
/// integer for min).
fn identity(kind: ReduceKind, dtype: DType) -> Scalar {
    match (kind, dtype) {
        (ReduceKind::Sum, d) => Scalar::zero(d),
        (ReduceKind::Max, DType::I32) => Scalar::I32(i32::MIN),
        (ReduceKind::Max, DType::I64) => Scalar::I64(i64::MIN),
        (ReduceKind::Max, d) => Scalar::from_f64(d, f64::NEG_INFINITY),
        (ReduceKind::Min, DType::I32) => Scalar::I32(i32::MAX),
        (ReduceKind::Min, DType::I64) => Scalar::I64(i64::MAX),
        (ReduceKind::Min, d) => Scalar::from_f64(d, f64::INFINITY),
    }
}

fn body(kind: ReduceKind) -> &'static str {
    match kind {
        ReduceKind::Sum => "add",
        ReduceKind::Max => "maximum",
        ReduceKind::Min => "minimum",
    }
}

/// `reduce_sum`, `reduce_max`, `reduce_min`; nothing when no axis is
/// reduced.
pub(crate) fn reduce(em: &mut Emitter, kind: ReduceKind, x: Value, axes: &[usize]) -> Result<(), Error> {
    if axes.is_empty() {
        em.alias(x);
        return Ok(());
    }
    let dtype = em.f.ty(x).dtype;
    let scalar = TensorType::scalar(dtype);
    let init = em.splat_const(identity(kind, dtype), &scalar);
    let mut dims = axes.to_vec();
    dims.sort_unstable();
    let line = format!(
        "{} = stablehlo.reduce({} init: {init}) applies stablehlo.{} across dimensions = {} : ({}, {}) -> {}",
        em.out(),
        em.arg(x),
        body(kind),
        list(&dims),
        em.ty(x),
        crate::tensor_type(&scalar),
        em.out_ty()
    );
    em.line(line);
    Ok(())
}
