//! `saddle eval`: run a function on arguments and print its results as JSON.

use std::borrow::Cow;
use std::path::PathBuf;

use super::args::{arg_shapes, parse_args};
use super::json::arrays_json;
use super::{CliError, bind, load_program};

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
    let p = load_program(&a.file)?;
    let f = bind(Cow::Owned(p), a.func.as_deref(), || arg_shapes(&a.args, "--args"))?;
    let inputs = parse_args(&a.args, f.param_types(), "--args")?;
    let exe = saddle::runtime::compile(&f)?;
    let out = exe.run(&inputs)?;
    Ok(format!("{}\n", arrays_json(&out)))
}
