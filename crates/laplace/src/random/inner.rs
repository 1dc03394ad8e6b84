//! The inner problem of a random-effects model: the mode `û(θ)` of the log
//! density over the random effects for fixed θ, and the factor of
//! `−∇²ᵤf` there.
//!
//! Everything the marginal needs from the inner Hessian goes through
//! [`InnerFactor`]: its log determinant, solves, and the entries of its
//! inverse. It is dense here; a sparse factor (a compressed Hessian, a
//! sparse Cholesky and its selected inverse, which gives the inverse on
//! the Hessian's pattern alone) replaces this one type.

use crate::density::LogDensity;
use crate::linalg::{Cholesky, smallest_eigen};
use crate::{IrDensity, LaplaceError};

/// The last evaluation of the full log density `f(x)`, `x = (θ, u)`.
pub(super) struct Full {
    /// The point, with θ at the fixed coordinates and `u` at the random ones.
    pub(super) x: Vec<f64>,
    /// `f(x)`.
    pub(super) value: f64,
    /// `∇f(x)`, all `d` coordinates.
    pub(super) grad: Vec<f64>,
    /// `∇²f(x)`, `d × d` row-major.
    pub(super) hess: Vec<f64>,
    /// Whether `value`, `grad` and `hess` are those at `x`.
    pub(super) fresh: bool,
}

impl Full {
    pub(super) fn new(d: usize) -> Full {
        Full { x: vec![0.0; d], value: f64::NAN, grad: vec![0.0; d], hess: vec![0.0; d * d], fresh: false }
    }

    /// Evaluates `f`, its gradient and its Hessian at `self.x`.
    pub(super) fn evaluate(&mut self, density: &mut IrDensity) -> Result<(), LaplaceError> {
        self.fresh = false;
        self.value = density.value_grad_hess(&self.x, &mut self.grad, &mut self.hess)?;
        self.fresh = true;
        Ok(())
    }
}

/// The conditional log density `u ↦ f(θ, u)` for the θ held in `full.x`,
/// as the Newton optimiser sees it. Each evaluation is of the full
/// density, whose derivatives stay in `full` for the marginal's use.
pub(super) struct Conditional<'a> {
    pub(super) density: &'a mut IrDensity,
    pub(super) random: &'a [usize],
    pub(super) full: &'a mut Full,
}

impl Conditional<'_> {
    fn set(&mut self, u: &[f64]) {
        for (&i, &v) in self.random.iter().zip(u) {
            self.full.x[i] = v;
        }
        self.full.fresh = false;
    }
}

impl LogDensity for Conditional<'_> {
    fn dim(&self) -> usize {
        self.random.len()
    }

    fn value(&mut self, u: &[f64]) -> Result<f64, LaplaceError> {
        self.set(u);
        self.density.value(&self.full.x)
    }

    fn value_grad(&mut self, u: &[f64], grad: &mut [f64]) -> Result<f64, LaplaceError> {
        self.set(u);
        let v = self.density.value_grad(&self.full.x, &mut self.full.grad)?;
        for (g, &i) in grad.iter_mut().zip(self.random) {
            *g = self.full.grad[i];
        }
        Ok(v)
    }

    fn value_grad_hess(&mut self, u: &[f64], grad: &mut [f64], hess: &mut [f64]) -> Result<f64, LaplaceError> {
        self.set(u);
        self.full.evaluate(self.density)?;
        let (d, q) = (self.full.x.len(), self.random.len());
        for (a, &i) in self.random.iter().enumerate() {
            grad[a] = self.full.grad[i];
            for (b, &j) in self.random.iter().enumerate() {
                hess[a * q + b] = self.full.hess[i * d + j];
            }
        }
        Ok(self.full.value)
    }

    fn data_size(&self) -> usize {
        self.density.data_size()
    }
}

/// The factor of the inner precision `P = −∇²ᵤf` at the inner mode.
pub(super) struct InnerFactor {
    q: usize,
    chol: Cholesky,
}

/// Why the inner precision does not factor: its smallest eigenvalue and
/// the direction.
pub(super) struct NotPositive {
    pub(super) eigenvalue: f64,
    pub(super) direction: Vec<f64>,
}

impl InnerFactor {
    /// Factors `P` read from the random block of the full Hessian `hess`
    /// (`d × d`, row-major), symmetrised.
    pub(super) fn new(hess: &[f64], d: usize, random: &[usize]) -> Result<InnerFactor, NotPositive> {
        let q = random.len();
        let mut p = vec![0.0; q * q];
        for (a, &i) in random.iter().enumerate() {
            for (b, &j) in random.iter().enumerate() {
                p[a * q + b] = -0.5 * (hess[i * d + j] + hess[j * d + i]);
            }
        }
        match Cholesky::new(&p, q, 0.0) {
            Some(chol) => Ok(InnerFactor { q, chol }),
            None => {
                let (eigenvalue, direction) = smallest_eigen(&p, q).unwrap_or((f64::NAN, vec![f64::NAN; q]));
                Err(NotPositive { eigenvalue, direction })
            }
        }
    }

    /// `log det P`.
    pub(super) fn log_det(&self) -> f64 {
        self.chol.log_det()
    }

    /// Solves `P x = b` in place.
    pub(super) fn solve(&self, b: &mut [f64]) {
        self.chol.solve(b);
    }

    /// Calls `each(a, b, v)` with the entries `v = (P⁻¹)_ab` the marginal
    /// needs: those on the pattern of `P` (all of them, when dense).
    pub(super) fn inverse_entries(&self, mut each: impl FnMut(usize, usize, f64)) {
        let inv = self.chol.inverse();
        for a in 0..self.q {
            for b in 0..self.q {
                each(a, b, inv[a * self.q + b]);
            }
        }
    }

    /// The diagonal of `P⁻¹`.
    pub(super) fn inverse_diagonal(&self) -> Vec<f64> {
        let mut diag = vec![0.0; self.q];
        self.inverse_entries(|a, b, v| {
            if a == b {
                diag[a] = v;
            }
        });
        diag
    }
}
