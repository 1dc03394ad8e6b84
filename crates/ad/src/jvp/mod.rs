//! Forward mode: the Jacobian-vector product of a function.
//!
//! [`emit`] replays a function into a [`Tracer`], computing for every value
//! its primal copy and its tangent. A tangent is `Option<Tensor>`: `None`
//! is a symbolic zero that costs nothing, and every rule short-circuits on
//! it. Integer and bool values never carry a tangent; `stop_gradient`,
//! comparisons, `sign`, `const` and `iota` produce a symbolic zero.
//!
//! The rules live in one file per op family, mirroring `saddle_ir::op`.

mod elementwise;
mod index;
mod layout;
mod linalg;
mod reduce;

use saddle_ir::{Func, Op, Tensor, Tracer};

use crate::util::check;
use crate::{Error, Result};

/// A tangent: `None` is a symbolic zero.
pub(crate) type Tangent<'t> = Option<Tensor<'t>>;

/// What a JVP rule sees of one instruction.
pub(crate) struct Ctx<'a, 't> {
    /// The tracer the rule writes into.
    pub tr: &'t Tracer,
    /// The primal operands (already copied into `tr`).
    pub x: &'a [Tensor<'t>],
    /// Their tangents.
    pub t: &'a [Tangent<'t>],
    /// The primal result.
    pub out: Tensor<'t>,
}

/// Replays `f` into `tr` on `primals` with `tangents` (one per parameter);
/// returns the primal results and their tangents.
pub(crate) fn emit<'t>(
    tr: &'t Tracer,
    f: &Func,
    primals: &[Tensor<'t>],
    tangents: &[Tangent<'t>],
) -> Result<(Vec<Tensor<'t>>, Vec<Tangent<'t>>)> {
    if primals.len() != f.num_params() || tangents.len() != f.num_params() {
        return Err(Error::Count { what: "jvp arguments", expected: f.num_params(), found: primals.len() });
    }
    let mut x: Vec<Tensor<'t>> = Vec::with_capacity(f.num_values());
    let mut t: Vec<Tangent<'t>> = Vec::with_capacity(f.num_values());
    x.extend_from_slice(primals);
    t.extend(tangents.iter().zip(f.param_types()).map(|(t, ty)| t.filter(|_| ty.dtype.is_float())));
    for (v, inst) in f.iter_insts() {
        tr.set_location_override(f.loc(v));
        let xs: Vec<Tensor<'t>> = inst.args.iter().map(|a| x[a.index()]).collect();
        let out = tr.op(inst.op.clone(), &xs);
        if let Some(name) = f.value_name(v) {
            out.named(name);
        }
        let ts: Vec<Tangent<'t>> = inst.args.iter().map(|a| t[a.index()]).collect();
        let tangent = if !f.ty(v).dtype.is_float() || ts.iter().all(Option::is_none) {
            None
        } else {
            let mark = tr.num_values();
            let r = rule(&inst.op, &Ctx { tr, x: &xs, t: &ts, out })?;
            if let (Some(r), Some(name)) = (r, f.value_name(v)) {
                if r.value().index() >= mark {
                    r.named(&format!("{name}.t"));
                }
            }
            r
        };
        tr.set_location_override(None);
        check(tr)?;
        x.push(out);
        t.push(tangent);
    }
    let outs = f.results().iter().map(|r| x[r.index()]).collect();
    let touts = f.results().iter().map(|r| t[r.index()]).collect();
    Ok((outs, touts))
}

/// The JVP rule of every op: the tangent of the result, given at least one
/// non-zero operand tangent and a float result.
fn rule<'t>(op: &Op, c: &Ctx<'_, 't>) -> Result<Tangent<'t>> {
    Ok(match op {
        Op::Const(_) | Op::Iota { .. } => None,
        Op::Unary(u) => elementwise::unary(c, *u),
        Op::Binary(b) => elementwise::binary(c, *b),
        Op::Compare(_) => None,
        Op::Select => elementwise::select(c),
        Op::Convert { dtype } => elementwise::convert(c, *dtype),
        Op::StopGradient => None,
        Op::BroadcastInDim { .. } | Op::Reshape { .. } | Op::Transpose { .. } | Op::Slice { .. } => {
            layout::same_op(c, op)
        }
        Op::Pad { .. } => layout::pad(c, op),
        Op::Concatenate { .. } => layout::concatenate(c, op),
        Op::Reduce { kind, axes } => reduce::reduce(c, *kind, axes),
        Op::DotGeneral(d) => linalg::dot_general(c, d),
        Op::Cholesky => linalg::cholesky(c),
        Op::TriangularSolve { left_side, lower, transpose_a, unit_diagonal } => {
            linalg::triangular_solve(c, *left_side, *lower, *transpose_a, *unit_diagonal)
        }
        Op::Take { axis } => index::take(c, *axis),
        Op::SegmentSum { num_segments } => index::segment_sum(c, *num_segments),
    })
}

/// The JVP of `f` as a function: the parameters of `f`, then one tangent
/// per float parameter in `wrt` (all float parameters when `wrt` is
/// `None`); the results of `f`, then one tangent per float result
/// (materialised as zeros where symbolically zero).
pub(crate) fn jvp_func(f: &Func, wrt: Option<&[usize]>) -> Result<Func> {
    crate::api::build(&format!("{}_jvp", f.name()), |tr| {
        let params = copy_params(tr, f);
        let with_tangent = |k: usize| f.param_types()[k].dtype.is_float() && wrt.is_none_or(|w| w.contains(&k));
        let tangents: Vec<Tangent<'_>> = (0..f.num_params())
            .map(|k| {
                with_tangent(k).then(|| {
                    let t = tr.param(f.param_types()[k].clone());
                    match f.value_name(saddle_ir::Value::from_index(k)) {
                        Some(n) => t.named(&format!("{n}.t")),
                        None => t,
                    }
                })
            })
            .collect();
        let (outs, touts) = emit(tr, f, &params, &tangents)?;
        let mut results = outs.clone();
        for (o, t) in outs.iter().zip(&touts) {
            if o.dtype().is_float() {
                results.push(t.unwrap_or_else(|| tr.zeros(&o.ty())));
            }
        }
        Ok(results)
    })
}

/// Adds the parameters of `f` (with their names) to `tr`.
pub(crate) fn copy_params<'t>(tr: &'t Tracer, f: &Func) -> Vec<Tensor<'t>> {
    f.params()
        .map(|p| {
            let t = tr.param(f.ty(p).clone());
            match f.value_name(p) {
                Some(n) => t.named(n),
                None => t,
            }
        })
        .collect()
}
