//! Options of the approximation: the optimiser, its stopping rules, and the
//! explicit choices (jitter, convergence required).

use crate::LaplaceError;

/// Which optimiser finds the mode.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Method {
    /// Newton when the Hessian is cheap: dimension up to
    /// [`Options::newton_max_dim`] and estimated work of one Hessian up to
    /// [`Options::newton_max_work`]; L-BFGS otherwise (large dimension, or
    /// large data), with the Hessian once at the mode.
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
    /// BFGS on a dense inverse Hessian, started from the exact Hessian at
    /// the initial point (so the first step is Newton's), with the strong
    /// Wolfe line search; Newton's test on the exact Hessian at the end.
    /// Two exact Hessians in all: for a few coordinates whose Hessian
    /// costs many gradients, such as the marginal of a random-effects
    /// model (the default of its outer fit under `Auto`).
    Bfgs,
}

/// How the Hessian is held: dense, or sparse with a sparse Cholesky
/// factorisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum HessianMode {
    /// Dense below [`Options::sparse_min_dim`] coordinates. From there,
    /// sparse when the density knows its Hessian's pattern
    /// ([`crate::LogDensity::hessian_structure`]) and at most
    /// [`Options::sparse_max_density`] of the entries are in it, or when
    /// the dense Hessian would not fit in memory; dense otherwise.
    #[default]
    Auto,
    /// Always dense.
    Dense,
    /// Always sparse: Newton's method with a sparse Cholesky
    /// factorisation (a density that does not know its pattern is taken
    /// as dense, stored sparse).
    Sparse,
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
    /// With [`Method::Auto`], the largest `d · (d + n)` solved by Newton,
    /// with `n` the density's [`crate::LogDensity::data_size`]: a
    /// Hessian by forward over reverse costs about `d` gradients, and a
    /// gradient reads the `d` parameters and the `n` data values, so this
    /// estimates one Hessian's work. Newton evaluates a Hessian at every
    /// iteration (about 6 to 8 for a regression from zero), L-BFGS one at
    /// the mode after 10 to 30 gradients; above this work Newton's extra
    /// Hessians cost more than L-BFGS's gradients (default 2²⁰, a Hessian
    /// of about a millisecond).
    pub newton_max_work: usize,
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
    /// Dense or sparse Hessians.
    pub hessian: HessianMode,
    /// With [`HessianMode::Auto`], the smallest dimension for which the
    /// density's pattern is asked for (default 1,000: below it a dense
    /// Hessian costs little).
    pub sparse_min_dim: usize,
    /// With [`HessianMode::Auto`], the largest fraction of the `d²`
    /// entries of the Hessian in its pattern for which the sparse path is
    /// taken (default 0.05).
    pub sparse_max_density: f64,
    /// Form the dense covariance even above
    /// [`Options::covariance_max_dim`] coordinates (`std` is always
    /// there; the covariance of 10⁵ coordinates takes 80 GB).
    pub full_covariance: bool,
    /// Above this many coordinates the covariance is left out unless
    /// [`Options::full_covariance`] is set (default 2,000).
    pub covariance_max_dim: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            method: Method::Auto,
            newton_max_dim: 400,
            newton_max_work: 1 << 20,
            grad_tol: 1e-8,
            step_tol: 1e-12,
            rel_value_tol: 0.0,
            max_iter: 200,
            jitter: None,
            require_convergence: true,
            hessian: HessianMode::Auto,
            sparse_min_dim: 1000,
            sparse_max_density: 0.05,
            full_covariance: false,
            covariance_max_dim: 2000,
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
        if !(0.0..=1.0).contains(&self.sparse_max_density) {
            return bad("sparse_max_density", "must be a number in [0, 1]");
        }
        if let Method::Lbfgs { memory: 0 } = self.method {
            return bad("method", "L-BFGS needs a memory of at least 1");
        }
        Ok(())
    }

    /// The method actually used for dimension `d` and `data_size` values
    /// of data.
    ///
    /// ```
    /// use saddle_laplace::{Method, Options};
    /// let o = Options::default();
    /// assert_eq!(o.resolve(2, 0), Method::Newton);
    /// // Logistic regression with 10⁵ rows of 50 covariates: L-BFGS, one Hessian.
    /// assert_eq!(o.resolve(50, 100_000 * 51), Method::Lbfgs { memory: 10 });
    /// ```
    pub fn resolve(&self, d: usize, data_size: usize) -> Method {
        let work = d.saturating_mul(d.saturating_add(data_size));
        match self.method {
            Method::Auto if d <= self.newton_max_dim && work <= self.newton_max_work => Method::Newton,
            Method::Auto => Method::Lbfgs { memory: 10 },
            m => m,
        }
    }
}
