//! Sparse symmetric matrices as the optimiser and the result hold them:
//! the lower triangle in compressed sparse column (CSC) form, with every
//! diagonal entry present (so that a shift `λI` never changes the
//! pattern).

use crate::LaplaceError;

/// The pattern of a sparse symmetric `n × n` matrix: its lower triangle in
/// CSC form. For column `j`, the rows of its entries are
/// `row_indices()[col_ptr()[j]..col_ptr()[j + 1]]`, strictly increasing,
/// all `≥ j`, and the first is `j` itself: the diagonal is always stored.
///
/// ```
/// use saddle_laplace::SparseStructure;
/// // A tridiagonal 3 × 3 pattern.
/// let s = SparseStructure::new(3, vec![0, 2, 4, 5], vec![0, 1, 1, 2, 2]).unwrap();
/// assert_eq!(s.nnz(), 5);
/// let mut y = [0.0; 3];
/// // [[2, -1, 0], [-1, 2, -1], [0, -1, 2]] · [1, 1, 1]
/// s.matvec(&[2.0, -1.0, 2.0, -1.0, 2.0], &[1.0, 1.0, 1.0], &mut y);
/// assert_eq!(y, [1.0, 0.0, 1.0]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SparseStructure {
    n: usize,
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
}

impl SparseStructure {
    /// Checks and wraps a lower-triangular CSC pattern.
    pub fn new(n: usize, col_ptr: Vec<usize>, row_idx: Vec<usize>) -> Result<SparseStructure, LaplaceError> {
        let bad = |message: String| Err(LaplaceError::Structure { message });
        if col_ptr.len() != n + 1 || col_ptr[0] != 0 || col_ptr[n] != row_idx.len() {
            return bad(format!(
                "a pattern of {n} columns needs {} column pointers from 0 to the number of entries ({}), found {}",
                n + 1,
                row_idx.len(),
                col_ptr.len()
            ));
        }
        for j in 0..n {
            let (a, b) = (col_ptr[j], col_ptr[j + 1]);
            if a > b {
                return bad(format!("column pointers decrease at column {j}"));
            }
            let rows = &row_idx[a..b];
            if rows.first() != Some(&j) {
                return bad(format!("column {j} does not start with its diagonal entry"));
            }
            if rows.windows(2).any(|w| w[0] >= w[1]) || rows.last().is_some_and(|&r| r >= n) {
                return bad(format!("the rows of column {j} are not strictly increasing below {n}"));
            }
        }
        Ok(SparseStructure { n, col_ptr, row_idx })
    }

    /// The dense `n × n` pattern (every entry of the lower triangle):
    /// the structure of a dense matrix, for tests and small problems.
    pub fn dense(n: usize) -> SparseStructure {
        let mut col_ptr = Vec::with_capacity(n + 1);
        let mut row_idx = Vec::with_capacity(n * (n + 1) / 2);
        col_ptr.push(0);
        for j in 0..n {
            row_idx.extend(j..n);
            col_ptr.push(row_idx.len());
        }
        SparseStructure { n, col_ptr, row_idx }
    }

    /// The dimension `n`.
    pub fn dim(&self) -> usize {
        self.n
    }

    /// Stored entries (the lower triangle with the diagonal).
    pub fn nnz(&self) -> usize {
        self.row_idx.len()
    }

    /// Entries of the full symmetric matrix: `2 · nnz − n`.
    pub fn nnz_full(&self) -> usize {
        2 * self.nnz() - self.n
    }

    /// Column pointers, `n + 1` of them.
    pub fn col_ptr(&self) -> &[usize] {
        &self.col_ptr
    }

    /// Row indices, column by column.
    pub fn row_indices(&self) -> &[usize] {
        &self.row_idx
    }

    /// The position of the diagonal entry `(j, j)` among the values.
    pub fn diagonal_position(&self, j: usize) -> usize {
        self.col_ptr[j]
    }

    /// The position of entry `(i, j)` (either triangle) among the values,
    /// `None` when it is not stored.
    pub fn position(&self, i: usize, j: usize) -> Option<usize> {
        let (i, j) = if i >= j { (i, j) } else { (j, i) };
        if j >= self.n {
            return None;
        }
        let (a, b) = (self.col_ptr[j], self.col_ptr[j + 1]);
        self.row_idx[a..b].binary_search(&i).ok().map(|k| a + k)
    }

    /// `y = A x` for the symmetric `A` whose lower triangle is `values`.
    pub fn matvec(&self, values: &[f64], x: &[f64], y: &mut [f64]) {
        y.iter_mut().for_each(|v| *v = 0.0);
        for j in 0..self.n {
            let (a, b) = (self.col_ptr[j], self.col_ptr[j + 1]);
            // The diagonal first, then the entries below it, which also
            // stand for their mirror images above.
            y[j] += values[a] * x[j];
            let mut acc = 0.0;
            for k in a + 1..b {
                let i = self.row_idx[k];
                y[i] += values[k] * x[j];
                acc += values[k] * x[i];
            }
            y[j] += acc;
        }
    }

    /// The dense row-major matrix (both triangles).
    pub fn to_dense(&self, values: &[f64]) -> Vec<f64> {
        let n = self.n;
        let mut out = vec![0.0; n * n];
        for j in 0..n {
            for k in self.col_ptr[j]..self.col_ptr[j + 1] {
                let i = self.row_idx[k];
                out[i * n + j] = values[k];
                out[j * n + i] = values[k];
            }
        }
        out
    }

