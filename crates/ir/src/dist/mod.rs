//! The distribution library: log densities and mass functions with their
//! normalising constants, and the numerically stable helpers they are built
//! from, for traced code and for `.sir` files.
//!
//! In Rust, every function takes [`Tensor`]s (parameters may also be `f64`
//! numbers) and broadcasts them together with numpy's rules. The names and
//! parameter orders are Stan's:
//!
//! - `*_lpdf` and `*_lpmf` return the **sum** of the log density over all
//!   elements, a scalar in the float dtype of `x` (or of the first float
//!   parameter when `x` holds integer data), so that `normal_lpdf(y, mu,
//!   sigma)` is Stan's vectorised `normal_lpdf(y | mu, sigma)`;
//! - the helpers ([`log1p_exp`], [`log_inv_logit`], [`lbeta`], [`Phi`], …)
//!   are elementwise, except [`log_sum_exp`] and [`log_softmax`], which
//!   work over axes.
//!
//! ```
//! use ndarray::arr1;
//! use saddle_ir::{dist, trace, Array, TensorType};
//!
//! // A normal likelihood with a half-Cauchy prior on its scale.
//! let f = trace("log_posterior", &[TensorType::f64([]), TensorType::f64([]), TensorType::f64([3])], |a| {
//!     let (mu, sigma, y) = (a[0], a[1], a[2]);
//!     vec![dist::normal_lpdf(y, mu, sigma) + dist::half_cauchy_lpdf(sigma, 5.0) + dist::normal_lpdf(mu, 0.0, 10.0)]
//! })
//! .unwrap();
//! assert_eq!(f.result_types(), vec![TensorType::f64([])]);
//! ```
//!
//! `.sir` files reach the same functions through calls to names their
//! module does not define: [`instantiate`] builds the function for the
//! operand types of the call, and [`catalogue`] lists every name.
//!
//! ```
//! use saddle_ir::{dist, TensorType};
//! let f = dist::instantiate("poisson_log_lpmf", &[TensorType::new(saddle_ir::DType::I64, [5]), TensorType::f64([])], &[])
//!     .expect("a library function")
//!     .unwrap();
//! assert_eq!(f.result_types(), vec![TensorType::f64([])]);
//! ```

/// Converts `x` and each parameter to one float dtype (see
/// [`float_dtype`]) and broadcasts them all: an array of tensors.
macro_rules! floats {
    ($name:expr; $x:expr $(, $p:expr)*) => {{
        let x0: $crate::Tensor<'_> = $x;
        let dt = $crate::dist::float_dtype(&[Some(x0) $(, $crate::trace::Operand::as_tensor($p))*]);
        let xf = x0.convert(dt);
        $crate::dist::bcast($name, [xf $(, $crate::trace::Operand::to_tensor($p, xf).convert(dt))*])
    }};
}

/// `-∞` where `inside` is false, `value` elsewhere: the log density of
/// data outside the support.
#[track_caller]
fn on_support<'t>(inside: Tensor<'t>, value: Tensor<'t>) -> Tensor<'t> {
    inside.select(value, f64::NEG_INFINITY)
}

mod continuous;
mod discrete;
mod helpers;
mod multivariate;
mod registry;

pub use continuous::{
    beta_lpdf, cauchy_lpdf, double_exponential_lpdf, exponential_lpdf, gamma_lpdf, half_cauchy_lpdf, half_normal_lpdf,
    inv_gamma_lpdf, logistic_lpdf, lognormal_lpdf, normal_lccdf, normal_lcdf, normal_lpdf, student_t_lpdf,
    uniform_lpdf, weibull_lpdf,
};
pub use discrete::{
    bernoulli_logit_lpmf, bernoulli_lpmf, beta_binomial_lpmf, binomial_logit_lpmf, binomial_lpmf,
    categorical_logit_lpmf, neg_binomial_2_log_lpmf, neg_binomial_2_lpmf, ordered_logistic_lpmf, poisson_log_lpmf,
    poisson_lpmf,
};
pub use helpers::{
    Phi, diag_matrix, diagonal, identity, lbeta, lchoose, log_Phi, log_add_exp, log_diff_exp, log_inv_logit, log_mix,
    log_softmax, log_sum_exp, log1m, log1m_Phi, log1m_exp, log1m_inv_logit, log1p_exp, multiply_log,
};
pub use multivariate::{dirichlet_lpdf, lkj_corr_cholesky_lpdf, multi_normal_cholesky_lpdf};
pub use registry::{catalogue, instantiate};

use crate::trace::broadcast_shapes;
use crate::{DType, Tensor, TypeError};

/// The float dtype a function computes in: that of the first float tensor
/// among `ts` (data first, then parameters), `f64` when none is float.
pub(crate) fn float_dtype(ts: &[Option<Tensor<'_>>]) -> DType {
    ts.iter().flatten().map(|t| t.dtype()).find(|d| d.is_float()).unwrap_or(DType::F64)
}

/// Broadcasts tensors to their common numpy shape, or records an error
/// naming the function `name` and every operand type.
#[track_caller]
pub(crate) fn bcast<'t, const N: usize>(name: &'static str, ts: [Tensor<'t>; N]) -> [Tensor<'t>; N] {
    let mut shape: Option<Vec<usize>> = Some(Vec::new());
    for t in &ts {
        shape = shape.and_then(|s| broadcast_shapes(&s, &t.shape()));
    }
    match shape {
        Some(s) => ts.map(|t| t.broadcast_to(&s)),
        None => {
            let types: Vec<String> = ts.iter().map(|t| t.ty().to_string()).collect();
            let p = ts[0].tracer().fail(TypeError::invalid(
                name,
                format!("operands of types {} do not broadcast together", types.join(", ")),
            ));
            [p; N]
        }
    }
}
