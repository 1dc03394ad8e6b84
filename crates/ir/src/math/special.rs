//! Special functions not in `std`: `lgamma`, `digamma`, `polygamma`, `erf`.
//!
//! [`lgamma`] and [`erf`] come from the `libm` crate (a port of musl's,
//! itself from FreeBSD's msun, accurate to about one unit in the last
//! place); [`digamma`] and [`polygamma`] are written here.
//!
//! Accuracy (f64), checked in the tests against tables computed with SciPy:
//! - [`digamma`]: about 1e-15 relative for `x > 0`, including near the
//!   positive root `x₀ ≈ 1.4616` (a Taylor series about the root there).
//!   For `x < 0` it uses the reflection formula and is accurate to about
//!   1e-15 of the reflection's terms (relative accuracy is lost only next
//!   to the negative roots).
//! - [`polygamma`] (`n >= 1`): about 1e-15 relative for `x > 0` and
//!   `n <= 20` (every term of the Hurwitz zeta series has one sign, so
//!   nothing cancels); reflection for `x < 0`.
//!
//! - [`polygamma`] for `n > 170` (where n! alone overflows): in logarithms,
//!   about `L · 2^-53` relative where `L` is the logarithm of the result's
//!   magnitude (at most about 709), and ±inf beyond the range of f64. For
//!   `x < 0` it overflows to ±inf except at the half-integers with even `n`.
//!   Every `n` takes bounded time: at most a few hundred terms per element.
//!
//! At the poles (zero and the negative integers) `digamma` gives NaN, as
//! JAX does; `polygamma` gives `+inf` for odd `n` (both sides tend to
//! `+inf`) and NaN for even `n`.

use std::f64::consts::PI;

/// The positive root of ψ, rounded to f64.
const ROOT: f64 = 1.4616321449683622;
/// ψ(ROOT): not zero, because ROOT is rounded.
const ROOT_VALUE: f64 = -9.24126552172943e-17;
/// Taylor coefficients of ψ about ROOT: ψ⁽ⁿ⁾(ROOT)/n! = (-1)ⁿ⁺¹ ζ(n+1, ROOT)
/// for n = 1, 2, ... (computed with SciPy's Hurwitz zeta).
const ROOT_SERIES: [f64; 26] = [
    0.9676722454476214,
    -0.44276316898359214,
    0.2584997609556512,
    -0.16394270544240658,
    0.10782405069126239,
    -0.07219956125645476,
    0.048804288164143145,
    -0.033161126474847376,
    0.022597648232218125,
    -0.015424765904948968,
    0.010538791616612182,
    -0.007204534386356875,
    0.004926781395729858,
    -0.0033698016554393317,
    0.00230512632673493,
    -0.0015769367714301987,
    0.0010788252019162975,
    -0.000738070938996006,
    0.0005049532658346026,
    -0.0003454680251063082,
    0.00023635601564027086,
    -0.00016170622091974825,
    0.00011063372768747429,
    -7.569179582195077e-05,
    5.17857579522209e-05,
    -3.543007094765967e-05,
];

/// `B_2k / (2k)` for k = 1..=9: the asymptotic series of ψ.
const DIGAMMA_ASYMPTOTIC: [f64; 9] = [
    1.0 / 12.0,
    -1.0 / 120.0,
    1.0 / 252.0,
    -1.0 / 240.0,
    1.0 / 132.0,
    -691.0 / 32760.0,
    1.0 / 12.0,
    -3617.0 / 8160.0,
    43867.0 / 14364.0,
];

/// `B_2j / (2j)!` for j = 1..=10: the Euler–Maclaurin tail of the Hurwitz
/// zeta function.
const BERNOULLI_OVER_FACTORIAL: [f64; 10] = [
    1.0 / 12.0,
    -1.0 / 720.0,
    1.0 / 30240.0,
    -1.0 / 1209600.0,
    1.0 / 47900160.0,
    -691.0 / 1307674368000.0,
    7.0 / 523069747200.0,
    -3617.0 / 10670622842880000.0,
    43867.0 / 5109094217170944000.0,
    -174611.0 / 802857662698291200000.0,
];

/// `log |Γ(x)|` (the `libm` crate's `lgamma_r`).
///
/// ```
/// assert_eq!(saddle_ir::math::lgamma(1.0), 0.0);
/// ```
#[inline]
pub fn lgamma(x: f64) -> f64 {
    libm::lgamma_r(x).0
}

/// The error function (the `libm` crate's `erf`).
///
/// ```
/// assert_eq!(saddle_ir::math::erf(0.0), 0.0);
/// ```
#[inline]
pub fn erf(x: f64) -> f64 {
    libm::erf(x)
}

