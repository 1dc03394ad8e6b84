//! JVP rules of the reductions.
//!
//! `reduce_max` and `reduce_min` share the tangent equally among the
//! elements that attain the extremum (JAX's convention), so the derivative
//! of the maximum of `[x, x]` with respect to each element is 1/2.

use saddle_ir::op::ReduceKind;

use super::{Ctx, Tangent};

/// `reduce_sum` is linear; `reduce_max` and `reduce_min` average the
/// tangents of the elements at the extremum.
pub(crate) fn reduce<'t>(c: &Ctx<'_, 't>, kind: ReduceKind, axes: &[usize]) -> Tangent<'t> {
    let t = c.t[0]?;
    Some(match kind {
        ReduceKind::Sum => t.sum(axes),
        ReduceKind::Max | ReduceKind::Min => {
            let x = c.x[0];
            let kept: Vec<usize> = (0..x.rank()).filter(|a| !axes.contains(a)).collect();
            let out = c.out.broadcast_in_dim(&x.shape(), &kept);
            let at = x.eq(out).select(x.scalar_like(1.0), x.scalar_like(0.0));
            (t * at).sum(axes) / at.sum(axes)
        }
    })
}
