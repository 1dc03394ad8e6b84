//! Folding of reductions.

use super::elementwise::binary;
use super::{Vals, for_each_index, strides};
use crate::op::{Binary, ReduceKind};
use crate::{DType, Scalar, TensorType};

fn identity(kind: ReduceKind, dtype: DType) -> Scalar {
    match (kind, dtype) {
        (ReduceKind::Sum, d) => Scalar::zero(d),
        (ReduceKind::Max, DType::F32) => Scalar::F32(f32::NEG_INFINITY),
        (ReduceKind::Max, DType::F64) => Scalar::F64(f64::NEG_INFINITY),
        (ReduceKind::Max, DType::I32) => Scalar::I32(i32::MIN),
        (ReduceKind::Max, DType::I64) => Scalar::I64(i64::MIN),
        (ReduceKind::Min, DType::F32) => Scalar::F32(f32::INFINITY),
        (ReduceKind::Min, DType::F64) => Scalar::F64(f64::INFINITY),
        (ReduceKind::Min, DType::I32) => Scalar::I32(i32::MAX),
        (ReduceKind::Min, DType::I64) => Scalar::I64(i64::MAX),
        (ReduceKind::Max | ReduceKind::Min, DType::Bool) => Scalar::Bool(false),
    }
}

/// Reduces in row-major order of the operand.
pub(super) fn reduce(kind: ReduceKind, x: &Vals, axes: &[usize], ty: &TensorType) -> Option<Vec<Scalar>> {
    let op = match kind {
        ReduceKind::Sum => Binary::Add,
        ReduceKind::Max => Binary::Max,
        ReduceKind::Min => Binary::Min,
    };
    let kept: Vec<usize> = (0..x.ty.rank()).filter(|a| !axes.contains(a)).collect();
    let os = strides(&ty.shape);
    let mut out = vec![identity(kind, x.ty.dtype); ty.num_elements()];
    let mut k = 0;
    let mut failed = false;
    for_each_index(&x.ty.shape, |idx| {
        let off: usize = kept.iter().enumerate().map(|(j, &a)| idx[a] * os[j]).sum();
        match binary(op, out[off], x.data[k]) {
            Some(v) => out[off] = v,
            None => failed = true,
        }
        k += 1;
    });
    (!failed).then_some(out)
}
