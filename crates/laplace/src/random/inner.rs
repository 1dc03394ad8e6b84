//! The inner problem of a random-effects model: the mode `û(θ)` of the log
//! density over the random effects for fixed θ, and the factor of
//! `−∇²ᵤf` there.
//!
//! The full density's Hessian is held one of two ways ([`Storage`]):
//! dense (`d × d`), or, sparse, its random block `H_uu` alone on the
//! pattern detected from the IR over the random effects (`split.rs`), as
//! the lower triangle of a compressed Hessian's entries. Everything the marginal
//! needs from the inner precision goes through [`InnerFactor`]: its log
//! determinant, solves, its diagonal inverse and, sparse, its selected
//! inverse (the inverse on the precision's own pattern, all the
//! derivative of the log determinant needs).

use crate::curvature::Curvature;
use crate::density::{LogDensity, gathered_sparse_hess};
use crate::linalg::{Cholesky, smallest_eigen};
use crate::sparse::SparseCholesky;
use crate::{IrDensity, LaplaceError, SparseStructure};

use super::split::Split;

/// How the full density's Hessian is held.
pub(super) enum Storage {
    /// `d × d`, row-major.
    Dense,
    /// `H_uu` alone, on the lower triangle of its pattern detected over the
    /// random effects.
    Sparse(Box<Split>),
}

/// The last evaluation of the full log density `f(x)`, `x = (θ, u)`.
pub(super) struct Full {
    /// The point, with θ at the fixed coordinates and `u` at the random ones.
    pub(super) x: Vec<f64>,
    /// `f(x)`.
    pub(super) value: f64,
    /// `∇f(x)`, all `d` coordinates (with sparse storage, the random ones
    /// alone).
    pub(super) grad: Vec<f64>,
    /// `∇²f(x)` as the storage holds it (allocated on the first evaluation):
    /// dense `d × d`, or sparse the entries of `H_uu` on its pattern.
    pub(super) hess: Vec<f64>,
    /// Whether `value`, `grad` and `hess` are those at `x`.
    pub(super) fresh: bool,
}

impl Full {
    pub(super) fn new(d: usize) -> Full {
        Full { x: vec![0.0; d], value: f64::NAN, grad: vec![0.0; d], hess: Vec::new(), fresh: false }
    }

    /// Evaluates `f`, its gradient and its Hessian at `self.x`.
    pub(super) fn evaluate(&mut self, density: &mut IrDensity, storage: &mut Storage) -> Result<(), LaplaceError> {
        self.fresh = false;
        let d = self.x.len();
        self.value = match storage {
            Storage::Dense => {
                self.hess.resize(d * d, 0.0);
                density.value_grad_hess(&self.x, &mut self.grad, &mut self.hess)?
            }
            Storage::Sparse(split) => {
                self.hess.resize(split.structure().nnz(), 0.0);
                split.evaluate(&self.x, &mut self.grad, &mut self.hess)?
            }
        };
        self.fresh = true;
        Ok(())
    }

    /// The precision `P = −∇²ᵤf` of the last evaluation, dense `q × q`
    /// row-major, symmetrised.
    pub(super) fn dense_precision(&self, storage: &Storage, random: &[usize]) -> Vec<f64> {
        let q = random.len();
        let mut p = vec![0.0; q * q];
        match storage {
            Storage::Dense => {
                let d = self.x.len();
                for (a, &i) in random.iter().enumerate() {
                    for (b, &j) in random.iter().enumerate() {
                        p[a * q + b] = -0.5 * (self.hess[i * d + j] + self.hess[j * d + i]);
                    }
                }
            }
            Storage::Sparse(split) => {
                for ((a, b), &h) in entries(split.structure()).zip(&self.hess) {
                    p[a * q + b] = -h;
                    p[b * q + a] = -h;
                }
            }
        }
        p
    }

