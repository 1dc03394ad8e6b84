//! Runs saddle IR on the CPU.
//!
//! - [`reference::eval`]: the reference evaluator, plain loops over
//!   ndarray; the oracle every other component is tested against.
//! - [`scalar`], [`special`], [`vmath`]: what each op does to one element.
//!
//! ```
//! use saddle_ir::{parse_func, Array};
//! let f = parse_func("f.sir", "func @f(%x: f64[]) -> f64[] {\n %y: f64[] = logistic %x\n return %y\n}").unwrap();
//! let y = saddle_runtime::reference::eval(&f, &[Array::from(0.0)]).unwrap();
//! assert_eq!(y[0].to_f64_vec(), vec![0.5]);
//! ```
#![warn(missing_docs)]

mod error;
pub mod kernels;
mod memory;
pub mod reference;
pub mod scalar;
pub mod special;
pub mod vmath;

pub use error::Error;
pub use memory::available_memory;
pub use saddle_ir::Array;

use saddle_ir::Func;

/// Checks `inputs` against the parameters of `f`: their number, and each
/// one's dtype and shape.
pub fn check_args(f: &Func, inputs: &[Array]) -> Result<(), Error> {
    if inputs.len() != f.num_params() {
        return Err(Error::ArgCount { func: f.name().to_string(), expected: f.num_params(), found: inputs.len() });
    }
    for (index, (x, ty)) in inputs.iter().zip(f.param_types()).enumerate() {
        if x.dtype() != ty.dtype || x.shape() != ty.shape.as_slice() {
            return Err(Error::ArgType { func: f.name().to_string(), index, expected: ty.clone(), found: x.ty() });
        }
    }
    Ok(())
}
