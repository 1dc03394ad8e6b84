//! The faer backend.

use std::cell::RefCell;
use std::num::NonZeroUsize;

use rayon::prelude::*;

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor::{cholesky_in_place, cholesky_in_place_scratch};
use faer::linalg::triangular_solve as ts;
use faer::{Accum, MatMut, MatRef, Par};

use super::{Backend, Strided, TriangularSolve};

/// Dense linear algebra with faer (pure Rust; the default).
#[derive(Clone, Copy, Debug, Default)]
pub struct Faer;

fn par(parallel: bool) -> Par {
    match NonZeroUsize::new(rayon::current_num_threads()) {
        Some(n) if parallel && n.get() > 1 => Par::Rayon(n),
        _ => Par::Seq,
    }
}

fn view<T>(s: Strided<T>) -> MatRef<'static, T> {
    // SAFETY: callers build views over live slices of the right extent.
    unsafe { MatRef::from_raw_parts(s.ptr, s.rows, s.cols, s.rs, s.cs) }
}

/// Pieces of the inner dimension of a product with a small output and a
/// long inner dimension (`XᵀW X` of a tall `X`): each piece's product is
/// formed on its own thread and the pieces are summed in order. The count
/// is fixed, so the result's bits do not depend on the number of threads.
const K_PIECES: usize = 8;
/// The shortest inner dimension worth splitting.
const K_SPLIT_MIN: usize = 1024;

thread_local! {
    /// Per-thread partial products of split products, reused across calls.
    static PIECES_F64: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
    static PIECES_F32: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

macro_rules! faer_impls {
    ($t:ty, $gemm:ident, $chol:ident, $trsm:ident, $pieces:ident) => {
        fn $gemm(self, c: &mut [$t], a: Strided<$t>, b: Strided<$t>, parallel: bool) {
            let (m, k, n) = (a.rows, a.cols, b.cols);
            if parallel && m * n < 128 * 128 && k >= K_SPLIT_MIN && rayon::current_num_threads() > 1 {
                let mut split = |pieces: &mut Vec<$t>| {
                    if pieces.len() < K_PIECES * m * n {
                        pieces.resize(K_PIECES * m * n, 0.0);
                    }
                    let step = k.div_ceil(K_PIECES);
                    pieces[..K_PIECES * m * n].par_chunks_mut(m * n).enumerate().for_each(|(j, part)| {
                        let (k0, k1) = ((j * step).min(k), ((j + 1) * step).min(k));
                        let dst = MatMut::from_row_major_slice_mut(part, m, n);
                        let (av, bv) = (view(a).subcols(k0, k1 - k0), view(b).subrows(k0, k1 - k0));
                        faer::linalg::matmul::matmul(dst, Accum::Replace, av, bv, 1.0 as $t, Par::Seq);
                    });
                    c[..m * n].copy_from_slice(&pieces[..m * n]);
                    for part in pieces[m * n..K_PIECES * m * n].chunks_exact(m * n) {
                        for (x, y) in c.iter_mut().zip(part) {
                            *x += *y;
                        }
                    }
                };
                $pieces.with(|cell| match cell.try_borrow_mut() {
                    Ok(mut pieces) => split(&mut pieces),
                    // A product nested in another on this thread (a job
                    // stolen while waiting) gets its own buffer.
                    Err(_) => split(&mut Vec::new()),
                });
                return;
            }
            let dst = MatMut::from_row_major_slice_mut(c, a.rows, b.cols);
            // faer splits the output over threads; a small output with a
            // short inner dimension only waits on barriers, so it runs
            // serially.
            let parallel = parallel && a.rows * b.cols >= 128 * 128;
            faer::linalg::matmul::matmul(dst, Accum::Replace, view(a), view(b), 1.0 as $t, par(parallel));
        }

        fn $chol(self, a: &mut [$t], n: usize) -> bool {
            let parallel = par(n >= 256);
            let mut buf = MemBuffer::new(cholesky_in_place_scratch::<$t>(n, parallel, Default::default()));
            let stack = MemStack::new(&mut buf);
            let m = MatMut::from_row_major_slice_mut(a, n, n);
            let ok = cholesky_in_place(m, Default::default(), parallel, stack, Default::default()).is_ok();
            for i in 0..n {
                for j in i + 1..n {
                    a[i * n + j] = 0.0;
                }
            }
            ok
        }

        fn $trsm(self, a: &[$t], n: usize, b: &mut [$t], rows: usize, cols: usize, s: TriangularSolve) {
            let a = MatRef::from_row_major_slice(a, n, n);
            let m = if s.transpose { a.transpose() } else { a };
            let b = MatMut::from_row_major_slice_mut(b, rows, cols);
            // x·M = b  ⇔  Mᵀ·xᵀ = bᵀ
            let (m, rhs, m_lower) = if s.left {
                (m, b, s.lower != s.transpose)
            } else {
                (m.transpose(), b.transpose_mut(), s.lower == s.transpose)
            };
            let p = par(n * rows.max(cols) >= 1 << 16);
            match (m_lower, s.unit) {
                (true, false) => ts::solve_lower_triangular_in_place(m, rhs, p),
                (true, true) => ts::solve_unit_lower_triangular_in_place(m, rhs, p),
                (false, false) => ts::solve_upper_triangular_in_place(m, rhs, p),
                (false, true) => ts::solve_unit_upper_triangular_in_place(m, rhs, p),
            }
        }
    };
}

impl Backend for Faer {
    fn name(self) -> &'static str {
        "faer"
    }
    faer_impls!(f64, gemm_f64, cholesky_f64, trsm_f64, PIECES_F64);
    faer_impls!(f32, gemm_f32, cholesky_f32, trsm_f32, PIECES_F32);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `XᵀY` of tall `X` (`k × m`) and `Y` (`k × n`), through the backend.
    fn xty(x: &[f64], y: &[f64], k: usize, m: usize, n: usize) -> Vec<f64> {
        let a = Strided::row_major(x, k, m).t();
        let b = Strided::row_major(y, k, n);
        let mut c = vec![0.0; m * n];
        Faer.gemm_f64(&mut c, a, b, true);
        c
    }

    #[test]
    fn split_products_agree_with_the_sum_and_not_with_the_thread_count() {
        let (k, m, n) = (5000, 7, 3);
        let x: Vec<f64> = (0..k * m).map(|i| ((i * 37 % 101) as f64 - 50.0) / 17.0).collect();
        let y: Vec<f64> = (0..k * n).map(|i| ((i * 53 % 89) as f64 - 44.0) / 13.0).collect();
        let pool = |t| rayon::ThreadPoolBuilder::new().num_threads(t).build().unwrap();
        let two = pool(2).install(|| xty(&x, &y, k, m, n));
        let five = pool(5).install(|| xty(&x, &y, k, m, n));
        assert_eq!(two, five, "the pieces, not the threads, fix the summation order");
        for i in 0..m {
            for j in 0..n {
                let want: f64 = (0..k).map(|r| x[r * m + i] * y[r * n + j]).sum();
                assert!((two[i * n + j] - want).abs() <= 1e-9 * want.abs().max(1.0), "({i}, {j})");
            }
        }
        // A product nested in a split one on the same thread takes its own buffer.
        let nested = pool(2).install(|| {
            PIECES_F64.with(|cell| {
                let _held = cell.borrow_mut();
                xty(&x, &y, k, m, n)
            })
        });
        assert_eq!(nested, two);
    }
}
