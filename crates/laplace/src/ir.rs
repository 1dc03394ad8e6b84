//! Log densities from saddle IR: a traced Rust closure or a parsed `.sir`
//! function over a parameter vector, with optional fixed data arguments.
//!
//! The derivatives come from the AD crate (the gradient by reverse mode,
//! the Hessian forward over reverse), are merged into one function
//! returning `[f, ∇f, ∇²f]` so that work shared between them is done once,
//! simplified, and compiled once by the runtime. Nothing is traced or
//! compiled inside the optimisation loop: each function is compiled the
//! first time the optimiser asks for it, and only then.

use std::cell::OnceCell;
use std::time::{Duration, Instant};

use ndarray::{Array2, ArrayD, IxDyn};
use saddle_ir::{Array, DType, Func};

use crate::exec::Compiled;
use crate::{Derived, Laplace, LaplaceError, LogDensity, SparseStructure};

/// When [`IrDensity`] runs the equality-saturation simplifier on its
/// derived functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Simplify {
    /// Never: CSE and DCE only.
    Never,
    /// Always.
    Always,
    /// When the function handles a tensor of at least this many elements:
    /// simplifying pays off when calls are expensive, and for small
    /// functions (a call of a few microseconds) it costs more time than
    /// the whole fit.
    Large(usize),
}

/// How [`IrDensity`] builds its functions.
#[derive(Clone, Debug, PartialEq)]
pub struct BuildOptions {
    /// When to run the simplifier (default: on functions with a tensor of
    /// 4096 elements or more).
    pub simplify: Simplify,
    /// Limits of the simplifier.
    pub simplify_options: saddle_ir::simplify::SimplifyOptions,
}

impl Default for BuildOptions {
    fn default() -> Self {
        let simplify_options =
            saddle_ir::simplify::SimplifyOptions { time_limit: Duration::from_millis(500), ..Default::default() };
        BuildOptions { simplify: Simplify::Large(4096), simplify_options }
    }
}

/// Where the time of building went.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BuildReport {
    /// Differentiating (AD transformations and merging).
    pub differentiate: Duration,
    /// Simplifying.
    pub simplify: Duration,
    /// Compiling with the runtime.
    pub compile: Duration,
    /// Instructions of `[f, ∇f, ∇²f]` before and after simplification (0
    /// until it is built).
    pub hessian_ops: (usize, usize),
    /// Warnings of the simplifier (a limit hit).
    pub warnings: Vec<String>,
    /// How many functions were compiled (each at most once).
    pub compiled: usize,
    /// Detecting the Hessian's sparsity pattern and colouring it, and
    /// building the compressed function (zero unless a sparse Hessian was
    /// asked for); [`BuildReport::sparsity_parts`] splits it.
    pub sparsity: Duration,
    /// The parts of [`BuildReport::sparsity`]: detection, colouring and the
    /// compressed function.
    pub sparsity_parts: saddle_ad::sparsity::BuildTimes,
    /// Entries of the sparse Hessian's pattern (both triangles) and the
    /// number of colours (Hessian-vector products per evaluation), once
    /// built.
    pub sparse_hessian: Option<(usize, usize)>,
}

/// A log density given as saddle IR, with compiled derivatives.
///
/// The function's first parameter is the parameter vector (`f64[d]` or
/// `f32[d]`), its other parameters are fixed data, and its first result is
/// the scalar log density.
///
/// ```
/// use saddle_ir::{TensorType, trace};
/// use saddle_laplace::{IrDensity, Options, laplace};
/// // A Gaussian log density with mean 3 and variance 1/4, traced from Rust.
/// let f = trace("logp", &[TensorType::f64([1])], |x| vec![-2.0 * ((x[0] - 3.0) * (x[0] - 3.0)).sum_all()])
///     .unwrap();
/// let mut density = IrDensity::new(&f, vec![]).unwrap();
/// let fit = laplace(&mut density, &[0.0], &Options::default()).unwrap();
/// assert!((fit.mode[0] - 3.0).abs() < 1e-12 && (fit.std[0] - 0.5).abs() < 1e-12);
/// ```
pub struct IrDensity {
    dim: usize,
    dtype: DType,
    func: Func,
    opts: BuildOptions,
    /// Parameter vector, then the data.
    args: Vec<Array>,
    value: OnceCell<Compiled>,
    value_grad: OnceCell<Compiled>,
    value_grad_hess: OnceCell<Compiled>,
    /// The compressed sparse Hessian, built on first request.
    sparse: Option<Sparse>,
    report: BuildReport,
}

