//! The sparse inner problem, over the random effects alone.
//!
//! The log density is rewritten as `g(u, θ, data, perm)`: the random
//! effects `u` are the differentiated parameter, the fixed effects θ an
//! argument like the data, and `x = take((u, θ), perm)` rebuilds the full
//! parameter vector. The Hessian pattern is detected, star-coloured and
//! compressed over `u` only, so the fixed effects' rows and columns (which
//! couple to many random effects) neither enter the colouring nor the
//! compressed products: the inner Newton steps and the log determinant
//! need `H_uu` alone.
//!
//! The marginal's gradient needs, besides `H_uu`, three things at the inner
//! mode, each from one compiled function:
//!
//! - the derivative of `log det(−H_uu)` in `u` and θ: the gradient in
//!   `v = (u, θ)` of `Σ Ŵ ⊙ (H_uu·Sᵀ)`, with `Ŵ` the selected inverse placed
//!   on the compressed slots (one reverse pass of the compressed program);
//! - `∂f/∂θ` and `H_θu·z` (and, for the summary, `H_uθ·e_k`): the value,
//!   gradient and one Hessian-vector product of `f` over `v`.

use ndarray::{ArrayD, IxDyn};
use saddle_ad::sparsity::SparseHessian;
use saddle_ir::trace::{Tensor, Tracer, trace_with};
use saddle_ir::{Array, DType, Func, TensorType};

use super::trace::{array, fill};
use crate::exec::Compiled;
use crate::{LaplaceError, SparseStructure};

fn build_err(stage: &'static str) -> impl Fn(String) -> LaplaceError {
    move |message| LaplaceError::Build { stage, message }
}

/// The compressed Hessian over the random effects, and the derivatives of
/// the marginal's other terms, compiled for one model and its data.
pub(super) struct Split {
    func: Func,
    dtype: DType,
    fixed: Vec<usize>,
    random: Vec<usize>,
    /// The Hessian of `g` over `u`: pattern, colouring, compressed function.
    hessian: SparseHessian,
    /// Its lower pattern (with the whole diagonal).
    structure: SparseStructure,
    /// `u, θ, data… ↦ [g, ∇ᵤg, H_uu·Sᵀ]`.
    exe: Compiled,
    /// `u`, `θ`, the data, `perm`, the seeds.
    args: Vec<Array>,
    /// The compressed product of the last evaluation.
    buf: Vec<f64>,
    trace: Option<Trace>,
    mixed: Option<Mixed>,
    /// The packed point `v = (u, θ)` of the last call.
    v: Vec<f64>,
    /// `x` as runs `(start in v, length)` when there are few of them.
    runs: Option<Vec<(usize, usize)>>,
}

/// `v, Ŵ, data…, perm, seeds ↦ ∇ᵥ Σ Ŵ ⊙ (H_uu·Sᵀ)`.
struct Trace {
    exe: Compiled,
    /// `v`, `Ŵ`, the data, `perm`, the seeds.
    args: Vec<Array>,
    /// Per lower entry, its compressed slot and its multiplicity.
    slots: Vec<(usize, f64)>,
    what: Vec<f64>,
}

/// `v, data…, perm, w ↦ [f, ∇ᵥf, ∇²ᵥf·w]`.
struct Mixed {
    exe: Compiled,
    /// `v`, the data, `perm`, `w`.
    args: Vec<Array>,
}

