//! Sparse Cholesky factorisation of a precision matrix, on faer.
//!
//! The precision `A` (the negative Hessian of a log density at its mode)
//! crosses this API as its lower triangle in compressed sparse column form:
//! `col_ptr` (`n + 1` offsets), `row_idx` (rows, increasing within each
//! column, the diagonal always present) and `values` aligned with
//! `row_idx`. [`SparseCholesky::analyse`] orders the pattern with
//! approximate minimum degree (or, for factors with much fill, nested
//! dissection when it needs fewer flops) and computes the factor's
//! structure once;
//! [`SparseCholesky::factor`] then factors `P (A + shift·I) Pᵀ = L Lᵀ` for
//! each new set of values (each Newton step), reusing that analysis and its
//! workspace.
//!
//! Besides solves and log-determinants, the factor gives Gaussian draws
//! (`x = Pᵀ L⁻ᵀ z`) and the *selected inverse*: the entries of `A⁻¹` on
//! the pattern of `L`, by the Takahashi recursions, at about the cost of
//! the factorisation and without forming `A⁻¹`. Marginal variances are its
//! diagonal.

use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::linalg::cholesky::llt::factor::LltRegularization;
use faer::linalg::matmul::matmul;
use faer::perm::PermRef;
use faer::sparse::linalg::SupernodalThreshold;
use faer::sparse::linalg::cholesky::supernodal::{SupernodalLltRef, SymbolicSupernodalCholesky};
use faer::sparse::linalg::cholesky::{
    CholeskySymbolicParams, LltRef, SymbolicCholesky, SymbolicCholeskyRaw, SymmetricOrdering,
    factorize_symbolic_cholesky,
};
use faer::sparse::linalg::triangular_solve;
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use faer::{Accum, Conj, Mat, MatMut, MatRef, Par, Side};

use crate::LaplaceError;
use crate::dissection;

/// Patterns of at least this dimension whose minimum-degree factor needs
/// at least [`DISSECTION_MIN_FLOPS`] are also ordered by nested dissection.
const DISSECTION_MIN_DIM: usize = 2 * dissection::LEAF;

/// See [`DISSECTION_MIN_DIM`]: below this many flops the factorisation is
/// too cheap for a second ordering to pay.
const DISSECTION_MIN_FLOPS: f64 = 2e7;

/// Which fill-reducing orderings the analysis tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ordering {
    /// Minimum degree, and nested dissection too for large factors; the
    /// one needing fewer flops wins.
    Cheaper,
    /// Minimum degree only.
    #[cfg_attr(not(test), allow(dead_code))]
    MinimumDegree,
    /// Nested dissection whatever its cost.
    #[cfg_attr(not(test), allow(dead_code))]
    Dissection,
}

/// See [`DISSECTION_MIN_DIM`]: factors with fewer flops per entry (chains,
/// trees, narrow bands) have little fill for a dissection to save.
const DISSECTION_MIN_FLOPS_PER_ENTRY: f64 = 16.0;

/// The flops of a numeric factorisation with this analysis: `Σ_j c_j²`
/// over the columns' entry counts `c_j` (diagonal included).
fn factor_flops(symbolic: &SymbolicCholesky<usize>) -> f64 {
    match symbolic.raw() {
        SymbolicCholeskyRaw::Simplicial(s) => s.col_ptr().windows(2).map(|w| ((w[1] - w[0]) as f64).powi(2)).sum(),
        SymbolicCholeskyRaw::Supernodal(s) => (0..s.n_supernodes())
            .map(|k| {
                let (b, e) = (s.supernode_begin()[k], s.supernode_end()[k]);
                let below = s.supernode(k).pattern().len();
                (b..e).map(|j| ((e - j + below) as f64).powi(2)).sum::<f64>()
            })
            .sum(),
    }
}

/// Why a sparse pattern, its values or a vector were refused, or why a
/// factorisation could not be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SparseError {
    /// The column pointers do not have `n + 1` entries.
    #[error("the column pointers have {found} entries, a pattern of dimension {dim} needs {}", dim + 1)]
    PointerCount {
        /// The dimension.
        dim: usize,
        /// The number of column pointers given.
        found: usize,
    },
    /// A column's entries do not form a range within the row indices (the
    /// pointers must start at 0, never decrease and end at the number of
    /// row indices).
    #[error("column {column} runs from entry {start} to {end}, outside 0..={entries} or backwards")]
    PointerOrder {
        /// The column.
        column: usize,
        /// Its first entry.
        start: usize,
        /// One past its last entry.
        end: usize,
        /// The number of row indices.
        entries: usize,
    },
    /// A row index is not below the dimension.
    #[error("row {row} in column {column} is out of range for dimension {dim}")]
    RowOutOfRange {
        /// The row.
        row: usize,
        /// The column.
        column: usize,
        /// The dimension.
        dim: usize,
    },
    /// An entry lies above the diagonal; the pattern is the lower triangle.
    #[error("entry [{row}, {column}] lies above the diagonal (the pattern is the lower triangle)")]
    AboveDiagonal {
        /// The row.
        row: usize,
        /// The column.
        column: usize,
    },
    /// The rows of a column are not strictly increasing.
    #[error("column {column}: row {row} follows row {previous} (rows must increase strictly)")]
    RowOrder {
        /// The column.
        column: usize,
        /// The row out of order.
        row: usize,
        /// The row before it.
        previous: usize,
    },
    /// A diagonal entry is missing from the pattern.
    #[error("the diagonal entry of column {column} is missing from the pattern")]
    MissingDiagonal {
        /// The column.
        column: usize,
    },
    /// The values do not match the pattern's length.
    #[error("{found} values given for a pattern of {expected} entries")]
    ValueCount {
        /// Entries of the pattern.
        expected: usize,
        /// Values given.
        found: usize,
    },
    /// A vector has the wrong length.
    #[error("a vector of length {found} given where the dimension is {expected}")]
    VectorLength {
        /// The dimension.
        expected: usize,
        /// The length given.
        found: usize,
    },
    /// The matrix has not been factored successfully since the analysis or
    /// since a factorisation that found it not positive definite.
    #[error("no positive definite factorisation is held (factor the matrix first)")]
    NotFactored,
    /// An allocation the factorisation needs could not be made.
    #[error("the sparse factorisation could not allocate {bytes} bytes")]
    OutOfMemory {
        /// Bytes asked for.
        bytes: u128,
    },
    /// The symbolic analysis failed (memory or index overflow).
    #[error("the symbolic analysis failed: {message}")]
    Analysis {
        /// faer's message.
        message: String,
    },
    /// The dense inverse would not fit in the memory available.
    #[error(
        "a dense inverse of dimension {dim} needs {bytes} bytes ({dim}×{dim} doubles), more than the \
         {available} bytes available"
    )]
    DenseTooLarge {
        /// The dimension.
        dim: usize,
        /// Bytes needed.
        bytes: u128,
        /// Bytes available to the process.
        available: u128,
    },
}

