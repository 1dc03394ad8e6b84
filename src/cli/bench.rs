//! `saddle bench`: compile once, call many times, report timings as JSON.

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
    /// Passes applied before compiling (as for `saddle opt`).
    #[arg(short = 'p', long = "pass")]
    pub passes: Vec<String>,
    /// Number of timed calls.
    #[arg(long, default_value_t = 1000)]
    pub repeat: usize,
}

pub fn run(_a: Args) -> Result<String, CliError> {
    Err(CliError::msg("`saddle bench` is not available yet"))
}
