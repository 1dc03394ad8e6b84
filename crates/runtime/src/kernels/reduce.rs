//! Reductions.
//!
//! The order of a floating-point sum is part of its result, so it is fixed
//! here once: [`sum`] is the only way saddle adds up a sequence, in the
//! reference evaluator and in the compiled plan alike.

use crate::scalar::Num;

/// Elements per chunk of [`sum`]; chunks may be summed on different threads.
pub const SUM_CHUNK: usize = saddle_ir::math::SUM_CHUNK;

/// The sum of `xs` in saddle's canonical order
/// ([`saddle_ir::math::sum_by`], which the constant folder calls too): each
/// chunk of [`SUM_CHUNK`] elements is summed in eight interleaved lanes
/// (element `i` of the chunk goes to lane `i % 8`), the lanes are combined
/// pairwise, and the chunk sums are added in order. The result does not
/// depend on the number of threads.
///
/// ```
/// use saddle_runtime::kernels::reduce::sum;
/// assert_eq!(sum(&[1.0, 2.0, 3.0]), 6.0);
/// assert_eq!(sum::<f64>(&[]), 0.0);
/// ```
pub fn sum<T: Num>(xs: &[T]) -> T {
    saddle_ir::math::sum_by(xs, T::zero(), Num::add)
}

/// The sum of at most [`SUM_CHUNK`] elements in eight lanes.
#[inline]
pub fn chunk_sum<T: Num>(xs: &[T]) -> T {
    saddle_ir::math::chunk_sum_by(xs, T::zero(), Num::add)
}

use rayon::prelude::*;
use saddle_ir::op::ReduceKind;

/// Reduces each of the `rows` contiguous rows of `x` (each `row_len`
/// long) into `out[row]`. `partials` holds at least
/// `row_len.div_ceil(SUM_CHUNK)` elements when a single long row is summed
/// on several threads.
pub(crate) fn reduce_rows<T: Num>(kind: ReduceKind, x: &[T], row_len: usize, out: &mut [T], partials: &mut [T]) {
    let rows = out.len();
    let one = |row: &[T]| -> T {
        match kind {
            ReduceKind::Sum => sum(row),
            ReduceKind::Max => row.iter().fold(T::max_identity(), |a, &v| Num::max(a, v)),
            ReduceKind::Min => row.iter().fold(T::min_identity(), |a, &v| Num::min(a, v)),
        }
    };
    if row_len == 0 {
        out.fill(one(&[]));
        return;
    }
    let work = rows * row_len;
    if !super::parallel(work) {
        for (o, row) in out.iter_mut().zip(x.chunks(row_len)) {
            *o = one(row);
        }
    } else if rows >= 2 * rayon::current_num_threads() {
        // Pieces of a few thousand elements, each stealable (see
        // `elementwise::run`).
        let rows_per_task = super::task_len(work, 1).div_ceil(row_len).max(1);
        out.par_iter_mut().zip(x.par_chunks(row_len)).with_max_len(rows_per_task).for_each(|(o, row)| *o = one(row));
    } else {
        for (o, row) in out.iter_mut().zip(x.chunks(row_len)) {
            let chunks = row_len.div_ceil(SUM_CHUNK);
            let parts = &mut partials[..chunks];
            match kind {
                ReduceKind::Sum => {
                    parts.par_iter_mut().zip(row.par_chunks(SUM_CHUNK)).for_each(|(p, c)| *p = chunk_sum(c));
                    *o = parts.iter().fold(T::zero(), |a, &p| a.add(p));
                }
                ReduceKind::Max | ReduceKind::Min => {
                    parts.par_iter_mut().zip(row.par_chunks(SUM_CHUNK)).for_each(|(p, c)| *p = one(c));
                    *o = one(parts);
                }
            }
        }
    }
}
