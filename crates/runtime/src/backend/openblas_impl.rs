//! The OpenBLAS backend: BLAS `?gemm`, `?trsm` and LAPACK `?potrf` of the
//! system's OpenBLAS (linked through `openblas-src` with its `system`
//! feature and `lapack-src`).
//!
//! BLAS is column-major; a row-major `m × n` matrix is the column-major
//! `n × m` matrix of its transpose, so every call below works on
//! transposes.

use std::os::raw::{c_char, c_int};

use super::{Backend, Strided, TriangularSolve};

// Linked from the system's OpenBLAS.
use lapack_src as _;
use openblas_src as _;

unsafe extern "C" {
    fn dgemm_(
        ta: *const c_char,
        tb: *const c_char,
        m: *const c_int,
        n: *const c_int,
        k: *const c_int,
        alpha: *const f64,
        a: *const f64,
        lda: *const c_int,
        b: *const f64,
        ldb: *const c_int,
        beta: *const f64,
        c: *mut f64,
        ldc: *const c_int,
    );
    fn sgemm_(
        ta: *const c_char,
        tb: *const c_char,
        m: *const c_int,
        n: *const c_int,
        k: *const c_int,
        alpha: *const f32,
        a: *const f32,
        lda: *const c_int,
        b: *const f32,
        ldb: *const c_int,
        beta: *const f32,
        c: *mut f32,
        ldc: *const c_int,
    );
    fn dpotrf_(uplo: *const c_char, n: *const c_int, a: *mut f64, lda: *const c_int, info: *mut c_int);
    fn spotrf_(uplo: *const c_char, n: *const c_int, a: *mut f32, lda: *const c_int, info: *mut c_int);
    fn dtrsm_(
        side: *const c_char,
        uplo: *const c_char,
        ta: *const c_char,
        diag: *const c_char,
        m: *const c_int,
        n: *const c_int,
        alpha: *const f64,
        a: *const f64,
        lda: *const c_int,
        b: *mut f64,
        ldb: *const c_int,
    );
    fn strsm_(
        side: *const c_char,
        uplo: *const c_char,
        ta: *const c_char,
        diag: *const c_char,
        m: *const c_int,
        n: *const c_int,
        alpha: *const f32,
        a: *const f32,
        lda: *const c_int,
        b: *mut f32,
        ldb: *const c_int,
    );
}

/// Dense linear algebra with the system's OpenBLAS (cargo feature
/// `openblas`).
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenBlas;

/// How BLAS sees a strided view as a column-major operand: the transpose
/// flag and the leading dimension, when one of the strides is 1.
fn as_blas<T>(s: &Strided<T>) -> Option<(c_char, c_int)> {
    // The view's transpose, column-major with leading dimension rs, when cs == 1.
    let rs = if s.rows <= 1 { s.cols.max(1) as isize } else { s.rs };
    let cs = if s.cols <= 1 { 1 } else { s.cs };
    if cs == 1 && rs >= s.cols.max(1) as isize {
        return Some((b'N' as c_char, rs as c_int));
    }
    let cs = if s.cols <= 1 { s.rows.max(1) as isize } else { s.cs };
    let rs = if s.rows <= 1 { 1 } else { s.rs };
    if rs == 1 && cs >= s.rows.max(1) as isize {
        return Some((b'T' as c_char, cs as c_int));
    }
    None
}

fn packed<T: Copy>(s: Strided<T>, store: &mut Vec<T>) -> Strided<T> {
    store.clear();
    for i in 0..s.rows {
        for j in 0..s.cols {
            // SAFETY: the view describes live memory.
            store.push(unsafe { s.at(i, j) });
        }
    }
    Strided { ptr: store.as_ptr(), rows: s.rows, cols: s.cols, rs: s.cols as isize, cs: 1 }
}

fn int(n: usize) -> c_int {
    c_int::try_from(n).expect("matrix extent beyond the BLAS integer range")
}

macro_rules! blas_impls {
    ($t:ty, $gemm:ident, $chol:ident, $trsm:ident, $xgemm:ident, $xpotrf:ident, $xtrsm:ident) => {
        fn $gemm(self, c: &mut [$t], a: Strided<$t>, b: Strided<$t>, _parallel: bool) {
            let (m, n, k) = (a.rows, b.cols, a.cols);
            if m == 0 || n == 0 {
                return;
            }
            if k == 0 {
                c[..m * n].fill(0.0);
                return;
            }
            let (mut sa, mut sb) = (Vec::new(), Vec::new());
            let a = if as_blas(&a).is_some() { a } else { packed(a, &mut sa) };
            let b = if as_blas(&b).is_some() { b } else { packed(b, &mut sb) };
            let (ta, lda) = as_blas(&a).expect("packed views are row-major");
            let (tb, ldb) = as_blas(&b).expect("packed views are row-major");
            // Row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ.
            let (one, zero) = (1.0 as $t, 0.0 as $t);
            // SAFETY: extents and leading dimensions describe the slices.
            unsafe {
                $xgemm(
                    &tb,
                    &ta,
                    &int(n),
                    &int(m),
                    &int(k),
                    &one,
                    b.ptr,
                    &ldb,
                    a.ptr,
                    &lda,
                    &zero,
                    c.as_mut_ptr(),
                    &int(n),
                );
            }
        }

        fn $chol(self, a: &mut [$t], n: usize) -> bool {
            if n == 0 {
                return true;
            }
            // Row-major lower = column-major upper.
            let mut info: c_int = 0;
            // SAFETY: `a` holds n × n elements.
            unsafe { $xpotrf(&(b'U' as c_char), &int(n), a.as_mut_ptr(), &int(n), &mut info) };
            for i in 0..n {
                for j in i + 1..n {
                    a[i * n + j] = 0.0;
                }
            }
            info == 0
        }

        fn $trsm(self, a: &[$t], n: usize, b: &mut [$t], rows: usize, cols: usize, s: TriangularSolve) {
            if rows == 0 || cols == 0 {
                return;
            }
            // Row-major: a is column-major aᵀ (its lower triangle is aᵀ's
            // upper), b is column-major bᵀ (cols × rows). op(a)·x = b is
            // xᵀ·op(a)ᵀ = bᵀ: a right-side solve on bᵀ; and the other way.
            let side = if s.left { b'R' } else { b'L' } as c_char;
            let uplo = if s.lower { b'U' } else { b'L' } as c_char;
            let trans = if s.transpose { b'T' } else { b'N' } as c_char;
            let diag = if s.unit { b'U' } else { b'N' } as c_char;
            let one = 1.0 as $t;
            // SAFETY: extents and leading dimensions describe the slices.
            unsafe {
                $xtrsm(
                    &side,
                    &uplo,
                    &trans,
                    &diag,
                    &int(cols),
                    &int(rows),
                    &one,
                    a.as_ptr(),
                    &int(n),
                    b.as_mut_ptr(),
                    &int(cols),
                );
            }
        }
    };
}

impl Backend for OpenBlas {
    fn name(self) -> &'static str {
        "openblas"
    }
    blas_impls!(f64, gemm_f64, cholesky_f64, trsm_f64, dgemm_, dpotrf_, dtrsm_);
    blas_impls!(f32, gemm_f32, cholesky_f32, trsm_f32, sgemm_, spotrf_, strsm_);
}