/// Which form of faer's numeric factorisation to use.
///
/// Simplicial factorisations work column by column and suit very sparse
/// factors (chains, trees); supernodal ones work on dense blocks and suit
/// factors with much fill (grids, lattices). Both give the same results to
/// rounding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FactorKind {
    /// faer's choice from the flop count per factor entry.
    #[default]
    Auto,
    /// Always simplicial.
    Simplicial,
    /// Always supernodal.
    Supernodal,
}

/// The Cholesky factorisation of a sparse symmetric positive definite
/// matrix, `P A Pᵀ = L Lᵀ`, analysed once per pattern and refactored per
/// Newton step.
///
/// ```
/// use saddle_laplace::SparseCholesky;
/// // A = [[4, 1], [1, 3]], lower triangle in CSC.
/// let (col_ptr, row_idx) = (vec![0, 2, 3], vec![0, 1, 1]);
/// let mut chol = SparseCholesky::analyse(2, &col_ptr, &row_idx)?;
/// assert!(chol.factor(&[4.0, 1.0, 3.0], 0.0)?);
/// assert!((chol.log_det()? - 11f64.ln()).abs() < 1e-12);
/// let mut b = vec![1.0, 2.0];
/// chol.solve(&mut b)?; // A x = b: x = (1/11, 7/11)
/// assert!((b[0] - 1.0 / 11.0).abs() < 1e-12 && (b[1] - 7.0 / 11.0).abs() < 1e-12);
/// // A⁻¹ = [[3, -1], [-1, 4]] / 11, on the pattern: (0,0), (1,0), (1,1).
/// let z = chol.selected_inverse()?;
/// assert!((z[1] + 1.0 / 11.0).abs() < 1e-12);
/// # Ok::<(), saddle_laplace::LaplaceError>(())
/// ```
pub struct SparseCholesky {
    n: usize,
    /// Entries of the user's pattern.
    nnz: usize,
    /// The user's pattern (lower triangle, CSC).
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    /// Position of each diagonal entry in the user's values.
    diag_pos: Vec<usize>,
    symbolic: SymbolicCholesky<usize>,
    /// `perm_inv[i]`: the position of original index `i` in the permuted
    /// order (`P A Pᵀ` has entry `[perm_inv[r], perm_inv[c]]` = `A[r, c]`).
    perm_inv: Vec<usize>,
    /// For the supernodal form, the supernode of each column.
    col_super: Vec<usize>,
    /// For each entry of the user's pattern, its position in `L`'s values.
    user_to_l: Vec<usize>,
    /// The numeric factor (allocated on the first factorisation).
    l_values: Vec<f64>,
    /// `A + shift·I` in the user's order.
    shifted: Vec<f64>,
    /// Workspace of the numeric factorisation (allocated on first use).
    mem: Option<MemBuffer>,
    factored: bool,
    log_det: f64,
    par: Par,
}

impl std::fmt::Debug for SparseCholesky {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SparseCholesky")
            .field("n", &self.n)
            .field("nnz", &self.nnz)
            .field("factor_nnz", &self.factor_nnz())
            .field("supernodal", &self.is_supernodal())
            .field("factored", &self.factored)
            .finish_non_exhaustive()
    }
}

/// One column of `L`: where its values start and its rows (diagonal first,
/// then increasing).
type Rows<'a> = std::iter::Chain<std::ops::Range<usize>, std::iter::Copied<std::slice::Iter<'a, usize>>>;

impl SparseCholesky {
    /// Symbolic analysis of the pattern given as the lower triangle in CSC
    /// (diagonal included and present in every column, rows strictly
    /// increasing within a column), with a fill-reducing ordering (AMD, or
    /// nested dissection where its factor needs fewer flops) and
    /// faer's choice between simplicial and supernodal factorisation.
    ///
    /// ```
    /// use saddle_laplace::SparseCholesky;
    /// // Tridiagonal 3×3: columns {0,1}, {1,2}, {2}.
    /// let chol = SparseCholesky::analyse(3, &[0, 2, 4, 5], &[0, 1, 1, 2, 2])?;
    /// assert_eq!(chol.factor_nnz(), 5); // no fill
    /// # Ok::<(), saddle_laplace::LaplaceError>(())
    /// ```
    pub fn analyse(n: usize, col_ptr: &[usize], row_idx: &[usize]) -> Result<SparseCholesky, LaplaceError> {
        SparseCholesky::analyse_with(n, col_ptr, row_idx, FactorKind::Auto)
    }

    /// [`SparseCholesky::analyse`] with the form of the factorisation chosen
    /// by the caller.
    ///
    /// ```
    /// use saddle_laplace::{FactorKind, SparseCholesky};
    /// let chol = SparseCholesky::analyse_with(2, &[0, 2, 3], &[0, 1, 1], FactorKind::Supernodal)?;
    /// assert!(chol.is_supernodal());
    /// # Ok::<(), saddle_laplace::LaplaceError>(())
    /// ```
    pub fn analyse_with(
        n: usize,
        col_ptr: &[usize],
        row_idx: &[usize],
        kind: FactorKind,
    ) -> Result<SparseCholesky, LaplaceError> {
        SparseCholesky::analyse_ordered(n, col_ptr, row_idx, kind, Ordering::Cheaper)
    }

