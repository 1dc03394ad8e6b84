//! `saddle grad`: the gradient of the scalar first result with respect to one parameter.

use std::borrow::Cow;
use std::path::PathBuf;

use saddle::ir::{Array, Func};

use super::args::{arg_shapes, parse_args};
use super::json::array_json;
use super::{CliError, bind, load_program};

#[derive(clap::Args)]
pub struct Args {
    /// The module (`.sir` text format).
    pub file: PathBuf,
    /// The function to use (default: the first).
    #[arg(long = "func")]
    pub func: Option<String>,
    /// Arguments: JSON text or @PATH.
    #[arg(long)]
    pub args: String,
    /// The parameter to differentiate with respect to.
    #[arg(long, default_value_t = 0)]
    pub wrt: usize,
    /// Compile the derivative as the AD transformation gives it, without
    /// the equality-saturation simplifier (CSE and DCE only).
    #[arg(long)]
    pub no_simplify: bool,
}

pub fn run(a: Args) -> Result<String, CliError> {
    derivative(&a.file, a.func.as_deref(), &a.args, a.wrt, !a.no_simplify, ("gradient", saddle::ad::grad))
}

/// A derivative the CLI prints: what it is called in messages, and the
/// transformation that builds it from the function and the parameter.
pub type Derivative = (&'static str, fn(&Func, usize) -> Result<Func, saddle::ad::Error>);

/// Loads the function, builds `transform(f, wrt)`, compiles it (simplified
/// unless `simplify` is false), evaluates it on the arguments and prints
/// its (only) result as JSON.
pub fn derivative(
    file: &std::path::Path,
    func: Option<&str>,
    args: &str,
    wrt: usize,
    simplify: bool,
    (what, transform): Derivative,
) -> Result<String, CliError> {
    let p = load_program(file)?;
    let f = &bind(Cow::Owned(p), func, || arg_shapes(args, "--args"))?;
    let d = transform(f, wrt).map_err(|e| CliError::msg(e.to_string()))?;
    let inputs = parse_args(args, f.param_types(), "--args")?;
    let opts = saddle::runtime::CompileOptions { simplify, ..Default::default() };
    let exe = saddle::runtime::compile_with(&d, &opts).map_err(|e| CliError::msg(e.to_string()))?;
    let out = exe.run(&inputs).map_err(|e| in_user_terms(f, &inputs, e, what))?;
    Ok(format!("{}\n", array_json(&out[0])))
}

/// A run-time error of a derived function, told in terms of the function
/// the user wrote: the derived function keeps the original's checks, so
/// when it fails, the original fails on the same arguments too, and that
/// error names the user's instruction (`take at %y`), which is given with
/// its location, rather than an instruction of the derivative
/// (`segment_sum at value #3`).
fn in_user_terms(f: &Func, inputs: &[Array], derived: saddle::runtime::Error, what: &str) -> CliError {
    let Err(original) = saddle::runtime::reference::eval(f, inputs) else {
        return CliError::msg(derived.to_string());
    };
    let at = match &original {
        saddle::runtime::Error::IndexOutOfRange { op, at, .. }
        | saddle::runtime::Error::DivisionByZero { op, at }
        | saddle::runtime::Error::Backend { op, at, .. } => location_of(f, op, at),
        _ => None,
    };
    let mut err = CliError::msg(match at {
        Some(loc) => format!("{loc}: {original}"),
        None => original.to_string(),
    });
    err.messages.push(format!("the {what} of @{} cannot be computed where @{} itself fails", f.name(), f.name()));
    err
}

/// Where the instruction `op` that defines `%name` (`at`) is in the
/// source, when `f` knows.
fn location_of(f: &Func, op: &str, at: &str) -> Option<saddle::ir::Location> {
    let name = at.strip_prefix('%')?;
    f.iter_insts().find(|(v, inst)| inst.op.name() == op && f.value_name(*v) == Some(name)).and_then(|(v, _)| f.loc(v))
}
