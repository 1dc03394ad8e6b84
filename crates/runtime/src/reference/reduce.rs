//! Reference reductions: move the reduced axes last, then fold each row.

use ndarray::{ArrayD, IxDyn};
use saddle_ir::Array;
use saddle_ir::op::ReduceKind;

use super::numeric;
use crate::Error;
use crate::kernels::reduce::sum;
use crate::scalar::Num;

pub(super) fn reduce(kind: ReduceKind, x: &Array, axes: &[usize]) -> Result<Array, Error> {
    Ok(numeric!(x, a => reduce_typed(kind, a, axes).into()))
}

fn reduce_typed<T: Num>(kind: ReduceKind, x: &ArrayD<T>, axes: &[usize]) -> ArrayD<T> {
    let rank = x.ndim();
    let kept: Vec<usize> = (0..rank).filter(|a| !axes.contains(a)).collect();
    let reduced: Vec<usize> = (0..rank).filter(|a| axes.contains(a)).collect();
    let perm: Vec<usize> = kept.iter().chain(&reduced).copied().collect();
    let moved = x.view().permuted_axes(IxDyn(&perm)).as_standard_layout().into_owned();
    let out_shape: Vec<usize> = kept.iter().map(|&a| x.shape()[a]).collect();
    let rows: usize = out_shape.iter().product();
    let row_len: usize = reduced.iter().map(|&a| x.shape()[a]).product();
    let data = moved.as_slice().expect("standard layout");
    let mut out = Vec::with_capacity(rows);
    for r in 0..rows {
        let row = &data[r * row_len..(r + 1) * row_len];
        out.push(match kind {
            ReduceKind::Sum => sum(row),
            ReduceKind::Max => row.iter().fold(T::max_identity(), |acc, &v| Num::max(acc, v)),
            ReduceKind::Min => row.iter().fold(T::min_identity(), |acc, &v| Num::min(acc, v)),
        });
    }
    ArrayD::from_shape_vec(IxDyn(&out_shape), out).expect("row count matches the kept shape")
}