    fn analyse_ordered(
        n: usize,
        col_ptr: &[usize],
        row_idx: &[usize],
        kind: FactorKind,
        ordering: Ordering,
    ) -> Result<SparseCholesky, LaplaceError> {
        if n == 0 {
            return Err(LaplaceError::EmptyParameter);
        }
        let diag_pos = check_lower_pattern(n, col_ptr, row_idx)?;
        let pattern = SymbolicSparseColMatRef::new_checked(n, n, col_ptr, None, row_idx);
        let threshold = match kind {
            FactorKind::Auto => SupernodalThreshold::AUTO,
            FactorKind::Simplicial => SupernodalThreshold::FORCE_SIMPLICIAL,
            FactorKind::Supernodal => SupernodalThreshold::FORCE_SUPERNODAL,
        };
        let params = CholeskySymbolicParams { supernodal_flop_ratio_threshold: threshold, ..Default::default() };
        let failed = |e: faer::sparse::FaerError| SparseError::Analysis { message: format!("{e:?}").to_lowercase() };
        let mut symbolic =
            factorize_symbolic_cholesky(pattern, Side::Lower, SymmetricOrdering::Amd, params).map_err(failed)?;
        let try_dissection = match ordering {
            Ordering::Cheaper => {
                let flops = factor_flops(&symbolic);
                n >= DISSECTION_MIN_DIM
                    && flops >= DISSECTION_MIN_FLOPS
                    && flops >= DISSECTION_MIN_FLOPS_PER_ENTRY * symbolic.len_val() as f64
            }
            Ordering::MinimumDegree => false,
            Ordering::Dissection => true,
        };
        if try_dissection {
            // Like CHOLMOD, try nested dissection too and keep the ordering
            // whose factor needs fewer flops.
            let perm = dissection::nested_dissection(n, col_ptr, row_idx)?;
            let mut perm_inv = vec![0; n];
            for (k, &p) in perm.iter().enumerate() {
                perm_inv[p] = k;
            }
            let perm = PermRef::new_checked(&perm, &perm_inv, n);
            let nd = factorize_symbolic_cholesky(pattern, Side::Lower, SymmetricOrdering::Custom(perm), params)
                .map_err(failed)?;
            if ordering == Ordering::Dissection || factor_flops(&nd) < factor_flops(&symbolic) {
                symbolic = nd;
            }
        }
        let perm_inv = match symbolic.perm() {
            Some(perm) => perm.arrays().1.to_vec(),
            None => (0..n).collect(),
        };
        let col_super = match symbolic.raw() {
            SymbolicCholeskyRaw::Simplicial(_) => Vec::new(),
            SymbolicCholeskyRaw::Supernodal(s) => {
                let mut col_super = vec![0; n];
                for (k, (&b, &e)) in s.supernode_begin().iter().zip(s.supernode_end()).enumerate() {
                    col_super[b..e].fill(k);
                }
                col_super
            }
        };
        let mut chol = SparseCholesky {
            n,
            nnz: row_idx.len(),
            col_ptr: col_ptr.to_vec(),
            row_idx: row_idx.to_vec(),
            diag_pos,
            symbolic,
            perm_inv,
            col_super,
            user_to_l: Vec::new(),
            l_values: Vec::new(),
            shifted: Vec::new(),
            mem: None,
            factored: false,
            log_det: f64::NAN,
            par: faer::get_global_parallelism(),
        };
        let mut user_to_l = Vec::with_capacity(row_idx.len());
        for c in 0..n {
            for &r in &row_idx[col_ptr[c]..col_ptr[c + 1]] {
                let (pr, pc) = (chol.perm_inv[r], chol.perm_inv[c]);
                let (lo, hi) = (pr.min(pc), pr.max(pc));
                let Some(pos) = chol.find_in_column(lo, hi) else {
                    return Err(SparseError::Analysis {
                        message: format!("entry [{r}, {c}] is missing from the factor's pattern"),
                    }
                    .into());
                };
                user_to_l.push(pos);
            }
        }
        chol.user_to_l = user_to_l;
        Ok(chol)
    }

    /// The dimension `n`.
    pub fn dim(&self) -> usize {
        self.n
    }

    /// Whether faer chose (or was told to use) the supernodal form.
    pub fn is_supernodal(&self) -> bool {
        match self.symbolic.raw() {
            SymbolicCholeskyRaw::Simplicial(_) => false,
            SymbolicCholeskyRaw::Supernodal(_) => true,
        }
    }

    /// Entries of the lower triangle of `L` known from the symbolic
    /// analysis, diagonal included (for the supernodal form, the entries of
    /// its blocks, which may include a few structural zeros), before any
    /// numeric work.
    pub fn factor_nnz(&self) -> usize {
        match self.symbolic.raw() {
            SymbolicCholeskyRaw::Simplicial(s) => s.len_val(),
            SymbolicCholeskyRaw::Supernodal(s) => (0..s.n_supernodes())
                .map(|k| {
                    let w = s.supernode_end()[k] - s.supernode_begin()[k];
                    w * (w + 1) / 2 + w * s.supernode(k).pattern().len()
                })
                .sum(),
        }
    }

    /// Bytes a numeric factorisation will hold: the values of `L` (with the
    /// upper halves of the supernodal diagonal blocks), faer's workspace and
    /// the shifted copy of the matrix's values. The selected inverse needs
    /// another `8 × factor_nnz()` bytes or so while it runs.
    pub fn factor_bytes(&self) -> u128 {
        let values = 8 * self.symbolic.len_val() as u128;
        let shifted = 8 * self.nnz as u128;
        values + shifted + self.factor_req().size_bytes() as u128
    }

    fn factor_req(&self) -> StackReq {
        self.symbolic.factorize_numeric_llt_scratch::<f64>(self.par, Default::default())
    }

