//! The driver and the result: mode, curvature, evidence, and what can be
//! done with the Gaussian approximation.

use std::time::{Duration, Instant};

use std::sync::Arc;

use ndarray::{Array1, Array2, ArrayView2};

use crate::curvature::Curvature;
use crate::density::{Counted, Evaluations, LogDensity};
use crate::lbfgs::{bfgs, lbfgs};
use crate::linalg::{Cholesky, dot, norm_inf, smallest_eigen};
use crate::newton::newton;
use crate::rng::Rng;
use crate::sparse::SparseCholesky;
use crate::structure::{SparseStructure, SparseSymmetric};
use crate::transform::{Constraint, Target, Transformed};
use crate::{HessianMode, LaplaceError, Method, Options};

const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// Wall-clock times of the phases of a fit.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timings {
    /// Finding the mode (`setup` included).
    pub optimize: Duration,
    /// Choosing the Hessian's storage: for a sparse Hessian, detecting its
    /// pattern, compiling the compressed function and the symbolic
    /// analysis of the factorisation.
    pub setup: Duration,
    /// Inside the evaluations with a Hessian (`f`, `∇f` and `∇²f`, dense or
    /// sparse) while finding the mode.
    pub evaluate: Duration,
    /// Inside the numeric factorisations while finding the mode.
    pub factorise: Duration,
    /// The number of those factorisations.
    pub factorisations: usize,
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
    /// `(-∇²f(θ*))⁻¹`; `None` above [`Options::covariance_max_dim`]
    /// coordinates unless [`Options::full_covariance`] is set.
    pub covariance: Option<Array2<f64>>,
    /// `-∇²f(θ*)` (plus any jitter), dense or sparse as the fit held it.
    pub precision: Precision,
    /// The lower Cholesky factor `L` of the precision, `L Lᵀ = precision`
    /// (dense fits; a sparse fit's factor is permuted, see
    /// [`crate::SparseCholesky`]).
    pub precision_cholesky: Option<Array2<f64>>,
    /// Marginal standard deviations, `sqrt(diag(covariance))` (from the
    /// selected inverse on sparse fits, without forming the covariance).
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
    /// `D Σ D` with `D = diag(T'(u*))` (when the covariance was formed).
    pub constrained_covariance: Option<Array2<f64>>,
    /// Square roots of its diagonal.
    pub constrained_std: Array1<f64>,
    /// The user's log density at the constrained mode (no log-Jacobian).
    pub constrained_log_density_at_mode: f64,
    /// The sparse Hessian's statistics, on sparse fits.
    pub sparse: Option<SparseInfo>,
    factor: Factor,
}

/// The precision of a fit, as it was held.
#[derive(Clone, Debug, PartialEq)]
pub enum Precision {
    /// A dense `d × d` matrix.
    Dense(Array2<f64>),
    /// A sparse symmetric matrix.
    Sparse(SparseSymmetric),
}

impl Precision {
    /// Entry `(i, j)`.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        match self {
            Precision::Dense(m) => m[[i, j]],
            Precision::Sparse(s) => s.get(i, j),
        }
    }

    /// The dense matrix (a copy for sparse precisions).
    pub fn to_dense(&self) -> Array2<f64> {
        match self {
            Precision::Dense(m) => m.clone(),
            Precision::Sparse(s) => {
                let n = s.structure.dim();
                Array2::from_shape_vec((n, n), s.to_dense()).expect("n × n")
            }
        }
    }

    /// `‖Lᵀ r‖² = rᵀ P r`.
    fn quad(&self, r: &[f64]) -> f64 {
        match self {
            Precision::Dense(m) => {
                let d = r.len();
                (0..d).map(|i| r[i] * (0..d).map(|j| m[[i, j]] * r[j]).sum::<f64>()).sum()
            }
            Precision::Sparse(s) => {
                let mut y = vec![0.0; r.len()];
                s.structure.matvec(&s.values, r, &mut y);
                dot(r, &y)
            }
        }
    }
}

/// What a sparse fit held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SparseInfo {
    /// Entries of the Hessian's pattern (both triangles).
    pub hessian_nnz: usize,
    /// Entries of the Cholesky factor after the fill-reducing ordering.
    pub factor_nnz: usize,
}

