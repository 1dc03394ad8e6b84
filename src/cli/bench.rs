//! `saddle bench`: compile once, call many times, report timings as JSON:
//! `{"compile_us": ..., "per_call_ns": {"median": ..., "min": ...}, "calls": N}`.
//!
//! `compile_us` is the time of `saddle_runtime::compile` (after the `-p`
//! passes, which are not timed), simplification included unless
//! `--no-simplify`. Each timed call goes through
//! `Executable::run_into` with a workspace and outputs made beforehand, the
//! allocation-free path a tight loop uses; one untimed call first checks
//! the arguments, then untimed calls run for `--warmup` milliseconds (50 by
//! default) so that the CPU's clock and caches are warm. Calls shorter than about 20 µs are
//! timed in batches of back-to-back calls, so that the clock's own cost and resolution do not count:
//! `median` and `min` are then over the batches' mean call times.

use std::path::PathBuf;
use std::time::Instant;

use saddle::ir::verify_module;

use super::args::parse_args;
use super::opt::{Pass, apply, parse_pass};
use super::{CliError, load_module};

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
    #[arg(short = 'p', long = "pass", value_parser = parse_pass)]
    pub passes: Vec<Pass>,
    /// Number of timed calls.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub repeat: u64,
    /// Compile without the equality-saturation simplifier (CSE and DCE only).
    #[arg(long)]
    pub no_simplify: bool,
    /// Untimed calls before timing, for this many milliseconds: an idle CPU
    /// takes a few milliseconds to reach its full clock, longer than
    /// thousands of short calls last.
    #[arg(long, value_name = "MS", default_value_t = 50)]
    pub warmup: u64,
    /// The widest vector instruction sets the kernels may use: `widest`
    /// (what the CPU has), `avx2` or `baseline`. Results are the same bits
    /// at every level; this measures what the wide vectors gain.
    #[arg(long, value_enum, default_value_t = IsaArg::Widest)]
    pub isa: IsaArg,
}

/// `--isa` values.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum IsaArg {
    Widest,
    Avx2,
    Baseline,
}

impl From<IsaArg> for saddle::runtime::isa::Isa {
    fn from(a: IsaArg) -> Self {
        use saddle::runtime::isa::Isa;
        match a {
            IsaArg::Widest => Isa::Widest,
            IsaArg::Avx2 => Isa::Avx2,
            IsaArg::Baseline => Isa::Baseline,
        }
    }
}

pub fn run(a: Args) -> Result<String, CliError> {
    let m = load_module(&a.file)?;
    verify_module(&m).map_err(|e| CliError::msg(e.to_string()))?;
    let mut f = m.select(a.func.as_deref())?.clone();
    for &p in &a.passes {
        f = apply(p, &f)?;
    }
    let inputs = parse_args(&a.args, f.param_types(), "--args")?;
    saddle::runtime::isa::limit(a.isa.into());
    let start = Instant::now();
    let opts = saddle::runtime::CompileOptions { simplify: !a.no_simplify, ..Default::default() };
    let exe = saddle::runtime::compile_with(&f, &opts)?;
    let compile = start.elapsed();
    let mut ws = exe.workspace();
    let mut out = exe.new_outputs();
    exe.run_into(&mut ws, &inputs, &mut out)?;
    let warmup = std::time::Duration::from_millis(a.warmup);
    let start = Instant::now();
    while start.elapsed() < warmup {
        exe.run_into(&mut ws, &inputs, &mut out)?;
    }
    // Calls shorter than the clock's resolution and cost are timed in
    // batches: each sample times `batch` back-to-back calls, at least
    // about 20 µs, and counts as `batch` calls of its mean.
    let mut probe = [0u64; 5];
    for p in &mut probe {
        let t = Instant::now();
        exe.run_into(&mut ws, &inputs, &mut out)?;
        *p = t.elapsed().as_nanos() as u64;
    }
    probe.sort_unstable();
    let batch = (20_000 / probe[2].max(1)).clamp(1, a.repeat);
    let mut times = Vec::with_capacity(a.repeat.div_ceil(batch) as usize);
    let mut left = a.repeat;
    while left > 0 {
        let k = batch.min(left);
        let t = Instant::now();
        for _ in 0..k {
            exe.run_into(&mut ws, &inputs, &mut out)?;
        }
        times.push(t.elapsed().as_nanos() as u64 / k);
        left -= k;
    }
    times.sort_unstable();
    let median = times[times.len() / 2];
    let min = times[0];
    let compile_us = compile.as_secs_f64() * 1e6;
    Ok(format!(
        "{{\"compile_us\": {compile_us:.3}, \"per_call_ns\": {{\"median\": {median}, \"min\": {min}}}, \"calls\": {}}}\n",
        a.repeat
    ))
}