    /// Numeric factorisation of `A + shift·I`, with `values` aligned with
    /// the pattern given to the analysis. `Ok(false)` (no error) when the
    /// matrix is not numerically positive definite or has a value that is
    /// not finite. Reuses the symbolic analysis and the workspace: no
    /// allocation after the first call.
    ///
    /// ```
    /// use saddle_laplace::SparseCholesky;
    /// // [[1, 2], [2, 1]] is indefinite; adding 2·I makes it definite.
    /// let mut chol = SparseCholesky::analyse(2, &[0, 2, 3], &[0, 1, 1])?;
    /// assert!(!chol.factor(&[1.0, 2.0, 1.0], 0.0)?);
    /// assert!(chol.factor(&[1.0, 2.0, 1.0], 2.0)?);
    /// # Ok::<(), saddle_laplace::LaplaceError>(())
    /// ```
    pub fn factor(&mut self, values: &[f64], shift: f64) -> Result<bool, LaplaceError> {
        if values.len() != self.nnz {
            return Err(SparseError::ValueCount { expected: self.nnz, found: values.len() }.into());
        }
        self.factored = false;
        self.log_det = f64::NAN;
        if !shift.is_finite() || values.iter().any(|v| !v.is_finite()) {
            return Ok(false);
        }
        if self.mem.is_none() {
            let bytes = self.factor_bytes();
            let oom = || SparseError::OutOfMemory { bytes };
            let len = self.symbolic.len_val();
            self.l_values.try_reserve_exact(len).map_err(|_| oom())?;
            self.l_values.resize(len, 0.0);
            self.shifted.try_reserve_exact(self.nnz).map_err(|_| oom())?;
            self.shifted.resize(self.nnz, 0.0);
            self.mem = Some(MemBuffer::try_new(self.factor_req()).map_err(|_| oom())?);
        }
        self.shifted.copy_from_slice(values);
        for &p in &self.diag_pos {
            self.shifted[p] += shift;
        }
        let Some(mem) = self.mem.as_mut() else {
            return Err(SparseError::NotFactored.into());
        };
        let ok = self
            .symbolic
            .factorize_numeric_llt(
                &mut self.l_values,
                SparseColMatRef::new(
                    SymbolicSparseColMatRef::new_checked(self.n, self.n, &self.col_ptr, None, &self.row_idx),
                    &self.shifted,
                ),
                Side::Lower,
                LltRegularization::default(),
                self.par,
                MemStack::new(mem),
                Default::default(),
            )
            .is_ok();
        if !ok {
            return Ok(false);
        }
        let mut log_det = 0.0;
        for j in 0..self.n {
            let (start, _) = self.column(j);
            log_det += self.l_values[start].ln();
        }
        self.log_det = 2.0 * log_det;
        self.factored = self.log_det.is_finite();
        Ok(self.factored)
    }

    /// `log det(A + shift·I)` of the last successful factorisation.
    ///
    /// ```
    /// use saddle_laplace::SparseCholesky;
    /// let mut chol = SparseCholesky::analyse(1, &[0, 1], &[0])?;
    /// chol.factor(&[2.0], 1.0)?;
    /// assert!((chol.log_det()? - 3f64.ln()).abs() < 1e-15);
    /// # Ok::<(), saddle_laplace::LaplaceError>(())
    /// ```
    pub fn log_det(&self) -> Result<f64, LaplaceError> {
        self.check_factored()?;
        Ok(self.log_det)
    }

    /// Solves `(A + shift·I) x = b` in place, `b` in the original order.
    ///
    /// ```
    /// use saddle_laplace::SparseCholesky;
    /// let mut chol = SparseCholesky::analyse(2, &[0, 1, 2], &[0, 1])?;
    /// chol.factor(&[4.0, 16.0], 0.0)?;
    /// let mut b = vec![1.0, 1.0];
    /// chol.solve(&mut b)?;
    /// assert_eq!(b, vec![0.25, 0.0625]);
    /// # Ok::<(), saddle_laplace::LaplaceError>(())
    /// ```
    pub fn solve(&self, b: &mut [f64]) -> Result<(), LaplaceError> {
        self.check_factored()?;
        self.check_len(b.len())?;
        let req = self.symbolic.solve_in_place_scratch::<f64>(1, self.par);
        let mut mem = self.buffer(req)?;
        let llt = LltRef::new(&self.symbolic, &self.l_values);
        llt.solve_in_place_with_conj(
            Conj::No,
            MatMut::from_column_major_slice_mut(b, self.n, 1),
            self.par,
            MemStack::new(&mut mem),
        );
        Ok(())
    }

    /// Maps a standard normal vector `z` in place to a draw of
    /// `N(0, (A + shift·I)⁻¹)`: `x = Pᵀ L⁻ᵀ z`, in the original order.
    ///
    /// ```
    /// use saddle_laplace::SparseCholesky;
    /// let mut chol = SparseCholesky::analyse(1, &[0, 1], &[0])?;
    /// chol.factor(&[4.0], 0.0)?;
    /// let mut z = vec![1.0];
    /// chol.draw(&mut z)?;
    /// assert_eq!(z, vec![0.5]); // standard deviation 1/2
    /// # Ok::<(), saddle_laplace::LaplaceError>(())
    /// ```
    pub fn draw(&self, z: &mut [f64]) -> Result<(), LaplaceError> {
        self.check_factored()?;
        self.check_len(z.len())?;
        match self.symbolic.raw() {
            SymbolicCholeskyRaw::Simplicial(s) => {
                let l = SparseColMatRef::new(s.factor(), &self.l_values);
                triangular_solve::solve_lower_triangular_transpose_in_place(
                    l,
                    Conj::No,
                    MatMut::from_column_major_slice_mut(z, self.n, 1),
                    self.par,
                );
            }
            SymbolicCholeskyRaw::Supernodal(s) => {
                let mut mem = self.buffer(s.solve_in_place_scratch::<f64>(1, self.par))?;
                SupernodalLltRef::new(s, &self.l_values).l_transpose_solve_with_conj(
                    Conj::No,
                    MatMut::from_column_major_slice_mut(z, self.n, 1),
                    self.par,
                    MemStack::new(&mut mem),
                );
            }
        }
        // z now holds y = L⁻ᵀ z in the permuted order; x[i] = y[perm_inv[i]].
        let y = z.to_vec();
        for (x, &p) in z.iter_mut().zip(&self.perm_inv) {
            *x = y[p];
        }
        Ok(())
    }

