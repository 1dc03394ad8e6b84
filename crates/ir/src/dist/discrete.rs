//! Log probability mass functions of discrete distributions, with their
//! normalising constants.
//!
//! Counts and categories arrive as integer tensors (`i32`, `i64`) or as
//! floats holding whole numbers; they are converted to the float dtype of
//! the first float parameter (`f64` when none is). As for the densities,
//! every operand broadcasts against the others and the result is the sum
//! over all elements. Categories are numbered from 1, as in Stan.

use super::helpers::{lbeta, lchoose, log_softmax, log1m, log1m_exp, multiply_log};
use super::{bcast, float_dtype, on_support};
use crate::trace::Operand;
use crate::{DType, Tensor, TensorType};

/// Whether each element of `x` (a float) is a whole number.
#[track_caller]
fn whole<'t>(x: Tensor<'t>) -> Tensor<'t> {
    x.eq(x.convert(DType::I64).convert(x.dtype()))
}

/// Whether each element of `n` is a count: whole and not negative. Data no
/// parameter can give (a count below zero, a category beyond `K`) have log
/// mass `-∞` ([`on_support`]), never a finite value from another branch.
#[track_caller]
fn a_count<'t>(n: Tensor<'t>) -> Tensor<'t> {
    n.ge(0.0).and(whole(n))
}

/// `Σ log Bernoulli(n | θ)`, `n ∈ {0, 1}`.
#[track_caller]
pub fn bernoulli_lpmf<'t>(n: Tensor<'t>, theta: impl Operand<'t>) -> Tensor<'t> {
    let [n, theta] = floats!("bernoulli_lpmf"; n, theta);
    on_support(n.eq(0.0).or(n.eq(1.0)), n.eq(1.0).select(theta.log(), log1m(theta))).sum_all()
}

/// `Σ log Bernoulli(n | logit⁻¹(α))`, stable for any `α`.
#[track_caller]
pub fn bernoulli_logit_lpmf<'t>(n: Tensor<'t>, alpha: impl Operand<'t>) -> Tensor<'t> {
    let [n, alpha] = floats!("bernoulli_logit_lpmf"; n, alpha);
    on_support(n.eq(0.0).or(n.eq(1.0)), n.eq(1.0).select(alpha.log_sigmoid(), (-alpha).log_sigmoid())).sum_all()
}

/// `Σ log Binomial(n | N, θ)`: `n` successes in `N` trials.
#[track_caller]
pub fn binomial_lpmf<'t>(n: Tensor<'t>, trials: impl Operand<'t>, theta: impl Operand<'t>) -> Tensor<'t> {
    let [n, trials, theta] = floats!("binomial_lpmf"; n, trials, theta);
    let failures = trials - n;
    let none_failed = failures.eq(0.0);
    let failure_term = none_failed.select(0.0, failures * log1m(none_failed.select(0.5, theta)));
    let inside = a_count(n).and(a_count(failures));
    on_support(inside, lchoose(trials, n) + multiply_log(n, theta) + failure_term).sum_all()
}

/// `Σ log Binomial(n | N, logit⁻¹(α))`, stable for any `α`.
#[track_caller]
pub fn binomial_logit_lpmf<'t>(n: Tensor<'t>, trials: impl Operand<'t>, alpha: impl Operand<'t>) -> Tensor<'t> {
    let [n, trials, alpha] = floats!("binomial_logit_lpmf"; n, trials, alpha);
    let inside = a_count(n).and(a_count(trials - n));
    on_support(inside, lchoose(trials, n) + n * alpha.log_sigmoid() + (trials - n) * (-alpha).log_sigmoid()).sum_all()
}

/// `Σ log Poisson(n | λ)`.
#[track_caller]
pub fn poisson_lpmf<'t>(n: Tensor<'t>, lambda: impl Operand<'t>) -> Tensor<'t> {
    let [n, lambda] = floats!("poisson_lpmf"; n, lambda);
    on_support(a_count(n), multiply_log(n, lambda) - lambda - (n + 1.0).lgamma()).sum_all()
}

/// `Σ log Poisson(n | e^α)`.
#[track_caller]
pub fn poisson_log_lpmf<'t>(n: Tensor<'t>, alpha: impl Operand<'t>) -> Tensor<'t> {
    let [n, alpha] = floats!("poisson_log_lpmf"; n, alpha);
    on_support(a_count(n), n * alpha - alpha.exp() - (n + 1.0).lgamma()).sum_all()
}

/// `log Γ(n + φ) - log Γ(n + 1) - log Γ(φ)` for whole `n ≥ 0`, through
/// [`lbeta`] so that it stays accurate for large `φ`.
#[track_caller]
fn lchoose_nb<'t>(n: Tensor<'t>, phi: Tensor<'t>) -> Tensor<'t> {
    let zero = n.eq(0.0);
    let ns = zero.select(1.0, n);
    zero.select(0.0, -lbeta(ns, phi) - ns.log())
}

/// `Σ log NegBinomial2(n | μ, φ)`: mean `μ`, variance `μ + μ²/φ`.
#[track_caller]
pub fn neg_binomial_2_lpmf<'t>(n: Tensor<'t>, mu: impl Operand<'t>, phi: impl Operand<'t>) -> Tensor<'t> {
    let [n, mu, phi] = floats!("neg_binomial_2_lpmf"; n, mu, phi);
    // n log(μ / (μ + φ)) + φ log(φ / (μ + φ)), each as a log1p.
    let zero = n.eq(0.0);
    let count_term = zero.select(0.0, -n * (phi / zero.select(1.0, mu)).log1p());
    on_support(a_count(n), lchoose_nb(n, phi) + count_term - phi * (mu / phi).log1p()).sum_all()
}

