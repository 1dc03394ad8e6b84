//! The public transformations: each takes a [`Func`] and returns a new one.

use saddle_ir::{Func, Tensor, TensorType, Tracer, Value, verify};

use crate::batch::{self, B};
use crate::jvp::{self, Tangent, copy_params};
use crate::partial;
use crate::transpose as tp;
use crate::util::{check, eye, float_param, move_axis, or_zeros};
use crate::{Error, Result};

/// Builds a function in a fresh tracer: `body` adds the parameters, then
/// the ops, and returns the results. Dead code is removed.
pub(crate) fn build<F>(name: &str, body: F) -> Result<Func>
where
    F: for<'t> FnOnce(&'t Tracer) -> Result<Vec<Tensor<'t>>>,
{
    let tr = Tracer::new(name);
    let results: Vec<Value> = body(&tr)?.iter().map(|t| t.value()).collect();
    let mut f = crate::guard::keep_index_checks(tr.finish_values(&results)?)?;
    saddle_ir::passes::dce(&mut f);
    Ok(f)
}

/// `f` without the instructions its results do not need: a transformation
/// works on what the original runs, so that the index checks it keeps (see
/// `guard`) are those of the original's live code.
fn live(f: &Func) -> std::borrow::Cow<'_, Func> {
    // A dead instruction exists exactly when some instruction has no use.
    let uses = f.use_counts();
    if f.iter_insts().all(|(v, _)| uses[v.index()] > 0) {
        return std::borrow::Cow::Borrowed(f);
    }
    let mut g = f.clone();
    saddle_ir::passes::dce(&mut g);
    std::borrow::Cow::Owned(g)
}

/// Inlines `f` applied to `args` into `tr`, keeping value names and
/// locations (unlike [`Tracer::call`]).
fn inline<'t>(tr: &'t Tracer, f: &Func, args: &[Tensor<'t>]) -> Result<Vec<Tensor<'t>>> {
    let mut map: Vec<Tensor<'t>> = args.to_vec();
    for (v, inst) in f.iter_insts() {
        tr.set_location_override(f.loc(v));
        let xs: Vec<Tensor<'t>> = inst.args.iter().map(|a| map[a.index()]).collect();
        let out = tr.op(inst.op.clone(), &xs);
        if let Some(name) = f.value_name(v) {
            out.named(name);
        }
        map.push(out);
    }
    tr.set_location_override(None);
    check(tr)?;
    Ok(f.results().iter().map(|r| map[r.index()]).collect())
}

/// A new parameter of type `ty`, named after `like` with `suffix`.
fn param_like<'t>(tr: &'t Tracer, ty: &TensorType, name: Option<&str>, suffix: &str) -> Tensor<'t> {
    let t = tr.param(ty.clone());
    match name {
        Some(n) => t.named(&format!("{n}{suffix}")),
        None => t,
    }
}

fn param_name(f: &Func, k: usize) -> Option<&str> {
    f.value_name(Value::from_index(k))
}

/// The first result's type, checked to be a float (and a scalar when
/// `scalar`).
fn first_result(f: &Func, transform: &'static str, scalar: bool) -> Result<TensorType> {
    let ty = f.result_types().into_iter().next().ok_or(Error::Count { what: "results", expected: 1, found: 0 })?;
    if scalar && !ty.is_scalar() {
        return Err(Error::NonScalarResult { transform, func: f.name().to_string(), ty });
    }
    if !ty.dtype.is_float() {
        return Err(Error::NonFloatResult { transform, func: f.name().to_string(), ty });
    }
    Ok(ty)
}

/// Forward mode: the Jacobian-vector product.
///
/// The new function takes the parameters of `f`, then one tangent per
/// float parameter, and returns the results of `f`, then one tangent per
/// float result. Integer and bool parameters and results carry no tangent.
///
/// ```
/// use saddle_ir::{trace, TensorType, print_func};
/// let f = trace("f", &[TensorType::f64([])], |x| vec![x[0].sin()]).unwrap();
/// let df = saddle_ad::jvp(&f).unwrap();
/// assert_eq!(df.num_params(), 2);
/// assert!(print_func(&df).contains("cos"));
/// ```
pub fn jvp(f: &Func) -> Result<Func> {
    verify(f)?;
    let f = &*live(f);
    jvp::jvp_func(f, None)
}

