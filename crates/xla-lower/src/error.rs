//! The lowering's errors.

/// Why a function could not be lowered to StableHLO.
///
/// The lowering never returns text that XLA would refuse: anything it
/// cannot express faithfully is one of these errors instead.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Error {
    /// The function is not valid IR (it fails [`saddle_ir::verify()`]), or a
    /// module lookup failed.
    #[error(transparent)]
    Ir(#[from] saddle_ir::Error),
    /// A constant index of `take` or `segment_sum` that is out of range.
    ///
    /// In saddle an out-of-range index is a run-time error; XLA's gather
    /// would clamp it and its scatter would drop it, so a constant index
    /// known to be out of range is refused here rather than lowered to a
    /// program that computes something else.
    #[error("{op} %{value}: index {index} at position {position} is out of range for an axis of extent {extent}")]
    IndexOutOfRange {
        /// The op (`take` or `segment_sum`).
        op: &'static str,
        /// The name of the value the op defines, as printed.
        value: String,
        /// The offending index.
        index: i64,
        /// Its row-major position in the index tensor.
        position: usize,
        /// The extent of the indexed axis.
        extent: usize,
    },
    /// A `take` from, or a `segment_sum` into, an axis of extent 0 with at
    /// least one index: no index can be in range, so saddle's run time
    /// always fails, and XLA cannot express the op.
    #[error("{op} %{value}: indexes an axis of extent 0, so no index is in range")]
    EmptyAxis {
        /// The op (`take` or `segment_sum`).
        op: &'static str,
        /// The name of the value the op defines, as printed.
        value: String,
    },
}

impl From<saddle_ir::VerifyError> for Error {
    fn from(e: saddle_ir::VerifyError) -> Error {
        Error::Ir(saddle_ir::Error::Verify(e))
    }
}