/// `Σ log NegBinomial2(n | e^η, φ)`, stable for any `η`.
#[track_caller]
pub fn neg_binomial_2_log_lpmf<'t>(n: Tensor<'t>, eta: impl Operand<'t>, phi: impl Operand<'t>) -> Tensor<'t> {
    let [n, eta, phi] = floats!("neg_binomial_2_log_lpmf"; n, eta, phi);
    let log_phi = phi.log();
    on_support(a_count(n), lchoose_nb(n, phi) - n * (log_phi - eta).softplus() - phi * (eta - log_phi).softplus())
        .sum_all()
}

/// `Σ log BetaBinomial(n | N, α, β)`.
#[track_caller]
pub fn beta_binomial_lpmf<'t>(
    n: Tensor<'t>,
    trials: impl Operand<'t>,
    alpha: impl Operand<'t>,
    beta: impl Operand<'t>,
) -> Tensor<'t> {
    let [n, trials, alpha, beta] = floats!("beta_binomial_lpmf"; n, trials, alpha, beta);
    let inside = a_count(n).and(a_count(trials - n));
    on_support(inside, lchoose(trials, n) + lbeta(n + alpha, trials - n + beta) - lbeta(alpha, beta)).sum_all()
}

/// Where `y` (categories from 1, `[...]`) picks category `k` of a trailing
/// axis of length `k_count`: a bool `[..., k_count]`.
#[track_caller]
fn one_hot<'t>(y: Tensor<'t>, k_count: usize, offset: f64) -> Tensor<'t> {
    let mut shape = y.shape();
    shape.push(k_count);
    let r = y.rank();
    let k = y.tracer().iota(&TensorType::new(y.dtype(), &shape), r);
    let yb = y.broadcast_in_dim(&shape, &(0..r).collect::<Vec<_>>());
    k.eq(yb - (1.0 + offset))
}

/// `Σ log Categorical(y | softmax(β))`: `y ∈ 1..=K` (any shape), `β` the
/// `K` logits (`[K]`, or `[..., K]` broadcasting against `y`).
#[track_caller]
pub fn categorical_logit_lpmf<'t>(y: Tensor<'t>, beta: Tensor<'t>) -> Tensor<'t> {
    let dt = float_dtype(&[Some(beta), Some(y)]);
    let beta = beta.convert(dt);
    let Some(&k) = beta.shape().last() else {
        return y.tracer().fail(crate::TypeError::invalid(
            "categorical_logit_lpmf",
            format!("the logits must have a category axis, found {}", beta.ty()),
        ));
    };
    let lp = log_softmax(beta, &[beta.rank() - 1]);
    let y = y.convert(dt);
    let hot = one_hot(y, k, 0.0);
    let [hot, lp] = bcast("categorical_logit_lpmf", [hot, lp]);
    // A category outside 1..=K has probability zero.
    let inside = y.ge(1.0).and(y.le(k as f64)).and(whole(y));
    hot.select(lp, 0.0).sum_all() + on_support(inside, y.scalar_like(0.0).broadcast_to(&y.shape())).sum_all()
}

/// `Σ log OrderedLogistic(y | η, c)`: `y ∈ 1..=K`, linear predictor `η`
/// (broadcasting against `y`) and `K - 1` increasing cut points `c`.
/// `P(y = k) = logit⁻¹(η - c_{k-1}) - logit⁻¹(η - c_k)` with `c_0 = -∞`,
/// `c_K = ∞`, computed in logs without cancellation.
#[track_caller]
pub fn ordered_logistic_lpmf<'t>(y: Tensor<'t>, eta: impl Operand<'t>, c: Tensor<'t>) -> Tensor<'t> {
    let name = "ordered_logistic_lpmf";
    let dt = float_dtype(&[eta.as_tensor(), Some(c), Some(y)]);
    let c = c.convert(dt);
    if c.rank() != 1 {
        return y
            .tracer()
            .fail(crate::TypeError::invalid(name, format!("the cut points must be a vector, found {}", c.ty())));
    }
    let cuts = c.shape()[0];
    let y = y.convert(dt);
    let [y, eta] = bcast(name, [y, eta.to_tensor(y).convert(dt)]);
    let shape = y.shape();
    let mut full = shape.clone();
    full.push(cuts);
    let cb = c.broadcast_to(&full);
    // The cut points below (c_{y-1}) and above (c_y) each observation.
    let lo = one_hot(y, cuts, 1.0).select(cb, 0.0).sum(&[shape.len()]);
    let hi = one_hot(y, cuts, 0.0).select(cb, 0.0).sum(&[shape.len()]);
    let first = y.le(1.0);
    let last = y.ge(cuts as f64 + 1.0);
    let a = eta - lo;
    let b = eta - hi;
    let gap = first.or(last).select(-1.0, lo - hi);
    let middle = a.log_sigmoid() + (-b).log_sigmoid() + log1m_exp(gap);
    let inside = y.ge(1.0).and(y.le(cuts as f64 + 1.0)).and(whole(y));
    on_support(inside, first.select((-b).log_sigmoid(), last.select(a.log_sigmoid(), middle))).sum_all()
}
