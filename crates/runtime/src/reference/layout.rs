//! Reference layout ops, through ndarray views.

use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn, Slice};
use saddle_ir::{Array, DType, TensorType};

use super::internal;
use crate::Error;
use crate::scalar::{Elem, Num};

fn owned<T: Elem>(v: ArrayViewD<T>) -> ArrayD<T> {
    v.as_standard_layout().into_owned()
}

pub(super) fn iota(dim: usize, ty: &TensorType) -> Result<Array, Error> {
    fn fill<T: Num>(dim: usize, shape: &[usize]) -> Array {
        T::wrap(ArrayD::from_shape_fn(IxDyn(shape), |i| T::from_index(i[dim])))
    }
    Ok(match ty.dtype {
        DType::F32 => fill::<f32>(dim, &ty.shape),
        DType::F64 => fill::<f64>(dim, &ty.shape),
        DType::I32 => fill::<i32>(dim, &ty.shape),
        DType::I64 => fill::<i64>(dim, &ty.shape),
        DType::Bool => return Err(internal("iota of bool")),
    })
}

pub(super) fn broadcast_in_dim(x: &Array, shape: &[usize], dims: &[usize]) -> Array {
    fn go<T: Elem>(x: &ArrayD<T>, shape: &[usize], dims: &[usize]) -> Array {
        let mut expanded = vec![1; shape.len()];
        for (i, &d) in dims.iter().enumerate() {
            expanded[d] = x.shape()[i];
        }
        let v = x.view().into_shape_with_order(IxDyn(&expanded)).expect("same element count");
        T::wrap(owned(v.broadcast(IxDyn(shape)).expect("verified broadcast")))
    }
    saddle_ir::with_array!(x, a => go(a, shape, dims))
}

pub(super) fn reshape(x: &Array, shape: &[usize]) -> Array {
    fn go<T: Elem>(x: &ArrayD<T>, shape: &[usize]) -> Array {
        let flat: Vec<T> = x.iter().copied().collect();
        T::wrap(ArrayD::from_shape_vec(IxDyn(shape), flat).expect("same element count"))
    }
    saddle_ir::with_array!(x, a => go(a, shape))
}

pub(super) fn transpose(x: &Array, perm: &[usize]) -> Array {
    saddle_ir::with_array!(x, a => owned(a.view().permuted_axes(IxDyn(perm))).into())
}

pub(super) fn slice(x: &Array, start: &[usize], limit: &[usize], stride: &[usize]) -> Array {
    fn go<T: Elem>(x: &ArrayD<T>, start: &[usize], limit: &[usize], stride: &[usize]) -> Array {
        let v = x.slice_each_axis(|ax| {
            let a = ax.axis.index();
            Slice::new(start[a] as isize, Some(limit[a] as isize), stride[a] as isize)
        });
        T::wrap(owned(v))
    }
    saddle_ir::with_array!(x, a => go(a, start, limit, stride))
}

pub(super) fn pad(
    x: &Array,
    value: &Array,
    low: &[usize],
    _high: &[usize],
    interior: &[usize],
    ty: &TensorType,
) -> Result<Array, Error> {
    fn go<T: Elem>(
        x: &ArrayD<T>,
        value: &Array,
        low: &[usize],
        interior: &[usize],
        shape: &[usize],
    ) -> Result<Array, Error> {
        let v = *T::unwrap(value).and_then(|a| a.iter().next()).ok_or_else(|| internal("pad value"))?;
        let mut out = ArrayD::from_elem(IxDyn(shape), v);
        if x.is_empty() {
            return Ok(T::wrap(out));
        }
        let n = x.shape().to_vec();
        out.slice_each_axis_mut(|ax| {
            let a = ax.axis.index();
            let step = interior[a] + 1;
            let end = low[a] + (n[a] - 1) * step + 1;
            Slice::new(low[a] as isize, Some(end as isize), step as isize)
        })
        .assign(x);
        Ok(T::wrap(out))
    }
    saddle_ir::with_array!(x, a => go(a, value, low, interior, &ty.shape))
}

pub(super) fn concatenate(xs: &[&Array], axis: usize) -> Array {
    fn go<T: Elem>(xs: &[&Array], axis: usize) -> Array {
        let views: Vec<ArrayViewD<T>> = xs.iter().filter_map(|x| T::unwrap(x)).map(|a| a.view()).collect();
        let joined = ndarray::concatenate(Axis(axis), &views).expect("verified concatenation");
        T::wrap(owned(joined.view()))
    }
    match xs[0] {
        Array::F32(_) => go::<f32>(xs, axis),
        Array::F64(_) => go::<f64>(xs, axis),
        Array::I32(_) => go::<i32>(xs, axis),
        Array::I64(_) => go::<i64>(xs, axis),
        Array::Bool(_) => go::<bool>(xs, axis),
    }
}
