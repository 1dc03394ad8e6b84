//! Log densities of multivariate distributions: the multivariate normal by
//! its Cholesky factor, the LKJ distribution on Cholesky factors of
//! correlation matrices, and the Dirichlet.

use super::helpers::{LOG_SQRT_2PI, diagonal, lbeta};
use super::{bcast, float_dtype};
use crate::trace::Operand;
use crate::{Tensor, TypeError};

/// Fails unless `l` is a `[..., K, K]` stack of matrices, returning `K`.
#[track_caller]
fn square_extent(name: &'static str, l: Tensor<'_>) -> Option<usize> {
    let s = l.shape();
    let r = s.len();
    if r >= 2 && s[r - 1] == s[r - 2] {
        return Some(s[r - 1]);
    }
    l.tracer().fail(TypeError::invalid_operand(
        name,
        2,
        format!("needs square matrices [..., K, K], found {}", l.ty()),
    ));
    None
}

/// `Σ log N(x | μ, L Lᵀ)`: each row `x[..., :]` (`[..., K]`) is normal with
/// mean `μ` (broadcasting against `x`) and covariance `L Lᵀ` for the lower
/// triangular factor `L` (`[K, K]`, positive diagonal).
///
/// ```
/// use saddle_ir::{dist, trace, TensorType};
/// let f = trace("mvn", &[TensorType::f64([10, 3]), TensorType::f64([3]), TensorType::f64([3, 3])], |a| {
///     vec![dist::multi_normal_cholesky_lpdf(a[0], a[1], a[2])]
/// })
/// .unwrap();
/// assert_eq!(f.result_types(), vec![TensorType::f64([])]);
/// ```
#[track_caller]
pub fn multi_normal_cholesky_lpdf<'t>(x: Tensor<'t>, mu: impl Operand<'t>, l: Tensor<'t>) -> Tensor<'t> {
    let name = "multi_normal_cholesky_lpdf";
    let dt = float_dtype(&[Some(x), mu.as_tensor(), Some(l)]);
    let x = x.convert(dt);
    let l = l.convert(dt);
    let [x, mu] = bcast(name, [x, mu.to_tensor(x).convert(dt)]);
    let Some(k) = square_extent(name, l) else { return x };
    if l.rank() != 2 || x.shape().last() != Some(&k) {
        return x.tracer().fail(TypeError::invalid(
            name,
            format!("x {} must be [..., K] for the factor [K, K], found {}", x.ty(), l.ty()),
        ));
    }
    let rows = (x.ty().num_elements() / k.max(1)).max(1);
    let d = (x - mu).reshape(&[rows, k]);
    // z Lᵀ = d: each row of z is L⁻¹ (x - μ).
    let z = l.triangular_solve(d, false, true, true, false);
    let log_det = diagonal(l).log().sum_all();
    -0.5 * z.square().sum_all() - log_det * rows as f64 - (rows * k) as f64 * LOG_SQRT_2PI
}

/// `Σ log LKJCholesky(L | η)`: the LKJ density `∝ det(L Lᵀ)^{η-1}` on
/// correlation matrices, carried to their lower Cholesky factors `L`
/// (`[..., K, K]`), with its normalising constant. `η` is a scalar.
#[track_caller]
pub fn lkj_corr_cholesky_lpdf<'t>(l: Tensor<'t>, eta: impl Operand<'t>) -> Tensor<'t> {
    let name = "lkj_corr_cholesky_lpdf";
    let dt = float_dtype(&[Some(l), eta.as_tensor()]);
    let l = l.convert(dt);
    let eta = match eta.as_tensor() {
        Some(e) => e.convert(dt),
        None => eta.to_tensor(l.tracer().zeros(&crate::TensorType::scalar(dt))),
    };
    if eta.rank() != 0 {
        return l.tracer().fail(TypeError::invalid_operand(name, 1, format!("η must be a scalar, found {}", eta.ty())));
    }
    let Some(k) = square_extent(name, l) else { return l };
    let matrices = l.ty().num_elements() / (k * k).max(1);
    // Row i (from 0) of the factor contributes (K - i - 1 + 2η - 2) log L_ii.
    let log_diag = diagonal(l).log();
    let shape = log_diag.shape();
    let r = shape.len();
    let i = l.tracer().iota(&crate::TensorType::new(dt, &shape), r - 1);
    let power = (k as f64 - 1.0) - i + (eta.broadcast_to(&shape) * 2.0 - 2.0);
    let kernel = (power * log_diag).sum_all();
    // log c_K(η) = Σ_{j=1}^{K-1} (K-j) [(2η - 2 + K - j) log 2 + log B(b_j, b_j)],
    // b_j = η + (K - j - 1)/2.
    let mut log_c = l.tracer().zeros(&crate::TensorType::scalar(dt));
    for j in 1..k {
        let m = (k - j) as f64;
        let b = eta + (m - 1.0) / 2.0;
        log_c = log_c + m * ((eta * 2.0 - 2.0 + m) * std::f64::consts::LN_2 + lbeta(b, b));
    }
    kernel - log_c * matrices as f64
}

/// `Σ log Dirichlet(x | α)`: each row `x[..., :]` (`[..., K]`, on the
/// simplex) with concentrations `α` (`[..., K]`, broadcasting).
#[track_caller]
pub fn dirichlet_lpdf<'t>(x: Tensor<'t>, alpha: impl Operand<'t>) -> Tensor<'t> {
    let name = "dirichlet_lpdf";
    let [x, alpha] = floats!(name; x, alpha);
    let r = x.rank();
    if r == 0 {
        return x.tracer().fail(TypeError::invalid(name, format!("x must be [..., K], found {}", x.ty())));
    }
    let last = [r - 1];
    let per_row = ((alpha - 1.0) * x.log() - alpha.lgamma()).sum(&last) + alpha.sum(&last).lgamma();
    per_row.sum_all()
}
