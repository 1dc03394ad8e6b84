//! `saddle laplace`: Laplace approximation of a log density.

use std::path::PathBuf;

use super::CliError;

#[derive(clap::Args)]
pub struct Args {
    /// The module (`.sir` text format).
    pub file: PathBuf,
    /// The function to use (default: the first).
    #[arg(long = "func")]
    pub func: Option<String>,
    /// Starting point: the first parameter (JSON text, @PATH, or "@x.npy").
    #[arg(long)]
    pub init: String,
    /// The other parameters (fixed data), as ARGS.
    #[arg(long)]
    pub data: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Write the figure (contours and marginals) as SVG.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// For d > 2: the pair of coordinates to plot, as I,J.
    #[arg(long = "plot-dims")]
    pub plot_dims: Option<String>,
}

pub fn run(_a: Args) -> Result<String, CliError> {
    Err(CliError::msg("`saddle laplace` is not available yet"))
}
