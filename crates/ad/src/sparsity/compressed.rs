//! Compressed Hessian evaluation: the value, the gradient and the Hessian
//! products with the colour seeds in one function, and the recovery of the
//! Hessian's entries from them.

use std::time::{Duration, Instant};

use saddle_ir::{Array, DType, Func, Scalar, Tensor, TensorType, Value};

use super::colour::{self, Colouring, star_colouring};
use super::{Error, Options, Pattern, hessian_pattern_with};

/// A sparse Hessian ready to evaluate: its pattern, a star colouring of
/// it, the compressed function that computes the value, the gradient and
/// `H·Sᵀ` in one pass, and the map from that product to the entries.
///
/// The compressed function ([`SparseHessian::func`]) takes the parameters
/// of the original function, then the seed matrix `S` of shape `[c, n]`
/// ([`SparseHessian::seeds`]; `c` colours, `n` elements of the parameter,
/// row-major), and returns `[f, ∇f, H·Sᵀ]`: the first result, the gradient
/// (shaped like the parameter) and `[c, n]` whose row `k` is `H·s_k`. The
/// forward pass is shared between the three (CSE after the transformations),
/// and the Hessian products are batched with `vmap` over the seeds, so the
/// cost is about that of one value and gradient plus `c` Hessian-vector
/// products, `c` small for banded and hierarchical models.
///
/// [`SparseHessian::recover`] reads the entries of the **lower triangle**,
/// with the whole diagonal (structural zeros included, so a shift `λI` can
/// be added in place), in the column order of [`SparseHessian::lower`].
///
/// ```
/// use saddle_ir::{trace, TensorType};
/// use saddle_ad::sparsity::sparse_hessian;
///
/// // An AR(1) density: tridiagonal Hessian, 3 colours whatever n is.
/// let f = trace("ar1", &[TensorType::f64([6])], |x| {
///     let x = x[0];
///     let d = x.slice(&[1], &[6]) - 0.5 * x.slice(&[0], &[5]);
///     vec![(d * d).sum_all()]
/// })
/// .unwrap();
/// let h = sparse_hessian(&f, 0, &[None]).unwrap();
/// assert_eq!(h.num_colours(), 3);
/// assert_eq!(h.lower().nnz(), 6 + 5);
/// assert_eq!(h.func().result_types()[2], TensorType::f64([3, 6]));
/// ```
#[derive(Clone, Debug)]
pub struct SparseHessian {
    pattern: Pattern,
    lower: Pattern,
    colouring: Colouring,
    func: Func,
    dtype: DType,
    /// Per entry of `lower`, its flat index into the compressed product.
    src: Vec<usize>,
    times: BuildTimes,
}

/// Where the time of building a [`SparseHessian`] went (wall clock).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BuildTimes {
    /// Detecting the pattern on the IR.
    pub pattern: Duration,
    /// The star colouring and the map from the compressed product to the
    /// entries.
    pub colouring: Duration,
    /// Building the compressed function (value and gradient, the batched
    /// Hessian-vector products).
    pub function: Duration,
}

/// The Hessian of `f`'s scalar first result with respect to parameter
/// `wrt`, as a [`SparseHessian`]: its pattern detected given `data` (as
/// for [`hessian_pattern`](super::hessian_pattern); `None` entries are
/// unknown and make the pattern a conservative superset), star-coloured,
/// and the compressed function built. Default [`Options`].
pub fn sparse_hessian(f: &Func, wrt: usize, data: &[Option<&Array>]) -> Result<SparseHessian, Error> {
    sparse_hessian_with(f, wrt, data, &Options::default())
}

/// [`sparse_hessian`] with explicit limits for the pattern's detection.
pub fn sparse_hessian_with(
    f: &Func,
    wrt: usize,
    data: &[Option<&Array>],
    opts: &Options,
) -> Result<SparseHessian, Error> {
    let t = Instant::now();
    let pattern = hessian_pattern_with(f, wrt, data, opts)?;
    let pattern_time = t.elapsed();
    let t = Instant::now();
    let colouring = star_colouring(&pattern)?;
    let n = pattern.ncols();
    let lower = lower_with_diagonal(&pattern);
    let src = colour::sources(&pattern, &colouring, lower.entries())?;
    let colouring_time = t.elapsed();
    let t = Instant::now();
    let dtype = f.param_types()[wrt].dtype;
    let func = compressed_func(f, wrt, colouring.num_colours(), n)?;
    let times = BuildTimes { pattern: pattern_time, colouring: colouring_time, function: t.elapsed() };
    Ok(SparseHessian { pattern, lower, colouring, func, dtype, src, times })
}

