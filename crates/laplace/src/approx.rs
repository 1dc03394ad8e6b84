//! The driver and the result: mode, curvature, evidence, and what can be
//! done with the Gaussian approximation.

use std::time::{Duration, Instant};

use ndarray::{Array1, Array2, ArrayView2};

use crate::density::{Counted, Evaluations, LogDensity};
use crate::lbfgs::lbfgs;
use crate::linalg::{Cholesky, norm_inf, smallest_eigen};
use crate::newton::newton;
use crate::rng::Rng;
use crate::transform::{Constraint, Target, Transformed};
use crate::{LaplaceError, Method, Options};

const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// Wall-clock times of the phases of a fit.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timings {
    /// Finding the mode.
    pub optimize: Duration,
    /// The Hessian at the mode, when the optimiser did not already have it
    /// (L-BFGS).
    pub hessian: Duration,
    /// Factoring the precision and forming the covariance and evidence.
    pub factor: Duration,
    /// The whole fit.
    pub total: Duration,
}

/// A normal distribution: one marginal of the approximation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Normal {
    /// Mean.
    pub mean: f64,
    /// Standard deviation.
    pub std: f64,
}

impl Normal {
    /// The log density at `x`.
    pub fn log_pdf(&self, x: f64) -> f64 {
        let z = (x - self.mean) / self.std;
        -0.5 * (LN_2PI + z * z) - self.std.ln()
    }

    /// The density at `x`.
    pub fn pdf(&self, x: f64) -> f64 {
        self.log_pdf(x).exp()
    }
}

/// Delta-method summary of derived quantities `g(θ)` at the mode (TMB's
/// `sdreport`): values, covariance `J Σ Jᵀ` and standard errors.
#[derive(Clone, Debug, PartialEq)]
pub struct Derived {
    /// `g` at the mode.
    pub value: Array1<f64>,
    /// `J Σ Jᵀ`, with `J` the Jacobian of `g` at the mode.
    pub covariance: Array2<f64>,
    /// Square roots of the covariance's diagonal.
    pub std: Array1<f64>,
}

/// A Laplace approximation: the Gaussian at the mode of a log density `f`
/// with covariance `(-∇²f)⁻¹`.
///
/// All fields are in the space the optimiser worked in (the unconstrained
/// space when constraints were given; the only space otherwise); the
/// `constrained_*` fields map them to the constrained space (they equal the
/// unconstrained ones for [`Constraint::Real`] coordinates).
#[derive(Clone, Debug)]
pub struct Laplace {
    /// The mode `θ*`.
    pub mode: Array1<f64>,
    /// `(-∇²f(θ*))⁻¹`.
    pub covariance: Array2<f64>,
    /// `-∇²f(θ*)` (plus any jitter).
    pub precision: Array2<f64>,
    /// The lower Cholesky factor `L` of the precision, `L Lᵀ = precision`.
    pub precision_cholesky: Array2<f64>,
    /// Marginal standard deviations, `sqrt(diag(covariance))`.
    pub std: Array1<f64>,
    /// `f(θ*)` (with the log-Jacobian under
    /// [`Target::UnconstrainedPosterior`]).
    pub log_density_at_mode: f64,
    /// The Laplace estimate of `log ∫ exp f`:
    /// `f(θ*) + (d/2)·log 2π − ½·log det(−∇²f(θ*))` (for
    /// [`Target::ConstrainedMode`], of the integral over the constrained
    /// space).
    pub log_evidence: f64,
    /// Optimiser iterations.
    pub iterations: usize,
    /// Whether the mode passed the convergence test: a finite point where
    /// the precision factors and the gradient and the Newton step are
    /// small (always `true` unless [`Options::require_convergence`] was
    /// turned off; stopping on a small step or decrease alone is not
    /// convergence).
    pub converged: bool,
    /// `‖∇f(θ*)‖∞`.
    pub grad_norm: f64,
    /// `∇f(θ*)`.
    pub gradient: Array1<f64>,
    /// The optimiser used.
    pub method: Method,
    /// The multiple of the identity added to the precision (0 unless
    /// [`Options::jitter`] allowed it and it was needed).
    pub jitter: f64,
    /// How many times the density was evaluated.
    pub evaluations: Evaluations,
    /// Wall-clock times.
    pub timings: Timings,
    /// The constraint of each coordinate.
    pub constraints: Vec<Constraint>,
    /// What the mode is the mode of (`None` without constraints).
    pub target: Option<Target>,
    /// The mode mapped to the constrained space.
    pub constrained_mode: Array1<f64>,
    /// The covariance in the constrained space by the delta method,
    /// `D Σ D` with `D = diag(T'(u*))`.
    pub constrained_covariance: Array2<f64>,
    /// Square roots of its diagonal.
    pub constrained_std: Array1<f64>,
    /// The user's log density at the constrained mode (no log-Jacobian).
    pub constrained_log_density_at_mode: f64,
    chol: Cholesky,
}