/// The digamma function ψ(x) = Γ'(x)/Γ(x).
///
/// ```
/// use saddle_ir::math::digamma;
/// let euler_gamma = 0.5772156649015329;
/// assert!((digamma(1.0) + euler_gamma).abs() < 1e-15);
/// ```
pub fn digamma(x: f64) -> f64 {
    if x.is_nan() || x == f64::NEG_INFINITY {
        return f64::NAN;
    }
    if x == f64::INFINITY {
        return x;
    }
    if x <= 0.0 {
        if x == x.floor() {
            return f64::NAN;
        }
        // ψ(x) = ψ(1 - x) - π cot(π x); cot has period 1.
        return digamma_positive(1.0 - x) - PI * cot_pi(x - x.floor());
    }
    digamma_positive(x)
}

/// cot(π r) for r in (0, 1).
fn cot_pi(r: f64) -> f64 {
    let r = if r > 0.5 { r - 1.0 } else { r };
    let a = PI * r;
    a.cos() / a.sin()
}

fn digamma_positive(mut x: f64) -> f64 {
    let mut acc = 0.0;
    if x < 1.0 {
        acc = -1.0 / x;
        x += 1.0;
    }
    let t = x - ROOT;
    if t.abs() < 0.3 {
        let mut p = 0.0;
        for &c in ROOT_SERIES.iter().rev() {
            p = p * t + c;
        }
        return acc + (ROOT_VALUE + p * t);
    }
    let mut shift = 0.0;
    while x < 10.0 {
        shift += 1.0 / x;
        x += 1.0;
    }
    let w = 1.0 / (x * x);
    let mut p = 0.0;
    for &c in DIGAMMA_ASYMPTOTIC.iter().rev() {
        p = p * w + c;
    }
    let asymptotic = x.ln() - 0.5 / x - p * w;
    acc + (asymptotic - shift)
}

/// The largest `n` for which `n!` is finite in f64: above it [`polygamma`]
/// works in logarithms.
const DIRECT_MAX_N: u32 = 170;

/// The polygamma function ψ⁽ⁿ⁾(x), the `n`-th derivative of digamma
/// (`n = 0` is digamma itself).
///
/// For `x > 0` it is `(-1)ⁿ⁺¹ n! ζ(n+1, x)`: directly for `n <= 170` (unless
/// ζ underflows, when the direct product would lose the result), in
/// logarithms otherwise, so the result overflows to ±inf or underflows to
/// zero only where the true value does. For non-integer `x < 0` it uses
/// the reflection formula for `n <= 170`; above, the two terms of the
/// series nearest the pole dominate a result beyond the range of f64, so
/// it is ±inf with their sign, except at half-integers with even `n`,
/// where every pair cancels and ψ⁽ⁿ⁾(x) = ψ⁽ⁿ⁾(1 - x). Any `n` costs at
/// most a few hundred terms.
///
/// ```
/// use saddle_ir::math::polygamma;
/// // trigamma(1) = π²/6
/// let z2 = std::f64::consts::PI.powi(2) / 6.0;
/// assert!((polygamma(1, 1.0) - z2).abs() < 1e-15);
/// assert_eq!(polygamma(u32::MAX, 0.5), f64::INFINITY);
/// ```
pub fn polygamma(n: u32, x: f64) -> f64 {
    if n == 0 {
        return digamma(x);
    }
    if x.is_nan() || x == f64::NEG_INFINITY {
        return f64::NAN;
    }
    if x == f64::INFINITY {
        return 0.0;
    }
    let odd = n % 2 == 1;
    if x <= 0.0 && x == x.floor() {
        return if odd { f64::INFINITY } else { f64::NAN };
    }
    if x < 0.0 {
        if n <= DIRECT_MAX_N {
            return polygamma_reflected(n, x);
        }
        let frac = x - x.floor();
        if !odd && frac == 0.5 {
            return polygamma(n, 1.0 - x);
        }
        // ψ⁽ⁿ⁾(x) = (-1)ⁿ⁺¹ n! Σ_k (x + k)^-(n+1). The two terms nearest
        // zero, `frac` and `frac - 1`, have the sign of the sum; n! alone
        // overflows, and even where the pair nearly cancels (even n, `frac`
        // an ulp from 1/2) their sum exceeds 2^(n+1) · 2^-52 · (n+1).
        return if odd || frac > 0.5 { f64::INFINITY } else { f64::NEG_INFINITY };
    }
    let sign = if odd { 1.0 } else { -1.0 };
    let s = n as f64 + 1.0;
    if n <= DIRECT_MAX_N {
        let z = hurwitz_zeta(s, x);
        if z >= f64::MIN_POSITIVE {
            let mut fact = 1.0;
            for k in 2..=n {
                fact *= k as f64;
            }
            return sign * fact * z;
        }
    }
    sign * (libm::lgamma(s) + ln_hurwitz_zeta(s, x)).exp()
}

