//! Indexing: `take` and its transpose `segment_sum`.

use crate::{TensorType, TypeError};

fn check_index(op: &'static str, idx: &TensorType) -> Result<(), TypeError> {
    if idx.dtype.is_int() {
        Ok(())
    } else {
        Err(TypeError::DType { op, operand: 1, found: idx.clone(), expected: "an integer dtype (i32 or i64)" })
    }
}

/// Typing rule of `take`.
pub fn take(x: &TensorType, idx: &TensorType, axis: usize) -> Result<TensorType, TypeError> {
    check_index("take", idx)?;
    if axis >= x.rank() {
        return Err(TypeError::invalid("take", format!("axis {axis} is out of range for operand {x}")));
    }
    let mut shape = x.shape[..axis].to_vec();
    shape.extend_from_slice(&idx.shape);
    shape.extend_from_slice(&x.shape[axis + 1..]);
    Ok(TensorType::new(x.dtype, shape))
}

/// Typing rule of `segment_sum`.
pub fn segment_sum(data: &TensorType, idx: &TensorType, num_segments: usize) -> Result<TensorType, TypeError> {
    let op = "segment_sum";
    if !data.dtype.is_numeric() {
        return Err(TypeError::DType {
            op,
            operand: 0,
            found: data.clone(),
            expected: "a numeric dtype (f32, f64, i32 or i64)",
        });
    }
    check_index(op, idx)?;
    if data.rank() == 0 {
        return Err(TypeError::invalid_operand(op, 0, format!("data must have rank at least 1, found {data}")));
    }
    if idx.rank() != 1 || idx.shape[0] != data.shape[0] {
        return Err(TypeError::invalid_operand(
            op,
            1,
            format!("idx must be rank 1 with length data.shape[0] = {}, found {idx}", data.shape[0]),
        ));
    }
    let mut shape = vec![num_segments];
    shape.extend_from_slice(&data.shape[1..]);
    Ok(TensorType::new(data.dtype, shape))
}