/// The compiled `[f, ∇f, H·Sᵀ]` with what recovers the entries.
struct Sparse {
    hessian: saddle_ad::sparsity::SparseHessian,
    structure: SparseStructure,
    exe: Compiled,
    /// The seed matrix `S`, the compressed function's last argument.
    seeds: Array,
    /// `H·Sᵀ` as f64 (for f32 functions).
    buf: Vec<f64>,
}

impl IrDensity {
    /// Checks `func` against `data` and prepares its derivatives (built and
    /// compiled on first use).
    pub fn new(func: &Func, data: Vec<Array>) -> Result<IrDensity, LaplaceError> {
        IrDensity::with_options(func, data, BuildOptions::default())
    }

    /// [`IrDensity::new`] with explicit build options.
    pub fn with_options(func: &Func, data: Vec<Array>, opts: BuildOptions) -> Result<IrDensity, LaplaceError> {
        saddle_ir::verify(func).map_err(|e| sig(format!("@{} is not valid IR: {e}", func.name())))?;
        let (dim, dtype) = check_signature(func, &data)?;
        let mut args = Vec::with_capacity(1 + data.len());
        args.push(vector(dtype, &vec![0.0; dim]));
        args.extend(data);
        Ok(IrDensity {
            dim,
            dtype,
            func: func.clone(),
            opts,
            args,
            value: OnceCell::new(),
            value_grad: OnceCell::new(),
            value_grad_hess: OnceCell::new(),
            sparse: None,
            report: BuildReport::default(),
        })
    }

    /// The function this density evaluates.
    pub fn func(&self) -> &Func {
        &self.func
    }

    /// Where the time of building went so far.
    pub fn report(&self) -> &BuildReport {
        &self.report
    }

    /// Builds and compiles now the functions the optimisers call (otherwise
    /// each is built on first use), so that later fits measure the
    /// optimiser alone: `[f, ∇f]` (L-BFGS) and `[f, ∇f, ∇²f]` (Newton, and
    /// the Hessian at the mode). `f` alone, which only
    /// [`LogDensity::value`] uses, stays unbuilt until asked for.
    pub fn prepare(&mut self) -> Result<(), LaplaceError> {
        self.ensure(Kind::ValueGrad)?;
        self.ensure(Kind::ValueGradHess)?;
        Ok(())
    }

    /// Replaces the data arguments (same types), keeping the compiled code.
    pub fn set_data(&mut self, data: Vec<Array>) -> Result<(), LaplaceError> {
        check_data(&self.func, &data)?;
        self.args.truncate(1);
        self.args.extend(data);
        // The sparsity pattern depends on the data (index arrays).
        self.sparse = None;
        Ok(())
    }

    fn ensure(&mut self, kind: Kind) -> Result<(), LaplaceError> {
        let cell = match kind {
            Kind::Value => &self.value,
            Kind::ValueGrad => &self.value_grad,
            Kind::ValueGradHess => &self.value_grad_hess,
        };
        if cell.get().is_some() {
            return Ok(());
        }
        let t = Instant::now();
        let derived = derive(&self.func, kind)?;
        self.report.differentiate += t.elapsed();
        let before = derived.insts().len();
        let compiled = self.simplify_and_compile(derived, kind != Kind::Value)?;
        if kind == Kind::ValueGradHess {
            self.report.hessian_ops = (before, compiled.1);
        }
        let cell = match kind {
            Kind::Value => &self.value,
            Kind::ValueGrad => &self.value_grad,
            Kind::ValueGradHess => &self.value_grad_hess,
        };
        let _ = cell.set(compiled.0);
        Ok(())
    }

