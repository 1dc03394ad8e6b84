//! `saddle opt`: apply transformation and clean-up passes in order.
//!
//! Each pass applies to the function in hand (the first, or `--func NAME`);
//! the printed module holds the result first, then the module's other
//! functions. A pass name that is not one of the passes below, or a
//! malformed `=K` / `=SIZE`, is a usage error (exit status 2); a pass that
//! does not apply to the function (say `grad` of a vector-valued function)
//! is an `error:` line and exit status 1.

use std::fmt;
use std::io::Write;
use std::path::PathBuf;

use saddle::ir::simplify::{SimplifyOptions, SimplifyReport, simplify};
use saddle::ir::{Func, PrintOptions, verify};

use super::{CliError, load_program};

#[derive(clap::Args)]
pub struct Args {
    /// The module (`.sir` text format).
    pub file: PathBuf,
    /// The function to use (default: the first).
    #[arg(long = "func")]
    pub func: Option<String>,
    /// A pass: jvp, vjp, grad[=K], value_and_grad[=K], hessian[=K], sparse_hessian[=K], jacfwd[=K], jacrev[=K], vmap=SIZE, simplify, dce.
    #[arg(short = 'p', long = "pass", required = true, value_parser = parse_pass)]
    pub passes: Vec<Pass>,
    /// Print op counts before and after on stderr (for `simplify` also the
    /// estimated flops and bytes, and any limit hit).
    #[arg(long)]
    pub stats: bool,
}

/// One pass of `saddle opt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// Forward mode.
    Jvp,
    /// Reverse mode.
    Vjp,
    /// Gradient w.r.t. parameter K.
    Grad(usize),
    /// First result and gradient w.r.t. parameter K.
    ValueAndGrad(usize),
    /// Hessian w.r.t. parameter K.
    Hessian(usize),
    /// Compressed Hessian w.r.t. parameter K: `[f, ∇f, H·Sᵀ]` for a star
    /// colouring of the pattern detected with every data argument unknown.
    SparseHessian(usize),
    /// Forward-mode Jacobian w.r.t. parameter K.
    Jacfwd(usize),
    /// Reverse-mode Jacobian w.r.t. parameter K.
    Jacrev(usize),
    /// Batch of SIZE along a new leading axis.
    Vmap(usize),
    /// Equality-saturation simplification.
    Simplify,
    /// Dead-code elimination.
    Dce,
}

const PASSES: &str = "jvp, vjp, grad[=K], value_and_grad[=K], hessian[=K], sparse_hessian[=K], jacfwd[=K], jacrev[=K], vmap=SIZE, simplify, dce";

/// Parses one `-p` argument (also used by `saddle bench`).
pub fn parse_pass(s: &str) -> Result<Pass, String> {
    let (name, arg) = match s.split_once('=') {
        Some((n, a)) => (n, Some(a)),
        None => (s, None),
    };
    let number = |what: &str| -> Result<Option<usize>, String> {
        arg.map(|a| a.parse::<usize>().map_err(|_| format!("{name}={a}: {what} must be a non-negative integer")))
            .transpose()
    };
    let k = || number("K").map(|k| k.unwrap_or(0));
    let none = |p: Pass| match arg {
        Some(a) => Err(format!("pass {name} takes no argument, found {name}={a}")),
        None => Ok(p),
    };
    match name {
        "jvp" => none(Pass::Jvp),
        "vjp" => none(Pass::Vjp),
        "simplify" => none(Pass::Simplify),
        "dce" => none(Pass::Dce),
        "grad" => Ok(Pass::Grad(k()?)),
        "value_and_grad" => Ok(Pass::ValueAndGrad(k()?)),
        "hessian" => Ok(Pass::Hessian(k()?)),
        "sparse_hessian" => Ok(Pass::SparseHessian(k()?)),
        "jacfwd" => Ok(Pass::Jacfwd(k()?)),
        "jacrev" => Ok(Pass::Jacrev(k()?)),
        "vmap" => match number("SIZE")? {
            Some(n) => Ok(Pass::Vmap(n)),
            None => Err("vmap needs a batch size: vmap=SIZE".to_string()),
        },
        _ => Err(format!("unknown pass `{name}`; the passes are {PASSES}")),
    }
}

impl fmt::Display for Pass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pass::Jvp => write!(f, "jvp"),
            Pass::Vjp => write!(f, "vjp"),
            Pass::Grad(k) => write!(f, "grad={k}"),
            Pass::ValueAndGrad(k) => write!(f, "value_and_grad={k}"),
            Pass::Hessian(k) => write!(f, "hessian={k}"),
            Pass::SparseHessian(k) => write!(f, "sparse_hessian={k}"),
            Pass::Jacfwd(k) => write!(f, "jacfwd={k}"),
            Pass::Jacrev(k) => write!(f, "jacrev={k}"),
            Pass::Vmap(n) => write!(f, "vmap={n}"),
            Pass::Simplify => write!(f, "simplify"),
            Pass::Dce => write!(f, "dce"),
        }
    }
}

/// Applies one pass to `f`.
pub fn apply(pass: Pass, f: &Func) -> Result<Func, CliError> {
    apply_with_report(pass, f).map(|(g, _)| g)
}

