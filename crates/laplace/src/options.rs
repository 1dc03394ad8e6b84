//! Options of the approximation: the optimiser, its stopping rules, and the
//! explicit choices (jitter, convergence required).

use crate::LaplaceError;

/// Which optimiser finds the mode.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Method {
    /// Newton for dimension up to [`Options::newton_max_dim`], L-BFGS above.
    #[default]
    Auto,
    /// Newton's method on the exact Hessian with Levenberg–Marquardt
    /// damping (a trust region in the Hessian's metric), Cholesky-based.
    Newton,
    /// L-BFGS on the gradient alone, with a strong Wolfe line search; the
    /// Hessian is computed once, at the mode.
    Lbfgs {
        /// Number of correction pairs kept.
        memory: usize,
    },
}

/// Options of [`crate::laplace`].
///
/// ```
/// use saddle_laplace::{Method, Options};
/// let opts = Options { method: Method::Newton, grad_tol: 1e-10, ..Options::default() };
/// assert!(opts.jitter.is_none());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// The optimiser.
    pub method: Method,
    /// With [`Method::Auto`], the largest dimension solved by Newton.
    pub newton_max_dim: usize,
    /// Stop when the infinity norm of the gradient is at most this.
    pub grad_tol: f64,
    /// Stop when an undamped Newton step (or an L-BFGS step) moves no
    /// coordinate by more than `step_tol · (1 + ‖x‖∞)`.
    pub step_tol: f64,
    /// L-BFGS only: stop when the relative decrease of the log density over
    /// an iteration is at most this (0, the default, turns the rule off:
    /// it stops with a gradient of about the square root of the tolerance).
    pub rel_value_tol: f64,
    /// Iteration limit.
    pub max_iter: usize,
    /// If the precision (negative Hessian) at the mode cannot be factored,
    /// add up to this multiple of the identity (grown from a tiny value by
    /// factors of 10). `None` (the default) never regularises: a Hessian
    /// that is not negative definite is an error. Any jitter used is
    /// reported in the result.
    pub jitter: Option<f64>,
    /// When `true` (the default), stopping at the iteration limit is an
    /// error ([`LaplaceError::NoConvergence`]); when `false`, the
    /// approximation at the last point is returned with `converged: false`.
    pub require_convergence: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            method: Method::Auto,
            newton_max_dim: 400,
            grad_tol: 1e-8,
            step_tol: 1e-12,
            rel_value_tol: 0.0,
            max_iter: 200,
            jitter: None,
            require_convergence: true,
        }
    }
}

impl Options {
    pub(crate) fn check(&self) -> Result<(), LaplaceError> {
        let bad = |name, message: &str| Err(LaplaceError::Options { name, message: message.to_string() });
        if !(self.grad_tol >= 0.0) {
            return bad("grad_tol", "must be a number ≥ 0");
        }
        if !(self.step_tol >= 0.0) {
            return bad("step_tol", "must be a number ≥ 0");
        }
        if !(self.rel_value_tol >= 0.0) {
            return bad("rel_value_tol", "must be a number ≥ 0");
        }
        if let Some(j) = self.jitter {
            if !(j > 0.0 && j.is_finite()) {
                return bad("jitter", "must be a finite number > 0");
            }
        }
        if let Method::Lbfgs { memory: 0 } = self.method {
            return bad("method", "L-BFGS needs a memory of at least 1");
        }
        Ok(())
    }

    /// The method actually used for dimension `d`.
    pub fn resolve(&self, d: usize) -> Method {
        match self.method {
            Method::Auto if d <= self.newton_max_dim => Method::Newton,
            Method::Auto => Method::Lbfgs { memory: 10 },
            m => m,
        }
    }
}
