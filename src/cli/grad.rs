//! `saddle grad`: the gradient of the scalar first result with respect to one parameter.

use std::path::PathBuf;

use saddle::ir::{Func, verify_module};

use super::args::parse_args;
use super::json::array_json;
use super::{CliError, load_module};

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
}

pub fn run(a: Args) -> Result<String, CliError> {
    derivative(&a.file, a.func.as_deref(), &a.args, a.wrt, saddle::ad::grad)
}

/// Loads the function, builds `transform(f, wrt)`, evaluates it on the
/// arguments and prints its (only) result as JSON.
pub fn derivative(
    file: &std::path::Path,
    func: Option<&str>,
    args: &str,
    wrt: usize,
    transform: fn(&Func, usize) -> Result<Func, saddle::ad::Error>,
) -> Result<String, CliError> {
    let m = load_module(file)?;
    verify_module(&m).map_err(|e| CliError::msg(e.to_string()))?;
    let f = m.select(func)?;
    let d = transform(f, wrt).map_err(|e| CliError::msg(e.to_string()))?;
    let inputs = parse_args(args, f.param_types(), "--args")?;
    let exe = saddle::runtime::compile(&d).map_err(|e| CliError::msg(e.to_string()))?;
    let out = exe.run(&inputs).map_err(|e| CliError::msg(e.to_string()))?;
    Ok(format!("{}\n", array_json(&out[0])))
}
