//! The canonical, deterministic printer of the text format.

use std::borrow::Cow;
use std::fmt::{self, Write};

use rustc_hash::FxHashSet;

use crate::op::Unary;
use crate::{Array, Func, Literal, Module, Op, Value};

/// Printer options.
#[derive(Clone, Copy, Debug, Default)]
pub struct PrintOptions {
    /// Append `# at FILE:LINE:COL` to statements whose source location is
    /// known (the Rust call site of a traced op).
    pub locations: bool,
}

/// Prints a module in canonical text.
///
/// ```
/// use saddle_ir::{parse_module, print_module};
/// let text = "func @f(%x: f64[]) -> f64[] {\n  %y: f64[] = exp %x\n  return %y\n}\n";
/// let m = parse_module("f.sir", text).unwrap();
/// assert_eq!(print_module(&m), text);
/// ```
pub fn print_module(m: &Module) -> String {
    print_module_with(m, PrintOptions::default())
}

/// Prints a module with options.
pub fn print_module_with(m: &Module, opts: PrintOptions) -> String {
    let mut out = String::new();
    for (i, f) in m.funcs.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        write_func(&mut out, f, opts).expect("writing to a String cannot fail");
    }
    out
}

/// Prints one function in canonical text.
pub fn print_func(f: &Func) -> String {
    print_func_with(f, PrintOptions::default())
}

/// Prints one function with options.
pub fn print_func_with(f: &Func, opts: PrintOptions) -> String {
    let mut out = String::new();
    write_func(&mut out, f, opts).expect("writing to a String cannot fail");
    out
}

impl fmt::Display for Func {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&print_func(self))
    }
}

impl fmt::Display for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&print_module(self))
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

/// The printed name (without `%`) of every value of `f`, indexed by
/// [`Value::index`]: explicit names are kept where valid and unique;
/// others get the smallest free number, in program order.
pub fn value_names(f: &Func) -> Vec<String> {
    names_of(f).into_iter().map(Cow::into_owned).collect()
}

/// [`value_names`], borrowing the function's own names where they are
/// kept as they are (a parsed function's, all of them), so that printing a
/// large function allocates nothing per value.
fn names_of(f: &Func) -> Vec<Cow<'_, str>> {
    let sanitized: Vec<Option<Cow<'_, str>>> = (0..f.num_values())
        .map(|i| {
            f.value_name(Value::from_index(i)).filter(|n| !n.is_empty()).map(|n| {
                if n.chars().all(is_name_char) {
                    Cow::Borrowed(n)
                } else {
                    Cow::Owned(n.chars().map(|c| if is_name_char(c) { c } else { '_' }).collect())
                }
            })
        })
        .collect();
    let explicit: FxHashSet<&str> = sanitized.iter().flatten().map(|n| n.as_ref()).collect();
    if explicit.len() == sanitized.len() {
        // Every value has a name of its own (a parsed function): they are
        // printed as they are, without a second set of the names in use.
        drop(explicit);
        return sanitized.into_iter().flatten().collect();
    }
    let mut used: FxHashSet<Cow<'_, str>> = FxHashSet::default();
    used.reserve(f.num_values());
    let mut counter = 0usize;
    let mut names = Vec::with_capacity(f.num_values());
    for name in &sanitized {
        let chosen: Cow<'_, str> = match name {
            Some(n) if !used.contains(n.as_ref()) => n.clone(),
            Some(n) => Cow::Owned(
                (1..)
                    .map(|k| format!("{n}.{k}"))
                    .find(|c| !used.contains(c.as_str()) && !explicit.contains(c.as_str()))
                    .expect("an unbounded range yields a free name"),
            ),
            None => loop {
                let c = counter.to_string();
                counter += 1;
                if !used.contains(c.as_str()) && !explicit.contains(c.as_str()) {
                    break Cow::Owned(c);
                }
            },
        };
        used.insert(chosen.clone());
        names.push(chosen);
    }
    names
}

