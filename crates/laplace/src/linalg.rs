//! Small dense linear algebra on symmetric matrices, on top of faer.
//!
//! Matrices cross the crate's API as row-major `Vec<f64>` of `d * d`
//! entries; symmetric ones read the same in either order. Factorisations
//! go through faer.

use faer::linalg::solvers::{DenseSolveCore, Llt};
use faer::{Mat, Side};

/// Up to this dimension factorisations are plain loops: faer's dispatch
/// (and its thread pool's start-up on first use) costs more than the
/// arithmetic there.
const SMALL: usize = 96;

/// The lower Cholesky factor `L` of a symmetric positive definite `A = L Lᵀ`.
#[derive(Clone, Debug)]
pub(crate) struct Cholesky {
    d: usize,
    /// `L`, row-major, zeros above the diagonal.
    l: Vec<f64>,
    /// faer's factorisation, for large `d`.
    llt: Option<Llt<f64>>,
}

impl Cholesky {
    /// Factors `a` (row-major, symmetric; only the lower triangle is read),
    /// with `shift` added to the diagonal. `None` if not positive definite.
    pub(crate) fn new(a: &[f64], d: usize, shift: f64) -> Option<Cholesky> {
        if d <= SMALL {
            let mut l = vec![0.0; d * d];
            for i in 0..d {
                for j in 0..=i {
                    let mut s = a[i * d + j] + if i == j { shift } else { 0.0 };
                    for k in 0..j {
                        s -= l[i * d + k] * l[j * d + k];
                    }
                    if i == j {
                        if !(s > 0.0 && s.is_finite()) {
                            return None;
                        }
                        l[i * d + i] = s.sqrt();
                    } else {
                        l[i * d + j] = s / l[j * d + j];
                    }
                }
            }
            return Some(Cholesky { d, l, llt: None });
        }
        let mut m = Mat::from_fn(d, d, |i, j| if j <= i { a[i * d + j] } else { 0.0 });
        if shift != 0.0 {
            for i in 0..d {
                m[(i, i)] += shift;
            }
        }
        let llt = m.as_ref().llt(Side::Lower).ok()?;
        let lf = llt.L();
        if (0..d).any(|i| !(lf[(i, i)] > 0.0 && lf[(i, i)].is_finite())) {
            return None;
        }
        let mut l = vec![0.0; d * d];
        for i in 0..d {
            for j in 0..=i {
                l[i * d + j] = lf[(i, j)];
            }
        }
        Some(Cholesky { d, l, llt: Some(llt) })
    }

    /// `L` as a row-major `d × d` vector (zeros above the diagonal).
    pub(crate) fn factor_row_major(&self) -> Vec<f64> {
        self.l.clone()
    }

    /// `log det A = 2 Σ log L_ii`.
    pub(crate) fn log_det(&self) -> f64 {
        2.0 * (0..self.d).map(|i| self.l[i * self.d + i].ln()).sum::<f64>()
    }

    /// Solves `L y = b` in place.
    pub(crate) fn solve_l(&self, b: &mut [f64]) {
        let (d, l) = (self.d, &self.l);
        for i in 0..d {
            let mut s = b[i];
            for j in 0..i {
                s -= l[i * d + j] * b[j];
            }
            b[i] = s / l[i * d + i];
        }
    }

    /// Solves `Lᵀ x = b` in place.
    pub(crate) fn solve_lt(&self, b: &mut [f64]) {
        let (d, l) = (self.d, &self.l);
        for i in (0..d).rev() {
            let mut s = b[i];
            for j in i + 1..d {
                s -= l[j * d + i] * b[j];
            }
            b[i] = s / l[i * d + i];
        }
    }

    /// Solves `A x = b` in place.
    pub(crate) fn solve(&self, b: &mut [f64]) {
        self.solve_l(b);
        self.solve_lt(b);
    }

    /// `‖Lᵀ v‖²  = vᵀ A v`.
    pub(crate) fn quad(&self, v: &[f64]) -> f64 {
        let (d, l) = (self.d, &self.l);
        let mut s = 0.0;
        for j in 0..d {
            let mut t = 0.0;
            for i in j..d {
                t += l[i * d + j] * v[i];
            }
            s += t * t;
        }
        s
    }

    /// `A⁻¹`, row-major, exactly symmetric.
    pub(crate) fn inverse(&self) -> Vec<f64> {
        let d = self.d;
        let mut out = vec![0.0; d * d];
        match &self.llt {
            Some(llt) => {
                let inv = llt.inverse();
                for i in 0..d {
                    for j in 0..d {
                        out[i * d + j] = inv[(i, j)];
                    }
                }
            }
            None => {
                let mut col = vec![0.0; d];
                for j in 0..d {
                    col.iter_mut().for_each(|c| *c = 0.0);
                    col[j] = 1.0;
                    self.solve(&mut col);
                    for i in 0..d {
                        out[i * d + j] = col[i];
                    }
                }
            }
        }
        for i in 0..d {
            for j in 0..i {
                let v = 0.5 * (out[i * d + j] + out[j * d + i]);
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
    fn large_path_agrees_with_the_small_one() {
        let d = 120;
        let a: Vec<f64> = (0..d * d)
            .map(|k| {
                let (i, j) = (k / d, k % d);
                if i == j { 2.0 + (i % 7) as f64 } else { 1.0 / (1.0 + (i as f64 - j as f64).abs()) }
            })
            .collect();
        let big = Cholesky::new(&a, d, 0.0).unwrap();
        assert!(big.llt.is_some());
        let inv = big.inverse();
        for i in (0..d).step_by(17) {
            for j in (0..d).step_by(13) {
                let v: f64 = (0..d).map(|k| a[i * d + k] * inv[k * d + j]).sum();
                assert!((v - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
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