/// Computes the Laplace approximation of `density` starting from `init`.
///
/// ```
/// use saddle_laplace::{laplace, FnDensity, Options};
/// // A Gaussian with mean (1, -2) and precision diag(4, 1): Laplace is exact.
/// let mut f = FnDensity::new(
///     2,
///     |x: &[f64]| -2.0 * (x[0] - 1.0).powi(2) - 0.5 * (x[1] + 2.0).powi(2),
///     |x: &[f64], g: &mut [f64]| { g[0] = -4.0 * (x[0] - 1.0); g[1] = -(x[1] + 2.0); },
///     |_: &[f64], h: &mut [f64]| h.copy_from_slice(&[-4.0, 0.0, 0.0, -1.0]),
/// );
/// let fit = laplace(&mut f, &[0.0, 0.0], &Options::default()).unwrap();
/// assert!((fit.mode[0] - 1.0).abs() < 1e-12 && (fit.mode[1] + 2.0).abs() < 1e-12);
/// assert!((fit.std[0] - 0.5).abs() < 1e-12);
/// // ∫ exp f = 2π / sqrt(4)
/// assert!((fit.log_evidence - (std::f64::consts::PI).ln()).abs() < 1e-12);
/// ```
pub fn laplace<D: LogDensity + ?Sized>(density: &mut D, init: &[f64], opts: &Options) -> Result<Laplace, LaplaceError> {
    let d = density.dim();
    fit(density, init, &vec![Constraint::Real; d], None, opts)
}

/// Like [`laplace`] for a density over constrained coordinates: `init` is
/// in the constrained space, `constraints` has one entry per coordinate,
/// and `target` says whether the log-Jacobian is added
/// ([`Target::UnconstrainedPosterior`]) or not ([`Target::ConstrainedMode`]).
///
/// ```
/// use saddle_laplace::{laplace_constrained, Constraint, FnDensity, Options, Target};
/// // An exponential density exp(-σ) on σ > 0; with the log-Jacobian, the
/// // density of u = log σ is exp(u - e^u), whose mode is u = 0.
/// let mut f = FnDensity::new(1, |x: &[f64]| -x[0], |_: &[f64], g: &mut [f64]| g[0] = -1.0,
///     |_: &[f64], h: &mut [f64]| h[0] = 0.0);
/// let fit = laplace_constrained(&mut f, &[3.0], &[Constraint::Positive],
///     Target::UnconstrainedPosterior, &Options::default()).unwrap();
/// assert!(fit.mode[0].abs() < 1e-9);
/// assert!((fit.constrained_mode[0] - 1.0).abs() < 1e-9);
/// ```
pub fn laplace_constrained<D: LogDensity + ?Sized>(
    density: &mut D,
    init: &[f64],
    constraints: &[Constraint],
    target: Target,
    opts: &Options,
) -> Result<Laplace, LaplaceError> {
    fit(density, init, constraints, Some(target), opts)
}

