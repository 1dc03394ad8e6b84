//! Structured, named, constrained parameters: a parameter vector read as
//! named blocks (scalars, vectors, matrices), each with a [`Support`].
//!
//! A [`ParamSpace`] maps unconstrained coordinates `z` onto the blocks'
//! supports. [`ParamSpace::compose`] turns a log density `f(θ, data…)` over
//! the constrained vector into `g(z, data…) = f(T(z), data…) + log|J(z)|`,
//! written with the tracing API so that the Laplace machinery gets exact
//! derivatives of the transform and its log-Jacobian from AD. The
//! approximation is the Gaussian in `z`; its evidence is that of `f`, since
//! `∫ exp g dz = ∫ exp f dθ`. [`ParamSpace::summarise`] reports each block
//! by name on both scales.

mod support;

use ndarray::{Array1, Array2, ArrayD, IxDyn};
use saddle_ir::{Array, DType, Func, Tensor, TensorType, Tracer};

pub use support::Support;

use crate::exec::Compiled;
use crate::ir::{value_and_jacobian, vector};
use crate::{Derived, IrDensity, Laplace, LaplaceError, Options, laplace, sdreport};

/// A named block of the parameter vector: its shape (`[]` for a scalar,
/// `[n]` for a vector, `[r, c]` for a matrix) and its support.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// The name (reports write `name`, `name[3]`, `name[1,0]`).
    pub name: String,
    /// The constrained shape.
    pub shape: Vec<usize>,
    /// The support.
    pub support: Support,
}

impl Block {
    /// A block of any shape.
    pub fn new(name: impl Into<String>, shape: &[usize], support: Support) -> Block {
        Block { name: name.into(), shape: shape.to_vec(), support }
    }

    /// A scalar block.
    pub fn scalar(name: impl Into<String>, support: Support) -> Block {
        Block::new(name, &[], support)
    }

    /// A vector block of `n` entries.
    pub fn vector(name: impl Into<String>, n: usize, support: Support) -> Block {
        Block::new(name, &[n], support)
    }

    /// A `rows × cols` matrix block.
    pub fn matrix(name: impl Into<String>, rows: usize, cols: usize, support: Support) -> Block {
        Block::new(name, &[rows, cols], support)
    }

    /// Entries of the constrained block.
    pub fn size(&self) -> usize {
        self.shape.iter().product()
    }

    /// Unconstrained coordinates of the block.
    pub fn unconstrained_len(&self) -> usize {
        self.support.unconstrained_len(&self.shape)
    }

    fn err(&self, message: impl Into<String>) -> LaplaceError {
        LaplaceError::Param { block: self.name.clone(), message: message.into() }
    }
}

/// The parameter vector as a sequence of named blocks, laid out one after
/// the other (each block's entries in row-major order), on the constrained
/// scale and on the unconstrained one.
///
/// [`ParamSpace::compose`] turns a log density `f(θ, data…)` over the
/// constrained vector into `g(z, data…) = f(T(z), data…) + log|J(z)|`,
/// traced, so that the derivatives of the transform and its log-Jacobian
/// come from AD; the Laplace approximation is the Gaussian in `z`, and its
/// evidence is that of `f`, since `∫ exp g dz = ∫ exp f dθ`.
/// [`ParamSpace::summarise`] reports each block by name on both scales;
/// [`laplace_params`] does all of it.
///
/// ```
/// use saddle_laplace::{Block, ParamSpace, Support};
/// let space = ParamSpace::new(vec![
///     Block::scalar("mu", Support::Real),
///     Block::vector("w", 3, Support::Simplex),
///     Block::matrix("L", 3, 3, Support::CholeskyCorr),
/// ])
/// .unwrap();
/// assert_eq!((space.constrained_dim(), space.unconstrained_dim()), (1 + 3 + 9, 1 + 2 + 3));
/// assert_eq!(space.names()[1], "w[0]");
/// assert_eq!(space.names()[7], "L[1,0]");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ParamSpace {
    blocks: Vec<Block>,
}

