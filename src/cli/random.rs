//! `saddle laplace --random RANGES`: random effects integrated out by an
//! inner Laplace approximation (TMB's marginal Laplace), fixed effects
//! fitted on the log marginal.
//!
//! `--method`, `--max-iter` and `--grad-tol` act on the outer
//! optimisation (of the fixed effects); the inner one is always damped
//! Newton, with the Hessian held as `--hessian` says (by default sparse
//! when its detected pattern is). `--plot` is refused: the figure shows a Gaussian over the whole
//! parameter vector, and here there is one over the fixed effects only.
//! RANGES that overlap or repeat an index are refused, as a likely typo.

use std::fmt::Write;

use saddle::laplace::{LaplaceError, Options, RandomError, RandomFit, laplace_random};

use super::CliError;
use super::args::parse_one;
use super::json::f64_text;
use super::laplace::Args;

pub fn run(a: Args, ranges: &str) -> Result<String, CliError> {
    if a.plot.is_some() || a.plot_dims.is_some() {
        return Err(CliError::msg(
            "--plot is not available with --random (the approximation is over the fixed effects)",
        ));
    }
    let (_, func) = super::laplace::load_func(&a)?;
    let func = &func;
    let types = func.param_types();
    let Some(p0) = types.first().filter(|t| t.dtype.is_float() && t.rank() == 1) else {
        return Err(CliError::msg(format!(
            "@{}'s first parameter must be a float vector (the parameters and random effects)",
            func.name()
        )));
    };
    let random = parse_ranges(ranges, p0.shape[0])?;
    let init = parse_one(&a.init, p0, "--init")?.to_f64_vec();
    let data = super::laplace::data_args(&a, func)?;
    let method = super::laplace::parse_method(&a.method);
    let hessian = super::laplace::hessian_mode(&a);
    let opts = Options { method, max_iter: a.max_iter, grad_tol: a.grad_tol, hessian, ..Options::default() };
    let fit = laplace_random(func, data, &random, &init, &opts).map_err(random_err)?;
    if a.stats {
        eprint!("{}", stats(&fit));
    }
    Ok(if a.json { json(&fit) } else { summary(&fit, func.name()) })
}

/// Parses RANGES: comma-separated 0-based indices `I` and half-open ranges
/// `A:B` (A < B), each below `d`, none given twice; ascending.
fn parse_ranges(s: &str, d: usize) -> Result<Vec<usize>, CliError> {
    let bad = |why: String| CliError::msg(format!("--random {s:?}: {why}"));
    let index =
        |t: &str| t.trim().parse::<usize>().map_err(|_| bad(format!("{:?} is not an index (a number ≥ 0)", t.trim())));
    let mut taken = vec![false; d];
    for part in s.split(',') {
        if part.trim().is_empty() {
            return Err(bad("expected indices I or ranges A:B separated by commas, found an empty entry".into()));
        }
        let (lo, hi) = match part.split_once(':') {
            Some((a, b)) => {
                let (lo, hi) = (index(a)?, index(b)?);
                if lo >= hi {
                    return Err(bad(format!("the range {lo}:{hi} is empty (A:B needs A < B)")));
                }
                (lo, hi)
            }
            None => {
                let i = index(part)?;
                (i, i + 1)
            }
        };
        if hi > d {
            return Err(bad(format!("index {} is out of range: the parameter vector has {d} coordinate(s)", hi - 1)));
        }
        for (i, t) in taken.iter_mut().enumerate().take(hi).skip(lo) {
            if *t {
                return Err(bad(format!("coordinate {i} is listed twice")));
            }
            *t = true;
        }
    }
    Ok((0..d).filter(|&i| taken[i]).collect())
}

fn random_err(e: LaplaceError) -> CliError {
    let mut err = CliError::msg(e.to_string());
    match &e {
        LaplaceError::NoConvergence { last, .. }
        | LaplaceError::Stalled { last, .. }
        | LaplaceError::NoMode { last, .. } => {
            err.messages.push(format!("the last fixed effects are {}", vec_json(last)));
        }
        LaplaceError::Random(RandomError::MarginalNotNegativeDefinite { .. }) => {
            err.messages.push("the fixed effects may not be identified by the data".into());
        }
        _ => {}
    }
    err
}

fn vec_json(v: &[f64]) -> String {
    let parts: Vec<String> = v.iter().map(|&x| f64_text(x)).collect();
    format!("[{}]", parts.join(", "))
}