/// The factorisation of the precision a fit keeps for draws and densities.
#[derive(Clone)]
enum Factor {
    Dense(Cholesky),
    Sparse(Arc<SparseCholesky>),
}

impl std::fmt::Debug for Factor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Factor::Dense(_) => f.write_str("Factor::Dense"),
            Factor::Sparse(_) => f.write_str("Factor::Sparse"),
        }
    }
}

impl Factor {
    fn log_det(&self) -> f64 {
        match self {
            Factor::Dense(c) => c.log_det(),
            Factor::Sparse(c) => c.log_det().unwrap_or(f64::NAN),
        }
    }

    /// `z ↦` a draw of `N(0, P⁻¹)` from standard normal `z`.
    fn draw(&self, z: &mut [f64]) {
        match self {
            Factor::Dense(c) => c.solve_lt(z),
            Factor::Sparse(c) => {
                // The factor is factored by construction; a failure would
                // show as NaN, never as a plausible draw.
                if c.draw(z).is_err() {
                    z.iter_mut().for_each(|v| *v = f64::NAN);
                }
            }
        }
    }

    fn solve(&self, b: &mut [f64]) {
        match self {
            Factor::Dense(c) => c.solve(b),
            Factor::Sparse(c) => {
                if c.solve(b).is_err() {
                    b.iter_mut().for_each(|v| *v = f64::NAN);
                }
            }
        }
    }
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
    let t_setup = Instant::now();
    let mut curv = choose_curvature(&mut counted, d, opts)?;
    let setup = t_setup.elapsed();
    // Sparse Hessians are cheap (a few gradients' worth): Newton all the way.
    let method = if curv.is_sparse() { Method::Newton } else { opts.resolve(d, counted.data_size()) };
    let opt = match method {
        Method::Newton | Method::Auto => newton(&mut counted, &u0, opts, &mut curv)?,
        Method::Lbfgs { .. } | Method::Bfgs => {
            // L-BFGS and BFGS end on a small gradient, step or decrease; whether
            // that point is a mode is Newton's test on the exact Hessian,
            // which the approximation needs there anyway (one Hessian when
            // it is, a few more steps when L-BFGS stopped short).
            let quasi = match method {
                Method::Lbfgs { memory } => lbfgs(&mut counted, &u0, memory, opts)?,
                _ => bfgs(&mut counted, &u0, &mut curv, opts)?,
            };
            let rest = Options { max_iter: opts.max_iter.saturating_sub(quasi.iterations), ..opts.clone() };
            let mut opt = newton(&mut counted, &quasi.x, &rest, &mut curv)?;
            opt.iterations += quasi.iterations;
            opt
        }
    };
    let optimize = start.elapsed();
    let (evaluate, clock) = (counted.hess_time, curv.clock());
    let t_hess = Instant::now();
    // Newton ends on a point whose precision it has just factored
    // unshifted (its convergence test); that factor serves the Gaussian.
    let mode_factored = opt.hess.is_some() && curv.factored() == Some(0.0);
    let (value, grad, hess) = match opt.hess {
        Some(h) => (opt.value, opt.grad, h),
        None => {
            let mut g = vec![0.0; d];
            let mut h = vec![0.0; curv.hess_len()];
            let v = curv.evaluate(&mut counted, &opt.x, &mut g, &mut h)?;
            (v, g, h)
        }
    };
    let hessian = if method == Method::Newton { Duration::ZERO } else { t_hess.elapsed() };
    let t_factor = Instant::now();
    let evaluations = counted.counts;
    let gaussian = match curv {
        Curvature::Dense { .. } => dense_gaussian(hess, d, opts, &opt.x)?,
        Curvature::Sparse { structure, chol, .. } => {
            sparse_gaussian(hess, structure, *chol, mode_factored, opts, &opt.x)?
        }
    };
    let Gaussian { precision, factor, covariance, variance, jitter, sparse } = gaussian;
    let log_det = factor.log_det();
    let mut log_evidence = value + 0.5 * d as f64 * LN_2PI - 0.5 * log_det;
    let der: Vec<[f64; 5]> = constraints.iter().zip(&opt.x).map(|(c, &u)| c.derivatives(u)).collect();
    let log_jac: f64 = der.iter().map(|v| v[2]).sum();
    if target == Some(Target::ConstrainedMode) {
        // Change of variables of the Gaussian integral from u back to θ.
        log_evidence += log_jac;
    }
    let constrained_log_density_at_mode = if jacobian { value - log_jac } else { value };
    let std: Array1<f64> = variance.iter().map(|v| v.sqrt()).collect();
    let constrained_std = (0..d).map(|i| (variance[i] * der[i][0] * der[i][0]).sqrt()).collect();
    let constrained_covariance =
        covariance.as_ref().map(|cov| Array2::from_shape_fn((d, d), |(i, j)| cov[[i, j]] * der[i][0] * der[j][0]));
    let constrained_mode = constraints.iter().zip(&opt.x).map(|(c, &u)| c.to_constrained(u)).collect();
    let precision_cholesky = match &factor {
        Factor::Dense(c) => Some(Array2::from_shape_vec((d, d), c.factor_row_major()).expect("d × d")),
        Factor::Sparse(_) => None,
    };
    let factor_time = t_factor.elapsed();
    Ok(Laplace {
        mode: Array1::from(opt.x),
        covariance,
        precision,
        precision_cholesky,
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
        timings: Timings {
            optimize,
            setup,
            evaluate,
            factorise: clock.time,
            factorisations: clock.count,
            hessian,
            factor: factor_time,
            total: start.elapsed(),
        },
        constraints: constraints.to_vec(),
        target,
        constrained_mode,
        constrained_covariance,
        constrained_std,
        constrained_log_density_at_mode,
        sparse,
        factor,
    })
}