    /// Simplifies a derived function as the build options say (when
    /// `may_simplify`), and compiles it; also returns its instruction count
    /// after simplification.
    fn simplify_and_compile(&mut self, derived: Func, may_simplify: bool) -> Result<(Compiled, usize), LaplaceError> {
        let t = Instant::now();
        let wanted = match self.opts.simplify {
            Simplify::Never => false,
            Simplify::Always => true,
            Simplify::Large(n) => {
                (0..derived.num_values()).any(|v| derived.ty(saddle_ir::Value::from_index(v)).num_elements() >= n)
            }
        };
        let derived = if wanted && may_simplify {
            let (g, rep) = saddle_ir::simplify::simplify(&derived, &self.opts.simplify_options)
                .map_err(|e| LaplaceError::Build { stage: "simplification", message: e.to_string() })?;
            self.report.warnings.extend(rep.warnings());
            g
        } else {
            derived
        };
        self.report.simplify += t.elapsed();
        let ops = derived.insts().len();
        let t = Instant::now();
        let compiled = Compiled::new(derived)?;
        self.report.compile += t.elapsed();
        self.report.compiled += 1;
        Ok((compiled, ops))
    }

    /// Detects the Hessian's pattern given the data, colours it, and
    /// compiles the compressed Hessian (once).
    fn ensure_sparse(&mut self) -> Result<&mut Sparse, LaplaceError> {
        if self.sparse.is_none() {
            let t = Instant::now();
            let f1 = first_result_only(&self.func)?;
            let mut data: Vec<Option<&Array>> = self.args.iter().map(Some).collect();
            data[0] = None;
            let dim = self.dim;
            let hessian = saddle_ad::sparsity::sparse_hessian(&f1, 0, &data).map_err(|e| LaplaceError::Build {
                stage: "sparsity detection",
                message: format!("the Hessian over {dim} coordinates: {e}"),
            })?;
            self.report.sparsity += t.elapsed();
            let parts = hessian.build_times();
            self.report.sparsity_parts.pattern += parts.pattern;
            self.report.sparsity_parts.colouring += parts.colouring;
            self.report.sparsity_parts.function += parts.function;
            let lower = hessian.lower();
            let rows = lower.row_indices().iter().map(|&r| r as usize).collect();
            let structure = SparseStructure::new(hessian.dim(), lower.col_ptr().to_vec(), rows)?;
            self.report.sparse_hessian = Some((hessian.pattern().nnz(), hessian.num_colours()));
            let (exe, _) = self.simplify_and_compile(hessian.func().clone(), true)?;
            let seeds = hessian.seeds();
            let buf = vec![0.0; hessian.num_colours() * hessian.dim()];
            self.sparse = Some(Sparse { hessian, structure, exe, seeds, buf });
        }
        Ok(self.sparse.as_mut().expect("built above"))
    }

    fn call(&mut self, kind: Kind, x: &[f64]) -> Result<&[Array], LaplaceError> {
        self.ensure(kind)?;
        set_vector(&mut self.args[0], self.dtype, x);
        let exe = match kind {
            Kind::Value => self.value.get_mut(),
            Kind::ValueGrad => self.value_grad.get_mut(),
            Kind::ValueGradHess => self.value_grad_hess.get_mut(),
        };
        let exe = exe.expect("ensured above");
        if let Some(e) = exe.run(&self.args).err() {
            return Err(if kind == Kind::Value { e } else { in_user_terms(&self.func, &self.args, e) });
        }
        Ok(exe.outputs())
    }
}

