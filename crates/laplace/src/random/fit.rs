//! The fit of a random-effects model: the fixed effects by Laplace on the
//! log marginal, then the random effects' summary at θ̂ (TMB's
//! `sdreport`).

use std::time::Instant;

use ndarray::{Array1, Array2};
use saddle_ir::{Array, Func};

use super::inner::InnerFactor;
use super::{InnerStats, RandomEffects, RandomError};
use crate::{Constraint, Derived, Evaluations, LaplaceError, Method, Options, Target, Timings};

/// The fit of a random-effects model by [`laplace_random`] or
/// [`RandomEffects::fit`].
///
/// Vectors of length `d` (`mode`, `std`) are over the whole parameter
/// vector; matrices over the fixed effects are `p × p` in the order of
/// `fixed`.
#[derive(Clone, Debug)]
pub struct RandomFit {
    /// The indices of the fixed effects, ascending (`p` of them).
    pub fixed: Vec<usize>,
    /// The indices of the random effects, ascending (`q` of them).
    pub random: Vec<usize>,
    /// θ̂ at the fixed coordinates, `û(θ̂)` at the random ones.
    pub mode: Array1<f64>,
    /// For fixed effects the square roots of `covariance`'s diagonal; for
    /// random effects those of `diag((−∇²ᵤf)⁻¹ + J V Jᵀ)` (TMB's joint
    /// standard errors), `J = dû/dθ`, `V = covariance`.
    pub std: Array1<f64>,
    /// `V = (−∇²L(θ̂))⁻¹`, `p × p`.
    pub covariance: Array2<f64>,
    /// `−∇²L(θ̂)`, `p × p` (central differences of the exact gradient), in
    /// the outer optimiser's coordinates (the unconstrained ones after
    /// [`RandomEffects::fit_constrained`]).
    pub precision: Array2<f64>,
    /// `J = dû/dθ` at θ̂, `q × p`.
    pub jacobian: Array2<f64>,
    /// The diagonal of `(−∇²ᵤf)⁻¹` at `(θ̂, û)`: the conditional variances of
    /// the random effects given θ̂.
    pub conditional_variance: Array1<f64>,
    /// `L(θ̂) = f(θ̂, û) + (q/2)·log 2π − ½·log det(−∇²ᵤf(θ̂, û))`.
    pub log_marginal: f64,
    /// `f(mode)`.
    pub log_density_at_mode: f64,
    /// Laplace's approximation over θ of the marginal:
    /// `L(θ̂) + (p/2)·log 2π − ½·log det(−∇²L(θ̂))`.
    pub log_evidence: f64,
    /// `∇L(θ̂)` (exact).
    pub gradient: Array1<f64>,
    /// `‖∇L(θ̂)‖∞`.
    pub grad_norm: f64,
    /// Iterations of the outer optimisation.
    pub iterations: usize,
    /// Whether the outer optimisation passed its convergence test.
    pub converged: bool,
    /// The outer optimiser.
    pub method: Method,
    /// Evaluations of the marginal by the outer optimiser (each Hessian is
    /// `2p` gradients more).
    pub evaluations: Evaluations,
    /// The inner optimisations' work, over the whole fit.
    pub inner: InnerStats,
    /// Whether the full Hessian was held sparse, on its detected pattern
    /// (see [`RandomEffects::set_inner_options`]).
    pub sparse: bool,
    /// Wall-clock times of the outer fit (`total` covers the whole fit).
    pub timings: Timings,
}

impl RandomFit {
    /// The number of fixed effects.
    pub fn num_fixed(&self) -> usize {
        self.fixed.len()
    }

    /// The number of random effects.
    pub fn num_random(&self) -> usize {
        self.random.len()
    }
}

