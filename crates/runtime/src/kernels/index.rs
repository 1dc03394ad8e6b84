//! Indexing kernels: `take` and `segment_sum`, every index checked.

use crate::scalar::{Elem, Num};

/// An index outside its axis: the index and the extent.
pub type OutOfRange = (i64, usize);

/// Integer index data (`i32` or `i64`).
pub trait Index: Elem {
    /// The index as `i64`.
    fn get(self) -> i64;
}
impl Index for i32 {
    fn get(self) -> i64 {
        self as i64
    }
}
impl Index for i64 {
    fn get(self) -> i64 {
        self
    }
}

#[inline]
fn check(i: i64, extent: usize) -> Result<usize, OutOfRange> {
    if i >= 0 && (i as u64) < extent as u64 { Ok(i as usize) } else { Err((i, extent)) }
}

/// `take` on `x` viewed as `[outer, extent, inner]`.
pub fn take<T: Elem, I: Index>(
    x: &[T],
    outer: usize,
    extent: usize,
    inner: usize,
    idx: &[I],
    out: &mut [T],
) -> Result<(), OutOfRange> {
    for &i in idx {
        check(i.get(), extent)?;
    }
    let mut w = 0;
    for o in 0..outer {
        for &i in idx {
            let base = (o * extent + i.get() as usize) * inner;
            out[w..w + inner].copy_from_slice(&x[base..base + inner]);
            w += inner;
        }
    }
    Ok(())
}

/// `segment_sum` of `data` viewed as `[rows, inner]` into `out`
/// (`[segments, inner]`), rows added in order.
pub fn segment_sum<T: Num, I: Index>(
    data: &[T],
    inner: usize,
    idx: &[I],
    segments: usize,
    out: &mut [T],
) -> Result<(), OutOfRange> {
    for &i in idx {
        check(i.get(), segments)?;
    }
    out.fill(T::zero());
    for (row, &i) in idx.iter().enumerate() {
        let s = i.get() as usize * inner;
        let src = &data[row * inner..(row + 1) * inner];
        for (o, &v) in out[s..s + inner].iter_mut().zip(src) {
            *o = o.add(v);
        }
    }
    Ok(())
}
