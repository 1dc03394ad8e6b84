//! Automatic differentiation and batching as IR-to-IR transformations.
//!
//! Every transformation takes a [`saddle_ir::Func`] and returns a new one,
//! so they compose in any order and to any depth: the gradient of a
//! gradient, the batched gradient, the Hessian of a batched function, the
//! JVP of a VJP.
//!
//! - [`jvp`]: forward mode, with symbolic zero tangents that cost nothing.
//! - [`linearize`], [`transpose`], [`vjp`]: reverse mode the JAX way, by
//!   partial evaluation of the JVP into a primal and a linear part and
//!   transposition of the linear part. There is no tape: the backward pass
//!   is IR.
//! - [`vmap`]: batching, with per-parameter `in_axes` and per-result
//!   `out_axes` (`None` for "not batched").
//! - [`sparsity`]: the sparsity patterns of Hessians and Jacobians, detected
//!   on the IR element by element given the data.
//! - Derived: [`grad`], [`value_and_grad`], [`jacfwd`], [`jacrev`],
//!   [`hessian`] (forward over reverse: `jacfwd(grad(f))`, the JVP of the
//!   gradient batched over the identity basis) and [`hvp`].
//!
//! The rules of each transformation live in one file per op family
//! (`jvp/`, `transpose/`, `batch/`, each with `elementwise.rs`,
//! `reduce.rs`, `layout.rs`, `linalg.rs`, `index.rs`), each one exhaustive
//! `match` over [`saddle_ir::Op`].
//!
//! ```
//! use saddle_ir::{trace, TensorType, print_func};
//!
//! // A traced log density: -½·|x|² + Σ log x.
//! let f = trace("logp", &[TensorType::f64([3])], |x| {
//!     let x = x[0];
//!     vec![-0.5 * (x * x).sum_all() + x.log().sum_all()]
//! })
//! .unwrap();
//! let g = saddle_ad::grad(&f, 0).unwrap();
//! assert_eq!(g.result_types(), vec![TensorType::f64([3])]);
//! let h = saddle_ad::hessian(&f, 0).unwrap();
//! assert_eq!(h.result_types(), vec![TensorType::f64([3, 3])]);
//! // Transformations compose: the gradient of each of a batch of 8 points.
//! let bg = saddle_ad::vmap_leading(&g, 8).unwrap();
//! assert_eq!(bg.param_types()[0], TensorType::f64([8, 3]));
//! // And a transformed function is an ordinary function: call it from a trace.
//! let twice = saddle_ir::trace::trace_with("twice", &[TensorType::f64([3])], |tr, x| {
//!     vec![tr.call(&g, &[x[0]])[0] * 2.0]
//! })
//! .unwrap();
//! assert!(print_func(&twice).contains("div"));
//! ```
//!
//! # Derivative conventions
//!
//! Where a derivative is not defined, the transformations give what JAX
//! gives:
//! - `max`/`min` (and `reduce_max`/`reduce_min`) at ties split the tangent
//!   equally between the tied operands: the gradient of `max(x, y)` at
//!   `x == y` is `(½, ½)`.
//! - `abs` at 0 has derivative 1; `sign` has derivative 0 everywhere.
//! - `pow(x, y)`: `∂/∂x` is 0 where `y == 0`, and `∂/∂y` is 0 where `x == 0`.
//! - `sqrt` and `log` at 0 have infinite derivatives (`0.5 / sqrt(x)`,
//!   `1 / x`).
//! - `lgamma` → `digamma` → `polygamma {n = 1}` → `polygamma {n = 2}` ...
//! - `cholesky` and `triangular_solve` follow the matrix-calculus rules;
//!   like JAX, `cholesky`'s rule assumes a symmetric input and reads both
//!   triangles of the tangent; `triangular_solve` reads only the triangle
//!   of `a` that the solve reads.
//! - Integer and bool values carry no derivative; `stop_gradient` stops it.
#![warn(missing_docs)]

mod api;
mod batch;
mod error;
mod guard;
mod jvp;
mod partial;
pub mod sparsity;
mod transpose;
mod util;

pub use api::{
    Linearized, grad, hessian, hvp, jacfwd, jacrev, jvp, jvp_wrt, linearize, transpose, value_and_grad, vjp, vmap,
    vmap_leading,
};
pub use error::{Error, Result};
