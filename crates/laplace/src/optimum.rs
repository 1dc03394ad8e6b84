//! What an optimiser returns.

use crate::LaplaceError;
use crate::Options;
use crate::linalg::norm_inf;

/// The end point of an optimiser run.
pub(crate) struct Optimum {
    pub(crate) x: Vec<f64>,
    pub(crate) value: f64,
    pub(crate) grad: Vec<f64>,
    /// The Hessian at `x` when the optimiser has it.
    pub(crate) hess: Option<Vec<f64>>,
    pub(crate) iterations: usize,
    pub(crate) converged: bool,
}

impl Optimum {
    /// The iteration limit was hit: an error, or a flagged result.
    pub(crate) fn unconverged(
        x: Vec<f64>,
        value: f64,
        grad: Vec<f64>,
        hess: Option<Vec<f64>>,
        iterations: usize,
        opts: &Options,
    ) -> Result<Optimum, LaplaceError> {
        if opts.require_convergence {
            return Err(LaplaceError::NoConvergence {
                iterations,
                grad_norm: norm_inf(&grad),
                tolerance: opts.grad_tol,
                last: x,
            });
        }
        Ok(Optimum { x, value, grad, hess, iterations, converged: false })
    }
}

/// The diagnostics of the starting point.
pub(crate) fn check_start(value: f64, grad: &[f64]) -> Result<(), LaplaceError> {
    if !value.is_finite() {
        return Err(LaplaceError::NonFiniteDensity { value });
    }
    if let Some((index, &value)) = grad.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(LaplaceError::NonFiniteGradient { index, value });
    }
    Ok(())
}