    /// Calls `each(a, h)` for the entries `h = ∂²f/∂u_a∂θ_k` of the last
    /// evaluation with dense storage, `k` the position of the fixed effect
    /// `fixed[k]`.
    pub(super) fn dense_cross(&self, random: &[usize], fixed: &[usize], k: usize, mut each: impl FnMut(usize, f64)) {
        let d = self.x.len();
        for (a, &i) in random.iter().enumerate() {
            each(a, self.hess[i * d + fixed[k]]);
        }
    }
}

/// The entries `(row, column)` of a lower pattern, in its order.
fn entries(s: &SparseStructure) -> impl Iterator<Item = (usize, usize)> + '_ {
    (0..s.dim()).flat_map(move |j| (s.col_ptr()[j]..s.col_ptr()[j + 1]).map(move |k| (s.row_indices()[k], j)))
}

/// The conditional log density `u ↦ f(θ, u)` for the θ held in `full.x`,
/// as the Newton optimiser sees it. Each evaluation is of the full
/// density, whose derivatives stay in `full` for the marginal's use.
pub(super) struct Conditional<'a> {
    pub(super) density: &'a mut IrDensity,
    pub(super) random: &'a [usize],
    pub(super) full: &'a mut Full,
    pub(super) storage: &'a mut Storage,
}

impl Conditional<'_> {
    fn set(&mut self, u: &[f64]) {
        for (&i, &v) in self.random.iter().zip(u) {
            self.full.x[i] = v;
        }
        self.full.fresh = false;
    }

    /// Evaluates at `u`; the random part of the gradient into `grad`.
    fn evaluate(&mut self, u: &[f64], grad: &mut [f64]) -> Result<f64, LaplaceError> {
        self.set(u);
        self.full.evaluate(self.density, self.storage)?;
        for (g, &i) in grad.iter_mut().zip(self.random) {
            *g = self.full.grad[i];
        }
        Ok(self.full.value)
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
        let v = self.evaluate(u, grad)?;
        for (h, p) in hess.iter_mut().zip(self.full.dense_precision(self.storage, self.random)) {
            *h = -p;
        }
        Ok(v)
    }

    fn data_size(&self) -> usize {
        self.density.data_size()
    }

    fn hessian_structure(&mut self) -> Result<Option<SparseStructure>, LaplaceError> {
        Ok(match self.storage {
            Storage::Dense => None,
            Storage::Sparse(split) => Some(split.structure().clone()),
        })
    }

    fn value_grad_sparse_hess(
        &mut self,
        u: &[f64],
        grad: &mut [f64],
        structure: &SparseStructure,
        values: &mut [f64],
    ) -> Result<f64, LaplaceError> {
        match self.storage {
            Storage::Sparse(split) if split.structure() == structure => {
                let v = self.evaluate(u, grad)?;
                values.copy_from_slice(&self.full.hess);
                Ok(v)
            }
            _ => gathered_sparse_hess(self, u, grad, structure, values),
        }
    }
}

/// The factor of the inner precision `P = −∇²ᵤf` at the inner mode.
pub(super) enum InnerFactor {
    Dense {
        q: usize,
        chol: Cholesky,
    },
    /// Newton's sparse storage, factored at the mode with no shift; handed
    /// back to the next inner solve when done with.
    Sparse(Curvature),
}

/// Why the inner precision does not factor: its smallest eigenvalue and
/// the direction (when the precision is small enough to form densely;
/// `NaN` and empty otherwise).
pub(super) struct NotPositive {
    pub(super) eigenvalue: f64,
    pub(super) direction: Vec<f64>,
}

/// Above this many random effects, a precision that does not factor is
/// reported without its eigenvalue (which would need it dense).
const EIGEN_MAX_DIM: usize = 2000;

impl NotPositive {
    fn of(precision: impl FnOnce() -> Vec<f64>, q: usize) -> NotPositive {
        let (eigenvalue, direction) = if q <= EIGEN_MAX_DIM {
            smallest_eigen(&precision(), q).unwrap_or((f64::NAN, vec![f64::NAN; q]))
        } else {
            (f64::NAN, Vec::new())
        };
        NotPositive { eigenvalue, direction }
    }
}