/// A failure of a derived function, told in terms of the user's
/// function: derived functions keep the original's checks, so the
/// original fails on the same arguments, and its error names the
/// user's instruction and where it is, not an instruction of the
/// derivative.
fn in_user_terms(func: &Func, args: &[Array], derived: LaplaceError) -> LaplaceError {
    let Err(original) = saddle_runtime::reference::eval(func, args) else {
        return derived;
    };
    let loc = match &original {
        saddle_runtime::Error::IndexOutOfRange { op, at, .. }
        | saddle_runtime::Error::DivisionByZero { op, at }
        | saddle_runtime::Error::Backend { op, at, .. } => at.strip_prefix('%').and_then(|name| {
            let f = func;
            f.iter_insts()
                .find(|(v, i)| i.op.name() == *op && f.value_name(*v) == Some(name))
                .and_then(|(v, _)| f.loc(v))
        }),
        _ => None,
    };
    LaplaceError::Eval(match loc {
        Some(l) => format!("{l}: {original}"),
        None => original.to_string(),
    })
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Value,
    ValueGrad,
    ValueGradHess,
}

fn sig(message: String) -> LaplaceError {
    LaplaceError::Signature { message, loc: None }
}

fn ad_err(e: saddle_ad::Error) -> LaplaceError {
    LaplaceError::Build { stage: "differentiation", message: e.to_string() }
}

/// The dimension and dtype of the parameter vector, after checking that
/// `func` is a log density over it and that `data` fits the rest.
fn check_signature(func: &Func, data: &[Array]) -> Result<(usize, DType), LaplaceError> {
    let name = func.name();
    let Some(p0) = func.param_types().first() else {
        return Err(sig(format!("@{name} has no parameters; its first parameter must be the parameter vector")));
    };
    if !p0.dtype.is_float() || p0.rank() != 1 {
        return Err(sig(format!("@{name}'s first parameter must be a float vector (f64[d] or f32[d]), found {p0}")));
    }
    let Some(r0) = func.result_types().into_iter().next() else {
        return Err(sig(format!("@{name} returns nothing; its first result must be the scalar log density")));
    };
    if !r0.dtype.is_float() || r0.rank() != 0 {
        return Err(sig(format!("@{name}'s first result must be a float scalar (the log density), found {r0}")));
    }
    check_data(func, data)?;
    Ok((p0.shape[0], p0.dtype))
}

fn check_data(func: &Func, data: &[Array]) -> Result<(), LaplaceError> {
    let want = &func.param_types()[1..];
    if want.len() != data.len() {
        let sig_text: Vec<String> = want.iter().map(|t| t.to_string()).collect();
        return Err(sig(format!(
            "@{} takes {} data argument(s) after the parameter vector ({}), given {}",
            func.name(),
            want.len(),
            sig_text.join(", "),
            data.len()
        )));
    }
    for (i, (a, t)) in data.iter().zip(want).enumerate() {
        if &a.ty() != t {
            return Err(sig(format!("data argument {} (parameter {}) must be {t}, found {}", i, i + 1, a.ty())));
        }
    }
    Ok(())
}

/// The function computing what `kind` asks for, with the parameters of `f`.
fn derive(f: &Func, kind: Kind) -> Result<Func, LaplaceError> {
    let mut out = match kind {
        Kind::Value => first_result_only(f)?,
        Kind::ValueGrad => saddle_ad::value_and_grad(&first_result_only(f)?, 0).map_err(ad_err)?,
        Kind::ValueGradHess => {
            let f1 = first_result_only(f)?;
            let vg = saddle_ad::value_and_grad(&f1, 0).map_err(ad_err)?;
            let h = saddle_ad::hessian(&f1, 0).map_err(ad_err)?;
            // One function returning [f, ∇f, ∇²f]: CSE then shares the
            // forward pass and the residuals between the parts.
            saddle_ir::trace::trace_with(&format!("{}_vgh", f.name()), f.param_types(), |tr, args| {
                let mut r = tr.call(&vg, args);
                r.extend(tr.call(&h, args));
                r
            })
            .map_err(|e| LaplaceError::Build { stage: "differentiation", message: e.to_string() })?
        }
    };
    saddle_ir::passes::dce(&mut out);
    saddle_ir::passes::cse(&mut out);
    saddle_ir::passes::dce(&mut out);
    Ok(out)
}

/// `f` with its first result alone.
fn first_result_only(f: &Func) -> Result<Func, LaplaceError> {
    saddle_ir::trace::trace_with(f.name(), f.param_types(), |tr, args| vec![tr.call(f, args)[0]])
        .map_err(|e| LaplaceError::Build { stage: "tracing", message: e.to_string() })
}

