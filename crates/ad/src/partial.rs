//! Partial evaluation of a JVP into a primal function and a linear one.

use saddle_ir::{Func, Tensor, Tracer, Value};

use crate::api::{Linearized, build};
use crate::jvp::copy_params;
use crate::{Error, Result};

/// Splits `g`, the JVP of `f` (the parameters of `f`, then tangents; the
/// results of `f`, then tangents), into the part that depends on the
/// primal parameters alone and the part that depends on the tangents.
///
/// Values computed by the primal part and used by the linear part become
/// residuals: results of the primal function and parameters of the linear
/// one. Constants and `iota` are copied instead of passed.
pub(crate) fn split(g: &Func, f: &Func) -> Result<Linearized> {
    let n = f.num_params();
    let nres = f.results().len();
    let mut linear = vec![false; g.num_values()];
    linear[n..g.num_params()].fill(true);
    for (v, inst) in g.iter_insts() {
        linear[v.index()] = inst.args.iter().any(|a| linear[a.index()]);
    }
    let is_nullary = |v: Value| g.inst(v).is_some_and(|i| i.args.is_empty());
    // Residuals, in order of first use.
    let mut residuals: Vec<Value> = Vec::new();
    let mut is_residual = vec![false; g.num_values()];
    let mut want = |v: Value, residuals: &mut Vec<Value>| {
        if !linear[v.index()] && !is_nullary(v) && !is_residual[v.index()] {
            is_residual[v.index()] = true;
            residuals.push(v);
        }
    };
    for (v, inst) in g.iter_insts() {
        if linear[v.index()] {
            for &a in &inst.args {
                want(a, &mut residuals);
            }
        }
    }
    for &r in &g.results()[nres..] {
        want(r, &mut residuals);
    }
    if g.results()[..nres].iter().any(|r| linear[r.index()]) {
        return Err(Error::Internal("a primal result depends on a tangent".into()));
    }

    let primal = build(&format!("{}_primal", f.name()), |tr| {
        let mut val: Vec<Option<Tensor<'_>>> = copy_params(tr, f).into_iter().map(Some).collect();
        val.resize(g.num_values(), None);
        for (v, inst) in g.iter_insts() {
            if linear[v.index()] {
                continue;
            }
            let xs: Vec<Tensor<'_>> = inst.args.iter().map(|a| val[a.index()].expect("known operand")).collect();
            let out = tr.op(inst.op.clone(), &xs);
            if let Some(name) = g.value_name(v) {
                out.named(name);
            }
            val[v.index()] = Some(out);
        }
        let mut results: Vec<Tensor<'_>> = g.results()[..nres].iter().map(|r| val[r.index()].expect("known")).collect();
        results.extend(residuals.iter().map(|r| val[r.index()].expect("known")));
        Ok(results)
    })?;

    let linear_func = build(&format!("{}_linear", f.name()), |tr| {
        let mut val: Vec<Option<Tensor<'_>>> = vec![None; g.num_values()];
        for &r in &residuals {
            let t = tr.param(g.ty(r).clone());
            val[r.index()] = Some(match g.value_name(r) {
                Some(name) => t.named(name),
                None => t,
            });
        }
        for p in g.params().skip(n) {
            let t = tr.param(g.ty(p).clone());
            val[p.index()] = Some(match g.value_name(p) {
                Some(name) => t.named(name),
                None => t,
            });
        }
        for (v, inst) in g.iter_insts() {
            if !linear[v.index()] {
                continue;
            }
            let xs = inst.args.iter().map(|&a| get(tr, g, &mut val, a)).collect::<Result<Vec<_>>>()?;
            let out = tr.op(inst.op.clone(), &xs);
            if let Some(name) = g.value_name(v) {
                out.named(name);
            }
            val[v.index()] = Some(out);
        }
        g.results()[nres..].iter().map(|&r| get(tr, g, &mut val, r)).collect()
    })?;
    Ok(Linearized { primal, linear: linear_func, num_residuals: residuals.len() })
}

/// The value `v` in the linear function: a residual or linear value
/// already there, or a constant (or `iota`) copied on first use.
fn get<'t>(tr: &'t Tracer, g: &Func, val: &mut [Option<Tensor<'t>>], v: Value) -> Result<Tensor<'t>> {
    if let Some(t) = val[v.index()] {
        return Ok(t);
    }
    match g.inst(v) {
        Some(inst) if inst.args.is_empty() => {
            let t = tr.op(inst.op.clone(), &[]);
            val[v.index()] = Some(t);
            Ok(t)
        }
        _ => Err(Error::Internal(format!("{v} is neither a residual nor linear"))),
    }
}
