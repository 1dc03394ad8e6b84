//! Reverse mode the JAX way: partial evaluation and transposition.
//!
//! A function whose parameters are split into *known* ones and *linear*
//! ones (the JVP of a function, with primals known and tangents linear) is
//! partially evaluated: every value that depends only on known parameters
//! is known (the primal computation and the residuals it hands to the
//! tangent computation); every other value is linear. [`emit`] copies the
//! known part forward and then walks the linear instructions backwards,
//! applying each op's transpose rule to the cotangent of its result and
//! accumulating the cotangents of its linear operands. There is no tape:
//! the reverse pass is IR, built once.
//!
//! Cotangents are `Option<Tensor>` with `None` a symbolic zero; an
//! instruction whose result has a zero cotangent costs nothing.
//!
//! The rules live in one file per op family, mirroring `saddle_ir::op`.

mod elementwise;
mod index;
mod layout;
mod linalg;
mod reduce;

use saddle_ir::{Error as IrError, Func, Op, Tensor, TensorType, Tracer, TypeError};

use crate::util::{accumulate, check, is_zero};
use crate::{Error, Result};

/// An operand as a transpose rule sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Arg<'t> {
    /// A known value; `zero` when it is zero by construction (allowed as
    /// an operand of `add`, `select`, `pad` or `concatenate` of linear
    /// values).
    Known {
        /// The value.
        t: Tensor<'t>,
        /// Whether it is a zero constant.
        zero: bool,
    },
    /// A linear value of this type (its cotangent is what the rule
    /// computes).
    Linear,
}

/// What a transpose rule sees of one linear instruction.
pub(crate) struct Ctx<'a, 't> {
    /// The tracer the rule writes into.
    pub tr: &'t Tracer,
    /// The op's name, for errors.
    pub name: &'static str,
    /// The operands.
    pub args: &'a [Arg<'t>],
    /// The operand types.
    pub types: &'a [&'a TensorType],
    /// The cotangent of the result.
    pub ct: Tensor<'t>,
}

/// Cotangent contributions, one per operand (`None` for known operands and
/// symbolic zeros).
pub(crate) type Cts<'t> = Result<Vec<Option<Tensor<'t>>>>;

impl<'t> Ctx<'_, 't> {
    /// Whether operand `i` is linear.
    pub fn linear(&self, i: usize) -> bool {
        matches!(self.args[i], Arg::Linear)
    }

    /// Operand `i`, which must be known.
    pub fn known(&self, i: usize) -> Result<Tensor<'t>> {
        match self.args[i] {
            Arg::Known { t, .. } => Ok(t),
            Arg::Linear => Err(self.not_linear(format!("operand {i} must not depend on the linear inputs"))),
        }
    }

    /// Checks that operand `i` is linear or a zero constant (a sum with a
    /// non-zero known term is affine, not linear).
    pub fn linear_or_zero(&self, i: usize) -> Result<()> {
        match self.args[i] {
            Arg::Linear | Arg::Known { zero: true, .. } => Ok(()),
            Arg::Known { zero: false, .. } => Err(self.not_linear(format!(
                "operand {i} is a non-zero value that does not depend on the linear inputs (the op is affine)"
            ))),
        }
    }

    /// The error for an op that is not linear in its linear operands.
    pub fn not_linear(&self, reason: impl Into<String>) -> Error {
        Error::NotLinear { op: self.name, reason: reason.into() }
    }

    /// `Some(c)` for a linear operand `i`, `None` for a known one.
    pub fn to(&self, i: usize, c: impl FnOnce() -> Tensor<'t>) -> Option<Tensor<'t>> {
        self.linear(i).then(c)
    }
}

/// The result of [`emit`].
pub(crate) struct Emitted<'t> {
    /// The known value of each result of the function (`None` for linear
    /// results).
    pub known: Vec<Option<Tensor<'t>>>,
    /// The cotangent of each parameter (`None` for known parameters and
    /// symbolic zeros).
    pub cts: Vec<Option<Tensor<'t>>>,
}

