//! The errors of the laplace crate: every diagnostic is a typed variant.

use saddle_ir::Location;

/// Why a Laplace approximation could not be computed.
///
/// Each diagnostic carries the numbers needed to act on it: the offending
/// coordinate, the last gradient norm, the eigenvalue and direction of a
/// Hessian that is not negative definite.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LaplaceError {
    /// The starting point has the wrong length.
    #[error("the starting point has {found} coordinate(s), the log density takes {expected}")]
    InitDimension {
        /// The dimension of the log density.
        expected: usize,
        /// The length of the starting point given.
        found: usize,
    },
    /// A coordinate of the starting point is NaN or infinite.
    #[error("the starting point is not finite (coordinate {index} is {value})")]
    NonFiniteStart {
        /// The first offending coordinate.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// The dense Hessian of this dimension, with the copies the
    /// factorisation and the covariance need, would not fit in the memory
    /// available; refused before anything is allocated.
    #[error(
        "a dense Hessian of dimension {dim} needs about {bytes} bytes (seven {dim}×{dim} matrices of \
         doubles: the Hessians, the precision, its factor and the covariances), more than the {available} \
         bytes available"
    )]
    TooLarge {
        /// The dimension.
        dim: usize,
        /// Bytes needed (estimate).
        bytes: u128,
        /// Bytes available to the process.
        available: u128,
    },
    /// The sparse factorisation of the precision would not fit in the
    /// memory available (estimated after the symbolic analysis, before
    /// any numeric work), or the Hessian's pattern is too dense to store.
    #[error(
        "a sparse fit of dimension {dim} needs about {bytes} bytes ({nnz} Hessian entries, {factor_nnz} \
         entries in the Cholesky factor), more than the {available} bytes available"
    )]
    SparseTooLarge {
        /// The dimension.
        dim: usize,
        /// Stored entries of the Hessian (lower triangle).
        nnz: usize,
        /// Entries of the Cholesky factor after the fill-reducing ordering.
        factor_nnz: usize,
        /// Bytes needed (estimate).
        bytes: u128,
        /// Bytes available to the process.
        available: u128,
    },
    /// Neither a dense nor a sparse Hessian fits: the dense one is too
    /// large and the density's Hessian is not sparse enough (or its
    /// pattern is not known).
    #[error("a Hessian of dimension {dim} cannot be held: {dense}; and no sparse Hessian is possible: {sparse}")]
    NoFeasibleHessian {
        /// The dimension.
        dim: usize,
        /// Why the dense Hessian does not fit.
        dense: String,
        /// Why the sparse path is not possible.
        sparse: String,
    },
    /// A sparse matrix pattern is malformed.
    #[error("invalid sparse pattern: {message}")]
    Structure {
        /// What is wrong.
        message: String,
    },
    /// The gradient became small but Newton's method kept moving: the log
    /// density has no maximum along some direction (it keeps increasing
    /// ever more slowly, as `-exp(-t)` does), so there is no mode to
    /// approximate.
    #[error(
        "no mode found after {iterations} iteration(s): the gradient norm is {grad_norm:e}, but a Newton \
         step from the last point still moves by {step:e} (the log density may have no maximum)"
    )]
    NoMode {
        /// Iterations done.
        iterations: usize,
        /// Infinity norm of the gradient at the last point.
        grad_norm: f64,
        /// Infinity norm of the Newton step from the last point.
        step: f64,
        /// The last point.
        last: Vec<f64>,
    },
    /// The log density has no parameters to approximate.
    #[error("the log density has no parameters (dimension 0)")]
    EmptyParameter,
    /// A coordinate constraint is malformed or the starting point violates it.
    #[error("coordinate {index}: {message}")]
    Constraint {
        /// The coordinate.
        index: usize,
        /// What is wrong.
        message: String,
    },
    /// A parameter block is malformed, or a point is outside its support.
    #[error("parameter block {block:?}: {message}")]
    Param {
        /// The block's name.
        block: String,
        /// What is wrong.
        message: String,
    },
    /// An option is out of range.
    #[error("invalid option {name}: {message}")]
    Options {
        /// The option's name.
        name: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The log density is NaN or infinite at the starting point.
    #[error("the log density is not finite at the starting point (it is {value})")]
    NonFiniteDensity {
        /// The value found.
        value: f64,
    },
    /// A gradient entry is NaN or infinite at the starting point.
    #[error("the gradient is not finite at the starting point (coordinate {index} is {value})")]
    NonFiniteGradient {
        /// The first offending coordinate.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// A Hessian entry is NaN or infinite at the mode.
    #[error("the Hessian is not finite at the mode (entry [{row}, {col}] is {value})")]
    NonFiniteHessian {
        /// Row of the first offending entry.
        row: usize,
        /// Column of the first offending entry.
        col: usize,
        /// Its value.
        value: f64,
    },
    /// The optimiser stopped at its iteration limit.
    #[error(
        "no convergence after {iterations} iteration(s): the gradient norm is {grad_norm:e} \
         (tolerance {tolerance:e}) at the last point"
    )]
    NoConvergence {
        /// Iterations done.
        iterations: usize,
        /// Infinity norm of the gradient at the last point.
        grad_norm: f64,
        /// The gradient tolerance asked for.
        tolerance: f64,
        /// The last point.
        last: Vec<f64>,
    },
    /// The optimiser cannot make progress (every trial step is rejected)
    /// far from a stationary point.
    #[error("the optimiser stalled after {iterations} iteration(s) with gradient norm {grad_norm:e}: {reason}")]
    Stalled {
        /// Iterations done.
        iterations: usize,
        /// Infinity norm of the gradient at the last point.
        grad_norm: f64,
        /// What happened.
        reason: String,
        /// The last point.
        last: Vec<f64>,
    },
    /// The Hessian of the log density at the mode is not negative definite,
    /// so there is no Gaussian approximation there.
    #[error(
        "the Hessian at the mode is not negative definite: the precision (negative Hessian) has \
         eigenvalue {eigenvalue:e} along direction {direction:?}"
    )]
    NotNegativeDefinite {
        /// The smallest eigenvalue of the precision `-∇²f` (≤ 0 or too small
        /// to factor).
        eigenvalue: f64,
        /// Its unit eigenvector.
        direction: Vec<f64>,
        /// The point where the Hessian was taken.
        mode: Vec<f64>,
    },
    /// Evaluating the log density failed.
    #[error("evaluating the log density failed: {0}")]
    Eval(String),
    /// The function given does not have the shape of a log density.
    #[error("{message}{}", loc.as_ref().map(|l| format!(" (at {l})")).unwrap_or_default())]
    Signature {
        /// What is wrong.
        message: String,
        /// Where, when known.
        loc: Option<Location>,
    },
    /// A random-effects model is malformed or its marginal cannot be
    /// approximated (see [`crate::RandomError`]).
    #[error(transparent)]
    Random(#[from] crate::RandomError),
    /// Tracing, differentiation or compilation failed.
    #[error("{stage} failed: {message}")]
    Build {
        /// Which stage: tracing, differentiation, simplification, compilation.
        stage: &'static str,
        /// The underlying message.
        message: String,
    },
    /// A sparse pattern, its values or a vector were refused, or a sparse
    /// factorisation could not be used.
    #[error(transparent)]
    Sparse(#[from] crate::sparse::SparseError),
}
