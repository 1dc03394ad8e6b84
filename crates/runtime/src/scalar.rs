//! Element semantics: what every op does to one element of each dtype.
//!
//! The reference evaluator and the compiled plan's kernels both call these
//! functions, so that the two agree bit for bit wherever they evaluate the
//! same operations in the same order. The float functions are
//! [`saddle_ir::math::Real`]'s, which the simplifier's constant folder
//! calls too.
//!
//! Integer arithmetic wraps (as XLA's does); integer division truncates
//! towards zero and refuses a zero divisor (the caller reports it).

use saddle_ir::math::{Real, pow_by_squaring};
use saddle_ir::{Array, DType};

use crate::vmath;

/// An element of any dtype.
pub trait Elem: Copy + Send + Sync + PartialEq + PartialOrd + Default + std::fmt::Debug + 'static {
    /// The dtype of this element type.
    const DTYPE: DType;
    /// Wraps an ndarray as an [`Array`].
    fn wrap(a: ndarray::ArrayD<Self>) -> Array;
    /// The ndarray inside `a`, if it holds this element type.
    fn unwrap(a: &Array) -> Option<&ndarray::ArrayD<Self>>;
    /// The ndarray inside `a`, writable, if it holds this element type.
    fn unwrap_mut(a: &mut Array) -> Option<&mut ndarray::ArrayD<Self>>;
    /// Zero (`false`).
    fn zero() -> Self;
}

/// A numeric element (`f32`, `f64`, `i32`, `i64`).
pub trait Num: Elem {
    /// One.
    fn one() -> Self;
    /// The element equal to `i` (for `iota`).
    fn from_index(i: usize) -> Self;
    /// `x + y` (wrapping for integers).
    fn add(self, y: Self) -> Self;
    /// `x - y` (wrapping for integers).
    fn sub(self, y: Self) -> Self;
    /// `x * y` (wrapping for integers).
    fn mul(self, y: Self) -> Self;
    /// `x / y`; `None` for an integer division by zero.
    fn div(self, y: Self) -> Option<Self>;
    /// `-x` (wrapping for integers).
    fn neg(self) -> Self;
    /// `|x|` (wrapping for integers).
    fn abs(self) -> Self;
    /// -1, 0 or 1; NaN for NaN, and a zero keeps its sign.
    fn sign(self) -> Self;
    /// The larger; NaN if either is NaN.
    fn max(self, y: Self) -> Self;
    /// The smaller; NaN if either is NaN.
    fn min(self, y: Self) -> Self;
    /// `x^y` by repeated squaring (`y < 0` only for floats).
    fn ipow(self, y: i32) -> Self;
    /// The identity of `reduce_max` (-inf, or the least integer).
    fn max_identity() -> Self;
    /// The identity of `reduce_min` (+inf, or the greatest integer).
    fn min_identity() -> Self;
}

/// A float element (`f32`, `f64`).
pub trait Float: Num {
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
    /// `out[i] = x[i].exp()`, with the same bits, over a slice (a
    /// vectorised loop where the type has one).
    #[inline(always)]
    fn exp_slice(out: &mut [Self], x: &[Self]) {
        for (o, &v) in out.iter_mut().zip(x) {
            *o = v.exp();
        }
    }
    /// `out[i] = x[i].logistic()`, with the same bits, over a slice.
    #[inline(always)]
    fn logistic_slice(out: &mut [Self], x: &[Self]) {
        for (o, &v) in out.iter_mut().zip(x) {
            *o = v.logistic();
        }
    }
    /// `out[i] = x[i].exp_m1()`, with the same bits, over a slice.
    #[inline(always)]
    fn exp_m1_slice(out: &mut [Self], x: &[Self]) {
        for (o, &v) in out.iter_mut().zip(x) {
            *o = v.exp_m1();
        }
    }
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
    /// Converts from `f64` (rounding).
    fn from_f64(x: f64) -> Self;
    /// Converts to `f64` (exactly).
    fn to_f64(self) -> f64;
}

