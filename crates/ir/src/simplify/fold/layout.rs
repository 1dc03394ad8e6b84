//! Folding of layout ops: `iota`, broadcasts, transposes, slices, pads,
//! concatenation (reshape keeps the data as it is).

use super::{Vals, for_each_index, strides};
use crate::{Scalar, TensorType};

pub(super) fn iota(dim: usize, ty: &TensorType) -> Vec<Scalar> {
    let mut out = Vec::with_capacity(ty.num_elements());
    for_each_index(&ty.shape, |idx| out.push(Scalar::from_f64(ty.dtype, idx[dim] as f64)));
    out
}

pub(super) fn broadcast_in_dim(x: &Vals, dims: &[usize], ty: &TensorType) -> Vec<Scalar> {
    let xs = strides(&x.ty.shape);
    let mut out = Vec::with_capacity(ty.num_elements());
    for_each_index(&ty.shape, |idx| {
        let off: usize =
            dims.iter().enumerate().map(|(i, &d)| if x.ty.shape[i] == 1 { 0 } else { idx[d] * xs[i] }).sum();
        out.push(x.data[off]);
    });
    out
}

pub(super) fn transpose(x: &Vals, perm: &[usize], ty: &TensorType) -> Vec<Scalar> {
    let xs = strides(&x.ty.shape);
    let mut out = Vec::with_capacity(ty.num_elements());
    for_each_index(&ty.shape, |idx| {
        let off: usize = perm.iter().enumerate().map(|(k, &p)| idx[k] * xs[p]).sum();
        out.push(x.data[off]);
    });
    out
}

pub(super) fn slice(x: &Vals, start: &[usize], stride: &[usize], ty: &TensorType) -> Vec<Scalar> {
    let xs = strides(&x.ty.shape);
    let mut out = Vec::with_capacity(ty.num_elements());
    for_each_index(&ty.shape, |idx| {
        let off: usize = (0..idx.len()).map(|a| (start[a] + idx[a] * stride[a]) * xs[a]).sum();
        out.push(x.data[off]);
    });
    out
}

pub(super) fn pad(x: &Vals, value: Scalar, low: &[usize], interior: &[usize], ty: &TensorType) -> Vec<Scalar> {
    let os = strides(&ty.shape);
    let mut out = vec![value; ty.num_elements()];
    let mut k = 0;
    for_each_index(&x.ty.shape, |idx| {
        let off: usize = (0..idx.len()).map(|a| (low[a] + idx[a] * (interior[a] + 1)) * os[a]).sum();
        out[off] = x.data[k];
        k += 1;
    });
    out
}

pub(super) fn concatenate(args: &[Vals], axis: usize, ty: &TensorType) -> Vec<Scalar> {
    let os = strides(&ty.shape);
    let mut out = vec![Scalar::zero(ty.dtype); ty.num_elements()];
    let mut base = 0;
    for x in args {
        let mut k = 0;
        for_each_index(&x.ty.shape, |idx| {
            let off: usize = (0..idx.len()).map(|a| (idx[a] + if a == axis { base } else { 0 }) * os[a]).sum();
            out[off] = x.data[k];
            k += 1;
        });
        base += x.ty.shape[axis];
    }
    out
}