/// Overwrites the parameter vector in place (no allocation per call).
fn set_vector(a: &mut Array, dtype: DType, x: &[f64]) {
    match a {
        Array::F64(v) if v.len() == x.len() => v.iter_mut().zip(x).for_each(|(d, s)| *d = *s),
        Array::F32(v) if v.len() == x.len() => v.iter_mut().zip(x).for_each(|(d, s)| *d = *s as f32),
        _ => *a = vector(dtype, x),
    }
}

pub(crate) fn vector(dtype: DType, x: &[f64]) -> Array {
    match dtype {
        DType::F32 => Array::F32(
            ArrayD::from_shape_vec(IxDyn(&[x.len()]), x.iter().map(|&v| v as f32).collect()).expect("vector shape"),
        ),
        _ => Array::F64(ArrayD::from_shape_vec(IxDyn(&[x.len()]), x.to_vec()).expect("vector shape")),
    }
}

fn scalar_of(a: &Array) -> f64 {
    match a {
        Array::F64(v) => v.iter().next().copied().unwrap_or(f64::NAN),
        other => other.to_f64_vec().first().copied().unwrap_or(f64::NAN),
    }
}

fn copy_into(a: &Array, out: &mut [f64]) -> Result<(), LaplaceError> {
    if a.len() != out.len() {
        return Err(LaplaceError::Eval(format!("expected {} values, the function returned {}", out.len(), a.len())));
    }
    match a {
        Array::F64(v) => out.iter_mut().zip(v.iter()).for_each(|(d, s)| *d = *s),
        other => out.copy_from_slice(&other.to_f64_vec()),
    }
    Ok(())
}

impl LogDensity for IrDensity {
    fn dim(&self) -> usize {
        self.dim
    }

    fn value(&mut self, x: &[f64]) -> Result<f64, LaplaceError> {
        let r = self.call(Kind::Value, x)?;
        Ok(scalar_of(&r[0]))
    }

    fn value_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, LaplaceError> {
        let r = self.call(Kind::ValueGrad, x)?;
        copy_into(&r[1], grad)?;
        Ok(scalar_of(&r[0]))
    }

    fn value_grad_hess(&mut self, x: &[f64], grad: &mut [f64], hess: &mut [f64]) -> Result<f64, LaplaceError> {
        let r = self.call(Kind::ValueGradHess, x)?;
        copy_into(&r[1], grad)?;
        copy_into(&r[2], hess)?;
        Ok(scalar_of(&r[0]))
    }

    fn data_size(&self) -> usize {
        self.args[1..].iter().map(Array::len).sum()
    }

    fn hessian_structure(&mut self) -> Result<Option<SparseStructure>, LaplaceError> {
        Ok(Some(self.ensure_sparse()?.structure.clone()))
    }

    fn value_grad_sparse_hess(
        &mut self,
        x: &[f64],
        grad: &mut [f64],
        structure: &SparseStructure,
        values: &mut [f64],
    ) -> Result<f64, LaplaceError> {
        self.ensure_sparse()?;
        set_vector(&mut self.args[0], self.dtype, x);
        let sparse = self.sparse.as_mut().expect("ensured above");
        if &sparse.structure != structure {
            return Err(LaplaceError::Structure {
                message: "the pattern asked for is not the one this density detected".into(),
            });
        }
        // The compressed function takes the density's arguments, then the seeds.
        self.args.push(std::mem::replace(&mut sparse.seeds, Array::F64(ArrayD::zeros(IxDyn(&[0])))));
        let run = sparse.exe.run(&self.args).map(|_| ());
        sparse.seeds = self.args.pop().expect("pushed above");
        if let Err(e) = run {
            return Err(in_user_terms(&self.func, &self.args, e));
        }
        let out = sparse.exe.outputs();
        copy_into(&out[1], grad)?;
        copy_into(&out[2], &mut sparse.buf)?;
        sparse
            .hessian
            .recover(&sparse.buf, values)
            .map_err(|e| LaplaceError::Eval(format!("recovering the sparse Hessian: {e}")))?;
        Ok(scalar_of(&out[0]))
    }
}