/// Forward mode with respect to some parameters only: like [`jvp`], with
/// tangent parameters for the float parameters listed in `wrt` alone.
pub fn jvp_wrt(f: &Func, wrt: &[usize]) -> Result<Func> {
    verify(f)?;
    let f = &*live(f);
    for &k in wrt {
        float_param(f, k)?;
    }
    jvp::jvp_func(f, Some(wrt))
}

/// A function split by [`linearize`] into its primal and linear parts.
#[derive(Clone, Debug)]
pub struct Linearized {
    /// The parameters of the original function; its results, then the
    /// residuals the linear part needs.
    pub primal: Func,
    /// The residuals, then one tangent per float parameter; one tangent per
    /// float result. Linear in the tangents.
    pub linear: Func,
    /// How many residuals pass from `primal` to `linear`.
    pub num_residuals: usize,
}

/// Linearization: the JVP, partially evaluated into a primal function
/// (everything that depends on the parameters alone) and a linear function
/// of the tangents (everything else), as JAX's `linearize` does.
///
/// `transpose(&l.linear, l.linear.num_params() - l.num_residuals)` is the
/// pull-back: reverse mode is JVP, partial evaluation and transposition.
///
/// ```
/// use saddle_ir::{trace, TensorType};
/// let f = trace("f", &[TensorType::f64([3])], |x| vec![x[0].exp().sum_all()]).unwrap();
/// let l = saddle_ad::linearize(&f).unwrap();
/// // exp(x) is computed once, in the primal part, and handed over.
/// assert_eq!(l.num_residuals, 1);
/// assert!(!saddle_ir::print_func(&l.linear).contains("exp"));
/// ```
pub fn linearize(f: &Func) -> Result<Linearized> {
    verify(f)?;
    let f = &*live(f);
    let g = jvp::jvp_func(f, None)?;
    partial::split(&g, f)
}

/// Transposition of a function linear in its last `num_linear` parameters
/// (the others are constants).
///
/// The new function takes the constant parameters, then one cotangent per
/// float result, and returns one cotangent per linear parameter. Results
/// that do not depend on the linear parameters contribute nothing. An op
/// that is not linear in the linear parameters is refused with
/// [`Error::NotLinear`].
///
/// ```
/// use saddle_ir::{parse_func, print_func};
/// // y = 2·x transposes to x̄ = ȳ·2.
/// let f = parse_func("f.sir", "func @f(%x: f64[3]) -> f64[3] {
///   %two: f64[3] = const {value = 2.0}
///   %y: f64[3] = mul %two, %x
///   return %y
/// }").unwrap();
/// let t = saddle_ad::transpose(&f, 1).unwrap();
/// assert_eq!(t.result_types()[0].shape, vec![3]);
/// ```
pub fn transpose(linear: &Func, num_linear: usize) -> Result<Func> {
    verify(linear)?;
    let linear = &*live(linear);
    let n = linear.num_params();
    if num_linear > n {
        return Err(Error::Count { what: "linear parameters", expected: n, found: num_linear });
    }
    let nonlin = n - num_linear;
    for k in nonlin..n {
        float_param(linear, k)?;
    }
    build(&format!("{}_transpose", linear.name()), |tr| {
        let mut args: Vec<Option<Tensor<'_>>> =
            (0..nonlin).map(|k| Some(param_like(tr, &linear.param_types()[k], param_name(linear, k), ""))).collect();
        args.extend((nonlin..n).map(|_| None));
        let result_cts: Vec<Option<Tensor<'_>>> =
            linear.result_types().iter().map(|ty| ty.dtype.is_float().then(|| param_like(tr, ty, None, ""))).collect();
        let e = tp::emit(tr, linear, &args, &result_cts)?;
        Ok((nonlin..n).map(|k| or_zeros(tr, e.cts[k], &linear.param_types()[k])).collect())
    })
}

