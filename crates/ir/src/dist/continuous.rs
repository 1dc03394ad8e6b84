//! Log densities of univariate continuous distributions, with their
//! normalising constants.
//!
//! Each takes `x` and its parameters in Stan's order, broadcasts them all
//! together (numpy rules; a parameter may be a tensor or an `f64` number),
//! and returns the sum over every element as a scalar in the float dtype of
//! `x` (of the first float parameter when `x` is integer). Outside the
//! support (`x < 0` for a positive distribution, say) the log density is
//! `-∞`; parameters outside their domain give NaN or infinities, as the
//! formulas do.

use super::helpers::{LOG_PI, LOG_SQRT_2PI, lbeta, log_Phi, log1m};
use super::on_support;
use crate::Tensor;
use crate::trace::Operand;

/// `x` where `inside`, else `safe` (keeps the branch not taken finite).
#[track_caller]
fn clamp_to<'t>(inside: Tensor<'t>, x: Tensor<'t>, safe: f64) -> Tensor<'t> {
    inside.select(x, safe)
}

/// `Σ log N(x | μ, σ)`.
///
/// ```
/// use saddle_ir::{dist, trace, Array, TensorType};
/// let f = trace("lp", &[TensorType::f64([3]), TensorType::f64([])], |a| {
///     vec![dist::normal_lpdf(a[0], a[1], 2.0)]
/// })
/// .unwrap();
/// assert_eq!(f.result_types(), vec![TensorType::f64([])]);
/// ```
#[track_caller]
pub fn normal_lpdf<'t>(x: Tensor<'t>, mu: impl Operand<'t>, sigma: impl Operand<'t>) -> Tensor<'t> {
    let [x, mu, sigma] = floats!("normal_lpdf"; x, mu, sigma);
    let z = (x - mu) / sigma;
    (-0.5 * z * z - sigma.log() - LOG_SQRT_2PI).sum_all()
}

/// `Σ log Φ((x - μ) / σ)`: the normal log CDF, stable far in both tails.
#[track_caller]
pub fn normal_lcdf<'t>(x: Tensor<'t>, mu: impl Operand<'t>, sigma: impl Operand<'t>) -> Tensor<'t> {
    let [x, mu, sigma] = floats!("normal_lcdf"; x, mu, sigma);
    log_Phi((x - mu) / sigma).sum_all()
}

/// `Σ log(1 - Φ((x - μ) / σ))`: the normal log complementary CDF, stable
/// far in both tails.
#[track_caller]
pub fn normal_lccdf<'t>(x: Tensor<'t>, mu: impl Operand<'t>, sigma: impl Operand<'t>) -> Tensor<'t> {
    let [x, mu, sigma] = floats!("normal_lccdf"; x, mu, sigma);
    log_Phi((mu - x) / sigma).sum_all()
}

/// `Σ log LogNormal(x | μ, σ)` (`log x ~ N(μ, σ)`), `x > 0`.
#[track_caller]
pub fn lognormal_lpdf<'t>(x: Tensor<'t>, mu: impl Operand<'t>, sigma: impl Operand<'t>) -> Tensor<'t> {
    let [x, mu, sigma] = floats!("lognormal_lpdf"; x, mu, sigma);
    let inside = x.gt(0.0);
    let lx = clamp_to(inside, x, 1.0).log();
    let z = (lx - mu) / sigma;
    on_support(inside, -0.5 * z * z - sigma.log() - lx - LOG_SQRT_2PI).sum_all()
}

/// `Σ log t_ν(x | μ, σ)`: Student's t with `ν` degrees of freedom,
/// location `μ` and scale `σ`; stable for large `ν`.
#[track_caller]
pub fn student_t_lpdf<'t>(
    x: Tensor<'t>,
    nu: impl Operand<'t>,
    mu: impl Operand<'t>,
    sigma: impl Operand<'t>,
) -> Tensor<'t> {
    let [x, nu, mu, sigma] = floats!("student_t_lpdf"; x, nu, mu, sigma);
    let z = (x - mu) / sigma;
    // log Γ((ν+1)/2) - log Γ(ν/2) = log Γ(½) - log B(½, ν/2).
    let lgamma_ratio = 0.5 * LOG_PI - lbeta(nu * 0.5, 0.5);
    let kernel = -(nu + 1.0) * 0.5 * (z * z / nu).log1p();
    (lgamma_ratio - 0.5 * (nu.log() + LOG_PI) - sigma.log() + kernel).sum_all()
}

/// `Σ log Cauchy(x | μ, σ)`.
#[track_caller]
pub fn cauchy_lpdf<'t>(x: Tensor<'t>, mu: impl Operand<'t>, sigma: impl Operand<'t>) -> Tensor<'t> {
    let [x, mu, sigma] = floats!("cauchy_lpdf"; x, mu, sigma);
    let z = (x - mu) / sigma;
    (-LOG_PI - sigma.log() - (z * z).log1p()).sum_all()
}

/// `Σ log HalfNormal(x | σ)`: `|N(0, σ)|`, `x ≥ 0`.
#[track_caller]
pub fn half_normal_lpdf<'t>(x: Tensor<'t>, sigma: impl Operand<'t>) -> Tensor<'t> {
    let [x, sigma] = floats!("half_normal_lpdf"; x, sigma);
    let z = x / sigma;
    let lp = -0.5 * z * z - sigma.log() - LOG_SQRT_2PI + std::f64::consts::LN_2;
    on_support(x.ge(0.0), lp).sum_all()
}

