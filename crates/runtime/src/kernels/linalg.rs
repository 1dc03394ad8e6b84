//! Linear-algebra kernels: `dot_general` as (batched) gemm on strided
//! views, `cholesky` and `triangular_solve` through the [`crate::backend`],
//! with plain loops for small sizes (the same loops as the reference, so
//! small results agree with it bit for bit).

use rayon::prelude::*;
use saddle_ir::op::DotDims;

use crate::backend::{Backend, LinalgFloat, Strided, TriangularSolve};
use crate::scalar::{Float, Num};

/// Below this many multiply-adds a product runs as plain loops.
pub const SMALL_GEMM: usize = 4096;
/// Matrices up to this order are factored and solved with plain loops.
pub const SMALL_ORDER: usize = 48;

/// How one operand of `dot_general` is read as a batch of matrices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MatLayout {
    /// Axes to move into (batch, rows, cols) order first, when the operand
    /// cannot be read in place; the kernel then reads a packed copy.
    pub perm: Option<Vec<usize>>,
    /// Elements between batches.
    pub batch_stride: usize,
    /// Row stride.
    pub rs: isize,
    /// Column stride.
    pub cs: isize,
}

/// A `dot_general` reduced to `batches` products `m × k` by `k × n`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DotPlan {
    pub batches: usize,
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub lhs: MatLayout,
    pub rhs: MatLayout,
}

fn row_major_strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for a in (0..shape.len().saturating_sub(1)).rev() {
        s[a] = s[a + 1] * shape[a + 1];
    }
    s
}

/// The extent and stride of a group of axes read as one, if they are
/// consecutive (or the group has at most one axis of extent > 1).
fn merged(shape: &[usize], strides: &[usize], axes: &[usize]) -> Option<(usize, usize)> {
    let live: Vec<usize> = axes.iter().copied().filter(|&a| shape[a] != 1).collect();
    let extent = axes.iter().map(|&a| shape[a]).product();
    match live.last() {
        None => Some((extent, 0)),
        Some(&last) => live.windows(2).all(|w| w[1] == w[0] + 1).then_some((extent, strides[last])),
    }
}

fn layout(shape: &[usize], batch: &[usize], rows: &[usize], cols: &[usize]) -> (MatLayout, usize, usize, usize) {
    let strides = row_major_strides(shape);
    let (b, r, c) = (merged(shape, &strides, batch), merged(shape, &strides, rows), merged(shape, &strides, cols));
    if let (Some((be, bs)), Some((re, rs)), Some((ce, cs))) = (b, r, c) {
        return (MatLayout { perm: None, batch_stride: bs, rs: rs as isize, cs: cs as isize }, be, re, ce);
    }
    let perm: Vec<usize> = batch.iter().chain(rows).chain(cols).copied().collect();
    let ext = |axes: &[usize]| axes.iter().map(|&a| shape[a]).product::<usize>();
    let (be, re, ce) = (ext(batch), ext(rows), ext(cols));
    (MatLayout { perm: Some(perm), batch_stride: re * ce, rs: ce as isize, cs: 1 }, be, re, ce)
}

/// Plans `dot_general` of operands shaped `lshape` and `rshape`.
pub(crate) fn plan_dot(lshape: &[usize], rshape: &[usize], d: &DotDims) -> DotPlan {
    let lfree = d.lhs_free(lshape.len());
    let rfree = d.rhs_free(rshape.len());
    let (lhs, batches, m, k) = layout(lshape, &d.lhs_batch, &lfree, &d.lhs_contract);
    let (rhs, _, _, n) = layout(rshape, &d.rhs_batch, &d.rhs_contract, &rfree);
    DotPlan { batches, m, n, k, lhs, rhs }
}

/// `c = a·b` with plain loops, in the reference's order.
fn naive<T: Num>(a: Strided<T>, b: Strided<T>, c: &mut [T]) {
    let n = b.cols;
    for i in 0..a.rows {
        for j in 0..n {
            let mut acc = T::zero();
            for p in 0..a.cols {
                // SAFETY: the plan sized the views to their buffers.
                acc = acc.add(unsafe { a.at(i, p).mul(b.at(p, j)) });
            }
            c[i * n + j] = acc;
        }
    }
}

/// Element type that `dot_general` runs on: floats go to the backend.
pub(crate) trait DotElem: Num {
    fn gemm<B: Backend>(backend: B, a: Strided<Self>, b: Strided<Self>, c: &mut [Self], parallel: bool);
}

macro_rules! dot_float {
    ($t:ty) => {
        impl DotElem for $t {
            fn gemm<B: Backend>(backend: B, a: Strided<Self>, b: Strided<Self>, c: &mut [Self], parallel: bool) {
                if a.rows * a.cols * b.cols <= SMALL_GEMM {
                    naive(a, b, c)
                } else {
                    <$t as LinalgFloat>::gemm(backend, c, a, b, parallel)
                }
            }
        }
    };
}
dot_float!(f32);
dot_float!(f64);