/// Fits a random-effects model: `func` is a log density over its first
/// parameter (the other parameters are `data`), `random` the indices of
/// the random effects, `init` a full starting vector (θ₀ at the fixed
/// coordinates, the inner Newton's start at the random ones). See
/// [`RandomEffects`] for the approximation and [`RandomEffects::fit`].
///
/// ```
/// use saddle_ir::{TensorType, trace};
/// use saddle_laplace::{Options, laplace_random};
/// // x = (μ, u): u ~ N(μ, 1), y = 2 ~ N(u, 1); the marginal y ~ N(μ, 2)
/// // has its maximum at μ = 2 with curvature 1/2.
/// let f = trace("f", &[TensorType::f64([2])], |x| {
///     let (mu, u) = (x[0].slice(&[0], &[1]), x[0].slice(&[1], &[2]));
///     vec![(-0.5 * (u - mu) * (u - mu) - 0.5 * (2.0 - u) * (2.0 - u)).sum_all()]
/// })
/// .unwrap();
/// let fit = laplace_random(&f, vec![], &[1], &[0.0, 0.0], &Options::default()).unwrap();
/// assert!((fit.mode[0] - 2.0).abs() < 1e-8 && (fit.mode[1] - 2.0).abs() < 1e-8);
/// assert!((fit.covariance[[0, 0]] - 2.0).abs() < 1e-6);
/// // u's joint variance: ½ given μ, plus (dû/dμ)²·Var(μ) = ¼·2.
/// assert!((fit.std[1] - 1.0).abs() < 1e-6);
/// ```
pub fn laplace_random(
    func: &Func,
    data: Vec<Array>,
    random: &[usize],
    init: &[f64],
    opts: &Options,
) -> Result<RandomFit, LaplaceError> {
    RandomEffects::new(func, data, random)?.fit(init, opts)
}

impl RandomEffects {
    /// Fits the fixed effects by [`crate::laplace`] on the log marginal from
    /// the fixed coordinates of `init` (a full vector; its random
    /// coordinates start the inner Newton), then summarises at θ̂.
    ///
    /// A Hessian of the log marginal that is not negative definite at θ̂ is
    /// [`RandomError::MarginalNotNegativeDefinite`] (never regularised,
    /// whatever `opts.jitter` says). An inner solve that fails during the
    /// optimisation makes the optimiser step back; one that fails at the
    /// start is the error.
    pub fn fit(&mut self, init: &[f64], opts: &Options) -> Result<RandomFit, LaplaceError> {
        self.fit_with(init, None, opts)
    }

    /// [`RandomEffects::fit`] with the fixed effects constrained:
    /// `constraints` has one entry per fixed effect (in the order of
    /// [`RandomEffects::fixed`]), `init` is in the constrained space, and
    /// the outer fit is [`crate::laplace_constrained`] on the log marginal
    /// with `target`. θ̂ in the fit is the constrained mode, `covariance`
    /// the constrained covariance (the delta method through the
    /// constraint's map, [`crate::Laplace::constrained_covariance`]), and
    /// `precision` is in the optimiser's (unconstrained) coordinates.
    ///
    /// ```
    /// use saddle_ir::{TensorType, trace};
    /// use saddle_laplace::{Constraint, Options, RandomEffects, Target};
    /// // x = (μ, u): u ~ N(μ, 1), y = 2 ~ N(u, 1), μ > 0; y ~ N(μ, 2).
    /// let f = trace("f", &[TensorType::f64([2])], |x| {
    ///     let (mu, u) = (x[0].slice(&[0], &[1]), x[0].slice(&[1], &[2]));
    ///     vec![(-0.5 * (u - mu) * (u - mu) - 0.5 * (2.0 - u) * (2.0 - u)).sum_all()]
    /// })
    /// .unwrap();
    /// let mut re = RandomEffects::new(&f, vec![], &[1]).unwrap();
    /// let positive = [Constraint::Positive];
    /// let fit = re.fit_constrained(&[1.0, 0.0], &positive, Target::ConstrainedMode, &Options::default()).unwrap();
    /// assert!((fit.mode[0] - 2.0).abs() < 1e-8 && (fit.covariance[[0, 0]] - 2.0).abs() < 1e-6);
    /// ```
    pub fn fit_constrained(
        &mut self,
        init: &[f64],
        constraints: &[Constraint],
        target: Target,
        opts: &Options,
    ) -> Result<RandomFit, LaplaceError> {
        if constraints.len() != self.fixed.len() {
            return Err(RandomError::FixedDimension { expected: self.fixed.len(), found: constraints.len() }.into());
        }
        self.fit_with(init, Some((constraints, target)), opts)
    }

