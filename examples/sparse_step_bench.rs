//! Times the work of one Newton step of a sparse Laplace fit, warm: the
//! compressed `[f, ∇f, H·Sᵀ]` at a point, the recovery of the Hessian's
//! entries, the numeric sparse Cholesky factorisation of `-H` and its log
//! determinant. Used by `bench/sparse_vs_jax.py` against one dense JAX
//! step (value, gradient, Hessian, Cholesky log determinant).
//!
//! ```text
//! cargo run --release --example sparse_step_bench -- FILE.sir DATA_ARGS [SECONDS]
//! ```
//!
//! The point is the zero vector. After one untimed step (which builds and
//! compiles), steps are repeated for about SECONDS (1 by default, at least
//! five steps). Prints one JSON object: the setup time (detection,
//! colouring, compile, symbolic analysis), wall seconds per step (median
//! and minimum), process CPU seconds per step (user + system over all the
//! steps, from `/proc/self/stat`), the steps made, the log determinant,
//! the pattern's entries and the colours.

mod common;

use std::time::Instant;

use common::load_args;
use saddle::ir::parse_module;
use saddle::laplace::{IrDensity, LogDensity, SparseCholesky};

/// User + system CPU seconds of this process so far (all threads), or
/// `None` where `/proc/self/stat` cannot be read.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name (which may hold spaces): state is
    // field 3, utime 14 and stime 15, in clock ticks (100 a second on Linux).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, data, rest @ ..] = args.as_slice() else {
        return Err("usage: sparse_step_bench FILE.sir DATA_ARGS [SECONDS]".into());
    };
    let seconds: f64 = rest.first().map(|s| s.parse()).transpose()?.unwrap_or(1.0);
    let module = parse_module(file, &std::fs::read_to_string(file)?)?;
    let f = &module.funcs[0];
    let data = load_args(data, &f.param_types()[1..])?;
    let mut density = IrDensity::new(f, data)?;
    let d = density.dim();
    let x = vec![0.0; d];
    let mut g = vec![0.0; d];

    let t = Instant::now();
    let structure = density.hessian_structure()?.ok_or("the density has no sparse Hessian")?;
    let mut chol = SparseCholesky::analyse(d, structure.col_ptr(), structure.row_indices())?;
    let mut h = vec![0.0; structure.nnz()];
    let mut prec = vec![0.0; structure.nnz()];
    let mut step = |density: &mut IrDensity, chol: &mut SparseCholesky| -> Result<f64, Box<dyn std::error::Error>> {
        density.value_grad_sparse_hess(&x, &mut g, &structure, &mut h)?;
        for (p, v) in prec.iter_mut().zip(&h) {
            *p = -v;
        }
        if !chol.factor(&prec, 0.0)? {
            return Err("-H is not positive definite at the zero vector".into());
        }
        Ok(chol.log_det()?)
    };
    let log_det = step(&mut density, &mut chol)?;
    let setup = t.elapsed().as_secs_f64();

    let mut walls = Vec::new();
    let cpu0 = cpu_seconds();
    let start = Instant::now();
    while walls.len() < 5 || start.elapsed().as_secs_f64() < seconds {
        let t = Instant::now();
        step(&mut density, &mut chol)?;
        walls.push(t.elapsed().as_secs_f64());
    }
    let cpu = match (cpu0, cpu_seconds()) {
        (Some(a), Some(b)) => format!("{}", (b - a) / walls.len() as f64),
        _ => "null".into(),
    };
    walls.sort_by(f64::total_cmp);
    let (nnz, colours) = density.report().sparse_hessian.unwrap_or((0, 0));
    println!(
        "{{\"dim\": {d}, \"setup_s\": {setup}, \"wall_s\": {}, \"wall_min_s\": {}, \"cpu_s\": {cpu}, \"steps\": {}, \
         \"log_det\": {log_det}, \"hessian_nnz\": {nnz}, \"colours\": {colours}}}",
        walls[walls.len() / 2],
        walls[0],
        walls.len()
    );
    Ok(())
}