/// The lower triangle of a symmetric pattern, with every diagonal entry.
fn lower_with_diagonal(p: &Pattern) -> Pattern {
    let n = p.ncols();
    let mut col_ptr = Vec::with_capacity(n + 1);
    col_ptr.push(0);
    let mut row_idx = Vec::with_capacity(p.nnz() / 2 + n);
    for j in 0..n {
        row_idx.push(j as u32);
        row_idx.extend(p.column(j).iter().filter(|&&i| i as usize > j));
        col_ptr.push(row_idx.len());
    }
    Pattern { nrows: n, col_ptr, row_idx }
}

/// `[f, ∇f, H·Sᵀ]` as one function of `f`'s parameters and `S: [c, n]`.
fn compressed_func(f: &Func, wrt: usize, c: usize, n: usize) -> Result<Func, Error> {
    let p = f.param_types()[wrt].clone();
    let vg = crate::value_and_grad(f, wrt)?;
    let hv = crate::hvp(f, wrt)?;
    let mut in_axes = vec![None; f.num_params()];
    in_axes.push(Some(0));
    let batched = crate::vmap(&hv, c, &in_axes, &[Some(0)])?;
    let mut seed_shape = vec![c];
    seed_shape.extend(&p.shape);
    let mut out = crate::api::build(&format!("{}_sparse_hessian", f.name()), |tr| {
        let mut args: Vec<Tensor<'_>> = f
            .param_types()
            .iter()
            .enumerate()
            .map(|(k, ty)| {
                let t = tr.param(ty.clone());
                match f.value_name(Value::from_index(k)) {
                    Some(name) => t.named(name),
                    None => t,
                }
            })
            .collect();
        let seeds = tr.param(TensorType::new(p.dtype, vec![c, n])).named("seeds");
        let mut results = tr.call(&vg, &args);
        args.push(if seed_shape.len() == 2 { seeds } else { seeds.reshape(&seed_shape) });
        let hs = tr.call(&batched, &args)[0];
        results.push(if seed_shape.len() == 2 { hs } else { hs.reshape(&[c, n]) });
        crate::util::check(tr)?;
        Ok(results)
    })?;
    saddle_ir::passes::dce(&mut out);
    saddle_ir::passes::cse(&mut out);
    saddle_ir::passes::dce(&mut out);
    Ok(out)
}

impl SparseHessian {
    /// The number of elements `n` of the parameter (the Hessian is `n × n`).
    pub fn dim(&self) -> usize {
        self.pattern.ncols()
    }

    /// Where the time of building it went: detection, colouring and the
    /// compressed function.
    pub fn build_times(&self) -> BuildTimes {
        self.times
    }

    /// The detected pattern, both triangles.
    pub fn pattern(&self) -> &Pattern {
        &self.pattern
    }

    /// The lower triangle of the pattern with the whole diagonal: the
    /// layout of [`SparseHessian::recover`]'s output (CSC, rows increasing
    /// within a column, the diagonal first in each column).
    pub fn lower(&self) -> &Pattern {
        &self.lower
    }

    /// The star colouring of the pattern's columns.
    pub fn colouring(&self) -> &Colouring {
        &self.colouring
    }

    /// The number of colours `c`: Hessian-vector products per evaluation.
    pub fn num_colours(&self) -> usize {
        self.colouring.num_colours()
    }

    /// The compressed function `[f, ∇f, H·Sᵀ]` (see the type's documentation).
    pub fn func(&self) -> &Func {
        &self.func
    }

    /// The compressed function, taking ownership.
    pub fn into_func(self) -> Func {
        self.func
    }

    /// The seed matrix `S`, `[c, n]`, in the parameter's float type: the
    /// last argument of [`SparseHessian::func`].
    pub fn seeds(&self) -> Array {
        let c = self.num_colours();
        let n = self.dim();
        let ty = TensorType::new(self.dtype, vec![c, n]);
        // Zeros, then a one per column (no matrix of scalars in between).
        let mut seeds = Array::full(&ty, Scalar::from_f64(self.dtype, 0.0));
        let ones = self.colouring.colours().iter().enumerate().map(|(j, &k)| k as usize * n + j);
        let done = match &mut seeds {
            Array::F64(a) => a.as_slice_mut().map(|s| ones.for_each(|i| s[i] = 1.0)),
            Array::F32(a) => a.as_slice_mut().map(|s| ones.for_each(|i| s[i] = 1.0)),
            Array::I32(_) | Array::I64(_) | Array::Bool(_) => None,
        };
        if done.is_none() {
            let s: Vec<Scalar> =
                self.colouring.seed_matrix().into_iter().map(|x| Scalar::from_f64(self.dtype, x)).collect();
            // The count and the dtype match by construction.
            if let Some(a) = Array::from_scalars(&ty, &s) {
                seeds = a;
            }
        }
        seeds
    }