/// The Gaussian at the mode: the precision, its factor, the variances and
/// (when asked for) the covariance.
struct Gaussian {
    precision: Precision,
    factor: Factor,
    covariance: Option<Array2<f64>>,
    variance: Vec<f64>,
    jitter: f64,
    sparse: Option<SparseInfo>,
}

/// Whether the covariance of `d` coordinates is formed.
fn wants_covariance(d: usize, opts: &Options) -> bool {
    d <= opts.covariance_max_dim || opts.full_covariance
}

fn dense_gaussian(hess: Vec<f64>, d: usize, opts: &Options, x: &[f64]) -> Result<Gaussian, LaplaceError> {
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
    let (chol, jitter) = factor_precision(&precision, d, opts.jitter, x)?;
    if jitter > 0.0 {
        for i in 0..d {
            precision[i * d + i] += jitter;
        }
    }
    let cov = chol.inverse();
    let variance = (0..d).map(|i| cov[i * d + i]).collect();
    let mat = |v: Vec<f64>| Array2::from_shape_vec((d, d), v).expect("d × d");
    let covariance = wants_covariance(d, opts).then(|| mat(cov));
    Ok(Gaussian {
        precision: Precision::Dense(mat(precision)),
        factor: Factor::Dense(chol),
        covariance,
        variance,
        jitter,
        sparse: None,
    })
}

/// The Gaussian of a sparse fit; `factored` when `chol` already holds the
/// unshifted factor of `-hess` (Newton's last convergence test).
fn sparse_gaussian(
    hess: Vec<f64>,
    structure: SparseStructure,
    mut chol: SparseCholesky,
    factored: bool,
    opts: &Options,
    x: &[f64],
) -> Result<Gaussian, LaplaceError> {
    let d = structure.dim();
    if let Some(k) = hess.iter().position(|v| !v.is_finite()) {
        let col = structure.col_ptr().partition_point(|&p| p <= k) - 1;
        return Err(LaplaceError::NonFiniteHessian { row: structure.row_indices()[k], col, value: hess[k] });
    }
    let mut values: Vec<f64> = hess.iter().map(|v| -v).collect();
    let mut jitter = 0.0;
    if !(factored || chol.factor(&values, 0.0)?) {
        let scale = (0..d).map(|j| values[structure.diagonal_position(j)].abs()).fold(0.0_f64, f64::max).max(1.0);
        let mut done = false;
        if let Some(max) = opts.jitter {
            let mut tau = (1e-10 * scale).min(max);
            loop {
                if chol.factor(&values, tau)? {
                    jitter = tau;
                    done = true;
                    break;
                }
                if tau >= max {
                    break;
                }
                tau = (tau * 10.0).min(max);
            }
        }
        if !done {
            let (eigenvalue, direction) = smallest_eigen_sparse(&structure, &values);
            return Err(LaplaceError::NotNegativeDefinite { eigenvalue, direction, mode: x.to_vec() });
        }
        for j in 0..d {
            values[structure.diagonal_position(j)] += jitter;
        }
    }
    let variance = chol.inverse_diagonal()?;
    let covariance = if wants_covariance(d, opts) {
        Some(Array2::from_shape_vec((d, d), chol.inverse_dense()?).expect("d × d"))
    } else {
        None
    };
    let sparse = Some(SparseInfo { hessian_nnz: structure.nnz_full(), factor_nnz: chol.factor_nnz() });
    Ok(Gaussian {
        precision: Precision::Sparse(SparseSymmetric { structure, values }),
        factor: Factor::Sparse(Arc::new(chol)),
        covariance,
        variance,
        jitter,
        sparse,
    })
}

