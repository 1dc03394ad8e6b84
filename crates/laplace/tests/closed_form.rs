//! Known answers on closed-form densities, and every diagnostic.
#![allow(clippy::needless_range_loop)]

use saddle_laplace::{
    Constraint, FnDensity, LaplaceError, LogDensity, Method, Options, Target, laplace, laplace_constrained,
};

const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// A density from a value closure and derivatives by hand.
struct Quadratic {
    /// Precision `A` (row-major) and linear term `b`: f = -½ xᵀAx + bᵀx + c.
    a: Vec<f64>,
    b: Vec<f64>,
    c: f64,
}

impl LogDensity for Quadratic {
    fn dim(&self) -> usize {
        self.b.len()
    }
    fn value(&mut self, x: &[f64]) -> Result<f64, LaplaceError> {
        let d = self.dim();
        let mut q = 0.0;
        for i in 0..d {
            for j in 0..d {
                q += x[i] * self.a[i * d + j] * x[j];
            }
        }
        Ok(-0.5 * q + self.b.iter().zip(x).map(|(p, q)| p * q).sum::<f64>() + self.c)
    }
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, LaplaceError> {
        let d = self.dim();
        for i in 0..d {
            g[i] = self.b[i] - (0..d).map(|j| self.a[i * d + j] * x[j]).sum::<f64>();
        }
        self.value(x)
    }
    fn value_grad_hess(&mut self, x: &[f64], g: &mut [f64], h: &mut [f64]) -> Result<f64, LaplaceError> {
        for (hv, av) in h.iter_mut().zip(&self.a) {
            *hv = -av;
        }
        self.value_grad(x, g)
    }
}

/// Solves `m x = r` and returns (x, log |det m|) by Gaussian elimination
/// with partial pivoting (an independent check of the crate's Cholesky).
fn solve_det(m: &[f64], r: &[f64]) -> (Vec<f64>, f64) {
    let n = r.len();
    let mut a = m.to_vec();
    let mut x = r.to_vec();
    let mut logdet = 0.0;
    for k in 0..n {
        let p = (k..n).max_by(|&i, &j| a[i * n + k].abs().total_cmp(&a[j * n + k].abs())).unwrap();
        if p != k {
            for j in 0..n {
                a.swap(k * n + j, p * n + j);
            }
            x.swap(k, p);
        }
        logdet += a[k * n + k].abs().ln();
        for i in k + 1..n {
            let f = a[i * n + k] / a[k * n + k];
            for j in k..n {
                a[i * n + j] -= f * a[k * n + j];
            }
            x[i] -= f * x[k];
        }
    }
    for k in (0..n).rev() {
        let s: f64 = (k + 1..n).map(|j| a[k * n + j] * x[j]).sum();
        x[k] = (x[k] - s) / a[k * n + k];
    }
    (x, logdet)
}