/// Runs the pull-back of `f` inside `tr`: the results of `f` at `params`,
/// and the cotangent of each parameter in `wrt` (`None` elsewhere and for
/// symbolic zeros) given one cotangent per result of `f`.
pub(crate) fn vjp_emit<'t>(
    tr: &'t Tracer,
    f: &Func,
    wrt: Option<&[usize]>,
    params: &[Tensor<'t>],
    cts: &[Option<Tensor<'t>>],
) -> Result<(Vec<Tensor<'t>>, Vec<Tangent<'t>>)> {
    let g = jvp::jvp_func(f, wrt)?;
    let n = f.num_params();
    let with_tangent: Vec<usize> =
        (0..n).filter(|&k| f.param_types()[k].dtype.is_float() && wrt.is_none_or(|w| w.contains(&k))).collect();
    let mut args: Vec<Option<Tensor<'t>>> = params.iter().copied().map(Some).collect();
    args.extend(with_tangent.iter().map(|_| None));
    let mut result_cts: Vec<Option<Tensor<'t>>> = vec![None; f.results().len()];
    for (i, ty) in f.result_types().iter().enumerate() {
        if ty.dtype.is_float() {
            result_cts.push(cts[i]);
        }
    }
    let e = tp::emit(tr, &g, &args, &result_cts)?;
    let outs = e.known[..f.results().len()]
        .iter()
        .map(|o| o.ok_or_else(|| Error::Internal("a primal result depends on a tangent".into())))
        .collect::<Result<Vec<_>>>()?;
    let mut param_cts = vec![None; n];
    for (j, &k) in with_tangent.iter().enumerate() {
        param_cts[k] = e.cts[n + j];
    }
    Ok((outs, param_cts))
}

/// Reverse mode: the vector-Jacobian product, by linearization and
/// transposition.
///
/// The new function takes the parameters of `f`, then one cotangent per
/// float result, and returns the results of `f`, then one cotangent per
/// float parameter.
///
/// ```
/// use saddle_ir::{trace, TensorType};
/// let f = trace("f", &[TensorType::f64([2])], |x| vec![x[0].exp()]).unwrap();
/// let b = saddle_ad::vjp(&f).unwrap();
/// assert_eq!(b.num_params(), 2);
/// assert_eq!(b.results().len(), 2);
/// ```
pub fn vjp(f: &Func) -> Result<Func> {
    verify(f)?;
    let f = &*live(f);
    build(&format!("{}_vjp", f.name()), |tr| {
        let params = copy_params(tr, f);
        let cts: Vec<Option<Tensor<'_>>> = f
            .results()
            .iter()
            .map(|&r| f.ty(r).dtype.is_float().then(|| param_like(tr, f.ty(r), f.value_name(r), ".ct")))
            .collect();
        let (outs, param_cts) = vjp_emit(tr, f, None, &params, &cts)?;
        let mut results = outs;
        for (k, ty) in f.param_types().iter().enumerate() {
            if ty.dtype.is_float() {
                results.push(or_zeros(tr, param_cts[k], ty));
            }
        }
        Ok(results)
    })
}

/// The gradient of the scalar first result with respect to parameter
/// `wrt`: a function of the same parameters returning one array shaped
/// like that parameter.
///
/// ```
/// use saddle_ir::{trace, TensorType};
/// let f = trace("f", &[TensorType::f64([3])], |x| vec![(x[0] * x[0]).sum_all()]).unwrap();
/// let g = saddle_ad::grad(&f, 0).unwrap();
/// assert_eq!(g.result_types(), vec![TensorType::f64([3])]);
/// // A vector-valued function has no gradient.
/// let h = trace("h", &[TensorType::f64([3])], |x| vec![x[0].exp()]).unwrap();
/// assert!(saddle_ad::grad(&h, 0).unwrap_err().to_string().contains("scalar"));
/// ```
pub fn grad(f: &Func, wrt: usize) -> Result<Func> {
    grad_impl(f, wrt, false, "grad")
}

/// The first result and the gradient of it with respect to parameter
/// `wrt` (see [`grad`]), computed together.
pub fn value_and_grad(f: &Func, wrt: usize) -> Result<Func> {
    grad_impl(f, wrt, true, "value_and_grad")
}

fn grad_impl(f: &Func, wrt: usize, with_value: bool, transform: &'static str) -> Result<Func> {
    verify(f)?;
    let f = &*live(f);
    let out_ty = first_result(f, transform, true)?;
    let p = float_param(f, wrt)?.clone();
    build(&format!("{}_{transform}", f.name()), |tr| {
        let params = copy_params(tr, f);
        let mut cts = vec![None; f.results().len()];
        cts[0] = Some(tr.ones(&out_ty));
        let (outs, param_cts) = vjp_emit(tr, f, Some(&[wrt]), &params, &cts)?;
        let g = or_zeros(tr, param_cts[wrt], &p);
        Ok(if with_value { vec![outs[0], g] } else { vec![g] })
    })
}

/// `t` reshaped to `shape` (no op when it has that shape already).
fn reshape_to<'t>(t: Tensor<'t>, shape: &[usize]) -> Tensor<'t> {
    if t.shape() == shape { t } else { t.reshape(shape) }
}

