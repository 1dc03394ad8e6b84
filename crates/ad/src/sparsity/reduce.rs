//! Reductions: each result element depends on the elements it reduces.
//! `reduce_sum` is linear and `reduce_max`/`reduce_min` are linear almost
//! everywhere, so none adds an interaction: a sum of separable terms keeps
//! a diagonal Hessian.

use saddle_ir::op::ReduceKind;

use super::{Ctx, Out, axis_offsets};

/// `reduce_sum`, `reduce_max`, `reduce_min`.
pub(crate) fn reduce(c: &Ctx<'_>, kind: ReduceKind, axes: &[usize]) -> Out {
    let x = &c.tys[0].shape;
    let kept: Vec<usize> = (0..x.len()).filter(|a| !axes.contains(a)).collect();
    let bases = axis_offsets(x, &kept);
    let offsets = axis_offsets(x, axes);
    let deps = c.deps[0].and_then(|_| {
        let mut b = c.builder();
        for &base in &bases {
            b.push_union(offsets.iter().map(|&o| c.set(0, base + o)));
        }
        b.finish()
    });
    let known = match kind {
        ReduceKind::Sum => {
            c.known[0].map(|v| bases.iter().map(|&base| offsets.iter().map(|&o| v[base + o]).sum()).collect())
        }
        ReduceKind::Max | ReduceKind::Min => None,
    };
    Out { deps, known }
}