/// Conjugate linear-Gaussian model: y = Aθ + ε, ε ~ N(0, σ²I), θ ~ N(m0, s0² I).
/// The log posterior (unnormalised: likelihood × prior) is quadratic, so
/// Laplace is exact, and the evidence is the marginal likelihood
/// log N(y | A m0, σ² I + s0² A Aᵀ).
#[test]
fn conjugate_gaussian_is_exact() {
    let (n, d) = (5, 3);
    let amat: Vec<f64> = (0..n * d).map(|k| ((k * 7 + 3) % 11) as f64 / 5.0 - 1.0).collect();
    let y = [0.3, -1.2, 2.0, 0.7, -0.4];
    let (sigma2, s02) = (0.5_f64, 2.0_f64);
    let m0 = [0.1, -0.3, 0.5];
    // Precision P = AᵀA/σ² + I/s0², b = Aᵀy/σ² + m0/s0², constant from the normalisers.
    let mut a = vec![0.0; d * d];
    let mut b = vec![0.0; d];
    for i in 0..d {
        for j in 0..d {
            a[i * d + j] = (0..n).map(|k| amat[k * d + i] * amat[k * d + j]).sum::<f64>() / sigma2;
        }
        a[i * d + i] += 1.0 / s02;
        b[i] = (0..n).map(|k| amat[k * d + i] * y[k]).sum::<f64>() / sigma2 + m0[i] / s02;
    }
    let yy: f64 = y.iter().map(|v| v * v).sum::<f64>() / sigma2 + m0.iter().map(|v| v * v).sum::<f64>() / s02;
    let c = -0.5 * yy - 0.5 * n as f64 * (LN_2PI + sigma2.ln()) - 0.5 * d as f64 * (LN_2PI + s02.ln());
    let mut f = Quadratic { a: a.clone(), b: b.clone(), c };
    for method in [Method::Newton, Method::Lbfgs { memory: 5 }, Method::Bfgs] {
        let opts = Options { method, grad_tol: 1e-12, ..Options::default() };
        let fit = laplace(&mut f, &[1.0, 1.0, 1.0], &opts).unwrap();
        let (mode, _) = solve_det(&a, &b);
        for i in 0..d {
            assert!((fit.mode[i] - mode[i]).abs() < 1e-10, "{method:?} mode {i}");
            for j in 0..d {
                let mut e = vec![0.0; d];
                e[j] = 1.0;
                let (col, _) = solve_det(&a, &e);
                assert!((fit.covariance.as_ref().unwrap()[[i, j]] - col[i]).abs() < 1e-10, "{method:?} cov");
            }
        }
        // Marginal likelihood: y ~ N(A m0, σ²I + s0² AAᵀ).
        let mut cmat = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                cmat[i * n + j] = s02 * (0..d).map(|k| amat[i * d + k] * amat[j * d + k]).sum::<f64>();
            }
            cmat[i * n + i] += sigma2;
        }
        let r: Vec<f64> = (0..n).map(|i| y[i] - (0..d).map(|k| amat[i * d + k] * m0[k]).sum::<f64>()).collect();
        let (sol, logdet) = solve_det(&cmat, &r);
        let quad: f64 = r.iter().zip(&sol).map(|(p, q)| p * q).sum();
        let exact = -0.5 * (n as f64 * LN_2PI + logdet + quad);
        assert!((fit.log_evidence - exact).abs() < 1e-10, "{method:?}: {} vs {exact}", fit.log_evidence);
        assert!(fit.converged);
    }
}

/// The seed's 2-D Student-t, by hand: mode (0.5, 2), covariance 7/9·Σ.
fn student_t() -> impl LogDensity {
    let sinv = [4.0 / 3.0, -2.0 / 3.0, -2.0 / 3.0, 4.0 / 3.0];
    let q = move |x: &[f64]| {
        let d = [x[0] - 0.5, x[1] - 2.0];
        let s = [sinv[0] * d[0] + sinv[1] * d[1], sinv[2] * d[0] + sinv[3] * d[1]];
        (d, s, d[0] * s[0] + d[1] * s[1])
    };
    FnDensity::new(
        2,
        move |x: &[f64]| -4.5 * (1.0 + q(x).2 / 7.0).ln(),
        move |x: &[f64], g: &mut [f64]| {
            let (_, s, qq) = q(x);
            let k = -4.5 / (1.0 + qq / 7.0) * 2.0 / 7.0;
            g[0] = k * s[0];
            g[1] = k * s[1];
        },
        move |x: &[f64], h: &mut [f64]| {
            let (_, s, qq) = q(x);
            let u = 1.0 + qq / 7.0;
            for i in 0..2 {
                for j in 0..2 {
                    h[i * 2 + j] = -9.0 / 7.0 * sinv[i * 2 + j] / u + 4.5 * 4.0 / 49.0 * s[i] * s[j] / (u * u);
                }
            }
        },
    )
}

#[test]
fn seed_student_t() {
    for method in [Method::Newton, Method::Lbfgs { memory: 10 }, Method::Bfgs] {
        let mut f = student_t();
        let fit = laplace(&mut f, &[0.0, 0.0], &Options { method, grad_tol: 1e-11, ..Options::default() }).unwrap();
        assert!((fit.mode[0] - 0.5).abs() < 1e-9 && (fit.mode[1] - 2.0).abs() < 1e-9, "{method:?}");
        let sigma = [[1.0, 0.5], [0.5, 1.0]];
        for i in 0..2 {
            for j in 0..2 {
                assert!((fit.covariance.as_ref().unwrap()[[i, j]] - 7.0 / 9.0 * sigma[i][j]).abs() < 1e-8);
            }
        }
        assert!(fit.log_density_at_mode.abs() < 1e-15);
        // log 2π + ½ log det(7/9 Σ) = 1.4427216...
        let expected = LN_2PI + 0.5 * ((7.0_f64 / 9.0).powi(2) * 0.75).ln();
        assert!((fit.log_evidence - expected).abs() < 1e-8);
        assert!((fit.log_evidence - 1.4427216).abs() < 1e-7);
        assert!(fit.converged && fit.grad_norm <= 1e-10, "{method:?}: {}", fit.grad_norm);
    }
}

