//! Numerically stable elementwise helpers: log-sum-exp and friends, `lbeta`,
//! `lchoose`, the normal CDF and its logarithms, identity and diagonal
//! matrices.
//!
//! Each helper broadcasts its operands (numpy rules) and returns the
//! elementwise result, except [`log_sum_exp`] and [`log_softmax`], which
//! work over axes. Where a formula has branches, every branch is computed
//! on inputs clamped into its own region, so that the branch not taken
//! never produces a NaN that a derivative would multiply by zero.

use super::{bcast, float_dtype};
use crate::trace::Operand;
use crate::{DType, Tensor, TensorType, Tracer};

/// `log(√(2π))`.
pub(crate) const LOG_SQRT_2PI: f64 = 0.918_938_533_204_672_8;
/// `log(π)`.
pub(crate) const LOG_PI: f64 = 1.144_729_885_849_400_2;
/// `√2`.
const SQRT_2: f64 = std::f64::consts::SQRT_2;
/// The continued fraction of `erfcx` is used from this argument up.
const ERFCX_CF_FROM: f64 = 2.0;
/// Terms of the continued fraction of `erfcx` (relative error below
/// 1e-15 from [`ERFCX_CF_FROM`] up).
const ERFCX_CF_TERMS: usize = 32;
/// `lgamma` is replaced by Stirling's series with its remainder from
/// this argument up.
const STIRLING_FROM: f64 = 10.0;

/// Converts `a` and `b` to their common float dtype and broadcasts them.
#[track_caller]
fn float2<'t>(name: &'static str, a: Tensor<'t>, b: impl Operand<'t>) -> [Tensor<'t>; 2] {
    let dt = float_dtype(&[Some(a), b.as_tensor()]);
    let af = a.convert(dt);
    bcast(name, [af, b.to_tensor(af).convert(dt)])
}

/// Converts `x` to its float dtype (`f64` for integers and bools).
#[track_caller]
fn float1(x: Tensor<'_>) -> Tensor<'_> {
    x.convert(float_dtype(&[Some(x)]))
}

/// `log Σ exp(x)` over `axes`, stable for any magnitude (the same as
/// [`Tensor::logsumexp`]).
///
/// ```
/// use saddle_ir::{dist, trace, TensorType};
/// let f = trace("lse", &[TensorType::f64([2, 3])], |x| vec![dist::log_sum_exp(x[0], &[1])]).unwrap();
/// assert_eq!(f.result_types(), vec![TensorType::f64([2])]);
/// ```
#[track_caller]
pub fn log_sum_exp<'t>(x: Tensor<'t>, axes: &[usize]) -> Tensor<'t> {
    float1(x).logsumexp(axes)
}

/// Elementwise `log(e^a + e^b)`, exact in value and derivative everywhere
/// (½ and ½ where `a = b`), and `-∞` where both are `-∞`.
#[track_caller]
pub fn log_add_exp<'t>(a: Tensor<'t>, b: impl Operand<'t>) -> Tensor<'t> {
    let [a, b] = float2("log_add_exp", a, b);
    let a_bigger = a.gt(b);
    let hi = a_bigger.select(a, b);
    let lo = a_bigger.select(b, a);
    let both_minus_inf = hi.eq(f64::NEG_INFINITY);
    let hi_safe = both_minus_inf.select(0.0, hi);
    hi + (lo - hi_safe).exp().log1p()
}

/// `x - log_sum_exp(x, axes)`, broadcast back: the log of the softmax
/// over `axes`.
#[track_caller]
pub fn log_softmax<'t>(x: Tensor<'t>, axes: &[usize]) -> Tensor<'t> {
    let x = float1(x);
    let kept: Vec<usize> = (0..x.rank()).filter(|a| !axes.contains(a)).collect();
    x - x.logsumexp(axes).broadcast_in_dim(&x.shape(), &kept)
}

