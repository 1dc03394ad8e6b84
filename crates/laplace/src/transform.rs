//! Constrained parameters: per-coordinate maps from ℝ onto the support,
//! with their log-Jacobians.

use crate::LaplaceError;
use crate::SparseStructure;
use crate::density::LogDensity;

/// The support of one coordinate of the parameter, and how it is mapped
/// from an unconstrained real `u`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Constraint {
    /// Any real number; `θ = u`.
    Real,
    /// `θ > 0`, through the log: `θ = exp(u)`.
    Positive,
    /// `lower < θ < upper`, through the logit:
    /// `θ = lower + (upper - lower) · logistic(u)`.
    Interval {
        /// The lower bound.
        lower: f64,
        /// The upper bound.
        upper: f64,
    },
}

/// What the mode is the mode of, when coordinates are constrained. There is
/// no default: the two answer different questions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The approximation of the density of the unconstrained parameter
    /// `u`, `f(T(u)) + log |det T'(u)|` (the log-Jacobian added): the usual
    /// choice for a posterior, and what the draws mapped through `T` follow.
    UnconstrainedPosterior,
    /// The mode of `f` itself in the constrained space (the MAP of a
    /// posterior, or the maximum-likelihood estimate when `f` is a
    /// likelihood), found without the log-Jacobian; the curvature there is
    /// that of `f` in the constrained space.
    ConstrainedMode,
}

impl Constraint {
    pub(crate) fn check(&self, index: usize) -> Result<(), LaplaceError> {
        if let Constraint::Interval { lower, upper } = *self {
            if !(lower.is_finite() && upper.is_finite() && lower < upper) {
                return Err(LaplaceError::Constraint {
                    index,
                    message: format!("the interval ({lower}, {upper}) needs finite bounds with lower < upper"),
                });
            }
        }
        Ok(())
    }

    /// `θ = T(u)`.
    pub fn to_constrained(&self, u: f64) -> f64 {
        match *self {
            Constraint::Real => u,
            Constraint::Positive => u.exp(),
            Constraint::Interval { lower, upper } => lower + (upper - lower) * logistic(u),
        }
    }

    /// `u = T⁻¹(θ)`, or an error naming `index` when `θ` is outside the
    /// support.
    pub fn to_unconstrained(&self, theta: f64, index: usize) -> Result<f64, LaplaceError> {
        let outside = |what: String| LaplaceError::Constraint { index, message: what };
        match *self {
            Constraint::Real if theta.is_finite() => Ok(theta),
            Constraint::Real => Err(outside(format!("the starting value {theta} is not finite"))),
            Constraint::Positive if theta > 0.0 && theta.is_finite() => Ok(theta.ln()),
            Constraint::Positive => Err(outside(format!("the starting value {theta} is not positive"))),
            Constraint::Interval { lower, upper } if theta > lower && theta < upper => {
                let s = (theta - lower) / (upper - lower);
                Ok(s.ln() - (-s).ln_1p())
            }
            Constraint::Interval { lower, upper } => {
                Err(outside(format!("the starting value {theta} is outside the interval ({lower}, {upper})")))
            }
        }
    }

    /// `(T'(u), T''(u), ℓ(u), ℓ'(u), ℓ''(u))` with `ℓ = log T'`.
    pub(crate) fn derivatives(&self, u: f64) -> [f64; 5] {
        match *self {
            Constraint::Real => [1.0, 0.0, 0.0, 0.0, 0.0],
            Constraint::Positive => {
                let e = u.exp();
                [e, e, u, 1.0, 0.0]
            }
            Constraint::Interval { lower, upper } => {
                let w = upper - lower;
                let s = logistic(u);
                let sc = logistic(-u);
                let t1 = w * s * sc;
                let log_s = -softplus(-u);
                let log_sc = -softplus(u);
                [t1, t1 * (sc - s), w.ln() + log_s + log_sc, sc - s, -2.0 * s * sc]
            }
        }
    }
}

fn logistic(u: f64) -> f64 {
    if u >= 0.0 {
        1.0 / (1.0 + (-u).exp())
    } else {
        let e = u.exp();
        e / (1.0 + e)
    }
}

fn softplus(u: f64) -> f64 {
    u.max(0.0) + (-u.abs()).exp().ln_1p()
}

/// A density over the constrained `θ` seen as a density over `u`.
pub(crate) struct Transformed<'a, D: LogDensity + ?Sized> {
    pub(crate) inner: &'a mut D,
    pub(crate) constraints: &'a [Constraint],
    pub(crate) jacobian: bool,
    /// Every constraint is `Real`: `θ = u`, and the derivatives pass
    /// through unchanged.
    identity: bool,
    theta: Vec<f64>,
    gt: Vec<f64>,
    /// The constraints' derivatives at the last point (reused).
    der: Vec<[f64; 5]>,
}

impl<'a, D: LogDensity + ?Sized> Transformed<'a, D> {
    pub(crate) fn new(inner: &'a mut D, constraints: &'a [Constraint], jacobian: bool) -> Self {
        let d = constraints.len();
        let identity = constraints.iter().all(|c| matches!(c, Constraint::Real));
        let der = if identity { Vec::new() } else { vec![[0.0; 5]; d] };
        Transformed { inner, constraints, jacobian, identity, theta: vec![0.0; d], gt: vec![0.0; d], der }
    }

