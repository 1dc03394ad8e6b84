//! Random effects: TMB's marginal Laplace approximation.
//!
//! A log density `f(x)` over one parameter vector `x` whose coordinates
//! split into fixed effects θ (`p` of them) and random effects `u` (`q`)
//! is integrated over `u` by Laplace's approximation at the inner mode
//! `û(θ) = argmaxᵤ f(θ, u)`:
//!
//! `L(θ) = f(θ, û) + (q/2)·log 2π − ½·log det(−∇²ᵤf(θ, û))`.
//!
//! Its gradient is exact (no finite differences of `L`). The envelope
//! theorem removes `û`'s motion from the first term; the second moves
//! with θ directly and through `û`, `J = dû/dθ = (−∇²ᵤf)⁻¹ ∇²ᵤθf` by the
//! implicit function theorem, so with `H = ∇²f` and
//! `aₖ = tr(H_uu⁻¹ ∂H_uu/∂xₖ)`, the derivative of `log det(−H_uu)` in
//! every coordinate `xₖ` at once (one reverse pass of the Hessian's
//! program, see `trace.rs`):
//!
//! `∇L = ∂f/∂θ − ½ (a_θ + Jᵀ a_u)`, where `Jᵀ a_u = H_θu (−H_uu)⁻¹ a_u`
//! costs one solve.
//!
//! The Hessian of `L` is by central differences of this exact gradient
//! (TMB does the same), and the fixed effects are fitted by
//! [`crate::laplace`] on `L`: its mode is θ̂, its covariance the fixed
//! effects' covariance, and its evidence Laplace's approximation over θ
//! of the marginal.

mod fit;
mod inner;
mod split;
mod trace;

use saddle_ir::{Array, DType, Func};

pub use fit::{RandomFit, laplace_random};

use crate::approx::{check_dense_memory, sparse_curvature};
use crate::curvature::Curvature;
use crate::density::{Counted, LogDensity};
use crate::newton::newton;
use crate::{HessianMode, IrDensity, LaplaceError, Options};
use inner::{Conditional, Full, InnerFactor, NotPositive, Storage};
use split::Split;
use trace::TraceGrad;

const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// Why a random-effects model cannot be set up or its marginal
/// approximated.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RandomError {
    /// The list of random effects is empty.
    #[error("no random effects given (a model without them is fitted by plain laplace)")]
    NoRandomEffects,
    /// A random-effect index is not a coordinate of the parameter vector.
    #[error("random effect index {index} is out of range: the parameter vector has {dim} coordinate(s)")]
    IndexOutOfRange {
        /// The index.
        index: usize,
        /// The dimension of the parameter vector.
        dim: usize,
    },
    /// A random-effect index appears twice.
    #[error("random effect index {index} is given more than once")]
    Duplicate {
        /// The index.
        index: usize,
    },
    /// θ has the wrong length.
    #[error("the fixed effects have {expected} coordinate(s), given {found}")]
    FixedDimension {
        /// The number of fixed effects.
        expected: usize,
        /// The length given.
        found: usize,
    },
    /// The inner optimisation over the random effects failed.
    #[error("finding the mode of the random effects at fixed effects {theta:?} failed: {source}")]
    Inner {
        /// The fixed effects.
        theta: Vec<f64>,
        /// What went wrong.
        source: Box<LaplaceError>,
    },
    /// At the inner mode the Hessian over the random effects is not
    /// negative definite, so there is no Laplace approximation of the
    /// integral over them.
    #[error(
        "the Hessian of the log density over the random effects is not negative definite at their mode for \
         fixed effects {theta:?}: the precision has eigenvalue {eigenvalue:e} along direction {direction:?}"
    )]
    InnerNotNegativeDefinite {
        /// The fixed effects.
        theta: Vec<f64>,
        /// The smallest eigenvalue of `−∇²ᵤf`.
        eigenvalue: f64,
        /// Its unit eigenvector (over the random effects, in their order).
        direction: Vec<f64>,
    },
    /// The Hessian of the log marginal at the fixed effects' optimum is not
    /// negative definite (TMB's `pdHess` is false): no standard errors.
    #[error(
        "the Hessian of the log marginal is not negative definite at the fixed effects {theta:?}: the \
         precision has eigenvalue {eigenvalue:e} along direction {direction:?}"
    )]
    MarginalNotNegativeDefinite {
        /// The fixed effects where the Hessian was taken.
        theta: Vec<f64>,
        /// The smallest eigenvalue of `−∇²L`.
        eigenvalue: f64,
        /// Its unit eigenvector (over the fixed effects, in their order).
        direction: Vec<f64>,
    },
}

