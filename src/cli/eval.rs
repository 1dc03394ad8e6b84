//! `saddle eval`: run a function on arguments and print its results as JSON.

use std::path::PathBuf;

use saddle::ir::verify_module;

use super::args::parse_args;
use super::json::arrays_json;
use super::{CliError, load_module};

#[derive(clap::Args)]
pub struct Args {
    /// The module (`.sir` text format).
    pub file: PathBuf,
    /// The function to use (default: the first).
    #[arg(long = "func")]
    pub func: Option<String>,
    /// Arguments: JSON text or @PATH (see ARGS in the command-line contract).
    #[arg(long)]
    pub args: String,
}

pub fn run(a: Args) -> Result<String, CliError> {
    let m = load_module(&a.file)?;
    verify_module(&m).map_err(|e| CliError::msg(e.to_string()))?;
    let f = m.select(a.func.as_deref())?;
    let inputs = parse_args(&a.args, f.param_types(), "--args")?;
    let exe = saddle::runtime::compile(f)?;
    let out = exe.run(&inputs)?;
    Ok(format!("{}\n", arrays_json(&out)))
}