/// `[n] ++ shape` basis: the identity of size `n` (the number of elements
/// of `shape`), each row reshaped to `shape`.
fn basis<'t>(tr: &'t Tracer, ty: &TensorType) -> Tensor<'t> {
    let n = ty.num_elements();
    let e = eye(tr, n, ty.dtype);
    if ty.rank() == 1 {
        return e;
    }
    let mut shape = vec![n];
    shape.extend(&ty.shape);
    e.reshape(&shape)
}

/// The Jacobian of the first result with respect to parameter `wrt`, in
/// forward mode: the JVP, batched with [`vmap`] over the standard basis of
/// the parameter. Its shape is `shape(result) ++ shape(parameter)`.
///
/// ```
/// use saddle_ir::{trace, TensorType};
/// let f = trace("f", &[TensorType::f64([3])], |x| vec![x[0].exp()]).unwrap();
/// let j = saddle_ad::jacfwd(&f, 0).unwrap();
/// assert_eq!(j.result_types(), vec![TensorType::f64([3, 3])]);
/// ```
pub fn jacfwd(f: &Func, wrt: usize) -> Result<Func> {
    verify(f)?;
    let f = &*live(f);
    let r = first_result(f, "jacfwd", false)?;
    let p = float_param(f, wrt)?.clone();
    // The push-forward of one tangent of parameter `wrt`.
    let push = build(&format!("{}_pushforward", f.name()), |tr| {
        let params = copy_params(tr, f);
        let t = param_like(tr, &p, param_name(f, wrt), ".t");
        let mut tangents: Vec<Tangent<'_>> = vec![None; f.num_params()];
        tangents[wrt] = Some(t);
        let (_, touts) = jvp::emit(tr, f, &params, &tangents)?;
        Ok(vec![or_zeros(tr, touts[0], &r)])
    })?;
    let mut in_axes = vec![None; f.num_params()];
    in_axes.push(Some(0));
    let batched = vmap(&push, p.num_elements(), &in_axes, &[Some(r.rank())])?;
    build(&format!("{}_jacfwd", f.name()), |tr| {
        let mut args = copy_params(tr, f);
        args.push(basis(tr, &p));
        let j = inline(tr, &batched, &args)?[0];
        Ok(vec![reshape_to(j, &[r.shape.clone(), p.shape.clone()].concat())])
    })
}

