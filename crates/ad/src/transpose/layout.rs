//! Transpose rules of the layout ops: `broadcast_in_dim` ↔ `reduce_sum`,
//! `slice` ↔ `pad`, `reshape` and `transpose` back, `concatenate` into
//! slices.

use saddle_ir::Tensor;

use super::{Cts, Ctx};

/// `broadcast_in_dim x {dims}`: sum the cotangent over the new axes and
/// over the axes where `x` has extent 1 and was stretched.
pub(crate) fn broadcast_in_dim<'t>(c: &Ctx<'_, 't>, dims: &[usize]) -> Cts<'t> {
    let x = c.types[0];
    let out = c.ct.shape();
    let new_axes: Vec<usize> = (0..out.len()).filter(|a| !dims.contains(a)).collect();
    let mut ct = if new_axes.is_empty() { c.ct } else { c.ct.sum(&new_axes) };
    let stretched: Vec<usize> = (0..x.rank()).filter(|&i| x.shape[i] == 1 && out[dims[i]] != 1).collect();
    if !stretched.is_empty() {
        ct = ct.sum(&stretched).reshape(&x.shape);
    }
    Ok(vec![Some(ct)])
}

/// `reshape`: reshape the cotangent back.
pub(crate) fn reshape<'t>(c: &Ctx<'_, 't>) -> Cts<'t> {
    Ok(vec![Some(c.ct.reshape(&c.types[0].shape))])
}

/// `transpose {perm}`: transpose by the inverse permutation.
pub(crate) fn transpose<'t>(c: &Ctx<'_, 't>, perm: &[usize]) -> Cts<'t> {
    let mut inverse = vec![0; perm.len()];
    for (i, &p) in perm.iter().enumerate() {
        inverse[p] = i;
    }
    Ok(vec![Some(c.ct.transpose(&inverse))])
}

/// `slice {start, stride}`: pad the cotangent with zeros back to the
/// operand's shape.
pub(crate) fn slice<'t>(c: &Ctx<'_, 't>, start: &[usize], stride: &[usize]) -> Cts<'t> {
    let x = c.types[0];
    let out = c.ct.shape();
    if out.contains(&0) {
        return Ok(vec![Some(c.tr.zeros(x))]);
    }
    let interior: Vec<usize> = stride.iter().map(|s| s - 1).collect();
    let high: Vec<usize> = (0..x.rank()).map(|a| x.shape[a] - start[a] - (out[a] - 1) * stride[a] - 1).collect();
    Ok(vec![Some(c.ct.pad(0.0, start, &high, &interior))])
}

/// `pad x, v {low, interior}`: the operand's cotangent is the strided
/// slice of the cotangent at its elements; the padding value's is the sum
/// of the rest.
pub(crate) fn pad<'t>(c: &Ctx<'_, 't>, low: &[usize], interior: &[usize]) -> Cts<'t> {
    c.linear_or_zero(0)?;
    c.linear_or_zero(1)?;
    let x = c.types[0];
    let ct_x: Tensor<'t> = if x.shape.contains(&0) {
        c.tr.zeros(x)
    } else {
        let stride: Vec<usize> = interior.iter().map(|i| i + 1).collect();
        let limit: Vec<usize> = (0..x.rank()).map(|a| low[a] + (x.shape[a] - 1) * stride[a] + 1).collect();
        c.ct.slice_strided(low, &limit, &stride)
    };
    let ct_v = c.to(1, || c.ct.sum_all() - ct_x.sum_all());
    Ok(vec![c.to(0, || ct_x), ct_v])
}

/// `concatenate {axis}`: each operand's cotangent is its slice of the
/// cotangent.
pub(crate) fn concatenate<'t>(c: &Ctx<'_, 't>, axis: usize) -> Cts<'t> {
    let shape = c.ct.shape();
    let mut offset = 0;
    let mut out = Vec::with_capacity(c.args.len());
    for (i, ty) in c.types.iter().enumerate() {
        c.linear_or_zero(i)?;
        let n = ty.shape[axis];
        let mut start = vec![0; shape.len()];
        let mut limit = shape.clone();
        start[axis] = offset;
        limit[axis] = offset + n;
        out.push(c.to(i, || c.ct.slice(&start, &limit)));
        offset += n;
    }
    Ok(out)
}
