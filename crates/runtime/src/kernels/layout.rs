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

/// Row-major strides of `shape`.
fn strides_of(shape: &[usize]) -> Vec<isize> {
    let mut strides = vec![1isize; shape.len()];
    for a in (0..shape.len().saturating_sub(1)).rev() {
        strides[a] = strides[a + 1] * shape[a + 1] as isize;
    }
    strides
}

/// Fills `out` (row-major, `shape`) with `x[offset + Σ index[a]·strides[a]]`:
/// the one loop behind broadcasts (stride 0), transposes (permuted
/// strides) and strided slices. Axes of extent 1 are dropped and
/// neighbours that walk `x` as one axis are merged, so the inner loop is a
/// copy, a fill or a strided gather over the longest run possible.
fn gather<T: Elem>(x: &[T], offset: usize, shape: &[usize], strides: &[isize], out: &mut [T]) {
    if out.is_empty() {
        return;
    }
    let mut dims: Vec<(usize, isize)> = Vec::with_capacity(shape.len());
    for (&n, &s) in shape.iter().zip(strides) {
        if n == 1 {
            continue;
        }
        match dims.last_mut() {
            Some((m, t)) if *t == s * n as isize => {
                *m *= n;
                *t = s;
            }
            _ => dims.push((n, s)),
        }
    }
    let Some(&(inner, step)) = dims.last() else {
        out[0] = x[offset];
        return;
    };
    let outer = &dims[..dims.len() - 1];
    let mut index = vec![0usize; outer.len()];
    let mut base = offset as isize;
    for row in out.chunks_exact_mut(inner) {
        let b = base as usize;
        match step {
            1 => row.copy_from_slice(&x[b..b + inner]),
            0 => row.fill(x[b]),
            _ => row.iter_mut().enumerate().for_each(|(i, o)| *o = x[(base + i as isize * step) as usize]),
        }
        // Next outer index (odometer), keeping `base` in step.
        for a in (0..outer.len()).rev() {
            index[a] += 1;
            base += outer[a].1;
            if index[a] < outer[a].0 {
                break;
            }
            base -= outer[a].1 * outer[a].0 as isize;
            index[a] = 0;
        }
    }
}

/// `broadcast_in_dim`.
pub fn broadcast<T: Elem>(x: &[T], xshape: &[usize], out: &mut [T], shape: &[usize], dims: &[usize]) {
    if x.len() == 1 {
        out.fill(x[0]);
        return;
    }
    let xs = strides_of(xshape);
    let mut strides = vec![0isize; shape.len()];
    for (i, &d) in dims.iter().enumerate() {
        // An operand axis of extent 1 broadcasts too.
        strides[d] = if xshape[i] == 1 { 0 } else { xs[i] };
    }
    gather(x, 0, shape, &strides, out);
}

/// `transpose`.
pub fn transpose<T: Elem>(x: &[T], xshape: &[usize], perm: &[usize], out: &mut [T], shape: &[usize]) {
    let xs = strides_of(xshape);
    let strides: Vec<isize> = perm.iter().map(|&p| xs[p]).collect();
    gather(x, 0, shape, &strides, out);
}

/// `slice`.
pub fn slice<T: Elem>(
    x: &[T],
    xshape: &[usize],
    start: &[usize],
    _limit: &[usize],
    stride: &[usize],
    out: &mut [T],
    shape: &[usize],
) {
    let xs = strides_of(xshape);
    let offset: isize = start.iter().zip(&xs).map(|(&s, &t)| s as isize * t).sum();
    let strides: Vec<isize> = xs.iter().zip(stride).map(|(&t, &s)| t * s as isize).collect();
    gather(x, offset as usize, shape, &strides, out);
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
