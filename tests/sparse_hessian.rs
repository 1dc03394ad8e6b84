//! Compressed Hessian evaluation: the Hessian recovered from the
//! compressed function, compiled and run, equals the dense Hessian on
//! random functions and points; star colourings of random patterns recover
//! every entry directly; and the structured models of large latent fields
//! (AR(1), a 2-D grid, random effects by data index, an arrowhead) get the
//! colour counts of the snapshot.

mod common;

use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use saddle::ad::sparsity::{Colouring, Pattern, SparseHessian, check_star_colouring, sparse_hessian, star_colouring};
use saddle::ir::testing::{GenOptions, random_func};
use saddle::ir::trace::trace_with;
use saddle::ir::{Array, DType, Func, TensorType, trace};

/// `f` with its first result summed through `sin` to a scalar.
fn scalarised(f: &Func) -> Option<Func> {
    if !f.result_types()[0].dtype.is_float() {
        return None;
    }
    trace_with("s", f.param_types(), |tr, x| vec![tr.call(f, x)[0].sin().sum_all()]).ok()
}

/// Runs the compressed function compiled and returns `(value, gradient,
/// dense Hessian from the recovered lower triangle)`.
fn evaluate(h: &SparseHessian, x: &[Array]) -> (f64, Vec<f64>, Vec<f64>) {
    let exe = saddle::runtime::compile(h.func()).unwrap_or_else(|e| panic!("{e}\n{}", h.func()));
    let mut args = x.to_vec();
    args.push(h.seeds());
    let r = exe.run(&args).unwrap();
    let mut lower = vec![0.0; h.lower().nnz()];
    h.recover(&r[2].to_f64_vec(), &mut lower).unwrap();
    (r[0].to_f64_vec()[0], r[1].to_f64_vec(), h.to_dense(&lower).unwrap())
}

/// The dense Hessian by `saddle::ad::hessian`, compiled.
fn dense(f: &Func, wrt: usize, x: &[Array]) -> Vec<f64> {
    let h = saddle::ad::hessian(f, wrt).unwrap();
    saddle::runtime::compile(&h).unwrap().run(x).unwrap()[0].to_f64_vec()
}

/// Checks the recovered Hessian against the dense one, to rounding
/// relative to the largest entry.
fn check_against_dense(what: &str, f: &Func, wrt: usize, x: &[Array], data_known: bool) {
    let data: Vec<Option<&Array>> = x.iter().map(|a| data_known.then_some(a)).collect();
    let h = sparse_hessian(f, wrt, &data).unwrap_or_else(|e| panic!("{what}: {e}\n{f}"));
    check_star_colouring(h.pattern(), h.colouring()).unwrap();
    let want = dense(f, wrt, x);
    if want.iter().any(|v| !v.is_finite()) {
        return;
    }
    let (value, grad, got) = evaluate(&h, x);
    let vg = saddle::ad::value_and_grad(f, wrt).unwrap();
    let r = saddle::runtime::compile(&vg).unwrap().run(x).unwrap();
    let scale = want.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    for (i, (a, b)) in got.iter().zip(&want).enumerate() {
        assert!((a - b).abs() <= 1e-9 * scale, "{what}: entry {i}: sparse {a}, dense {b}\n{f}");
    }
    let v = r[0].to_f64_vec()[0];
    if !v.is_finite() || r[1].to_f64_vec().iter().any(|g| !g.is_finite()) {
        return;
    }
    assert!((value - v).abs() <= 1e-12 * v.abs().max(1.0) || value == v, "{what}: value {value} vs {v}");
    for (a, b) in grad.iter().zip(r[1].to_f64_vec()) {
        assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{what}: gradient {a} vs {b}");
    }
}

fn f64_array(shape: &[usize], v: Vec<f64>) -> Array {
    Array::F64(ArrayD::from_shape_vec(IxDyn(shape), v).unwrap())
}

fn i64_array(v: Vec<i64>) -> Array {
    let n = v.len();
    Array::I64(ArrayD::from_shape_vec(IxDyn(&[n]), v).unwrap())
}

