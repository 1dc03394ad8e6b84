//! Which of the CPU's vector instruction sets the elementwise kernels use.
//!
//! The fused loops and the `exp`/`logistic` slice functions are built for
//! AVX-512, for AVX2 with FMA and for the baseline, and pick the widest the
//! CPU has at run time. Every build gives the same bits, so [`limit`] can
//! cap the choice, for the whole process, without changing a result: to
//! test each build on one machine, or to measure what the wide vectors
//! gain.
//!
//! ```
//! use saddle_ir::{parse_func, Array};
//! use saddle_runtime::isa::{self, Isa};
//! let f = parse_func("f.sir", "func @f(%x: f64[40]) -> f64[40] {\n %y: f64[40] = exp %x\n return %y\n}").unwrap();
//! let exe = saddle_runtime::compile(&f).unwrap();
//! let x = Array::from(ndarray::Array1::linspace(-3.0, 3.0, 40).into_dyn());
//! let widest = exe.run(&[x.clone()]).unwrap();
//! isa::limit(Isa::Baseline);
//! let baseline = exe.run(&[x]).unwrap();
//! isa::limit(Isa::Widest);
//! assert!(widest[0].bitwise_eq(&baseline[0]));
//! ```

use std::sync::atomic::{AtomicU8, Ordering};

/// An upper bound on the instruction sets the kernels use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Isa {
    /// The widest the CPU has (the default).
    Widest = 0,
    /// AVX2 with FMA at most (no AVX-512).
    Avx2 = 1,
    /// The build's baseline (plain loops; multiply-adds without the FMA
    /// instruction unless the build assumes it).
    Baseline = 2,
}

static LIMIT: AtomicU8 = AtomicU8::new(Isa::Widest as u8);

/// Caps the instruction sets of the elementwise kernels for the whole
/// process (calls already running finish as they started).
pub fn limit(isa: Isa) {
    LIMIT.store(isa as u8, Ordering::Relaxed);
}

/// The current cap.
#[inline(always)]
pub fn current() -> Isa {
    match LIMIT.load(Ordering::Relaxed) {
        0 => Isa::Widest,
        1 => Isa::Avx2,
        _ => Isa::Baseline,
    }
}