/// Applies one pass to `f`; also returns the lines `--stats` adds for it
/// beyond the op counts (the report of `simplify`, the pattern and colours
/// of `sparse_hessian`), without their `stats: ` prefix.
pub fn apply_with_report(pass: Pass, f: &Func) -> Result<(Func, Vec<String>), CliError> {
    let ad = |r: Result<Func, saddle::ad::Error>| {
        r.map(|g| (g, Vec::new())).map_err(|e| CliError::msg(format!("pass {pass}: {e}")))
    };
    let report_lines = |r: SimplifyReport| {
        let mut lines: Vec<String> = r.to_string().lines().map(str::to_string).collect();
        lines.extend(r.warnings().iter().map(|w| format!("warning: {w}")));
        lines
    };
    match pass {
        Pass::Jvp => ad(saddle::ad::jvp(f)),
        Pass::Vjp => ad(saddle::ad::vjp(f)),
        Pass::Grad(k) => ad(saddle::ad::grad(f, k)),
        Pass::ValueAndGrad(k) => ad(saddle::ad::value_and_grad(f, k)),
        Pass::Hessian(k) => ad(saddle::ad::hessian(f, k)),
        Pass::SparseHessian(k) => {
            // No data here: every data argument is unknown, so the pattern
            // is a superset of the one any data gives.
            let h = saddle::ad::sparsity::sparse_hessian(f, k, &[])
                .map_err(|e| CliError::msg(format!("pass {pass}: {e}")))?;
            let note = format!(
                "sparse_hessian: n {}, nnz {} (both triangles), lower {} (with the whole diagonal), colours {} (data unknown)",
                h.dim(),
                h.pattern().nnz(),
                h.lower().nnz(),
                h.num_colours()
            );
            Ok((h.into_func(), vec![note]))
        }
        Pass::Jacfwd(k) => ad(saddle::ad::jacfwd(f, k)),
        Pass::Jacrev(k) => ad(saddle::ad::jacrev(f, k)),
        Pass::Vmap(n) => ad(saddle::ad::vmap_leading(f, n)),
        Pass::Simplify => simplify(f, &SimplifyOptions::default())
            .map(|(g, report)| (g, report_lines(report)))
            .map_err(|e| CliError::msg(format!("pass {pass}: {e}"))),
        Pass::Dce => {
            let mut g = f.clone();
            saddle::ir::passes::dce(&mut g);
            Ok((g, Vec::new()))
        }
    }
}

/// `N ops (add 2, const 3, ...)`.
pub fn op_summary(f: &Func) -> String {
    let counts = f.op_counts();
    let total: usize = counts.iter().map(|(_, n)| n).sum();
    let list: Vec<String> = counts.iter().map(|(name, n)| format!("{name} {n}")).collect();
    format!("{total} ops ({})", list.join(", "))
}

pub fn run(a: Args) -> Result<String, CliError> {
    let p = load_program(&a.file)?;
    let name = p.signature(a.func.as_deref())?.name.clone();
    let others: Vec<String> = p.signatures().map(|s| s.name.clone()).filter(|n| *n != name).collect();
    // The result first, under a name no other function of the module has.
    let free_name = |f: &mut Func| {
        let taken = |n: &str| others.iter().any(|g| g == n);
        if taken(f.name()) {
            let base = f.name().to_string();
            let name =
                (1..).map(|i| format!("{base}.{i}")).find(|n| !taken(n)).expect("an unbounded range has a free name");
            f.set_name(name);
        }
    };
    // A generic function is transformed at several bindings of its
    // variables and printed with them (`Program::print_transformed`).
    let mut stats: Option<Vec<String>> = None;
    let mut transform = |f: Func| {
        verify(&f).map_err(|e| CliError::msg(e.to_string()))?;
        let (mut g, s) = apply_all(&a.passes, f)?;
        stats.get_or_insert(s);
        free_name(&mut g);
        Ok::<Func, CliError>(g)
    };
    let mut rest = String::new();
    for other in &others {
        rest.push('\n');
        rest.push_str(&p.print_function(other, PrintOptions::default())?);
    }
    let vars = p.signature(Some(&name))?.vars.join(", ");
    let generic = !vars.is_empty();
    let text = if generic {
        p.print_transformed(Some(&name), PrintOptions::default(), transform)?
    } else {
        // Moved out of the program rather than copied: the passes then
        // hold the only copy of a large function.
        let f = p.into_func(Some(&name), "")?;
        Some(saddle::ir::print_func(&transform(f)?))
    };
    let Some(text) = text else {
        return Err(CliError::msg(format!(
            "the result of these passes on @{name} depends on its dimension variables ({vars}) in a way the text format cannot write; give the extents as numbers"
        )));
    };
    let stats = stats.unwrap_or_default();
    let mut out = text;
    out.push_str(&rest);
    if a.stats {
        // Statistics are a side note: a closed or full stderr must not
        // turn a successful transformation into a failure (or a panic).
        let _ = writeln!(std::io::stderr(), "{}", stats.join("\n"));
    }
    Ok(out)
}

/// `passes` applied in order to `original`, with the `--stats` lines.
fn apply_all(passes: &[Pass], original: Func) -> Result<(Func, Vec<String>), CliError> {
    let mut stats = vec![format!("stats: @{} before: {}", original.name(), op_summary(&original))];
    let mut f = original;
    for &pass in passes {
        let (g, report) = apply_with_report(pass, &f)?;
        f = g;
        stats.push(format!("stats: after {pass}: {}", op_summary(&f)));
        stats.extend(report.iter().map(|l| format!("stats: {l}")));
    }
    Ok((f, stats))
}
