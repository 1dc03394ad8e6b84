//! The IR crate's errors.

use std::fmt;

use crate::op::Arity;
use crate::{Location, TensorType, Value};

pub use crate::types::ShapeTooLarge;

/// An op applied to operands it cannot take: the typing rules' error.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TypeError {
    /// Wrong number of operands.
    #[error("{op} takes {expected} operand(s), found {found}")]
    Arity {
        /// The op.
        op: &'static str,
        /// What it takes.
        expected: Arity,
        /// What it was given.
        found: usize,
    },
    /// An operand whose type must equal another's does not.
    #[error("{op}: operand {operand} has type {found}, expected {expected}")]
    Mismatch {
        /// The op.
        op: &'static str,
        /// Position of the offending operand.
        operand: usize,
        /// Its type.
        found: Box<TensorType>,
        /// The type it must have.
        expected: Box<TensorType>,
    },
    /// An operand of a dtype the op does not accept.
    #[error("{op}: operand {operand} has type {found}, expected {expected}")]
    DType {
        /// The op.
        op: &'static str,
        /// Position of the offending operand.
        operand: usize,
        /// Its type.
        found: TensorType,
        /// The dtypes accepted, in words.
        expected: &'static str,
    },
    /// Attributes that do not fit the operands, or another rule broken.
    #[error("{op}: {message}")]
    Invalid {
        /// The op.
        op: &'static str,
        /// The operand at fault, when one is.
        operand: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// A result shape beyond the size limits.
    #[error(transparent)]
    TooLarge(#[from] ShapeTooLarge),
}

impl TypeError {
    /// An [`TypeError::Invalid`] not tied to one operand.
    pub fn invalid(op: &'static str, message: impl Into<String>) -> TypeError {
        TypeError::Invalid { op, operand: None, message: message.into() }
    }

    /// An [`TypeError::Invalid`] about operand `operand`.
    pub fn invalid_operand(op: &'static str, operand: usize, message: impl Into<String>) -> TypeError {
        TypeError::Invalid { op, operand: Some(operand), message: message.into() }
    }

    /// The operand at fault, when the error names one.
    pub fn operand(&self) -> Option<usize> {
        match self {
            TypeError::Mismatch { operand, .. } | TypeError::DType { operand, .. } => Some(*operand),
            TypeError::Invalid { operand, .. } => *operand,
            TypeError::Arity { .. } | TypeError::TooLarge(_) => None,
        }
    }
}

impl fmt::Display for Arity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arity::Exactly(n) => write!(f, "{n}"),
            Arity::AtLeast(n) => write!(f, "at least {n}"),
        }
    }
}

/// Errors from building, verifying, parsing and transforming IR.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Error {
    /// An ill-typed instruction, with the source location of the code that
    /// built it when known.
    #[error("{}{error}", loc_prefix(.loc))]
    Type {
        /// What is wrong.
        error: TypeError,
        /// Where the instruction was built.
        loc: Option<Location>,
    },
    /// An operand or result that names no earlier value.
    #[error("{what} refers to {value}, which is not defined before it")]
    UndefinedValue {
        /// The use, in words (`operand 1 of add`, `result 0`).
        what: String,
        /// The handle used.
        value: Value,
    },
    /// A parameter added after the first instruction.
    #[error("parameter added after the first instruction; parameters come first")]
    ParamAfterInst,
    /// A function must return at least one value.
    #[error("function @{0} returns no values; a function needs at least one result")]
    NoResults(String),
    /// A module with no functions.
    #[error("module has no functions")]
    EmptyModule,
    /// `--func NAME` or a lookup that names no function of the module.
    #[error("no function named @{0} in the module")]
    NoSuchFunction(String),
    /// Two functions with one name.
    #[error("function @{0} is defined twice")]
    DuplicateFunction(String),
    /// A parameter index beyond the function's parameters.
    #[error("function @{func} has {count} parameter(s); there is no parameter {index}")]
    NoSuchParam {
        /// The function.
        func: String,
        /// Its parameter count.
        count: usize,
        /// The index asked for.
        index: usize,
    },
    /// The text could not be parsed; each diagnostic carries its location.
    #[error(transparent)]
    Parse(#[from] crate::parse::ParseError),
    /// The verifier found problems.
    #[error(transparent)]
    Verify(#[from] crate::verify::VerifyError),
    /// A function of the distribution library (`dist`) instantiated with
    /// operands or attributes it cannot take.
    #[error("@{name} cannot take operands ({}): {message}", types_list(.args))]
    Library {
        /// The library function.
        name: String,
        /// The operand types it was given.
        args: Vec<TensorType>,
        /// What is wrong.
        message: String,
    },
    /// A pass broke one of its own invariants: a bug in saddle, reported
    /// instead of a panic in release builds.
    #[error("internal error in {pass}: {message} (this is a bug in saddle)")]
    Internal {
        /// The pass.
        pass: &'static str,
        /// What went wrong.
        message: String,
    },
}

fn types_list(types: &[TensorType]) -> String {
    types.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ")
}

fn loc_prefix(loc: &Option<Location>) -> String {
    match loc {
        Some(l) => format!("{l}: "),
        None => String::new(),
    }
}
