//! The saddle IR: a typed, statically shaped, straight-line SSA form for
//! numerical functions, with the tools every other saddle crate builds on.
//!
//! - [`Func`] and [`Module`]: values in arenas with small typed handles
//!   ([`Value`]); parameters first, then one value per instruction, so
//!   operands always refer to earlier values.
//! - [`Op`]: the closed set of operations, each with its typing rule.
//! - [`trace()`]: the tracing frontend. Write a Rust closure over
//!   [`Tensor`]s; get a [`Func`].
//! - [`parse_module`] and [`print_module`]: the `.sir` text format.
//! - [`verify()`]: one forward scan that reports every problem.
//! - [`dist`]: log densities with their constants and stable helpers;
//! - [`passes`]: DCE and CSE; [`simplify`]: equality saturation with egg.
//!
//! ```
//! use saddle_ir::{trace, TensorType, print_func};
//!
//! // The logistic function, traced from Rust.
//! let f = trace("logistic", &[TensorType::f64([])], |x| {
//!     let x = x[0];
//!     vec![1.0 / (1.0 + (-x).exp())]
//! })
//! .unwrap();
//! assert!(print_func(&f).contains("= exp"));
//! ```
#![warn(missing_docs)]

mod builder;
pub mod dist;
mod dtype;
mod error;
mod func;
pub mod graph;
mod literal;
pub mod math;
pub mod op;
pub mod parse;
pub mod passes;
mod print;
pub mod simplify;
#[cfg(feature = "testing")]
pub mod testing;
pub mod trace;
mod types;
mod verify;

pub use builder::FuncBuilder;
pub use dtype::DType;
pub use error::{Error, ShapeTooLarge, TypeError};
pub use func::{Args, Func, Inst, Location, Module, Value};
pub use literal::{Array, Literal, Scalar};
pub use op::Op;
pub use parse::{
    Diagnostic, MAX_DIAGNOSTICS, ParseError, Program, ProgramError, parse_func, parse_module, parse_module_bytes,
    parse_program, parse_program_bytes,
};
pub use print::{
    PrintOptions, attrs, literal_text, print_func, print_func_with, print_module, print_module_with, value_names,
};
pub use trace::{Tensor, Tracer, trace};
pub use types::{MAX_ELEMENTS, MAX_RANK, Shape, ShapeDisplay, TensorType};
pub use verify::{MAX_PROBLEMS, Problem, VerifyError, verify, verify_module};
