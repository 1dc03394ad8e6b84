//! JVP rules of the layout ops: each is linear, so the tangent goes
//! through the same op.

use saddle_ir::{Op, TensorType};

use super::{Ctx, Tangent};
use crate::util::or_zeros;

/// `broadcast_in_dim`, `reshape`, `transpose`, `slice`: the op applied to
/// the tangent.
pub(crate) fn same_op<'t>(c: &Ctx<'_, 't>, op: &Op) -> Tangent<'t> {
    Some(c.tr.op(op.clone(), &[c.t[0]?]))
}

/// `pad x, v`: the tangent of `x` padded with the tangent of `v`.
pub(crate) fn pad<'t>(c: &Ctx<'_, 't>, op: &Op) -> Tangent<'t> {
    let tx = or_zeros(c.tr, c.t[0], &c.x[0].ty());
    let tv = or_zeros(c.tr, c.t[1], &TensorType::scalar(c.x[0].dtype()));
    Some(c.tr.op(op.clone(), &[tx, tv]))
}

/// `concatenate`: the tangents joined (zeros for symbolic zeros).
pub(crate) fn concatenate<'t>(c: &Ctx<'_, 't>, op: &Op) -> Tangent<'t> {
    let parts: Vec<_> = c.x.iter().zip(c.t).map(|(x, t)| or_zeros(c.tr, *t, &x.ty())).collect();
    Some(c.tr.op(op.clone(), &parts))
}
