//! Layout ops: broadcasts, reshapes, transposes, slices, pads,
//! concatenation, `iota`.

use super::check_axes;
use crate::types::{MAX_ELEMENTS, ShapeDisplay};
use crate::{TensorType, TypeError};

/// Refuses an extent-like attribute entry (a stride, a padding) beyond
/// [`MAX_ELEMENTS`], so that index arithmetic on it cannot overflow.
fn check_extent_attr(op: &'static str, what: &str, values: &[usize]) -> Result<(), TypeError> {
    match values.iter().enumerate().find(|&(_, &v)| v as u64 > MAX_ELEMENTS) {
        Some((a, v)) => Err(TypeError::invalid(op, format!("{what}[{a}] = {v} is larger than 2^48"))),
        None => Ok(()),
    }
}

/// Typing rule of `iota`.
pub fn iota(dim: usize, ty: &TensorType) -> Result<TensorType, TypeError> {
    if !ty.dtype.is_numeric() {
        return Err(TypeError::invalid("iota", format!("result type {ty} must have a numeric dtype")));
    }
    if dim >= ty.rank() {
        return Err(TypeError::invalid("iota", format!("dim {dim} is out of range for result type {ty}")));
    }
    Ok(ty.clone())
}

/// Typing rule of `broadcast_in_dim`.
pub fn broadcast_in_dim(x: &TensorType, shape: &[usize], dims: &[usize]) -> Result<TensorType, TypeError> {
    let op = "broadcast_in_dim";
    if dims.len() != x.rank() {
        return Err(TypeError::invalid(
            op,
            format!("dims has {} entries but the operand {x} has rank {}", dims.len(), x.rank()),
        ));
    }
    for (i, &d) in dims.iter().enumerate() {
        if d >= shape.len() {
            return Err(TypeError::invalid(
                op,
                format!("dims[{i}] = {d} is out of range for shape {}", ShapeDisplay(shape)),
            ));
        }
        if i > 0 && d <= dims[i - 1] {
            return Err(TypeError::invalid(op, format!("dims must be strictly increasing, found {dims:?}")));
        }
        if x.shape[i] != 1 && x.shape[i] != shape[d] {
            return Err(TypeError::invalid(
                op,
                format!(
                    "operand {x} axis {i} has extent {} but result axis {d} of {} has extent {}",
                    x.shape[i],
                    ShapeDisplay(shape),
                    shape[d]
                ),
            ));
        }
    }
    Ok(TensorType::new(x.dtype, shape))
}

/// Typing rule of `reshape`.
pub fn reshape(x: &TensorType, shape: &[usize]) -> Result<TensorType, TypeError> {
    let out = TensorType::new(x.dtype, shape).checked()?;
    if out.num_elements() != x.num_elements() {
        return Err(TypeError::invalid(
            "reshape",
            format!(
                "cannot reshape {x} ({} elements) to {} ({} elements)",
                x.num_elements(),
                ShapeDisplay(shape),
                out.num_elements()
            ),
        ));
    }
    Ok(out)
}

/// Typing rule of `transpose`.
pub fn transpose(x: &TensorType, perm: &[usize]) -> Result<TensorType, TypeError> {
    if perm.len() != x.rank() {
        return Err(TypeError::invalid(
            "transpose",
            format!("perm {perm:?} has {} entries but the operand {x} has rank {}", perm.len(), x.rank()),
        ));
    }
    check_axes("transpose", "perm", perm, x.rank())?;
    Ok(TensorType::new(x.dtype, perm.iter().map(|&p| x.shape[p]).collect::<Vec<_>>()))
}

/// Typing rule of `slice`.
pub fn slice(x: &TensorType, start: &[usize], limit: &[usize], stride: &[usize]) -> Result<TensorType, TypeError> {
    let op = "slice";
    for (what, v) in [("start", start), ("limit", limit), ("stride", stride)] {
        if v.len() != x.rank() {
            return Err(TypeError::invalid(
                op,
                format!("{what} has {} entries but the operand {x} has rank {}", v.len(), x.rank()),
            ));
        }
    }
    check_extent_attr(op, "stride", stride)?;
    let mut shape = Vec::with_capacity(x.rank());
    for a in 0..x.rank() {
        if stride[a] == 0 {
            return Err(TypeError::invalid(op, format!("stride on axis {a} must be at least 1")));
        }
        if start[a] > limit[a] || limit[a] > x.shape[a] {
            return Err(TypeError::invalid(
                op,
                format!(
                    "axis {a}: need start <= limit <= {} (extent of {x}), found start {} and limit {}",
                    x.shape[a], start[a], limit[a]
                ),
            ));
        }
        shape.push((limit[a] - start[a]).div_ceil(stride[a]));
    }
    Ok(TensorType::new(x.dtype, shape))
}

/// Typing rule of `pad`.
pub fn pad(
    x: &TensorType,
    value: &TensorType,
    low: &[usize],
    high: &[usize],
    interior: &[usize],
) -> Result<TensorType, TypeError> {
    let op = "pad";
    if *value != TensorType::scalar(x.dtype) {
        return Err(TypeError::Mismatch {
            op,
            operand: 1,
            found: Box::new(value.clone()),
            expected: Box::new(TensorType::scalar(x.dtype)),
        });
    }
    for (what, v) in [("low", low), ("high", high), ("interior", interior)] {
        if v.len() != x.rank() {
            return Err(TypeError::invalid(
                op,
                format!("{what} has {} entries but the operand {x} has rank {}", v.len(), x.rank()),
            ));
        }
    }
    for (what, v) in [("low", low), ("high", high), ("interior", interior)] {
        check_extent_attr(op, what, v)?;
    }
    let mut shape = Vec::with_capacity(x.rank());
    for a in 0..x.rank() {
        let n = x.shape[a];
        let extent = n
            .checked_add(n.saturating_sub(1).saturating_mul(interior[a]))
            .and_then(|e| e.checked_add(low[a]))
            .and_then(|e| e.checked_add(high[a]));
        match extent {
            Some(e) => shape.push(e),
            None => return Err(TypeError::invalid(op, format!("padding of axis {a} overflows"))),
        }
    }
    Ok(TensorType::new(x.dtype, shape))
}

/// Typing rule of `concatenate`.
pub fn concatenate(args: &[&TensorType], axis: usize) -> Result<TensorType, TypeError> {
    let op = "concatenate";
    let first = args[0];
    if axis >= first.rank() {
        return Err(TypeError::invalid(op, format!("axis {axis} is out of range for operand 0 of type {first}")));
    }
    let mut total: usize = 0;
    for (i, t) in args.iter().enumerate() {
        let same_other_axes = t.dtype == first.dtype
            && t.rank() == first.rank()
            && (0..t.rank()).all(|a| a == axis || t.shape[a] == first.shape[a]);
        if !same_other_axes {
            return Err(TypeError::invalid(
                op,
                format!("operand {i} has type {t}, which does not match operand 0 ({first}) outside axis {axis}"),
            ));
        }
        total = total.checked_add(t.shape[axis]).ok_or_else(|| TypeError::invalid(op, "result extent overflows"))?;
    }
    let mut shape = first.shape.clone();
    shape[axis] = total;
    Ok(TensorType::new(first.dtype, shape))
}
