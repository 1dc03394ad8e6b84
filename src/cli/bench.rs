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
//!
//! Memory does not grow with `--repeat`: `min` is exact, and `median` is
//! the median of a uniform sample of at most 65,536 of the batches
//! (reservoir sampling; exact when there are no more batches than that).
//! Timing stops after `--max-time` seconds (60 by default) even when
//! fewer than `--repeat` calls were made; `calls` is then the number of
//! timed calls made, and a note on stderr says so.

use std::borrow::Cow;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use super::args::{arg_shapes, parse_args};
use super::opt::{Pass, apply, parse_pass};
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
    /// Passes applied before compiling (as for `saddle opt`).
    #[arg(short = 'p', long = "pass", value_parser = parse_pass)]
    pub passes: Vec<Pass>,
    /// Number of timed calls.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub repeat: u64,
    /// Stop timing after this many seconds, even before `--repeat` calls;
    /// `calls` then reports the calls made.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0, value_parser = parse_max_time)]
    pub max_time: f64,
    /// Compile without the equality-saturation simplifier (CSE and DCE only).
    #[arg(long)]
    pub no_simplify: bool,
    /// Untimed calls before timing, for this many milliseconds: an idle CPU
    /// takes a few milliseconds to reach its full clock, longer than
    /// thousands of short calls last. At most 600000 (ten minutes).
    #[arg(long, value_name = "MS", default_value_t = 50, value_parser = clap::value_parser!(u64).range(0..=600_000))]
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
    let p = load_program(&a.file)?;
    let mut f = bind(Cow::Owned(p), a.func.as_deref(), || arg_shapes(&a.args, "--args"))?;
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
    let budget = std::time::Duration::from_secs_f64(a.max_time);
    let mut samples = Reservoir::new(RESERVOIR);
    let mut calls = 0u64;
    let start = Instant::now();
    while calls < a.repeat {
        let k = batch.min(a.repeat - calls);
        let t = Instant::now();
        for _ in 0..k {
            exe.run_into(&mut ws, &inputs, &mut out)?;
        }
        samples.push(t.elapsed().as_nanos() as u64 / k);
        calls += k;
        if start.elapsed() >= budget {
            break;
        }
    }
    if calls < a.repeat {
        // A note, not the result: a failed write on stderr must not turn
        // the measurement into a failure (eprintln! would panic).
        let _ = writeln!(
            std::io::stderr(),
            "note: timing stopped after --max-time {} s: {calls} of {} calls made",
            a.max_time,
            a.repeat
        );
    }
    let (median, min) = samples.median_min();
    let compile_us = compile.as_secs_f64() * 1e6;
    Ok(format!(
        "{{\"compile_us\": {compile_us:.3}, \"per_call_ns\": {{\"median\": {median}, \"min\": {min}}}, \"calls\": {calls}}}\n"
    ))
}

/// Parses `--max-time`: a positive, finite number of seconds that a
/// `Duration` holds.
fn parse_max_time(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x > 0.0 && std::time::Duration::try_from_secs_f64(x).is_ok() => Ok(x),
        _ => Err(format!("{s} is not a positive number of seconds")),
    }
}

/// How many batch times the median is taken over, at most.
const RESERVOIR: usize = 1 << 16;

/// A uniform sample of at most `cap` of the values pushed (Vitter's
/// algorithm R), and the exact minimum: memory bounded whatever the count.
struct Reservoir {
    cap: usize,
    seen: u64,
    values: Vec<u64>,
    min: u64,
    /// splitmix64 state: a fixed seed, so runs are reproducible.
    state: u64,
}

impl Reservoir {
    fn new(cap: usize) -> Reservoir {
        Reservoir { cap, seen: 0, values: Vec::new(), min: u64::MAX, state: 0x853c_49e6_748f_ea9b }
    }

    fn next_random(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn push(&mut self, v: u64) {
        self.seen += 1;
        self.min = self.min.min(v);
        if self.values.len() < self.cap {
            self.values.push(v);
        } else {
            // Keep v with probability cap / seen, in a uniform slot.
            let j = self.next_random() % self.seen;
            if j < self.cap as u64 {
                self.values[j as usize] = v;
            }
        }
    }

    /// The sample's median (upper median for an even count) and the exact
    /// minimum; `(0, 0)` when nothing was pushed.
    fn median_min(&mut self) -> (u64, u64) {
        if self.values.is_empty() {
            return (0, 0);
        }
        self.values.sort_unstable();
        (self.values[self.values.len() / 2], self.min)
    }
}

#[cfg(test)]
mod tests {
    use super::Reservoir;

    #[test]
    fn small_counts_give_the_exact_median_and_min() {
        let mut r = Reservoir::new(8);
        for v in [5, 3, 9, 1, 7] {
            r.push(v);
        }
        assert_eq!(r.median_min(), (5, 1));
    }

    #[test]
    fn large_counts_keep_memory_bounded_and_the_median_close() {
        let mut r = Reservoir::new(1024);
        for v in 0..1_000_000u64 {
            r.push(v % 1000);
        }
        assert_eq!(r.values.len(), 1024);
        let (median, min) = r.median_min();
        assert_eq!(min, 0);
        assert!((400..600).contains(&median), "{median}");
    }
}