/// Partially evaluates and transposes `g` into `tr`.
///
/// `args` has one entry per parameter of `g`: `Some(value)` for a known
/// parameter, `None` for a linear one. `result_cts` has one cotangent per
/// result of `g`; cotangents of known results are dropped (a linear
/// function's results that do not depend on the linear inputs are zero).
pub(crate) fn emit<'t>(
    tr: &'t Tracer,
    g: &Func,
    args: &[Option<Tensor<'t>>],
    result_cts: &[Option<Tensor<'t>>],
) -> Result<Emitted<'t>> {
    if args.len() != g.num_params() {
        return Err(Error::Count { what: "transpose arguments", expected: g.num_params(), found: args.len() });
    }
    if result_cts.len() != g.results().len() {
        return Err(Error::Count { what: "cotangents", expected: g.results().len(), found: result_cts.len() });
    }
    let n = g.num_values();
    let mut val: Vec<Option<Tensor<'t>>> = Vec::with_capacity(n);
    val.extend_from_slice(args);
    let mut linear: Vec<bool> = args.iter().map(Option::is_none).collect();
    // Forward: the known part, in program order.
    for (v, inst) in g.iter_insts() {
        let lin = inst.args.iter().any(|a| linear[a.index()]);
        linear.push(lin);
        if lin {
            val.push(None);
            continue;
        }
        tr.set_location_override(g.loc(v));
        let xs: Vec<Tensor<'t>> = inst.args.iter().map(|a| val[a.index()].expect("known operand")).collect();
        let out = tr.op(inst.op.clone(), &xs);
        if let Some(name) = g.value_name(v) {
            out.named(name);
        }
        tr.set_location_override(None);
        check(tr)?;
        val.push(Some(out));
    }
    // Backward: the transpose of the linear part.
    let backward_start = tr.num_values();
    let mut ct: Vec<Option<Tensor<'t>>> = vec![None; n];
    for (r, c) in g.results().iter().zip(result_cts) {
        if let (true, Some(c)) = (linear[r.index()], c) {
            accumulate(&mut ct[r.index()], *c);
        }
    }
    for (v, inst) in g.iter_insts().rev() {
        if !linear[v.index()] {
            continue;
        }
        let Some(c) = ct[v.index()].take() else { continue };
        if let (Some(name), true) = (g.value_name(v), c.value().index() >= backward_start) {
            c.named(&format!("{}.ct", name.strip_suffix(".t").unwrap_or(name)));
        }
        let arg_list: Vec<Arg<'t>> = inst
            .args
            .iter()
            .map(|a| match val[a.index()] {
                Some(t) => Arg::Known { t, zero: is_zero(g, *a) },
                None => Arg::Linear,
            })
            .collect();
        let types: Vec<&TensorType> = inst.args.iter().map(|a| g.ty(*a)).collect();
        tr.set_location_override(g.loc(v));
        let contributions = rule(&inst.op, &Ctx { tr, name: inst.op.name(), args: &arg_list, types: &types, ct: c })?;
        tr.set_location_override(None);
        check(tr)?;
        for (k, (a, contribution)) in inst.args.iter().zip(contributions).enumerate() {
            let Some(contribution) = contribution else { continue };
            if !linear[a.index()] {
                continue;
            }
            if contribution.ty() != *g.ty(*a) {
                return Err(Error::Ir(IrError::Type {
                    error: TypeError::Mismatch {
                        op: inst.op.name(),
                        operand: k,
                        found: Box::new(contribution.ty()),
                        expected: Box::new(g.ty(*a).clone()),
                    },
                    loc: g.loc(v),
                }));
            }
            accumulate(&mut ct[a.index()], contribution);
        }
    }
    let known = g.results().iter().map(|r| val[r.index()]).collect();
    let cts = g.params().map(|p| if linear[p.index()] { ct[p.index()] } else { None }).collect();
    Ok(Emitted { known, cts })
}

/// The transpose rule of every op: the cotangent contributions of the
/// operands of a linear instruction, given the cotangent of its result.
fn rule<'t>(op: &Op, c: &Ctx<'_, 't>) -> Cts<'t> {
    match op {
        Op::Const(_) | Op::Iota { .. } => Err(c.not_linear("it has no operands")),
        Op::Unary(u) => elementwise::unary(c, *u),
        Op::Binary(b) => elementwise::binary(c, *b),
        Op::Compare(_) => Err(c.not_linear("a comparison is not linear")),
        Op::Select => elementwise::select(c),
        Op::Convert { .. } => elementwise::convert(c),
        Op::StopGradient => elementwise::stop_gradient(c),
        Op::BroadcastInDim { dims, .. } => layout::broadcast_in_dim(c, dims),
        Op::Reshape { .. } => layout::reshape(c),
        Op::Transpose { perm } => layout::transpose(c, perm),
        Op::Reduce { kind, axes } => reduce::reduce(c, *kind, axes),
        Op::Slice { start, stride, .. } => layout::slice(c, start, stride),
        Op::Pad { low, interior, .. } => layout::pad(c, low, interior),
        Op::Concatenate { axis } => layout::concatenate(c, *axis),
        Op::DotGeneral(d) => linalg::dot_general(c, d),
        Op::Cholesky => Err(c.not_linear("cholesky is not linear")),
        Op::TriangularSolve { left_side, lower, transpose_a, unit_diagonal } => {
            linalg::triangular_solve(c, *left_side, *lower, *transpose_a, *unit_diagonal)
        }
        Op::Take { axis } => index::take(c, *axis),
        Op::SegmentSum { .. } => index::segment_sum(c),
    }
}
