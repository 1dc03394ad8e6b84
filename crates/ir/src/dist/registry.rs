//! The names through which `.sir` calls reach the library.

use std::sync::OnceLock;

use super::{continuous as c, discrete as d, helpers as h, multivariate as m};
use crate::trace::trace_with;
use crate::{Error, Func, Tensor, TensorType, Tracer, TypeError};

/// A call's integer attributes other than `callee`.
type Attrs<'a> = [(&'a str, Vec<i64>)];

/// Traces the function's body on its parameters.
type Build = for<'t> fn(&'t Tracer, &[Tensor<'t>], &Attrs<'_>) -> Tensor<'t>;

/// One library function.
struct Entry {
    name: &'static str,
    /// Fewest and most operands.
    arity: (usize, usize),
    /// The attributes it reads.
    attrs: &'static [&'static str],
    doc: &'static str,
    build: Build,
}

macro_rules! entries {
    ($($name:literal, $arity:expr, $attrs:expr, $doc:literal, $build:expr;)*) => {
        &[$(Entry { name: $name, arity: $arity, attrs: $attrs, doc: $doc, build: $build },)*]
    };
}

/// The axes named by attribute `axes`, or every axis of `x`.
#[track_caller]
fn axes_of(name: &'static str, x: Tensor<'_>, attrs: &Attrs<'_>) -> Option<Vec<usize>> {
    let Some((_, axes)) = attrs.iter().find(|(k, _)| *k == "axes") else {
        return Some((0..x.rank()).collect());
    };
    let mut out = Vec::with_capacity(axes.len());
    for &a in axes {
        if a < 0 || a as usize >= x.rank() || out.contains(&(a as usize)) {
            x.tracer().fail(TypeError::invalid(
                name,
                format!("axes {axes:?} must be distinct axes of the operand of type {}", x.ty()),
            ));
            return None;
        }
        out.push(a as usize);
    }
    Some(out)
}

const NONE: &[&str] = &[];
const AXES: &[&str] = &["axes"];

