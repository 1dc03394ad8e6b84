//! `saddle opt`: apply transformation and clean-up passes in order.

use std::path::PathBuf;

use super::CliError;

#[derive(clap::Args)]
pub struct Args {
    /// The module (`.sir` text format).
    pub file: PathBuf,
    /// The function to use (default: the first).
    #[arg(long = "func")]
    pub func: Option<String>,
    /// A pass: jvp, vjp, grad[=K], value_and_grad[=K], hessian[=K], jacfwd[=K], jacrev[=K], vmap=SIZE, simplify, dce.
    #[arg(short = 'p', long = "pass", required = true)]
    pub passes: Vec<String>,
    /// Print op counts before and after on stderr.
    #[arg(long)]
    pub stats: bool,
}

pub fn run(_a: Args) -> Result<String, CliError> {
    Err(CliError::msg("`saddle opt` is not available yet"))
}