impl ParamSpace {
    /// Checks the blocks: names non-empty and distinct, each support fits
    /// its block's shape and has valid bounds, and at least one coordinate
    /// in all.
    pub fn new(blocks: Vec<Block>) -> Result<ParamSpace, LaplaceError> {
        for (i, b) in blocks.iter().enumerate() {
            if b.name.is_empty() {
                return Err(LaplaceError::Param { block: format!("#{i}"), message: "the name is empty".into() });
            }
            if blocks[..i].iter().any(|o| o.name == b.name) {
                return Err(b.err("the name is used by two blocks"));
            }
            b.support.check(&b.shape).map_err(|m| b.err(m))?;
        }
        let space = ParamSpace { blocks };
        if space.constrained_dim() == 0 {
            return Err(LaplaceError::EmptyParameter);
        }
        Ok(space)
    }

    /// The blocks, in order.
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    /// Length of the constrained vector (the one the model reads).
    pub fn constrained_dim(&self) -> usize {
        self.blocks.iter().map(Block::size).sum()
    }

    /// Length of the unconstrained vector (the one the fit works in).
    pub fn unconstrained_dim(&self) -> usize {
        self.blocks.iter().map(Block::unconstrained_len).sum()
    }

    /// One name per coordinate of the constrained vector: `mu`, `theta[3]`,
    /// `L[1,0]`.
    pub fn names(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(self.constrained_dim());
        for b in &self.blocks {
            entry_names(&b.name, &b.shape, &mut out);
        }
        out
    }

    /// One name per unconstrained coordinate: for elementwise supports the
    /// entry's name through its map (`mu`, `log(tau)`, `logit(s[2])`,
    /// `log(x - 1)`), otherwise `free(w)[k]` for the block's `k`-th
    /// coordinate.
    pub fn unconstrained_names(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(self.unconstrained_dim());
        for b in &self.blocks {
            if b.support.is_elementwise() {
                let mut names = Vec::new();
                entry_names(&b.name, &b.shape, &mut names);
                out.extend(names.into_iter().map(|n| match b.support {
                    Support::Positive => format!("log({n})"),
                    Support::Lower(l) => format!("log({n} - {l})"),
                    Support::Upper(u) => format!("log({u} - {n})"),
                    Support::Interval { .. } => format!("logit({n})"),
                    _ => n,
                }));
            } else {
                out.extend((0..b.unconstrained_len()).map(|k| format!("free({})[{k}]", b.name)));
            }
        }
        out
    }