/// Delta-method standard errors of derived quantities (TMB's `sdreport`):
/// `g` is a function whose first parameter is the parameter vector in the
/// constrained space (the other parameters are `data`), and whose first
/// result is a scalar or a vector of `k` quantities.
///
/// The Jacobian of `g` comes from the AD crate (reverse mode); it is
/// chained with the constraint maps, so that the covariance used is the
/// one the fit computed.
///
/// ```
/// use saddle_ir::{TensorType, trace};
/// use saddle_laplace::{IrDensity, Options, laplace, sdreport};
/// let f = trace("logp", &[TensorType::f64([2])], |x| vec![-0.5 * (x[0] * x[0]).sum_all()]).unwrap();
/// let fit = laplace(&mut IrDensity::new(&f, vec![]).unwrap(), &[1.0, 1.0], &Options::default()).unwrap();
/// // The sum of two independent standard normals has standard error √2.
/// let g = trace("g", &[TensorType::f64([2])], |x| vec![x[0].sum_all()]).unwrap();
/// let r = sdreport(&fit, &g, &[]).unwrap();
/// assert!((r.std[0] - 2f64.sqrt()).abs() < 1e-12);
/// ```
pub fn sdreport(fit: &Laplace, g: &Func, data: &[Array]) -> Result<Derived, LaplaceError> {
    let (value, mut j) = value_and_jacobian(g, fit.constrained_mode.as_slice().expect("contiguous"), data)?;
    let k = value.len();
    // Chain rule through θ = T(u): ∂g/∂u = ∂g/∂θ · diag(T'(u)).
    for (c, (constraint, &u)) in fit.constraints.iter().zip(fit.mode.iter()).enumerate() {
        let t1 = constraint.derivatives(u)[0];
        for r in 0..k {
            j[[r, c]] *= t1;
        }
    }
    fit.delta_method(&value, j.view())
}

/// `g(x)` (its first result, a float scalar or vector of `k`) and its
/// Jacobian `k × d` at `x`, after checking that `g`'s first parameter is a
/// float vector of `d = x.len()` and that `data` fits the rest.
pub(crate) fn value_and_jacobian(g: &Func, x: &[f64], data: &[Array]) -> Result<(Vec<f64>, Array2<f64>), LaplaceError> {
    saddle_ir::verify(g).map_err(|e| sig(format!("@{} is not valid IR: {e}", g.name())))?;
    let d = x.len();
    let name = g.name();
    let p0 = g.param_types().first().cloned();
    let Some(p0) = p0.filter(|t| t.dtype.is_float() && t.shape == [d]) else {
        return Err(sig(format!("@{name}'s first parameter must be the parameter vector, a float [{d}]")));
    };
    let r0 = g.result_types().into_iter().next();
    let Some(r0) = r0.filter(|t| t.dtype.is_float() && t.rank() <= 1) else {
        return Err(sig(format!("@{name}'s first result must be a float scalar or vector")));
    };
    check_data(g, data)?;
    let k = r0.shape.first().copied().unwrap_or(1);
    let g1 = first_result_only(g)?;
    let jac = saddle_ad::jacrev(&g1, 0).map_err(ad_err)?;
    let both = saddle_ir::trace::trace_with(&format!("{name}_sdreport"), g1.param_types(), |tr, args| {
        let mut r = tr.call(&g1, args);
        r.extend(tr.call(&jac, args));
        r
    })
    .map_err(|e| LaplaceError::Build { stage: "differentiation", message: e.to_string() })?;
    let mut exe = Compiled::new(both)?;
    let mut args = vec![vector(p0.dtype, x)];
    args.extend(data.iter().cloned());
    let out = exe.run(&args)?;
    let value = out[0].to_f64_vec();
    let j = Array2::from_shape_vec((k, d), out[1].to_f64_vec()).map_err(|e| LaplaceError::Eval(e.to_string()))?;
    Ok((value, j))
}
