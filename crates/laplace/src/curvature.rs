//! How the optimiser holds and factors the precision (the negative
//! Hessian): a dense matrix with a dense Cholesky factorisation, or a
//! sparse one with a sparse factorisation analysed once per pattern.

use std::time::{Duration, Instant};

use crate::density::{Counted, LogDensity};
use crate::linalg::{Cholesky, matvec};
use crate::sparse::SparseCholesky;
use crate::{LaplaceError, SparseStructure};

/// The time spent in numeric factorisations, and how many were made.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FactorClock {
    pub(crate) time: Duration,
    pub(crate) count: usize,
}

/// The Hessian's storage and the factorisation of `-H + λI`.
pub(crate) enum Curvature {
    Dense {
        d: usize,
        /// The precision `-H`, row-major.
        prec: Vec<f64>,
        chol: Option<Cholesky>,
        /// The shift of `chol`, when it factors the loaded precision.
        factored: Option<f64>,
        clock: FactorClock,
    },
    Sparse {
        structure: SparseStructure,
        /// The precision's lower triangle, in the pattern's order.
        prec: Vec<f64>,
        /// Boxed: far larger than the dense variant's fields.
        chol: Box<SparseCholesky>,
        factored: Option<f64>,
        clock: FactorClock,
    },
}

impl Curvature {
    pub(crate) fn dense(d: usize) -> Curvature {
        Curvature::Dense { d, prec: vec![0.0; d * d], chol: None, factored: None, clock: FactorClock::default() }
    }

    /// The sparse storage for `structure`, with the symbolic analysis of
    /// its pattern.
    pub(crate) fn sparse(structure: SparseStructure, chol: SparseCholesky) -> Curvature {
        Curvature::Sparse {
            prec: vec![0.0; structure.nnz()],
            structure,
            chol: Box::new(chol),
            factored: None,
            clock: FactorClock::default(),
        }
    }

    pub(crate) fn is_sparse(&self) -> bool {
        matches!(self, Curvature::Sparse { .. })
    }

    /// Length of a Hessian in this storage.
    pub(crate) fn hess_len(&self) -> usize {
        match self {
            Curvature::Dense { d, .. } => d * d,
            Curvature::Sparse { structure, .. } => structure.nnz(),
        }
    }

    /// `f`, `∇f` and `∇²f` (in this storage) at `x`.
    pub(crate) fn evaluate<D: LogDensity + ?Sized>(
        &self,
        f: &mut Counted<'_, D>,
        x: &[f64],
        g: &mut [f64],
        h: &mut [f64],
    ) -> Result<f64, LaplaceError> {
        match self {
            Curvature::Dense { .. } => f.value_grad_hess(x, g, h),
            Curvature::Sparse { structure, .. } => f.value_grad_sparse_hess(x, g, structure, h),
        }
    }

    /// Loads the precision `-h` of a new point.
    pub(crate) fn load(&mut self, h: &[f64]) {
        let (prec, factored) = match self {
            Curvature::Dense { prec, factored, .. } | Curvature::Sparse { prec, factored, .. } => (prec, factored),
        };
        for (q, v) in prec.iter_mut().zip(h) {
            *q = -v;
        }
        *factored = None;
    }

    /// Factors the loaded precision plus `shift·I`; `false` when that is
    /// not positive definite. A factorisation with the same shift is kept.
    pub(crate) fn factor(&mut self, shift: f64) -> bool {
        let t = Instant::now();
        let (ok, clock) = match self {
            Curvature::Dense { factored, .. } | Curvature::Sparse { factored, .. } if *factored == Some(shift) => {
                return true;
            }
            Curvature::Dense { d, prec, chol, factored, clock } => {
                *chol = Cholesky::new(prec, *d, shift);
                *factored = chol.as_ref().map(|_| shift);
                (chol.is_some(), clock)
            }
            Curvature::Sparse { prec, chol, factored, clock, .. } => {
                // An error here (a length mismatch) cannot happen: the
                // storage was built for this pattern; it counts as a failed
                // factorisation.
                let ok = matches!(chol.factor(prec, shift), Ok(true));
                *factored = ok.then_some(shift);
                (ok, clock)
            }
        };
        clock.time += t.elapsed();
        clock.count += 1;
        ok
    }

    /// The shift of the factorisation held, when it factors the loaded
    /// precision.
    pub(crate) fn factored(&self) -> Option<f64> {
        match self {
            Curvature::Dense { factored, .. } | Curvature::Sparse { factored, .. } => *factored,
        }
    }

    /// The time spent in factorisations so far, and their number.
    pub(crate) fn clock(&self) -> FactorClock {
        match self {
            Curvature::Dense { clock, .. } | Curvature::Sparse { clock, .. } => *clock,
        }
    }

    /// Solves `(P + shift·I) x = b` in place with the last factorisation.
    pub(crate) fn solve(&self, b: &mut [f64]) {
        match self {
            Curvature::Dense { chol: Some(c), .. } => c.solve(b),
            Curvature::Dense { chol: None, .. } => b.iter_mut().for_each(|v| *v = f64::NAN),
            Curvature::Sparse { chol, .. } => {
                if chol.solve(b).is_err() {
                    b.iter_mut().for_each(|v| *v = f64::NAN);
                }
            }
        }
    }

    /// `out = P p` for the loaded precision `P`.
    pub(crate) fn prec_times(&self, p: &[f64], out: &mut [f64]) {
        match self {
            Curvature::Dense { prec, .. } => matvec(prec, p, out),
            Curvature::Sparse { structure, prec, .. } => structure.matvec(prec, p, out),
        }
    }

    /// The sparse factorisation of the loaded precision, when this is
    /// sparse storage factored with no shift.
    pub(crate) fn sparse_factor(&self) -> Option<&SparseCholesky> {
        match self {
            Curvature::Sparse { chol, factored: Some(shift), .. } if *shift == 0.0 => Some(chol),
            _ => None,
        }
    }

    /// The largest absolute diagonal entry of the loaded precision.
    pub(crate) fn diag_scale(&self) -> f64 {
        match self {
            Curvature::Dense { d, prec, .. } => (0..*d).map(|i| prec[i * d + i].abs()).fold(0.0_f64, f64::max),
            Curvature::Sparse { structure, prec, .. } => {
                (0..structure.dim()).map(|j| prec[structure.diagonal_position(j)].abs()).fold(0.0_f64, f64::max)
            }
        }
    }
}
