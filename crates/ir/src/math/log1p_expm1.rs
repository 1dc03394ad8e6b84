//! `log1p` and `expm1` for f64 that the compiler can vectorise, built on
//! the steps of [`super::exp_log`]'s `ln` and `exp`, so that loops over
//! slices that call them become SIMD loops (the platform's `log1p` and
//! `expm1` are calls into the C library, one element at a time).
//!
//! [`ln_1p`] is branch-free. [`exp_m1`] has a branch-free fast path for
//! |x| ≤ 704 ([`super::exp_log::fast`]), and the runtime's slice function
//! runs that path over a whole slice and redoes the rare arguments beyond
//! it, giving the same bits as the element function. The fused
//! multiply-adds of `exp_m1` follow `exp`'s rule (see
//! [`super::exp_log::fused`]): the instruction or a software `fma` where
//! the CPU has it, the same steps in multiplications and additions alone
//! where it has not.
//!
//! Accuracy: within 1 unit in the last place of the correctly rounded
//! result (the tests check at most 1 ulp from the C library's on millions
//! of random arguments and on the edge cases: tiny arguments, −1 and below,
//! large arguments, subnormals, infinities, NaN and −0).

use super::exp_log::{EXP_HI, EXP_TAIL, LN2_N_HI, LN2_N_LO, N_OVER_LN2, SHIFT, exp_slow, fast, fused, ln_plus};

/// `log(1 + x)`: `-inf` at −1, NaN below −1, and `x` itself for |x| so
/// small that `x²/2` is below half its last place (−0 included).
///
/// `u = 1 + x` is rounded; the rounding error `c = (1 + x) − u`, exactly
/// `x − (u − 1)` for `u < 2` and `1 − (u − x)` above (each subtraction
/// exact by Sterbenz's lemma), gives log(1 + x) = log u + log(1 + c/u)
/// ≈ log u + c/u, and `c/u` joins the low-order terms of `ln`'s
/// reduction of `u` (`u = 2^k·m`, `m` in [√½, √2), log m by the atanh
/// series), so the correction is added before the last rounding. `u` is
/// 0 or at least 2^-53, never subnormal.
///
/// ```
/// use saddle_ir::math::ln_1p;
/// assert_eq!(ln_1p(0.0), 0.0);
/// assert!(ln_1p(-0.0).is_sign_negative());
/// assert_eq!(ln_1p(1e-300), 1e-300);
/// assert_eq!(ln_1p(-1.0), f64::NEG_INFINITY);
/// assert!(ln_1p(-2.0).is_nan());
/// assert!((ln_1p(std::f64::consts::E - 1.0) - 1.0).abs() <= f64::EPSILON);
/// ```
#[inline(always)]
pub fn ln_1p(x: f64) -> f64 {
    let u = 1.0 + x;
    let c = if u >= 2.0 { 1.0 - (u - x) } else { x - (u - 1.0) };
    let y = ln_plus(u, 0, c / u);
    if x.abs() < TINY {
        x
    } else if x == -1.0 {
        f64::NEG_INFINITY
    } else if x < -1.0 || x.is_nan() {
        f64::NAN
    } else if x == f64::INFINITY {
        x
    } else {
        y
    }
}

/// Below this magnitude `log1p(x)` and `expm1(x)` round to `x` (the
/// second term, `x²/2`, is below 2^-55·|x|).
const TINY: f64 = 1.0 / 18_014_398_509_481_984.0; // 2^-54

/// `e^x − 1`: −1 below about −37.4, `x` itself for tiny |x| (−0
/// included), `+inf` above about 709.78.
///
/// Tang's reduction of [`super::exp`], x = (16·k + j)·ln2/16 + r with
/// |r| ≤ ln2/32, so e^x = s·(1 + P) with `s` = 2^k·2^(j/16) (a double)
/// and `P` = tail + e^r − 1 (a degree-10 polynomial). Then e^x − 1 =
/// (s − 1) + s·P, where `s − 1` is exact for s ≥ ½ (Sterbenz below 2, a
/// multiple of s's last place above), in one fused multiply-add; for
/// s < ½ the result is near −1 and `s + s·P − 1` is as accurate. Where
/// 16k + j is −1, 0 or 1 (|x| ≤ 1.5·ln2/16), the reduction keeps s = 1
/// and r = x, so the result is the polynomial, accurate relative to
/// itself, with no cancellation. Arguments beyond ±704 take a slower
/// path.
///
/// ```
/// use saddle_ir::math::exp_m1;
/// assert_eq!(exp_m1(0.0), 0.0);
/// assert!(exp_m1(-0.0).is_sign_negative());
/// assert_eq!(exp_m1(1e-300), 1e-300);
/// assert_eq!(exp_m1(-1000.0), -1.0);
/// assert_eq!(exp_m1(1000.0), f64::INFINITY);
/// assert!((exp_m1(1.0) - (std::f64::consts::E - 1.0)).abs() <= f64::EPSILON);
/// ```
#[inline(always)]
pub fn exp_m1(x: f64) -> f64 {
    if fast(x) { exp_m1_fast(x) } else { exp_m1_slow(x) }
}