/// The Jacobian of the first result with respect to parameter `wrt`, in
/// reverse mode: the VJP, batched with [`vmap`] over the standard basis of
/// the result. Its shape is `shape(result) ++ shape(parameter)`.
///
/// ```
/// use saddle_ir::{trace, TensorType};
/// let f = trace("f", &[TensorType::f64([3])], |x| vec![x[0].exp()]).unwrap();
/// let j = saddle_ad::jacrev(&f, 0).unwrap();
/// assert_eq!(j.result_types(), vec![TensorType::f64([3, 3])]);
/// ```
pub fn jacrev(f: &Func, wrt: usize) -> Result<Func> {
    verify(f)?;
    let f = &*live(f);
    let r = first_result(f, "jacrev", false)?;
    let p = float_param(f, wrt)?.clone();
    // The pull-back of one cotangent of the first result.
    let pull = build(&format!("{}_pullback", f.name()), |tr| {
        let params = copy_params(tr, f);
        let ct = param_like(tr, &r, None, "");
        let mut cts = vec![None; f.results().len()];
        cts[0] = Some(ct);
        let (_, param_cts) = vjp_emit(tr, f, Some(&[wrt]), &params, &cts)?;
        Ok(vec![or_zeros(tr, param_cts[wrt], &p)])
    })?;
    let mut in_axes = vec![None; f.num_params()];
    in_axes.push(Some(0));
    let batched = vmap(&pull, r.num_elements(), &in_axes, &[Some(0)])?;
    build(&format!("{}_jacrev", f.name()), |tr| {
        let mut args = copy_params(tr, f);
        args.push(basis(tr, &r));
        let j = inline(tr, &batched, &args)?[0];
        Ok(vec![reshape_to(j, &[r.shape.clone(), p.shape.clone()].concat())])
    })
}

/// The Hessian of the scalar first result with respect to parameter
/// `wrt`: forward over reverse, `jacfwd(grad(f))`, as JAX computes it. Its
/// shape is `shape(parameter) ++ shape(parameter)`.
///
/// ```
/// use saddle_ir::{trace, TensorType};
/// let f = trace("f", &[TensorType::f64([2])], |x| vec![(x[0] * x[0]).sum_all()]).unwrap();
/// let h = saddle_ad::hessian(&f, 0).unwrap();
/// assert_eq!(h.result_types(), vec![TensorType::f64([2, 2])]);
/// ```
pub fn hessian(f: &Func, wrt: usize) -> Result<Func> {
    verify(f)?;
    let f = &*live(f);
    first_result(f, "hessian", true)?;
    float_param(f, wrt)?;
    let mut h = jacfwd(&grad(f, wrt)?, wrt)?;
    h.set_name(format!("{}_hessian", f.name()));
    Ok(h)
}

/// The Hessian-vector product of the scalar first result with respect to
/// parameter `wrt`, forward over reverse: the new function takes the
/// parameters of `f`, then a vector `v` shaped like parameter `wrt`, and
/// returns `H·v` without forming `H`.
///
/// ```
/// use saddle_ir::{trace, TensorType};
/// let f = trace("f", &[TensorType::f64([2])], |x| vec![x[0].exp().sum_all()]).unwrap();
/// let hv = saddle_ad::hvp(&f, 0).unwrap();
/// assert_eq!(hv.num_params(), 2);
/// ```
pub fn hvp(f: &Func, wrt: usize) -> Result<Func> {
    verify(f)?;
    let f = &*live(f);
    first_result(f, "hvp", true)?;
    let p = float_param(f, wrt)?.clone();
    let g = grad(f, wrt)?;
    build(&format!("{}_hvp", f.name()), |tr| {
        let params = copy_params(tr, f);
        let v = param_like(tr, &p, None, "");
        let mut tangents: Vec<Tangent<'_>> = vec![None; f.num_params()];
        tangents[wrt] = Some(v);
        let (_, touts) = jvp::emit(tr, &g, &params, &tangents)?;
        Ok(vec![or_zeros(tr, touts[0], &p)])
    })
}

