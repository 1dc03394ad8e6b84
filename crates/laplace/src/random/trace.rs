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
fn fill(a: &mut Array, values: &[f64]) {
    match a {
        Array::F64(v) => v.iter_mut().zip(values).for_each(|(d, s)| *d = *s),
        Array::F32(v) => v.iter_mut().zip(values).for_each(|(d, s)| *d = *s as f32),
        _ => {}
    }
}

/// The same derivative with `W` given only on the lower pattern of
/// `∇²f`: `t(x, W) = Σ_lower w_k·m_k·H_k(x)` with `m_k = 1` on the diagonal
/// and `2` below it (the two symmetric entries), written on the compressed
/// product as `Σ Ŵ ⊙ (H·Sᵀ)` with `Ŵ[sources[k]] = m_k·w_k`. One compiled
/// reverse pass over the compressed Hessian's program; nothing `d × d`.
pub(super) struct SparseTraceGrad {
    exe: Compiled,
    /// `x`, `Ŵ`, the data, then the seeds.
    args: Vec<Array>,
    /// Per lower entry, its compressed slot and its multiplicity.
    slots: Vec<(usize, f64)>,
    what: Vec<f64>,
}

impl SparseTraceGrad {
    /// Builds for `hessian` (the compressed Hessian of `func`'s first
    /// result over its first parameter, `dtype[d]`) with `data`.
    pub(super) fn new(
        func: &Func,
        hessian: &saddle_ad::sparsity::SparseHessian,
        data: &[Array],
        dtype: DType,
    ) -> Result<SparseTraceGrad, LaplaceError> {
        let tracing = build_err("tracing");
        let differentiation = build_err("differentiation");
        let (c, d) = (hessian.num_colours(), hessian.dim());
        let comp = hessian.func();
        let mut params = vec![func.param_types()[0].clone(), TensorType::new(dtype, vec![c, d])];
        params.extend(func.param_types()[1..].iter().cloned());
        params.push(TensorType::new(dtype, vec![c, d]));
        let t = trace_with(&format!("{}_trace_w_sparse_hessian", func.name()), &params, |tr, args| {
            let mut hargs = vec![args[0]];
            hargs.extend_from_slice(&args[2..]);
            let hs = tr.call(comp, &hargs)[2];
            vec![(hs * args[1]).sum_all()]
        })
        .map_err(|e| tracing(e.to_string()))?;
        let exe = compiled_gradient(&t, &differentiation)?;
        let mut args = vec![array(dtype, &[d], &vec![0.0; d]), array(dtype, &[c, d], &vec![0.0; c * d])];
        args.extend(data.iter().cloned());
        args.push(hessian.seeds());
        let slots = hessian
            .lower()
            .entries()
            .zip(hessian.sources())
            .map(|((i, j), &s)| (s, if i == j { 1.0 } else { 2.0 }))
            .collect();
        Ok(SparseTraceGrad { exe, args, slots, what: vec![0.0; c * d] })
    }

    /// `∇ₓ t(x, W)` into `out`, `w` holding `W` on the lower pattern.
    pub(super) fn run(&mut self, x: &[f64], w: &[f64], out: &mut [f64]) -> Result<(), LaplaceError> {
        if w.len() != self.slots.len() {
            return Err(LaplaceError::Eval("the weights do not match the Hessian's pattern".into()));
        }
        self.what.iter_mut().for_each(|v| *v = 0.0);
        for (&(s, m), &wk) in self.slots.iter().zip(w) {
            self.what[s] += m * wk;
        }
        fill(&mut self.args[0], x);
        fill(&mut self.args[1], &self.what);
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

/// The gradient of `t` with respect to its first parameter, pruned and
/// compiled.
fn compiled_gradient(t: &Func, differentiation: &impl Fn(String) -> LaplaceError) -> Result<Compiled, LaplaceError> {
    let mut g = saddle_ad::grad(t, 0).map_err(|e| differentiation(e.to_string()))?;
    saddle_ir::passes::dce(&mut g);
    saddle_ir::passes::cse(&mut g);
    saddle_ir::passes::dce(&mut g);
    Compiled::new(g)
}

#[cfg(test)]
mod tests {
    use saddle_ir::{DType, TensorType, trace};

    use super::{SparseTraceGrad, TraceGrad};

    #[test]
    fn sparse_weights_on_the_pattern_equal_the_dense_contraction() {
        // AR(1)-like density with exp terms: third derivatives are nonzero.
        let n = 7;
        let f = trace("f", &[TensorType::f64([n])], |x| {
            let x = x[0];
            let d = x.slice(&[1], &[n]) - 0.7 * x.slice(&[0], &[n - 1]);
            vec![-0.5 * (d * d).sum_all() - x.exp().sum_all() + (d * d * d).sum_all()]
        })
        .unwrap();
        let h = saddle_ad::sparsity::sparse_hessian(&f, 0, &[None]).unwrap();
        let lower: Vec<(usize, usize)> = h.lower().entries().collect();
        let w: Vec<f64> = (0..lower.len()).map(|k| 0.3 + 0.11 * k as f64).collect();
        let mut dense = vec![0.0; n * n];
        for (&(i, j), &v) in lower.iter().zip(&w) {
            dense[i * n + j] = v;
            dense[j * n + i] = v;
        }
        let x: Vec<f64> = (0..n).map(|k| 0.2 * k as f64 - 0.5).collect();
        let (mut a, mut b) = (vec![0.0; n], vec![0.0; n]);
        TraceGrad::new(&f, &[], n, DType::F64).unwrap().run(&x, &dense, &mut a).unwrap();
        let mut s = SparseTraceGrad::new(&f, &h, &[], DType::F64).unwrap();
        s.run(&x, &w, &mut b).unwrap();
        for k in 0..n {
            assert!((a[k] - b[k]).abs() <= 1e-12 * (1.0 + a[k].abs()), "{k}: {} vs {}", a[k], b[k]);
        }
        assert!(a.iter().any(|v| v.abs() > 1e-3));
        assert!(s.run(&x, &w[1..], &mut b).is_err());
    }
}
