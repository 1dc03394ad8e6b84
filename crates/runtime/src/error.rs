//! The runtime's errors.

use saddle_ir::TensorType;

/// Why a function could not be compiled or run.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Error {
    /// The function is not valid IR.
    #[error(transparent)]
    Verify(#[from] saddle_ir::VerifyError),
    /// Wrong number of arguments.
    #[error("function @{func} takes {expected} argument(s), found {found}")]
    ArgCount {
        /// The function.
        func: String,
        /// Its parameter count.
        expected: usize,
        /// Arguments given.
        found: usize,
    },
    /// An argument whose dtype or shape differs from its parameter's.
    #[error("argument {index} of @{func} has type {found}, expected {expected}")]
    ArgType {
        /// The function.
        func: String,
        /// Position of the argument.
        index: usize,
        /// The parameter's type.
        expected: Box<TensorType>,
        /// The argument's type.
        found: Box<TensorType>,
    },
    /// An output buffer handed to [`crate::Executable::run_into`] whose
    /// type differs from the result's.
    #[error("output {index} of @{func} has type {found}, expected {expected}")]
    OutputType {
        /// The function.
        func: String,
        /// Position of the output.
        index: usize,
        /// The result's type.
        expected: Box<TensorType>,
        /// The buffer's type.
        found: Box<TensorType>,
    },
    /// Wrong number of output buffers for [`crate::Executable::run_into`].
    #[error("function @{func} has {expected} result(s), found {found} output buffer(s)")]
    OutputCount {
        /// The function.
        func: String,
        /// Its result count.
        expected: usize,
        /// Buffers given.
        found: usize,
    },
    /// An index outside its axis in `take` or `segment_sum`.
    #[error("{op} at {at}: index {index} is out of range for an axis of extent {extent}")]
    IndexOutOfRange {
        /// `take` or `segment_sum`.
        op: &'static str,
        /// The instruction (`%name` or `value #N`).
        at: String,
        /// The offending index.
        index: i64,
        /// The extent of the indexed axis.
        extent: usize,
    },
    /// Integer division by zero.
    #[error("{op} at {at}: integer division by zero")]
    DivisionByZero {
        /// The op (`div`).
        op: &'static str,
        /// The instruction (`%name` or `value #N`).
        at: String,
    },
    /// Memory that the machine cannot give, refused before allocating.
    #[error("{what} needs {bytes} bytes, more than the {limit} bytes of memory available")]
    OutOfMemory {
        /// What needed it.
        what: String,
        /// Bytes needed.
        bytes: u128,
        /// Bytes available.
        limit: u128,
    },
    /// The linear-algebra backend failed.
    #[error("{op} at {at}: {message}")]
    Backend {
        /// The op.
        op: &'static str,
        /// The instruction.
        at: String,
        /// What the backend reported.
        message: String,
    },
    /// A broken internal invariant: a bug in saddle, never the input's fault.
    #[error("internal error: {message}")]
    Internal {
        /// What went wrong.
        message: String,
    },
}
