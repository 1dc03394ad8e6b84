//! Accuracy of the element functions: special functions against SciPy's
//! values (tests/data/special.tsv, written by tests/data/gen_special.py),
//! identities, and the vectorisable exp/ln/logistic against the C library.

use proptest::prelude::*;
use saddle_runtime::special::{digamma, polygamma};
use saddle_runtime::vmath;

fn rel(a: f64, b: f64) -> f64 {
    if a == b { 0.0 } else { (a - b).abs() / b.abs().max(f64::MIN_POSITIVE) }
}

/// Distance in units in the last place between two finite f64 of one sign.
fn ulps(a: f64, b: f64) -> u64 {
    if a == b || (a.is_nan() && b.is_nan()) {
        return 0;
    }
    let key = |x: f64| {
        let i = x.to_bits() as i64;
        if i < 0 { i64::MIN - i } else { i }
    };
    key(a).abs_diff(key(b))
}

#[test]
fn special_functions_match_scipy() {
    let table = include_str!("data/special.tsv");
    let mut worst: std::collections::BTreeMap<String, (f64, f64)> = Default::default();
    for line in table.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        let (name, n, x, want): (&str, u32, f64, f64) =
            (cols[0], cols[1].parse().unwrap(), cols[2].parse().unwrap(), cols[3].parse().unwrap());
        let got = match name {
            "digamma" => digamma(x),
            "polygamma" => polygamma(n, x),
            "lgamma" => libm::lgamma_r(x).0,
            "erf" => libm::erf(x),
            other => panic!("unknown function {other}"),
        };
        let e = rel(got, want);
        // Relative accuracy holds for x > 0; for x < 0 the reflection's
        // terms set the scale.
        let scale =
            if x < 0.0 && name == "digamma" { 1.0f64.max(want.abs()).max(digamma(1.0 - x).abs()) } else { want.abs() };
        let e = if x < 0.0 { (got - want).abs() / scale } else { e };
        let key = format!("{name}{}", if n > 0 { format!("({n})") } else { String::new() });
        let w = worst.entry(key).or_insert((0.0, 0.0));
        if e > w.0 {
            *w = (e, x);
        }
        let bound = if name == "lgamma" && (x - 1.0).abs() < 0.1 || (x - 2.0).abs() < 0.1 { 1e-13 } else { 1e-14 };
        assert!(e <= bound, "{name}({n}, {x}) = {got}, scipy {want}: relative error {e:e}");
    }
    eprintln!("worst relative errors: {worst:?}");
}

