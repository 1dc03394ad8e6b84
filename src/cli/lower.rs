//! `saddle lower`: lower a function to StableHLO.

use std::path::PathBuf;

use super::CliError;

#[derive(clap::Args)]
pub struct Args {
    /// The module (`.sir` text format).
    pub file: PathBuf,
    /// The function to use (default: the first).
    #[arg(long = "func")]
    pub func: Option<String>,
    /// Target dialect.
    #[arg(long, default_value = "stablehlo")]
    pub to: String,
}

pub fn run(_a: Args) -> Result<String, CliError> {
    Err(CliError::msg("`saddle lower` is not available yet"))
}