/// Batching: the function applied to a batch of `size` arguments at once.
///
/// `in_axes` has one entry per parameter: `Some(a)` inserts a batch axis of
/// extent `size` at position `a` of that parameter's type, `None` leaves
/// the parameter unbatched (shared by every batch element). `out_axes` has
/// one entry per result: `Some(a)` puts the batch axis at position `a` of
/// that result (broadcasting results that do not depend on the batch),
/// `None` requires the result not to depend on the batched parameters.
///
/// ```
/// use saddle_ir::{trace, TensorType};
/// let f = trace("f", &[TensorType::f64([3]), TensorType::f64([])], |x| vec![(x[0] * x[1]).sum_all()]).unwrap();
/// // Batch the vector over axis 1, share the scalar.
/// let v = saddle_ad::vmap(&f, 5, &[Some(1), None], &[Some(0)]).unwrap();
/// assert_eq!(v.param_types()[0], TensorType::f64([3, 5]));
/// assert_eq!(v.result_types(), vec![TensorType::f64([5])]);
/// ```
pub fn vmap(f: &Func, size: usize, in_axes: &[Option<usize>], out_axes: &[Option<usize>]) -> Result<Func> {
    verify(f)?;
    let f = &*live(f);
    if in_axes.len() != f.num_params() {
        return Err(Error::Count { what: "vmap in_axes", expected: f.num_params(), found: in_axes.len() });
    }
    if out_axes.len() != f.results().len() {
        return Err(Error::Count { what: "vmap out_axes", expected: f.results().len(), found: out_axes.len() });
    }
    let mut param_types = Vec::with_capacity(f.num_params());
    for (k, (ty, axis)) in f.param_types().iter().zip(in_axes).enumerate() {
        param_types.push(match axis {
            Some(a) if *a > ty.rank() => {
                return Err(Error::Batch(format!("in_axes[{k}] = {a} is out of range for parameter {k} of type {ty}")));
            }
            Some(a) => {
                let mut shape = ty.shape.clone();
                shape.insert(*a, size);
                TensorType::new(ty.dtype, shape).checked().map_err(|e| Error::Batch(e.to_string()))?
            }
            None => ty.clone(),
        });
    }
    for (i, (ty, axis)) in f.result_types().iter().zip(out_axes).enumerate() {
        if let Some(a) = axis {
            if *a > ty.rank() {
                return Err(Error::Batch(format!("out_axes[{i}] = {a} is out of range for result {i} of type {ty}")));
            }
        }
    }
    build(&format!("{}_vmap", f.name()), |tr| {
        let params: Vec<Tensor<'_>> =
            param_types.iter().enumerate().map(|(k, ty)| param_like(tr, ty, param_name(f, k), "")).collect();
        let args: Vec<B<'_>> = params
            .iter()
            .zip(in_axes)
            .map(|(t, axis)| match axis {
                Some(a) => B::at(*t, *a),
                None => B::unbatched(*t),
            })
            .collect();
        let outs = batch::emit(tr, f, &args, size)?;
        outs.iter()
            .zip(out_axes)
            .enumerate()
            .map(|(i, (o, axis))| match (axis, o.bdim) {
                (Some(a), Some(b)) => Ok(move_axis(o.t, b, *a)),
                (Some(a), None) => {
                    let mut shape = o.t.shape();
                    shape.insert(*a, size);
                    let dims: Vec<usize> = (0..shape.len()).filter(|d| d != a).collect();
                    Ok(o.t.broadcast_in_dim(&shape, &dims))
                }
                (None, None) => Ok(o.t),
                (None, Some(_)) => Err(Error::Batch(format!(
                    "result {i} depends on a batched parameter, but its out_axes entry says it is not batched"
                ))),
            })
            .collect()
    })
}

/// [`vmap`] with a leading batch axis on every parameter and result (the
/// `vmap=SIZE` pass).
pub fn vmap_leading(f: &Func, size: usize) -> Result<Func> {
    vmap(f, size, &vec![Some(0); f.num_params()], &vec![Some(0); f.results().len()])
}
