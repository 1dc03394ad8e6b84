//! Transpose rules of the reductions: `reduce_sum` transposes to a
//! broadcast; `reduce_max` and `reduce_min` are not linear.

use saddle_ir::op::ReduceKind;

use super::{Cts, Ctx};

/// `reduce_sum x {axes}`: the cotangent broadcast back over `axes`.
pub(crate) fn reduce<'t>(c: &Ctx<'_, 't>, kind: ReduceKind, axes: &[usize]) -> Cts<'t> {
    match kind {
        ReduceKind::Sum => {
            let x = c.types[0];
            let kept: Vec<usize> = (0..x.rank()).filter(|a| !axes.contains(a)).collect();
            Ok(vec![Some(c.ct.broadcast_in_dim(&x.shape, &kept))])
        }
        ReduceKind::Max | ReduceKind::Min => Err(c.not_linear(format!("{} is not linear", kind.name()))),
    }
}