fn fit<D: LogDensity + ?Sized>(
    density: &mut D,
    init: &[f64],
    constraints: &[Constraint],
    target: Option<Target>,
    opts: &Options,
) -> Result<Laplace, LaplaceError> {
    let start = Instant::now();
    opts.check()?;
    let d = density.dim();
    if d == 0 {
        return Err(LaplaceError::EmptyParameter);
    }
    if init.len() != d {
        return Err(LaplaceError::InitDimension { expected: d, found: init.len() });
    }
    if let Some((index, &value)) = init.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(LaplaceError::NonFiniteStart { index, value });
    }
    check_dense_memory(d, saddle_runtime::available_memory())?;
    if constraints.len() != d {
        return Err(LaplaceError::Constraint {
            index: constraints.len().min(d),
            message: format!("{} constraint(s) given for {d} coordinate(s)", constraints.len()),
        });
    }
    let mut u0 = Vec::with_capacity(d);
    for (i, (c, &t)) in constraints.iter().zip(init).enumerate() {
        c.check(i)?;
        u0.push(c.to_unconstrained(t, i)?);
    }
    let jacobian = target == Some(Target::UnconstrainedPosterior);
    let mut transformed = Transformed::new(density, constraints, jacobian);
    let mut counted = Counted::new(&mut transformed);
    let method = opts.resolve(d, counted.data_size());
    let opt = match method {
        Method::Newton | Method::Auto => newton(&mut counted, &u0, opts)?,
        Method::Lbfgs { memory } => {
            // L-BFGS ends on a small gradient, step or decrease; whether
            // that point is a mode is Newton's test on the exact Hessian,
            // which the approximation needs there anyway (one Hessian when
            // it is, a few more steps when L-BFGS stopped short).
            let quasi = lbfgs(&mut counted, &u0, memory, opts)?;
            let rest = Options { max_iter: opts.max_iter.saturating_sub(quasi.iterations), ..opts.clone() };
            let mut opt = newton(&mut counted, &quasi.x, &rest)?;
            opt.iterations += quasi.iterations;
            opt
        }
    };
    let optimize = start.elapsed();
    let t_hess = Instant::now();
    let (value, grad, hess) = match opt.hess {
        Some(h) => (opt.value, opt.grad, h),
        None => {
            let mut g = vec![0.0; d];
            let mut h = vec![0.0; d * d];
            let v = counted.value_grad_hess(&opt.x, &mut g, &mut h)?;
            (v, g, h)
        }
    };
    let hessian = if method == Method::Newton { Duration::ZERO } else { t_hess.elapsed() };
    let t_factor = Instant::now();
    if let Some(k) = hess.iter().position(|v| !v.is_finite()) {
        return Err(LaplaceError::NonFiniteHessian { row: k / d, col: k % d, value: hess[k] });
    }
    let mut precision: Vec<f64> = hess.iter().map(|v| -v).collect();
    for i in 0..d {
        for j in 0..i {
            let s = 0.5 * (precision[i * d + j] + precision[j * d + i]);
            precision[i * d + j] = s;
            precision[j * d + i] = s;
        }
    }
    let (chol, jitter) = factor_precision(&precision, d, opts.jitter, &opt.x)?;
    if jitter > 0.0 {
        for i in 0..d {
            precision[i * d + i] += jitter;
        }
    }
    let cov = chol.inverse();
    let log_det = chol.log_det();
    let evaluations = counted.counts;
    let mut log_evidence = value + 0.5 * d as f64 * LN_2PI - 0.5 * log_det;
    let der: Vec<[f64; 5]> = constraints.iter().zip(&opt.x).map(|(c, &u)| c.derivatives(u)).collect();
    let log_jac: f64 = der.iter().map(|v| v[2]).sum();
    if target == Some(Target::ConstrainedMode) {
        // Change of variables of the Gaussian integral from u back to θ.
        log_evidence += log_jac;
    }
    let constrained_log_density_at_mode = if jacobian { value - log_jac } else { value };
    let mat = |v: Vec<f64>| Array2::from_shape_vec((d, d), v).expect("d × d");
    let std: Array1<f64> = (0..d).map(|i| cov[i * d + i].sqrt()).collect();
    let ccov: Vec<f64> = (0..d * d).map(|k| cov[k] * der[k / d][0] * der[k % d][0]).collect();
    let constrained_std = (0..d).map(|i| ccov[i * d + i].sqrt()).collect();
    let constrained_mode = constraints.iter().zip(&opt.x).map(|(c, &u)| c.to_constrained(u)).collect();
    let factor = t_factor.elapsed();
    Ok(Laplace {
        mode: Array1::from(opt.x),
        covariance: mat(cov),
        precision: mat(precision),
        precision_cholesky: mat(chol.factor_row_major()),
        std,
        log_density_at_mode: value,
        log_evidence,
        iterations: opt.iterations,
        converged: opt.converged,
        grad_norm: norm_inf(&grad),
        gradient: Array1::from(grad),
        method,
        jitter,
        evaluations,
        timings: Timings { optimize, hessian, factor, total: start.elapsed() },
        constraints: constraints.to_vec(),
        target,
        constrained_mode,
        constrained_covariance: mat(ccov),
        constrained_std,
        constrained_log_density_at_mode,
        chol,
    })
}

/// How many `d × d` matrices of doubles a fit holds at once: the Hessian,
/// the trial Hessian of a Newton step, the precision, its Cholesky factor
/// and its row-major copy, the covariance and the constrained covariance.
const DENSE_COPIES: u128 = 7;

/// Refuses, before anything is allocated, a dimension whose dense Hessian
/// and factorisation cannot fit in `available` bytes.
pub(crate) fn check_dense_memory(d: usize, available: u128) -> Result<(), LaplaceError> {
    let bytes = (d as u128).saturating_mul(d as u128).saturating_mul(8 * DENSE_COPIES);
    if bytes > available {
        return Err(LaplaceError::TooLarge { dim: d, bytes, available });
    }
    Ok(())
}

