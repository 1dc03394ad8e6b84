//! `exp`, `ln` and `logistic` for f64 that the compiler can vectorise:
//! loops over slices that call them become SIMD loops, which the
//! platform's `exp` and `log` (calls into the C library) never do. `ln`
//! is branch-free; `exp` (and `logistic`) has a branch-free fast path for
//! |x| ≤ 704, and the runtime's slice functions run that path over
//! a whole slice and redo the rare arguments beyond it, giving the same
//! bits as the element functions.
//!
//! On a CPU with fused multiply-adds (every x86-64 CPU with AVX2, every
//! 64-bit ARM CPU) the range reduction and polynomial of `exp` use them
//! (`f64::mul_add`, rounded once by definition), so every path gives the
//! same bits whether the instruction or a software `fma` computes them
//! (the AVX-512 and AVX2 loops use the instruction; so do the plain loops,
//! through a copy compiled for it). A CPU without the instruction takes
//! the same steps in multiplications and additions alone on every path,
//! as accurate, and may differ from the fused results in the last bit.
//!
//! Accuracy: within 1 unit in the last place of the correctly rounded
//! result over the whole range (the tests check at most 1 ulp from the C
//! library's on millions of random arguments and on the edge cases:
//! overflow, underflow to subnormals and zero, infinities, NaN, zero and
//! negative arguments of `ln`).

/// 16 / ln 2.
pub const N_OVER_LN2: f64 = 23.083_120_654_223_414;
/// ln 2 / 16 split so that `k * LN2_N_HI` is exact for |k| < 2^20.
pub const LN2_N_HI: f64 = 0.693_147_180_369_123_8 / 16.0;
/// The low part of ln 2 / 16.
pub const LN2_N_LO: f64 = 1.908_214_929_270_587_7e-10 / 16.0;
/// ln 2 split as above, for `ln`.
const LN2_HI: f64 = 0.693_147_180_369_123_8;
/// The low part of ln 2.
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
/// 1.5 · 2^52: adding it rounds to the nearest integer.
pub const SHIFT: f64 = 6_755_399_441_055_744.0;
/// Arguments of `exp` up to this magnitude take the fast path: the
/// result's scale 2^k is a normal number.
pub const FAST: f64 = 704.0;

/// `e^x`.
///
/// Tang's method: x = (16·k + j)·ln2/16 + r with |r| ≤ ln2/32, so
/// e^x = 2^k · 2^(j/16) · e^r; 2^(j/16) comes from a table of 16 as a
/// double and its relative tail, e^r − 1 from a degree-7 polynomial, and
/// the result is `s + s·(tail + p(r))` with `s` the table's double scaled
/// by 2^k (an exact integer addition to its exponent), in fused
/// multiply-adds where the CPU has them (see the module's docs). Sixteen
/// entries fit in two vector registers, so the AVX-512 loops look them up
/// with in-register permutes instead of memory gathers. Arguments beyond ±704
/// (overflow, subnormal results, infinities, NaN) take a slower path that
/// scales in two exact steps.
///
/// ```
/// use saddle_ir::math::exp;
/// assert_eq!(exp(0.0), 1.0);
/// assert!((exp(1.0) - std::f64::consts::E).abs() <= f64::EPSILON * 3.0);
/// assert_eq!(exp(-1000.0), 0.0);
/// assert_eq!(exp(1000.0), f64::INFINITY);
/// ```
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    if fast(x) { exp_scaled(x, 0) } else { exp_slow(x) }
}

/// Whether `x` takes the fast path of [`exp`] (false for NaN).
#[inline(always)]
pub fn fast(x: f64) -> bool {
    x.abs() <= FAST
}

/// Whether `exp` computes with fused multiply-adds: wherever the CPU has
/// the instruction (every x86-64 CPU with AVX2, every 64-bit ARM CPU).
/// Elsewhere it takes the same steps in IEEE multiplications and additions
/// alone, as accurate, instead of a software `fma` at ten times the cost;
/// the two can differ in the last bit, so results are the same on every
/// path of one machine and on every machine with FMA.
#[inline(always)]
pub fn fused() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        cfg!(target_feature = "fma") || std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        true
    }
}

/// [`exp_core`] in the formulation this CPU takes (see [`fused`]).
#[inline(always)]
fn exp_scaled(x: f64, e: i64) -> f64 {
    if fused() { exp_core::<true>(x, e) } else { exp_core::<false>(x, e) }
}