impl Split {
    /// Rewrites `func` (a log density over its first parameter, whose
    /// other parameters take `data`) over the random effects, detects the
    /// Hessian's pattern over them given the data, colours it and compiles
    /// the compressed Hessian.
    pub(super) fn new(func: &Func, data: &[Array], fixed: &[usize], random: &[usize]) -> Result<Split, LaplaceError> {
        let dtype = func.param_types()[0].dtype;
        let (p, q, d) = (fixed.len(), random.len(), fixed.len() + random.len());
        // perm[i]: where x_i sits in v = (u, θ).
        let mut perm = vec![0_i64; d];
        random.iter().enumerate().for_each(|(a, &i)| perm[i] = a as i64);
        fixed.iter().enumerate().for_each(|(k, &i)| perm[i] = (q + k) as i64);
        let runs = runs(&perm);
        let perm = Array::I64(ArrayD::from_shape_vec(IxDyn(&[d]), perm).expect("vector shape"));
        let mut params = vec![TensorType::new(dtype, vec![q]), TensorType::new(dtype, vec![p])];
        params.extend(func.param_types()[1..].iter().cloned());
        params.push(perm.ty());
        let g = trace_with(&format!("{}_given_fixed", func.name()), &params, |tr, args| {
            let n = args.len();
            let x = match &runs {
                // x is (u, θ) in a few contiguous runs: slices that the
                // simplifier sees through, no gather and no scatter in the
                // derivatives.
                Some(runs) => {
                    let parts: Vec<_> = split_at(runs, q)
                        .map(|(start, len)| match start < q {
                            true => whole_or_slice(args[0], start, len, q),
                            false => whole_or_slice(args[1], start - q, len, p),
                        })
                        .collect();
                    joined(tr, &parts)
                }
                None => {
                    let v = if p == 0 { args[0] } else { tr.concatenate(&[args[0], args[1]], 0) };
                    v.take(args[n - 1], 0)
                }
            };
            let mut fargs = vec![x];
            fargs.extend_from_slice(&args[2..n - 1]);
            vec![tr.call(func, &fargs)[0]]
        })
        .map_err(|e| build_err("tracing")(e.to_string()))?;
        let mut known: Vec<Option<&Array>> = vec![None, None];
        known.extend(data.iter().map(Some));
        known.push(Some(&perm));
        let hessian = saddle_ad::sparsity::sparse_hessian(&g, 0, &known).map_err(|e| LaplaceError::Build {
            stage: "sparsity detection",
            message: format!("the Hessian over {q} random effects: {e}"),
        })?;
        let lower = hessian.lower();
        let rows = lower.row_indices().iter().map(|&r| r as usize).collect();
        let structure = SparseStructure::new(q, lower.col_ptr().to_vec(), rows)?;
        let exe = Compiled::new(hessian.func().clone())?;
        let mut args = vec![array(dtype, &[q], &vec![0.0; q]), array(dtype, &[p], &vec![0.0; p])];
        args.extend(data.iter().cloned());
        args.push(perm);
        args.push(hessian.seeds());
        let buf = vec![0.0; hessian.num_colours() * q];
        Ok(Split {
            func: func.clone(),
            dtype,
            fixed: fixed.to_vec(),
            random: random.to_vec(),
            hessian,
            structure,
            exe,
            args,
            buf,
            trace: None,
            mixed: None,
            v: vec![0.0; d],
            runs,
        })
    }

    /// The lower pattern of `H_uu` (with its whole diagonal).
    pub(super) fn structure(&self) -> &SparseStructure {
        &self.structure
    }

    /// Packs the full vector `x` into `v = (u, θ)`.
    fn pack(&mut self, x: &[f64]) {
        let q = self.random.len();
        self.random.iter().enumerate().for_each(|(a, &i)| self.v[a] = x[i]);
        self.fixed.iter().enumerate().for_each(|(k, &i)| self.v[q + k] = x[i]);
    }

