//! `saddle lower`: lower a function to StableHLO.

use std::path::PathBuf;

use super::{CliError, load_program};

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

/// The targets `--to` accepts.
const TARGETS: &[&str] = &["stablehlo"];

pub fn run(a: Args) -> Result<String, CliError> {
    if !TARGETS.contains(&a.to.as_str()) {
        return Err(CliError::msg(format!(
            "unknown target `{}` for --to; expected one of: {}",
            a.to,
            TARGETS.join(", ")
        )));
    }
    let p = load_program(&a.file)?;
    let f = p.func(a.func.as_deref(), "lower needs numbers (write the extents as numbers in the file)")?;
    saddle::xla_lower::to_stablehlo(f).map_err(|e| CliError::msg(format!("{}: {e}", a.file.display())))
}
