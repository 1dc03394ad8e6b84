//! saddle: exact derivatives, batching and Laplace approximations for log
//! densities written in Rust.
pub use saddle_ad as ad;
pub use saddle_ir as ir;
pub use saddle_laplace as laplace;
pub use saddle_runtime as runtime;
pub use saddle_xla_lower as xla_lower;
