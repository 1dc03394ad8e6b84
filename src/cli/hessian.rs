//! `saddle hessian`: the Hessian of the scalar first result with respect to one parameter.

use std::path::PathBuf;

use super::CliError;

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

pub fn run(_a: Args) -> Result<String, CliError> {
    Err(CliError::msg("`saddle hessian` is not available yet"))
}