    /// Reads the lower-triangle entries (layout [`SparseHessian::lower`])
    /// from the compressed product, the third result of
    /// [`SparseHessian::func`] as `f64`, row-major `[c, n]`. No allocation.
    ///
    /// ```
    /// use saddle_ir::{trace, TensorType};
    /// // f = x0·x1 + x1²: H = [[0, 1], [1, 2]].
    /// let f = trace("f", &[TensorType::f64([2])], |x| {
    ///     let (a, b) = (x[0].slice(&[0], &[1]), x[0].slice(&[1], &[2]));
    ///     vec![(a * b + b * b).sum_all()]
    /// })
    /// .unwrap();
    /// let h = saddle_ad::sparsity::sparse_hessian(&f, 0, &[None]).unwrap();
    /// // Two colours, one per column: H·s_0 = [0, 1], H·s_1 = [1, 2].
    /// assert_eq!(h.colouring().colours(), [0, 1]);
    /// let c = [0.0, 1.0, 1.0, 2.0];
    /// let expect = [0.0, 1.0, 2.0]; // H00, H10, H11
    /// let mut lower = vec![0.0; h.lower().nnz()];
    /// h.recover(&c, &mut lower).unwrap();
    /// assert_eq!(lower, expect);
    /// assert_eq!(h.to_dense(&lower).unwrap(), vec![0.0, 1.0, 1.0, 2.0]);
    /// ```
    pub fn recover(&self, compressed: &[f64], lower_values: &mut [f64]) -> Result<(), Error> {
        let want = self.num_colours() * self.dim();
        if compressed.len() != want {
            return Err(Error::Length { what: "the compressed product", expected: want, found: compressed.len() });
        }
        if lower_values.len() != self.src.len() {
            return Err(Error::Length {
                what: "the lower-triangle buffer",
                expected: self.src.len(),
                found: lower_values.len(),
            });
        }
        for (v, &s) in lower_values.iter_mut().zip(&self.src) {
            *v = compressed[s];
        }
        Ok(())
    }

    /// Per entry of [`SparseHessian::lower`] (in its order), the flat index
    /// `c·n + i` of the slot of the compressed product `H·Sᵀ` that
    /// [`SparseHessian::recover`] reads it from. Under a star colouring
    /// with direct recovery each slot holds exactly that entry, so a sum
    /// `Σ_k w_k·H[lower_k]` equals `Σ_slots ŵ ⊙ (H·Sᵀ)` with `ŵ[sources()[k]] = w_k`
    /// and zero elsewhere, as a function of the point.
    ///
    /// ```
    /// use saddle_ir::{trace, TensorType};
    /// // f = x0·x1 + x1²: two colours, one per column; H00 is read from
    /// // slot (0, 0) and H11 from slot (1, 1) of the [2, 2] product.
    /// let f = trace("f", &[TensorType::f64([2])], |x| {
    ///     let (a, b) = (x[0].slice(&[0], &[1]), x[0].slice(&[1], &[2]));
    ///     vec![(a * b + b * b).sum_all()]
    /// })
    /// .unwrap();
    /// let h = saddle_ad::sparsity::sparse_hessian(&f, 0, &[None]).unwrap();
    /// let src = h.sources();
    /// assert_eq!((src.len(), src[0], src[2]), (3, 0, 3));
    /// ```
    pub fn sources(&self) -> &[usize] {
        &self.src
    }

    /// The dense `n × n` row-major Hessian from lower-triangle entries
    /// (both triangles filled). For tests and small problems.
    pub fn to_dense(&self, lower_values: &[f64]) -> Result<Vec<f64>, Error> {
        if lower_values.len() != self.lower.nnz() {
            return Err(Error::Length {
                what: "the lower-triangle values",
                expected: self.lower.nnz(),
                found: lower_values.len(),
            });
        }
        let n = self.dim();
        let mut d = vec![0.0; n * n];
        for ((i, j), &v) in self.lower.entries().zip(lower_values) {
            d[i * n + j] = v;
            d[j * n + i] = v;
        }
        Ok(d)
    }
}