    /// The traced transform: `z` (a float vector of
    /// [`ParamSpace::unconstrained_dim`]) to the constrained vector `θ` and
    /// the scalar `log|J(z)|`, for use inside [`saddle_ir::trace::trace_with`].
    pub fn transform<'t>(&self, tr: &'t Tracer, z: Tensor<'t>) -> (Tensor<'t>, Tensor<'t>) {
        let mut parts = Vec::with_capacity(self.blocks.len());
        let mut lj: Option<Tensor<'t>> = None;
        let mut at = 0;
        for b in &self.blocks {
            let n = b.unconstrained_len();
            let zb =
                if n == z.shape().first().copied().unwrap_or(0) && at == 0 { z } else { z.slice(&[at], &[at + n]) };
            at += n;
            let (theta, l) = b.support.forward(tr, zb, &b.shape);
            parts.push(theta);
            if let Some(l) = l {
                lj = Some(match lj {
                    Some(acc) => acc + l,
                    None => l,
                });
            }
        }
        let theta = if parts.len() == 1 { parts[0] } else { tr.concatenate(&parts, 0) };
        let lj = lj.unwrap_or_else(|| tr.zeros(&TensorType::scalar(z.dtype())));
        (theta, lj)
    }

    /// The function `z ↦ (θ, log|J(z)|)` in `dtype`.
    pub fn transform_func(&self, dtype: DType) -> Result<Func, LaplaceError> {
        let z = TensorType::new(dtype, [self.unconstrained_dim()]);
        saddle_ir::trace::trace_with("transform", &[z], |tr, args| {
            let (theta, lj) = self.transform(tr, args[0]);
            vec![theta, lj]
        })
        .map_err(|e| LaplaceError::Build { stage: "tracing the transform", message: e.to_string() })
    }

    /// The transform compiled for evaluation at points.
    pub fn compile(&self) -> Result<Transform, LaplaceError> {
        Ok(Transform { exe: Compiled::new(self.transform_func(DType::F64)?)?, dim: self.unconstrained_dim() })
    }

    /// `z = T⁻¹(θ)`: the unconstrained coordinates of a constrained vector,
    /// or an error naming the block and entry outside its support.
    ///
    /// ```
    /// use saddle_laplace::{Block, ParamSpace, Support};
    /// let space = ParamSpace::new(vec![Block::vector("w", 3, Support::Simplex)]).unwrap();
    /// let z = space.unconstrain(&[0.2, 0.3, 0.5]).unwrap();
    /// assert!((z[0] - (0.2f64 / 0.5).ln()).abs() < 1e-15);
    /// assert!(space.unconstrain(&[0.2, 0.3, 0.6]).is_err()); // sums to 1.1
    /// ```
    pub fn unconstrain(&self, theta: &[f64]) -> Result<Vec<f64>, LaplaceError> {
        let d = self.constrained_dim();
        if theta.len() != d {
            return Err(LaplaceError::InitDimension { expected: d, found: theta.len() });
        }
        let mut z = Vec::with_capacity(self.unconstrained_dim());
        let mut at = 0;
        for b in &self.blocks {
            let part = &theta[at..at + b.size()];
            at += b.size();
            z.extend(b.support.inverse(part, &b.shape).map_err(|m| b.err(m))?);
        }
        Ok(z)
    }

    /// `g(z, data…) = f(T(z), data…) + log|J(z)|`, from a function `f`
    /// whose first parameter is the constrained vector (a float vector of
    /// [`ParamSpace::constrained_dim`]) and whose first result is the log
    /// density; its other parameters and results are kept.
    pub fn compose(&self, f: &Func) -> Result<Func, LaplaceError> {
        let types = f.param_types();
        let d = self.constrained_dim();
        let dtype = match types.first() {
            Some(t) if t.dtype.is_float() && t.shape == [d] => t.dtype,
            other => {
                return Err(LaplaceError::Signature {
                    message: format!(
                        "@{}'s first parameter must be the constrained parameter vector, a float [{d}] (the blocks' sizes add up to {d}), found {}",
                        f.name(),
                        other.map_or("none".to_string(), |t| t.to_string())
                    ),
                    loc: None,
                });
            }
        };
        let mut params = types.to_vec();
        params[0] = TensorType::new(dtype, [self.unconstrained_dim()]);
        saddle_ir::trace::trace_with(f.name(), &params, |tr, args| {
            let (theta, lj) = self.transform(tr, args[0]);
            let mut call_args = args.to_vec();
            call_args[0] = theta;
            let mut out = tr.call(f, &call_args);
            if let Some(first) = out.first_mut() {
                *first = *first + lj;
            }
            out
        })
        .map_err(|e| LaplaceError::Build { stage: "composing the transform", message: e.to_string() })
    }

    /// Each block on both scales for a fit of [`ParamSpace::compose`]'s
    /// function: the unconstrained mode and std from the fit, the
    /// constrained mode `T(z*)` and its std by the delta method.
    ///
    /// Block by block, so that nothing grows with the square of the
    /// dimension: elementwise blocks scale each std by `|T'(z*)|`; the
    /// other blocks take the Jacobian of their transform by AD and the
    /// fit's covariance of their coordinates (by solves on fits that did
    /// not form the covariance).
    pub fn summarise(&self, fit: &Laplace) -> Result<ParamSummary, LaplaceError> {
        let n = self.unconstrained_dim();
        if fit.dim() != n {
            return Err(LaplaceError::InitDimension { expected: n, found: fit.dim() });
        }
        let z = fit.mode.to_vec();
        let (theta, _) = self.compile()?.apply(&z)?;
        let mut std = Vec::with_capacity(theta.len());
        let mut blocks = Vec::with_capacity(self.blocks.len());
        let (mut at, mut uat) = (0, 0);
        for b in &self.blocks {
            let (s, u) = (b.size(), b.unconstrained_len());
            let zb = &z[uat..uat + u];
            let (bstd, covariance) = if b.support.is_elementwise() {
                let d: Vec<f64> = zb
                    .iter()
                    .zip(fit.std.slice(ndarray::s![uat..uat + u]))
                    .map(|(&zi, &si)| elementwise_slope(b.support, zi).abs() * si)
                    .collect();
                (d, None)
            } else {
                // J of θ_b with respect to z_b, padded to every coordinate.
                let t = saddle_ir::trace::trace_with("constrain", &[TensorType::f64([u])], |tr, args| {
                    vec![b.support.forward(tr, args[0], &b.shape).0]
                })
                .map_err(|e| LaplaceError::Build { stage: "tracing the transform", message: e.to_string() })?;
                let (value, jb) = value_and_jacobian(&t, zb, &[])?;
                let mut j = ndarray::Array2::zeros((s, n));
                j.slice_mut(ndarray::s![.., uat..uat + u]).assign(&jb);
                let r = fit.delta_method(&value, j.view())?;
                (r.std.to_vec(), Some(r.covariance))
            };
            let shaped =
                |v: Vec<f64>| ArrayD::from_shape_vec(IxDyn(&b.shape), v).map_err(|e| LaplaceError::Eval(e.to_string()));
            std.extend_from_slice(&bstd);
            blocks.push(BlockSummary {
                name: b.name.clone(),
                shape: b.shape.clone(),
                support: b.support,
                mode: shaped(theta[at..at + s].to_vec())?,
                std: shaped(bstd)?,
                covariance,
                unconstrained_mode: fit.mode.slice(ndarray::s![uat..uat + u]).to_owned(),
                unconstrained_std: fit.std.slice(ndarray::s![uat..uat + u]).to_owned(),
            });
            at += s;
            uat += u;
        }
        Ok(ParamSummary { mode: Array1::from(theta), std: Array1::from(std), blocks })
    }

    /// Delta-method estimates and standard errors of derived quantities
    /// `g(θ, data…)` of the constrained vector (TMB's `sdreport`), for a fit
    /// of [`ParamSpace::compose`]'s function: `g ∘ T` is differentiated
    /// with respect to the fit's unconstrained coordinates.
    pub fn sdreport(&self, fit: &Laplace, g: &Func, data: &[Array]) -> Result<Derived, LaplaceError> {
        let d = self.constrained_dim();
        let types = g.param_types();
        match types.first() {
            Some(t) if t.dtype.is_float() && t.shape == [d] => {}
            _ => {
                return Err(LaplaceError::Signature {
                    message: format!(
                        "@{}'s first parameter must be the constrained parameter vector, a float [{d}]",
                        g.name()
                    ),
                    loc: None,
                });
            }
        }
        let mut params = types.to_vec();
        params[0] = TensorType::f64([self.unconstrained_dim()]);
        let composed = saddle_ir::trace::trace_with(g.name(), &params, |tr, args| {
            let (theta, _) = self.transform(tr, args[0]);
            let theta = if types[0].dtype == DType::F64 { theta } else { theta.convert(types[0].dtype) };
            let mut call_args = args.to_vec();
            call_args[0] = theta;
            tr.call(g, &call_args)
        })
        .map_err(|e| LaplaceError::Build { stage: "composing the transform", message: e.to_string() })?;
        sdreport(fit, &composed, data)
    }
}