    /// Reads the lower triangle of a dense row-major matrix at this
    /// pattern's entries.
    pub fn gather(&self, dense: &[f64], values: &mut [f64]) {
        let n = self.n;
        for j in 0..n {
            for k in self.col_ptr[j]..self.col_ptr[j + 1] {
                values[k] = dense[self.row_idx[k] * n + j];
            }
        }
    }

    /// The pattern of the principal submatrix on the coordinates `keep`
    /// (strictly increasing, below [`SparseStructure::dim`]), renumbered
    /// `0..keep.len()`, with, per entry of it, the position of the same
    /// entry in this pattern (a gather map: `sub[k] = values[map[k]]`).
    ///
    /// ```
    /// use saddle_laplace::SparseStructure;
    /// // Tridiagonal 3 × 3; keep coordinates 1 and 2.
    /// let s = SparseStructure::new(3, vec![0, 2, 4, 5], vec![0, 1, 1, 2, 2]).unwrap();
    /// let (sub, map) = s.principal(&[1, 2]).unwrap();
    /// assert_eq!((sub.col_ptr(), sub.row_indices()), (&[0, 2, 3][..], &[0, 1, 1][..]));
    /// assert_eq!(map, [2, 3, 4]);
    /// ```
    pub fn principal(&self, keep: &[usize]) -> Result<(SparseStructure, Vec<usize>), LaplaceError> {
        if keep.windows(2).any(|w| w[0] >= w[1]) || keep.last().is_some_and(|&k| k >= self.n) {
            return Err(LaplaceError::Structure {
                message: format!("the kept coordinates must be strictly increasing below {}", self.n),
            });
        }
        let mut new_index = vec![usize::MAX; self.n];
        for (a, &k) in keep.iter().enumerate() {
            new_index[k] = a;
        }
        let mut col_ptr = Vec::with_capacity(keep.len() + 1);
        let (mut rows, mut map) = (Vec::new(), Vec::new());
        col_ptr.push(0);
        for &j in keep {
            for k in self.col_ptr[j]..self.col_ptr[j + 1] {
                let r = new_index[self.row_idx[k]];
                if r != usize::MAX {
                    rows.push(r);
                    map.push(k);
                }
            }
            col_ptr.push(rows.len());
        }
        Ok((SparseStructure::new(keep.len(), col_ptr, rows)?, map))
    }
}

/// A sparse symmetric matrix: a [`SparseStructure`] and one value per
/// stored entry.
#[derive(Clone, Debug, PartialEq)]
pub struct SparseSymmetric {
    /// The pattern.
    pub structure: SparseStructure,
    /// The lower triangle's values, in the pattern's order.
    pub values: Vec<f64>,
}

impl SparseSymmetric {
    /// Entry `(i, j)` (0 where nothing is stored).
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.structure.position(i, j).map_or(0.0, |k| self.values[k])
    }

    /// The dense row-major matrix.
    pub fn to_dense(&self) -> Vec<f64> {
        self.structure.to_dense(&self.values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_patterns_are_refused() {
        assert!(SparseStructure::new(2, vec![0, 1], vec![0]).is_err());
        // Column 1 without its diagonal.
        assert!(SparseStructure::new(2, vec![0, 1, 1], vec![0]).is_err());
        // An entry above the diagonal.
        assert!(SparseStructure::new(2, vec![0, 1, 3], vec![0, 0, 1]).is_err());
        // Row out of range.
        assert!(SparseStructure::new(2, vec![0, 2, 3], vec![0, 2, 1]).is_err());
        assert!(SparseStructure::new(2, vec![0, 2, 3], vec![0, 1, 1]).is_ok());
    }

    #[test]
    fn matvec_and_dense_agree() {
        let s = SparseStructure::new(4, vec![0, 3, 4, 6, 7], vec![0, 1, 3, 1, 2, 3, 3]).unwrap();
        let v = [4.0, -1.0, 0.5, 3.0, 5.0, 0.25, 6.0];
        let dense = s.to_dense(&v);
        let x = [1.0, 2.0, -1.0, 0.5];
        let mut y = [0.0; 4];
        s.matvec(&v, &x, &mut y);
        for i in 0..4 {
            let want: f64 = (0..4).map(|j| dense[i * 4 + j] * x[j]).sum();
            assert!((y[i] - want).abs() < 1e-15);
        }
        let mut back = [0.0; 7];
        s.gather(&dense, &mut back);
        assert_eq!(back, v);
        assert_eq!(s.position(0, 3), Some(2));
        assert_eq!(s.position(2, 0), None);
        assert_eq!(SparseStructure::dense(3).nnz(), 6);
    }

    #[test]
    fn principal_submatrices_equal_the_dense_block() {
        let s = SparseStructure::new(4, vec![0, 3, 4, 6, 7], vec![0, 1, 3, 1, 2, 3, 3]).unwrap();
        let v = [4.0, -1.0, 0.5, 3.0, 5.0, 0.25, 6.0];
        let dense = s.to_dense(&v);
        for keep in [vec![0, 3], vec![1, 2, 3], vec![0, 1, 2, 3], vec![2], vec![]] {
            let (sub, map) = s.principal(&keep).unwrap();
            let sv: Vec<f64> = map.iter().map(|&k| v[k]).collect();
            let sd = sub.to_dense(&sv);
            let m = keep.len();
            for (a, &i) in keep.iter().enumerate() {
                for (b, &j) in keep.iter().enumerate() {
                    assert_eq!(sd[a * m + b], dense[i * 4 + j], "{keep:?} ({i}, {j})");
                }
            }
        }
        assert!(s.principal(&[2, 1]).is_err());
        assert!(s.principal(&[4]).is_err());
    }
}