    /// The selected inverse: the entries of `(A + shift·I)⁻¹` on the
    /// pattern given to the analysis, in the order of its values, by the
    /// Takahashi recursions on the factor's pattern (which contains the
    /// matrix's), never forming the inverse. Costs about as much as the
    /// factorisation.
    ///
    /// ```
    /// use saddle_laplace::SparseCholesky;
    /// // A = [[2, -1, 0], [-1, 2, -1], [0, -1, 2]], A⁻¹ = [[3, 2, 1], [2, 4, 2], [1, 2, 3]] / 4.
    /// let mut chol = SparseCholesky::analyse(3, &[0, 2, 4, 5], &[0, 1, 1, 2, 2])?;
    /// chol.factor(&[2.0, -1.0, 2.0, -1.0, 2.0], 0.0)?;
    /// let z = chol.selected_inverse()?;
    /// let want = [0.75, 0.5, 1.0, 0.5, 0.75];
    /// assert!(z.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-14));
    /// # Ok::<(), saddle_laplace::LaplaceError>(())
    /// ```
    pub fn selected_inverse(&self) -> Result<Vec<f64>, LaplaceError> {
        let z = self.takahashi()?;
        Ok(self.user_to_l.iter().map(|&p| z[p]).collect())
    }

    /// The diagonal of `(A + shift·I)⁻¹` (the marginal variances), from the
    /// selected inverse.
    ///
    /// ```
    /// use saddle_laplace::SparseCholesky;
    /// let mut chol = SparseCholesky::analyse(3, &[0, 2, 4, 5], &[0, 1, 1, 2, 2])?;
    /// chol.factor(&[2.0, -1.0, 2.0, -1.0, 2.0], 0.0)?;
    /// let d = chol.inverse_diagonal()?;
    /// assert!((d[1] - 1.0).abs() < 1e-14);
    /// # Ok::<(), saddle_laplace::LaplaceError>(())
    /// ```
    pub fn inverse_diagonal(&self) -> Result<Vec<f64>, LaplaceError> {
        let z = self.takahashi()?;
        Ok(self.perm_inv.iter().map(|&p| z[self.column(p).0]).collect())
    }

    /// The dense `(A + shift·I)⁻¹`, row-major `n × n`, for callers that
    /// need the full covariance; refused when `n²` doubles do not fit in
    /// [`saddle_runtime::available_memory`].
    ///
    /// ```
    /// use saddle_laplace::SparseCholesky;
    /// let mut chol = SparseCholesky::analyse(2, &[0, 2, 3], &[0, 1, 1])?;
    /// chol.factor(&[2.0, 1.0, 2.0], 0.0)?;
    /// let inv = chol.inverse_dense()?;
    /// let want = [2.0 / 3.0, -1.0 / 3.0, -1.0 / 3.0, 2.0 / 3.0];
    /// assert!(inv.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-14));
    /// # Ok::<(), saddle_laplace::LaplaceError>(())
    /// ```
    pub fn inverse_dense(&self) -> Result<Vec<f64>, LaplaceError> {
        self.check_factored()?;
        let n = self.n;
        let bytes = (n as u128) * (n as u128) * 8;
        let available = saddle_runtime::available_memory();
        if bytes > available {
            return Err(SparseError::DenseTooLarge { dim: n, bytes, available }.into());
        }
        let mut out = Vec::new();
        out.try_reserve_exact(n * n).map_err(|_| SparseError::OutOfMemory { bytes })?;
        out.resize(n * n, 0.0);
        for (k, row) in out.chunks_exact_mut(n).enumerate() {
            // Row k of the symmetric inverse is its column k: A⁻¹ e_k.
            row[k] = 1.0;
            self.solve(row)?;
        }
        Ok(out)
    }

    /// The Takahashi recursions: `Z = (L Lᵀ)⁻¹` on the pattern of `L`,
    /// laid out as `L`'s values.
    ///
    /// With `struct(j)` the rows of column `j` below the diagonal, going
    /// from the last column to the first:
    /// `Z_ij = -(1/L_jj) Σ_{k ∈ struct(j)} L_kj Z_ik` for `i ∈ struct(j)`, and
    /// `Z_jj = (1/L_jj) (1/L_jj - Σ_{i ∈ struct(j)} L_ij Z_ij)`.
    /// Every pair `i ≤ k` of `struct(j)` has `k` in column `i` of the
    /// factor, so one pass over column `i` with a scatter map of
    /// `struct(j)` finds all the `Z_ik` it needs, each once, and adds each
    /// to both sums it belongs to.
    fn takahashi(&self) -> Result<Vec<f64>, LaplaceError> {
        self.check_factored()?;
        if let SymbolicCholeskyRaw::Supernodal(s) = self.symbolic.raw()
            && let Some(z) = self.takahashi_supernodal(s)?
        {
            return Ok(z);
        }
        self.takahashi_columns()
    }