/// `T'(z)` of an elementwise support.
fn elementwise_slope(support: Support, z: f64) -> f64 {
    match support {
        Support::Positive | Support::Lower(_) => z.exp(),
        Support::Upper(_) => -z.exp(),
        Support::Interval { lower, upper } => {
            // σ(z)·σ(−z) = e^{−|z|} / (1 + e^{−|z|})², without overflow.
            let e = (-z.abs()).exp();
            (upper - lower) * e / ((1.0 + e) * (1.0 + e))
        }
        _ => 1.0,
    }
}

/// The names of a block's entries in row-major order.
fn entry_names(name: &str, shape: &[usize], out: &mut Vec<String>) {
    if shape.is_empty() {
        out.push(name.to_string());
        return;
    }
    let size: usize = shape.iter().product();
    let mut idx = vec![0; shape.len()];
    for _ in 0..size {
        let parts: Vec<String> = idx.iter().map(|i| i.to_string()).collect();
        out.push(format!("{name}[{}]", parts.join(",")));
        for ax in (0..shape.len()).rev() {
            idx[ax] += 1;
            if idx[ax] < shape[ax] {
                break;
            }
            idx[ax] = 0;
        }
    }
}

/// [`ParamSpace`]'s transform, compiled: evaluates `θ = T(z)` and
/// `log|J(z)|` at points.
pub struct Transform {
    exe: Compiled,
    dim: usize,
}