/// The work of the inner optimisations so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InnerStats {
    /// Newton iterations over the random effects, summed over all inner
    /// solves.
    pub iterations: usize,
    /// Inner solves (one per evaluation of the marginal).
    pub solves: usize,
    /// Evaluations of the full log density with its gradient and Hessian.
    pub evaluations: usize,
    /// Evaluations of the derivative of the log determinant.
    pub trace_gradients: usize,
}

/// A log density with random effects, and its Laplace-approximated log
/// marginal over the fixed effects.
///
/// The function's first parameter is the parameter vector `x` (`f64[d]` or
/// `f32[d]`), its others are data, its first result the log density. The
/// coordinates `random` of `x` are random effects, the rest, in ascending
/// order, the fixed effects θ. As a [`LogDensity`] it is the log marginal
/// `L(θ)` over the `p` fixed effects (its Hessian by central differences of
/// the exact gradient), so any optimiser of this crate fits it;
/// [`RandomEffects::fit`] does that and adds the random effects' summary.
///
/// Every evaluation finds the inner mode by damped Newton, started from
/// the inner mode of the previous evaluation (and, if that fails, from the
/// start given by [`RandomEffects::set_start`]).
///
/// ```
/// use saddle_ir::{TensorType, trace};
/// use saddle_laplace::RandomEffects;
/// // x = (μ, u): u ~ N(μ, 1), y = 2 ~ N(u, 1). Integrating u out gives
/// // y ~ N(μ, 2), so L(μ) = log N(2; μ, 2), exactly (Gaussian in u).
/// let ln_2pi = (2.0 * std::f64::consts::PI).ln();
/// let f = trace("f", &[TensorType::f64([2])], |x| {
///     let (mu, u) = (x[0].slice(&[0], &[1]), x[0].slice(&[1], &[2]));
///     vec![(-0.5 * (u - mu) * (u - mu) - 0.5 * (2.0 - u) * (2.0 - u) - ln_2pi).sum_all()]
/// })
/// .unwrap();
/// let mut re = RandomEffects::new(&f, vec![], &[1]).unwrap();
/// let mut grad = [0.0];
/// let l = re.log_marginal_grad(&[0.5], &mut grad).unwrap();
/// let exact = -0.5 * (2.0 - 0.5f64).powi(2) / 2.0 - 0.5 * (ln_2pi + 2f64.ln());
/// assert!((l - exact).abs() < 1e-12);
/// assert!((grad[0] - (2.0 - 0.5) / 2.0).abs() < 1e-12);
/// // The inner mode: the mean of u given y and μ.
/// assert!((re.inner_mode()[1] - 1.25).abs() < 1e-12);
/// ```
pub struct RandomEffects {
    dim: usize,
    dtype: DType,
    func: Func,
    data: Vec<Array>,
    fixed: Vec<usize>,
    random: Vec<usize>,
    density: IrDensity,
    /// How the full Hessian is held (chosen on the first evaluation).
    storage: Option<Storage>,
    /// With sparse storage, Newton's storage over the random block, its
    /// symbolic analysis done once (lent to each factor of the marginal).
    curvature: Option<Curvature>,
    trace: Option<TraceGrad>,
    /// The last evaluation: its `x` holds the last inner mode (the warm
    /// start of the next inner solve).
    full: Full,
    /// The random effects' start, for an inner solve whose warm start
    /// fails.
    start: Vec<f64>,
    inner_opts: Options,
    /// `W` on the random block: `d × d`, or on the lower pattern of
    /// `H_uu`.
    w: Vec<f64>,
    /// `∇ₓ tr(W ∇²f)`.
    a: Vec<f64>,
    /// Relative step of the central differences of the gradient.
    fd_step: f64,
    stats: InnerStats,
    /// Whether a failed inner solve inside [`LogDensity`] evaluations is a
    /// non-finite value (the optimiser steps back) rather than an error.
    soft_failures: bool,
    /// The last inner failure turned into a non-finite value.
    last_failure: Option<LaplaceError>,
}