/// `Σ log HalfCauchy(x | σ)`: `|Cauchy(0, σ)|`, `x ≥ 0`.
#[track_caller]
pub fn half_cauchy_lpdf<'t>(x: Tensor<'t>, sigma: impl Operand<'t>) -> Tensor<'t> {
    let [x, sigma] = floats!("half_cauchy_lpdf"; x, sigma);
    let z = x / sigma;
    let lp = std::f64::consts::LN_2 - LOG_PI - sigma.log() - (z * z).log1p();
    on_support(x.ge(0.0), lp).sum_all()
}

/// `Σ log Exponential(x | β)` with rate `β`, `x ≥ 0`.
#[track_caller]
pub fn exponential_lpdf<'t>(x: Tensor<'t>, beta: impl Operand<'t>) -> Tensor<'t> {
    let [x, beta] = floats!("exponential_lpdf"; x, beta);
    on_support(x.ge(0.0), beta.log() - beta * x).sum_all()
}

/// `Σ log Gamma(x | α, β)` with shape `α` and rate `β`, `x > 0`.
#[track_caller]
pub fn gamma_lpdf<'t>(x: Tensor<'t>, alpha: impl Operand<'t>, beta: impl Operand<'t>) -> Tensor<'t> {
    let [x, alpha, beta] = floats!("gamma_lpdf"; x, alpha, beta);
    let inside = x.gt(0.0);
    let xs = clamp_to(inside, x, 1.0);
    let lp = alpha * beta.log() - alpha.lgamma() + (alpha - 1.0) * xs.log() - beta * xs;
    on_support(inside, lp).sum_all()
}

/// `Σ log InvGamma(x | α, β)` with shape `α` and scale `β`, `x > 0`.
#[track_caller]
pub fn inv_gamma_lpdf<'t>(x: Tensor<'t>, alpha: impl Operand<'t>, beta: impl Operand<'t>) -> Tensor<'t> {
    let [x, alpha, beta] = floats!("inv_gamma_lpdf"; x, alpha, beta);
    let inside = x.gt(0.0);
    let xs = clamp_to(inside, x, 1.0);
    let lp = alpha * beta.log() - alpha.lgamma() - (alpha + 1.0) * xs.log() - beta / xs;
    on_support(inside, lp).sum_all()
}

/// `Σ log Beta(x | α, β)`, `0 < x < 1` (`log(1 - x)` kept accurate near 1
/// only as far as `x` itself is).
#[track_caller]
pub fn beta_lpdf<'t>(x: Tensor<'t>, alpha: impl Operand<'t>, beta: impl Operand<'t>) -> Tensor<'t> {
    let [x, alpha, beta] = floats!("beta_lpdf"; x, alpha, beta);
    let inside = x.gt(0.0).and(x.lt(1.0));
    let xs = clamp_to(inside, x, 0.5);
    let lp = (alpha - 1.0) * xs.log() + (beta - 1.0) * log1m(xs) - lbeta(alpha, beta);
    on_support(inside, lp).sum_all()
}

/// `Σ log Uniform(x | a, b)`: `-log(b - a)` on `[a, b]`.
#[track_caller]
pub fn uniform_lpdf<'t>(x: Tensor<'t>, a: impl Operand<'t>, b: impl Operand<'t>) -> Tensor<'t> {
    let [x, a, b] = floats!("uniform_lpdf"; x, a, b);
    on_support(x.ge(a).and(x.le(b)), -(b - a).log()).sum_all()
}

/// `Σ log Logistic(x | μ, s)`.
#[track_caller]
pub fn logistic_lpdf<'t>(x: Tensor<'t>, mu: impl Operand<'t>, s: impl Operand<'t>) -> Tensor<'t> {
    let [x, mu, s] = floats!("logistic_lpdf"; x, mu, s);
    let z = (x - mu) / s;
    // The density is σ(z) σ(-z) / s.
    (z.log_sigmoid() + (-z).log_sigmoid() - s.log()).sum_all()
}

/// `Σ log Laplace(x | μ, σ)`: the double exponential with scale `σ`.
#[track_caller]
pub fn double_exponential_lpdf<'t>(x: Tensor<'t>, mu: impl Operand<'t>, sigma: impl Operand<'t>) -> Tensor<'t> {
    let [x, mu, sigma] = floats!("double_exponential_lpdf"; x, mu, sigma);
    (-std::f64::consts::LN_2 - sigma.log() - (x - mu).abs() / sigma).sum_all()
}

/// `Σ log Weibull(x | α, σ)` with shape `α` and scale `σ`, `x > 0`.
#[track_caller]
pub fn weibull_lpdf<'t>(x: Tensor<'t>, alpha: impl Operand<'t>, sigma: impl Operand<'t>) -> Tensor<'t> {
    let [x, alpha, sigma] = floats!("weibull_lpdf"; x, alpha, sigma);
    let inside = x.gt(0.0);
    let lz = (clamp_to(inside, x, 1.0) / sigma).log();
    let lp = alpha.log() - sigma.log() + (alpha - 1.0) * lz - (alpha * lz).exp();
    on_support(inside, lp).sum_all()
}
