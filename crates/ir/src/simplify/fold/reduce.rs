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

/// Reduces as the runtime does: the elements of each output, in row-major
/// order of the reduced axes, summed in the canonical order
/// ([`crate::math::sum_by`]) or folded with `max`/`min` from the identity.
/// An integer sum that overflows is not folded.
pub(super) fn reduce(kind: ReduceKind, x: &Vals, axes: &[usize], ty: &TensorType) -> Option<Vec<Scalar>> {
    let kept: Vec<usize> = (0..x.ty.rank()).filter(|a| !axes.contains(a)).collect();
    let os = strides(&ty.shape);
    let mut rows: Vec<Vec<Scalar>> = vec![Vec::new(); ty.num_elements()];
    let mut k = 0;
    for_each_index(&x.ty.shape, |idx| {
        let off: usize = kept.iter().enumerate().map(|(j, &a)| idx[a] * os[j]).sum();
        rows[off].push(x.data[k]);
        k += 1;
    });
    let identity = identity(kind, x.ty.dtype);
    rows.iter()
        .map(|row| match kind {
            ReduceKind::Sum => {
                let terms: Vec<Option<Scalar>> = row.iter().map(|&v| Some(v)).collect();
                crate::math::sum_by(&terms, Some(identity), |a, b| binary(Binary::Add, a?, b?))
            }
            ReduceKind::Max => row.iter().try_fold(identity, |a, &v| binary(Binary::Max, a, v)),
            ReduceKind::Min => row.iter().try_fold(identity, |a, &v| binary(Binary::Min, a, v)),
        })
        .collect()
}
