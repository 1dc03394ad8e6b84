//! `saddle hessian`: the Hessian of the scalar first result with respect to one parameter.

use std::borrow::Cow;
use std::fmt::Write;
use std::path::PathBuf;

use super::args::{arg_shapes, parse_args};
use super::grad::derivative;
use super::json::f64_text;
use super::{CliError, bind, load_program};

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
    /// Print the Hessian as a sparse matrix (coordinates of the detected
    /// pattern, both triangles), computed from a star colouring of its
    /// columns: value, gradient and one Hessian-vector product per colour.
    #[arg(long)]
    pub sparse: bool,
}

pub fn run(a: Args) -> Result<String, CliError> {
    if a.sparse {
        return sparse(&a);
    }
    derivative(&a.file, a.func.as_deref(), &a.args, a.wrt, !a.no_simplify, ("Hessian", saddle::ad::hessian))
}

/// `--sparse`: `{"shape": [n, n], "nnz": N, "colours": C, "rows": [...],
/// "cols": [...], "values": [...]}` over both triangles of the pattern
/// detected with the given arguments as data, the whole diagonal included,
/// column by column and by row within a column.
fn sparse(a: &Args) -> Result<String, CliError> {
    let p = load_program(&a.file)?;
    let f = &bind(Cow::Owned(p), a.func.as_deref(), || arg_shapes(&a.args, "--args"))?;
    let inputs = parse_args(&a.args, f.param_types(), "--args")?;
    let data: Vec<Option<&saddle::ir::Array>> = inputs.iter().map(Some).collect();
    let h = saddle::ad::sparsity::sparse_hessian(f, a.wrt, &data).map_err(|e| CliError::msg(e.to_string()))?;
    let opts = saddle::runtime::CompileOptions { simplify: !a.no_simplify, ..Default::default() };
    let exe = saddle::runtime::compile_with(h.func(), &opts).map_err(|e| CliError::msg(e.to_string()))?;
    let mut args = inputs.clone();
    args.push(h.seeds());
    let out =
        exe.run(&args).map_err(|e| CliError::msg(format!("the Hessian of @{} cannot be computed: {e}", f.name())))?;
    let compressed = out.get(2).map(|c| c.to_f64_vec()).unwrap_or_default();
    let mut lower = vec![0.0; h.lower().nnz()];
    h.recover(&compressed, &mut lower).map_err(|e| CliError::msg(e.to_string()))?;
    // Both triangles from the lower one, in column order.
    let n = h.dim();
    let mut by_col: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
    for ((i, j), v) in h.lower().entries().zip(lower) {
        by_col[j].push((i, v));
        if i != j {
            by_col[i].push((j, v));
        }
    }
    let (mut rows, mut cols, mut values) = (String::new(), String::new(), String::new());
    let mut nnz = 0usize;
    for (j, mut col) in by_col.into_iter().enumerate() {
        col.sort_by_key(|e| e.0);
        for (i, v) in col {
            let sep = if nnz == 0 { "" } else { ", " };
            let _ = write!(rows, "{sep}{i}");
            let _ = write!(cols, "{sep}{j}");
            let _ = write!(values, "{sep}{}", f64_text(v));
            nnz += 1;
        }
    }
    Ok(format!(
        "{{\"shape\": [{n}, {n}], \"nnz\": {nnz}, \"colours\": {}, \"rows\": [{rows}], \"cols\": [{cols}], \"values\": [{values}]}}\n",
        h.num_colours()
    ))
}