    fn fit_with(
        &mut self,
        init: &[f64],
        constrained: Option<(&[Constraint], Target)>,
        opts: &Options,
    ) -> Result<RandomFit, LaplaceError> {
        let start = Instant::now();
        self.set_start(init)?;
        let theta0: Vec<f64> = self.fixed.iter().map(|&i| init[i]).collect();
        let p = self.fixed.len();
        self.stats = InnerStats::default();
        // The fixed effects are few: their covariance is always formed, densely.
        self.set_hessian_mode(opts.hessian);
        // Each Hessian of the marginal is 2p gradients (inner solves): BFGS
        // from one exact Hessian, and Newton's test on another at the end.
        let method = if opts.method == Method::Auto { Method::Bfgs } else { opts.method };
        let opts =
            Options { method, jitter: None, full_covariance: true, hessian: crate::HessianMode::Dense, ..opts.clone() };
        let outer = if p == 0 {
            None
        } else {
            self.soft_failures = true;
            self.last_failure = None;
            let r = match constrained {
                Some((constraints, target)) => {
                    crate::laplace_constrained(&mut *self, &theta0, constraints, target, &opts)
                }
                None => crate::laplace(&mut *self, &theta0, &opts),
            };
            self.soft_failures = false;
            Some(r.map_err(|e| self.explain(e))?)
        };
        let theta: Vec<f64> = outer.as_ref().map(|o| o.constrained_mode.to_vec()).unwrap_or_default();
        let t_summary = Instant::now();
        let mut gradient = vec![0.0; p];
        // One inner solve at θ̂ serves the marginal and the summary.
        let factor = self.inner(&theta)?;
        let summary = self
            .marginal(&factor, Some(&mut gradient))
            .and_then(|log_marginal| Ok((log_marginal, self.summary(&factor)?)));
        self.recycle(factor);
        let (log_marginal, (jacobian, conditional_variance)) = summary?;
        let d = self.dim;
        let (covariance, precision) = match &outer {
            Some(o) => {
                let covariance = o.constrained_covariance.clone().or_else(|| o.covariance.clone());
                (covariance.unwrap_or_else(|| Array2::from_elem((p, p), f64::NAN)), o.precision.to_dense())
            }
            None => (Array2::zeros((0, 0)), Array2::zeros((0, 0))),
        };
        let jv = jacobian.dot(&covariance);
        let mut std = Array1::zeros(d);
        for (k, &i) in self.fixed.iter().enumerate() {
            std[i] = covariance[[k, k]].max(0.0).sqrt();
        }
        for (a, &i) in self.random.iter().enumerate() {
            let delta: f64 = (0..p).map(|k| jv[[a, k]] * jacobian[[a, k]]).sum();
            std[i] = (conditional_variance[a] + delta).max(0.0).sqrt();
        }
        let log_evidence = match &outer {
            // L(θ̂) again, at the mode reported, with the optimiser's
            // curvature (and log-Jacobian).
            Some(o) => o.log_evidence - o.constrained_log_density_at_mode + log_marginal,
            None => log_marginal,
        };
        let mut timings = outer.as_ref().map(|o| o.timings).unwrap_or_default();
        timings.factor += t_summary.elapsed();
        timings.total = start.elapsed();
        let grad_norm = gradient.iter().fold(0.0_f64, |m, g| m.max(g.abs()));
        Ok(RandomFit {
            fixed: self.fixed.clone(),
            random: self.random.clone(),
            mode: Array1::from(self.full.x.clone()),
            std,
            covariance,
            precision,
            jacobian,
            conditional_variance,
            log_marginal,
            log_density_at_mode: self.full.value,
            log_evidence,
            gradient: Array1::from(gradient),
            grad_norm,
            iterations: outer.as_ref().map_or(0, |o| o.iterations),
            converged: outer.as_ref().is_none_or(|o| o.converged),
            method: outer.as_ref().map_or(Method::Newton, |o| o.method),
            evaluations: outer.as_ref().map(|o| o.evaluations).unwrap_or_default(),
            inner: self.stats,
            sparse: self.is_sparse() == Some(true),
            timings,
        })
    }

