//! Dense linear algebra behind one small trait, with two implementations:
//! [`Faer`] (the default, pure Rust) and, with the cargo feature
//! `openblas`, `OpenBlas` (the system's OpenBLAS through its BLAS and
//! LAPACK interfaces).
//!
//! Matrices are handed over as [`Strided`] views (any row and column
//! strides, in elements) or as row-major slices.

mod faer_impl;
#[cfg(feature = "openblas")]
mod openblas_impl;

pub use faer_impl::Faer;
#[cfg(feature = "openblas")]
pub use openblas_impl::OpenBlas;

/// The backend the compiled plan uses: [`OpenBlas`] with the `openblas`
/// feature, else [`Faer`].
#[cfg(feature = "openblas")]
pub type DefaultBackend = OpenBlas;
/// The backend the compiled plan uses: `OpenBlas` with the `openblas`
/// feature, else [`Faer`].
#[cfg(not(feature = "openblas"))]
pub type DefaultBackend = Faer;

/// A read-only matrix view: element `(i, j)` is at `ptr + i*rs + j*cs`.
#[derive(Clone, Copy, Debug)]
pub struct Strided<T> {
    /// First element.
    pub ptr: *const T,
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Row stride in elements.
    pub rs: isize,
    /// Column stride in elements.
    pub cs: isize,
}

// SAFETY: a view only reads its elements, and whoever makes one keeps the
// buffer alive and unwritten while the view is in use (within one kernel
// call), so copies may be read from several threads at once.
unsafe impl<T: Sync> Send for Strided<T> {}
unsafe impl<T: Sync> Sync for Strided<T> {}

impl<T: Copy> Strided<T> {
    /// A row-major `rows × cols` view of `data`.
    pub fn row_major(data: &[T], rows: usize, cols: usize) -> Strided<T> {
        assert!(data.len() >= rows * cols);
        Strided { ptr: data.as_ptr(), rows, cols, rs: cols as isize, cs: 1 }
    }

    /// The transposed view.
    pub fn t(self) -> Strided<T> {
        Strided { ptr: self.ptr, rows: self.cols, cols: self.rows, rs: self.cs, cs: self.rs }
    }

    /// Element `(i, j)`.
    ///
    /// # Safety
    /// The view must describe valid memory and `(i, j)` be in range.
    #[inline(always)]
    pub unsafe fn at(&self, i: usize, j: usize) -> T {
        unsafe { *self.ptr.offset(i as isize * self.rs + j as isize * self.cs) }
    }
}

/// A triangular solve: `op(a)·x = b` (`left`) or `x·op(a) = b`, with
/// `op(a) = aᵀ` when `transpose`; only the `lower` (or upper) triangle of
/// `a` is read, and its diagonal is taken as ones when `unit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TriangularSolve {
    /// Solve from the left.
    pub left: bool,
    /// `a` is lower triangular.
    pub lower: bool,
    /// Use `aᵀ`.
    pub transpose: bool,
    /// Unit diagonal.
    pub unit: bool,
}

/// A dense linear-algebra backend, for `f32` and `f64`.
pub trait Backend: Copy + Default + Send + Sync + 'static {
    /// The backend's name (`faer`, `openblas`).
    fn name(self) -> &'static str;
    /// `c = a·b` with `c` row-major `a.rows × b.cols`.
    fn gemm_f64(self, c: &mut [f64], a: Strided<f64>, b: Strided<f64>, parallel: bool);
    /// `c = a·b` with `c` row-major `a.rows × b.cols`.
    fn gemm_f32(self, c: &mut [f32], a: Strided<f32>, b: Strided<f32>, parallel: bool);
    /// Lower Cholesky factor of the row-major `n × n` matrix in `a` (its
    /// lower triangle is read), in place, upper triangle zeroed; false if
    /// the matrix is not positive definite.
    fn cholesky_f64(self, a: &mut [f64], n: usize) -> bool;
    /// See [`Backend::cholesky_f64`].
    fn cholesky_f32(self, a: &mut [f32], n: usize) -> bool;
    /// Solves in place: `a` is row-major `n × n`, `b` row-major `rows ×
    /// cols` (overwritten by `x`).
    fn trsm_f64(self, a: &[f64], n: usize, b: &mut [f64], rows: usize, cols: usize, s: TriangularSolve);
    /// See [`Backend::trsm_f64`].
    fn trsm_f32(self, a: &[f32], n: usize, b: &mut [f32], rows: usize, cols: usize, s: TriangularSolve);
}

/// The float types the backends handle, routed to the right method.
pub trait LinalgFloat: crate::scalar::Float {
    /// [`Backend::gemm_f64`] or [`Backend::gemm_f32`].
    fn gemm<B: Backend>(b: B, c: &mut [Self], x: Strided<Self>, y: Strided<Self>, parallel: bool);
    /// [`Backend::cholesky_f64`] or [`Backend::cholesky_f32`].
    fn cholesky<B: Backend>(b: B, a: &mut [Self], n: usize) -> bool;
    /// [`Backend::trsm_f64`] or [`Backend::trsm_f32`].
    fn trsm<B: Backend>(b: B, a: &[Self], n: usize, x: &mut [Self], rows: usize, cols: usize, s: TriangularSolve);
}

macro_rules! linalg_float {
    ($t:ty, $gemm:ident, $chol:ident, $trsm:ident) => {
        impl LinalgFloat for $t {
            fn gemm<B: Backend>(b: B, c: &mut [Self], x: Strided<Self>, y: Strided<Self>, parallel: bool) {
                b.$gemm(c, x, y, parallel)
            }
            fn cholesky<B: Backend>(b: B, a: &mut [Self], n: usize) -> bool {
                b.$chol(a, n)
            }
            fn trsm<B: Backend>(
                b: B,
                a: &[Self],
                n: usize,
                x: &mut [Self],
                rows: usize,
                cols: usize,
                s: TriangularSolve,
            ) {
                b.$trsm(a, n, x, rows, cols, s)
            }
        }
    };
}
linalg_float!(f64, gemm_f64, cholesky_f64, trsm_f64);
linalg_float!(f32, gemm_f32, cholesky_f32, trsm_f32);
