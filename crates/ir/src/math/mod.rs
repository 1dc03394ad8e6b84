//! Scalar maths: what each float elementwise op computes for one element,
//! defined once.
//!
//! The runtime's kernels and reference evaluator and the simplifier's
//! constant folder all call these functions, so a folded constant has the
//! bits that running the function gives, on every path. [`Real`] gives
//! every op for `f64` and `f32`; [`exp`], [`ln`], [`logistic`], [`ln_1p`]
//! and [`exp_m1`] are written here so that loops over slices vectorise
//! (the runtime's vector loops repeat their steps operation for
//! operation, see [`exp_log`] and [`log1p_expm1`]);
//! [`digamma`] and [`polygamma`] are written here; the rest come from the
//! platform's C library (through `std`) or the `libm` crate.
//!
//! `f32` arguments are computed in f64 and rounded once, except `sqrt`,
//! `sin`, `cos` and `pow`, which use the f32 functions of `std`.
//!
//! ```
//! use saddle_ir::math::Real;
//! assert_eq!(Real::exp(0.0f64), 1.0);
//! assert_eq!(Real::logistic(0.0f32), 0.5);
//! assert_eq!(Real::powi(2.0f64, -2), 0.25);
//! ```

pub mod exp_log;
pub mod log1p_expm1;
mod special;

pub use exp_log::{exp, ln, logistic};
pub use log1p_expm1::{exp_m1, ln_1p};
pub use special::{digamma, erf, lgamma, polygamma};

/// `x^e` by repeated squaring, with `mul` as the product (`one` for
/// `e = 0`). The runtime's `integer_pow` on every dtype.
///
/// ```
/// assert_eq!(saddle_ir::math::pow_by_squaring(3i64, 4, 1, |a, b| a * b), 81);
/// ```
#[inline(always)]
pub fn pow_by_squaring<T: Copy>(x: T, mut e: u32, one: T, mul: impl Fn(T, T) -> T) -> T {
    let mut acc = one;
    let mut base = x;
    let mut first = true;
    while e > 0 {
        if e & 1 == 1 {
            acc = if first { base } else { mul(acc, base) };
            first = false;
        }
        e >>= 1;
        if e > 0 {
            base = mul(base, base);
        }
    }
    acc
}

/// Elements per chunk of [`sum_by`]; chunks may be summed on different
/// threads.
pub const SUM_CHUNK: usize = 1 << 14;

/// The sum of `xs` in saddle's canonical order, with `add` as the addition
/// and `zero` its identity: each chunk of [`SUM_CHUNK`] elements is summed
/// by [`chunk_sum_by`], and the chunk sums are added in order. The order of
/// a floating-point sum is part of its result, so the runtime's reductions
/// and the constant folder both sum this way.
///
/// ```
/// use saddle_ir::math::sum_by;
/// assert_eq!(sum_by(&[1.0, 2.0, 3.0], 0.0, |a, b| a + b), 6.0);
/// // Element 8 joins element 0 in lane 0.
/// let lanes = (((0.1 + 0.1) + 0.1) + (0.1 + 0.1)) + ((0.1 + 0.1) + (0.1 + 0.1));
/// assert_eq!(sum_by(&[0.1; 9], 0.0, |a, b| a + b), lanes);
/// ```
#[inline]
pub fn sum_by<T: Copy>(xs: &[T], zero: T, add: impl Fn(T, T) -> T + Copy) -> T {
    let mut total = zero;
    for chunk in xs.chunks(SUM_CHUNK) {
        total = add(total, chunk_sum_by(chunk, zero, add));
    }
    total
}

/// The sum of at most [`SUM_CHUNK`] elements in eight lanes: element `i`
/// goes to lane `i % 8`, and the lanes are combined pairwise,
/// `((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7))`.
#[inline]
pub fn chunk_sum_by<T: Copy>(xs: &[T], zero: T, add: impl Fn(T, T) -> T) -> T {
    let mut acc = [zero; 8];
    let mut it = xs.chunks_exact(8);
    for c in &mut it {
        for j in 0..8 {
            acc[j] = add(acc[j], c[j]);
        }
    }
    for (j, &v) in it.remainder().iter().enumerate() {
        acc[j] = add(acc[j], v);
    }
    let a = add(add(acc[0], acc[1]), add(acc[2], acc[3]));
    let b = add(add(acc[4], acc[5]), add(acc[6], acc[7]));
    add(a, b)
}

