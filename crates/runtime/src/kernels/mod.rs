//! Kernels of the compiled plan, one file per op family.

pub mod reduce;