/// e^x · 2^-e, for arguments where that is a normal number (any `x`
/// gives some number: garbage outside that range, never a fault), with
/// fused multiply-adds or without ([`fused`]).
#[inline(always)]
pub fn exp_core<const FUSED: bool>(x: f64, e: i64) -> f64 {
    let (t, r) = if FUSED {
        let t = x.mul_add(N_OVER_LN2, SHIFT);
        let kf = t - SHIFT;
        (t, kf.mul_add(-LN2_N_LO, kf.mul_add(-LN2_N_HI, x)))
    } else {
        let t = x * N_OVER_LN2 + SHIFT;
        let kf = t - SHIFT;
        (t, (x - kf * LN2_N_HI) - kf * LN2_N_LO)
    };
    // The low bits of t hold k = 16·n + j: j indexes the tables, and k
    // shifted to the exponent field adds n to the table entry's exponent
    // (the table entries are stored less j << 48 to cancel j's share).
    let bits = t.to_bits();
    let j = (bits & 15) as usize;
    let tail = f64::from_bits(EXP_TAIL[j]);
    let s = f64::from_bits(EXP_HI[j].wrapping_add(bits << 48).wrapping_sub((e as u64) << 52));
    if FUSED { s.mul_add(poly_fused(tail, r), s) } else { s + s * poly(tail, r) }
}

/// `tail + (e^r − 1)` for |r| ≤ ln2/32: the Taylor polynomial of degree 7
/// (its truncation error is below 2^-59 relative) in r² (Estrin's scheme),
/// evaluated in one fixed order of fused multiply-adds that the vector
/// loops repeat operation for operation.
#[inline(always)]
fn poly_fused(tail: f64, r: f64) -> f64 {
    let r2 = r * r;
    let a = r.mul_add(1.0 / 6.0, 0.5);
    let b = r.mul_add(1.0 / 120.0, 1.0 / 24.0);
    let c = r.mul_add(1.0 / 5040.0, 1.0 / 720.0);
    r2.mul_add(r2.mul_add(r2.mul_add(c, b), a), tail + r)
}

/// [`poly_fused`] in multiplications and additions alone.
#[inline(always)]
fn poly(tail: f64, r: f64) -> f64 {
    let r2 = r * r;
    let r4 = r2 * r2;
    (tail + r)
        + r2 * (0.5 + r * (1.0 / 6.0))
        + r4 * ((1.0 / 24.0 + r * (1.0 / 120.0)) + r2 * (1.0 / 720.0 + r * (1.0 / 5040.0)))
}

/// Below this, e^x is less than 2^-1075, half the smallest subnormal, so
/// it rounds to zero.
const UNDERFLOW: f64 = -745.2;

/// [`exp`] beyond the fast path: the scale is applied in two exact
/// steps (one rounding into the subnormals below, an exact doubling or
/// overflow above). Inlined, so that its multiply-adds use the caller's
/// instruction set; arguments whose result is zero return before any
/// arithmetic, since a product that underflows takes a slow microcode
/// path on many CPUs.
#[inline(always)]
pub fn exp_slow(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x < UNDERFLOW {
        return 0.0;
    }
    let x = x.min(710.0);
    if x < 0.0 { exp_scaled(x, -1022) * f64::from_bits(1 << 52) } else { exp_scaled(x, 1) * 2.0 }
}

/// 2/(2k+1) for k = 10 down to 1: the series of log((1+s)/(1-s)) / s - 2.
const LOG_POLY: [f64; 10] = [
    2.0 / 21.0,
    2.0 / 19.0,
    2.0 / 17.0,
    2.0 / 15.0,
    2.0 / 13.0,
    2.0 / 11.0,
    2.0 / 9.0,
    2.0 / 7.0,
    2.0 / 5.0,
    2.0 / 3.0,
];

/// Natural logarithm: `-inf` at zero, NaN below zero.
///
/// ```
/// use saddle_ir::math::ln;
/// assert_eq!(ln(1.0), 0.0);
/// assert_eq!(ln(0.0), f64::NEG_INFINITY);
/// assert!(ln(-1.0).is_nan());
/// assert!((ln(std::f64::consts::E) - 1.0).abs() <= f64::EPSILON);
/// ```
#[inline(always)]
pub fn ln(x: f64) -> f64 {
    let small = x < f64::MIN_POSITIVE;
    let xs = if small { x * 4_503_599_627_370_496.0 } else { x };
    let y = ln_plus(xs, if small { -52 } else { 0 }, 0.0);
    if x == 0.0 {
        f64::NEG_INFINITY
    } else if x < 0.0 || x.is_nan() {
        f64::NAN
    } else if x == f64::INFINITY {
        x
    } else {
        y
    }
}

