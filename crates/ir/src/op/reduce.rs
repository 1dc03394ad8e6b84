//! Reductions over axes.

use super::check_axes;
use crate::{TensorType, TypeError};

/// Which reduction a `reduce_*` op computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReduceKind {
    /// `reduce_sum`: the sum (0 over no elements).
    Sum,
    /// `reduce_max`: the largest element (-inf, or the dtype's least value,
    /// over no elements).
    Max,
    /// `reduce_min`: the smallest element (+inf, or the dtype's greatest
    /// value, over no elements).
    Min,
}

impl ReduceKind {
    /// Every reduction.
    pub const ALL: [ReduceKind; 3] = [ReduceKind::Sum, ReduceKind::Max, ReduceKind::Min];

    /// Name in the text format.
    #[inline]
    pub fn name(self) -> &'static str {
        match self {
            ReduceKind::Sum => "reduce_sum",
            ReduceKind::Max => "reduce_max",
            ReduceKind::Min => "reduce_min",
        }
    }

    /// The reduction called `name`, if any.
    pub fn from_name(name: &str) -> Option<ReduceKind> {
        ReduceKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// Typing rule of the reductions: numeric operand, `axes` distinct and in
/// range; the result drops those axes.
pub fn reduce(kind: ReduceKind, x: &TensorType, axes: &[usize]) -> Result<TensorType, TypeError> {
    let op = kind.name();
    if !x.dtype.is_numeric() {
        return Err(TypeError::DType {
            op,
            operand: 0,
            found: x.clone(),
            expected: "a numeric dtype (f32, f64, i32 or i64)",
        });
    }
    check_axes(op, "reduced", axes, x.rank())?;
    let shape = (0..x.rank()).filter(|a| !axes.contains(a)).map(|a| x.shape[a]).collect::<Vec<_>>();
    Ok(TensorType::new(x.dtype, shape))
}
