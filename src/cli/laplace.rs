//! `saddle laplace`: Laplace approximation of a log density.

use std::borrow::Cow;
use std::fmt::Write;
use std::path::PathBuf;

use saddle::laplace::plot::{PlotOptions, figure};
use saddle::laplace::{
    BuildReport, Derived, HessianMode, IrDensity, Laplace, LaplaceError, Method, Options, ParamSpace, ParamSummary,
    Precision, laplace, sdreport,
};

use super::args::{arg_shapes, one_shape, parse_args, parse_one};
use super::json::f64_text;
use super::{CliError, bind, load_program};

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
    /// The optimiser: auto (Newton for d ≤ 400 with cheap Hessians, else L-BFGS; with --random, BFGS on the fixed effects), newton, lbfgs or bfgs.
    #[arg(long, default_value = "auto", value_parser = ["auto", "newton", "lbfgs", "bfgs"])]
    pub method: String,
    /// Iteration limit (no convergence within it is an error).
    #[arg(long = "max-iter", default_value_t = 200)]
    pub max_iter: usize,
    /// Stop when the gradient's largest absolute entry is at most this.
    #[arg(long = "grad-tol", default_value_t = 1e-8)]
    pub grad_tol: f64,
    /// Print `covariance` even above 2,000 coordinates.
    #[arg(long = "full-covariance")]
    pub full_covariance: bool,
    /// Print how the fit went on stderr: the Hessian's storage, pattern,
    /// colours and fill, and where the time went.
    #[arg(long)]
    pub stats: bool,
    /// The Hessian: auto (sparse for large models with sparse Hessians), dense or sparse.
    #[arg(long, default_value = "auto", value_parser = ["auto", "dense", "sparse"])]
    pub hessian: String,
    /// Random effects, integrated out (TMB's marginal Laplace): 0-based indices and half-open ranges A:B, comma-separated.
    #[arg(long, allow_hyphen_values = true)]
    pub random: Option<String>,
    /// Names, shapes and constraints of the first parameter's blocks (JSON text or @PATH): the fit is on the unconstrained scale.
    #[arg(long)]
    pub params: Option<String>,
    /// Derived quantities: a function of the module, g(theta[, data...]), whose first result is reported with delta-method standard errors.
    #[arg(long)]
    pub derived: Option<String>,
}