/// Factors the precision, adding jitter only when allowed.
fn factor_precision(p: &[f64], d: usize, max_jitter: Option<f64>, x: &[f64]) -> Result<(Cholesky, f64), LaplaceError> {
    if let Some(c) = Cholesky::new(p, d, 0.0) {
        return Ok((c, 0.0));
    }
    if let Some(max) = max_jitter {
        let scale = (0..d).map(|i| p[i * d + i].abs()).fold(0.0_f64, f64::max).max(1.0);
        let mut tau = (1e-10 * scale).min(max);
        loop {
            if let Some(c) = Cholesky::new(p, d, tau) {
                return Ok((c, tau));
            }
            if tau >= max {
                break;
            }
            tau = (tau * 10.0).min(max);
        }
    }
    let (eigenvalue, direction) = smallest_eigen(p, d).unwrap_or((f64::NAN, vec![f64::NAN; d]));
    Err(LaplaceError::NotNegativeDefinite { eigenvalue, direction, mode: x.to_vec() })
}

impl Laplace {
    /// The dimension.
    pub fn dim(&self) -> usize {
        self.mode.len()
    }

    /// `n` draws from the approximation (rows), reproducible from `seed`:
    /// `θ* + L⁻ᵀ z` with `z` standard normal.
    pub fn draws(&self, n: usize, seed: u64) -> Array2<f64> {
        let d = self.dim();
        let mut rng = Rng::new(seed);
        let mut out = Array2::zeros((n, d));
        let mut z = vec![0.0; d];
        for mut row in out.rows_mut() {
            z.iter_mut().for_each(|v| *v = rng.normal());
            self.chol.solve_lt(&mut z);
            for j in 0..d {
                row[j] = self.mode[j] + z[j];
            }
        }
        out
    }

    /// The draws of [`Laplace::draws`] mapped to the constrained space.
    pub fn constrained_draws(&self, n: usize, seed: u64) -> Array2<f64> {
        let mut out = self.draws(n, seed);
        for mut row in out.rows_mut() {
            for (v, c) in row.iter_mut().zip(&self.constraints) {
                *v = c.to_constrained(*v);
            }
        }
        out
    }

    /// The log density of the approximating Gaussian at `x` (in the
    /// optimiser's space); `NaN` when `x` has the wrong length.
    pub fn log_density(&self, x: &[f64]) -> f64 {
        let d = self.dim();
        if x.len() != d {
            return f64::NAN;
        }
        let r: Vec<f64> = x.iter().zip(&self.mode).map(|(a, b)| a - b).collect();
        -0.5 * (d as f64 * LN_2PI - self.chol.log_det() + self.chol.quad(&r))
    }

    /// The Gaussian marginal of coordinate `i` (`None` out of range).
    pub fn marginal(&self, i: usize) -> Option<Normal> {
        (i < self.dim()).then(|| Normal { mean: self.mode[i], std: self.std[i] })
    }

    /// The correlation matrix.
    pub fn correlation(&self) -> Array2<f64> {
        let d = self.dim();
        Array2::from_shape_fn(
            (d, d),
            |(i, j)| {
                if i == j { 1.0 } else { self.covariance[[i, j]] / (self.std[i] * self.std[j]) }
            },
        )
    }

    /// Delta-method standard errors of derived quantities `g` with value
    /// `value` and Jacobian `jacobian` (`k × d`, with respect to the
    /// optimiser's coordinates) at the mode. See `sdreport`
    /// for `g` given as a traced function.
    pub fn delta_method(&self, value: &[f64], jacobian: ArrayView2<'_, f64>) -> Result<Derived, LaplaceError> {
        let d = self.dim();
        let k = value.len();
        if jacobian.dim() != (k, d) {
            return Err(LaplaceError::Signature {
                message: format!("the Jacobian is {:?}, expected ({k}, {d})", jacobian.dim()),
                loc: None,
            });
        }
        let jc = jacobian.dot(&self.covariance);
        let mut covariance = jc.dot(&jacobian.t());
        for i in 0..k {
            for j in 0..i {
                let s = 0.5 * (covariance[[i, j]] + covariance[[j, i]]);
                covariance[[i, j]] = s;
                covariance[[j, i]] = s;
            }
        }
        let std = (0..k).map(|i| covariance[[i, i]].max(0.0).sqrt()).collect();
        Ok(Derived { value: Array1::from(value.to_vec()), covariance, std })
    }
}