/// [`exp_m1`]'s fast path (|x| ≤ 704) in the formulation this CPU takes
/// (see [`fused`]).
#[inline(always)]
pub fn exp_m1_fast(x: f64) -> f64 {
    if fused() { exp_m1_core::<true>(x) } else { exp_m1_core::<false>(x) }
}

/// [`exp_m1`] for |x| ≤ 704 (any `x` gives some number, never a fault),
/// with fused multiply-adds or without ([`fused`]).
#[inline(always)]
pub fn exp_m1_core<const FUSED: bool>(x: f64) -> f64 {
    // |16k + j| ≤ 1 (|x| ≤ 1.5·ln2/16) keeps s = 1 and r = x: there the
    // result is the polynomial alone, with no cancellation between
    // `s − 1` and `s·P` of opposite signs.
    let (t, r) = if FUSED {
        let t = x.mul_add(N_OVER_LN2, SHIFT);
        let near = (t - SHIFT).abs() <= 1.0;
        let t = if near { SHIFT } else { t };
        let kf = t - SHIFT;
        (t, kf.mul_add(-LN2_N_LO, kf.mul_add(-LN2_N_HI, x)))
    } else {
        let t = x * N_OVER_LN2 + SHIFT;
        let near = (t - SHIFT).abs() <= 1.0;
        let t = if near { SHIFT } else { t };
        let kf = t - SHIFT;
        (t, (x - kf * LN2_N_HI) - kf * LN2_N_LO)
    };
    let bits = t.to_bits();
    let j = (bits & 15) as usize;
    let tail = f64::from_bits(EXP_TAIL[j]);
    let s = f64::from_bits(EXP_HI[j].wrapping_add(bits << 48));
    // P = tail + e^r − 1 by the Taylor polynomial of degree 10 (for
    // |r| ≤ 1.5·ln2/16 its truncation error is below 2^-56·|r|).
    let y = if FUSED {
        let r2 = r * r;
        let r4 = r2 * r2;
        let a = r.mul_add(1.0 / 6.0, 0.5);
        let b = r.mul_add(1.0 / 120.0, 1.0 / 24.0);
        let c = r.mul_add(1.0 / 5040.0, 1.0 / 720.0);
        let d = r.mul_add(1.0 / 362_880.0, 1.0 / 40320.0);
        let q = r4.mul_add(r4.mul_add(1.0 / 3_628_800.0, r2.mul_add(d, c)), r2.mul_add(b, a));
        let p = r2.mul_add(q, tail + r);
        if s >= 0.5 { s.mul_add(p, s - 1.0) } else { s.mul_add(p, s) - 1.0 }
    } else {
        let r2 = r * r;
        let r4 = r2 * r2;
        let a = 0.5 + r * (1.0 / 6.0);
        let b = 1.0 / 24.0 + r * (1.0 / 120.0);
        let c = 1.0 / 720.0 + r * (1.0 / 5040.0);
        let d = 1.0 / 40320.0 + r * (1.0 / 362_880.0);
        let q = (a + r2 * b) + r4 * ((c + r2 * d) + r4 * (1.0 / 3_628_800.0));
        let p = (tail + r) + r2 * q;
        if s >= 0.5 { (s - 1.0) + s * p } else { (s + s * p) - 1.0 }
    };
    if x == 0.0 { x } else { y }
}