/// A huge constant makes `f` flat to rounding long before the gradient is
/// small: L-BFGS then stops where the line search finds no decrease, and
/// must not end on a point with a larger gradient than the one before.
#[test]
fn lbfgs_flat_stop_keeps_the_smaller_gradient() {
    let d = 6;
    let mut a = vec![0.0; d * d];
    for i in 0..d {
        a[i * d + i] = 10f64.powi(i as i32);
        if i + 1 < d {
            let c = 0.1 * (10f64.powi(i as i32) * 10f64.powi(i as i32 + 1)).sqrt();
            a[i * d + i + 1] = c;
            a[(i + 1) * d + i] = c;
        }
    }
    let mut f = Quadratic { a, b: vec![1.0; d], c: 1e12 };
    let opts = Options { method: Method::Lbfgs { memory: 5 }, grad_tol: 0.0, ..Options::default() };
    let fit = laplace(&mut f, &[0.0; 6], &opts).unwrap();
    assert!(fit.converged && fit.iterations >= 2);
    let before = Options { max_iter: fit.iterations - 1, require_convergence: false, ..opts };
    let prev = laplace(&mut f, &[0.0; 6], &before).unwrap();
    assert!(fit.grad_norm <= prev.grad_norm, "{} after {} vs {}", fit.grad_norm, fit.iterations, prev.grad_norm);
}

/// A non-concave start (Rosenbrock's banana): damping must carry Newton in.
#[test]
fn banana_from_far() {
    for method in [Method::Newton, Method::Lbfgs { memory: 10 }, Method::Bfgs] {
        let mut f = FnDensity::new(
            2,
            |x: &[f64]| -(1.0 - x[0]).powi(2) - 100.0 * (x[1] - x[0] * x[0]).powi(2),
            |x: &[f64], g: &mut [f64]| {
                g[0] = 2.0 * (1.0 - x[0]) + 400.0 * x[0] * (x[1] - x[0] * x[0]);
                g[1] = -200.0 * (x[1] - x[0] * x[0]);
            },
            |x: &[f64], h: &mut [f64]| {
                h[0] = -2.0 + 400.0 * (x[1] - 3.0 * x[0] * x[0]);
                h[1] = 400.0 * x[0];
                h[2] = 400.0 * x[0];
                h[3] = -200.0;
            },
        );
        let opts = Options { method, max_iter: 500, ..Options::default() };
        let fit = laplace(&mut f, &[-1.2, 1.0], &opts).unwrap();
        assert!((fit.mode[0] - 1.0).abs() < 1e-7 && (fit.mode[1] - 1.0).abs() < 1e-7, "{method:?} {}", fit.mode);
    }
}

fn gamma_kernel(a: f64, b: f64) -> impl LogDensity {
    // f(λ) = (a - 1) log λ - b λ on λ > 0.
    FnDensity::new(
        1,
        move |x: &[f64]| (a - 1.0) * x[0].ln() - b * x[0],
        move |x: &[f64], g: &mut [f64]| g[0] = (a - 1.0) / x[0] - b,
        move |x: &[f64], h: &mut [f64]| h[0] = -(a - 1.0) / (x[0] * x[0]),
    )
}