/// `Σ (x[1:] - ρ·x[:-1])²/2 + Σ log(1 + exp(x))`: an AR(1) prior and a
/// separable likelihood.
fn ar1(n: usize, dtype: DType) -> Func {
    trace("ar1", &[TensorType::new(dtype, vec![n])], |x| {
        let x = x[0];
        let d = x.slice(&[1], &[n]) - 0.9 * x.slice(&[0], &[n - 1]);
        vec![0.5 * (d * d).sum_all() + x.softplus().sum_all()]
    })
    .unwrap()
}

/// A Gaussian Markov random field on an `r × c` grid (5-point stencil) with
/// a Poisson likelihood.
fn grid(r: usize, c: usize) -> Func {
    trace("grid", &[TensorType::f64([r, c])], |x| {
        let x = x[0];
        let dv = x.slice(&[1, 0], &[r, c]) - x.slice(&[0, 0], &[r - 1, c]);
        let dh = x.slice(&[0, 1], &[r, c]) - x.slice(&[0, 0], &[r, c - 1]);
        vec![0.5 * (dv * dv).sum_all() + 0.5 * (dh * dh).sum_all() + (x.exp() - x).sum_all()]
    })
    .unwrap()
}

/// Random intercepts and slopes by group: `u: [g, 2]`, observation `i` in
/// group `idx[i]` with covariate `t[i]` and a Poisson likelihood, standard
/// normal prior. The Hessian is block-diagonal, 2 × 2 blocks.
fn slopes(g: usize, m: usize) -> Func {
    let types = [TensorType::f64([g, 2]), TensorType::new(DType::I64, vec![m]), TensorType::f64([m])];
    trace("slopes", &types, |a| {
        let (u, idx, t) = (a[0], a[1], a[2]);
        let a0 = u.slice(&[0, 0], &[g, 1]).reshape(&[g]).take(idx, 0);
        let a1 = u.slice(&[0, 1], &[g, 2]).reshape(&[g]).take(idx, 0);
        let eta = a0 + a1 * t;
        vec![(eta.exp() - eta).sum_all() + 0.5 * (u * u).sum_all()]
    })
    .unwrap()
}

/// One global mean and `g` random intercepts in one vector `[μ, u…]`:
/// every `u` couples with `μ` (an arrowhead).
fn arrowhead(g: usize, m: usize) -> Func {
    let types = [TensorType::f64([g + 1]), TensorType::new(DType::I64, vec![m])];
    trace("arrowhead", &types, |a| {
        let (x, idx) = (a[0], a[1]);
        let mu = x.slice(&[0], &[1]).reshape(&[]).broadcast_in_dim(&[m], &[]);
        let u = x.slice(&[1], &[g + 1]);
        let eta = mu + u.take(idx, 0);
        vec![(eta.exp() - eta).sum_all() + 0.5 * (u * u).sum_all()]
    })
    .unwrap()
}

/// `m` observations spread over `g` groups, every group used.
fn groups(g: usize, m: usize, seed: u64) -> Vec<i64> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..m).map(|i| if i < g { i as i64 } else { rng.random_range(0..g as i64) }).collect()
}

fn uniform(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()
}

#[test]
fn structured_models_match_dense_hessians() {
    let x = [f64_array(&[30], uniform(30, 1))];
    check_against_dense("ar1", &ar1(30, DType::F64), 0, &x, true);
    let x = [f64_array(&[6, 7], uniform(42, 2))];
    check_against_dense("grid", &grid(6, 7), 0, &x, true);
    let x = [f64_array(&[8, 2], uniform(16, 3)), i64_array(groups(8, 20, 3)), f64_array(&[20], uniform(20, 4))];
    check_against_dense("slopes", &slopes(8, 20), 0, &x, true);
    check_against_dense("slopes, data unknown", &slopes(8, 20), 0, &x, false);
    let x = [f64_array(&[13], uniform(13, 5)), i64_array(groups(12, 30, 5))];
    check_against_dense("arrowhead", &arrowhead(12, 30), 0, &x, true);
    check_against_dense("arrowhead, data unknown", &arrowhead(12, 30), 0, &x, false);
}

