//! `saddle check FILE`: parse, verify, print canonical text.

use std::path::PathBuf;

use saddle::ir::{PrintOptions, print_module_with, verify_module};

use super::{CliError, load_module};

#[derive(clap::Args)]
pub struct Args {
    /// The module (`.sir` text format).
    file: PathBuf,
    /// Print the dataflow graph of the function as Graphviz `dot` instead.
    #[arg(long)]
    dot: bool,
    /// With --dot: the function to draw (default: the first).
    #[arg(long = "func")]
    func: Option<String>,
    /// Append the source location of each statement as a comment.
    #[arg(long)]
    locs: bool,
}

pub fn run(a: Args) -> Result<String, CliError> {
    let m = load_module(&a.file)?;
    verify_module(&m).map_err(|e| CliError::msg(e.to_string()))?;
    if a.dot {
        let f = m.select(a.func.as_deref())?;
        return Ok(saddle::ir::graph::to_dot(f));
    }
    Ok(print_module_with(&m, PrintOptions { locations: a.locs }))
}