/// The smallest eigenvalue of a sparse symmetric matrix and a unit
/// eigenvector: dense up to 2,000 coordinates, above by power iteration
/// on `σI − A` (σ a Gershgorin bound), an estimate for the diagnostic.
fn smallest_eigen_sparse(structure: &SparseStructure, values: &[f64]) -> (f64, Vec<f64>) {
    let d = structure.dim();
    if d <= 2000 {
        return smallest_eigen(&structure.to_dense(values), d).unwrap_or((f64::NAN, vec![f64::NAN; d]));
    }
    let mut radius = vec![0.0; d];
    let (cp, rows) = (structure.col_ptr(), structure.row_indices());
    for j in 0..d {
        for k in cp[j] + 1..cp[j + 1] {
            radius[j] += values[k].abs();
            radius[rows[k]] += values[k].abs();
        }
    }
    let sigma = (0..d).map(|j| values[cp[j]] + radius[j]).fold(f64::NEG_INFINITY, f64::max);
    // A fixed, deterministic start that is not orthogonal to anything in
    // particular.
    let mut v: Vec<f64> = (0..d).map(|i| 1.0 + ((i * 7919) % 13) as f64 / 13.0).collect();
    let mut y = vec![0.0; d];
    let mut mu = 0.0;
    for _ in 0..500 {
        let n = dot(&v, &v).sqrt();
        v.iter_mut().for_each(|a| *a /= n);
        structure.matvec(values, &v, &mut y);
        // (σI − A) v
        for i in 0..d {
            y[i] = sigma * v[i] - y[i];
        }
        mu = dot(&v, &y);
        std::mem::swap(&mut v, &mut y);
    }
    let n = dot(&v, &v).sqrt();
    v.iter_mut().for_each(|a| *a /= n);
    (sigma - mu, v)
}

/// Picks the Hessian's storage, and refuses, before anything large is
/// allocated, a fit that cannot fit in memory either way.
fn choose_curvature<D: LogDensity + ?Sized>(
    f: &mut Counted<'_, D>,
    d: usize,
    opts: &Options,
) -> Result<Curvature, LaplaceError> {
    let available = saddle_runtime::available_memory();
    match opts.hessian {
        HessianMode::Dense => {
            check_dense_memory(d, available)?;
            Ok(Curvature::dense(d))
        }
        HessianMode::Sparse => {
            let structure = match f.hessian_structure()? {
                Some(s) => s,
                None => {
                    // Unknown pattern: every entry, stored sparse.
                    check_dense_memory(d, available)?;
                    SparseStructure::dense(d)
                }
            };
            sparse_curvature(structure, available)
        }
        HessianMode::Auto if d < opts.sparse_min_dim => {
            check_dense_memory(d, available)?;
            Ok(Curvature::dense(d))
        }
        HessianMode::Auto => {
            let dense_fits = check_dense_memory(d, available);
            match (f.hessian_structure(), dense_fits) {
                (Ok(Some(s)), Ok(())) if (s.nnz_full() as f64) > opts.sparse_max_density * (d as f64).powi(2) => {
                    Ok(Curvature::dense(d))
                }
                (Ok(Some(s)), _) => sparse_curvature(s, available),
                (Ok(None) | Err(_), Ok(())) => Ok(Curvature::dense(d)),
                (Ok(None), Err(e)) => Err(e),
                (Err(sparse), Err(dense)) => Err(LaplaceError::NoFeasibleHessian {
                    dim: d,
                    dense: dense.to_string(),
                    sparse: sparse.to_string(),
                }),
            }
        }
    }
}

