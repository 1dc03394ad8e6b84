//! Folding of `take` and `segment_sum`; an index out of range is not folded
//! (it stays a run-time error).

use super::elementwise::binary;
use super::{Vals, for_each_index, strides};
use crate::op::Binary;
use crate::{Scalar, TensorType};

fn index_value(s: Scalar, extent: usize) -> Option<usize> {
    let i = match s {
        Scalar::I32(i) => i64::from(i),
        Scalar::I64(i) => i,
        Scalar::F32(_) | Scalar::F64(_) | Scalar::Bool(_) => return None,
    };
    usize::try_from(i).ok().filter(|&i| i < extent)
}

pub(super) fn take(x: &Vals, idx: &Vals, axis: usize, ty: &TensorType) -> Option<Vec<Scalar>> {
    let xs = strides(&x.ty.shape);
    let is = strides(&idx.ty.shape);
    let ir = idx.ty.rank();
    let mut out = Vec::with_capacity(ty.num_elements());
    let mut failed = false;
    for_each_index(&ty.shape, |o| {
        let ioff: usize = (0..ir).map(|j| o[axis + j] * is[j]).sum();
        let Some(i) = index_value(idx.data[ioff], x.ty.shape[axis]) else {
            failed = true;
            out.push(Scalar::zero(ty.dtype));
            return;
        };
        let mut off = i * xs[axis];
        for a in 0..axis {
            off += o[a] * xs[a];
        }
        for a in axis + 1..x.ty.rank() {
            off += o[a - 1 + ir] * xs[a];
        }
        out.push(x.data[off]);
    });
    (!failed).then_some(out)
}

pub(super) fn segment_sum(data: &Vals, idx: &Vals, ty: &TensorType) -> Option<Vec<Scalar>> {
    let row: usize = data.ty.shape[1..].iter().product();
    let mut out = vec![Scalar::zero(ty.dtype); ty.num_elements()];
    for (i, &s) in idx.data.iter().enumerate() {
        let seg = index_value(s, ty.shape[0])?;
        for k in 0..row {
            out[seg * row + k] = binary(Binary::Add, out[seg * row + k], data.data[i * row + k])?;
        }
    }
    Some(out)
}
