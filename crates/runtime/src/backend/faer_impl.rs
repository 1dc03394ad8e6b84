//! The faer backend.

use std::num::NonZeroUsize;

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

macro_rules! faer_impls {
    ($t:ty, $gemm:ident, $chol:ident, $trsm:ident) => {
        fn $gemm(self, c: &mut [$t], a: Strided<$t>, b: Strided<$t>, parallel: bool) {
            let dst = MatMut::from_row_major_slice_mut(c, a.rows, b.cols);
            // faer splits the output over threads; a small output with a
            // long inner dimension only waits on barriers, so it runs
            // serially (measured: XᵀX of a 1e5×50 X).
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
    faer_impls!(f64, gemm_f64, cholesky_f64, trsm_f64);
    faer_impls!(f32, gemm_f32, cholesky_f32, trsm_f32);
}