#[test]
fn positive_parameter_through_the_log() {
    let (a, b) = (5.0_f64, 2.0_f64);
    let mut f = gamma_kernel(a, b);
    let opts = Options { grad_tol: 1e-12, ..Options::default() };
    // With the log-Jacobian: h(u) = a u - b e^u, mode log(a/b), variance 1/a.
    let fit =
        laplace_constrained(&mut f, &[1.0], &[Constraint::Positive], Target::UnconstrainedPosterior, &opts).unwrap();
    assert!((fit.mode[0] - (a / b).ln()).abs() < 1e-10, "{fit:?}");
    assert!((fit.covariance.as_ref().unwrap()[[0, 0]] - 1.0 / a).abs() < 1e-10);
    assert!((fit.constrained_mode[0] - a / b).abs() < 1e-10);
    assert!((fit.constrained_std[0] - a / b / a.sqrt()).abs() < 1e-10);
    let h_star = a * (a / b).ln() - a;
    assert!((fit.log_density_at_mode - h_star).abs() < 1e-10);
    assert!((fit.log_evidence - (h_star + 0.5 * LN_2PI - 0.5 * a.ln())).abs() < 1e-10);
    // f at the constrained mode, without the Jacobian.
    assert!((fit.constrained_log_density_at_mode - ((a - 1.0) * (a / b).ln() - a)).abs() < 1e-10);

    // Without the Jacobian: the mode of f itself, (a - 1)/b, variance (a - 1)/b².
    let fit = laplace_constrained(&mut f, &[1.0], &[Constraint::Positive], Target::ConstrainedMode, &opts).unwrap();
    let lam = (a - 1.0) / b;
    assert!((fit.constrained_mode[0] - lam).abs() < 1e-10);
    assert!((fit.constrained_covariance.as_ref().unwrap()[[0, 0]] - (a - 1.0) / (b * b)).abs() < 1e-10);
    assert!((fit.covariance.as_ref().unwrap()[[0, 0]] - 1.0 / (a - 1.0)).abs() < 1e-10);
    // The evidence is Laplace's in the constrained space.
    let f_star = (a - 1.0) * lam.ln() - b * lam;
    let expected = f_star + 0.5 * LN_2PI + 0.5 * ((a - 1.0) / (b * b)).ln();
    assert!((fit.log_evidence - expected).abs() < 1e-10, "{} vs {expected}", fit.log_evidence);
}

#[test]
fn interval_parameter_through_the_logit() {
    // A Beta(3, 5) kernel on (0, 1): with the Jacobian the density of the
    // logit is s³(1-s)⁵, whose mode is s = 3/8.
    let mut f = FnDensity::new(
        1,
        |x: &[f64]| 2.0 * x[0].ln() + 4.0 * (1.0 - x[0]).ln(),
        |x: &[f64], g: &mut [f64]| g[0] = 2.0 / x[0] - 4.0 / (1.0 - x[0]),
        |x: &[f64], h: &mut [f64]| h[0] = -2.0 / (x[0] * x[0]) - 4.0 / (1.0 - x[0]).powi(2),
    );
    let c = [Constraint::Interval { lower: 0.0, upper: 1.0 }];
    let opts = Options { grad_tol: 1e-12, ..Options::default() };
    let fit = laplace_constrained(&mut f, &[0.5], &c, Target::UnconstrainedPosterior, &opts).unwrap();
    assert!((fit.constrained_mode[0] - 3.0 / 8.0).abs() < 1e-10);
    // h''(u) = -(3 + 5) s (1 - s).
    assert!((fit.covariance.as_ref().unwrap()[[0, 0]] - 1.0 / (8.0 * 3.0 / 8.0 * 5.0 / 8.0)).abs() < 1e-10);
    let fit = laplace_constrained(&mut f, &[0.5], &c, Target::ConstrainedMode, &opts).unwrap();
    assert!((fit.constrained_mode[0] - 2.0 / 6.0).abs() < 1e-10);
}