impl RandomEffects {
    /// Checks `func` against `data` and the random-effect indices `random`
    /// (each below the parameter vector's length, none twice, in any
    /// order; at least one). Every other coordinate is a fixed effect; there
    /// may be none, and then the marginal is the plain Laplace
    /// approximation of the integral over all coordinates.
    ///
    /// The random effects start at 0 (see [`RandomEffects::set_start`]).
    /// Derivatives are built and compiled on first use.
    pub fn new(func: &Func, data: Vec<Array>, random: &[usize]) -> Result<RandomEffects, LaplaceError> {
        let density = IrDensity::new(func, data.clone())?;
        let d = density.dim();
        let dtype = func.param_types()[0].dtype;
        if random.is_empty() {
            return Err(RandomError::NoRandomEffects.into());
        }
        let mut is_random = vec![false; d];
        for &index in random {
            if index >= d {
                return Err(RandomError::IndexOutOfRange { index, dim: d }.into());
            }
            if is_random[index] {
                return Err(RandomError::Duplicate { index }.into());
            }
            is_random[index] = true;
        }
        let fixed: Vec<usize> = (0..d).filter(|&i| !is_random[i]).collect();
        let random: Vec<usize> = (0..d).filter(|&i| is_random[i]).collect();
        let inner_opts = Options { grad_tol: 1e-10, max_iter: 100, sparse_min_dim: 100, ..Options::default() };
        Ok(RandomEffects {
            dim: d,
            dtype,
            func: func.clone(),
            data,
            start: vec![0.0; random.len()],
            fixed,
            random,
            density,
            storage: None,
            curvature: None,
            trace: None,
            full: Full::new(d),
            inner_opts,
            w: Vec::new(),
            a: vec![0.0; d],
            fd_step: 1e-4,
            stats: InnerStats::default(),
            soft_failures: false,
            last_failure: None,
        })
    }

    /// The length `d` of the whole parameter vector.
    pub fn full_dim(&self) -> usize {
        self.dim
    }

    /// The indices of the fixed effects, ascending.
    pub fn fixed(&self) -> &[usize] {
        &self.fixed
    }

    /// The indices of the random effects, ascending.
    pub fn random(&self) -> &[usize] {
        &self.random
    }