/// ψ⁽ⁿ⁾(x) = (-1)ⁿ ψ⁽ⁿ⁾(1 - x) - πⁿ⁺¹ cot⁽ⁿ⁾(π x), for non-integer `x < 0`
/// and `n <= DIRECT_MAX_N`.
fn polygamma_reflected(n: u32, x: f64) -> f64 {
    let c = cot_pi(x - x.floor());
    // The n-th derivative of cot is a polynomial in cot: D₀(c) = c,
    // D_{k+1}(c) = -(1 + c²) D_k'(c); its coefficients fit in n + 2 slots.
    const SLOTS: usize = DIRECT_MAX_N as usize + 2;
    let len = n as usize + 2;
    let mut coef = [0.0f64; SLOTS];
    coef[1] = 1.0;
    for _ in 0..n {
        let mut next = [0.0f64; SLOTS];
        for i in 0..len {
            let d = if i + 1 < len { (i + 1) as f64 * coef[i + 1] } else { 0.0 };
            if d != 0.0 {
                next[i] -= d;
                if i + 2 < len {
                    next[i + 2] -= d;
                }
            }
        }
        coef = next;
    }
    let mut d = 0.0;
    for &a in coef[..len].iter().rev() {
        d = d * c + a;
    }
    let sign = if n % 2 == 0 { 1.0 } else { -1.0 };
    sign * polygamma(n, 1.0 - x) - PI.powi(n as i32 + 1) * d
}

/// 2^-60: a term this much smaller than the sum so far ends it.
const NEGLIGIBLE: f64 = 1.0 / (1u64 << 60) as f64;

/// Where the Euler–Maclaurin tail of ζ(s, x) starts: `x >= s + TAIL_FROM`.
const TAIL_FROM: f64 = 15.0;

/// The Hurwitz zeta function ζ(s, x) = Σ_k (x + k)^(-s) for integer
/// `2 <= s <= DIRECT_MAX_N + 1`, `x > 0`: direct terms until
/// `x + N >= 15 + s`, then the Euler–Maclaurin tail.
fn hurwitz_zeta(s: f64, mut x: f64) -> f64 {
    let target = TAIL_FROM + s;
    let si = s as i32;
    let mut head = 0.0;
    while x < target {
        head += x.powi(-si);
        x += 1.0;
    }
    let inv = 1.0 / x;
    let lead = x.powi(1 - si);
    let mut tail = lead / (s - 1.0) + 0.5 * lead * inv;
    // Term j: B_2j/(2j)! · s(s+1)···(s+2j-2) · x^(-s-2j+1).
    let mut rising = s;
    let mut power = lead * inv * inv;
    let inv2 = inv * inv;
    for (j, &b) in BERNOULLI_OVER_FACTORIAL.iter().enumerate() {
        if j > 0 {
            let k = 2.0 * j as f64;
            rising *= (s + k - 1.0) * (s + k);
            power *= inv2;
        }
        tail += b * rising * power;
    }
    head + tail
}

/// ζ(s, x) · x^s, the Euler–Maclaurin tail alone, for `x >= s + 15`:
/// `x / (s-1) + 1/2 + Σ_j B_2j/(2j)! · s(s+1)···(s+2j-2) · x^(1-2j)`.
fn scaled_zeta_tail(s: f64, x: f64) -> f64 {
    let inv = 1.0 / x;
    let mut tail = x / (s - 1.0) + 0.5;
    let mut rising = s;
    let mut power = inv;
    let inv2 = inv * inv;
    for (j, &b) in BERNOULLI_OVER_FACTORIAL.iter().enumerate() {
        if j > 0 {
            let k = 2.0 * j as f64;
            rising *= (s + k - 1.0) * (s + k);
            power *= inv2;
        }
        tail += b * rising * power;
    }
    tail
}

