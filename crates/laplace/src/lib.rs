//! Laplace approximations of posteriors built on saddle.
#![warn(missing_docs)]
// Index loops read like the formulas in the numerical code, and `!(x > 0.0)`
// is the NaN-rejecting test on purpose.
#![allow(clippy::needless_range_loop, clippy::neg_cmp_op_on_partial_ord)]

mod approx;
mod curvature;
mod density;
mod dissection;
mod error;
mod exec;
mod ir;
mod lbfgs;
mod linalg;
mod newton;
mod optimum;
mod options;
mod params;
#[cfg(feature = "plot")]
pub mod plot;
mod random;
mod rng;
mod sparse;
mod structure;
mod transform;

pub use approx::{Derived, Laplace, Normal, Precision, SparseInfo, Timings, laplace, laplace_constrained};
pub use density::{Evaluations, FnDensity, LogDensity};
pub use error::LaplaceError;
pub use ir::{BuildOptions, BuildReport, IrDensity, Simplify, sdreport};
pub use options::{HessianMode, Method, Options};
pub use params::{Block, BlockSummary, ParamFit, ParamSpace, ParamSummary, Support, Transform, laplace_params};
pub use random::{InnerStats, RandomEffects, RandomError, RandomFit, laplace_random};
pub use sparse::{FactorKind, SparseCholesky, SparseError, sym_matvec};
pub use structure::{SparseStructure, SparseSymmetric};
pub use transform::{Constraint, Target};