static ENTRIES: &[Entry] = entries![
    // Helpers (elementwise unless they say otherwise).
    "log_sum_exp", (1, 2), AXES, "log Σ exp(x) over attribute `axes` (default all); with two operands, elementwise log(e^a + e^b)",
        |_, a, at| if a.len() == 2 { h::log_add_exp(a[0], a[1]) } else {
            match axes_of("log_sum_exp", a[0], at) { Some(ax) => h::log_sum_exp(a[0], &ax), None => a[0] }
        };
    "log_softmax", (1, 1), AXES, "x - log_sum_exp(x) over attribute `axes` (default all), broadcast back",
        |_, a, at| match axes_of("log_softmax", a[0], at) { Some(ax) => h::log_softmax(a[0], &ax), None => a[0] };
    "log_mix", (3, 3), NONE, "log(θ e^a + (1 - θ) e^b), elementwise", |_, a, _| h::log_mix(a[0], a[1], a[2]);
    "log1p_exp", (1, 1), NONE, "log(1 + e^x), elementwise", |_, a, _| h::log1p_exp(a[0]);
    "log_inv_logit", (1, 1), NONE, "log(logit⁻¹(x)), elementwise", |_, a, _| h::log_inv_logit(a[0]);
    "log1m_inv_logit", (1, 1), NONE, "log(1 - logit⁻¹(x)), elementwise", |_, a, _| h::log1m_inv_logit(a[0]);
    "log1m", (1, 1), NONE, "log(1 - x), elementwise", |_, a, _| h::log1m(a[0]);
    "log1m_exp", (1, 1), NONE, "log(1 - e^x) for x ≤ 0, elementwise", |_, a, _| h::log1m_exp(a[0]);
    "log_diff_exp", (2, 2), NONE, "log(e^a - e^b) for a ≥ b, elementwise", |_, a, _| h::log_diff_exp(a[0], a[1]);
    "multiply_log", (2, 2), NONE, "a · log(b) with 0 · log 0 = 0, elementwise", |_, a, _| h::multiply_log(a[0], a[1]);
    "lbeta", (2, 2), NONE, "log B(a, b), elementwise", |_, a, _| h::lbeta(a[0], a[1]);
    "lchoose", (2, 2), NONE, "log of the binomial coefficient (n choose k), elementwise", |_, a, _| h::lchoose(a[0], a[1]);
    "Phi", (1, 1), NONE, "the standard normal CDF Φ(x), elementwise", |_, a, _| h::Phi(a[0]);
    "log_Phi", (1, 1), NONE, "log Φ(x), stable in both tails, elementwise", |_, a, _| h::log_Phi(a[0]);
    "log1m_Phi", (1, 1), NONE, "log(1 - Φ(x)), stable in both tails, elementwise", |_, a, _| h::log1m_Phi(a[0]);
    "square", (1, 1), NONE, "x², elementwise", |_, a, _| a[0].square();
    "identity", (0, 0), &["n"], "the n × n identity matrix (f64) for attribute `n = [n]`",
        |tr, _, at| match at.iter().find(|(k, _)| *k == "n").map(|(_, v)| v.as_slice()) {
            Some(&[n]) if n >= 0 => h::identity(tr, n as usize, crate::DType::F64),
            _ => tr.fail(TypeError::invalid("identity", "needs the attribute `n = [N]` with N ≥ 0")),
        };
    // Arithmetic with numpy's broadcasting, for `.sir` files (whose ops
    // take operands of one type).
    "add", (2, 16), NONE, "a + b + …, broadcast together", |_, a, _| a[1..].iter().fold(a[0], |s, &t| s + t);
    "sub", (2, 2), NONE, "a - b, broadcast together", |_, a, _| a[0] - a[1];
    "mul", (2, 16), NONE, "a · b · …, broadcast together", |_, a, _| a[1..].iter().fold(a[0], |s, &t| s * t);
    "div", (2, 2), NONE, "a / b, broadcast together", |_, a, _| a[0] / a[1];
    "element", (1, 1), &["index"], "the element (or sub-array) of x at attribute `index = [i, …]` along its leading axes",
        |tr, a, at| match at.iter().find(|(k, _)| *k == "index").map(|(_, v)| v.as_slice()) {
            Some(idx) if idx.iter().all(|&i| i >= 0) => {
                a[0].index(&idx.iter().map(|&i| i as usize).collect::<Vec<_>>())
            }
            _ => tr.fail(TypeError::invalid("element", "needs the attribute `index = [i, ...]` with every i ≥ 0")),
        };
    "diag_matrix", (1, 1), NONE, "the diagonal matrices [..., K, K] with diagonals v [..., K]", |_, a, _| h::diag_matrix(a[0]);
    "diagonal", (1, 1), NONE, "the diagonals [..., K] of square matrices [..., K, K]", |_, a, _| h::diagonal(a[0]);
    // Continuous distributions.
    "normal_lpdf", (3, 3), NONE, "Σ log N(x | μ, σ)", |_, a, _| c::normal_lpdf(a[0], a[1], a[2]);
    "normal_lcdf", (3, 3), NONE, "Σ log Φ((x - μ)/σ)", |_, a, _| c::normal_lcdf(a[0], a[1], a[2]);
    "normal_lccdf", (3, 3), NONE, "Σ log(1 - Φ((x - μ)/σ))", |_, a, _| c::normal_lccdf(a[0], a[1], a[2]);
    "lognormal_lpdf", (3, 3), NONE, "Σ log LogNormal(x | μ, σ)", |_, a, _| c::lognormal_lpdf(a[0], a[1], a[2]);
    "student_t_lpdf", (4, 4), NONE, "Σ log StudentT(x | ν, μ, σ)", |_, a, _| c::student_t_lpdf(a[0], a[1], a[2], a[3]);
    "cauchy_lpdf", (3, 3), NONE, "Σ log Cauchy(x | μ, σ)", |_, a, _| c::cauchy_lpdf(a[0], a[1], a[2]);
    "half_normal_lpdf", (2, 2), NONE, "Σ log HalfNormal(x | σ)", |_, a, _| c::half_normal_lpdf(a[0], a[1]);
    "half_cauchy_lpdf", (2, 2), NONE, "Σ log HalfCauchy(x | σ)", |_, a, _| c::half_cauchy_lpdf(a[0], a[1]);
    "exponential_lpdf", (2, 2), NONE, "Σ log Exponential(x | β), rate β", |_, a, _| c::exponential_lpdf(a[0], a[1]);
    "gamma_lpdf", (3, 3), NONE, "Σ log Gamma(x | α, β), shape α, rate β", |_, a, _| c::gamma_lpdf(a[0], a[1], a[2]);
    "inv_gamma_lpdf", (3, 3), NONE, "Σ log InvGamma(x | α, β), shape α, scale β", |_, a, _| c::inv_gamma_lpdf(a[0], a[1], a[2]);
    "beta_lpdf", (3, 3), NONE, "Σ log Beta(x | α, β)", |_, a, _| c::beta_lpdf(a[0], a[1], a[2]);
    "uniform_lpdf", (3, 3), NONE, "Σ log Uniform(x | a, b)", |_, a, _| c::uniform_lpdf(a[0], a[1], a[2]);
    "logistic_lpdf", (3, 3), NONE, "Σ log Logistic(x | μ, s)", |_, a, _| c::logistic_lpdf(a[0], a[1], a[2]);
    "double_exponential_lpdf", (3, 3), NONE, "Σ log Laplace(x | μ, σ)", |_, a, _| c::double_exponential_lpdf(a[0], a[1], a[2]);
    "weibull_lpdf", (3, 3), NONE, "Σ log Weibull(x | α, σ), shape α, scale σ", |_, a, _| c::weibull_lpdf(a[0], a[1], a[2]);
    "multi_normal_cholesky_lpdf", (3, 3), NONE, "Σ over rows of x [..., K] of log N(x | μ, L Lᵀ), L [K, K] lower",
        |_, a, _| m::multi_normal_cholesky_lpdf(a[0], a[1], a[2]);
    "lkj_corr_cholesky_lpdf", (2, 2), NONE, "Σ log LKJCholesky(L | η) over factors L [..., K, K], η scalar",
        |_, a, _| m::lkj_corr_cholesky_lpdf(a[0], a[1]);
    "dirichlet_lpdf", (2, 2), NONE, "Σ over rows of x [..., K] of log Dirichlet(x | α)", |_, a, _| m::dirichlet_lpdf(a[0], a[1]);
    // Discrete distributions.
    "bernoulli_lpmf", (2, 2), NONE, "Σ log Bernoulli(n | θ)", |_, a, _| d::bernoulli_lpmf(a[0], a[1]);
    "bernoulli_logit_lpmf", (2, 2), NONE, "Σ log Bernoulli(n | logit⁻¹(α))", |_, a, _| d::bernoulli_logit_lpmf(a[0], a[1]);
    "binomial_lpmf", (3, 3), NONE, "Σ log Binomial(n | N, θ)", |_, a, _| d::binomial_lpmf(a[0], a[1], a[2]);
    "binomial_logit_lpmf", (3, 3), NONE, "Σ log Binomial(n | N, logit⁻¹(α))", |_, a, _| d::binomial_logit_lpmf(a[0], a[1], a[2]);
    "poisson_lpmf", (2, 2), NONE, "Σ log Poisson(n | λ)", |_, a, _| d::poisson_lpmf(a[0], a[1]);
    "poisson_log_lpmf", (2, 2), NONE, "Σ log Poisson(n | e^α)", |_, a, _| d::poisson_log_lpmf(a[0], a[1]);
    "neg_binomial_2_lpmf", (3, 3), NONE, "Σ log NegBinomial2(n | μ, φ), mean μ, dispersion φ", |_, a, _| d::neg_binomial_2_lpmf(a[0], a[1], a[2]);
    "neg_binomial_2_log_lpmf", (3, 3), NONE, "Σ log NegBinomial2(n | e^η, φ)", |_, a, _| d::neg_binomial_2_log_lpmf(a[0], a[1], a[2]);
    "beta_binomial_lpmf", (4, 4), NONE, "Σ log BetaBinomial(n | N, α, β)", |_, a, _| d::beta_binomial_lpmf(a[0], a[1], a[2], a[3]);
    "categorical_logit_lpmf", (2, 2), NONE, "Σ log Categorical(y | softmax(β)), y in 1..=K, β [..., K]", |_, a, _| d::categorical_logit_lpmf(a[0], a[1]);
    "ordered_logistic_lpmf", (3, 3), NONE, "Σ log OrderedLogistic(y | η, c), y in 1..=K, cut points c [K - 1]", |_, a, _| d::ordered_logistic_lpmf(a[0], a[1], a[2]);
];