    /// The Takahashi recursions by supernodes, on dense blocks. For a
    /// supernode with columns `J` and rows below `R`, its factor block
    /// `[L_JJ; L_RJ]` and `Y = L_RJ L_JJ⁻¹`:
    /// `Z_RJ = -Z_RR Y` and `Z_JJ = L_JJ⁻ᵀ L_JJ⁻¹ - Yᵀ Z_RJ`, where
    /// `Z_RR` (every pair of `R`) lies on the pattern of later supernodes,
    /// already computed. The products and triangular solves are faer's
    /// dense kernels, so this costs about what the factorisation does;
    /// column by column the same recursions spend most of their time
    /// looking entries up. `None` when a row of `R` is missing from the
    /// later supernode that should hold it (not a Cholesky pattern), for
    /// the column-by-column recursions to handle.
    fn takahashi_supernodal(&self, s: &SymbolicSupernodalCholesky<usize>) -> Result<Option<Vec<f64>>, LaplaceError> {
        let l = &self.l_values;
        let mut z = Vec::new();
        let bytes = 8 * l.len() as u128;
        z.try_reserve_exact(l.len()).map_err(|_| SparseError::OutOfMemory { bytes })?;
        z.resize(l.len(), 0.0);
        let (begin, end, ptr) = (s.supernode_begin(), s.supernode_end(), s.col_ptr_for_val());
        // Row of each entry of R within the block of the supernode that
        // holds its column (reused between supernodes).
        let mut loc: Vec<usize> = Vec::new();
        for k in (0..s.n_supernodes()).rev() {
            let (b, e) = (begin[k], end[k]);
            let w = e - b;
            let pat = s.supernode(k).pattern();
            let m = pat.len();
            let h = w + m;
            let block = MatRef::from_column_major_slice(&l[ptr[k]..ptr[k] + h * w], h, w);
            let l_jj = block.subrows(0, w);
            // L_JJ⁻¹ by a triangular solve against the identity; Z_JJ starts as its Gram matrix.
            let mut l_inv = Mat::<f64>::identity(w, w);
            faer::linalg::triangular_solve::solve_lower_triangular_in_place(l_jj, l_inv.as_mut(), Par::Seq);
            let mut z_jj = Mat::<f64>::zeros(w, w);
            matmul(z_jj.as_mut(), Accum::Replace, l_inv.transpose(), l_inv.as_ref(), 1.0, self.par);
            let mut z_rj = Mat::<f64>::zeros(m, w);
            if m > 0 {
                // Z_RR, gathered from the later supernodes, group by group
                // of rows of R that share a supernode.
                let mut z_rr = Mat::<f64>::zeros(m, m);
                let mut a = 0;
                while a < m {
                    let k2 = self.col_super[pat[a]];
                    let (b2, e2) = (begin[k2], end[k2]);
                    let pat2 = s.supernode(k2).pattern();
                    let h2 = (e2 - b2) + pat2.len();
                    let g = a + pat[a..].partition_point(|&r| r < e2);
                    loc.clear();
                    let mut q = 0;
                    for &r in &pat[a..] {
                        if r < e2 {
                            loc.push(r - b2);
                        } else {
                            q += pat2[q..].partition_point(|&x| x < r);
                            if q >= pat2.len() || pat2[q] != r {
                                return Ok(None);
                            }
                            loc.push((e2 - b2) + q);
                        }
                    }
                    for ca in a..g {
                        let col = ptr[k2] + (pat[ca] - b2) * h2;
                        for cb in ca..m {
                            let v = z[col + loc[cb - a]];
                            z_rr[(cb, ca)] = v;
                            z_rr[(ca, cb)] = v;
                        }
                    }
                    a = g;
                }
                // Yᵀ = L_JJ⁻ᵀ L_RJᵀ, then Z_RJ = -Z_RR Y and Z_JJ -= Yᵀ Z_RJ.
                let mut y_t = Mat::<f64>::zeros(w, m);
                matmul(y_t.as_mut(), Accum::Replace, l_inv.transpose(), block.subrows(w, m).transpose(), 1.0, self.par);
                matmul(z_rj.as_mut(), Accum::Replace, z_rr.as_ref(), y_t.transpose(), -1.0, self.par);
                matmul(z_jj.as_mut(), Accum::Add, y_t.as_ref(), z_rj.as_ref(), -1.0, self.par);
            }
            let out = &mut z[ptr[k]..ptr[k] + h * w];
            for c in 0..w {
                let col = &mut out[c * h..(c + 1) * h];
                for r in c..w {
                    col[r] = z_jj[(r, c)];
                }
                for r in 0..m {
                    col[w + r] = z_rj[(r, c)];
                }
            }
        }
        Ok(Some(z))
    }

    /// The Takahashi recursions column by column (simplicial factors).
    fn takahashi_columns(&self) -> Result<Vec<f64>, LaplaceError> {
        let l = &self.l_values;
        let mut z = Vec::new();
        let bytes = 8 * l.len() as u128;
        z.try_reserve_exact(l.len()).map_err(|_| SparseError::OutOfMemory { bytes })?;
        z.resize(l.len(), 0.0);
        const NONE: usize = usize::MAX;
        let mut map = vec![NONE; self.n];
        let mut acc = Vec::new();
        for j in (0..self.n).rev() {
            let (vs, rows) = self.column(j);
            acc.clear();
            for (t, r) in rows.enumerate().skip(1) {
                map[r] = t;
                acc.push(0.0);
            }
            let (_, rows) = self.column(j);
            for (t, i) in rows.enumerate().skip(1) {
                let l_ij = l[vs + t];
                let (ws, col_i) = self.column(i);
                for (q, k) in col_i.enumerate() {
                    let u = map[k];
                    if u == NONE {
                        continue;
                    }
                    let z_ki = z[ws + q];
                    acc[t - 1] += l[vs + u] * z_ki;
                    if k != i {
                        acc[u - 1] += l_ij * z_ki;
                    }
                }
            }
            let d = l[vs];
            let mut diag = 1.0 / d;
            let (_, rows) = self.column(j);
            for (t, r) in rows.enumerate().skip(1) {
                let z_ij = -acc[t - 1] / d;
                z[vs + t] = z_ij;
                diag -= l[vs + t] * z_ij;
                map[r] = NONE;
            }
            z[vs] = diag / d;
        }
        Ok(z)
    }

    /// Column `j` of `L` (permuted order): where its values start, and its
    /// rows, the diagonal first, then increasing.
    fn column(&self, j: usize) -> (usize, Rows<'_>) {
        match self.symbolic.raw() {
            SymbolicCholeskyRaw::Simplicial(s) => {
                let (a, b) = (s.col_ptr()[j], s.col_ptr()[j + 1]);
                (a, (0..0).chain(s.row_idx()[a..b].iter().copied()))
            }
            SymbolicCholeskyRaw::Supernodal(s) => {
                let k = self.col_super[j];
                let (begin, end) = (s.supernode_begin()[k], s.supernode_end()[k]);
                let pattern = s.supernode(k).pattern();
                let height = end - begin + pattern.len();
                let c = j - begin;
                (s.col_ptr_for_val()[k] + c * height + c, (j..end).chain(pattern.iter().copied()))
            }
        }
    }

