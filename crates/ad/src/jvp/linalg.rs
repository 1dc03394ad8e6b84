//! JVP rules of the linear-algebra ops.
//!
//! - `dot_general` is bilinear: `dot(ṫx, y) + dot(x, ṫy)`.
//! - `cholesky` (the forward rule of Murray, "Differentiation of the
//!   Cholesky decomposition", 2016, as JAX uses it): with `L = chol(A)`,
//!   `L̇ = L · Φ(L⁻¹ Ȧ L⁻ᵀ)` where `Φ` keeps the strict lower triangle and
//!   halves the diagonal. Like JAX, the rule reads both triangles of `Ȧ`,
//!   so it assumes a symmetric input and a symmetric tangent.
//! - `triangular_solve`: `x = op(a)⁻¹ b` gives
//!   `ẋ = op(a)⁻¹ (ḃ − op(ȧ) x)` (and the mirror image for the right-side
//!   solve), where only the triangle of `ȧ` that the solve reads counts.

use saddle_ir::op::DotDims;
use saddle_ir::{Tensor, TensorType};

use super::{Ctx, Tangent};
use crate::util::{add_opt, matmul, swap_last2, triangle_mask};

/// `dot_general`: the product rule.
pub(crate) fn dot_general<'t>(c: &Ctx<'_, 't>, d: &DotDims) -> Tangent<'t> {
    let (x, y) = (c.x[0], c.x[1]);
    add_opt(c.t[0].map(|t| t.dot_general(y, d.clone())), c.t[1].map(|t| x.dot_general(t, d.clone())))
}

/// `cholesky`: `L̇ = L · Φ(L⁻¹ Ȧ L⁻ᵀ)`.
pub(crate) fn cholesky<'t>(c: &Ctx<'_, 't>) -> Tangent<'t> {
    let (tr, l, sigma_dot) = (c.tr, c.out, c.t[0]?);
    let shape = l.shape();
    let r = shape.len();
    let n = shape[r - 1];
    // X · Lᵀ = Ȧ, then L · Y = X: Y = L⁻¹ Ȧ L⁻ᵀ.
    let tmp = l.triangular_solve(sigma_dot, false, true, true, false);
    let inner = l.triangular_solve(tmp, true, true, false, false);
    // Φ: the strict lower triangle and half the diagonal.
    let ty = TensorType::new(saddle_ir::DType::I64, [n, n]);
    let (i, j) = (tr.iota(&ty, 0), tr.iota(&ty, 1));
    let fty = TensorType::new(l.dtype(), [n, n]);
    let diag = i.eq(j).select(tr.full(&fty, 0.5), tr.full(&fty, 0.0));
    let phi_mask = i.gt(j).select(tr.full(&fty, 1.0), diag);
    let phi_mask = if r == 2 { phi_mask } else { phi_mask.broadcast_in_dim(&shape, &[r - 2, r - 1]) };
    Some(matmul(l, inner * phi_mask))
}

/// `triangular_solve a, b`: the tangent of `b` solved the same way, plus
/// the contribution of the tangent of `a`, in whichever order of solve and
/// product is cheaper (as JAX orders them).
pub(crate) fn triangular_solve<'t>(
    c: &Ctx<'_, 't>,
    left_side: bool,
    lower: bool,
    transpose_a: bool,
    unit_diagonal: bool,
) -> Tangent<'t> {
    let (a, x) = (c.x[0], c.out);
    let a_inverse = |rhs: Tensor<'t>| a.triangular_solve(rhs, left_side, lower, transpose_a, unit_diagonal);
    let from_b = c.t[1].map(a_inverse);
    let from_a = c.t[0].map(|ta| {
        let shape = ta.shape();
        let mask = triangle_mask(c.tr, &shape, lower, unit_diagonal);
        let g = -mask.select(ta, 0.0);
        let g = if transpose_a { swap_last2(g) } else { g };
        let xs = x.shape();
        let (m, k) = (xs[xs.len() - 2], xs[xs.len() - 1]);
        if left_side {
            if m > k { a_inverse(matmul(g, x)) } else { matmul(a_inverse(g), x) }
        } else if m < k {
            a_inverse(matmul(x, g))
        } else {
            matmul(x, a_inverse(g))
        }
    });
    add_opt(from_a, from_b)
}