macro_rules! elem {
    ($t:ty, $variant:ident, $zero:expr) => {
        impl Elem for $t {
            const DTYPE: DType = DType::$variant;
            fn wrap(a: ndarray::ArrayD<Self>) -> Array {
                Array::$variant(a)
            }
            fn unwrap(a: &Array) -> Option<&ndarray::ArrayD<Self>> {
                match a {
                    Array::$variant(x) => Some(x),
                    _ => None,
                }
            }
            fn unwrap_mut(a: &mut Array) -> Option<&mut ndarray::ArrayD<Self>> {
                match a {
                    Array::$variant(x) => Some(x),
                    _ => None,
                }
            }
            #[inline(always)]
            fn zero() -> Self {
                $zero
            }
        }
    };
}
elem!(f32, F32, 0.0);
elem!(f64, F64, 0.0);
elem!(i32, I32, 0);
elem!(i64, I64, 0);
elem!(bool, Bool, false);

macro_rules! float_num {
    ($t:ty) => {
        impl Num for $t {
            #[inline(always)]
            fn one() -> Self {
                1.0
            }
            #[inline(always)]
            fn from_index(i: usize) -> Self {
                i as $t
            }
            #[inline(always)]
            fn add(self, y: Self) -> Self {
                self + y
            }
            #[inline(always)]
            fn sub(self, y: Self) -> Self {
                self - y
            }
            #[inline(always)]
            fn mul(self, y: Self) -> Self {
                self * y
            }
            #[inline(always)]
            fn div(self, y: Self) -> Option<Self> {
                Some(self / y)
            }
            #[inline(always)]
            fn neg(self) -> Self {
                -self
            }
            #[inline(always)]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline(always)]
            fn sign(self) -> Self {
                Real::sign(self)
            }
            #[inline(always)]
            fn max(self, y: Self) -> Self {
                Real::max(self, y)
            }
            #[inline(always)]
            fn min(self, y: Self) -> Self {
                Real::min(self, y)
            }
            #[inline(always)]
            fn ipow(self, y: i32) -> Self {
                Real::powi(self, y)
            }
            fn max_identity() -> Self {
                <$t>::NEG_INFINITY
            }
            fn min_identity() -> Self {
                <$t>::INFINITY
            }
        }
    };
}
float_num!(f32);
float_num!(f64);

macro_rules! int_num {
    ($t:ty) => {
        impl Num for $t {
            #[inline(always)]
            fn one() -> Self {
                1
            }
            #[inline(always)]
            fn from_index(i: usize) -> Self {
                i as $t
            }
            #[inline(always)]
            fn add(self, y: Self) -> Self {
                self.wrapping_add(y)
            }
            #[inline(always)]
            fn sub(self, y: Self) -> Self {
                self.wrapping_sub(y)
            }
            #[inline(always)]
            fn mul(self, y: Self) -> Self {
                self.wrapping_mul(y)
            }
            #[inline(always)]
            fn div(self, y: Self) -> Option<Self> {
                if y == 0 { None } else { Some(self.wrapping_div(y)) }
            }
            #[inline(always)]
            fn neg(self) -> Self {
                self.wrapping_neg()
            }
            #[inline(always)]
            fn abs(self) -> Self {
                self.wrapping_abs()
            }
            #[inline(always)]
            fn sign(self) -> Self {
                self.signum()
            }
            #[inline(always)]
            fn max(self, y: Self) -> Self {
                Ord::max(self, y)
            }
            #[inline(always)]
            fn min(self, y: Self) -> Self {
                Ord::min(self, y)
            }
            #[inline(always)]
            fn ipow(self, y: i32) -> Self {
                // The typing rule refuses negative exponents on integers.
                pow_by_squaring(self, Ord::max(y, 0) as u32, 1, |a: $t, b| a.wrapping_mul(b))
            }
            fn max_identity() -> Self {
                <$t>::MIN
            }
            fn min_identity() -> Self {
                <$t>::MAX
            }
        }
    };
}
int_num!(i32);
int_num!(i64);