    /// Sets where the inner Newton starts: the random coordinates of the
    /// full vector `x` (length `d`; the fixed coordinates are ignored).
    pub fn set_start(&mut self, x: &[f64]) -> Result<(), LaplaceError> {
        if x.len() != self.dim {
            return Err(LaplaceError::InitDimension { expected: self.dim, found: x.len() });
        }
        if let Some((index, &value)) = x.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(LaplaceError::NonFiniteStart { index, value });
        }
        for (k, &i) in self.random.iter().enumerate() {
            self.start[k] = x[i];
            self.full.x[i] = x[i];
        }
        self.full.fresh = false;
        Ok(())
    }

    /// The options of the inner Newton optimisation (default: gradient
    /// tolerance 1e-10, at most 100 iterations, and the Hessian held
    /// sparse from 100 coordinates when the random block of its detected
    /// pattern holds at most 5% of its entries; an inner solve that does
    /// not converge is an error).
    pub fn set_inner_options(&mut self, opts: Options) -> Result<(), LaplaceError> {
        opts.check()?;
        let rechoose = (opts.hessian, opts.sparse_min_dim, opts.sparse_max_density)
            != (self.inner_opts.hessian, self.inner_opts.sparse_min_dim, self.inner_opts.sparse_max_density);
        self.inner_opts = opts;
        if rechoose {
            self.storage = None;
            self.curvature = None;
            self.full.fresh = false;
        }
        Ok(())
    }

    /// How the inner Hessian is held: dense, sparse, or chosen from the
    /// detected pattern (see [`RandomEffects::set_inner_options`]).
    pub fn set_hessian_mode(&mut self, mode: HessianMode) {
        if mode != self.inner_opts.hessian {
            let opts = Options { hessian: mode, ..self.inner_opts.clone() };
            // Only the mode changed: the options stay valid.
            let _ = self.set_inner_options(opts);
        }
    }

    /// Whether the full Hessian is held sparse (known after the first
    /// evaluation of the marginal; `None` before).
    pub fn is_sparse(&self) -> Option<bool> {
        self.storage.as_ref().map(|s| matches!(s, Storage::Sparse(_)))
    }

    /// Chooses the Hessian's storage, refusing before anything large is
    /// allocated a model that fits in memory neither way.
    fn ensure_storage(&mut self) -> Result<(), LaplaceError> {
        if self.storage.is_none() {
            let storage = self.choose_storage()?;
            self.storage = Some(storage);
        }
        if let (Some(Storage::Sparse(split)), None) = (&self.storage, &self.curvature) {
            self.curvature = Some(sparse_curvature(split.structure().clone(), saddle_runtime::available_memory())?);
        }
        Ok(())
    }

    fn choose_storage(&mut self) -> Result<Storage, LaplaceError> {
        let d = self.dim;
        let available = saddle_runtime::available_memory();
        let opts = &self.inner_opts;
        let sparse = match opts.hessian {
            HessianMode::Dense => false,
            HessianMode::Sparse => true,
            HessianMode::Auto => d >= opts.sparse_min_dim,
        };
        if !sparse {
            check_dense_memory(d, available)?;
            return Ok(Storage::Dense);
        }
        let dense_fits = check_dense_memory(d, available);
        let split = match (Split::new(&self.func, &self.data, &self.fixed, &self.random), &dense_fits, opts.hessian) {
            (Ok(s), _, _) => s,
            (Err(e), _, HessianMode::Sparse) => return Err(e),
            (Err(_), Ok(()), _) => return Ok(Storage::Dense),
            (Err(sparse), Err(dense), _) => {
                return Err(LaplaceError::NoFeasibleHessian {
                    dim: d,
                    dense: dense.to_string(),
                    sparse: sparse.to_string(),
                });
            }
        };
        let q = self.random.len() as f64;
        let dense_block = split.structure().nnz_full() as f64 > self.inner_opts.sparse_max_density * q * q;
        Ok(if self.inner_opts.hessian == HessianMode::Auto && dense_block && dense_fits.is_ok() {
            Storage::Dense
        } else {
            Storage::Sparse(Box::new(split))
        })
    }

    /// The full vector at the last evaluation: θ at the fixed coordinates,
    /// the inner mode `û(θ)` at the random ones.
    pub fn inner_mode(&self) -> &[f64] {
        &self.full.x
    }

    /// The work of the inner optimisations so far.
    pub fn stats(&self) -> InnerStats {
        self.stats
    }

    /// The log marginal `L(θ)`.
    pub fn log_marginal(&mut self, theta: &[f64]) -> Result<f64, LaplaceError> {
        self.eval(theta, None)
    }

    /// The log marginal `L(θ)`, writing its exact gradient into `grad`.
    pub fn log_marginal_grad(&mut self, theta: &[f64], grad: &mut [f64]) -> Result<f64, LaplaceError> {
        if grad.len() != self.fixed.len() {
            return Err(RandomError::FixedDimension { expected: self.fixed.len(), found: grad.len() }.into());
        }
        self.eval(theta, Some(grad))
    }

    /// Finds `û(θ)` and factors the inner precision there; `self.full` then
    /// holds `f`, `∇f` and `∇²f` at `(θ, û)`.
    fn inner(&mut self, theta: &[f64]) -> Result<InnerFactor, LaplaceError> {
        if theta.len() != self.fixed.len() {
            return Err(RandomError::FixedDimension { expected: self.fixed.len(), found: theta.len() }.into());
        }
        self.ensure_storage()?;
        for (&i, &t) in self.fixed.iter().zip(theta) {
            self.full.x[i] = t;
        }
        let warm: Vec<f64> = self.random.iter().map(|&i| self.full.x[i]).collect();
        let mut result = self.solve_inner(&warm);
        if result.is_err() && warm != self.start {
            let start = self.start.clone();
            result = self.solve_inner(&start);
        }
        let u = result.map_err(|e| RandomError::Inner { theta: theta.to_vec(), source: Box::new(e) })?;
        for (&i, &v) in self.random.iter().zip(&u) {
            self.full.x[i] = v;
        }
        let storage = self.storage.as_mut().expect("chosen above");
        if !self.full.fresh {
            self.full.evaluate(&mut self.density, storage)?;
            self.stats.evaluations += 1;
        }
        InnerFactor::new(&self.full, storage, &self.random, &mut self.curvature).map_err(
            |NotPositive { eigenvalue, direction }| {
                RandomError::InnerNotNegativeDefinite { theta: theta.to_vec(), eigenvalue, direction }.into()
            },
        )
    }

    /// Takes back the sparse storage lent to a factor.
    fn recycle(&mut self, factor: InnerFactor) {
        if let Some(curvature) = factor.into_curvature() {
            self.curvature = Some(curvature);
        }
    }

    /// Damped Newton over the random effects from `u0`; the mode.
    fn solve_inner(&mut self, u0: &[f64]) -> Result<Vec<f64>, LaplaceError> {
        self.stats.solves += 1;
        let storage = self.storage.as_mut().expect("chosen before any solve");
        let mut cond = Conditional { density: &mut self.density, random: &self.random, full: &mut self.full, storage };
        let mut counted = Counted::new(&mut cond);
        let mut dense;
        let curvature = match &mut self.curvature {
            Some(sparse) => sparse,
            None => {
                dense = Curvature::dense(u0.len());
                &mut dense
            }
        };
        let opt = newton(&mut counted, u0, &self.inner_opts, curvature);
        self.stats.evaluations += counted.counts.hess;
        let opt = opt?;
        self.stats.iterations += opt.iterations;
        // Newton's last evaluation is at its end point unless it ended
        // where it started; `fresh` says whether `full` holds it.
        let at_end = self.random.iter().zip(&opt.x).all(|(&i, &v)| self.full.x[i] == v);
        self.full.fresh &= at_end;
        Ok(opt.x)
    }

    fn eval(&mut self, theta: &[f64], grad: Option<&mut [f64]>) -> Result<f64, LaplaceError> {
        let factor = self.inner(theta)?;
        let result = self.marginal(&factor, grad);
        self.recycle(factor);
        result
    }

    /// `L(θ)` and, if asked for, `∇L(θ)`, from the inner mode in
    /// `self.full` and the factor of the inner precision there.
    fn marginal(&mut self, factor: &InnerFactor, grad: Option<&mut [f64]>) -> Result<f64, LaplaceError> {
        let q = self.random.len();
        let value = self.full.value + 0.5 * q as f64 * LN_2PI - 0.5 * factor.log_det()?;
        let Some(grad) = grad else {
            return Ok(value);
        };
        self.log_det_gradient(factor)?;
        // z = P⁻¹ a_u, so that (Jᵀ a_u)ₖ = zᵀ H_u,θₖ.
        let mut z: Vec<f64> = self.random.iter().map(|&i| self.a[i]).collect();
        factor.solve(&mut z)?;
        let (grad_theta, jta) = self.fixed_gradient_and_cross(&z)?;
        for (k, g) in grad.iter_mut().enumerate() {
            *g = grad_theta[k] - 0.5 * (self.a[self.fixed[k]] + jta[k]);
        }
        Ok(value)
    }

    /// `∂f/∂θ` and `H_θu z` at the inner mode in `self.full`: from the dense
    /// Hessian there, or, sparse, by one Hessian-vector product of `f`.
    fn fixed_gradient_and_cross(&mut self, z: &[f64]) -> Result<(Vec<f64>, Vec<f64>), LaplaceError> {
        let p = self.fixed.len();
        match self.storage.as_mut().expect("chosen by the inner solve") {
            Storage::Dense => {
                let mut jta = vec![0.0; p];
                for (k, t) in jta.iter_mut().enumerate() {
                    self.full.dense_cross(&self.random, &self.fixed, k, |a, h| *t += z[a] * h);
                }
                Ok((self.fixed.iter().map(|&i| self.full.grad[i]).collect(), jta))
            }
            Storage::Sparse(split) => {
                let mut w = vec![0.0; self.dim];
                self.random.iter().zip(z).for_each(|(&i, &v)| w[i] = v);
                let (mut g, mut hw) = (vec![0.0; self.dim], vec![0.0; self.dim]);
                split.mixed(&self.full.x, &w, &mut g, &mut hw)?;
                Ok((self.fixed.iter().map(|&i| g[i]).collect(), self.fixed.iter().map(|&i| hw[i]).collect()))
            }
        }
    }

    /// The column `H_u,θₖ` at the inner mode in `self.full` into `col`
    /// (over the random effects).
    fn cross_column(&mut self, k: usize, col: &mut [f64]) -> Result<(), LaplaceError> {
        match self.storage.as_mut().expect("chosen by the inner solve") {
            Storage::Dense => {
                self.full.dense_cross(&self.random, &self.fixed, k, |a, h| col[a] = h);
                Ok(())
            }
            Storage::Sparse(split) => {
                let mut w = vec![0.0; self.dim];
                w[self.fixed[k]] = 1.0;
                let (mut g, mut hw) = (vec![0.0; self.dim], vec![0.0; self.dim]);
                split.mixed(&self.full.x, &w, &mut g, &mut hw)?;
                self.random.iter().zip(col.iter_mut()).for_each(|(&i, c)| *c = hw[i]);
                Ok(())
            }
        }
    }

    /// `a = ∇ₓ tr(W ∇²f)` with `W = H_uu⁻¹ = −P⁻¹` on the random block:
    /// the derivative of `log det(−H_uu)` in every coordinate. Dense
    /// storage needs all of `P⁻¹`; sparse storage its selected inverse.
    fn log_det_gradient(&mut self, factor: &InnerFactor) -> Result<(), LaplaceError> {
        let (d, q) = (self.dim, self.random.len());
        match self.storage.as_mut().expect("chosen by the inner solve") {
            Storage::Dense => {
                if self.trace.is_none() {
                    self.trace = Some(TraceGrad::new(&self.func, &self.data, d, self.dtype)?);
                }
                let inv = factor.dense_inverse().ok_or_else(|| {
                    LaplaceError::Eval("a dense inner Hessian needs a dense factor of the precision".into())
                })?;
                self.w.clear();
                self.w.resize(d * d, 0.0);
                for (a, &i) in self.random.iter().enumerate() {
                    for (b, &j) in self.random.iter().enumerate() {
                        self.w[i * d + j] = -inv[a * q + b];
                    }
                }
                let trace = self.trace.as_mut().expect("built above");
                trace.run(&self.full.x, &self.w, &mut self.a)?;
            }
            Storage::Sparse(split) => {
                let selected = factor.selected_inverse()?;
                self.w.clear();
                self.w.extend(selected.iter().map(|v| -v));
                split.trace_grad(&self.full.x, &self.w, &mut self.a)?;
            }
        }
        self.stats.trace_gradients += 1;
        Ok(())
    }

    /// [`RandomEffects::eval`] for the optimiser: with soft failures on, an
    /// inner failure is a NaN value (remembered), so that the optimiser
    /// steps back from where the inner problem has no mode.
    fn eval_soft(&mut self, theta: &[f64], grad: Option<&mut [f64]>) -> Result<f64, LaplaceError> {
        let has_grad = grad.is_some();
        let mut grad = grad;
        match self.eval(theta, grad.as_deref_mut()) {
            Err(e @ LaplaceError::Random(RandomError::Inner { .. } | RandomError::InnerNotNegativeDefinite { .. }))
                if self.soft_failures =>
            {
                self.last_failure = Some(e);
                if let (true, Some(g)) = (has_grad, grad) {
                    g.iter_mut().for_each(|v| *v = f64::NAN);
                }
                // The failed solve may have left the random effects
                // anywhere: restart the next one from the start.
                for (k, &i) in self.random.iter().enumerate() {
                    self.full.x[i] = self.start[k];
                }
                self.full.fresh = false;
                Ok(f64::NAN)
            }
            other => other,
        }
    }
}

