//! Layout kernels: broadcasts, transposes, slices, pads, concatenation,
//! through strided ndarray views over the plan's flat buffers.

use ndarray::{ArrayView, ArrayViewMut, IxDyn, Slice};

use crate::scalar::Elem;

fn view<'a, T>(x: &'a [T], shape: &[usize]) -> ArrayView<'a, T, IxDyn> {
    ArrayView::from_shape(IxDyn(shape), x).expect("plan shapes match buffers")
}

fn view_mut<'a, T>(x: &'a mut [T], shape: &[usize]) -> ArrayViewMut<'a, T, IxDyn> {
    ArrayViewMut::from_shape(IxDyn(shape), x).expect("plan shapes match buffers")
}

/// `broadcast_in_dim`.
pub fn broadcast<T: Elem>(x: &[T], xshape: &[usize], out: &mut [T], shape: &[usize], dims: &[usize]) {
    if x.len() == 1 {
        out.fill(x[0]);
        return;
    }
    let mut expanded = vec![1; shape.len()];
    for (i, &d) in dims.iter().enumerate() {
        expanded[d] = xshape[i];
    }
    let v = view(x, &expanded);
    view_mut(out, shape).assign(&v.broadcast(IxDyn(shape)).expect("verified broadcast"));
}

/// `transpose`.
pub fn transpose<T: Elem>(x: &[T], xshape: &[usize], perm: &[usize], out: &mut [T], shape: &[usize]) {
    view_mut(out, shape).assign(&view(x, xshape).permuted_axes(IxDyn(perm)));
}

/// `slice`.
pub fn slice<T: Elem>(
    x: &[T],
    xshape: &[usize],
    start: &[usize],
    limit: &[usize],
    stride: &[usize],
    out: &mut [T],
    shape: &[usize],
) {
    let v = view(x, xshape);
    let s = v.slice_each_axis(|ax| {
        let a = ax.axis.index();
        Slice::new(start[a] as isize, Some(limit[a] as isize), stride[a] as isize)
    });
    view_mut(out, shape).assign(&s);
}

/// `pad` (non-negative padding).
#[allow(clippy::too_many_arguments)]
pub fn pad<T: Elem>(
    x: &[T],
    xshape: &[usize],
    value: T,
    low: &[usize],
    interior: &[usize],
    out: &mut [T],
    shape: &[usize],
) {
    out.fill(value);
    if x.is_empty() {
        return;
    }
    let mut o = view_mut(out, shape);
    let mut target = o.slice_each_axis_mut(|ax| {
        let a = ax.axis.index();
        let step = interior[a] + 1;
        let end = low[a] + (xshape[a] - 1) * step + 1;
        Slice::new(low[a] as isize, Some(end as isize), step as isize)
    });
    target.assign(&view(x, xshape));
}

/// `concatenate` of `parts` (data and shape) along `axis`.
pub fn concatenate<T: Elem>(parts: &[(&[T], &[usize])], axis: usize, out: &mut [T], shape: &[usize]) {
    let mut o = view_mut(out, shape);
    let mut at = 0;
    for (data, s) in parts {
        let n = s[axis];
        o.slice_axis_mut(ndarray::Axis(axis), Slice::from(at..at + n)).assign(&view(data, s));
        at += n;
    }
}