impl Float for f64 {
    #[inline(always)]
    fn exp(self) -> f64 {
        Real::exp(self)
    }
    #[inline(always)]
    fn ln(self) -> f64 {
        Real::ln(self)
    }
    #[inline(always)]
    fn ln_1p(self) -> f64 {
        Real::ln_1p(self)
    }
    #[inline(always)]
    fn exp_m1(self) -> f64 {
        Real::exp_m1(self)
    }
    fn sin(self) -> f64 {
        Real::sin(self)
    }
    fn cos(self) -> f64 {
        Real::cos(self)
    }
    fn tanh(self) -> f64 {
        Real::tanh(self)
    }
    #[inline(always)]
    fn logistic(self) -> f64 {
        Real::logistic(self)
    }
    #[inline(always)]
    fn exp_slice(out: &mut [f64], x: &[f64]) {
        vmath::exp_slice(out, x)
    }
    #[inline(always)]
    fn logistic_slice(out: &mut [f64], x: &[f64]) {
        vmath::logistic_slice(out, x)
    }
    #[inline(always)]
    fn exp_m1_slice(out: &mut [f64], x: &[f64]) {
        vmath::exp_m1_slice(out, x)
    }
    #[inline(always)]
    fn sqrt(self) -> f64 {
        Real::sqrt(self)
    }
    #[inline(always)]
    fn rsqrt(self) -> f64 {
        Real::rsqrt(self)
    }
    fn lgamma(self) -> f64 {
        Real::lgamma(self)
    }
    fn digamma(self) -> f64 {
        Real::digamma(self)
    }
    fn erf(self) -> f64 {
        Real::erf(self)
    }
    fn polygamma(self, n: u32) -> f64 {
        Real::polygamma(self, n)
    }
    fn pow(self, y: f64) -> f64 {
        Real::pow(self, y)
    }
    #[inline(always)]
    fn from_f64(x: f64) -> f64 {
        x
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
}

impl Float for f32 {
    #[inline(always)]
    fn exp(self) -> f32 {
        Real::exp(self)
    }
    #[inline(always)]
    fn ln(self) -> f32 {
        Real::ln(self)
    }
    #[inline(always)]
    fn ln_1p(self) -> f32 {
        Real::ln_1p(self)
    }
    #[inline(always)]
    fn exp_m1(self) -> f32 {
        Real::exp_m1(self)
    }
    fn sin(self) -> f32 {
        Real::sin(self)
    }
    fn cos(self) -> f32 {
        Real::cos(self)
    }
    fn tanh(self) -> f32 {
        Real::tanh(self)
    }
    #[inline(always)]
    fn logistic(self) -> f32 {
        Real::logistic(self)
    }
    #[inline(always)]
    fn exp_slice(out: &mut [f32], x: &[f32]) {
        vmath::exp_slice_f32(out, x)
    }
    #[inline(always)]
    fn logistic_slice(out: &mut [f32], x: &[f32]) {
        vmath::logistic_slice_f32(out, x)
    }
    #[inline(always)]
    fn exp_m1_slice(out: &mut [f32], x: &[f32]) {
        vmath::exp_m1_slice_f32(out, x)
    }
    #[inline(always)]
    fn sqrt(self) -> f32 {
        Real::sqrt(self)
    }
    #[inline(always)]
    fn rsqrt(self) -> f32 {
        Real::rsqrt(self)
    }
    fn lgamma(self) -> f32 {
        Real::lgamma(self)
    }
    fn digamma(self) -> f32 {
        Real::digamma(self)
    }
    fn erf(self) -> f32 {
        Real::erf(self)
    }
    fn polygamma(self, n: u32) -> f32 {
        Real::polygamma(self, n)
    }
    fn pow(self, y: f32) -> f32 {
        Real::pow(self, y)
    }
    #[inline(always)]
    fn from_f64(x: f64) -> f32 {
        x as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
}

/// `convert`: one element of one dtype as another. Floats go to integers
/// by truncation towards zero, saturating at the integer's range (NaN
/// gives 0); integers narrow by wrapping; anything non-zero is `true`
/// (NaN included); `true` is 1.
pub trait CastTo<U> {
    /// The converted element.
    fn cast(self) -> U;
}

macro_rules! cast_num {
    ($($from:ty),* => $to:ty) => {
        $(impl CastTo<$to> for $from {
            #[inline(always)]
            fn cast(self) -> $to {
                self as $to
            }
        })*
        impl CastTo<bool> for $to {
            #[inline(always)]
            fn cast(self) -> bool {
                self != (0 as $to)
            }
        }
        impl CastTo<$to> for bool {
            #[inline(always)]
            fn cast(self) -> $to {
                (self as u8) as $to
            }
        }
    };
}
cast_num!(f32, f64, i32, i64 => f32);
cast_num!(f32, f64, i32, i64 => f64);
cast_num!(f32, f64, i32, i64 => i32);
cast_num!(f32, f64, i32, i64 => i64);

impl CastTo<bool> for bool {
    #[inline(always)]
    fn cast(self) -> bool {
        self
    }
}