    fn map(&mut self, u: &[f64]) -> f64 {
        let mut logj = 0.0;
        for ((t, c), &ui) in self.theta.iter_mut().zip(self.constraints).zip(u) {
            *t = c.to_constrained(ui);
            logj += c.derivatives(ui)[2];
        }
        if self.jacobian { logj } else { 0.0 }
    }
}

/// The constraints' derivatives at `u`, into `der`.
fn fill_derivatives(der: &mut [[f64; 5]], constraints: &[Constraint], u: &[f64]) {
    for ((d, c), &ui) in der.iter_mut().zip(constraints).zip(u) {
        *d = c.derivatives(ui);
    }
}

impl<D: LogDensity + ?Sized> LogDensity for Transformed<'_, D> {
    fn dim(&self) -> usize {
        self.constraints.len()
    }

    fn data_size(&self) -> usize {
        self.inner.data_size()
    }

    fn value(&mut self, u: &[f64]) -> Result<f64, LaplaceError> {
        if self.identity {
            return self.inner.value(u);
        }
        let lj = self.map(u);
        Ok(self.inner.value(&self.theta)? + lj)
    }

    fn value_grad(&mut self, u: &[f64], grad: &mut [f64]) -> Result<f64, LaplaceError> {
        if self.identity {
            return self.inner.value_grad(u, grad);
        }
        let lj = self.map(u);
        let v = self.inner.value_grad(&self.theta, &mut self.gt)?;
        for (i, c) in self.constraints.iter().enumerate() {
            let [t1, _, _, l1, _] = c.derivatives(u[i]);
            grad[i] = self.gt[i] * t1 + if self.jacobian { l1 } else { 0.0 };
        }
        Ok(v + lj)
    }

    fn value_grad_hess(&mut self, u: &[f64], grad: &mut [f64], hess: &mut [f64]) -> Result<f64, LaplaceError> {
        if self.identity {
            return self.inner.value_grad_hess(u, grad, hess);
        }
        let lj = self.map(u);
        let d = self.constraints.len();
        let v = self.inner.value_grad_hess(&self.theta, &mut self.gt, hess)?;
        fill_derivatives(&mut self.der, self.constraints, u);
        let der = &self.der;
        for i in 0..d {
            for j in 0..d {
                hess[i * d + j] *= der[i][0] * der[j][0];
            }
            let jac = if self.jacobian { (der[i][3], der[i][4]) } else { (0.0, 0.0) };
            hess[i * d + i] += self.gt[i] * der[i][1] + jac.1;
            grad[i] = self.gt[i] * der[i][0] + jac.0;
        }
        Ok(v + lj)
    }

    fn hessian_structure(&mut self) -> Result<Option<SparseStructure>, LaplaceError> {
        // The chain rule scales entries and adds to the diagonal, which
        // every pattern stores: the pattern is the inner density's.
        self.inner.hessian_structure()
    }

    fn value_grad_sparse_hess(
        &mut self,
        u: &[f64],
        grad: &mut [f64],
        structure: &SparseStructure,
        values: &mut [f64],
    ) -> Result<f64, LaplaceError> {
        if self.identity {
            return self.inner.value_grad_sparse_hess(u, grad, structure, values);
        }
        let lj = self.map(u);
        let v = self.inner.value_grad_sparse_hess(&self.theta, &mut self.gt, structure, values)?;
        fill_derivatives(&mut self.der, self.constraints, u);
        let der = &self.der;
        let (cp, rows) = (structure.col_ptr(), structure.row_indices());
        for j in 0..der.len() {
            for k in cp[j]..cp[j + 1] {
                values[k] *= der[rows[k]][0] * der[j][0];
            }
            let jac = if self.jacobian { (der[j][3], der[j][4]) } else { (0.0, 0.0) };
            values[cp[j]] += self.gt[j] * der[j][1] + jac.1;
            grad[j] = self.gt[j] * der[j][0] + jac.0;
        }
        Ok(v + lj)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_derivatives() {
        let cs = [Constraint::Real, Constraint::Positive, Constraint::Interval { lower: -1.0, upper: 3.0 }];
        for (i, c) in cs.iter().enumerate() {
            for &u in &[-3.0, -0.2, 0.0, 0.7, 4.0] {
                let t = c.to_constrained(u);
                assert!((c.to_unconstrained(t, i).unwrap() - u).abs() < 1e-12);
                let h = 1e-5;
                let [t1, t2, l, l1, l2] = c.derivatives(u);
                let fd = |g: &dyn Fn(f64) -> f64| (g(u + h) - g(u - h)) / (2.0 * h);
                assert!((fd(&|x| c.to_constrained(x)) - t1).abs() < 1e-7);
                assert!((fd(&|x| c.derivatives(x)[0]) - t2).abs() < 1e-7);
                assert!((l - t1.ln()).abs() < 1e-12);
                assert!((fd(&|x| c.derivatives(x)[2]) - l1).abs() < 1e-7);
                assert!((fd(&|x| c.derivatives(x)[3]) - l2).abs() < 1e-7);
            }
        }
        assert!(Constraint::Positive.to_unconstrained(0.0, 0).is_err());
        assert!(Constraint::Interval { lower: 0.0, upper: 1.0 }.to_unconstrained(1.0, 0).is_err());
        assert!(Constraint::Interval { lower: 1.0, upper: 1.0 }.check(0).is_err());
    }
}