#[test]
fn f32_functions_get_f32_seeds() {
    let f = ar1(10, DType::F32);
    let h = sparse_hessian(&f, 0, &[None]).unwrap();
    assert_eq!(h.seeds().ty(), TensorType::new(DType::F32, vec![3, 10]));
    let x = [Array::F32(ArrayD::from_shape_vec(IxDyn(&[10]), vec![0.25f32; 10]).unwrap())];
    let (_, _, got) = evaluate(&h, &x);
    let want = dense(&f, 0, &x);
    for (a, b) in got.iter().zip(&want) {
        assert!((a - b).abs() <= 1e-5, "{a} vs {b}");
    }
}

/// `(n, nnz both triangles, nnz lower with diagonal, colours)` of a model.
fn stats(f: &Func, data: &[Option<&Array>]) -> String {
    let h = sparse_hessian(f, 0, data).unwrap();
    check_star_colouring(h.pattern(), h.colouring()).unwrap();
    format!(
        "{:<28} n {:>6}  nnz {:>7}  lower {:>7}  colours {}",
        f.name(),
        h.dim(),
        h.pattern().nnz(),
        h.lower().nnz(),
        h.num_colours()
    )
}

#[test]
fn colour_counts_of_structured_models() {
    let (g, m) = (1000, 5000);
    let idx = i64_array(groups(g, m, 7));
    let lines = [
        stats(&ar1(100_000, DType::F64), &[None]),
        stats(&grid(100, 100), &[None]),
        stats(&grid(300, 300), &[None]),
        stats(&slopes(g, m), &[None, Some(&idx), None]),
        stats(&arrowhead(g, m), &[None, Some(&idx)]),
        stats(&arrowhead(g, m), &[None, None]),
    ];
    insta::assert_snapshot!(lines.join("\n"));
}

/// A random symmetric pattern: `n` vertices, edges with probability `p`,
/// plus a few hubs coupled to everything (as global parameters are), hubs
/// coupled to most vertices, and dense blocks (as random effects indexed
/// by unknown data give).
fn random_pattern(seed: u64) -> Pattern {
    let mut rng = StdRng::seed_from_u64(seed);
    let n = rng.random_range(1..40usize);
    let p: f64 = rng.random_range(0.0..0.3);
    let hubs = rng.random_range(0..3usize).min(n);
    let mut entries = vec![];
    for i in 0..n {
        if rng.random_bool(0.7) {
            entries.push((i, i));
        }
        for j in 0..i {
            if j < hubs || rng.random_bool(p) {
                entries.extend([(i, j), (j, i)]);
            }
        }
    }
    for _ in 0..rng.random_range(0..3) {
        let (h, keep) = (rng.random_range(0..n), rng.random_range(0.5..1.0));
        for i in (0..n).filter(|&i| i != h) {
            if rng.random_bool(keep) {
                entries.extend([(i, h), (h, i)]);
            }
        }
    }
    for _ in 0..rng.random_range(0..3) {
        let a = rng.random_range(0..n);
        let b = rng.random_range(a..n) + 1;
        for i in a..b {
            entries.extend((a..b).map(|j| (i, j)));
        }
    }
    Pattern::from_entries(n, n, entries).unwrap()
}

/// Direct recovery by definition: for every entry `(i, j)`, `j` is the only
/// column of colour `c(j)` among row `i`'s entries and `i` itself, or the
/// same with `i` and `j` exchanged.
fn recovers_directly(p: &Pattern, c: &Colouring) -> bool {
    let only = |row: usize, col: usize| {
        let k = c.colour(col);
        p.column(row).iter().map(|&u| u as usize).chain([row]).all(|u| u == col || c.colour(u) != k)
    };
    p.entries().all(|(i, j)| if i == j { only(j, j) } else { only(i, j) || only(j, i) })
}