    /// The position in `L`'s values of entry `[row, col]` (permuted order,
    /// `row ≥ col`), if it is in the factor's pattern.
    fn find_in_column(&self, col: usize, row: usize) -> Option<usize> {
        match self.symbolic.raw() {
            SymbolicCholeskyRaw::Simplicial(s) => {
                let (a, b) = (s.col_ptr()[col], s.col_ptr()[col + 1]);
                s.row_idx()[a..b].binary_search(&row).ok().map(|q| a + q)
            }
            SymbolicCholeskyRaw::Supernodal(s) => {
                let k = self.col_super[col];
                let end = s.supernode_end()[k];
                let (start, _) = self.column(col);
                if row < end {
                    return Some(start + (row - col));
                }
                let q = s.supernode(k).pattern().binary_search(&row).ok()?;
                Some(start + (end - col) + q)
            }
        }
    }

    fn check_factored(&self) -> Result<(), LaplaceError> {
        if self.factored { Ok(()) } else { Err(SparseError::NotFactored.into()) }
    }

    fn check_len(&self, found: usize) -> Result<(), LaplaceError> {
        if found == self.n { Ok(()) } else { Err(SparseError::VectorLength { expected: self.n, found }.into()) }
    }

    fn buffer(&self, req: StackReq) -> Result<MemBuffer, LaplaceError> {
        MemBuffer::try_new(req).map_err(|_| SparseError::OutOfMemory { bytes: req.size_bytes() as u128 }.into())
    }
}

/// Checks a lower-triangular CSC pattern (every diagonal present, rows
/// strictly increasing) and returns the positions of the diagonal entries.
fn check_lower_pattern(n: usize, col_ptr: &[usize], row_idx: &[usize]) -> Result<Vec<usize>, SparseError> {
    check_pointers(n, col_ptr, row_idx.len())?;
    let mut diag_pos = Vec::with_capacity(n);
    for c in 0..n {
        let (a, b) = (col_ptr[c], col_ptr[c + 1]);
        let mut previous: Option<usize> = None;
        for (p, &r) in row_idx[a..b].iter().enumerate() {
            if r >= n {
                return Err(SparseError::RowOutOfRange { row: r, column: c, dim: n });
            }
            if r < c {
                return Err(SparseError::AboveDiagonal { row: r, column: c });
            }
            if let Some(prev) = previous
                && r <= prev
            {
                return Err(SparseError::RowOrder { column: c, row: r, previous: prev });
            }
            if r == c {
                diag_pos.push(a + p);
            }
            previous = Some(r);
        }
        if diag_pos.len() != c + 1 {
            return Err(SparseError::MissingDiagonal { column: c });
        }
    }
    Ok(diag_pos)
}

/// Checks that `col_ptr` has `n + 1` offsets running from 0 to `entries`
/// without decreasing.
fn check_pointers(n: usize, col_ptr: &[usize], entries: usize) -> Result<(), SparseError> {
    if col_ptr.len() != n + 1 {
        return Err(SparseError::PointerCount { dim: n, found: col_ptr.len() });
    }
    let mut last = 0;
    for c in 0..n {
        let (a, b) = (col_ptr[c], col_ptr[c + 1]);
        if a != last || b < a || b > entries || (c + 1 == n && b != entries) {
            return Err(SparseError::PointerOrder { column: c, start: a, end: b, entries });
        }
        last = b;
    }
    Ok(())
}

