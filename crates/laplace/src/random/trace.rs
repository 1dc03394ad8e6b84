//! The derivative of the log determinant, from IR: the gradient in `x` of
//! `t(x, W) = Σᵢⱼ Wᵢⱼ · ∇²f(x)ᵢⱼ`, with `W` held fixed.
//!
//! With `W = (∇²ᵤf)⁻¹` placed on the random block (zero elsewhere), its
//! `k`-th entry is `tr(W · ∂(∇²ᵤf)/∂xₖ) = ∂/∂xₖ log det(−∇²ᵤf)`, for every
//! coordinate at once, by one reverse pass over the Hessian's program
//! (third derivatives of `f`, never formed).

use ndarray::{ArrayD, IxDyn};
use saddle_ir::trace::trace_with;
use saddle_ir::{Array, DType, Func, TensorType};

use crate::LaplaceError;
use crate::exec::Compiled;

/// The compiled `x, W, data ↦ ∇ₓ t(x, W)`.
pub(super) struct TraceGrad {
    exe: Compiled,
    /// `x`, `W`, then the data.
    args: Vec<Array>,
}

fn build_err(stage: &'static str) -> impl Fn(String) -> LaplaceError {
    move |message| LaplaceError::Build { stage, message }
}

impl TraceGrad {
    /// Differentiates and compiles for `func` (a log density over its
    /// first parameter, `dtype[d]`) with `data`.
    pub(super) fn new(func: &Func, data: &[Array], d: usize, dtype: DType) -> Result<TraceGrad, LaplaceError> {
        let tracing = build_err("tracing");
        let differentiation = build_err("differentiation");
        let f1 = trace_with(func.name(), func.param_types(), |tr, args| vec![tr.call(func, args)[0]])
            .map_err(|e| tracing(e.to_string()))?;
        let hess = saddle_ad::hessian(&f1, 0).map_err(|e| differentiation(e.to_string()))?;
        let mut params = vec![func.param_types()[0].clone(), TensorType::new(dtype, vec![d, d])];
        params.extend(func.param_types()[1..].iter().cloned());
        let t = trace_with(&format!("{}_trace_w_hessian", func.name()), &params, |tr, args| {
            let mut hargs = vec![args[0]];
            hargs.extend_from_slice(&args[2..]);
            let h = tr.call(&hess, &hargs)[0];
            vec![(h * args[1]).sum_all()]
        })
        .map_err(|e| tracing(e.to_string()))?;
        let exe = compiled_gradient(&t, &differentiation)?;
        let mut args = vec![array(dtype, &[d], &vec![0.0; d]), array(dtype, &[d, d], &vec![0.0; d * d])];
        args.extend(data.iter().cloned());
        Ok(TraceGrad { exe, args })
    }

    /// `∇ₓ t(x, W)` into `out` (`W` is `d × d` row-major).
    pub(super) fn run(&mut self, x: &[f64], w: &[f64], out: &mut [f64]) -> Result<(), LaplaceError> {
        fill(&mut self.args[0], x);
        fill(&mut self.args[1], w);
        let r = self.exe.run(&self.args)?;
        let Some(g) = r.first().filter(|g| g.len() == out.len()) else {
            return Err(LaplaceError::Eval("the derivative of the log determinant has the wrong shape".into()));
        };
        match g {
            Array::F64(v) => out.iter_mut().zip(v.iter()).for_each(|(o, s)| *o = *s),
            other => out.copy_from_slice(&other.to_f64_vec()),
        }
        Ok(())
    }
}

/// An array of `dtype` (f32 or f64) and `shape` holding `values`.
pub(super) fn array(dtype: DType, shape: &[usize], values: &[f64]) -> Array {
    let shape = IxDyn(shape);
    match dtype {
        DType::F32 => Array::F32(
            ArrayD::from_shape_vec(shape, values.iter().map(|&v| v as f32).collect()).expect("shape matches"),
        ),
        _ => Array::F64(ArrayD::from_shape_vec(shape, values.to_vec()).expect("shape matches")),
    }
}

/// Overwrites a float array's entries in place.
pub(super) fn fill(a: &mut Array, values: &[f64]) {
    match a {
        Array::F64(v) => v.iter_mut().zip(values).for_each(|(d, s)| *d = *s),
        Array::F32(v) => v.iter_mut().zip(values).for_each(|(d, s)| *d = *s as f32),
        _ => {}
    }
}

/// The gradient of `t` with respect to its first parameter, pruned and
/// compiled.
fn compiled_gradient(t: &Func, differentiation: &impl Fn(String) -> LaplaceError) -> Result<Compiled, LaplaceError> {
    let mut g = saddle_ad::grad(t, 0).map_err(|e| differentiation(e.to_string()))?;
    saddle_ir::passes::dce(&mut g);
    saddle_ir::passes::cse(&mut g);
    saddle_ir::passes::dce(&mut g);
    Compiled::new(g)
}
