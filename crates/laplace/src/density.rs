//! The interface the optimiser sees: a log density with its value,
//! gradient and Hessian at a point.

use crate::{LaplaceError, SparseStructure};

/// A log density `f: ℝᵈ → ℝ` with derivatives, as the optimiser uses it.
///
/// [`crate::IrDensity`] implements it from saddle IR (derivatives by
/// automatic differentiation, compiled once); [`FnDensity`] from plain
/// closures, for closed forms and tests. The Hessian is written row-major
/// (`hess[i * d + j] = ∂²f/∂xᵢ∂xⱼ`).
///
/// Evaluations may fail (for example on a run-time fault of compiled code);
/// a non-finite value is not a failure, the optimiser handles it.
pub trait LogDensity {
    /// The dimension `d` of the parameter vector.
    fn dim(&self) -> usize;

    /// `f(x)`.
    fn value(&mut self, x: &[f64]) -> Result<f64, LaplaceError>;

    /// `f(x)`, writing `∇f(x)` into `grad`.
    fn value_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, LaplaceError>;

    /// `f(x)`, writing `∇f(x)` into `grad` and `∇²f(x)` into `hess`.
    fn value_grad_hess(&mut self, x: &[f64], grad: &mut [f64], hess: &mut [f64]) -> Result<f64, LaplaceError>;

    /// How many fixed data values one evaluation reads (0, the default,
    /// for a closed form). [`crate::Method::Auto`] estimates the cost of a
    /// Hessian from it: see [`crate::Options::newton_max_work`].
    fn data_size(&self) -> usize {
        0
    }

    /// The pattern of the Hessian, when the density knows it: `Ok(None)`
    /// (the default) means "dense, or unknown". A density that returns a
    /// pattern must implement [`LogDensity::value_grad_sparse_hess`]; the
    /// optimiser then works with sparse Hessians and a sparse Cholesky
    /// factorisation when that pays (see [`crate::HessianMode`]).
    ///
    /// The pattern may be a superset of the true one; it must contain
    /// every entry that can be nonzero anywhere the optimiser looks.
    fn hessian_structure(&mut self) -> Result<Option<SparseStructure>, LaplaceError> {
        Ok(None)
    }

    /// `f(x)`, writing `∇f(x)` into `grad` and the entries of `∇²f(x)` on
    /// the pattern of [`LogDensity::hessian_structure`] into `values` (the
    /// lower triangle, in the pattern's order).
    ///
    /// The default evaluates the dense Hessian and gathers its entries: it
    /// is right for every density, and as slow as the dense path.
    fn value_grad_sparse_hess(
        &mut self,
        x: &[f64],
        grad: &mut [f64],
        structure: &SparseStructure,
        values: &mut [f64],
    ) -> Result<f64, LaplaceError> {
        gathered_sparse_hess(self, x, grad, structure, values)
    }
}

/// [`LogDensity::value_grad_sparse_hess`] from the dense Hessian: right for
/// every density, and as slow as the dense path.
pub(crate) fn gathered_sparse_hess<D: LogDensity + ?Sized>(
    f: &mut D,
    x: &[f64],
    grad: &mut [f64],
    structure: &SparseStructure,
    values: &mut [f64],
) -> Result<f64, LaplaceError> {
    let d = f.dim();
    let mut dense = vec![0.0; d * d];
    let v = f.value_grad_hess(x, grad, &mut dense)?;
    structure.gather(&dense, values);
    Ok(v)
}

impl<T: LogDensity + ?Sized> LogDensity for &mut T {
    fn dim(&self) -> usize {
        (**self).dim()
    }
    fn value(&mut self, x: &[f64]) -> Result<f64, LaplaceError> {
        (**self).value(x)
    }
    fn value_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, LaplaceError> {
        (**self).value_grad(x, grad)
    }
    fn value_grad_hess(&mut self, x: &[f64], grad: &mut [f64], hess: &mut [f64]) -> Result<f64, LaplaceError> {
        (**self).value_grad_hess(x, grad, hess)
    }
    fn data_size(&self) -> usize {
        (**self).data_size()
    }
    fn hessian_structure(&mut self) -> Result<Option<SparseStructure>, LaplaceError> {
        (**self).hessian_structure()
    }
    fn value_grad_sparse_hess(
        &mut self,
        x: &[f64],
        grad: &mut [f64],
        structure: &SparseStructure,
        values: &mut [f64],
    ) -> Result<f64, LaplaceError> {
        (**self).value_grad_sparse_hess(x, grad, structure, values)
    }
}

