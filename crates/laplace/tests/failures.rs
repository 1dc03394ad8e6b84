//! Densities with no Gaussian approximation fail with a typed error (or,
//! where allowed, a result flagged `converged: false`), by either
//! optimiser, never with a plausible-looking converged answer.

use std::cell::Cell;

use saddle_laplace::{FnDensity, LaplaceError, LogDensity, Method, Options, laplace};

const METHODS: [Method; 3] = [Method::Newton, Method::Lbfgs { memory: 10 }, Method::Bfgs];

fn opts(method: Method) -> Options {
    Options { method, ..Options::default() }
}

/// A density of one coordinate from its value and two derivatives.
fn one_d(
    f: impl Fn(f64) -> f64 + 'static,
    g: impl Fn(f64) -> f64 + 'static,
    h: impl Fn(f64) -> f64 + 'static,
) -> impl LogDensity {
    FnDensity::new(
        1,
        move |x: &[f64]| f(x[0]),
        move |x: &[f64], d: &mut [f64]| d[0] = g(x[0]),
        move |x: &[f64], d: &mut [f64]| d[0] = h(x[0]),
    )
}

/// `log p = -exp(-t)`: increasing everywhere, with a gradient and a
/// curvature that vanish as `t → ∞`; no maximum.
fn unbounded() -> impl LogDensity {
    one_d(|t| -(-t).exp(), |t| (-t).exp(), |t| -(-t).exp())
}

#[test]
fn an_unbounded_density_has_no_mode() {
    for method in METHODS {
        let r = laplace(&mut unbounded(), &[0.0], &opts(method));
        assert!(
            matches!(r, Err(LaplaceError::NoMode { .. } | LaplaceError::NoConvergence { .. })),
            "{method:?}: {r:?}"
        );
        let o = Options { require_convergence: false, ..opts(method) };
        match laplace(&mut unbounded(), &[0.0], &o) {
            Ok(fit) => assert!(!fit.converged, "{method:?}: a mode at {}", fit.mode[0]),
            Err(LaplaceError::NotNegativeDefinite { .. }) => {}
            Err(e) => panic!("{method:?}: {e}"),
        }
    }
}

#[test]
fn a_gradient_that_underflows_far_out_is_no_mode() {
    // At t = 800, e^(-t) is 0: gradient and Hessian are exactly zero.
    for method in METHODS {
        for start in [700.0, 800.0] {
            let r = laplace(&mut unbounded(), &[start], &opts(method));
            assert!(r.is_err(), "{method:?} from {start}: {:?}", r.map(|f| f.mode));
        }
    }
}

#[test]
fn a_flat_direction_is_not_negative_definite() {
    // The density ignores its second coordinate.
    let mut f = FnDensity::new(
        2,
        |x: &[f64]| -x[0] * x[0],
        |x: &[f64], g: &mut [f64]| {
            g[0] = -2.0 * x[0];
            g[1] = 0.0;
        },
        |_: &[f64], h: &mut [f64]| h.copy_from_slice(&[-2.0, 0.0, 0.0, 0.0]),
    );
    for method in METHODS {
        match laplace(&mut f, &[1.0, 3.0], &opts(method)) {
            Err(LaplaceError::NotNegativeDefinite { eigenvalue, direction, .. }) => {
                assert!(eigenvalue.abs() < 1e-12 && direction[1].abs() > 0.99, "{eigenvalue} {direction:?}")
            }
            other => panic!("{method:?}: {other:?}"),
        }
    }
}

#[test]
fn a_saddle_point_is_not_negative_definite() {
    // -x² + y² is stationary at 0, a minimum along y.
    let mut f = FnDensity::new(
        2,
        |x: &[f64]| -x[0] * x[0] + x[1] * x[1],
        |x: &[f64], g: &mut [f64]| {
            g[0] = -2.0 * x[0];
            g[1] = 2.0 * x[1];
        },
        |_: &[f64], h: &mut [f64]| h.copy_from_slice(&[-2.0, 0.0, 0.0, 2.0]),
    );
    for method in METHODS {
        let r = laplace(&mut f, &[1.0, 0.0], &opts(method));
        assert!(matches!(r, Err(LaplaceError::NotNegativeDefinite { .. })), "{method:?}: {r:?}");
    }
}

