//! The sparse Cholesky factorisation against dense computations on random
//! patterns, and known answers: AR(1) precisions and grid Laplacians.
#![allow(clippy::needless_range_loop)]

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use saddle_laplace::{FactorKind, LaplaceError, SparseCholesky, SparseError, sym_matvec};

const KINDS: [FactorKind; 3] = [FactorKind::Auto, FactorKind::Simplicial, FactorKind::Supernodal];

/// A lower-triangular CSC pattern with its values.
struct Lower {
    n: usize,
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    values: Vec<f64>,
}

impl Lower {
    /// From (row, col, value) triples of the lower triangle, sorted by column then row.
    fn from_triples(n: usize, mut t: Vec<(usize, usize, f64)>) -> Lower {
        t.sort_by_key(|&(r, c, _)| (c, r));
        let mut col_ptr = vec![0; n + 1];
        for &(_, c, _) in &t {
            col_ptr[c + 1] += 1;
        }
        for c in 0..n {
            col_ptr[c + 1] += col_ptr[c];
        }
        Lower { n, col_ptr, row_idx: t.iter().map(|e| e.0).collect(), values: t.iter().map(|e| e.2).collect() }
    }

    /// The dense symmetric matrix, row-major.
    fn dense(&self) -> Vec<f64> {
        let n = self.n;
        let mut a = vec![0.0; n * n];
        for c in 0..n {
            for p in self.col_ptr[c]..self.col_ptr[c + 1] {
                let r = self.row_idx[p];
                a[r * n + c] = self.values[p];
                a[c * n + r] = self.values[p];
            }
        }
        a
    }
}

/// A random diagonally dominant (hence positive definite) matrix on a
/// random lower pattern with density `density`.
fn random_spd(n: usize, density: f64, seed: u64) -> Lower {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut t = Vec::new();
    let mut row_sum = vec![0.0; n];
    for c in 0..n {
        for r in c + 1..n {
            if rng.random_range(0.0..1.0) < density {
                let v: f64 = rng.random_range(-1.0..1.0);
                row_sum[r] += v.abs();
                row_sum[c] += v.abs();
                t.push((r, c, v));
            }
        }
    }
    for i in 0..n {
        t.push((i, i, row_sum[i] + rng.random_range(0.1..2.0)));
    }
    Lower::from_triples(n, t)
}