fn index_json(v: &[usize]) -> String {
    let parts: Vec<String> = v.iter().map(|i| i.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

fn mat_json(m: &ndarray::Array2<f64>) -> String {
    let rows: Vec<String> = m.rows().into_iter().map(|r| vec_json(&r.to_vec())).collect();
    format!("[{}]", rows.join(", "))
}

/// The `--json` object of the contract's "Large and random-effects models".
fn json(fit: &RandomFit) -> String {
    let mut s = String::from("{\n");
    let mut field = |k: &str, v: String| {
        let _ = writeln!(s, "  \"{k}\": {v},");
    };
    field("mode", vec_json(fit.mode.as_slice().expect("contiguous")));
    field("covariance", mat_json(&fit.covariance));
    field("std", vec_json(fit.std.as_slice().expect("contiguous")));
    field("log_density_at_mode", f64_text(fit.log_density_at_mode));
    field("log_evidence", f64_text(fit.log_evidence));
    field("log_marginal", f64_text(fit.log_marginal));
    field("fixed", index_json(&fit.fixed));
    field("random", index_json(&fit.random));
    field("converged", fit.converged.to_string());
    field("iterations", fit.iterations.to_string());
    field("grad_norm", f64_text(fit.grad_norm));
    field("dim", fit.mode.len().to_string());
    field("method", format!("\"{}\"", super::laplace::method_name(fit.method)));
    field("jitter", f64_text(0.0));
    field("hessian", format!("\"{}\"", if fit.sparse { "sparse" } else { "dense" }));
    field("precision", mat_json(&fit.precision));
    field(
        "inner",
        format!(
            "{{\"solves\": {}, \"iterations\": {}, \"evaluations\": {}}}",
            fit.inner.solves, fit.inner.iterations, fit.inner.evaluations
        ),
    );
    let _ = write!(
        s,
        "  \"evaluations\": {{\"value_grad\": {}, \"value_grad_hessian\": {}}}\n}}\n",
        fit.evaluations.grad, fit.evaluations.hess
    );
    s
}

/// `--stats`: how the inner Hessian was held and the work of the fit.
fn stats(fit: &RandomFit) -> String {
    let i = &fit.inner;
    format!(
        "stats: inner hessian {}, {} fixed and {} random effects\n\
         stats: outer {} iteration(s), {} value+gradient and {} Hessian evaluation(s) of the marginal\n\
         stats: inner {} Newton solve(s), {} iteration(s), {} evaluation(s) of f with its Hessian, {} log-det \
         gradient(s)\n\
         stats: time {:.3} s (optimise {:.3} s, summary {:.3} s)\n",
        if fit.sparse { "sparse" } else { "dense" },
        fit.num_fixed(),
        fit.num_random(),
        fit.iterations,
        fit.evaluations.grad,
        fit.evaluations.hess,
        i.solves,
        i.iterations,
        i.evaluations,
        i.trace_gradients,
        fit.timings.total.as_secs_f64(),
        fit.timings.optimize.as_secs_f64(),
        fit.timings.factor.as_secs_f64(),
    )
}

/// The readable summary: fixed effects with their std, then the random
/// effects (the first 20 when there are more).
fn summary(fit: &RandomFit, name: &str) -> String {
    let (p, q) = (fit.num_fixed(), fit.num_random());
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Marginal Laplace approximation of @{name} (p = {p} fixed, q = {q} random effects): {}, {} after {} \
         iteration(s), |grad|∞ = {:.2e}",
        super::laplace::method_title(fit.method),
        if fit.converged { "converged" } else { "NOT converged" },
        fit.iterations,
        fit.grad_norm
    );
    let row = |s: &mut String, i: usize| {
        let _ = writeln!(s, "  {:<8} {:>14.6} {:>14.6}", format!("θ[{i}]"), fit.mode[i], fit.std[i]);
    };
    let _ = writeln!(s);
    let _ = writeln!(s, "  fixed effects");
    let _ = writeln!(s, "  {:<8} {:>14} {:>14}", "", "mode", "std");
    fit.fixed.iter().for_each(|&i| row(&mut s, i));
    let _ = writeln!(s);
    let _ = writeln!(s, "  random effects (mode given θ̂, joint std)");
    fit.random.iter().take(20).for_each(|&i| row(&mut s, i));
    if q > 20 {
        let _ = writeln!(s, "  … {} more (see --json)", q - 20);
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "  log marginal         {:.10}", fit.log_marginal);
    let _ = writeln!(s, "  log density at mode  {:.10}", fit.log_density_at_mode);
    let _ = writeln!(s, "  log evidence         {:.10}", fit.log_evidence);
    s
}