/// `log(u·2^e) + c` for a positive normal `u` and a small correction `c`
/// (|c| ≤ 2^-53, or 0), branch-free (other arguments give some number,
/// never a fault): u = 2^k·m with m in [√½, √2), and log m by the atanh
/// series, `c` joining the low-order terms before the last rounding.
/// The core of [`ln`] (c = 0) and of [`super::ln_1p`].
#[inline(always)]
pub fn ln_plus(u: f64, e: i64, c: f64) -> f64 {
    let bits = u.to_bits();
    let mut k = ((bits >> 52) & 0x7ff) as i64 - 1023 + e;
    let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    let big = m > std::f64::consts::SQRT_2;
    let m = if big { m * 0.5 } else { m };
    k += big as i64;
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let mut r = LOG_POLY[0];
    for &c in &LOG_POLY[1..] {
        r = r * z + c;
    }
    let r = r * z;
    let hfsq = 0.5 * f * f;
    let kf = k as f64;
    kf * LN2_HI - ((hfsq - (s * (hfsq + r) + (kf * LN2_LO + c))) - f)
}

/// The logistic function `1 / (1 + e^-x)`, computed as `1 / (1 + e^-|x|)`
/// or `e^-|x| / (1 + e^-|x|)` so that nothing overflows.
///
/// ```
/// use saddle_ir::math::logistic;
/// assert_eq!(logistic(0.0), 0.5);
/// assert_eq!(logistic(1000.0), 1.0);
/// assert!(logistic(-745.0) > 0.0);
/// ```
#[inline(always)]
pub fn logistic(x: f64) -> f64 {
    logistic_from(x, exp(-x.abs()))
}

/// `logistic(x)` given `e = exp(-|x|)`: the last step of [`logistic`],
/// which the vector loops share.
#[inline(always)]
pub fn logistic_from(x: f64, e: f64) -> f64 {
    let num = if x >= 0.0 { 1.0 } else { e };
    num / (1.0 + e)
}

/// The tables of [`exp`] (written by `tools/gen_exp_table.py`): for j in
/// 0..16, the relative tail of 2^(j/16), and the bits of its nearest double
/// less j << 48.
#[rustfmt::skip]
pub const EXP_TAIL: [u64; 16] = [
    0x0000000000000000, 0x3c979aa65d837b6d, 0xbc801b15eaa59348, 0x3c968efde3a8a894,
    0x3c834d754db0abb6, 0x3c859f48a72a4c6d, 0x3c7690cebb7aafb0, 0x3c9063e1e21c5409,
    0xbc93b3efbf5e2228, 0xbc7b32dcb94da51d, 0x3c8db72fc1f0eab4, 0x3c71affc2b91ce27,
    0x3c8c1a7792cb3387, 0x3c736eae30af0cb3, 0x3c74a385a63d07a7, 0xbc8ff7128fd391f0,
];
/// The bits of 2^(j/16) rounded to a double, less `j << 48`.
#[rustfmt::skip]
pub const EXP_HI: [u64; 16] = [
    0x3ff0000000000000, 0x3fefb5586cf9890f, 0x3fef72b83c7d517b, 0x3fef387a6e756238,
    0x3fef06fe0a31b715, 0x3feedea64c123422, 0x3feebfdad5362a27, 0x3feeab07dd485429,
    0x3feea09e667f3bcd, 0x3feea11473eb0187, 0x3feeace5422aa0db, 0x3feec49182a3f090,
    0x3feee89f995ad3ad, 0x3fef199bdd85529c, 0x3fef5818dcfba487, 0x3fefa4afa2a490da,
];

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64).abs_diff(b.to_bits() as i64)
    }

    /// Both formulations of `exp` (with fused multiply-adds and without)
    /// within 1 ulp of the C library's over the fast path, whichever one
    /// this CPU takes; they differ only in the last bit, rarely.
    #[test]
    fn both_formulations_are_accurate() {
        let mut s = 0x2545_f491_4f6c_dd1du64;
        let mut differ = 0;
        for i in 0..200_000 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let u = (s >> 11) as f64 / (1u64 << 53) as f64;
            let x = if i % 2 == 0 { u * 2.0 * FAST - FAST } else { u * 4.0 - 2.0 };
            let (fused, plain) = (exp_core::<true>(x, 0), exp_core::<false>(x, 0));
            assert!(ulps(fused, x.exp()) <= 1, "fused exp({x}) = {fused} vs {}", x.exp());
            assert!(ulps(plain, x.exp()) <= 1, "plain exp({x}) = {plain} vs {}", x.exp());
            assert!(ulps(fused, plain) <= 1);
            differ += (fused != plain) as usize;
        }
        assert!(differ < 5_000, "{differ} of 200,000 differ");
    }
}
