//! Special functions not in `std`: `digamma` and `polygamma`.
//!
//! `lgamma` and `erf` come from the `libm` crate (a port of musl's, itself
//! from FreeBSD's msun, accurate to about one unit in the last place).
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

/// The digamma function ψ(x) = Γ'(x)/Γ(x).
///
/// ```
/// use saddle_runtime::special::digamma;
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

/// The polygamma function ψ⁽ⁿ⁾(x), the `n`-th derivative of digamma
/// (`n = 0` is digamma itself).
///
/// ```
/// use saddle_runtime::special::polygamma;
/// // trigamma(1) = π²/6
/// let z2 = std::f64::consts::PI.powi(2) / 6.0;
/// assert!((polygamma(1, 1.0) - z2).abs() < 1e-15);
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
    if x <= 0.0 && x == x.floor() {
        return if n % 2 == 1 { f64::INFINITY } else { f64::NAN };
    }
    if x < 0.0 {
        return polygamma_reflected(n, x);
    }
    let sign = if n % 2 == 1 { 1.0 } else { -1.0 };
    let s = n as f64 + 1.0;
    let z = hurwitz_zeta(s, x);
    if n <= 170 {
        let mut fact = 1.0;
        for k in 2..=n {
            fact *= k as f64;
        }
        sign * fact * z
    } else {
        sign * (libm::lgamma(s) + z.ln()).exp()
    }
}

/// ψ⁽ⁿ⁾(x) = (-1)ⁿ ψ⁽ⁿ⁾(1 - x) - πⁿ⁺¹ cot⁽ⁿ⁾(π x), for non-integer `x < 0`.
fn polygamma_reflected(n: u32, x: f64) -> f64 {
    let c = cot_pi(x - x.floor());
    // The n-th derivative of cot is a polynomial in cot: D₀(c) = c,
    // D_{k+1}(c) = -(1 + c²) D_k'(c).
    let mut coef = vec![0.0f64; n as usize + 2];
    coef[1] = 1.0;
    for _ in 0..n {
        let deriv: Vec<f64> =
            (0..coef.len()).map(|i| if i + 1 < coef.len() { (i + 1) as f64 * coef[i + 1] } else { 0.0 }).collect();
        let mut next = vec![0.0; coef.len()];
        for (i, &d) in deriv.iter().enumerate() {
            if d != 0.0 {
                next[i] -= d;
                if i + 2 < next.len() {
                    next[i + 2] -= d;
                }
            }
        }
        coef = next;
    }
    let mut d = 0.0;
    for &a in coef.iter().rev() {
        d = d * c + a;
    }
    let sign = if n.is_multiple_of(2) { 1.0 } else { -1.0 };
    sign * polygamma(n, 1.0 - x) - PI.powi(n as i32 + 1) * d
}

/// The Hurwitz zeta function ζ(s, x) = Σ_k (x + k)^(-s) for `s >= 2`,
/// `x > 0`: direct terms until `x + N >= 15 + s`, then the Euler–Maclaurin
/// tail.
fn hurwitz_zeta(s: f64, mut x: f64) -> f64 {
    let target = 15.0 + s;
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