impl LogDensity for RandomEffects {
    fn dim(&self) -> usize {
        self.fixed.len()
    }

    fn value(&mut self, theta: &[f64]) -> Result<f64, LaplaceError> {
        self.eval_soft(theta, None)
    }

    fn value_grad(&mut self, theta: &[f64], grad: &mut [f64]) -> Result<f64, LaplaceError> {
        self.eval_soft(theta, Some(grad))
    }

    /// The Hessian by central differences of the exact gradient, with
    /// steps `h = 1e-4·(1 + |θₖ|)`: the error of a central difference is
    /// about `h²·|∇⁴L|/6` from truncation plus `ε/h` from the gradient's
    /// own error `ε` (rounding and the inner tolerance, about 1e-12
    /// relative), balanced near `h = ε^⅓ ≈ 1e-4`, where both are about
    /// 1e-8 relative. The result is symmetrised.
    fn value_grad_hess(&mut self, theta: &[f64], grad: &mut [f64], hess: &mut [f64]) -> Result<f64, LaplaceError> {
        let p = self.fixed.len();
        let value = self.eval_soft(theta, Some(grad))?;
        if !value.is_finite() {
            hess.iter_mut().for_each(|v| *v = f64::NAN);
            return Ok(value);
        }
        let center = self.full.x.clone();
        let mut t = theta.to_vec();
        let (mut gp, mut gm) = (vec![0.0; p], vec![0.0; p]);
        for k in 0..p {
            let h = self.fd_step * (1.0 + theta[k].abs());
            // Steps that are exact in floating point.
            let (up, down) = (theta[k] + h, theta[k] - h);
            t[k] = up;
            self.full.x.copy_from_slice(&center);
            self.eval_soft(&t, Some(&mut gp))?;
            t[k] = down;
            self.full.x.copy_from_slice(&center);
            self.eval_soft(&t, Some(&mut gm))?;
            t[k] = theta[k];
            for j in 0..p {
                hess[j * p + k] = (gp[j] - gm[j]) / (up - down);
            }
        }
        for i in 0..p {
            for j in 0..i {
                let s = 0.5 * (hess[i * p + j] + hess[j * p + i]);
                hess[i * p + j] = s;
                hess[j * p + i] = s;
            }
        }
        // Leave the state at θ, as after any other evaluation.
        self.full.x.copy_from_slice(&center);
        self.full.fresh = false;
        Ok(value)
    }

    fn data_size(&self) -> usize {
        self.density.data_size()
    }
}
