//! Transpose rules of the linear-algebra ops: `dot_general` with one known
//! operand, `triangular_solve` in its right-hand side. `cholesky` is not
//! linear.

use saddle_ir::Tensor;
use saddle_ir::op::DotDims;

use super::{Arg, Cts, Ctx};

/// `dot_general lhs, rhs`: the cotangent contracted with the known operand
/// over the other operand's free axes, then permuted into place.
pub(crate) fn dot_general<'t>(c: &Ctx<'_, 't>, d: &DotDims) -> Cts<'t> {
    match (c.args[0], c.args[1]) {
        (Arg::Linear, Arg::Known { t: rhs, .. }) => {
            Ok(vec![Some(transpose_lhs(c.ct, rhs, d, c.types[0].rank())), None])
        }
        (Arg::Known { t: lhs, .. }, Arg::Linear) => {
            Ok(vec![None, Some(transpose_rhs(c.ct, lhs, d, c.types[1].rank()))])
        }
        (Arg::Linear, Arg::Linear) => Err(c.not_linear("both operands depend on the linear inputs")),
        (Arg::Known { .. }, Arg::Known { .. }) => Ok(vec![None, None]),
    }
}

/// The permutation that puts axis `src[q]` of a tensor at position
/// `src[q]`: the inverse of `src`.
fn argsort(src: &[usize]) -> Vec<usize> {
    let mut perm = vec![0; src.len()];
    for (q, &a) in src.iter().enumerate() {
        perm[a] = q;
    }
    perm
}

fn permute<'t>(t: Tensor<'t>, perm: &[usize]) -> Tensor<'t> {
    if perm.iter().enumerate().all(|(i, &p)| i == p) { t } else { t.transpose(perm) }
}

/// The cotangent of the left operand.
fn transpose_lhs<'t>(ct: Tensor<'t>, rhs: Tensor<'t>, d: &DotDims, lhs_rank: usize) -> Tensor<'t> {
    let nb = d.lhs_batch.len();
    let lhs_free = d.lhs_free(lhs_rank);
    let rhs_free = d.rhs_free(rhs.rank());
    let start = nb + lhs_free.len();
    let dims = DotDims {
        lhs_contract: (start..start + rhs_free.len()).collect(),
        rhs_contract: rhs_free,
        lhs_batch: (0..nb).collect(),
        rhs_batch: d.rhs_batch.clone(),
    };
    let r = ct.dot_general(rhs, dims);
    // Axes of r: the batch axes, the lhs free axes, then the rhs
    // contracting axes in increasing order, each standing for its lhs
    // partner.
    let mut pairs: Vec<(usize, usize)> = d.rhs_contract.iter().copied().zip(d.lhs_contract.iter().copied()).collect();
    pairs.sort_unstable();
    let mut src = d.lhs_batch.clone();
    src.extend(d.lhs_free(lhs_rank));
    src.extend(pairs.iter().map(|&(_, l)| l));
    permute(r, &argsort(&src))
}

/// The cotangent of the right operand.
fn transpose_rhs<'t>(ct: Tensor<'t>, lhs: Tensor<'t>, d: &DotDims, rhs_rank: usize) -> Tensor<'t> {
    let nb = d.lhs_batch.len();
    let lhs_free = d.lhs_free(lhs.rank());
    let dims = DotDims {
        lhs_contract: (nb..nb + lhs_free.len()).collect(),
        rhs_contract: lhs_free,
        lhs_batch: (0..nb).collect(),
        rhs_batch: d.lhs_batch.clone(),
    };
    let r = ct.dot_general(lhs, dims);
    let mut pairs: Vec<(usize, usize)> = d.lhs_contract.iter().copied().zip(d.rhs_contract.iter().copied()).collect();
    pairs.sort_unstable();
    let mut src = d.rhs_batch.clone();
    src.extend(d.rhs_free(rhs_rank));
    src.extend(pairs.iter().map(|&(_, r)| r));
    permute(r, &argsort(&src))
}

/// `triangular_solve a, b` with `a` known: solve with the transposed
/// triangle (`x = op(a)⁻¹ b` gives `b̄ = op(a)⁻ᵀ x̄`).
pub(crate) fn triangular_solve<'t>(
    c: &Ctx<'_, 't>,
    left_side: bool,
    lower: bool,
    transpose_a: bool,
    unit_diagonal: bool,
) -> Cts<'t> {
    let a = c.known(0)?;
    Ok(vec![None, Some(a.triangular_solve(c.ct, left_side, lower, !transpose_a, unit_diagonal))])
}
