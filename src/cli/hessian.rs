//! `saddle hessian`: the Hessian of the scalar first result with respect to one parameter.

use std::path::PathBuf;

use super::CliError;
use super::grad::derivative;

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
    /// Compile the Hessian as the AD transformation gives it, without the
    /// equality-saturation simplifier (CSE and DCE only).
    #[arg(long)]
    pub no_simplify: bool,
}

pub fn run(a: Args) -> Result<String, CliError> {
    derivative(&a.file, a.func.as_deref(), &a.args, a.wrt, !a.no_simplify, ("Hessian", saddle::ad::hessian))
}
