//! saddle: write a log density once, in Rust or in the `.sir` text format,
//! and get exact gradients, Hessians and batched versions of it, compiled
//! and fast, plus Laplace's approximation of the posterior.
//!
//! This facade re-exports the workspace's crates:
//!
//! - [`ir`]: the SSA IR, the tracing frontend, the text format, the
//!   verifier and the generic passes (DCE, CSE, the egg simplifier);
//! - [`ad`]: JVP, linearize and transpose (VJP), vmap, and the derived
//!   `grad`, `value_and_grad`, `jacfwd`, `jacrev`, `hessian`, `hvp`;
//! - [`runtime`]: compiles a function to an execution plan and runs it;
//! - [`xla_lower`]: emits StableHLO so the same function runs on XLA;
//! - [`laplace`]: Laplace's approximation, end to end.
//!
//! ```
//! use ndarray::{arr1, arr2};
//! use saddle::ir::{trace::trace_with, Array, TensorType};
//!
//! // The 2-D Student-t log density of the seed example.
//! let f = trace_with("log_posterior", &[TensorType::f64([2])], |tr, args| {
//!     let theta = args[0];
//!     let mu = tr.constant(arr1(&[0.5, 2.0]));
//!     let sinv = tr.constant(arr2(&[[4.0 / 3.0, -2.0 / 3.0], [-2.0 / 3.0, 4.0 / 3.0]]));
//!     let d = theta - mu;
//!     vec![-4.5 * (1.0 + d.dot(sinv.matmul(d)) / 7.0).log()]
//! })?;
//!
//! // Exact derivatives are IR too; compile them once, call them often.
//! let hessian = saddle::runtime::compile(&saddle::ad::hessian(&f, 0)?)?;
//! let at_mode = Array::from(arr1(&[0.5, 2.0]).into_dyn());
//! let h = hessian.run(&[at_mode])?;
//! assert!((h[0].to_f64_vec()[0] + 9.0 / 7.0 * 4.0 / 3.0).abs() < 1e-12);
//!
//! // Laplace's approximation: mode, covariance = 7/9·Σ, log evidence.
//! let mut density = saddle::laplace::IrDensity::new(&f, vec![])?;
//! let fit = saddle::laplace::laplace(&mut density, &[0.0, 0.0], &Default::default())?;
//! assert!((fit.covariance.as_ref().unwrap()[[0, 1]] - 7.0 / 18.0).abs() < 1e-9);
//! assert!((fit.log_evidence - 1.4427216).abs() < 1e-6);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

pub use saddle_ad as ad;
pub use saddle_ir as ir;
pub use saddle_laplace as laplace;
pub use saddle_runtime as runtime;
pub use saddle_xla_lower as xla_lower;

mod quick;
pub use quick::{Error, grad, hessian, value, value_and_grad};

/// The pages of `docs/`, compiled here only so that `cargo test` runs
/// their Rust snippets as doc tests.
#[cfg(doctest)]
mod docs {
    #[doc = include_str!("../docs/ad.md")]
    mod ad {}
    #[doc = include_str!("../docs/cli.md")]
    mod cli {}
    #[doc = include_str!("../docs/distributions.md")]
    mod distributions {}
    #[doc = include_str!("../docs/ir.md")]
    mod ir {}
    #[doc = include_str!("../docs/laplace.md")]
    mod laplace {}
    #[doc = include_str!("../docs/models.md")]
    mod models {}
    #[doc = include_str!("../docs/runtime.md")]
    mod runtime {}
    #[doc = include_str!("../docs/simplify.md")]
    mod simplify {}
    #[doc = include_str!("../docs/sir.md")]
    mod sir {}
    #[doc = include_str!("../docs/xla.md")]
    mod xla {}
}
