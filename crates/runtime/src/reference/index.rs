//! Reference indexing: `take` and `segment_sum`, with every index checked.

use ndarray::{ArrayD, IxDyn};
use saddle_ir::{Array, TensorType};

use super::{At, internal, numeric};
use crate::Error;
use crate::scalar::{Elem, Num};

/// The indices as i64, row-major.
fn indices(idx: &Array) -> Result<Vec<i64>, Error> {
    match idx {
        Array::I32(a) => Ok(a.iter().map(|&i| i as i64).collect()),
        Array::I64(a) => Ok(a.iter().copied().collect()),
        _ => Err(internal("index operand is not an integer array")),
    }
}

/// `i` as a position below `extent`, or the error naming it.
fn in_range(op: &'static str, i: i64, extent: usize, at: &At) -> Result<usize, Error> {
    if i >= 0 && (i as u64) < extent as u64 {
        Ok(i as usize)
    } else {
        Err(Error::IndexOutOfRange { op, at: at.name(), index: i, extent })
    }
}

pub(super) fn take(x: &Array, idx: &Array, axis: usize, ty: &TensorType, at: &At) -> Result<Array, Error> {
    fn go<T: Elem>(x: &ArrayD<T>, idx: &[i64], axis: usize, shape: &[usize], at: &At) -> Result<Array, Error> {
        let s = x.shape();
        let outer: usize = s[..axis].iter().product();
        let extent = s[axis];
        let inner: usize = s[axis + 1..].iter().product();
        let data: Vec<T> = x.iter().copied().collect();
        let mut out = Vec::with_capacity(outer * idx.len() * inner);
        for o in 0..outer {
            for &i in idx {
                let i = in_range("take", i, extent, at)?;
                let base = (o * extent + i) * inner;
                out.extend_from_slice(&data[base..base + inner]);
            }
        }
        Ok(T::wrap(ArrayD::from_shape_vec(IxDyn(shape), out).expect("result shape")))
    }
    let idx = indices(idx)?;
    saddle_ir::with_array!(x, a => go(a, &idx, axis, &ty.shape, at))
}

pub(super) fn segment_sum(
    data: &Array,
    idx: &Array,
    num_segments: usize,
    ty: &TensorType,
    at: &At,
) -> Result<Array, Error> {
    fn go<T: Num>(x: &ArrayD<T>, idx: &[i64], segments: usize, shape: &[usize], at: &At) -> Result<Array, Error> {
        let inner: usize = x.shape()[1..].iter().product();
        let data: Vec<T> = x.iter().copied().collect();
        let mut out = vec![T::zero(); segments * inner];
        for (row, &i) in idx.iter().enumerate() {
            let s = in_range("segment_sum", i, segments, at)?;
            for q in 0..inner {
                out[s * inner + q] = out[s * inner + q].add(data[row * inner + q]);
            }
        }
        Ok(T::wrap(ArrayD::from_shape_vec(IxDyn(shape), out).expect("result shape")))
    }
    let idx = indices(idx)?;
    Ok(numeric!(data, a => go(a, &idx, num_segments, &ty.shape, at)?))
}
