//! `saddle eval`: run a function on arguments and print its results as JSON.

use std::path::PathBuf;

use super::CliError;

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

pub fn run(_a: Args) -> Result<String, CliError> {
    Err(CliError::msg("`saddle eval` is not available yet"))
}
