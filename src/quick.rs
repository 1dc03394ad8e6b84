//! One-liners for the common case: the value, gradient or Hessian of a
//! function of one `f64` vector, written as a Rust closure over traced
//! values, at a point given as an ndarray vector.
//!
//! Each call traces, transforms, compiles and runs once. To evaluate the
//! same function at many points, keep the compiled executable instead
//! (`saddle::ir::trace`, `saddle::ad::grad`, `saddle::runtime::compile`).

use ndarray::{Array1, Array2, ArrayView1, Ix1, Ix2};

use crate::ir::{Array, Func, Tensor, TensorType};

/// The errors of the one-liners: tracing, differentiating or running the
/// function.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The traced function is ill-typed (say, not scalar-valued where a
    /// gradient is asked for).
    #[error(transparent)]
    Ir(#[from] crate::ir::Error),
    /// The transformation failed.
    #[error(transparent)]
    Ad(#[from] crate::ad::Error),
    /// Compiling or running failed (an index out of range, say).
    #[error(transparent)]
    Runtime(#[from] crate::runtime::Error),
    /// A result of an unexpected shape: a bug in saddle.
    #[error("internal error: {0}")]
    Internal(String),
}

fn traced<F>(f: F, n: usize) -> Result<Func, Error>
where
    F: for<'t> Fn(Tensor<'t>) -> Tensor<'t>,
{
    Ok(crate::ir::trace("f", &[TensorType::f64([n])], |x| vec![f(x[0])])?)
}

fn run(g: &Func, x: ArrayView1<'_, f64>) -> Result<Vec<Array>, Error> {
    let exe = crate::runtime::compile(g)?;
    Ok(exe.run(&[Array::from(x.to_owned())])?)
}

fn scalar(a: &Array) -> Result<f64, Error> {
    a.to_f64_vec().first().copied().ok_or_else(|| Error::Internal("an empty scalar result".into()))
}

fn vector(a: &Array) -> Result<Array1<f64>, Error> {
    let Array::F64(v) = a else { return Err(Error::Internal(format!("a {} result, expected f64", a.ty()))) };
    v.clone().into_dimensionality::<Ix1>().map_err(|e| Error::Internal(e.to_string()))
}

/// `f(x)`.
///
/// ```
/// let x = ndarray::arr1(&[1.0, 2.0]);
/// let v = saddle::value(|x| (x * x).sum_all(), &x)?;
/// assert_eq!(v, 5.0);
/// # Ok::<(), saddle::Error>(())
/// ```
pub fn value<F>(f: F, x: &Array1<f64>) -> Result<f64, Error>
where
    F: for<'t> Fn(Tensor<'t>) -> Tensor<'t>,
{
    let g = traced(f, x.len())?;
    scalar(run(&g, x.view())?.first().ok_or_else(|| Error::Internal("no result".into()))?)
}

/// `∇f(x)`, like `jax.grad(f)(x)`.
///
/// ```
/// let x = ndarray::arr1(&[1.0, 2.0]);
/// let g = saddle::grad(|x| (x * x).sum_all(), &x)?;
/// assert_eq!(g, ndarray::arr1(&[2.0, 4.0]));
/// # Ok::<(), saddle::Error>(())
/// ```
pub fn grad<F>(f: F, x: &Array1<f64>) -> Result<Array1<f64>, Error>
where
    F: for<'t> Fn(Tensor<'t>) -> Tensor<'t>,
{
    let g = crate::ad::grad(&traced(f, x.len())?, 0)?;
    vector(run(&g, x.view())?.first().ok_or_else(|| Error::Internal("no result".into()))?)
}

/// `(f(x), ∇f(x))` from one compiled function.
///
/// ```
/// let x = ndarray::arr1(&[3.0]);
/// let (v, g) = saddle::value_and_grad(|x| x.exp().sum_all(), &x)?;
/// assert!((v - 3f64.exp()).abs() < 1e-12 && (g[0] - 3f64.exp()).abs() < 1e-12);
/// # Ok::<(), saddle::Error>(())
/// ```
pub fn value_and_grad<F>(f: F, x: &Array1<f64>) -> Result<(f64, Array1<f64>), Error>
where
    F: for<'t> Fn(Tensor<'t>) -> Tensor<'t>,
{
    let g = crate::ad::value_and_grad(&traced(f, x.len())?, 0)?;
    let out = run(&g, x.view())?;
    match out.as_slice() {
        [v, d, ..] => Ok((scalar(v)?, vector(d)?)),
        _ => Err(Error::Internal("value_and_grad gave fewer than two results".into())),
    }
}

/// `∇²f(x)`, like `jax.hessian(f)(x)`.
///
/// ```
/// let x = ndarray::arr1(&[1.0, 2.0]);
/// let h = saddle::hessian(|x| x.at(0) * x.at(1) * x.at(1), &x)?;
/// assert_eq!(h, ndarray::arr2(&[[0.0, 4.0], [4.0, 2.0]]));
/// # Ok::<(), saddle::Error>(())
/// ```
pub fn hessian<F>(f: F, x: &Array1<f64>) -> Result<Array2<f64>, Error>
where
    F: for<'t> Fn(Tensor<'t>) -> Tensor<'t>,
{
    let g = crate::ad::hessian(&traced(f, x.len())?, 0)?;
    let out = run(&g, x.view())?;
    let Some(Array::F64(h)) = out.first() else {
        return Err(Error::Internal("the Hessian is not an f64 array".into()));
    };
    h.clone().into_dimensionality::<Ix2>().map_err(|e| Error::Internal(e.to_string()))
}
