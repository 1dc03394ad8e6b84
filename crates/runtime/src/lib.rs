//! Runs saddle IR on the CPU: `jax.jit` for saddle.
//!
//! - [`compile`] turns a function into an [`Executable`]: a plan fixed at
//!   compile time (schedule, fused elementwise loops, buffers reused by
//!   liveness). [`Executable::run`] calls it; [`Executable::run_into`] is
//!   the allocation-free path for tight loops.
//! - [`reference::eval`]: the reference evaluator, plain loops over
//!   ndarray; the oracle every other component is tested against.
//! - [`scalar`], [`special`], [`vmath`]: what each op does to one element.
//! - [`backend`]: dense linear algebra (faer, or OpenBLAS with the
//!   `openblas` feature).
//! - [`isa`]: caps the vector instruction sets the kernels use (the
//!   results are the same bits at every level).
//!
//! ```
//! use saddle_ir::{parse_func, Array};
//! let f = parse_func("f.sir", "func @f(%x: f64[]) -> f64[] {\n %y: f64[] = logistic %x\n return %y\n}").unwrap();
//! let exe = saddle_runtime::compile(&f).unwrap();
//! let y = exe.run(&[Array::from(0.0)]).unwrap();
//! assert_eq!(y[0].to_f64_vec(), vec![0.5]);
//! assert!(y[0].bitwise_eq(&saddle_runtime::reference::eval(&f, &[Array::from(0.0)]).unwrap()[0]));
//! ```
#![warn(missing_docs)]

pub mod backend;
mod error;
mod exec;
pub mod isa;
pub mod kernels;
mod memory;
mod plan;
pub mod reference;
pub mod scalar;
pub mod special;
pub mod vmath;

pub use error::Error;
pub use exec::{Executable, Workspace};
pub use memory::available_memory;
pub use saddle_ir::Array;

use saddle_ir::Func;

/// How [`compile_with`] builds a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileOptions {
    /// Run the equality-saturation simplifier ([`saddle_ir::simplify`])
    /// first; otherwise only CSE and DCE. On by default; the simplified
    /// plan computes the same values, up to the rounding of re-associated
    /// sums (see the simplifier's docs), so turn it off to get the bits of
    /// the reference interpreter.
    pub simplify: bool,
    /// Fuse runs of elementwise ops into single loops.
    pub fuse: bool,
    /// Reuse the buffer of a dead value for a later one.
    pub reuse_buffers: bool,
    /// Refuse plans needing more bytes than this (default: the memory the
    /// machine has available, see [`available_memory`]).
    pub memory_limit: Option<u128>,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions { simplify: true, fuse: true, reuse_buffers: true, memory_limit: None }
    }
}

impl CompileOptions {
    /// No fusion and no buffer reuse: one step per op, every value in a
    /// buffer of its own. Gives the same bits as the default plan.
    pub fn unfused() -> CompileOptions {
        CompileOptions { simplify: false, fuse: false, reuse_buffers: false, memory_limit: None }
    }
}

/// Compiles `f` with the default [`CompileOptions`].
pub fn compile(f: &Func) -> Result<Executable, Error> {
    compile_with(f, &CompileOptions::default())
}

/// Compiles `f`: verifies it, plans it, and sizes its buffers (refusing a
/// plan larger than [`CompileOptions::memory_limit`]).
pub fn compile_with(f: &Func, opts: &CompileOptions) -> Result<Executable, Error> {
    Executable::new(f, opts)
}

/// Checks `inputs` against the parameters of `f`: their number, and each
/// one's dtype and shape.
pub fn check_args(f: &Func, inputs: &[Array]) -> Result<(), Error> {
    if inputs.len() != f.num_params() {
        return Err(Error::ArgCount { func: f.name().to_string(), expected: f.num_params(), found: inputs.len() });
    }
    for (index, (x, ty)) in inputs.iter().zip(f.param_types()).enumerate() {
        if x.dtype() != ty.dtype || x.shape() != ty.shape.as_slice() {
            return Err(Error::ArgType {
                func: f.name().to_string(),
                index,
                expected: Box::new(ty.clone()),
                found: Box::new(x.ty()),
            });
        }
    }
    Ok(())
}