    /// `f(x)`, writing `∇ᵤf` into `grad` at the random coordinates of the
    /// full gradient (the fixed ones are left alone) and the entries of
    /// `H_uu` on [`Split::structure`] into `hess`.
    pub(super) fn evaluate(&mut self, x: &[f64], grad: &mut [f64], hess: &mut [f64]) -> Result<f64, LaplaceError> {
        self.pack(x);
        let q = self.random.len();
        fill(&mut self.args[0], &self.v[..q]);
        fill(&mut self.args[1], &self.v[q..]);
        let out = self.exe.run(&self.args)?;
        let (value, gu, hs) = (out[0].to_f64_vec(), out[1].to_f64_vec(), out[2].to_f64_vec());
        if gu.len() != q || hs.len() != self.buf.len() {
            return Err(LaplaceError::Eval("the compressed Hessian has the wrong shape".into()));
        }
        self.random.iter().zip(&gu).for_each(|(&i, &g)| grad[i] = g);
        self.buf.copy_from_slice(&hs);
        self.hessian
            .recover(&self.buf, hess)
            .map_err(|e| LaplaceError::Eval(format!("recovering the sparse Hessian: {e}")))?;
        Ok(value.first().copied().unwrap_or(f64::NAN))
    }

    /// `a = ∇ₓ Σ_lower m·w·H_uu` (`m = 1` on the diagonal, 2 below it) at
    /// `x`, into `out` over all `d` coordinates: with `w` the selected
    /// inverse of `H_uu` on [`Split::structure`], the derivative of
    /// `log det(−H_uu)` in every coordinate.
    pub(super) fn trace_grad(&mut self, x: &[f64], w: &[f64], out: &mut [f64]) -> Result<(), LaplaceError> {
        if self.trace.is_none() {
            self.trace = Some(self.build_trace()?);
        }
        self.pack(x);
        let trace = self.trace.as_mut().expect("built above");
        if w.len() != trace.slots.len() {
            return Err(LaplaceError::Eval("the weights do not match the Hessian's pattern".into()));
        }
        trace.what.iter_mut().for_each(|v| *v = 0.0);
        for (&(s, m), &wk) in trace.slots.iter().zip(w) {
            trace.what[s] += m * wk;
        }
        fill(&mut trace.args[0], &self.v);
        fill(&mut trace.args[1], &trace.what);
        let r = trace.exe.run(&trace.args)?;
        let a = r.first().map(Array::to_f64_vec).unwrap_or_default();
        self.unpack(&a, out)
    }

    /// Writes a vector over `v = (u, θ)` into the full coordinates.
    fn unpack(&self, packed: &[f64], out: &mut [f64]) -> Result<(), LaplaceError> {
        if packed.len() != self.v.len() || out.len() != self.v.len() {
            return Err(LaplaceError::Eval("a derivative of the marginal has the wrong shape".into()));
        }
        let q = self.random.len();
        self.random.iter().enumerate().for_each(|(a, &i)| out[i] = packed[a]);
        self.fixed.iter().enumerate().for_each(|(k, &i)| out[i] = packed[q + k]);
        Ok(())
    }

    /// `f(x)`, `∇f(x)` and `∇²f(x)·w` (all over the full coordinates) into
    /// `grad` and `hw`.
    pub(super) fn mixed(
        &mut self,
        x: &[f64],
        w: &[f64],
        grad: &mut [f64],
        hw: &mut [f64],
    ) -> Result<f64, LaplaceError> {
        if self.mixed.is_none() {
            self.mixed = Some(self.build_mixed()?);
        }
        self.pack(x);
        let mut wp = vec![0.0; self.v.len()];
        let q = self.random.len();
        self.random.iter().enumerate().for_each(|(a, &i)| wp[a] = w[i]);
        self.fixed.iter().enumerate().for_each(|(k, &i)| wp[q + k] = w[i]);
        let mixed = self.mixed.as_mut().expect("built above");
        let n = mixed.args.len();
        fill(&mut mixed.args[0], &self.v);
        fill(&mut mixed.args[n - 1], &wp);
        let out = mixed.exe.run(&mixed.args)?;
        let (value, g, h) = (out[0].to_f64_vec(), out[1].to_f64_vec(), out[2].to_f64_vec());
        self.unpack(&g, grad)?;
        self.unpack(&h, hw)?;
        Ok(value.first().copied().unwrap_or(f64::NAN))
    }