/// Entries of the Hessian's pattern held at once by a sparse fit: the
/// Hessian and the trial Hessian of a Newton step, the precision, and the
/// final precision.
const SPARSE_COPIES: u128 = 4;

/// The sparse storage, after its symbolic analysis, when it fits.
pub(crate) fn sparse_curvature(structure: SparseStructure, available: u128) -> Result<Curvature, LaplaceError> {
    let chol = SparseCholesky::analyse(structure.dim(), structure.col_ptr(), structure.row_indices())?;
    let d = structure.dim() as u128;
    let bytes = chol.factor_bytes() + structure.nnz() as u128 * 8 * SPARSE_COPIES + d * 8 * 16;
    if bytes > available {
        return Err(LaplaceError::SparseTooLarge {
            dim: structure.dim(),
            nnz: structure.nnz(),
            factor_nnz: chol.factor_nnz(),
            bytes,
            available,
        });
    }
    Ok(Curvature::sparse(structure, chol))
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
    /// `θ* + L⁻ᵀ z` with `z` standard normal (through the sparse factor on
    /// sparse fits, with its permutation).
    pub fn draws(&self, n: usize, seed: u64) -> Array2<f64> {
        let d = self.dim();
        let mut rng = Rng::new(seed);
        let mut out = Array2::zeros((n, d));
        let mut z = vec![0.0; d];
        for mut row in out.rows_mut() {
            z.iter_mut().for_each(|v| *v = rng.normal());
            self.factor.draw(&mut z);
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
        let quad = match &self.factor {
            Factor::Dense(c) => c.quad(&r),
            Factor::Sparse(_) => self.precision.quad(&r),
        };
        -0.5 * (d as f64 * LN_2PI - self.factor.log_det() + quad)
    }

    /// The Gaussian marginal of coordinate `i` (`None` out of range).
    pub fn marginal(&self, i: usize) -> Option<Normal> {
        (i < self.dim()).then(|| Normal { mean: self.mode[i], std: self.std[i] })
    }

    /// The correlation matrix (when the covariance was formed).
    pub fn correlation(&self) -> Option<Array2<f64>> {
        let d = self.dim();
        let cov = self.covariance.as_ref()?;
        Some(Array2::from_shape_fn(
            (d, d),
            |(i, j)| {
                if i == j { 1.0 } else { cov[[i, j]] / (self.std[i] * self.std[j]) }
            },
        ))
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
        let covariance = match &self.covariance {
            Some(cov) => jacobian.dot(cov).dot(&jacobian.t()),
            None => {
                // Σ Jᵀ by one solve per quantity, without forming Σ.
                let mut sj = Array2::zeros((d, k));
                let mut col = vec![0.0; d];
                for r in 0..k {
                    col.iter_mut().zip(jacobian.row(r)).for_each(|(c, &v)| *c = v);
                    self.factor.solve(&mut col);
                    sj.column_mut(r).iter_mut().zip(&col).for_each(|(s, &v)| *s = v);
                }
                jacobian.dot(&sj)
            }
        };
        Ok(Derived::new(value.to_vec(), covariance))
    }
}

impl Derived {
    /// The quantities `value` with `covariance` symmetrised (rounding
    /// makes `J Σ Jᵀ` slightly asymmetric), and its standard deviations.
    pub(crate) fn new(value: Vec<f64>, mut covariance: Array2<f64>) -> Derived {
        let k = value.len();
        for i in 0..k {
            for j in 0..i {
                let s = 0.5 * (covariance[[i, j]] + covariance[[j, i]]);
                covariance[[i, j]] = s;
                covariance[[j, i]] = s;
            }
        }
        let std = (0..k).map(|i| covariance[[i, i]].max(0.0).sqrt()).collect();
        Derived { value: Array1::from(value), covariance, std }
    }
}
