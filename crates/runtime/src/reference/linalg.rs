//! Reference linear algebra: textbook loops.

use ndarray::{ArrayD, IxDyn};
use saddle_ir::op::DotDims;
use saddle_ir::{Array, TensorType};

use super::{float, numeric, same};
use crate::Error;
use crate::scalar::{Elem, Float, Num};

/// `x` with axes permuted to `perm`, flattened row-major.
fn permuted<T: Elem>(x: &ArrayD<T>, perm: &[usize]) -> Vec<T> {
    x.view().permuted_axes(IxDyn(perm)).iter().copied().collect()
}

pub(super) fn dot_general(lhs: &Array, rhs: &Array, d: &DotDims, ty: &TensorType) -> Result<Array, Error> {
    fn go<T: Num>(l: &ArrayD<T>, r: &ArrayD<T>, d: &DotDims, shape: &[usize]) -> Array {
        let lfree = d.lhs_free(l.ndim());
        let rfree = d.rhs_free(r.ndim());
        let extent = |x: &ArrayD<T>, axes: &[usize]| axes.iter().map(|&a| x.shape()[a]).product::<usize>();
        let (b, m, k, n) = (extent(l, &d.lhs_batch), extent(l, &lfree), extent(l, &d.lhs_contract), extent(r, &rfree));
        let lperm: Vec<usize> = d.lhs_batch.iter().chain(&lfree).chain(&d.lhs_contract).copied().collect();
        let rperm: Vec<usize> = d.rhs_batch.iter().chain(&d.rhs_contract).chain(&rfree).copied().collect();
        let a = permuted(l, &lperm);
        let c = permuted(r, &rperm);
        let mut out = Vec::with_capacity(b * m * n);
        for bi in 0..b {
            for i in 0..m {
                for j in 0..n {
                    let mut acc = T::zero();
                    for p in 0..k {
                        acc = acc.add(a[(bi * m + i) * k + p].mul(c[(bi * k + p) * n + j]));
                    }
                    out.push(acc);
                }
            }
        }
        T::wrap(ArrayD::from_shape_vec(IxDyn(shape), out).expect("result shape"))
    }
    Ok(numeric!(lhs, l => {
        let r = same(rhs)?;
        go(l, r, d, &ty.shape)
    }))
}

/// Splits `[..., n, n]` into (batch count, n).
fn square_batches(shape: &[usize]) -> (usize, usize) {
    let r = shape.len();
    (shape[..r - 2].iter().product(), shape[r - 1])
}

pub(super) fn cholesky(a: &Array) -> Result<Array, Error> {
    fn go<T: Float>(a: &ArrayD<T>) -> Array {
        let (batches, n) = square_batches(a.shape());
        let mut out: Vec<T> = a.iter().copied().collect();
        for b in 0..batches {
            let l = &mut out[b * n * n..(b + 1) * n * n];
            if !cholesky_in_place(l, n) {
                l.fill(T::from_f64(f64::NAN));
            }
        }
        T::wrap(ArrayD::from_shape_vec(IxDyn(a.shape()), out).expect("same shape"))
    }
    Ok(float!(a, x => go(x)))
}

/// Lower Cholesky factor of the n×n row-major matrix in `l`, in place:
/// its lower triangle is read, the upper triangle is zeroed. False when a
/// pivot is not positive (or NaN). The compiled plan's kernel uses this
/// same loop for small matrices, so both give the same bits.
pub(crate) fn cholesky_in_place<T: Float>(l: &mut [T], n: usize) -> bool {
    for j in 0..n {
        let mut s = l[j * n + j];
        for k in 0..j {
            s = s.sub(l[j * n + k].mul(l[j * n + k]));
        }
        if s.partial_cmp(&T::zero()) != Some(std::cmp::Ordering::Greater) {
            return false;
        }
        let d = Float::sqrt(s);
        l[j * n + j] = d;
        for i in j + 1..n {
            let mut s = l[i * n + j];
            for k in 0..j {
                s = s.sub(l[i * n + k].mul(l[j * n + k]));
            }
            l[i * n + j] = s.div(d).unwrap_or(s);
        }
        for k in j + 1..n {
            l[j * n + k] = T::zero();
        }
    }
    true
}

pub(super) fn triangular_solve(
    a: &Array,
    b: &Array,
    left_side: bool,
    lower: bool,
    transpose_a: bool,
    unit_diagonal: bool,
) -> Result<Array, Error> {
    fn go<T: Float>(a: &ArrayD<T>, b: &ArrayD<T>, left: bool, lower: bool, trans: bool, unit: bool) -> Array {
        let (batches, n) = square_batches(a.shape());
        let r = b.ndim();
        let (rows, cols) = (b.shape()[r - 2], b.shape()[r - 1]);
        let av: Vec<T> = a.iter().copied().collect();
        let mut x: Vec<T> = b.iter().copied().collect();
        for bi in 0..batches {
            let am = &av[bi * n * n..(bi + 1) * n * n];
            // Entry (i, j) of the triangular matrix as stored.
            let stored = |i: usize, j: usize| -> T {
                if i == j && unit {
                    T::one()
                } else if (lower && i >= j) || (!lower && i <= j) {
                    am[i * n + j]
                } else {
                    T::zero()
                }
            };
            // op(a)
            let m = |i: usize, j: usize| if trans { stored(j, i) } else { stored(i, j) };
            let xb = &mut x[bi * rows * cols..(bi + 1) * rows * cols];
            if left {
                // op(a) · X = B, one column of B at a time.
                for c in 0..cols {
                    solve(n, &m, lower != trans, |i| i * cols + c, xb);
                }
            } else {
                // X · op(a) = B  ⇔  op(a)ᵀ · Xᵀ = Bᵀ, one row of B at a time.
                let mt = |i: usize, j: usize| m(j, i);
                for rr in 0..rows {
                    solve(n, &mt, lower == trans, |i| rr * cols + i, xb);
                }
            }
        }
        T::wrap(ArrayD::from_shape_vec(IxDyn(b.shape()), x).expect("same shape"))
    }
    Ok(float!(a, x => {
        let y = same(b)?;
        go(x, y, left_side, lower, transpose_a, unit_diagonal)
    }))
}

/// Solves `M · x = rhs` in place for triangular `M` (lower when `lower`),
/// where element `i` of the vector lives at `data[at(i)]`.
fn solve<T: Float>(n: usize, m: &impl Fn(usize, usize) -> T, lower: bool, at: impl Fn(usize) -> usize, data: &mut [T]) {
    let order: Box<dyn Iterator<Item = usize>> = if lower { Box::new(0..n) } else { Box::new((0..n).rev()) };
    for i in order {
        let mut s = data[at(i)];
        let others: Box<dyn Iterator<Item = usize>> = if lower { Box::new(0..i) } else { Box::new(i + 1..n) };
        for j in others {
            s = s.sub(m(i, j).mul(data[at(j)]));
        }
        data[at(i)] = s.div(m(i, i)).unwrap_or(s);
    }
}
