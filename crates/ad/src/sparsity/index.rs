//! Indexing by data: `take` and `segment_sum` are linear, and with known
//! indices exact: a random-intercept model's `take` of group effects by
//! the group of each observation couples each observation with its own
//! group only. With unknown indices each result element depends on the
//! whole indexed axis.

use super::{Ctx, DepsBuilder, Error, Out};

/// `take x, idx {axis}`.
pub(crate) fn take(c: &Ctx<'_>, axis: usize) -> Result<Out, Error> {
    let x = &c.tys[0].shape;
    let outer: usize = x[..axis].iter().product();
    let extent = x[axis];
    let inner: usize = x[axis + 1..].iter().product();
    let m = c.tys[1].num_elements();
    let idx = c.index_values(1, "take", extent)?;
    let deps = match (&idx, c.deps[0]) {
        (_, None) => None,
        (Some(idx), Some(_)) => {
            let mut b = c.builder();
            for o in 0..outer {
                for &i in idx {
                    for q in 0..inner {
                        b.push_union([c.set(0, (o * extent + i) * inner + q)]);
                    }
                }
            }
            b.finish()
        }
        (None, Some(_)) => {
            // Unknown indices: the union over the axis, for each (outer, inner).
            let mut whole = DepsBuilder::new(outer * inner, c.max_set);
            for o in 0..outer {
                for q in 0..inner {
                    whole.push_union((0..extent).map(|p| c.set(0, (o * extent + p) * inner + q)));
                }
            }
            let whole = whole.finish();
            let mut b = c.builder();
            for o in 0..outer {
                for _ in 0..m {
                    for q in 0..inner {
                        b.push_union([whole.as_ref().map_or(&[][..], |w| w.set(o * inner + q))]);
                    }
                }
            }
            b.finish()
        }
    };
    let known = match (&idx, c.known[0]) {
        (Some(idx), Some(v)) => {
            let mut k = Vec::with_capacity(c.out.num_elements());
            for o in 0..outer {
                for &i in idx {
                    k.extend_from_slice(&v[(o * extent + i) * inner..(o * extent + i + 1) * inner]);
                }
            }
            Some(k)
        }
        _ => None,
    };
    Ok(Out { deps, known })
}

/// `segment_sum data, idx {num_segments}`.
pub(crate) fn segment_sum(c: &Ctx<'_>, num_segments: usize) -> Result<Out, Error> {
    let rows = c.tys[0].shape[0];
    let inner: usize = c.tys[0].shape[1..].iter().product();
    let idx = c.index_values(1, "segment_sum", num_segments)?;
    // The rows added into each segment (all rows when the indices are unknown).
    let groups: Vec<Vec<usize>> = match &idx {
        Some(idx) => {
            let mut g = vec![Vec::new(); num_segments];
            for (r, &s) in idx.iter().enumerate() {
                g[s].push(r);
            }
            g
        }
        None => Vec::new(),
    };
    let rows_of = |s: usize| -> &[usize] { groups.get(s).map_or(&[], Vec::as_slice) };
    let deps = c.deps[0].and_then(|_| {
        let mut b = c.builder();
        for s in 0..num_segments {
            for q in 0..inner {
                if idx.is_some() {
                    b.push_union(rows_of(s).iter().map(|&r| c.set(0, r * inner + q)));
                } else {
                    b.push_union((0..rows).map(|r| c.set(0, r * inner + q)));
                }
            }
        }
        b.finish()
    });
    let known = match (&idx, c.known[0]) {
        (Some(_), Some(v)) => Some(
            (0..num_segments)
                .flat_map(|s| (0..inner).map(move |q| (s, q)))
                .map(|(s, q)| rows_of(s).iter().map(|&r| v[r * inner + q]).sum())
                .collect(),
        ),
        _ => None,
    };
    Ok(Out { deps, known })
}