/// Dense log-determinant by Cholesky.
fn dense_log_det(a: &[f64], n: usize) -> f64 {
    let mut l = vec![0.0; n * n];
    let mut log_det = 0.0;
    for i in 0..n {
        for j in 0..=i {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                assert!(s > 0.0);
                l[i * n + i] = s.sqrt();
                log_det += s.ln();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    log_det
}

/// Dense inverse by Gauss–Jordan with partial pivoting.
fn dense_inverse(a: &[f64], n: usize) -> Vec<f64> {
    let mut m = a.to_vec();
    let mut inv = vec![0.0; n * n];
    for i in 0..n {
        inv[i * n + i] = 1.0;
    }
    for c in 0..n {
        let p = (c..n).max_by(|&x, &y| m[x * n + c].abs().total_cmp(&m[y * n + c].abs())).unwrap();
        for k in 0..n {
            m.swap(c * n + k, p * n + k);
            inv.swap(c * n + k, p * n + k);
        }
        let d = m[c * n + c];
        for k in 0..n {
            m[c * n + k] /= d;
            inv[c * n + k] /= d;
        }
        for r in 0..n {
            if r != c {
                let f = m[r * n + c];
                for k in 0..n {
                    m[r * n + k] -= f * m[c * n + k];
                    inv[r * n + k] -= f * inv[c * n + k];
                }
            }
        }
    }
    inv
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

/// Checks every result of a factorisation of `m + shift·I` against dense computations.
fn check_against_dense(chol: &SparseCholesky, m: &Lower, shift: f64) -> Result<(), TestCaseError> {
    let n = m.n;
    let mut a = m.dense();
    for i in 0..n {
        a[i * n + i] += shift;
    }
    let inv = dense_inverse(&a, n);
    let tol = 1e-10;
    let (ld, want) = (chol.log_det().unwrap(), dense_log_det(&a, n));
    prop_assert!(close(ld, want, tol), "log det {ld} vs {want}");

    let b: Vec<f64> = (0..n).map(|i| (i as f64 * 0.7).sin() + 0.5).collect();
    let mut x = b.clone();
    chol.solve(&mut x).unwrap();
    for i in 0..n {
        let want: f64 = (0..n).map(|k| inv[i * n + k] * b[k]).sum();
        prop_assert!(close(x[i], want, tol), "solve[{i}]: {} vs {want}", x[i]);
    }

    let sel = chol.selected_inverse().unwrap();
    prop_assert_eq!(sel.len(), m.row_idx.len());
    for c in 0..n {
        for p in m.col_ptr[c]..m.col_ptr[c + 1] {
            let r = m.row_idx[p];
            prop_assert!(close(sel[p], inv[r * n + c], tol), "selected [{r}, {c}]: {} vs {}", sel[p], inv[r * n + c]);
        }
    }
    let diag = chol.inverse_diagonal().unwrap();
    for i in 0..n {
        prop_assert!(close(diag[i], inv[i * n + i], tol), "diag[{i}]");
    }
    let full = chol.inverse_dense().unwrap();
    for k in 0..n * n {
        prop_assert!(close(full[k], inv[k], tol), "dense[{k}]");
    }

    // Draws of unit vectors are the columns of B with B Bᵀ = A⁻¹.
    let mut bcols = vec![0.0; n * n];
    for k in 0..n {
        let col = &mut bcols[k * n..(k + 1) * n];
        col[k] = 1.0;
        chol.draw(col).unwrap();
    }
    for i in 0..n {
        for j in 0..n {
            let bbt: f64 = (0..n).map(|k| bcols[k * n + i] * bcols[k * n + j]).sum();
            prop_assert!(close(bbt, inv[i * n + j], tol), "B Bᵀ [{i}, {j}]: {bbt} vs {}", inv[i * n + j]);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_patterns_match_dense(n in 1usize..60, density in 0.0f64..0.4, seed in any::<u64>(), shift in 0.0f64..2.0) {
        let m = random_spd(n, density, seed);
        for kind in KINDS {
            let mut chol = SparseCholesky::analyse_with(n, &m.col_ptr, &m.row_idx, kind).unwrap();
            prop_assert!(chol.factor_nnz() >= m.row_idx.len());
            prop_assert!(chol.factor_bytes() >= 8 * chol.factor_nnz() as u128);
            prop_assert!(chol.factor(&m.values, 0.0).unwrap());
            check_against_dense(&chol, &m, 0.0)?;
            // A Newton step: new values on the same pattern, and a shift.
            let m2 = random_spd(n, density, seed);
            let values: Vec<f64> = m2.values.iter().map(|v| 0.5 * v + 0.01 * v.signum()).collect();
            let m2 = Lower { values, ..m2 };
            prop_assert!(chol.factor(&m2.values, shift).unwrap());
            check_against_dense(&chol, &m2, shift)?;
        }
    }

    #[test]
    fn sym_matvec_matches_dense(n in 1usize..40, density in 0.0f64..0.5, seed in any::<u64>()) {
        let m = random_spd(n, density, seed);
        let a = m.dense();
        let x: Vec<f64> = (0..n).map(|i| (i as f64).cos()).collect();
        let mut y = vec![f64::NAN; n];
        sym_matvec(n, &m.col_ptr, &m.row_idx, &m.values, &x, &mut y).unwrap();
        for i in 0..n {
            let want: f64 = (0..n).map(|k| a[i * n + k] * x[k]).sum();
            prop_assert!(close(y[i], want, 1e-12));
        }
    }
}

/// The precision of a stationary AR(1) with coefficient `phi` and unit
/// innovations: tridiagonal, 1 at both ends of the diagonal, 1 + φ² inside,
/// −φ beside it.
fn ar1(n: usize, phi: f64) -> Lower {
    let mut t = Vec::new();
    for i in 0..n {
        let d = if i == 0 || i == n - 1 { 1.0 } else { 1.0 + phi * phi };
        t.push((i, i, d));
        if i + 1 < n {
            t.push((i + 1, i, -phi));
        }
    }
    Lower::from_triples(n, t)
}

#[test]
fn ar1_known_answers() {
    // The covariance is φ^|i−j| / (1 − φ²); det Σ = 1 / (1 − φ²).
    let (n, phi) = (10_000, 0.8_f64);
    let m = ar1(n, phi);
    for kind in KINDS {
        let mut chol = SparseCholesky::analyse_with(n, &m.col_ptr, &m.row_idx, kind).unwrap();
        assert!(chol.factor(&m.values, 0.0).unwrap());
        let var = 1.0 / (1.0 - phi * phi);
        assert!(close(chol.log_det().unwrap(), (1.0 - phi * phi).ln(), 1e-9), "{kind:?}");
        let diag = chol.inverse_diagonal().unwrap();
        assert!(diag.iter().all(|&d| close(d, var, 1e-10)), "{kind:?}");
        let sel = chol.selected_inverse().unwrap();
        for c in 0..n {
            for p in m.col_ptr[c]..m.col_ptr[c + 1] {
                let want = if m.row_idx[p] == c { var } else { phi * var };
                assert!(close(sel[p], want, 1e-10), "{kind:?} [{}, {c}]", m.row_idx[p]);
            }
        }
        // Solving against e₀ gives the covariance's first column,
        // φ^i / (1 − φ²).
        let mut b = vec![0.0; n];
        b[0] = 1.0;
        chol.solve(&mut b).unwrap();
        let worst = b.iter().enumerate().map(|(i, &x)| (x - phi.powi(i as i32) * var).abs()).fold(0.0, f64::max);
        assert!(worst < 1e-10, "{kind:?}: {worst:e}");
    }
}

/// The `m × m` grid graph's Laplacian plus the identity (5-point stencil).
fn grid_laplacian_plus_identity(m: usize) -> Lower {
    let id = |x: usize, y: usize| x * m + y;
    let mut t = Vec::new();
    for x in 0..m {
        for y in 0..m {
            let degree = [x > 0, x + 1 < m, y > 0, y + 1 < m].iter().filter(|&&b| b).count();
            t.push((id(x, y), id(x, y), 1.0 + degree as f64));
            if x + 1 < m {
                t.push((id(x + 1, y), id(x, y), -1.0));
            }
            if y + 1 < m {
                t.push((id(x, y + 1), id(x, y), -1.0));
            }
        }
    }
    Lower::from_triples(m * m, t)
}

#[test]
fn grid_laplacian_known_answers() {
    // The path Laplacian of length m has eigenvalues 2 − 2cos(πk/m) with
    // eigenvectors cos(πk(x + ½)/m); the grid's are sums over both axes.
    let m = 30;
    let g = grid_laplacian_plus_identity(m);
    let lambda: Vec<f64> = (0..m).map(|k| 2.0 - 2.0 * (std::f64::consts::PI * k as f64 / m as f64).cos()).collect();
    let v = |k: usize, x: usize| {
        let c = if k == 0 { (1.0 / m as f64).sqrt() } else { (2.0 / m as f64).sqrt() };
        c * (std::f64::consts::PI * k as f64 * (x as f64 + 0.5) / m as f64).cos()
    };
    let mut log_det = 0.0;
    for i in 0..m {
        for j in 0..m {
            log_det += (1.0 + lambda[i] + lambda[j]).ln();
        }
    }
    for kind in KINDS {
        let mut chol = SparseCholesky::analyse_with(m * m, &g.col_ptr, &g.row_idx, kind).unwrap();
        assert!(chol.factor_nnz() > g.row_idx.len(), "a grid's factor fills in");
        assert!(chol.factor(&g.values, 0.0).unwrap());
        assert!(close(chol.log_det().unwrap(), log_det, 1e-11), "{kind:?}");
        let diag = chol.inverse_diagonal().unwrap();
        for (x, y) in [(0, 0), (0, 7), (13, 21), (29, 29), (15, 15)] {
            let mut want = 0.0;
            for i in 0..m {
                for j in 0..m {
                    want += (v(i, x) * v(j, y)).powi(2) / (1.0 + lambda[i] + lambda[j]);
                }
            }
            assert!(close(diag[x * m + y], want, 1e-11), "{kind:?} ({x}, {y}): {} vs {want}", diag[x * m + y]);
        }
    }
}

#[test]
fn indefinite_is_refused_until_shifted() {
    // The grid Laplacian minus 2·I has negative eigenvalues, down to −2 + 0.
    let m = 6;
    let g = grid_laplacian_plus_identity(m);
    let mut values = g.values.clone();
    for c in 0..m * m {
        let p = g.col_ptr[c];
        values[p] -= 3.0; // the diagonal comes first in each column
    }
    for kind in KINDS {
        let mut chol = SparseCholesky::analyse_with(m * m, &g.col_ptr, &g.row_idx, kind).unwrap();
        assert!(!chol.factor(&values, 0.0).unwrap());
        assert!(matches!(chol.log_det(), Err(LaplaceError::Sparse(SparseError::NotFactored))));
        assert!(matches!(chol.solve(&mut vec![0.0; m * m]), Err(LaplaceError::Sparse(SparseError::NotFactored))));
        assert!(matches!(chol.selected_inverse(), Err(LaplaceError::Sparse(SparseError::NotFactored))));
        assert!(!chol.factor(&values, 1.5).unwrap());
        assert!(chol.factor(&values, 2.5).unwrap());
        let lower = Lower { values: values.clone(), ..grid_laplacian_plus_identity(m) };
        proptest::test_runner::TestRunner::default()
            .run(&Just(()), |()| check_against_dense(&chol, &lower, 2.5))
            .unwrap();
        // A value that is not finite is "not positive definite", not a panic.
        let mut bad = g.values.clone();
        bad[3] = f64::NAN;
        assert!(!chol.factor(&bad, 0.0).unwrap());
        assert!(!chol.factor(&g.values, f64::INFINITY).unwrap());
        assert!(chol.factor(&g.values, 0.0).unwrap());
    }
}

#[test]
fn bad_patterns_are_typed_errors() {
    let err = |n: usize, col_ptr: &[usize], row_idx: &[usize]| match SparseCholesky::analyse(n, col_ptr, row_idx) {
        Err(LaplaceError::Sparse(e)) => e,
        other => panic!("expected a sparse error, got {other:?}"),
    };
    assert_eq!(err(2, &[0, 2], &[0, 1]), SparseError::PointerCount { dim: 2, found: 2 });
    assert_eq!(err(2, &[1, 2, 3], &[0, 1, 1]), SparseError::PointerOrder { column: 0, start: 1, end: 2, entries: 3 });
    assert_eq!(err(2, &[0, 2, 1], &[0, 1, 1]), SparseError::PointerOrder { column: 1, start: 2, end: 1, entries: 3 });
    assert_eq!(err(2, &[0, 2, 9], &[0, 1, 1]), SparseError::PointerOrder { column: 1, start: 2, end: 9, entries: 3 });
    assert_eq!(err(2, &[0, 2, 3], &[0, 5, 1]), SparseError::RowOutOfRange { row: 5, column: 0, dim: 2 });
    assert_eq!(err(2, &[0, 1, 3], &[0, 0, 1]), SparseError::AboveDiagonal { row: 0, column: 1 });
    assert_eq!(err(3, &[0, 3, 4, 5], &[0, 2, 1, 1, 2]), SparseError::RowOrder { column: 0, row: 1, previous: 2 });
    assert_eq!(err(2, &[0, 3, 4], &[0, 1, 1, 1]), SparseError::RowOrder { column: 0, row: 1, previous: 1 });
    assert_eq!(err(2, &[0, 1, 1], &[0]), SparseError::MissingDiagonal { column: 1 });
    assert!(matches!(SparseCholesky::analyse(0, &[0], &[]), Err(LaplaceError::EmptyParameter)));

    let mut chol = SparseCholesky::analyse(2, &[0, 2, 3], &[0, 1, 1]).unwrap();
    assert!(matches!(
        chol.factor(&[1.0], 0.0),
        Err(LaplaceError::Sparse(SparseError::ValueCount { expected: 3, found: 1 }))
    ));
    assert!(chol.factor(&[2.0, 1.0, 2.0], 0.0).unwrap());
    assert!(matches!(
        chol.solve(&mut [1.0]),
        Err(LaplaceError::Sparse(SparseError::VectorLength { expected: 2, found: 1 }))
    ));
    assert!(matches!(
        chol.draw(&mut [1.0, 2.0, 3.0]),
        Err(LaplaceError::Sparse(SparseError::VectorLength { expected: 2, found: 3 }))
    ));
    let mut y = [0.0; 2];
    assert!(matches!(
        sym_matvec(2, &[0, 2, 3], &[0, 7, 1], &[1.0, 1.0, 1.0], &[1.0, 1.0], &mut y),
        Err(LaplaceError::Sparse(SparseError::RowOutOfRange { row: 7, column: 0, dim: 2 }))
    ));
    assert!(matches!(
        sym_matvec(2, &[0, 2, 3], &[0, 1, 1], &[1.0], &[1.0, 1.0], &mut y),
        Err(LaplaceError::Sparse(SparseError::ValueCount { expected: 3, found: 1 }))
    ));
    // Messages are lowercase and name the numbers.
    let msg = LaplaceError::from(SparseError::MissingDiagonal { column: 4 }).to_string();
    assert_eq!(msg, "the diagonal entry of column 4 is missing from the pattern");
}

#[test]
fn dense_inverse_beyond_memory_is_refused() {
    // A diagonal matrix of dimension 2·10⁵: the sparse work is small, the dense inverse 320 GB.
    let n = 200_000usize;
    let col_ptr: Vec<usize> = (0..=n).collect();
    let row_idx: Vec<usize> = (0..n).collect();
    let mut chol = SparseCholesky::analyse(n, &col_ptr, &row_idx).unwrap();
    assert!(chol.factor(&vec![1.0; n], 0.0).unwrap());
    let available = saddle_runtime::available_memory();
    let bytes = (n as u128).pow(2) * 8;
    if bytes > available {
        match chol.inverse_dense() {
            Err(LaplaceError::Sparse(SparseError::DenseTooLarge { dim, bytes: b, .. })) => {
                assert_eq!((dim, b), (n, bytes));
            }
            other => panic!("expected DenseTooLarge, got {:?}", other.map(|v| v.len())),
        }
    }
}
