//! Placeholder sparse Cholesky on dense storage (replaced by the faer-based factorisation).

use crate::LaplaceError;
use crate::linalg::Cholesky;

/// A symmetric positive definite sparse matrix's Cholesky factorisation.
#[derive(Clone, Debug)]
pub struct SparseCholesky {
    n: usize,
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    chol: Option<Cholesky>,
}

impl SparseCholesky {
    /// Symbolic analysis.
    pub fn analyse(n: usize, col_ptr: &[usize], row_idx: &[usize]) -> Result<SparseCholesky, LaplaceError> {
        Ok(SparseCholesky { n, col_ptr: col_ptr.to_vec(), row_idx: row_idx.to_vec(), chol: None })
    }
    /// Entries of L.
    pub fn factor_nnz(&self) -> usize {
        self.n * (self.n + 1) / 2
    }
    /// Bytes.
    pub fn factor_bytes(&self) -> u128 {
        (self.n * self.n * 8) as u128
    }
    /// Numeric factorisation.
    pub fn factor(&mut self, values: &[f64], shift: f64) -> bool {
        let n = self.n;
        let mut a = vec![0.0; n * n];
        for j in 0..n {
            for k in self.col_ptr[j]..self.col_ptr[j + 1] {
                let i = self.row_idx[k];
                a[i * n + j] = values[k];
                a[j * n + i] = values[k];
            }
        }
        self.chol = Cholesky::new(&a, n, shift);
        self.chol.is_some()
    }
    /// log det.
    pub fn log_det(&self) -> f64 {
        self.chol.as_ref().map_or(f64::NAN, |c| c.log_det())
    }
    /// Solve.
    pub fn solve(&self, b: &mut [f64]) {
        if let Some(c) = &self.chol {
            c.solve(b)
        }
    }
    /// Draw.
    pub fn draw(&self, z: &mut [f64]) {
        if let Some(c) = &self.chol {
            c.solve_lt(z)
        }
    }
    /// Diagonal of the inverse.
    pub fn inverse_diagonal(&self) -> Vec<f64> {
        let n = self.n;
        let inv = self.chol.as_ref().map(|c| c.inverse()).unwrap_or_default();
        (0..n).map(|i| inv[i * n + i]).collect()
    }
    /// Dense inverse.
    pub fn inverse_dense(&self) -> Result<Vec<f64>, LaplaceError> {
        Ok(self.chol.as_ref().map(|c| c.inverse()).unwrap_or_default())
    }
}
