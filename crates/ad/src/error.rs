//! The errors of the AD and batching transformations.

use saddle_ir::TensorType;

/// Why a transformation refused its input.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Error {
    /// A parameter index beyond the function's parameters.
    #[error("function @{func} has {count} parameter(s); there is no parameter {index}")]
    NoSuchParam {
        /// The function.
        func: String,
        /// How many parameters it has.
        count: usize,
        /// The index asked for.
        index: usize,
    },
    /// Differentiation with respect to a parameter that carries no
    /// derivative (an integer or bool).
    #[error(
        "cannot differentiate @{func} with respect to parameter {index} of type {ty}: only float parameters have derivatives"
    )]
    NotFloat {
        /// The function.
        func: String,
        /// The parameter.
        index: usize,
        /// Its type.
        ty: TensorType,
    },
    /// `grad`, `value_and_grad` and `hessian` need a scalar float first
    /// result.
    #[error("{transform} needs a scalar float first result, but @{func} returns {ty} first")]
    NonScalarResult {
        /// The transformation asked for.
        transform: &'static str,
        /// The function.
        func: String,
        /// The type of its first result.
        ty: TensorType,
    },
    /// The first result carries no derivative (an integer or bool).
    #[error("{transform} needs a float first result, but @{func} returns {ty} first")]
    NonFloatResult {
        /// The transformation asked for.
        transform: &'static str,
        /// The function.
        func: String,
        /// The type of its first result.
        ty: TensorType,
    },
    /// Transposition met an instruction that is not linear in the values
    /// being transposed.
    #[error("cannot transpose {op}: {reason}")]
    NotLinear {
        /// The op.
        op: &'static str,
        /// Why it is not linear.
        reason: String,
    },
    /// The number of entries of an argument list does not match.
    #[error("{what}: expected {expected} entries, found {found}")]
    Count {
        /// Which list.
        what: &'static str,
        /// How many it needs.
        expected: usize,
        /// How many it has.
        found: usize,
    },
    /// A bad batch axis or size for `vmap`.
    #[error("vmap: {0}")]
    Batch(String),
    /// The transformed IR failed to build or verify (an internal error:
    /// every rule produces well-typed IR for well-typed input).
    #[error("internal error while building the transformed function: {0}")]
    Ir(#[from] saddle_ir::Error),
    /// A broken invariant of this crate (a bug, reported instead of a
    /// panic).
    #[error("internal error: {0}")]
    Internal(String),
    /// The input is not valid IR.
    #[error(transparent)]
    Invalid(#[from] saddle_ir::VerifyError),
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, Error>;