/// A star colouring by definition: adjacent columns differ and every path
/// on four vertices uses three colours.
fn is_star(p: &Pattern, c: &Colouring) -> bool {
    let n = p.ncols();
    let nb = |v: usize| p.column(v).iter().map(|&u| u as usize).filter(move |&u| u != v);
    let col = |v: usize| c.colour(v).unwrap();
    if p.entries().any(|(i, j)| i != j && col(i) == col(j)) {
        return false;
    }
    for a in 0..n {
        for b in nb(a) {
            for cc in nb(b).filter(|&v| v != a && col(v) == col(a)) {
                if nb(cc).any(|d| d != b && d != a && col(d) == col(b)) {
                    return false;
                }
            }
        }
    }
    true
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, max_shrink_iters: 8, failure_persistence: None, ..ProptestConfig::default() })]

    /// The recovered Hessian equals the dense one on random functions over
    /// every op kind, at random points, with the data known and unknown.
    #[test]
    fn sparse_equals_dense_on_random_functions(seed in any::<u64>()) {
        let opts = GenOptions {
            special_floats: false,
            float_only: true,
            param_dtypes: vec![DType::F64],
            ..GenOptions::default()
        };
        let Some(f) = scalarised(&random_func(seed, &opts)) else { return Ok(()) };
        let x = common::random_inputs(f.param_types(), seed);
        for k in (0..f.num_params()).filter(|&k| f.param_types()[k].dtype.is_float()) {
            for known in [true, false] {
                check_against_dense(&format!("seed {seed}, wrt {k}, data known {known}"), &f, k, &x, known);
            }
        }
    }

    /// The recovered Hessian equals the dense one for functions whose
    /// Hessian has a random pattern (hubs and dense blocks included):
    /// `Σ softplus(x[i]·x[j])` over the pattern's entries, the index
    /// arrays given as data.
    #[test]
    fn sparse_equals_dense_on_random_patterns(seed in any::<u64>()) {
        let p = random_pattern(seed);
        let n = p.ncols();
        let (rows, cols): (Vec<i64>, Vec<i64>) = p.entries().filter(|&(i, j)| i <= j).map(|(i, j)| (i as i64, j as i64)).unzip();
        if rows.is_empty() {
            return Ok(());
        }
        let m = rows.len();
        let types = [TensorType::f64([n]), TensorType::new(DType::I64, vec![m]), TensorType::new(DType::I64, vec![m])];
        let f = trace("pattern", &types, |a| {
            let (x, i, j) = (a[0], a[1], a[2]);
            vec![(x.take(i, 0) * x.take(j, 0)).softplus().sum_all()]
        })
        .unwrap();
        let x = [f64_array(&[n], uniform(n, seed)), i64_array(rows), i64_array(cols)];
        check_against_dense(&format!("seed {seed}"), &f, 0, &x, true);
        let h = sparse_hessian(&f, 0, &[None, Some(&x[1]), Some(&x[2])]).unwrap();
        // The detected pattern is the generated one, off the diagonal.
        let off = |q: &Pattern| q.entries().filter(|&(i, j)| i != j).collect::<Vec<_>>();
        prop_assert_eq!(off(h.pattern()), off(&p));
    }

    /// Star colourings of random patterns are star colourings, recover every
    /// entry directly, and the checker agrees; a colouring that breaks the
    /// property is refused by the checker.
    #[test]
    fn star_colourings_of_random_patterns_recover_directly(seed in any::<u64>()) {
        let p = random_pattern(seed);
        let c = star_colouring(&p).unwrap();
        prop_assert!(is_star(&p, &c));
        prop_assert!(recovers_directly(&p, &c));
        prop_assert!(check_star_colouring(&p, &c).is_ok());
        prop_assert_eq!(&c, &star_colouring(&p).unwrap());
        // Merging two colours: the checker and the definition agree.
        if c.num_colours() >= 2 {
            let merged = Colouring::new(c.colours().iter().map(|&k| if k == 1 { 0 } else { k }).collect());
            prop_assert_eq!(check_star_colouring(&p, &merged).is_ok(), recovers_directly(&p, &merged));
        }
    }
}