#[test]
fn a_kink_with_a_huge_gradient_is_not_converged() {
    // -10²⁶⁸·|x|: the maximum is a kink, where the gradient is ±10²⁶⁸ and
    // the Hessian zero; no step from near it increases f by much.
    for method in METHODS {
        let mut f = one_d(|x| -1e268 * x.abs(), |x| -1e268 * x.signum(), |_| 0.0);
        match laplace(&mut f, &[0.3], &opts(method)) {
            Ok(fit) => {
                panic!("{method:?}: converged {} at {} with gradient {:e}", fit.converged, fit.mode[0], fit.grad_norm)
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
}

#[test]
fn a_gradient_that_turns_non_finite_is_refused() {
    // NaN beyond |x| > 2, and the mode at 3 is outside: the optimiser
    // cannot go there and must not claim the boundary.
    for method in METHODS {
        let nan_out = |x: f64, v: f64| if x.abs() > 2.0 { f64::NAN } else { v };
        let mut f = one_d(
            move |x| nan_out(x, -(x - 3.0).powi(2)),
            move |x| nan_out(x, -2.0 * (x - 3.0)),
            move |x| nan_out(x, -2.0),
        );
        match laplace(&mut f, &[0.0], &opts(method)) {
            Ok(fit) => panic!("{method:?}: converged at {} with gradient {:e}", fit.mode[0], fit.grad_norm),
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
}

#[test]
fn a_non_finite_start_names_the_coordinate() {
    let mut f = FnDensity::new(
        3,
        |x: &[f64]| -x.iter().map(|v| v * v).sum::<f64>(),
        |x: &[f64], g: &mut [f64]| g.iter_mut().zip(x).for_each(|(g, x)| *g = -2.0 * x),
        |_: &[f64], h: &mut [f64]| {
            h.fill(0.0);
            for i in 0..3 {
                h[i * 3 + i] = -2.0;
            }
        },
    );
    for (bad, index) in [(f64::NAN, 1), (f64::INFINITY, 1), (f64::NEG_INFINITY, 1)] {
        let r = laplace(&mut f, &[0.0, bad, 1.0], &Options::default());
        match r {
            Err(e @ LaplaceError::NonFiniteStart { index: i, .. }) => {
                assert_eq!(i, index);
                assert!(e.to_string().contains("coordinate 1"), "{e}");
                assert!(!e.to_string().contains("constraint"), "{e}");
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_dimension_whose_dense_hessian_cannot_fit_is_refused_before_any_work() {
    let calls = std::rc::Rc::new(Cell::new(0usize));
    let (c1, c2, c3) = (calls.clone(), calls.clone(), calls.clone());
    let d = 100_000;
    let mut f = FnDensity::new(
        d,
        move |_: &[f64]| {
            c1.set(c1.get() + 1);
            0.0
        },
        move |_: &[f64], _: &mut [f64]| c2.set(c2.get() + 1),
        move |_: &[f64], _: &mut [f64]| c3.set(c3.get() + 1),
    );
    // 10¹⁰ doubles per copy: 80 GB each, more than this machine has.
    match laplace(&mut f, &vec![0.0; d], &Options::default()) {
        Err(e @ LaplaceError::TooLarge { dim, bytes, available }) => {
            assert_eq!(dim, d);
            assert!(bytes > available && bytes >= 8 * (d as u128).pow(2));
            assert!(e.to_string().contains("100000"), "{e}");
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a dense fit of dimension {d}"),
    }
    assert_eq!(calls.get(), 0, "the density was evaluated before the refusal");
}

#[test]
fn a_wide_proper_density_still_converges() {
    // Standard deviation 10⁴: a small gradient far from the mode, where
    // Newton's next step is still long; the fit must go on to the mode.
    for method in METHODS {
        let s2 = 1e8;
        let mut f = one_d(move |x| -0.5 * (x - 5.0).powi(2) / s2, move |x| -(x - 5.0) / s2, move |_| -1.0 / s2);
        let fit = laplace(&mut f, &[1000.0], &opts(method)).unwrap();
        assert!(fit.converged && (fit.mode[0] - 5.0).abs() < 1e-6, "{method:?}: {}", fit.mode[0]);
        assert!((fit.std[0] - 1e4).abs() < 1e-6);
    }
}