/// A log density given by three closures: value, gradient and Hessian.
///
/// ```
/// use saddle_laplace::{FnDensity, LogDensity};
/// // f(x) = -x²/2 in one dimension.
/// let mut f = FnDensity::new(
///     1,
///     |x: &[f64]| -0.5 * x[0] * x[0],
///     |x: &[f64], g: &mut [f64]| g[0] = -x[0],
///     |_: &[f64], h: &mut [f64]| h[0] = -1.0,
/// );
/// assert_eq!(f.value(&[2.0]).unwrap(), -2.0);
/// ```
pub struct FnDensity<V, G, H> {
    dim: usize,
    value: V,
    grad: G,
    hess: H,
}

impl<V, G, H> FnDensity<V, G, H>
where
    V: FnMut(&[f64]) -> f64,
    G: FnMut(&[f64], &mut [f64]),
    H: FnMut(&[f64], &mut [f64]),
{
    /// A density of dimension `dim` from its value, gradient and Hessian.
    pub fn new(dim: usize, value: V, grad: G, hess: H) -> Self {
        FnDensity { dim, value, grad, hess }
    }
}

impl<V, G, H> LogDensity for FnDensity<V, G, H>
where
    V: FnMut(&[f64]) -> f64,
    G: FnMut(&[f64], &mut [f64]),
    H: FnMut(&[f64], &mut [f64]),
{
    fn dim(&self) -> usize {
        self.dim
    }
    fn value(&mut self, x: &[f64]) -> Result<f64, LaplaceError> {
        Ok((self.value)(x))
    }
    fn value_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, LaplaceError> {
        (self.grad)(x, grad);
        Ok((self.value)(x))
    }
    fn value_grad_hess(&mut self, x: &[f64], grad: &mut [f64], hess: &mut [f64]) -> Result<f64, LaplaceError> {
        (self.grad)(x, grad);
        (self.hess)(x, hess);
        Ok((self.value)(x))
    }
}

/// Counts of evaluations, kept by the optimiser.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Evaluations {
    /// Calls of [`LogDensity::value_grad`].
    pub grad: usize,
    /// Calls of [`LogDensity::value_grad_hess`].
    pub hess: usize,
}

/// Wraps a density and counts its evaluations.
pub(crate) struct Counted<'a, D: LogDensity + ?Sized> {
    pub(crate) inner: &'a mut D,
    pub(crate) counts: Evaluations,
    /// Wall-clock time inside the evaluations with a Hessian.
    pub(crate) hess_time: std::time::Duration,
}

impl<'a, D: LogDensity + ?Sized> Counted<'a, D> {
    pub(crate) fn new(inner: &'a mut D) -> Self {
        Counted { inner, counts: Evaluations::default(), hess_time: std::time::Duration::ZERO }
    }
    pub(crate) fn dim(&self) -> usize {
        self.inner.dim()
    }
    pub(crate) fn data_size(&self) -> usize {
        self.inner.data_size()
    }
    pub(crate) fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, LaplaceError> {
        self.counts.grad += 1;
        self.inner.value_grad(x, g)
    }
    pub(crate) fn value_grad_hess(&mut self, x: &[f64], g: &mut [f64], h: &mut [f64]) -> Result<f64, LaplaceError> {
        self.counts.hess += 1;
        let t = std::time::Instant::now();
        let v = self.inner.value_grad_hess(x, g, h);
        self.hess_time += t.elapsed();
        v
    }
    pub(crate) fn value_grad_sparse_hess(
        &mut self,
        x: &[f64],
        g: &mut [f64],
        s: &SparseStructure,
        h: &mut [f64],
    ) -> Result<f64, LaplaceError> {
        self.counts.hess += 1;
        let t = std::time::Instant::now();
        let v = self.inner.value_grad_sparse_hess(x, g, s, h);
        self.hess_time += t.elapsed();
        v
    }
    pub(crate) fn hessian_structure(&mut self) -> Result<Option<SparseStructure>, LaplaceError> {
        self.inner.hessian_structure()
    }
}