impl InnerFactor {
    /// Factors `P` at the last evaluation in `full`: densely, or (with
    /// sparse storage) in `curvature`, the sparse storage of Newton over
    /// the random block, which the factor then holds (and which stays in
    /// `curvature` when `P` does not factor). Called right after the inner
    /// Newton, whose own factor at its end point is reused.
    pub(super) fn new(
        full: &Full,
        storage: &Storage,
        random: &[usize],
        curvature: &mut Option<Curvature>,
    ) -> Result<InnerFactor, NotPositive> {
        let q = random.len();
        if let (Storage::Sparse(_), Some(mut sparse)) = (storage, curvature.take()) {
            // Newton ends by factoring, unshifted, the precision at the
            // point it returns (its convergence test), which is where
            // `full` is: that factor serves when it succeeded.
            if sparse.factored() == Some(0.0) {
                return Ok(InnerFactor::Sparse(sparse));
            }
            sparse.load(&full.hess);
            if sparse.factor(0.0) {
                return Ok(InnerFactor::Sparse(sparse));
            }
            *curvature = Some(sparse);
            return Err(NotPositive::of(|| full.dense_precision(storage, random), q));
        }
        let p = full.dense_precision(storage, random);
        match Cholesky::new(&p, q, 0.0) {
            Some(chol) => Ok(InnerFactor::Dense { q, chol }),
            None => Err(NotPositive::of(|| p, q)),
        }
    }

    /// The sparse factor, when this is one.
    fn sparse(&self) -> Option<&SparseCholesky> {
        match self {
            InnerFactor::Sparse(curvature) => curvature.sparse_factor(),
            InnerFactor::Dense { .. } => None,
        }
    }

    /// `log det P`.
    pub(super) fn log_det(&self) -> Result<f64, LaplaceError> {
        match self {
            InnerFactor::Dense { chol, .. } => Ok(chol.log_det()),
            InnerFactor::Sparse(_) => self.sparse().ok_or_else(not_factored)?.log_det(),
        }
    }

    /// Solves `P x = b` in place.
    pub(super) fn solve(&self, b: &mut [f64]) -> Result<(), LaplaceError> {
        match self {
            InnerFactor::Dense { chol, .. } => {
                chol.solve(b);
                Ok(())
            }
            InnerFactor::Sparse(_) => self.sparse().ok_or_else(not_factored)?.solve(b),
        }
    }

    /// `P⁻¹`, dense `q × q` row-major (dense factors only).
    pub(super) fn dense_inverse(&self) -> Option<Vec<f64>> {
        match self {
            InnerFactor::Dense { chol, .. } => Some(chol.inverse()),
            InnerFactor::Sparse(_) => None,
        }
    }

    /// The entries of `P⁻¹` on the pattern of `P`, in its order (sparse
    /// factors only).
    pub(super) fn selected_inverse(&self) -> Result<Vec<f64>, LaplaceError> {
        self.sparse().ok_or_else(not_factored)?.selected_inverse()
    }

    /// The diagonal of `P⁻¹`.
    pub(super) fn inverse_diagonal(&self) -> Result<Vec<f64>, LaplaceError> {
        match self {
            InnerFactor::Dense { q, chol } => {
                let inv = chol.inverse();
                Ok((0..*q).map(|a| inv[a * q + a]).collect())
            }
            InnerFactor::Sparse(_) => self.sparse().ok_or_else(not_factored)?.inverse_diagonal(),
        }
    }

    /// The sparse storage, for the next inner solve.
    pub(super) fn into_curvature(self) -> Option<Curvature> {
        match self {
            InnerFactor::Sparse(curvature) => Some(curvature),
            InnerFactor::Dense { .. } => None,
        }
    }
}

fn not_factored() -> LaplaceError {
    LaplaceError::Eval("the inner precision has no factorisation".into())
}
