//! Linear algebra. `dot_general` is bilinear: each product of a term makes
//! its two factors interact, and terms with a factor known to be zero
//! (a zero of a data matrix) are skipped, so a product with sparse data is
//! as sparse as the data. `cholesky` and `triangular_solve` are treated per
//! matrix of the batch: everything in a matrix interacts.

use saddle_ir::op::DotDims;

use super::{Ctx, DepsBuilder, Error, Out, Pairs, axis_offsets};

/// `dot_general`: result element `(b, i, j)` is `Σₖ lhs[b, i, k]·rhs[b, j, k]`.
pub(crate) fn dot_general(c: &Ctx<'_>, d: &DotDims, pairs: &mut Pairs) -> Result<Out, Error> {
    let (l, r) = (&c.tys[0].shape, &c.tys[1].shape);
    let lb = axis_offsets(l, &d.lhs_batch);
    let rb = axis_offsets(r, &d.rhs_batch);
    let lf = axis_offsets(l, &d.lhs_free(l.len()));
    let rf = axis_offsets(r, &d.rhs_free(r.len()));
    let lc = axis_offsets(l, &d.lhs_contract);
    let rc = axis_offsets(r, &d.rhs_contract);
    let with_deps = c.deps.iter().any(Option::is_some);
    let mut b = c.builder();
    let mut known = c.known.iter().all(Option::is_some).then(|| Vec::with_capacity(c.out.num_elements()));
    let mut sets: Vec<&[u32]> = Vec::new();
    for (&lbb, &rbb) in lb.iter().zip(&rb) {
        for &lff in &lf {
            for &rff in &rf {
                let (lbase, rbase) = (lbb + lff, rbb + rff);
                if with_deps {
                    sets.clear();
                    for (&lk, &rk) in lc.iter().zip(&rc) {
                        let (li, ri) = (lbase + lk, rbase + rk);
                        if c.is_zero(0, li) || c.is_zero(1, ri) {
                            continue;
                        }
                        let (sl, sr) = (c.set(0, li), c.set(1, ri));
                        pairs.add(sl, sr)?;
                        sets.push(sl);
                        sets.push(sr);
                    }
                    b.push_union(sets.iter().copied());
                }
                if let (Some(k), Some(lv), Some(rv)) = (known.as_mut(), c.known[0], c.known[1]) {
                    k.push(lc.iter().zip(&rc).map(|(&lk, &rk)| lv[lbase + lk] * rv[rbase + rk]).sum());
                }
            }
        }
    }
    Ok(Out { deps: if with_deps { b.finish() } else { None }, known })
}

/// The union of the sets of operand `k` over the last two axes, one per
/// matrix of the batch.
fn per_matrix(c: &Ctx<'_>, k: usize) -> Vec<Vec<u32>> {
    let shape = &c.tys[k].shape;
    let rank = shape.len();
    let size = shape[rank - 2] * shape[rank - 1];
    let count = shape[..rank - 2].iter().product::<usize>();
    (0..count)
        .map(|m| {
            let mut b = DepsBuilder::new(1, c.max_set);
            b.push_union((m * size..(m + 1) * size).map(|e| c.set(k, e)));
            b.finish().map_or_else(Vec::new, |d| d.set(0).to_vec())
        })
        .collect()
}

/// `cholesky`: every element of a factor's lower triangle depends on the
/// whole matrix, nonlinearly.
pub(crate) fn cholesky(c: &Ctx<'_>, pairs: &mut Pairs) -> Result<Out, Error> {
    if c.deps[0].is_none() {
        return Ok(Out::deps(None));
    }
    let n = c.out.shape[c.out.rank() - 1];
    let mut b = c.builder();
    for set in per_matrix(c, 0) {
        pairs.add_square(&set)?;
        for i in 0..n {
            for j in 0..n {
                if j <= i {
                    b.push_union([set.as_slice()]);
                } else {
                    b.push_empty();
                }
            }
        }
    }
    Ok(Out::deps(b.finish()))
}

/// `triangular_solve a, b`: the solution is nonlinear in `a` and linear in
/// `b`; each column (left side) or row (right side) of it depends on all
/// of `a` and on the same column or row of `b`.
pub(crate) fn triangular_solve(c: &Ctx<'_>, left_side: bool, pairs: &mut Pairs) -> Result<Out, Error> {
    if c.deps.iter().all(Option::is_none) {
        return Ok(Out::deps(None));
    }
    let a_sets = per_matrix(c, 0);
    let shape = &c.out.shape;
    let (rows, cols) = (shape[shape.len() - 2], shape[shape.len() - 1]);
    let mut b = c.builder();
    for (m, sa) in a_sets.iter().enumerate() {
        pairs.add_square(sa)?;
        let base = m * rows * cols;
        // The union of each column (left side) or row (right side) of b.
        let lines = if left_side { cols } else { rows };
        let line_sets: Vec<Vec<u32>> = (0..lines)
            .map(|l| {
                let mut lb = DepsBuilder::new(1, c.max_set);
                if left_side {
                    lb.push_union((0..rows).map(|i| c.set(1, base + i * cols + l)));
                } else {
                    lb.push_union((0..cols).map(|j| c.set(1, base + l * cols + j)));
                }
                lb.finish().map_or_else(Vec::new, |d| d.set(0).to_vec())
            })
            .collect();
        for sb in &line_sets {
            pairs.add(sa, sb)?;
        }
        for i in 0..rows {
            for j in 0..cols {
                let sb = &line_sets[if left_side { j } else { i }];
                b.push_union([sa.as_slice(), sb.as_slice()]);
            }
        }
    }
    Ok(Out::deps(b.finish()))
}