/// Elementwise `log(1 + e^x)` (the same as [`Tensor::softplus`]).
#[track_caller]
pub fn log1p_exp(x: Tensor<'_>) -> Tensor<'_> {
    float1(x).softplus()
}

/// Elementwise `log(logit⁻¹(x)) = -log(1 + e^-x)` (the same as
/// [`Tensor::log_sigmoid`]).
#[track_caller]
pub fn log_inv_logit(x: Tensor<'_>) -> Tensor<'_> {
    float1(x).log_sigmoid()
}

/// Elementwise `log(1 - logit⁻¹(x)) = -log(1 + e^x)`.
#[track_caller]
pub fn log1m_inv_logit(x: Tensor<'_>) -> Tensor<'_> {
    (-float1(x)).log_sigmoid()
}

/// Elementwise `log(1 - x)`, accurate near 0.
#[track_caller]
pub fn log1m(x: Tensor<'_>) -> Tensor<'_> {
    (-float1(x)).log1p()
}

/// Elementwise `log(1 - e^x)` for `x ≤ 0`, accurate near 0 and far below
/// it (`log(-expm1(x))` above `-log 2`, `log1p(-e^x)` below).
#[track_caller]
pub fn log1m_exp(x: Tensor<'_>) -> Tensor<'_> {
    let x = float1(x);
    let near_zero = x.gt(-std::f64::consts::LN_2);
    near_zero.select((-x.expm1()).log(), (-x.exp()).log1p())
}

/// Elementwise `log(e^a - e^b)` for `a ≥ b`; `a` where `b = -∞`.
#[track_caller]
pub fn log_diff_exp<'t>(a: Tensor<'t>, b: impl Operand<'t>) -> Tensor<'t> {
    let [a, b] = float2("log_diff_exp", a, b);
    a + log1m_exp(b - a)
}

/// Elementwise `log(θ e^a + (1 - θ) e^b)`: the log density of a two-part
/// mixture with weight `θ` on the part whose log density is `a`.
#[track_caller]
pub fn log_mix<'t>(theta: Tensor<'t>, a: impl Operand<'t>, b: impl Operand<'t>) -> Tensor<'t> {
    let dt = float_dtype(&[Some(theta), a.as_tensor(), b.as_tensor()]);
    let t = theta.convert(dt);
    let [t, a, b] = bcast("log_mix", [t, a.to_tensor(t).convert(dt), b.to_tensor(t).convert(dt)]);
    log_add_exp(t.log() + a, log1m(t) + b)
}

/// Elementwise `a · log(b)`, with `0 · log 0 = 0`.
#[track_caller]
pub fn multiply_log<'t>(a: Tensor<'t>, b: impl Operand<'t>) -> Tensor<'t> {
    let [a, b] = float2("multiply_log", a, b);
    let both_zero = a.eq(0.0).and(b.eq(0.0));
    both_zero.select(0.0, a * both_zero.select(1.0, b).log())
}

/// Stirling's remainder `δ(x) = log Γ(x) - ((x - ½) log x - x + log √(2π))`
/// for `x ≥ 10` (its asymptotic series to `x⁻¹³`, exact to about 1e-16
/// absolute there).
#[track_caller]
fn stirling_remainder(x: Tensor<'_>) -> Tensor<'_> {
    // Coefficients B_{2k} / (2k (2k - 1)), k = 1..7.
    const C: [f64; 7] =
        [1.0 / 12.0, -1.0 / 360.0, 1.0 / 1260.0, -1.0 / 1680.0, 1.0 / 1188.0, -691.0 / 360_360.0, 1.0 / 156.0];
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    let mut acc = inv2 * C[6];
    for &c in C[1..6].iter().rev() {
        acc = (acc + c) * inv2;
    }
    (acc + C[0]) * inv
}

/// Elementwise `log B(a, b) = log Γ(a) + log Γ(b) - log Γ(a + b)`, stable
/// when either argument is large (the large `log Γ` terms are cancelled
/// analytically through Stirling's series).
///
/// ```
/// use saddle_ir::{dist, trace, TensorType};
/// // log B(a, 3) at each element of a vector `a`.
/// let f = trace("lbeta", &[TensorType::f64([4])], |a| vec![dist::lbeta(a[0], 3.0)]).unwrap();
/// assert_eq!(f.result_types(), vec![TensorType::f64([4])]);
/// ```
#[track_caller]
pub fn lbeta<'t>(a: Tensor<'t>, b: impl Operand<'t>) -> Tensor<'t> {
    let [a, b] = float2("lbeta", a, b);
    let a_smaller = a.lt(b);
    let x = a_smaller.select(a, b);
    let y = a_smaller.select(b, a);
    // Both below the threshold: lgamma directly.
    let direct = x.lgamma() + y.lgamma() - (x + y).lgamma();
    // y large: lgamma(y) - lgamma(x + y) by Stirling's series.
    let y_big = y.ge(STIRLING_FROM);
    let ys = y_big.select(y, STIRLING_FROM);
    let xs = y_big.select(x, 1.0);
    let tail = -xs * (xs + ys).log() - (ys - 0.5) * (xs / ys).log1p() + xs + stirling_remainder(ys)
        - stirling_remainder(xs + ys);
    let x_small = xs.lt(STIRLING_FROM);
    let one_big = xs.lgamma() + tail;
    // Both large: lgamma(x) by Stirling's series too.
    let xl = x_small.select(STIRLING_FROM, xs);
    let both_big = LOG_SQRT_2PI + (xl - 0.5) * xl.log() - xl + stirling_remainder(xl) + tail;
    let large = x_small.select(one_big, both_big);
    y_big.select(large, direct)
}

/// Elementwise `log C(n, k) = log (n choose k)` for real `n ≥ k ≥ 0`
/// (through [`lbeta`], stable for large `n`).
#[track_caller]
pub fn lchoose<'t>(n: Tensor<'t>, k: impl Operand<'t>) -> Tensor<'t> {
    let [n, k] = float2("lchoose", n, k);
    -n.log1p() - lbeta(n - k + 1.0, k + 1.0)
}

/// `erfcx(z) = e^{z²} erfc(z)` for `z ≥ 2` (callers clamp), by the even
/// contraction of Laplace's continued fraction, evaluated bottom up.
#[track_caller]
fn erfcx_large(z: Tensor<'_>) -> Tensor<'_> {
    let z2 = z * z;
    let n = ERFCX_CF_TERMS as f64;
    let mut t = z2 + (4.0 * n + 1.0) / 2.0;
    for k in (1..=ERFCX_CF_TERMS).rev() {
        let k = k as f64;
        t = z2 + (4.0 * k - 3.0) / 2.0 - ((2.0 * k - 1.0) * (2.0 * k) / 4.0) / t;
    }
    z / t * (1.0 / std::f64::consts::PI.sqrt())
}

/// The tails of the normal CDF: whether `x` lies beyond `±2√2`, and
/// `(w, erfcx(w))` for `w = |x|/√2` there (clamped to 2 elsewhere, so that
/// one continued fraction serves both tails).
#[track_caller]
fn normal_tails(x: Tensor<'_>) -> (Tensor<'_>, Tensor<'_>, Tensor<'_>, Tensor<'_>) {
    let cut = ERFCX_CF_FROM * SQRT_2;
    let lower = x.lt(-cut);
    let upper = x.gt(cut);
    let w = lower.or(upper).select(x.abs() / SQRT_2, ERFCX_CF_FROM);
    (lower, upper, w, erfcx_large(w))
}

/// Elementwise `Φ(x)`, the standard normal CDF, with full relative accuracy
/// in the lower tail (down to where it underflows, `x ≈ -38.5`).
#[track_caller]
#[allow(non_snake_case)]
pub fn Phi(x: Tensor<'_>) -> Tensor<'_> {
    let x = float1(x);
    let (lower, upper, w, e) = normal_tails(x);
    let tail = 0.5 * e * (-(w * w)).exp();
    let mid = 0.5 + 0.5 * (x / SQRT_2).erf();
    lower.select(tail, upper.select(1.0 - tail, mid))
}

/// Elementwise `log Φ(x)`, stable in both tails: about `-x²/2` far below
/// zero, about `-Φ(-x)` (to full relative accuracy) far above.
#[track_caller]
#[allow(non_snake_case)]
pub fn log_Phi(x: Tensor<'_>) -> Tensor<'_> {
    let x = float1(x);
    let (lower, upper, w, e) = normal_tails(x);
    let xm = lower.or(upper).select(0.0, x);
    let mid = (xm / SQRT_2).erf().log1p() - std::f64::consts::LN_2;
    let low = e.log() - w * w - std::f64::consts::LN_2;
    let high = (-0.5 * e * (-(w * w)).exp()).log1p();
    lower.select(low, upper.select(high, mid))
}

/// Elementwise `log(1 - Φ(x)) = log Φ(-x)`.
#[track_caller]
#[allow(non_snake_case)]
pub fn log1m_Phi(x: Tensor<'_>) -> Tensor<'_> {
    log_Phi(-float1(x))
}

/// The `n × n` identity matrix of `dtype`.
///
/// ```
/// use saddle_ir::{dist, DType, Tracer};
/// let tr = Tracer::new("eye");
/// let i = dist::identity(&tr, 3, DType::F64);
/// assert_eq!(i.shape(), vec![3, 3]);
/// ```
#[track_caller]
pub fn identity(tr: &Tracer, n: usize, dtype: DType) -> Tensor<'_> {
    let ty = TensorType::new(DType::I64, [n, n]);
    let on_diagonal = tr.iota(&ty, 0).eq(tr.iota(&ty, 1));
    let one = tr.ones(&TensorType::new(dtype, [n, n]));
    on_diagonal.select(one, 0.0)
}

/// The diagonal matrices `[..., K, K]` with diagonals `v` (`[..., K]`).
#[track_caller]
pub fn diag_matrix(v: Tensor<'_>) -> Tensor<'_> {
    let mut shape = v.shape();
    let Some(&k) = shape.last() else {
        return v.tracer().fail(crate::TypeError::invalid("diag_matrix", format!("needs a vector, found {}", v.ty())));
    };
    shape.push(k);
    let r = v.rank();
    let dims: Vec<usize> = (0..r - 1).chain([r]).collect();
    let rows = v.broadcast_in_dim(&shape, &dims);
    let eye = identity(v.tracer(), k, v.dtype()).ne(0.0);
    eye.broadcast_to(&shape).select(rows, 0.0)
}

/// The diagonals `[..., K]` of the square matrices `m` (`[..., K, K]`).
#[track_caller]
pub fn diagonal(m: Tensor<'_>) -> Tensor<'_> {
    let shape = m.shape();
    let r = shape.len();
    if r < 2 || shape[r - 1] != shape[r - 2] {
        return m
            .tracer()
            .fail(crate::TypeError::invalid("diagonal", format!("needs square matrices, found {}", m.ty())));
    }
    let eye = identity(m.tracer(), shape[r - 1], m.dtype()).ne(0.0);
    eye.broadcast_to(&shape).select(m, 0.0).sum(&[r - 1])
}