macro_rules! dot_int {
    ($t:ty) => {
        impl DotElem for $t {
            fn gemm<B: Backend>(_: B, a: Strided<Self>, b: Strided<Self>, c: &mut [Self], _: bool) {
                naive(a, b, c)
            }
        }
    };
}
dot_int!(i32);
dot_int!(i64);

/// Runs a planned `dot_general`: `lhs` and `rhs` are the operands (or
/// their packed copies when the layout says so), `out` the result.
pub(crate) fn dot<T: DotElem, B: Backend>(backend: B, p: &DotPlan, lhs: &[T], rhs: &[T], out: &mut [T]) {
    let a0 = Strided { ptr: lhs.as_ptr(), rows: p.m, cols: p.k, rs: p.lhs.rs, cs: p.lhs.cs };
    let b0 = Strided { ptr: rhs.as_ptr(), rows: p.k, cols: p.n, rs: p.rhs.rs, cs: p.rhs.cs };
    let mn = p.m * p.n;
    let flops = p.batches * mn * p.k;
    let by_batch = p.batches > 1 && super::parallel(flops);
    let one = |bi: usize, c: &mut [T], parallel: bool| {
        let (a0, b0) = (a0, b0); // whole views: a captured `ptr` alone is not Sync
        // SAFETY: batch offsets stay inside the operands (planned shapes).
        let a = Strided { ptr: unsafe { a0.ptr.add(bi * p.lhs.batch_stride) }, ..a0 };
        let b = Strided { ptr: unsafe { b0.ptr.add(bi * p.rhs.batch_stride) }, ..b0 };
        T::gemm(backend, a, b, c, parallel);
    };
    if mn == 0 {
        return;
    }
    if by_batch {
        out.par_chunks_mut(mn).enumerate().for_each(|(bi, c)| one(bi, c, false));
    } else {
        let parallel = super::parallel(flops);
        for (bi, c) in out.chunks_mut(mn).enumerate() {
            one(bi, c, parallel);
        }
    }
}

/// In-place lower Cholesky factor of each `n × n` matrix of `a` (a copy
/// of the operand); a matrix that is not positive definite becomes NaN.
pub(crate) fn cholesky<T: Float + LinalgFloat, B: Backend>(backend: B, a: &mut [T], n: usize) {
    if n == 0 {
        return;
    }
    let one = |m: &mut [T]| {
        let ok = if n <= SMALL_ORDER { crate::reference::cholesky_in_place(m, n) } else { T::cholesky(backend, m, n) };
        if !ok {
            m.fill(T::from_f64(f64::NAN));
        }
    };
    if a.len() / (n * n) > 1 && super::parallel(a.len() * n) {
        a.par_chunks_mut(n * n).for_each(one);
    } else {
        a.chunks_mut(n * n).for_each(one);
    }
}

/// Triangular solves, batch by batch; `x` holds a copy of `b` and is
/// overwritten by the solution. `rows × cols` is each batch's `b`.
pub(crate) fn triangular_solve<T: Float + LinalgFloat, B: Backend>(
    backend: B,
    a: &[T],
    n: usize,
    x: &mut [T],
    rows: usize,
    cols: usize,
    s: TriangularSolve,
) {
    if rows * cols == 0 {
        return;
    }
    for (am, xm) in a.chunks(n * n.max(1)).zip(x.chunks_mut(rows * cols)) {
        if n <= SMALL_ORDER {
            solve_small(am, n, xm, rows, cols, s);
        } else {
            T::trsm(backend, am, n, xm, rows, cols, s);
        }
    }
}

fn solve_small<T: Float>(am: &[T], n: usize, x: &mut [T], rows: usize, cols: usize, s: TriangularSolve) {
    let stored = |i: usize, j: usize| -> T {
        if i == j && s.unit {
            T::one()
        } else if (s.lower && i >= j) || (!s.lower && i <= j) {
            am[i * n + j]
        } else {
            T::zero()
        }
    };
    let m = |i: usize, j: usize| if s.transpose { stored(j, i) } else { stored(i, j) };
    if s.left {
        for c in 0..cols {
            substitute(n, &m, s.lower != s.transpose, |i| i * cols + c, x);
        }
    } else {
        let mt = |i: usize, j: usize| m(j, i);
        for r in 0..rows {
            substitute(n, &mt, s.lower == s.transpose, |i| r * cols + i, x);
        }
    }
}

fn substitute<T: Float>(
    n: usize,
    m: &impl Fn(usize, usize) -> T,
    lower: bool,
    at: impl Fn(usize) -> usize,
    x: &mut [T],
) {
    for step in 0..n {
        let i = if lower { step } else { n - 1 - step };
        let mut s = x[at(i)];
        let (lo, hi) = if lower { (0, i) } else { (i + 1, n) };
        for j in lo..hi {
            s = s.sub(m(i, j).mul(x[at(j)]));
        }
        x[at(i)] = s.div(m(i, i)).unwrap_or(s);
    }
}
