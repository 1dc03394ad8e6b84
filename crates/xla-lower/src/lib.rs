//! Lowers saddle IR to StableHLO, the input language of XLA, so that a
//! model written once for saddle runs on XLA's CPU, GPU and TPU backends.
//!
//! [`to_stablehlo`] turns one function into an MLIR module whose entry
//! point is `func.func public @main`; [`to_stablehlo_module`] lowers every
//! function of a module. Each op becomes plain StableHLO where StableHLO
//! has it (`dot_general`, `broadcast_in_dim`, `reduce`, `gather`,
//! `scatter`, `cholesky`, `triangular_solve`, ...) and CHLO where XLA
//! expects it (`chlo.lgamma`, `chlo.digamma`, `chlo.polygamma`,
//! `chlo.erf`). Constants are written exactly. What cannot be lowered
//! faithfully is an [`Error`], never broken text.
//!
//! ```
//! use saddle_ir::parse_module;
//! use saddle_xla_lower::to_stablehlo;
//!
//! let m = parse_module("f.sir", "func @f(%x: f64[3]) -> f64[] {
//!   %e: f64[3] = exp %x
//!   %s: f64[] = reduce_sum %e {axes = [0]}
//!   return %s
//! }").unwrap();
//! let mlir = to_stablehlo(&m.funcs[0]).unwrap();
//! assert!(mlir.contains("func.func public @main(%x: tensor<3xf64>) -> tensor<f64>"));
//! assert!(mlir.contains("%e = stablehlo.exponential %x : tensor<3xf64>"));
//! assert!(mlir.contains("applies stablehlo.add across dimensions = [0]"));
//! ```
//!
//! Where the lowered program can differ from saddle's run time (an index
//! out of range, a matrix that is not positive definite, integer division
//! by zero), saddle reports an error and XLA computes something: see
//! `docs/xla.md`.
#![warn(missing_docs)]

mod emit;
mod error;
mod ops;

use saddle_ir::{Func, Module};

pub use emit::{element_type, scalar_text, tensor_type};
pub use error::Error;

/// Lowers one function to an MLIR module in StableHLO, with the function
/// as `func.func public @main`.
///
/// The module's symbol is the function's name. Parameters and results keep
/// their order, so XLA's executable takes and returns the arrays saddle's
/// function does.
///
/// # Errors
/// [`Error::Ir`] if the function does not verify; [`Error::IndexOutOfRange`]
/// and [`Error::EmptyAxis`] for an indexing op that can never succeed.
pub fn to_stablehlo(f: &Func) -> Result<String, Error> {
    let body = emit::lower_func(f, "@main", "public")?;
    Ok(format!("{}{body}}}\n", module_header(f)))
}

/// Lowers every function of a module into one MLIR module: the function
/// `entry` (default: the first) as `func.func public @main`, the XLA entry
/// point, and each other function as `func.func public @NAME` under its
/// own name (a function that is not the entry but is called `main` is
/// written as `@main$`, so that symbols stay distinct).
///
/// ```
/// use saddle_ir::parse_module;
/// use saddle_xla_lower::to_stablehlo_module;
///
/// let m = parse_module("m.sir", "
///   func @f(%x: f64[]) -> f64[] { %y: f64[] = sin %x  return %y }
///   func @g(%x: f64[]) -> f64[] { %y: f64[] = cos %x  return %y }").unwrap();
/// let mlir = to_stablehlo_module(&m, Some("g")).unwrap();
/// assert!(mlir.contains("func.func public @main(%x: tensor<f64>)"));
/// assert!(mlir.contains("%y = stablehlo.cosine %x"));
/// assert!(mlir.contains("func.func public @f(%x: tensor<f64>)"));
/// ```
///
/// # Errors
/// As [`to_stablehlo`], for any function; [`Error::Ir`] when no function is
/// called `entry` or the module is empty.
pub fn to_stablehlo_module(m: &Module, entry: Option<&str>) -> Result<String, Error> {
    saddle_ir::verify_module(m)?;
    let main = m.select(entry)?;
    let mut out = module_header(main);
    out.push_str(&emit::lower_func(main, "@main", "public")?);
    for f in &m.funcs {
        if std::ptr::eq(f, main) {
            continue;
        }
        let name = if f.name() == "main" { "main$" } else { f.name() };
        out.push_str(&emit::lower_func(f, &emit::symbol(name), "public")?);
    }
    out.push_str("}\n");
    Ok(out)
}

/// `module @NAME {` after the entry function, or `module {` when it has no
/// name.
fn module_header(main: &Func) -> String {
    if main.name().is_empty() { "module {\n".to_string() } else { format!("module {} {{\n", emit::symbol(main.name())) }
}
