//! Small dense linear algebra on symmetric matrices, on top of faer.
//!
//! Matrices cross the crate's API as row-major `Vec<f64>` of `d * d`
//! entries; symmetric ones read the same in either order. Factorisations
//! go through faer.

use faer::linalg::solvers::{DenseSolveCore, Llt};
use faer::{Mat, MatRef, Side};

/// The lower Cholesky factor `L` of a symmetric positive definite `A = L Lᵀ`.
#[derive(Clone, Debug)]
pub(crate) struct Cholesky {
    llt: Llt<f64>,
}

impl Cholesky {
    /// Factors `a` (row-major, symmetric; only the lower triangle is read),
    /// with `shift` added to the diagonal. `None` if not positive definite.
    pub(crate) fn new(a: &[f64], d: usize, shift: f64) -> Option<Cholesky> {
        let mut m = Mat::from_fn(d, d, |i, j| if j <= i { a[i * d + j] } else { 0.0 });
        if shift != 0.0 {
            for i in 0..d {
                m[(i, i)] += shift;
            }
        }
        let llt = m.as_ref().llt(Side::Lower).ok()?;
        let l = llt.L();
        if (0..d).any(|i| !(l[(i, i)] > 0.0 && l[(i, i)].is_finite())) {
            return None;
        }
        Some(Cholesky { llt })
    }

    fn l(&self) -> MatRef<'_, f64> {
        self.llt.L()
    }

    pub(crate) fn dim(&self) -> usize {
        self.llt.L().nrows()
    }

    /// `L` as a row-major `d × d` vector (zeros above the diagonal).
    pub(crate) fn factor_row_major(&self) -> Vec<f64> {
        let (d, l) = (self.dim(), self.l());
        let mut out = vec![0.0; d * d];
        for i in 0..d {
            for j in 0..=i {
                out[i * d + j] = l[(i, j)];
            }
        }
        out
    }

    /// `log det A = 2 Σ log L_ii`.
    pub(crate) fn log_det(&self) -> f64 {
        let l = self.l();
        2.0 * (0..self.dim()).map(|i| l[(i, i)].ln()).sum::<f64>()
    }

    /// Solves `L y = b` in place.
    pub(crate) fn solve_l(&self, b: &mut [f64]) {
        let (d, l) = (self.dim(), self.l());
        for i in 0..d {
            let mut s = b[i];
            for j in 0..i {
                s -= l[(i, j)] * b[j];
            }
            b[i] = s / l[(i, i)];
        }
    }

    /// Solves `Lᵀ x = b` in place.
    pub(crate) fn solve_lt(&self, b: &mut [f64]) {
        let (d, l) = (self.dim(), self.l());
        for i in (0..d).rev() {
            let mut s = b[i];
            for j in i + 1..d {
                s -= l[(j, i)] * b[j];
            }
            b[i] = s / l[(i, i)];
        }
    }

    /// Solves `A x = b` in place.
    pub(crate) fn solve(&self, b: &mut [f64]) {
        self.solve_l(b);
        self.solve_lt(b);
    }

    /// `‖Lᵀ v‖²  = vᵀ A v`.
    pub(crate) fn quad(&self, v: &[f64]) -> f64 {
        let (d, l) = (self.dim(), self.l());
        let mut s = 0.0;
        for j in 0..d {
            let mut t = 0.0;
            for i in j..d {
                t += l[(i, j)] * v[i];
            }
            s += t * t;
        }
        s
    }

    /// `A⁻¹`, row-major, exactly symmetric.
    pub(crate) fn inverse(&self) -> Vec<f64> {
        let d = self.dim();
        let inv = self.llt.inverse();
        let mut out = vec![0.0; d * d];
        for i in 0..d {
            for j in 0..=i {
                let v = 0.5 * (inv[(i, j)] + inv[(j, i)]);
                out[i * d + j] = v;
                out[j * d + i] = v;
            }
        }
        out
    }
}

/// The smallest eigenvalue of a symmetric matrix and a unit eigenvector.
pub(crate) fn smallest_eigen(a: &[f64], d: usize) -> Option<(f64, Vec<f64>)> {
    let m = Mat::from_fn(d, d, |i, j| 0.5 * (a[i * d + j] + a[j * d + i]));
    let evd = m.as_ref().self_adjoint_eigen(Side::Lower).ok()?;
    let s = evd.S();
    let u = evd.U();
    let (k, &lam) = s.column_vector().iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1))?;
    let mut v: Vec<f64> = (0..d).map(|i| u[(i, k)]).collect();
    // A deterministic sign: the largest component positive.
    let big = v.iter().copied().fold(0.0_f64, |m, x| if x.abs() > m.abs() { x } else { m });
    if big < 0.0 {
        v.iter_mut().for_each(|x| *x = -*x);
    }
    Some((lam, v))
}

/// `y = A x` for row-major `A`.
pub(crate) fn matvec(a: &[f64], x: &[f64], y: &mut [f64]) {
    let d = x.len();
    for (i, yi) in y.iter_mut().enumerate() {
        *yi = a[i * d..(i + 1) * d].iter().zip(x).map(|(p, q)| p * q).sum();
    }
}

pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub(crate) fn norm_inf(a: &[f64]) -> f64 {
    a.iter().fold(0.0_f64, |m, x| if x.is_nan() { f64::NAN } else { m.max(x.abs()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_solves_and_inverts() {
        let a = [4.0, 2.0, 0.4, 2.0, 3.0, 0.5, 0.4, 0.5, 2.0];
        let c = Cholesky::new(&a, 3, 0.0).unwrap();
        let inv = c.inverse();
        let mut prod = [0.0; 9];
        for i in 0..3 {
            for j in 0..3 {
                prod[i * 3 + j] = (0..3).map(|k| a[i * 3 + k] * inv[k * 3 + j]).sum();
            }
        }
        for i in 0..3 {
            for j in 0..3 {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((prod[i * 3 + j] - want).abs() < 1e-14);
            }
        }
        let x = [1.0, -2.0, 0.5];
        let mut b = [0.0; 3];
        matvec(&a, &x, &mut b);
        assert!((c.quad(&x) - dot(&x, &b)).abs() < 1e-12);
        c.solve(&mut b);
        for i in 0..3 {
            assert!((b[i] - x[i]).abs() < 1e-14);
        }
        // det = 4(6 - .25) - 2(4 - .2) + .4(1 - 1.2)
        let det: f64 = 4.0 * 5.75 - 2.0 * 3.8 + 0.4 * (1.0 - 1.2);
        assert!((c.log_det() - det.ln()).abs() < 1e-13);
    }

    #[test]
    fn indefinite_is_refused_and_eigen_found() {
        let a = [1.0, 2.0, 2.0, 1.0];
        assert!(Cholesky::new(&a, 2, 0.0).is_none());
        assert!(Cholesky::new(&a, 2, 1.5).is_some());
        let (lam, v) = smallest_eigen(&a, 2).unwrap();
        assert!((lam + 1.0).abs() < 1e-14);
        let s = std::f64::consts::FRAC_1_SQRT_2;
        assert!((v[0].abs() - s).abs() < 1e-12 && (v[0] + v[1]).abs() < 1e-12);
    }
}