    /// The parameters `v`, the data, `perm`, with `x = take(v, perm)`.
    fn packed_params(&self) -> Vec<TensorType> {
        let d = self.v.len();
        let mut params = vec![TensorType::new(self.dtype, vec![d])];
        params.extend(self.args[2..self.args.len() - 1].iter().map(Array::ty));
        params
    }

    fn build_trace(&self) -> Result<Trace, LaplaceError> {
        let (tracing, differentiation) = (build_err("tracing"), build_err("differentiation"));
        let (c, q, d) = (self.hessian.num_colours(), self.random.len(), self.v.len());
        let comp = self.hessian.func();
        let mut params = self.packed_params();
        params.insert(1, TensorType::new(self.dtype, vec![c, q]));
        params.push(TensorType::new(self.dtype, vec![c, q]));
        let t = trace_with(&format!("{}_trace_w_split_hessian", self.func.name()), &params, |tr, args| {
            let v = args[0];
            let mut hargs = vec![v.slice(&[0], &[q]), v.slice(&[q], &[d])];
            hargs.extend_from_slice(&args[2..]);
            let hs = tr.call(comp, &hargs)[2];
            vec![(hs * args[1]).sum_all()]
        })
        .map_err(|e| tracing(e.to_string()))?;
        let mut g = saddle_ad::grad(&t, 0).map_err(|e| differentiation(e.to_string()))?;
        prune(&mut g);
        let exe = Compiled::new(g)?;
        let mut args = vec![array(self.dtype, &[d], &vec![0.0; d]), array(self.dtype, &[c, q], &vec![0.0; c * q])];
        args.extend(self.args[2..].iter().cloned());
        let slots = self
            .hessian
            .lower()
            .entries()
            .zip(self.hessian.sources())
            .map(|((i, j), &s)| (s, if i == j { 1.0 } else { 2.0 }))
            .collect();
        Ok(Trace { exe, args, slots, what: vec![0.0; c * q] })
    }

    fn build_mixed(&self) -> Result<Mixed, LaplaceError> {
        let (tracing, differentiation) = (build_err("tracing"), build_err("differentiation"));
        let d = self.v.len();
        let params = self.packed_params();
        let func = &self.func;
        let runs = &self.runs;
        let f = trace_with(&format!("{}_packed", func.name()), &params, |tr, args| {
            let n = args.len();
            let x = match runs {
                Some(runs) => {
                    let parts: Vec<_> =
                        runs.iter().map(|&(start, len)| whole_or_slice(args[0], start, len, d)).collect();
                    joined(tr, &parts)
                }
                None => args[0].take(args[n - 1], 0),
            };
            let mut fargs = vec![x];
            fargs.extend_from_slice(&args[1..n - 1]);
            vec![tr.call(func, &fargs)[0]]
        })
        .map_err(|e| tracing(e.to_string()))?;
        let vg = saddle_ad::value_and_grad(&f, 0).map_err(|e| differentiation(e.to_string()))?;
        let hv = saddle_ad::hvp(&f, 0).map_err(|e| differentiation(e.to_string()))?;
        let mut both_params = params.clone();
        both_params.push(TensorType::new(self.dtype, vec![d]));
        let mut both = trace_with(&format!("{}_mixed", func.name()), &both_params, |tr, args| {
            let n = args.len();
            let mut r = tr.call(&vg, &args[..n - 1]);
            r.extend(tr.call(&hv, args));
            r
        })
        .map_err(|e| tracing(e.to_string()))?;
        prune(&mut both);
        let exe = Compiled::new(both)?;
        let mut args = vec![array(self.dtype, &[d], &vec![0.0; d])];
        args.extend(self.args[2..self.args.len() - 1].iter().cloned());
        args.push(array(self.dtype, &[d], &vec![0.0; d]));
        Ok(Mixed { exe, args })
    }
}

