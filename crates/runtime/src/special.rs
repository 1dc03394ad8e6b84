//! Special functions: [`saddle_ir::math`]'s, re-exported.
//!
//! `lgamma` and `erf` come from the `libm` crate; `digamma` and
//! `polygamma` (accuracy, poles and the behaviour for large `n` are
//! documented on them) are written in `saddle_ir::math`, so that constant
//! folding computes the same bits.

pub use saddle_ir::math::{digamma, erf, lgamma, polygamma};