/// [`exp_m1`] beyond the fast path: `e^x` above (where subtracting 1
/// changes nothing), −1 below, NaN for NaN.
#[inline(always)]
pub fn exp_m1_slow(x: f64) -> f64 {
    if x < 0.0 { -1.0 } else { exp_slow(x) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> u64 {
        if a == b || (a.is_nan() && b.is_nan()) {
            return 0;
        }
        (a.to_bits() as i64).abs_diff(b.to_bits() as i64)
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
        /// A double with a random sign-free bit pattern below `max_bits`
        /// (log-uniform over magnitudes, subnormals included).
        fn bits_below(&mut self, max_bits: u64) -> f64 {
            f64::from_bits(self.next() % max_bits)
        }
    }

    /// Arguments spread over the ranges that matter: uniform on a few
    /// intervals, and log-uniform over every magnitude.
    fn args(n: usize, seed: u64, f: impl Fn(&mut Rng, usize) -> f64) -> Vec<f64> {
        let mut rng = Rng(seed);
        (0..n).map(|i| f(&mut rng, i)).collect()
    }

    #[test]
    fn ln_1p_within_one_ulp_of_the_c_library() {
        let xs = args(3_000_000, 0x9e37_79b9_7f4a_7c15, |g, i| match i % 6 {
            0 => g.unit() * 2.0 - 1.0,
            1 => g.unit() * 0.6 - 0.3,
            2 => g.unit() * 100.0,
            3 => g.bits_below(0x7ff0_0000_0000_0000),
            4 => -g.bits_below(0x3ff0_0000_0000_0000),
            _ => g.unit() * 1e-6 - 5e-7,
        });
        let mut worst = (0, 0.0);
        for &x in &xs {
            let d = ulps(ln_1p(x), x.ln_1p());
            if d > worst.0 {
                worst = (d, x);
            }
        }
        assert!(worst.0 <= 1, "ln_1p({}) is {} ulp from the C library's", worst.1, worst.0);
    }

    #[test]
    fn ln_1p_edge_cases() {
        let sub = f64::from_bits(1);
        for x in [
            0.0,
            -0.0,
            sub,
            -sub,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            TINY,
            -TINY,
            TINY * 2.0,
            1e-17,
            -1e-17,
            1e-8,
            -1e-8,
            -0.5,
            -1.0 + f64::EPSILON,
            -1.0 + f64::EPSILON / 2.0,
            -1.0,
            1.0,
            2.0,
            f64::MAX,
            f64::INFINITY,
        ] {
            let (got, want) = (ln_1p(x), x.ln_1p());
            assert!(ulps(got, want) <= 1, "ln_1p({x}) = {got} vs {want}");
            assert_eq!(got.is_sign_negative(), want.is_sign_negative(), "sign of ln_1p({x})");
        }
        for x in [-1.0 - f64::EPSILON, -2.0, f64::NEG_INFINITY, f64::NAN, -f64::NAN] {
            assert!(ln_1p(x).is_nan(), "ln_1p({x})");
        }
        assert_eq!(ln_1p(-0.0).to_bits(), (-0.0f64).to_bits());
    }

    /// Both formulations of `exp_m1` (with fused multiply-adds and
    /// without) within 1 ulp of the C library's, whichever this CPU takes.
    #[test]
    fn exp_m1_within_one_ulp_of_the_c_library() {
        let xs = args(3_000_000, 0x2545_f491_4f6c_dd1d, |g, i| match i % 6 {
            0 => g.unit() * 1408.0 - 704.0,
            1 => g.unit() * 4.0 - 2.0,
            2 => g.unit() * 0.1 - 0.05,
            3 => g.bits_below(0x4086_0000_0000_0000),
            4 => -g.bits_below(0x4086_0000_0000_0000),
            _ => g.unit() * 80.0 - 40.0,
        });
        let mut worst = [(0, 0.0); 2];
        for &x in &xs {
            let want = x.exp_m1();
            for (w, got) in worst.iter_mut().zip([exp_m1_core::<true>(x), exp_m1_core::<false>(x)]) {
                let d = ulps(got, want);
                if d > w.0 {
                    *w = (d, x);
                }
            }
            assert_eq!(exp_m1(x), exp_m1_fast(x));
        }
        assert!(worst[0].0 <= 1, "fused exp_m1({}) is {} ulp from the C library's", worst[0].1, worst[0].0);
        assert!(worst[1].0 <= 1, "plain exp_m1({}) is {} ulp from the C library's", worst[1].1, worst[1].0);
    }

    #[test]
    fn exp_m1_edge_cases() {
        let sub = f64::from_bits(1);
        for x in [
            0.0,
            -0.0,
            sub,
            -sub,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            TINY,
            -TINY,
            1e-10,
            -1e-10,
            std::f64::consts::LN_2 / 32.0,
            -std::f64::consts::LN_2 / 32.0,
            -std::f64::consts::LN_2,
            -37.5,
            -704.0,
            -704.5,
            -1e300,
            704.0,
            704.5,
            709.78,
            709.8,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            let (got, want) = (exp_m1(x), x.exp_m1());
            assert!(ulps(got, want) <= 1, "exp_m1({x}) = {got} vs {want}");
            assert_eq!(got.is_sign_negative(), want.is_sign_negative(), "sign of exp_m1({x})");
        }
        assert!(exp_m1(f64::NAN).is_nan());
        assert_eq!(exp_m1(-0.0).to_bits(), (-0.0f64).to_bits());
    }
}