pub(crate) fn write_func(out: &mut String, f: &Func, opts: PrintOptions) -> fmt::Result {
    let names = names_of(f);
    write!(out, "func @{}(", f.name())?;
    for (i, v) in f.params().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write!(out, "%{}: {}", names[v.index()], f.ty(v))?;
    }
    out.push_str(") -> ");
    let results = f.result_types();
    if results.len() == 1 {
        write!(out, "{}", results[0])?;
    } else {
        out.push('(');
        for (i, t) in results.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            write!(out, "{t}")?;
        }
        out.push(')');
    }
    out.push_str(" {\n");
    for (v, inst) in f.iter_insts() {
        out.push_str("  %");
        out.push_str(&names[v.index()]);
        write!(out, ": {} = ", f.ty(v))?;
        out.push_str(inst.op.name());
        for (i, a) in inst.args.iter().enumerate() {
            out.push_str(if i == 0 { " %" } else { ", %" });
            out.push_str(&names[a.index()]);
        }
        let attrs = attrs(&inst.op);
        if !attrs.is_empty() {
            out.push_str(" {");
            for (i, (k, val)) in attrs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write!(out, "{k} = {val}")?;
            }
            out.push('}');
        }
        if opts.locations {
            if let Some(loc) = f.loc(v) {
                write!(out, "  # at {loc}")?;
            }
        }
        out.push('\n');
    }
    out.push_str("  return ");
    for (i, r) in f.results().iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write!(out, "%{}", names[r.index()])?;
    }
    out.push_str("\n}\n");
    Ok(())
}

fn list(v: &[usize]) -> String {
    let items: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    format!("[{}]", items.join(", "))
}

/// The attributes of `op` as printed, in canonical order, leaving out those
/// equal to their defaults.
pub fn attrs(op: &Op) -> Vec<(&'static str, String)> {
    match op {
        Op::Const(lit) => vec![("value", literal_text(lit))],
        Op::Iota { dim, .. } => vec![("dim", dim.to_string())],
        Op::Unary(Unary::Polygamma { n }) => vec![("n", n.to_string())],
        Op::Unary(Unary::IntegerPow { y }) => vec![("y", y.to_string())],
        Op::Unary(_) | Op::Binary(_) | Op::Compare(_) | Op::Select | Op::StopGradient | Op::Cholesky => vec![],
        Op::Convert { dtype } => vec![("dtype", dtype.to_string())],
        Op::BroadcastInDim { shape, dims } => vec![("shape", list(shape)), ("dims", list(dims))],
        Op::Reshape { shape } => vec![("shape", list(shape))],
        Op::Transpose { perm } => vec![("perm", list(perm))],
        Op::Reduce { axes, .. } => vec![("axes", list(axes))],
        Op::Slice { start, limit, stride } => {
            let mut a = vec![("start", list(start)), ("limit", list(limit))];
            if stride.iter().any(|&s| s != 1) {
                a.push(("stride", list(stride)));
            }
            a
        }
        Op::Pad { low, high, interior } => {
            let mut a = vec![("low", list(low)), ("high", list(high))];
            if interior.iter().any(|&s| s != 0) {
                a.push(("interior", list(interior)));
            }
            a
        }
        Op::Concatenate { axis } => vec![("axis", axis.to_string())],
        Op::DotGeneral(d) => {
            let mut a = vec![("lhs_contract", list(&d.lhs_contract)), ("rhs_contract", list(&d.rhs_contract))];
            if !d.lhs_batch.is_empty() || !d.rhs_batch.is_empty() {
                a.push(("lhs_batch", list(&d.lhs_batch)));
                a.push(("rhs_batch", list(&d.rhs_batch)));
            }
            a
        }
        Op::Take { axis } => {
            if *axis == 0 {
                vec![]
            } else {
                vec![("axis", axis.to_string())]
            }
        }
        Op::SegmentSum { num_segments } => vec![("num_segments", num_segments.to_string())],
        Op::TriangularSolve { left_side, lower, transpose_a, unit_diagonal } => {
            let mut a = vec![];
            if !left_side {
                a.push(("left_side", "false".to_string()));
            }
            if !lower {
                a.push(("lower", "false".to_string()));
            }
            if *transpose_a {
                a.push(("transpose_a", "true".to_string()));
            }
            if *unit_diagonal {
                a.push(("unit_diagonal", "true".to_string()));
            }
            a
        }
    }
}

/// The text of a literal: one number for a splat, nested lists otherwise.
pub fn literal_text(lit: &Literal) -> String {
    match lit {
        Literal::Splat { value, .. } => value.to_string(),
        Literal::Dense(a) => {
            let mut out = String::new();
            let scalars = a.scalars();
            write_nested(&mut out, a, &scalars, 0, 0);
            out
        }
    }
}

fn write_nested(out: &mut String, a: &Array, scalars: &[crate::Scalar], axis: usize, offset: usize) {
    let shape = a.shape();
    if axis == shape.len() {
        let _ = write!(out, "{}", scalars[offset]);
        return;
    }
    let stride: usize = shape[axis + 1..].iter().product();
    out.push('[');
    for i in 0..shape[axis] {
        if i > 0 {
            out.push_str(", ");
        }
        write_nested(out, a, scalars, axis + 1, offset + i * stride);
    }
    out.push(']');
}