/// What `--params` and `--derived` add to the output.
struct Extra<'a> {
    /// The blocks and the fit's summary by block.
    params: Option<(&'a ParamSpace, ParamSummary)>,
    /// The derived function's name, a name per quantity (`g` for a scalar
    /// result, `g[i]` for a vector), and the quantities.
    derived: Option<(&'a str, Vec<String>, Derived)>,
}

pub fn run(a: Args) -> Result<String, CliError> {
    if let Some(ranges) = a.random.clone() {
        if a.params.is_some() || a.derived.is_some() {
            return Err(CliError::msg("--params and --derived are not available with --random"));
        }
        return super::random::run(a, &ranges);
    }
    let (program, func) = load_func(&a)?;
    let func = &func;
    let types = func.param_types();
    let Some(p0) = types.first() else {
        return Err(CliError::msg(format!(
            "@{} has no parameters: its first parameter must be the parameter vector",
            func.name()
        )));
    };
    if !p0.dtype.is_float() || p0.rank() != 1 {
        return Err(CliError::msg(format!(
            "@{}'s first parameter must be a float vector (the parameters), found {p0}",
            func.name()
        )));
    }
    let init = parse_one(&a.init, p0, "--init")?.to_f64_vec();
    let data = data_args(&a, func)?;
    let space = match &a.params {
        Some(spec) => Some(super::params::parse_params(spec, p0.shape[0])?),
        None => None,
    };
    let derived = match &a.derived {
        Some(name) => Some(derived_func(&program, name, func, &data)?),
        None => None,
    };
    // With --params the fit is of g(z) = f(T(z)) + log|J(z)| over the
    // unconstrained z; --init stays on the constrained scale.
    let (model, init) = match &space {
        Some(sp) => {
            let z = sp.unconstrain(&init).map_err(|e| CliError::msg(format!("--init: {e}")))?;
            (sp.compose(func).map_err(laplace_err)?, z)
        }
        None => (func.clone(), init),
    };
    let func = &model;
    let plot_dims = match &a.plot_dims {
        Some(s) => Some(parse_dims(s, init.len())?),
        None => None,
    };
    if plot_dims.is_some() && a.plot.is_none() {
        return Err(CliError::msg("--plot-dims needs --plot OUT.svg"));
    }
    let mut density = IrDensity::new(func, data).map_err(laplace_err)?;
    let method = parse_method(&a.method);
    let opts = Options {
        method,
        max_iter: a.max_iter,
        grad_tol: a.grad_tol,
        hessian: hessian_mode(&a),
        full_covariance: a.full_covariance,
        ..Options::default()
    };
    let fit = laplace(&mut density, &init, &opts).map_err(laplace_err)?;
    let extra = Extra {
        params: match &space {
            Some(sp) => Some((sp, sp.summarise(&fit).map_err(laplace_err)?)),
            None => None,
        },
        derived: match &derived {
            Some((g, g_data)) => {
                let r = match &space {
                    Some(sp) => sp.sdreport(&fit, g, g_data),
                    None => sdreport(&fit, g, g_data),
                };
                let r = r.map_err(|e| CliError::msg(format!("--derived {}: {e}", g.name())))?;
                let scalar = g.result_types().first().is_some_and(|t| t.rank() == 0);
                let names = if scalar {
                    vec![g.name().to_string()]
                } else {
                    (0..r.value.len()).map(|i| format!("{}[{i}]", g.name())).collect()
                };
                Some((g.name(), names, r))
            }
            None => None,
        },
    };
    if a.stats {
        eprint!("{}", stats(&fit, density.report()));
    }
    if let Some(path) = &a.plot {
        let opts = PlotOptions {
            dims: plot_dims.unwrap_or((0, 1)),
            title: Some(format!("Laplace approximation of @{}", func.name())),
            labels: space.as_ref().map(|sp| sp.unconstrained_names()).unwrap_or_default(),
            ..PlotOptions::default()
        };
        let svg = figure(&fit, &mut density, &opts).map_err(laplace_err)?;
        std::fs::write(path, svg).map_err(|e| CliError::msg(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(if a.json { json(&fit, &extra) } else { summary(&fit, func.name(), &extra) })
}

/// The `--derived` function, and the data arguments it takes: none, or
/// the same as the model's.
fn derived_func(
    program: &saddle::ir::Program,
    name: &str,
    model: &saddle::ir::Func,
    data: &[saddle::ir::Array],
) -> Result<(saddle::ir::Func, Vec<saddle::ir::Array>), CliError> {
    let name = name.trim_start_matches('@');
    let mt = model.param_types();
    // A generic g is bound from the model's types: the parameter vector
    // alone, or it and the data.
    let sig = program.signature(Some(name))?;
    let types = if sig.params.len() <= 1 { &mt[..sig.params.len().min(mt.len())] } else { mt };
    let g = program.instantiate(Some(name), types)?;
    let gt = g.param_types();
    if gt.len() <= 1 {
        // No data (a function without parameters is refused by sdreport).
        return Ok((g, vec![]));
    }
    if gt[1..] != mt[1..] {
        return Err(CliError::msg(format!(
            "--derived {name}: @{} must take the parameter vector alone, or it and the same data as @{}",
            g.name(),
            model.name()
        )));
    }
    Ok((g, data.to_vec()))
}

fn parse_dims(s: &str, d: usize) -> Result<(usize, usize), CliError> {
    let bad = || CliError::msg(format!("--plot-dims: expected two different coordinates I,J below {d}, found {s:?}"));
    let (i, j) = s.split_once(',').ok_or_else(bad)?;
    let i: usize = i.trim().parse().map_err(|_| bad())?;
    let j: usize = j.trim().parse().map_err(|_| bad())?;
    if i >= d || j >= d || i == j {
        return Err(bad());
    }
    Ok((i, j))
}

fn laplace_err(e: LaplaceError) -> CliError {
    let mut err = CliError::msg(e.to_string());
    match &e {
        LaplaceError::NotNegativeDefinite { mode, .. } => {
            err.messages.push(format!("the stationary point found is {}", vec_json(mode)));
        }
        LaplaceError::NoConvergence { last, .. }
        | LaplaceError::Stalled { last, .. }
        | LaplaceError::NoMode { last, .. } => {
            err.messages.push(format!("the last point is {}", vec_json(last)));
        }
        _ => {}
    }
    err
}

fn vec_json(v: &[f64]) -> String {
    let parts: Vec<String> = v.iter().map(|&x| f64_text(x)).collect();
    format!("[{}]", parts.join(", "))
}

/// A JSON string.
fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// A number or nested arrays, by the array's shape.
fn nested_json(a: ndarray::ArrayViewD<'_, f64>) -> String {
    if a.ndim() == 0 {
        return f64_text(a.iter().next().copied().unwrap_or(f64::NAN));
    }
    let parts: Vec<String> = a.outer_iter().map(nested_json).collect();
    format!("[{}]", parts.join(", "))
}

fn mat_json(m: &ndarray::Array2<f64>) -> String {
    let rows: Vec<String> = m.rows().into_iter().map(|r| vec_json(&r.to_vec())).collect();
    format!("[{}]", rows.join(", "))
}

/// What `--hessian` asks for.
pub fn hessian_mode(a: &Args) -> HessianMode {
    match a.hessian.as_str() {
        "dense" => HessianMode::Dense,
        "sparse" => HessianMode::Sparse,
        _ => HessianMode::Auto,
    }
}

/// The `--json` object of the contract, with a few more fields.
fn json(fit: &Laplace, extra: &Extra) -> String {
    let mut s = String::from("{\n");
    let mut field = |k: &str, v: String| {
        let _ = writeln!(s, "  \"{k}\": {v},");
    };
    field("mode", vec_json(fit.mode.as_slice().expect("contiguous")));
    // Above 2,000 coordinates the covariance (and the dense precision)
    // is left out unless --full-covariance asked for it.
    if let Some(c) = &fit.covariance {
        field("covariance", mat_json(c));
    }
    field("std", vec_json(fit.std.as_slice().expect("contiguous")));
    field("log_density_at_mode", f64_text(fit.log_density_at_mode));
    field("log_evidence", f64_text(fit.log_evidence));
    field("converged", fit.converged.to_string());
    field("iterations", fit.iterations.to_string());
    field("grad_norm", f64_text(fit.grad_norm));
    field("dim", fit.dim().to_string());
    field("method", format!("\"{}\"", method_name(fit.method)));
    field("jitter", f64_text(fit.jitter));
    if fit.covariance.is_some() {
        field("precision", mat_json(&fit.precision.to_dense()));
    }
    field("hessian", format!("\"{}\"", if matches!(fit.precision, Precision::Sparse(_)) { "sparse" } else { "dense" }));
    if let Some(sp) = &fit.sparse {
        field("hessian_nnz", sp.hessian_nnz.to_string());
        field("factor_nnz", sp.factor_nnz.to_string());
    }
    if let Some((space, sum)) = &extra.params {
        let strings = |v: Vec<String>| format!("[{}]", v.iter().map(|n| json_string(n)).collect::<Vec<_>>().join(", "));
        let _ = writeln!(s, "  \"names\": {},", strings(space.names()));
        let _ = writeln!(s, "  \"unconstrained_names\": {},", strings(space.unconstrained_names()));
        let _ = writeln!(s, "  \"constrained_mode\": {},", vec_json(&sum.mode.to_vec()));
        let _ = writeln!(s, "  \"constrained_std\": {},", vec_json(&sum.std.to_vec()));
        let blocks: Vec<String> = sum
            .blocks
            .iter()
            .map(|b| {
                let shape = format!("[{}]", b.shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "));
                format!(
                    "{}: {{\"shape\": {}, \"constraint\": {}, \"mode\": {}, \"std\": {}, \"unconstrained_mode\": {}, \"unconstrained_std\": {}}}",
                    json_string(&b.name),
                    shape,
                    json_string(&b.support.name()),
                    nested_json(b.mode.view()),
                    nested_json(b.std.view()),
                    vec_json(&b.unconstrained_mode.to_vec()),
                    vec_json(&b.unconstrained_std.to_vec())
                )
            })
            .collect();
        let _ = writeln!(s, "  \"blocks\": {{{}}},", blocks.join(", "));
    }
    if let Some((name, names, r)) = &extra.derived {
        let _ = writeln!(
            s,
            "  \"derived\": {{\"function\": {}, \"names\": [{}], \"value\": {}, \"std\": {}, \"covariance\": {}}},",
            json_string(name),
            names.iter().map(|n| json_string(n)).collect::<Vec<_>>().join(", "),
            vec_json(&r.value.to_vec()),
            vec_json(&r.std.to_vec()),
            mat_json(&r.covariance)
        );
    }
    let _ = write!(
        s,
        "  \"evaluations\": {{\"value_grad\": {}, \"value_grad_hessian\": {}}}\n}}\n",
        fit.evaluations.grad, fit.evaluations.hess
    );
    s
}

/// The readable summary: mode ± std, and correlations for small d.
fn summary(fit: &Laplace, name: &str, extra: &Extra) -> String {
    let d = fit.dim();
    // The fit's coordinates: θ[i], or their names on the unconstrained
    // scale with --params.
    let labels: Vec<String> = match &extra.params {
        Some((space, _)) => space.unconstrained_names(),
        None => (0..d).map(|i| format!("θ[{i}]")).collect(),
    };
    let mut s = String::new();
    let method = method_title(fit.method);
    let _ = writeln!(
        s,
        "Laplace approximation of @{name} (d = {d}): {method}, {} after {} iteration(s), |grad|∞ = {:.2e}",
        if fit.converged { "converged" } else { "NOT converged" },
        fit.iterations,
        fit.grad_norm
    );
    if let Some(sp) = &fit.sparse {
        let _ = writeln!(
            s,
            "sparse Hessian: {} entries ({:.3}% of d²), {} in the Cholesky factor",
            sp.hessian_nnz,
            100.0 * sp.hessian_nnz as f64 / (d as f64 * d as f64),
            sp.factor_nnz
        );
    }
    let _ = writeln!(s);
    if let Some((space, sum)) = &extra.params {
        let _ = writeln!(s, "  constrained scale (mode and delta-method std)");
        table(&mut s, &space.names(), &sum.mode.to_vec(), &sum.std.to_vec());
        let _ = writeln!(s);
        let _ = writeln!(s, "  unconstrained scale (the fit's Gaussian)");
    }
    table(&mut s, &labels, &fit.mode.to_vec(), &fit.std.to_vec());
    if let Some((g, names, r)) = &extra.derived {
        let _ = writeln!(s);
        let _ = writeln!(s, "  derived quantities of @{g} (delta method)");
        table(&mut s, names, &r.value.to_vec(), &r.std.to_vec());
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "  log density at mode  {:.10}", fit.log_density_at_mode);
    let _ = writeln!(s, "  log evidence         {:.10}", fit.log_evidence);
    if fit.jitter > 0.0 {
        let _ = writeln!(s, "  jitter added         {:e}", fit.jitter);
    }
    if let (true, Some(c)) = ((2..=8).contains(&d), fit.correlation()) {
        let _ = writeln!(s);
        let _ = writeln!(s, "  correlations");
        let w = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0).max(8);
        let _ = write!(s, "  {:<w$}", "");
        for l in &labels {
            let _ = write!(s, " {l:>7}");
        }
        let _ = writeln!(s);
        for i in 0..d {
            let _ = write!(s, "  {:<w$}", labels[i]);
            for j in 0..d {
                let _ = write!(s, " {:>7.3}", c[[i, j]]);
            }
            let _ = writeln!(s);
        }
    }
    s
}

/// Rows `name  mode  std`; a long vector is summarised (--json prints all
/// of it).
fn table(s: &mut String, names: &[String], mode: &[f64], std: &[f64]) {
    let d = mode.len();
    let w = names.iter().map(|l| l.chars().count()).max().unwrap_or(0).max(8);
    let _ = writeln!(s, "  {:<w$} {:>14} {:>14}", "", "mode", "std");
    let shown = if d > 60 { 50 } else { d };
    for i in 0..shown {
        let _ = writeln!(s, "  {:<w$} {:>14.6} {:>14.6}", names[i], mode[i], std[i]);
    }
    if shown < d {
        let _ = writeln!(s, "  … {} more coordinate(s) (--json prints every one)", d - shown);
    }
}

/// The `--stats` lines.
fn stats(fit: &Laplace, report: &BuildReport) -> String {
    let mut s = String::new();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    match (&fit.sparse, report.sparse_hessian) {
        (Some(sp), colours) => {
            let d = fit.dim();
            let lower = (sp.hessian_nnz + d) / 2;
            let _ = writeln!(
                s,
                "stats: hessian sparse: {} entries ({:.4}% of d²){}, factor {} entries (fill {:.2}× the lower triangle)",
                sp.hessian_nnz,
                100.0 * sp.hessian_nnz as f64 / (d as f64 * d as f64),
                colours.map(|(_, c)| format!(", {c} colours")).unwrap_or_default(),
                sp.factor_nnz,
                sp.factor_nnz as f64 / lower.max(1) as f64
            );
        }
        (None, _) => {
            let _ = writeln!(s, "stats: hessian dense ({0}×{0})", fit.dim());
        }
    }
    let parts = &report.sparsity_parts;
    let _ = writeln!(
        s,
        "stats: build: differentiate {:.1} ms, sparsity {:.1} ms (pattern {:.1} ms, colouring {:.1} ms, compressed function {:.1} ms), simplify {:.1} ms, compile {:.1} ms",
        ms(report.differentiate),
        ms(report.sparsity),
        ms(parts.pattern),
        ms(parts.colouring),
        ms(parts.function),
        ms(report.simplify),
        ms(report.compile)
    );
    let t = &fit.timings;
    let _ = writeln!(
        s,
        "stats: fit: optimise {:.1} ms (setup {:.1} ms, {} Hessian evaluations {:.1} ms, {} factorisations {:.1} ms), hessian {:.1} ms, factor and variances {:.1} ms, total {:.1} ms; {} gradient and {} Hessian evaluations, {} iterations",
        ms(t.optimize),
        ms(t.setup),
        fit.evaluations.hess,
        ms(t.evaluate),
        t.factorisations,
        ms(t.factorise),
        ms(t.hessian),
        ms(t.factor),
        ms(t.total),
        fit.evaluations.grad,
        fit.evaluations.hess,
        fit.iterations
    );
    s
}

/// The function to fit, its dimension variables (if any) bound from the
/// shapes of `--init` and `--data`.
pub(super) fn load_func(a: &Args) -> Result<(saddle::ir::Program, saddle::ir::Func), CliError> {
    let p = load_program(&a.file)?;
    let f = bind(Cow::Borrowed(&p), a.func.as_deref(), || {
        let mut shapes = vec![one_shape(&a.init, "--init")?];
        if let Some(spec) = &a.data {
            shapes.extend(arg_shapes(spec, "--data")?);
        }
        Ok(shapes)
    })?;
    Ok((p, f))
}

/// The data arguments after the parameter vector, from `--data`; an error
/// naming their types when the function takes some and none were given.
pub(super) fn data_args(a: &Args, func: &saddle::ir::Func) -> Result<Vec<saddle::ir::Array>, CliError> {
    let types = func.param_types();
    Ok(match &a.data {
        Some(spec) => parse_args(spec, &types[1..], "--data")?,
        None if types.len() > 1 => {
            let sig: Vec<String> = types[1..].iter().map(|t| t.to_string()).collect();
            return Err(CliError::msg(format!(
                "@{} takes {} data argument(s) after the parameter vector ({}): pass them with --data",
                func.name(),
                types.len() - 1,
                sig.join(", ")
            )));
        }
        None => vec![],
    })
}

/// `--method`'s value as a [`Method`].
pub(crate) fn parse_method(name: &str) -> Method {
    match name {
        "newton" => Method::Newton,
        "lbfgs" => Method::Lbfgs { memory: 10 },
        "bfgs" => Method::Bfgs,
        _ => Method::Auto,
    }
}

/// The method as `--json` names it.
pub(crate) fn method_name(m: Method) -> &'static str {
    match m {
        Method::Lbfgs { .. } => "lbfgs",
        Method::Bfgs => "bfgs",
        Method::Newton | Method::Auto => "newton",
    }
}

/// The method as the text summary names it.
pub(crate) fn method_title(m: Method) -> &'static str {
    match m {
        Method::Lbfgs { .. } => "L-BFGS",
        Method::Bfgs => "BFGS",
        Method::Newton | Method::Auto => "Newton",
    }
}