#[test]
fn non_finite_density_at_start() {
    let mut f = gamma_kernel(3.0, 1.0);
    match laplace(&mut f, &[-1.0], &Options::default()) {
        Err(LaplaceError::NonFiniteDensity { value }) => assert!(value.is_nan()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn non_finite_gradient_at_start() {
    // f(x) = -|x|^1.5 has an infinite... no: use sqrt, whose derivative at 0 is infinite.
    let mut f = FnDensity::new(
        2,
        |x: &[f64]| -x[0] * x[0] + x[1].sqrt(),
        |x: &[f64], g: &mut [f64]| {
            g[0] = -2.0 * x[0];
            g[1] = 0.5 / x[1].sqrt();
        },
        |_: &[f64], h: &mut [f64]| h.fill(0.0),
    );
    match laplace(&mut f, &[1.0, 0.0], &Options::default()) {
        Err(LaplaceError::NonFiniteGradient { index: 1, value }) => assert!(value.is_infinite()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn no_convergence_reports_the_gradient_norm() {
    let mut f = student_t();
    let opts = Options { max_iter: 2, ..Options::default() };
    match laplace(&mut f, &[30.0, -40.0], &opts) {
        Err(LaplaceError::NoConvergence { iterations: 2, grad_norm, last, .. }) => {
            let mut g = [0.0; 2];
            f.value_grad(&last, &mut g).unwrap();
            assert_eq!(grad_norm, g[0].abs().max(g[1].abs()));
            assert!(grad_norm > 1e-8);
        }
        other => panic!("{other:?}"),
    }
    // The same with convergence not required: a flagged result.
    let opts = Options { max_iter: 2, require_convergence: false, ..Options::default() };
    let fit = laplace(&mut f, &[30.0, -40.0], &opts);
    match fit {
        Ok(fit) => assert!(!fit.converged && fit.iterations == 2),
        // The Hessian may not be negative definite that far out.
        Err(LaplaceError::NotNegativeDefinite { .. }) => {}
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn saddle_point_is_not_negative_definite() {
    // f = x² - y² has a stationary point at 0 that is a saddle.
    let mut f = FnDensity::new(
        2,
        |x: &[f64]| x[0] * x[0] - x[1] * x[1],
        |x: &[f64], g: &mut [f64]| {
            g[0] = 2.0 * x[0];
            g[1] = -2.0 * x[1];
        },
        |_: &[f64], h: &mut [f64]| h.copy_from_slice(&[2.0, 0.0, 0.0, -2.0]),
    );
    match laplace(&mut f, &[0.0, 0.0], &Options::default()) {
        Err(LaplaceError::NotNegativeDefinite { eigenvalue, direction, .. }) => {
            assert!((eigenvalue + 2.0).abs() < 1e-12);
            assert!((direction[0] - 1.0).abs() < 1e-12 && direction[1].abs() < 1e-12);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn jitter_only_when_asked_and_reported() {
    // f = -y²: flat in x, so the precision is singular at any stationary point.
    let mk = || {
        FnDensity::new(
            2,
            |x: &[f64]| -x[1] * x[1],
            |x: &[f64], g: &mut [f64]| {
                g[0] = 0.0;
                g[1] = -2.0 * x[1];
            },
            |_: &[f64], h: &mut [f64]| h.copy_from_slice(&[0.0, 0.0, 0.0, -2.0]),
        )
    };
    match laplace(&mut mk(), &[0.0, 0.0], &Options::default()) {
        Err(LaplaceError::NotNegativeDefinite { eigenvalue, direction, .. }) => {
            assert_eq!(eigenvalue, 0.0);
            assert!((direction[0] - 1.0).abs() < 1e-12);
        }
        other => panic!("{other:?}"),
    }
    let fit = laplace(&mut mk(), &[0.0, 0.0], &Options { jitter: Some(1e-3), ..Options::default() }).unwrap();
    assert!(fit.jitter > 0.0 && fit.jitter <= 1e-3);
    assert_eq!(fit.precision.get(0, 0), fit.jitter);
    // Jitter below what is needed is still an error.
    let mut g = FnDensity::new(
        1,
        |x: &[f64]| x[0] * x[0],
        |x: &[f64], g: &mut [f64]| g[0] = 2.0 * x[0],
        |_: &[f64], h: &mut [f64]| h[0] = 2.0,
    );
    let r = laplace(&mut g, &[0.0], &Options { jitter: Some(1.0), ..Options::default() });
    assert!(matches!(r, Err(LaplaceError::NotNegativeDefinite { .. })), "{r:?}");
}

#[test]
fn bad_inputs_are_errors() {
    let mut f = student_t();
    assert!(matches!(
        laplace(&mut f, &[0.0], &Options::default()),
        Err(LaplaceError::InitDimension { expected: 2, found: 1 })
    ));
    let r = laplace(&mut f, &[0.0, 0.0], &Options { grad_tol: f64::NAN, ..Options::default() });
    assert!(matches!(r, Err(LaplaceError::Options { name: "grad_tol", .. })));
    let r = laplace(&mut f, &[0.0, 0.0], &Options { method: Method::Lbfgs { memory: 0 }, ..Options::default() });
    assert!(matches!(r, Err(LaplaceError::Options { name: "method", .. })));
    let r = laplace_constrained(
        &mut f,
        &[0.0, -1.0],
        &[Constraint::Real, Constraint::Positive],
        Target::UnconstrainedPosterior,
        &Options::default(),
    );
    assert!(matches!(r, Err(LaplaceError::Constraint { index: 1, .. })), "{r:?}");
    let r = laplace_constrained(&mut f, &[0.0, 1.0], &[Constraint::Real], Target::ConstrainedMode, &Options::default());
    assert!(matches!(r, Err(LaplaceError::Constraint { .. })), "{r:?}");
    let mut empty = FnDensity::new(0, |_: &[f64]| 0.0, |_: &[f64], _: &mut [f64]| {}, |_: &[f64], _: &mut [f64]| {});
    assert!(matches!(laplace(&mut empty, &[], &Options::default()), Err(LaplaceError::EmptyParameter)));
}

#[test]
fn draws_have_the_right_moments() {
    let mut f = student_t();
    let fit = laplace(&mut f, &[0.0, 0.0], &Options::default()).unwrap();
    let n = 100_000;
    let x = fit.draws(n, 42);
    assert_eq!(x.dim(), (n, 2));
    let mean = x.mean_axis(ndarray::Axis(0)).unwrap();
    for i in 0..2 {
        // Four standard errors of the mean.
        let se = fit.std[i] / (n as f64).sqrt();
        assert!((mean[i] - fit.mode[i]).abs() < 4.0 * se, "mean {i}: {} vs {}", mean[i], fit.mode[i]);
    }
    for i in 0..2 {
        for j in 0..2 {
            let c: f64 = x.column(i).iter().zip(x.column(j)).map(|(a, b)| (a - mean[i]) * (b - mean[j])).sum::<f64>()
                / (n - 1) as f64;
            // The standard error of a sample covariance is about
            // sqrt((Σii Σjj + Σij²)/n) ≈ 0.0035 here; allow four.
            let s = fit.covariance.as_ref().unwrap()[[i, j]];
            let se = ((fit.covariance.as_ref().unwrap()[[i, i]] * fit.covariance.as_ref().unwrap()[[j, j]] + s * s)
                / n as f64)
                .sqrt();
            assert!((c - s).abs() < 4.0 * se, "cov {i}{j}: {c} vs {s}");
        }
    }
    // Same seed, same draws; another seed, other draws.
    assert_eq!(fit.draws(3, 42), x.slice(ndarray::s![..3, ..]).to_owned());
    assert_ne!(fit.draws(3, 43), fit.draws(3, 42));
}

#[test]
fn gaussian_log_density_marginals_and_delta_method() {
    let mut f = student_t();
    let fit = laplace(&mut f, &[0.0, 0.0], &Options::default()).unwrap();
    // At the mode the Gaussian log density is -log(2π) - ½ log det Σ = -(log_evidence - f(θ*)).
    let at_mode = fit.log_density(&[0.5, 2.0]);
    assert!((at_mode + fit.log_evidence - fit.log_density_at_mode).abs() < 1e-12);
    let m = fit.marginal(1).unwrap();
    assert_eq!(m.mean, fit.mode[1]);
    assert!((m.std - (7.0_f64 / 9.0).sqrt()).abs() < 1e-8);
    assert!(fit.marginal(2).is_none());
    assert!((fit.correlation().unwrap()[[0, 1]] - 0.5).abs() < 1e-8);
    // g(θ) = (θ0 + θ1, 2 θ0): J = [[1, 1], [2, 0]].
    let j = ndarray::arr2(&[[1.0, 1.0], [2.0, 0.0]]);
    let r = fit.delta_method(&[2.5, 1.0], j.view()).unwrap();
    let s = fit.covariance.as_ref().unwrap();
    let var_sum = s[[0, 0]] + s[[1, 1]] + 2.0 * s[[0, 1]];
    assert!((r.std[0] - var_sum.sqrt()).abs() < 1e-12);
    assert!((r.covariance[[1, 1]] - 4.0 * s[[0, 0]]).abs() < 1e-12);
    assert!((r.covariance[[0, 1]] - 2.0 * (s[[0, 0]] + s[[0, 1]])).abs() < 1e-12);
    assert!(fit.delta_method(&[1.0], j.view()).is_err());
}

#[cfg(feature = "plot")]
#[test]
fn figure_is_an_svg_with_both_densities() {
    use saddle_laplace::plot::{PlotOptions, figure};
    let mut f = student_t();
    let fit = laplace(&mut f, &[0.0, 0.0], &Options::default()).unwrap();
    let svg = figure(&fit, &mut f, &PlotOptions::default()).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("marginal of θ0") && svg.contains("Laplace") && svg.contains("true (grid integration)"));
    assert!(svg.matches("<polyline").count() > 100, "contour segments are drawn");
    if let Ok(dir) = std::env::var("SADDLE_FIGURE_DIR") {
        std::fs::write(format!("{dir}/student_t.svg"), &svg).unwrap();
    }
    let bad = PlotOptions { dims: (0, 0), ..PlotOptions::default() };
    assert!(matches!(figure(&fit, &mut f, &bad), Err(LaplaceError::Options { .. })));
}