/// `y = A x` for a symmetric `A` given by its lower triangle in CSC (the
/// layout [`SparseCholesky::analyse`] takes, though here the rows need not
/// be sorted nor the diagonal present).
///
/// ```
/// use saddle_laplace::sym_matvec;
/// // A = [[4, 1], [1, 3]].
/// let mut y = vec![0.0; 2];
/// sym_matvec(2, &[0, 2, 3], &[0, 1, 1], &[4.0, 1.0, 3.0], &[1.0, 1.0], &mut y)?;
/// assert_eq!(y, vec![5.0, 4.0]);
/// # Ok::<(), saddle_laplace::LaplaceError>(())
/// ```
pub fn sym_matvec(
    n: usize,
    col_ptr: &[usize],
    row_idx: &[usize],
    values: &[f64],
    x: &[f64],
    y: &mut [f64],
) -> Result<(), LaplaceError> {
    check_pointers(n, col_ptr, row_idx.len())?;
    if values.len() != row_idx.len() {
        return Err(SparseError::ValueCount { expected: row_idx.len(), found: values.len() }.into());
    }
    for len in [x.len(), y.len()] {
        if len != n {
            return Err(SparseError::VectorLength { expected: n, found: len }.into());
        }
    }
    y.fill(0.0);
    for c in 0..n {
        let (a, b) = (col_ptr[c], col_ptr[c + 1]);
        for (&r, &v) in row_idx[a..b].iter().zip(&values[a..b]) {
            if r >= n {
                return Err(SparseError::RowOutOfRange { row: r, column: c, dim: n }.into());
            }
            if r < c {
                return Err(SparseError::AboveDiagonal { row: r, column: c }.into());
            }
            y[r] += v * x[c];
            if r != c {
                y[c] += v * x[r];
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{FactorKind, Ordering, SparseCholesky, SymbolicCholeskyRaw, factor_flops};

    /// The lower triangle (CSC) of the `m × m` grid's Laplacian plus
    /// `(1 + x/m)·I` at node `x`, 8-point stencil (so that supernodes are
    /// wide and have rows below them).
    fn grid(m: usize) -> (Vec<usize>, Vec<usize>, Vec<f64>) {
        let (mut col_ptr, mut rows, mut vals) = (vec![0], Vec::new(), Vec::new());
        for c in 0..m * m {
            let (x, y) = (c / m, c % m);
            let mut col = vec![(c, 9.0 + c as f64 / (m * m) as f64)];
            for (dx, dy) in [(0, 1), (1, 0), (1, 1)] {
                if x + dx < m && y + dy < m {
                    col.push(((x + dx) * m + y + dy, -1.0));
                }
            }
            if x + 1 < m && y > 0 {
                col.push(((x + 1) * m + y - 1, -1.0));
            }
            col.sort_by_key(|e| e.0);
            rows.extend(col.iter().map(|e| e.0));
            vals.extend(col.iter().map(|e| e.1));
            col_ptr.push(rows.len());
        }
        (col_ptr, rows, vals)
    }

    /// The lower triangle (CSC) of a `side^dims` lattice with the box
    /// stencil (every pair of nodes at most one step apart in each
    /// coordinate is linked, as in a Kronecker product of tridiagonal
    /// precisions), `2·3^dims` on the diagonal, `-1 - x/n` off it.
    fn lattice(side: usize, dims: u32) -> (usize, Vec<usize>, Vec<usize>, Vec<f64>) {
        let n = side.pow(dims);
        let (mut col_ptr, mut rows, mut vals) = (vec![0], Vec::new(), Vec::new());
        for c in 0..n {
            let coord = |i: usize, d: u32| (i / side.pow(d) % side) as isize;
            let mut col = Vec::new();
            for off in 0..3usize.pow(dims) {
                let mut idx = 0;
                let inside = (0..dims).all(|d| {
                    let x = coord(c, d) + (off / 3usize.pow(d) % 3) as isize - 1;
                    idx += x.max(0) as usize * side.pow(d);
                    (0..side as isize).contains(&x)
                });
                if inside && idx >= c {
                    col.push(idx);
                }
            }
            col.sort_unstable();
            for &r in &col {
                vals.push(if r == c { 2.0 * 3f64.powi(dims as i32) } else { -1.0 - (r % 7) as f64 / 7.0 });
            }
            rows.extend(col);
            col_ptr.push(rows.len());
        }
        (n, col_ptr, rows, vals)
    }

    #[test]
    fn dissection_needs_fewer_flops_than_minimum_degree_on_a_lattice_and_is_kept() {
        let (n, col_ptr, rows, _) = lattice(6, 4);
        let amd =
            SparseCholesky::analyse_ordered(n, &col_ptr, &rows, FactorKind::Auto, Ordering::MinimumDegree).unwrap();
        let nd = SparseCholesky::analyse_ordered(n, &col_ptr, &rows, FactorKind::Auto, Ordering::Dissection).unwrap();
        let best = SparseCholesky::analyse(n, &col_ptr, &rows).unwrap();
        let (f_amd, f_nd) = (factor_flops(&amd.symbolic), factor_flops(&nd.symbolic));
        assert!(f_nd < 0.9 * f_amd, "dissection {f_nd:e} flops, minimum degree {f_amd:e}");
        assert_eq!(factor_flops(&best.symbolic), f_nd);
        // The same lattice with a vertex linked to all the others, last.
        let (mut hub_ptr, mut hub_rows) = (vec![0], Vec::new());
        for c in 0..n {
            hub_rows.extend_from_slice(&rows[col_ptr[c]..col_ptr[c + 1]]);
            hub_rows.push(n);
            hub_ptr.push(hub_rows.len());
        }
        hub_rows.push(n);
        hub_ptr.push(hub_rows.len());
        let amd =
            SparseCholesky::analyse_ordered(n + 1, &hub_ptr, &hub_rows, FactorKind::Auto, Ordering::MinimumDegree)
                .unwrap();
        let best = SparseCholesky::analyse(n + 1, &hub_ptr, &hub_rows).unwrap();
        let (f_amd, f_best) = (factor_flops(&amd.symbolic), factor_flops(&best.symbolic));
        assert!(f_best < 0.9 * f_amd, "with a hub: {f_best:e} flops, minimum degree {f_amd:e}");
    }

    #[test]
    fn dissection_gives_the_same_log_det_solves_and_selected_inverse() {
        for (side, dims) in [(5, 3), (4, 4), (30, 2)] {
            let (n, col_ptr, rows, vals) = lattice(side, dims);
            let mut results = Vec::new();
            for ordering in [Ordering::MinimumDegree, Ordering::Dissection] {
                for kind in [FactorKind::Simplicial, FactorKind::Supernodal] {
                    let mut chol = SparseCholesky::analyse_ordered(n, &col_ptr, &rows, kind, ordering).unwrap();
                    assert!(chol.factor(&vals, 0.5).unwrap());
                    let mut x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
                    chol.solve(&mut x).unwrap();
                    results.push((chol.log_det().unwrap(), x, chol.selected_inverse().unwrap()));
                }
            }
            let (ld0, x0, z0) = &results[0];
            for (ld, x, z) in &results[1..] {
                assert!((ld - ld0).abs() <= 1e-12 * ld0.abs(), "{side}^{dims}: log det {ld} vs {ld0}");
                for (a, b) in x.iter().zip(x0).chain(z.iter().zip(z0)) {
                    assert!((a - b).abs() <= 1e-12 * b.abs().max(1e-3), "{side}^{dims}: {a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn supernodal_selected_inverse_equals_the_column_recursions() {
        let m = 24;
        let (col_ptr, rows, vals) = grid(m);
        let mut chol = SparseCholesky::analyse_with(m * m, &col_ptr, &rows, FactorKind::Supernodal).unwrap();
        assert!(chol.factor(&vals, 0.0).unwrap());
        let SymbolicCholeskyRaw::Supernodal(s) = chol.symbolic.raw() else { panic!("forced supernodal") };
        let wide = (0..s.n_supernodes())
            .any(|k| s.supernode_end()[k] - s.supernode_begin()[k] > 1 && !s.supernode(k).pattern().is_empty());
        assert!(wide, "some supernode has several columns and rows below them");
        let blocks = chol.takahashi_supernodal(s).unwrap().expect("a Cholesky pattern");
        let columns = chol.takahashi_columns().unwrap();
        for j in 0..m * m {
            let (start, rows) = chol.column(j);
            for (t, _) in rows.enumerate() {
                let (a, b) = (blocks[start + t], columns[start + t]);
                assert!((a - b).abs() <= 1e-13 * b.abs().max(1e-3), "column {j}, entry {t}: {a} vs {b}");
            }
        }
    }
}