impl Transform {
    /// `(T(z), log|J(z)|)`.
    pub fn apply(&mut self, z: &[f64]) -> Result<(Vec<f64>, f64), LaplaceError> {
        if z.len() != self.dim {
            return Err(LaplaceError::InitDimension { expected: self.dim, found: z.len() });
        }
        let out = self.exe.run(&[vector(DType::F64, z)])?;
        let lj = out[1].to_f64_vec().first().copied().unwrap_or(f64::NAN);
        Ok((out[0].to_f64_vec(), lj))
    }
}

/// One block of a fit, on both scales.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockSummary {
    /// The block's name.
    pub name: String,
    /// Its constrained shape.
    pub shape: Vec<usize>,
    /// Its support.
    pub support: Support,
    /// The constrained mode `T(z*)`, shaped as the block.
    pub mode: ArrayD<f64>,
    /// The constrained standard deviations by the delta method, shaped as
    /// the block (zero in directions the support fixes, such as the
    /// diagonal of a Cholesky factor of a correlation matrix).
    pub std: ArrayD<f64>,
    /// The delta-method covariance of the block's entries (row-major),
    /// for blocks whose support is not elementwise (`None` otherwise).
    pub covariance: Option<Array2<f64>>,
    /// The mode of the block's unconstrained coordinates.
    pub unconstrained_mode: Array1<f64>,
    /// Their standard deviations.
    pub unconstrained_std: Array1<f64>,
}

/// The blocks of a fit, and the whole constrained vector.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamSummary {
    /// The constrained vector `T(z*)`.
    pub mode: Array1<f64>,
    /// Its standard deviations by the delta method.
    pub std: Array1<f64>,
    /// Each block, in order.
    pub blocks: Vec<BlockSummary>,
}

/// A fit over a [`ParamSpace`]: the Laplace approximation on the
/// unconstrained scale and its summary by block.
#[derive(Clone, Debug)]
pub struct ParamFit {
    /// The fit of `g(z) = f(T(z)) + log|J(z)|`: every field on the
    /// unconstrained scale; its `log_evidence` estimates `log ∫ exp f dθ`.
    pub fit: Laplace,
    /// The blocks on both scales.
    pub summary: ParamSummary,
}

/// Fits `f(θ, data…)` over the blocks of `space`: `init` is on the
/// constrained scale (the vector `f` reads), the fit on the unconstrained
/// one, of `g(z) = f(T(z)) + log|J(z)|` (see [`ParamSpace::compose`]), and
/// the summary gives each block on both scales.
///
/// ```
/// use saddle_ir::{TensorType, trace};
/// use saddle_laplace::{Block, Options, ParamSpace, Support, laplace_params};
/// // A Gamma(3, 2) density on a positive σ: log p = 2·log σ − 2σ + const.
/// let f = trace("logp", &[TensorType::f64([1])], |x| vec![(2.0 * x[0].log() - 2.0 * x[0]).sum_all()]).unwrap();
/// let space = ParamSpace::new(vec![Block::scalar("sigma", Support::Positive)]).unwrap();
/// let fit = laplace_params(&f, vec![], &space, &[1.0], &Options::default()).unwrap();
/// // On u = log σ the density is exp(3u − 2eᵘ): its mode is σ = 3/2.
/// let sigma = &fit.summary.blocks[0];
/// assert!((sigma.mode[[]] - 1.5).abs() < 1e-9);
/// assert!((fit.fit.mode[0] - 1.5f64.ln()).abs() < 1e-9);
/// ```
pub fn laplace_params(
    f: &Func,
    data: Vec<Array>,
    space: &ParamSpace,
    init: &[f64],
    opts: &Options,
) -> Result<ParamFit, LaplaceError> {
    let z0 = space.unconstrain(init)?;
    let g = space.compose(f)?;
    let mut density = IrDensity::new(&g, data)?;
    let fit = laplace(&mut density, &z0, opts)?;
    let summary = space.summarise(&fit)?;
    Ok(ParamFit { fit, summary })
}
