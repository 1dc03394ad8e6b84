//! `saddle check FILE`: parse, verify, print canonical text.

use std::path::PathBuf;

use saddle::ir::PrintOptions;

use super::{CliError, load_program};

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
    let p = load_program(&a.file)?;
    for f in p.concrete_funcs() {
        saddle::ir::verify(f).map_err(|e| CliError::msg(e.to_string()))?;
    }
    if a.dot {
        let f = p.func(a.func.as_deref(), "check --dot needs numbers (write the extents as numbers in the file)")?;
        return Ok(saddle::ir::graph::to_dot(f));
    }
    Ok(p.print(PrintOptions { locations: a.locs }))
}