/// Runs of `x = take(v, perm)` longer than this many are gathered by
/// `take`; fewer are sliced and concatenated.
const MAX_RUNS: usize = 64;

/// `perm` as maximal runs `(start in v, length)` of consecutive entries,
/// or `None` when there are more than [`MAX_RUNS`].
fn runs(perm: &[i64]) -> Option<Vec<(usize, usize)>> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &k in perm {
        let k = k as usize;
        match runs.last_mut() {
            Some((start, len)) if *start + *len == k => *len += 1,
            _ => runs.push((k, 1)),
        }
        if runs.len() > MAX_RUNS {
            return None;
        }
    }
    Some(runs)
}

/// The runs cut where `v = (u, θ)` passes from `u` (the first `q`) to `θ`.
fn split_at(runs: &[(usize, usize)], q: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
    runs.iter().flat_map(move |&(start, len)| {
        let end = start + len;
        let pieces = if start < q && q < end { [(start, q - start), (q, end - q)] } else { [(start, len), (0, 0)] };
        pieces.into_iter().filter(|&(_, len)| len > 0)
    })
}

/// `t[start..start + len]`, or `t` itself when that is all of its `n`.
fn whole_or_slice(t: Tensor<'_>, start: usize, len: usize, n: usize) -> Tensor<'_> {
    if start == 0 && len == n { t } else { t.slice(&[start], &[start + len]) }
}

/// The parts joined in order: the one part itself, or their concatenation.
fn joined<'t>(tr: &'t Tracer, parts: &[Tensor<'t>]) -> Tensor<'t> {
    if parts.len() == 1 { parts[0] } else { tr.concatenate(parts, 0) }
}

/// Dead-code elimination and common subexpressions (the forward pass
/// shared between the parts).
fn prune(f: &mut Func) {
    saddle_ir::passes::dce(f);
    saddle_ir::passes::cse(f);
    saddle_ir::passes::dce(f);
}

#[cfg(test)]
mod tests {
    use super::super::trace::TraceGrad;
    use super::*;

    /// A log density over `d` coordinates with a chain coupling, cubic
    /// terms (so that third derivatives are not zero) and data.
    fn density(d: usize) -> (Func, Vec<Array>) {
        let f = saddle_ir::trace("chain", &[TensorType::f64([d]), TensorType::f64([d])], |a| {
            let (x, y) = (a[0], a[1]);
            let (head, tail) = (x.slice(&[0], &[d - 1]), x.slice(&[1], &[d]));
            let e = tail - 0.6 * head;
            let cubic = head * tail * tail;
            vec![(y * x - x.exp()).sum_all() - 0.5 * (e * e).sum_all() + 0.05 * cubic.sum_all()]
        })
        .expect("traces");
        let y = (0..d).map(|i| ((i * 7) % 5) as f64).collect();
        let y = Array::F64(ArrayD::from_shape_vec(IxDyn(&[d]), y).unwrap());
        (f, vec![y])
    }

    fn dense_hessian(f: &Func, data: &[Array], x: &[f64]) -> Vec<f64> {
        let h = saddle_ad::hessian(f, 0).expect("differentiates");
        let mut args = vec![array(DType::F64, &[x.len()], x)];
        args.extend(data.iter().cloned());
        Compiled::new(h).expect("compiles").run(&args).expect("runs")[0].to_f64_vec()
    }

    /// The fixed effects inside the chain, in a few runs (`x` sliced
    /// from `u` and θ) and in many (`x` gathered by `take`).
    #[test]
    fn split_derivatives_match_the_dense_ones() {
        check_split(7, vec![0, 4]);
        check_split(150, (0..150).step_by(3).collect());
    }

    fn check_split(d: usize, fixed: Vec<usize>) {
        let random: Vec<usize> = (0..d).filter(|i| !fixed.contains(i)).collect();
        let q = random.len();
        let perm: Vec<i64> = (0..d)
            .map(|i| match random.iter().position(|&r| r == i) {
                Some(a) => a as i64,
                None => (q + fixed.iter().position(|&k| k == i).unwrap()) as i64,
            })
            .collect();
        assert_eq!(runs(&perm).is_some(), d < 100, "both ways of building x are tested");
        let (f, data) = density(d);
        let x: Vec<f64> = (0..d).map(|i| 0.6 * ((i as f64) * 1.3).sin()).collect();
        let mut split = Split::new(&f, &data, &fixed, &random).expect("builds");
        let h = dense_hessian(&f, &data, &x);

        // H_uu on the structure, ∇ᵤf at the random coordinates.
        let s = split.structure().clone();
        let mut grad = vec![f64::NAN; d];
        let mut hess = vec![0.0; s.row_indices().len()];
        split.evaluate(&x, &mut grad, &mut hess).expect("evaluates");
        let mut k = 0;
        for j in 0..q {
            for &i in &s.row_indices()[s.col_ptr()[j]..s.col_ptr()[j + 1]] {
                let want = h[random[i] * d + random[j]];
                assert!((hess[k] - want).abs() <= 1e-12 * (1.0 + want.abs()), "H[{i},{j}] = {} vs {want}", hess[k]);
                k += 1;
            }
        }
        // Every nonzero of the dense H_uu is on the pattern.
        let on = |i: usize, j: usize| {
            let (i, j) = (i.max(j), i.min(j));
            s.row_indices()[s.col_ptr()[j]..s.col_ptr()[j + 1]].contains(&i)
        };
        for a in 0..q {
            for b in 0..q {
                assert!(on(a, b) || h[random[a] * d + random[b]] == 0.0, "({a},{b}) is off the pattern");
            }
        }
        assert!(fixed.iter().all(|&i| grad[i].is_nan()), "the fixed coordinates are left alone");

        // The trace gradient against the dense one, with the same weights
        // on the random block.
        let w: Vec<f64> = (0..hess.len()).map(|k| 0.1 + 0.37 * k as f64 - 0.05 * (k * k) as f64).collect();
        let mut wd = vec![0.0; d * d];
        let mut k = 0;
        for j in 0..q {
            for &i in &s.row_indices()[s.col_ptr()[j]..s.col_ptr()[j + 1]] {
                wd[random[i] * d + random[j]] = w[k];
                wd[random[j] * d + random[i]] = w[k];
                k += 1;
            }
        }
        let mut split_trace = vec![0.0; d];
        split.trace_grad(&x, &w, &mut split_trace).expect("runs");
        let mut dense_trace = vec![0.0; d];
        TraceGrad::new(&f, &data, d, DType::F64).expect("builds").run(&x, &wd, &mut dense_trace).expect("runs");
        for (i, (a, b)) in split_trace.iter().zip(&dense_trace).enumerate() {
            assert!((a - b).abs() <= 1e-11 * (1.0 + b.abs()), "trace gradient {i}: {a} vs {b}");
        }
        assert!(dense_trace.iter().any(|v| v.abs() > 1e-3), "third derivatives enter the test");

        // The value, full gradient and a Hessian-vector product.
        let v: Vec<f64> = (0..d).map(|i| 1.0 - 0.3 * i as f64).collect();
        let (mut g, mut hv) = (vec![0.0; d], vec![0.0; d]);
        let value = split.mixed(&x, &v, &mut g, &mut hv).expect("runs");
        assert!(value.is_finite());
        for i in 0..d {
            let want: f64 = (0..d).map(|j| h[i * d + j] * v[j]).sum();
            assert!((hv[i] - want).abs() <= 1e-12 * (1.0 + want.abs()), "(H·v)[{i}] = {} vs {want}", hv[i]);
            if random.contains(&i) {
                assert!((g[i] - grad[i]).abs() <= 1e-12 * (1.0 + grad[i].abs()));
            }
        }
    }
}