/// The float elementwise ops on one element, with the runtime's bits
/// (arithmetic is IEEE's, through the operators).
pub trait Real:
    Copy
    + PartialOrd
    + std::ops::Neg<Output = Self>
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
{
    /// `|x|`.
    fn abs(self) -> Self;
    /// `e^x`.
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// `log(1 + x)`.
    fn ln_1p(self) -> Self;
    /// `e^x - 1`.
    fn exp_m1(self) -> Self;
    /// Sine.
    fn sin(self) -> Self;
    /// Cosine.
    fn cos(self) -> Self;
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
    /// `1 / (1 + e^-x)`, without overflow for any `x`.
    fn logistic(self) -> Self;
    /// Square root.
    fn sqrt(self) -> Self;
    /// `1 / sqrt(x)`.
    fn rsqrt(self) -> Self;
    /// `log |Γ(x)|`.
    fn lgamma(self) -> Self;
    /// `ψ(x)`.
    fn digamma(self) -> Self;
    /// Error function.
    fn erf(self) -> Self;
    /// `ψ⁽ⁿ⁾(x)`.
    fn polygamma(self, n: u32) -> Self;
    /// `x^y`.
    fn pow(self, y: Self) -> Self;
    /// `x^y` for an integer `y`, by repeated squaring (`1 / x^-y` for
    /// `y < 0`).
    fn powi(self, y: i32) -> Self;
    /// -1, 0 or 1; NaN for NaN, and a zero keeps its sign.
    fn sign(self) -> Self;
    /// The larger; NaN if either is NaN; `max(-0, +0)` is `+0`.
    fn max(self, y: Self) -> Self;
    /// The smaller; NaN if either is NaN; `min(-0, +0)` is `-0`.
    fn min(self, y: Self) -> Self;
}

macro_rules! common {
    ($t:ty) => {
        #[inline(always)]
        fn abs(self) -> $t {
            <$t>::abs(self)
        }
        #[inline(always)]
        fn powi(self, y: i32) -> $t {
            let p = pow_by_squaring(self, y.unsigned_abs(), 1.0, |a, b| a * b);
            if y < 0 { 1.0 / p } else { p }
        }
        #[inline(always)]
        fn sign(self) -> $t {
            if self > 0.0 {
                1.0
            } else if self < 0.0 {
                -1.0
            } else {
                self
            }
        }
        #[inline(always)]
        fn max(self, y: $t) -> $t {
            if self.is_nan() || y.is_nan() {
                <$t>::NAN
            } else if self > y || (self == y && y.is_sign_negative()) {
                self
            } else {
                y
            }
        }
        #[inline(always)]
        fn min(self, y: $t) -> $t {
            if self.is_nan() || y.is_nan() {
                <$t>::NAN
            } else if self < y || (self == y && y.is_sign_positive()) {
                self
            } else {
                y
            }
        }
    };
}

impl Real for f64 {
    #[inline(always)]
    fn exp(self) -> f64 {
        exp_log::exp(self)
    }
    #[inline(always)]
    fn ln(self) -> f64 {
        exp_log::ln(self)
    }
    #[inline(always)]
    fn ln_1p(self) -> f64 {
        log1p_expm1::ln_1p(self)
    }
    #[inline(always)]
    fn exp_m1(self) -> f64 {
        log1p_expm1::exp_m1(self)
    }
    fn sin(self) -> f64 {
        f64::sin(self)
    }
    fn cos(self) -> f64 {
        f64::cos(self)
    }
    fn tanh(self) -> f64 {
        f64::tanh(self)
    }
    #[inline(always)]
    fn logistic(self) -> f64 {
        exp_log::logistic(self)
    }
    #[inline(always)]
    fn sqrt(self) -> f64 {
        f64::sqrt(self)
    }
    #[inline(always)]
    fn rsqrt(self) -> f64 {
        1.0 / f64::sqrt(self)
    }
    fn lgamma(self) -> f64 {
        special::lgamma(self)
    }
    fn digamma(self) -> f64 {
        special::digamma(self)
    }
    fn erf(self) -> f64 {
        special::erf(self)
    }
    fn polygamma(self, n: u32) -> f64 {
        special::polygamma(n, self)
    }
    fn pow(self, y: f64) -> f64 {
        f64::powf(self, y)
    }
    common!(f64);
}

impl Real for f32 {
    #[inline(always)]
    fn exp(self) -> f32 {
        exp_log::exp(self as f64) as f32
    }
    #[inline(always)]
    fn ln(self) -> f32 {
        exp_log::ln(self as f64) as f32
    }
    #[inline(always)]
    fn ln_1p(self) -> f32 {
        log1p_expm1::ln_1p(self as f64) as f32
    }
    #[inline(always)]
    fn exp_m1(self) -> f32 {
        log1p_expm1::exp_m1(self as f64) as f32
    }
    fn sin(self) -> f32 {
        f32::sin(self)
    }
    fn cos(self) -> f32 {
        f32::cos(self)
    }
    fn tanh(self) -> f32 {
        f64::tanh(self as f64) as f32
    }
    #[inline(always)]
    fn logistic(self) -> f32 {
        exp_log::logistic(self as f64) as f32
    }
    #[inline(always)]
    fn sqrt(self) -> f32 {
        f32::sqrt(self)
    }
    #[inline(always)]
    fn rsqrt(self) -> f32 {
        (1.0 / f64::sqrt(self as f64)) as f32
    }
    fn lgamma(self) -> f32 {
        special::lgamma(self as f64) as f32
    }
    fn digamma(self) -> f32 {
        special::digamma(self as f64) as f32
    }
    fn erf(self) -> f32 {
        special::erf(self as f64) as f32
    }
    fn polygamma(self, n: u32) -> f32 {
        special::polygamma(n, self as f64) as f32
    }
    fn pow(self, y: f32) -> f32 {
        f32::powf(self, y)
    }
    common!(f32);
}