/// ln ζ(s, x) for any `s >= 2` and `x > 0`, in bounded time: ζ(s, x) =
/// x^-s · Σ_k (1 + k/x)^-s. The terms are summed until one falls below
/// 2^-60 of the sum (everything after it adds at most (x + k)/(s - 1)
/// times as much, below 1.1 for large `s`, where this loop ends within
/// about 60 terms) or `x + k` reaches `s + 15`, where the scaled
/// Euler–Maclaurin tail takes the rest.
fn ln_hurwitz_zeta(s: f64, x: f64) -> f64 {
    let mut sum = 0.0;
    let mut k = 0.0;
    loop {
        let xk = x + k;
        // (x / (x + k))^s, in logarithms: its scale is all that matters.
        let scale = if k == 0.0 { 1.0 } else { (-s * (k / x).ln_1p()).exp() };
        if xk >= s + TAIL_FROM {
            // Σ_{j>=k} (x + j)^-s = (x + k)^-s · scaled tail.
            sum += scale * scaled_zeta_tail(s, xk);
            break;
        }
        sum += scale;
        if scale < sum * NEGLIGIBLE {
            break;
        }
        k += 1.0;
    }
    sum.ln() - s * x.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        if a == b { 0.0 } else { (a - b).abs() / b.abs() }
    }

    /// Every `n` up to `u32::MAX` at every kind of argument returns a value
    /// of the right sign (for `x > 0`, `(-1)ⁿ⁺¹` or zero), after a bounded
    /// number of terms: the test takes as long for `u32::MAX` as for 200.
    #[test]
    fn polygamma_of_any_order_is_bounded_and_signed() {
        let orders = [1, 2, 20, 169, 170, 171, 172, 200, 1000, 1 << 20, 1 << 31, u32::MAX - 1, u32::MAX];
        let xs = [5e-324, 1e-300, 1e-3, 0.1, 0.5, 1.0, 1.5, 2.0, 10.0, 63.0, 100.0, 185.0, 1e5, 1e10, 1e300, f64::MAX];
        for &n in &orders {
            for &x in &xs {
                let y = polygamma(n, x);
                assert!(!y.is_nan(), "polygamma({n}, {x}) is NaN");
                let want_negative = n % 2 == 0;
                assert!(y == 0.0 || (y < 0.0) == want_negative, "polygamma({n}, {x}) = {y} has the wrong sign");
            }
            for &x in &[-0.5, -0.25, -0.75, -3.3, -1e5 - 0.5, -1e15 - 0.25, -1e300] {
                let y = polygamma(n, x);
                assert!(n % 2 == 0 || !y.is_nan() || x == x.floor(), "polygamma({n}, {x}) is NaN");
            }
        }
    }

    /// In logarithms (the path for n > 170, and where ζ underflows) the
    /// result agrees with the direct product wherever both are in range.
    #[test]
    fn polygamma_in_logarithms_agrees_with_the_direct_product() {
        for n in [1u32, 2, 5, 20, 100, 150, 170] {
            for x in [0.3, 1.0, 2.5, 10.0, 50.0, 180.0, 1e3] {
                let direct = polygamma(n, x);
                if !direct.is_finite() || direct.abs() < f64::MIN_POSITIVE {
                    continue;
                }
                let s = n as f64 + 1.0;
                let sign = if n % 2 == 1 { 1.0 } else { -1.0 };
                let logs = sign * (libm::lgamma(s) + ln_hurwitz_zeta(s, x)).exp();
                assert!(rel(logs, direct) < 2e-13, "polygamma({n}, {x}): {logs} in logs vs {direct}");
            }
        }
    }

    /// Where ζ(n+1, x) underflows the result need not: n! ζ(n+1, x) for
    /// n = 100, x = 1e4 is about 1e-244 (the direct product gave 0).
    #[test]
    fn polygamma_does_not_underflow_early() {
        let (n, x) = (100u32, 1e4);
        let y = polygamma(n, x);
        // ζ(s, x) ≈ x^(1-s)/(s-1) · (1 + (s-1)/(2x)).
        let estimate = -(libm::lgamma(n as f64) - n as f64 * x.ln()).exp() * (1.0 + n as f64 / (2.0 * x));
        assert!(y < 0.0 && rel(y, estimate) < 1e-4, "{y} vs {estimate}");
        let big = polygamma(300, 1e3);
        assert!(big < 0.0 && big.is_finite(), "{big}");
    }

    /// For x < 0 beyond n = 170: ±inf with the sign of the two terms
    /// nearest the pole, and ψ⁽ⁿ⁾(1 - x) at half-integers with even n;
    /// the rule matches the reflection formula at n = 169 and 170.
    #[test]
    fn polygamma_of_large_order_below_zero() {
        for n in [169u32, 170, 171, 1000, u32::MAX - 1, u32::MAX] {
            let odd = n % 2 == 1;
            assert_eq!(polygamma(n, -0.3), f64::INFINITY, "n = {n}");
            assert_eq!(polygamma(n, -2.7), if odd { f64::INFINITY } else { f64::NEG_INFINITY }, "n = {n}");
            if !odd && n > DIRECT_MAX_N {
                assert_eq!(polygamma(n, -0.5).to_bits(), polygamma(n, 1.5).to_bits(), "n = {n}");
                assert_eq!(polygamma(n, -1e6 - 0.5).to_bits(), polygamma(n, 1e6 + 1.5).to_bits(), "n = {n}");
            } else if odd {
                assert_eq!(polygamma(n, -0.5), f64::INFINITY, "n = {n}");
            }
        }
    }
}