    /// Delta-method standard errors of derived quantities `g(θ, u)` at a
    /// fit of this model (TMB's `ADREPORT`): `g`'s first parameter is the
    /// full parameter vector (`d`), its others `data`, its first result a
    /// float scalar or vector of `k` quantities.
    ///
    /// With `G = ∂g/∂x` at the fit's mode split into its fixed and random
    /// columns, the covariance is the one TMB reports from the joint
    /// covariance of `(θ̂, û)`:
    /// `(G_θ + G_u J) V (G_θ + G_u J)ᵀ + G_u P⁻¹ G_uᵀ`, with `J = dû/dθ`,
    /// `V` the fixed effects' covariance and `P = −∇²ᵤf`, by one solve per
    /// quantity with the inner factor (never `P⁻¹` itself).
    ///
    /// ```
    /// use saddle_ir::{TensorType, trace};
    /// use saddle_laplace::{Options, RandomEffects};
    /// // u ~ N(μ, 1), y = 2 ~ N(u, 1): Var(μ̂) = 2, Var(u | μ) = ½, dû/dμ = ½.
    /// let f = trace("f", &[TensorType::f64([2])], |x| {
    ///     let (mu, u) = (x[0].slice(&[0], &[1]), x[0].slice(&[1], &[2]));
    ///     vec![(-0.5 * (u - mu) * (u - mu) - 0.5 * (2.0 - u) * (2.0 - u)).sum_all()]
    /// })
    /// .unwrap();
    /// let mut re = RandomEffects::new(&f, vec![], &[1]).unwrap();
    /// let fit = re.fit(&[0.0, 0.0], &Options::default()).unwrap();
    /// // g = u − μ: G_θ + G_u J = −1 + ½, so Var = ¼·2 + ½ = 1.
    /// let g = trace("g", &[TensorType::f64([2])], |x| {
    ///     vec![(x[0].slice(&[1], &[2]) - x[0].slice(&[0], &[1])).sum_all()]
    /// })
    /// .unwrap();
    /// let r = re.sdreport(&fit, &g, &[]).unwrap();
    /// assert!(r.value[0].abs() < 1e-8 && (r.std[0] - 1.0).abs() < 1e-6);
    /// ```
    pub fn sdreport(&mut self, fit: &RandomFit, g: &Func, data: &[Array]) -> Result<Derived, LaplaceError> {
        if fit.fixed != self.fixed || fit.random != self.random || fit.mode.len() != self.dim {
            return Err(LaplaceError::Signature {
                message: "the fit is not of this model: its fixed and random effects differ".into(),
                loc: None,
            });
        }
        let x = fit.mode.as_slice().expect("contiguous");
        let (value, jac) = crate::ir::value_and_jacobian(g, x, data)?;
        let theta: Vec<f64> = self.fixed.iter().map(|&i| x[i]).collect();
        for &i in &self.random {
            self.full.x[i] = x[i];
        }
        let factor = self.inner(&theta)?;
        let conditional = self.conditional_part(&factor, &jac);
        self.recycle(factor);
        let conditional = conditional?;
        let (k, p) = (value.len(), self.fixed.len());
        let mut total = Array2::zeros((k, p));
        for r in 0..k {
            for c in 0..p {
                let through_u: f64 =
                    self.random.iter().enumerate().map(|(a, &i)| jac[[r, i]] * fit.jacobian[[a, c]]).sum();
                total[[r, c]] = jac[[r, self.fixed[c]]] + through_u;
            }
        }
        Ok(Derived::new(value, total.dot(&fit.covariance).dot(&total.t()) + conditional))
    }

    /// `G_u P⁻¹ G_uᵀ` (`k × k`) for the Jacobian `G` (`k × d`).
    fn conditional_part(&self, factor: &InnerFactor, jac: &Array2<f64>) -> Result<Array2<f64>, LaplaceError> {
        let k = jac.nrows();
        let mut solved = Vec::with_capacity(k);
        for r in 0..k {
            let mut col: Vec<f64> = self.random.iter().map(|&i| jac[[r, i]]).collect();
            factor.solve(&mut col)?;
            solved.push(col);
        }
        Ok(Array2::from_shape_fn((k, k), |(r, s)| {
            self.random.iter().zip(&solved[s]).map(|(&i, &v)| jac[[r, i]] * v).sum()
        }))
    }

    /// `J = dû/dθ = P⁻¹ H_uθ` (`q × p`) and the diagonal of `P⁻¹` at the
    /// inner mode in `self.full`.
    fn summary(&mut self, factor: &InnerFactor) -> Result<(Array2<f64>, Array1<f64>), LaplaceError> {
        let (p, q) = (self.fixed.len(), self.random.len());
        let mut jacobian = Array2::zeros((q, p));
        let mut col = vec![0.0; q];
        for k in 0..p {
            col.iter_mut().for_each(|v| *v = 0.0);
            self.cross_column(k, &mut col)?;
            factor.solve(&mut col)?;
            jacobian.column_mut(k).iter_mut().zip(&col).for_each(|(j, &c)| *j = c);
        }
        Ok((jacobian, Array1::from(factor.inverse_diagonal()?)))
    }

    /// An error of the outer fit, told in terms of the model.
    fn explain(&mut self, e: LaplaceError) -> LaplaceError {
        match e {
            LaplaceError::NonFiniteDensity { .. } | LaplaceError::NonFiniteGradient { .. } => {
                self.last_failure.take().unwrap_or(e)
            }
            LaplaceError::NotNegativeDefinite { eigenvalue, direction, mode } => {
                RandomError::MarginalNotNegativeDefinite { theta: mode, eigenvalue, direction }.into()
            }
            other => other,
        }
    }
}