#[test]
fn special_function_identities() {
    let euler = 0.577_215_664_901_532_9;
    assert!(rel(digamma(1.0), -euler) < 1e-15);
    assert!(rel(digamma(0.5), -euler - 2.0 * std::f64::consts::LN_2) < 1e-15);
    let pi2 = std::f64::consts::PI.powi(2);
    assert!(rel(polygamma(1, 1.0), pi2 / 6.0) < 1e-15);
    assert!(rel(polygamma(1, 0.5), pi2 / 2.0) < 1e-15);
    // ψ⁽²⁾(1) = -2ζ(3)
    assert!(rel(polygamma(2, 1.0), -2.0 * 1.202_056_903_159_594_2) < 1e-15);
    // Poles.
    assert!(digamma(0.0).is_nan() && digamma(-3.0).is_nan());
    assert_eq!(polygamma(1, -2.0), f64::INFINITY);
    assert!(polygamma(2, 0.0).is_nan());
    assert_eq!(digamma(f64::INFINITY), f64::INFINITY);
    assert_eq!(polygamma(3, f64::INFINITY), 0.0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn digamma_recurrence(x in 0.01f64..50.0) {
        // ψ(x + 1) = ψ(x) + 1/x
        let lhs = digamma(x + 1.0);
        let rhs = digamma(x) + 1.0 / x;
        prop_assert!((lhs - rhs).abs() <= 1e-14 * lhs.abs().max(1.0 / x), "{} {}", lhs, rhs);
    }

    #[test]
    fn digamma_reflection(x in 0.01f64..0.99) {
        // ψ(1 - x) - ψ(x) = π cot(π x)
        let lhs = digamma(1.0 - x) - digamma(x);
        let rhs = std::f64::consts::PI / (std::f64::consts::PI * x).tan();
        prop_assert!((lhs - rhs).abs() <= 1e-13 * rhs.abs().max(1.0));
    }

    #[test]
    fn polygamma_negative_arguments_by_recurrence(x in -5.0f64..-0.01, n in 1u32..5) {
        prop_assume!((x - x.round()).abs() > 0.01);
        // ψ⁽ⁿ⁾(x + 1) = ψ⁽ⁿ⁾(x) + (-1)ⁿ n! / xⁿ⁺¹
        let fact: f64 = (1..=n).map(|k| k as f64).product();
        let sign = if n % 2 == 0 { 1.0 } else { -1.0 };
        let lhs = polygamma(n, x + 1.0);
        let rhs = polygamma(n, x) + sign * fact / x.powi(n as i32 + 1);
        prop_assert!((lhs - rhs).abs() <= 1e-11 * polygamma(n, x).abs().max(lhs.abs()).max(1.0), "{} {}", lhs, rhs);
    }

    #[test]
    fn exp_within_one_ulp(x in -746.0f64..710.0) {
        let (got, want) = (vmath::exp(x), x.exp());
        prop_assert!(ulps(got, want) <= 1, "exp({}) = {} vs {}", x, got, want);
    }

    #[test]
    fn exp_beyond_the_fast_path_within_one_ulp(x in prop_oneof![-746.0f64..-704.0, 704.0f64..710.0]) {
        // Overflow and results that round into the subnormals.
        let (got, want) = (vmath::exp(x), x.exp());
        prop_assert!(ulps(got, want) <= 1, "exp({}) = {} vs {}", x, got, want);
    }

    #[test]
    fn exp_small_arguments_within_one_ulp(x in -1.0f64..1.0) {
        prop_assert!(ulps(vmath::exp(x), x.exp()) <= 1);
    }

    #[test]
    fn ln_within_one_ulp(bits in 0u64..0x7ff0_0000_0000_0000) {
        let x = f64::from_bits(bits);
        prop_assume!(x > 0.0);
        let (got, want) = (vmath::ln(x), x.ln());
        prop_assert!(ulps(got, want) <= 1, "ln({}) = {} vs {}", x, got, want);
    }

    #[test]
    fn ln_near_one_within_one_ulp(x in 0.5f64..2.0) {
        prop_assert!(ulps(vmath::ln(x), x.ln()) <= 1);
    }

    #[test]
    fn logistic_is_accurate(x in -750.0f64..750.0) {
        let want = if x >= 0.0 { 1.0 / (1.0 + (-x).exp()) } else { x.exp() / (1.0 + x.exp()) };
        prop_assert!(ulps(vmath::logistic(x), want) <= 2);
    }
}

#[test]
fn vmath_edge_cases() {
    for x in
        [0.0, -0.0, 1e-310, -1e-310, 709.78, 709.79, -708.5, -744.4, -745.1, -745.2, f64::INFINITY, f64::NEG_INFINITY]
    {
        assert!(ulps(vmath::exp(x), x.exp()) <= 1, "exp({x}) = {} vs {}", vmath::exp(x), x.exp());
    }
    assert!(vmath::exp(f64::NAN).is_nan());
    // Either side of ln 2^-1075, where the result rounds to zero.
    assert_eq!(vmath::exp(-745.13), 5e-324);
    assert_eq!(vmath::exp(-745.14), 0.0);
    assert_eq!(vmath::exp(-745.19), 0.0);
    assert_eq!(vmath::exp(-745.21), 0.0);
    for x in [f64::MIN_POSITIVE, 5e-324, 1e-310, f64::MAX, 1.0, 2.0, 0.5] {
        assert!(ulps(vmath::ln(x), x.ln()) <= 1, "ln({x})");
    }
    assert_eq!(vmath::ln(0.0), f64::NEG_INFINITY);
    assert_eq!(vmath::ln(-0.0), f64::NEG_INFINITY);
    assert_eq!(vmath::ln(f64::INFINITY), f64::INFINITY);
    assert!(vmath::ln(-1.0).is_nan() && vmath::ln(f64::NAN).is_nan() && vmath::ln(f64::NEG_INFINITY).is_nan());
    assert_eq!(vmath::logistic(f64::INFINITY), 1.0);
    assert_eq!(vmath::logistic(f64::NEG_INFINITY), 0.0);
    assert!(vmath::logistic(f64::NAN).is_nan());
}

/// Arguments across every path of `exp` and `logistic`: the fast range,
/// overflow, subnormal results, underflow to zero, infinities, NaN.
fn slice_arguments() -> Vec<f64> {
    let mut xs = vec![
        0.0,
        -0.0,
        1e-310,
        703.9,
        704.0,
        -704.0,
        704.1,
        -704.1,
        709.78,
        709.79,
        800.0,
        -708.5,
        -744.4,
        -745.1,
        -745.13,
        -745.14,
        -745.2,
        -800.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        f64::MAX,
        f64::MIN,
    ];
    let mut s = 7u64;
    for _ in 0..3000 {
        s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        xs.push(((s >> 11) as f64 / (1u64 << 53) as f64) * 1600.0 - 800.0);
    }
    xs
}

#[test]
fn slice_functions_give_the_bits_of_the_element_functions() {
    let xs = slice_arguments();
    // Lengths that end inside and at the edge of vector widths.
    for len in [0, 1, 3, 7, 8, 17, 64, 511, xs.len()] {
        let x = &xs[xs.len() - len..];
        let mut out = vec![0.0; len];
        vmath::exp_slice(&mut out, x);
        for (o, &v) in out.iter().zip(x) {
            assert_eq!(o.to_bits(), vmath::exp(v).to_bits(), "exp_slice at {v}");
        }
        vmath::logistic_slice(&mut out, x);
        for (o, &v) in out.iter().zip(x) {
            assert_eq!(o.to_bits(), vmath::logistic(v).to_bits(), "logistic_slice at {v}");
        }
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let mut out32 = vec![0.0f32; len];
        vmath::exp_slice_f32(&mut out32, &x32);
        for (o, &v) in out32.iter().zip(&x32) {
            assert_eq!(o.to_bits(), (vmath::exp(v as f64) as f32).to_bits(), "exp_slice_f32 at {v}");
        }
        vmath::logistic_slice_f32(&mut out32, &x32);
        for (o, &v) in out32.iter().zip(&x32) {
            assert_eq!(o.to_bits(), (vmath::logistic(v as f64) as f32).to_bits(), "logistic_slice_f32 at {v}");
        }
    }
}