/// Instantiates the library function `name` at operand types `args`: a
/// traced [`Func`] with those parameter types whose first result is the
/// call's value. `attrs` are the call's integer attributes other than
/// `callee` (e.g. `axes` for `log_sum_exp`). `None`: no such function.
///
/// Wrong arity, unknown attributes and operand types the function cannot
/// take (shapes that do not broadcast, say) are an [`Error::Library`]
/// naming the function and the types.
///
/// ```
/// use saddle_ir::{dist, Error, TensorType};
/// let f = dist::instantiate("normal_lpdf", &[TensorType::f64([4]), TensorType::f64([]), TensorType::f64([])], &[]);
/// assert_eq!(f.unwrap().unwrap().result_types(), vec![TensorType::f64([])]);
/// let bad = dist::instantiate("normal_lpdf", &[TensorType::f64([4]), TensorType::f64([3]), TensorType::f64([])], &[]);
/// assert!(matches!(bad, Some(Err(Error::Library { .. }))));
/// assert!(dist::instantiate("no_such_lpdf", &[], &[]).is_none());
/// ```
pub fn instantiate(name: &str, args: &[TensorType], attrs: &[(&str, Vec<i64>)]) -> Option<Result<Func, Error>> {
    let entry = ENTRIES.iter().find(|e| e.name == name)?;
    let fail = |message: String| Error::Library { name: entry.name.to_string(), args: args.to_vec(), message };
    let (lo, hi) = entry.arity;
    if args.len() < lo || args.len() > hi {
        let takes = if lo == hi { format!("{lo}") } else { format!("{lo} to {hi}") };
        return Some(Err(fail(format!("takes {takes} operand(s), given {}", args.len()))));
    }
    if let Some((k, _)) = attrs.iter().find(|(k, _)| !entry.attrs.contains(k)) {
        return Some(Err(fail(format!("has no attribute `{k}`"))));
    }
    let traced = trace_with(entry.name, args, |tr, ps| vec![(entry.build)(tr, ps, attrs)]);
    Some(traced.map_err(|e| match e {
        Error::Type { error, .. } => fail(error.to_string()),
        other => fail(other.to_string()),
    }))
}

/// Every name the library answers, with a one-line description (for docs
/// and `--help`).
///
/// ```
/// let names: Vec<&str> = saddle_ir::dist::catalogue().iter().map(|(n, _)| *n).collect();
/// assert!(names.contains(&"normal_lpdf") && names.contains(&"log_sum_exp"));
/// ```
pub fn catalogue() -> &'static [(&'static str, &'static str)] {
    static CATALOGUE: OnceLock<Vec<(&'static str, &'static str)>> = OnceLock::new();
    CATALOGUE.get_or_init(|| ENTRIES.iter().map(|e| (e.name, e.doc)).collect())
}
