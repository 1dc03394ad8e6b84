//! Sparsity detection is exact on the structures that sparse Hessians are
//! for: separable sums, AR(1) series, random effects indexed by data, 2-D
//! Markov random fields, products with data matrices (dense and sparse),
//! and dense regressions; and refuses bad data with typed errors.

use saddle_ad::sparsity::{Error, Options, Pattern, hessian_pattern, hessian_pattern_with, jacobian_pattern};
use saddle_ir::trace::trace_with;
use saddle_ir::{Array, DType, Func, Scalar, TensorType, trace};

fn f64s(shape: &[usize], values: &[f64]) -> Array {
    let ty = TensorType::f64(shape);
    Array::from_scalars(&ty, &values.iter().map(|&v| Scalar::F64(v)).collect::<Vec<_>>()).unwrap()
}

fn i64s(values: &[i64]) -> Array {
    let ty = TensorType::new(DType::I64, [values.len()]);
    Array::from_scalars(&ty, &values.iter().map(|&v| Scalar::I64(v)).collect::<Vec<_>>()).unwrap()
}

/// The pattern as a sorted list of entries, checked to be a valid CSC
/// (increasing rows) and symmetric when square.
fn entries(p: &Pattern) -> Vec<(usize, usize)> {
    for j in 0..p.ncols() {
        assert!(p.column(j).windows(2).all(|w| w[0] < w[1]), "column {j} not increasing");
    }
    let e: Vec<(usize, usize)> = p.entries().collect();
    assert_eq!(e.len(), p.nnz());
    e
}

fn assert_symmetric(p: &Pattern) {
    for (i, j) in entries(p) {
        assert!(p.contains(j, i), "({i}, {j}) present but not ({j}, {i})");
    }
}

#[test]
fn separable_sum_is_diagonal() {
    let d = 7;
    let f = trace("sep", &[TensorType::f64([d])], |x| {
        let x = x[0];
        vec![x.exp().sum_all() + (x * x).sum_all() - x.log1p().sum_all() + 3.0 * x.sum_all()]
    })
    .unwrap();
    let p = hessian_pattern(&f, 0, &[None]).unwrap();
    assert_eq!(entries(&p), (0..d).map(|i| (i, i)).collect::<Vec<_>>());
}

#[test]
fn linear_function_has_an_empty_hessian() {
    let f = trace("lin", &[TensorType::f64([4])], |x| vec![(2.0 * x[0] - x[0].slice(&[0], &[4])).sum_all()]).unwrap();
    let p = hessian_pattern(&f, 0, &[None]).unwrap();
    assert_eq!((p.nrows(), p.ncols(), p.nnz()), (4, 4, 0));
}

fn ar1(d: usize) -> Func {
    trace("ar1", &[TensorType::f64([d]), TensorType::f64([d])], |a| {
        let (x, y) = (a[0], a[1]);
        let e = x.slice(&[1], &[d]) - 0.8 * x.slice(&[0], &[d - 1]);
        vec![-0.5 * (e * e).sum_all() + (y * x - x.exp()).sum_all()]
    })
    .unwrap()
}

#[test]
fn ar1_is_tridiagonal() {
    for d in [2, 3, 10, 1000] {
        let y = f64s(&[d], &vec![1.0; d]);
        let p = hessian_pattern(&ar1(d), 0, &[None, Some(&y)]).unwrap();
        assert_eq!(p.nnz(), 3 * d - 2, "d = {d}");
        assert_symmetric(&p);
        for (i, j) in entries(&p) {
            assert!(i.abs_diff(j) <= 1);
        }
    }
}

/// Intercept and slope per group, `eta_i = u[g_i, 0] + u[g_i, 1]·t_i`,
/// Poisson observations and a normal prior: one 2×2 block per observed
/// group, the diagonal for groups without observations.
fn random_effects(groups: usize, n: usize) -> Func {
    let tys = [TensorType::f64([groups, 2]), TensorType::new(DType::I64, [n]), TensorType::f64([n])];
    trace_with("re", &tys, |_, a| {
        let (u, g, t) = (a[0], a[1], a[2]);
        let per_obs = u.take(g, 0);
        let eta = per_obs.slice(&[0, 0], &[n, 1]).reshape(&[n]) + per_obs.slice(&[0, 1], &[n, 2]).reshape(&[n]) * t;
        vec![(eta.exp() - 2.0 * eta).sum_all() + 0.5 * (u * u).sum_all()]
    })
    .unwrap()
}

#[test]
fn random_effects_by_data_index_are_blocks() {
    let (groups, n) = (6, 9);
    let g = i64s(&[0, 2, 2, 5, 0, 2, 5, 5, 0]);
    let t = f64s(&[n], &(0..n).map(|i| i as f64 + 1.0).collect::<Vec<_>>());
    let f = random_effects(groups, n);
    let p = hessian_pattern(&f, 0, &[None, Some(&g), Some(&t)]).unwrap();
    let observed = [0, 2, 5];
    let mut expected = Vec::new();
    for j in 0..2 * groups {
        for i in 0..2 * groups {
            let (gi, gj) = (i / 2, j / 2);
            if i == j || (gi == gj && observed.contains(&gi)) {
                expected.push((i, j));
            }
        }
    }
    assert_eq!(entries(&p), expected);
    assert_eq!(p.nnz(), 4 * 3 + 2 * 3);
    // Unknown indices: each observation may touch every group.
    let q = hessian_pattern(&f, 0, &[None, None, Some(&t)]).unwrap();
    assert_eq!(q.nnz(), (2 * groups) * (2 * groups));
    // The same through segment_sum: per-group sums of a per-observation
    // effect, squared.
    let tys = [TensorType::f64([n]), TensorType::new(DType::I64, [n])];
    let f = trace("seg", &tys, |a| {
        let s = a[0].segment_sum(a[1], groups);
        vec![(s * s).sum_all()]
    })
    .unwrap();
    let p = hessian_pattern(&f, 0, &[None, Some(&g)]).unwrap();
    let gv = [0, 2, 2, 5, 0, 2, 5, 5, 0];
    let expected: Vec<(usize, usize)> =
        (0..n).flat_map(|j| (0..n).map(move |i| (i, j))).filter(|&(i, j)| gv[i] == gv[j]).collect();
    assert_eq!(entries(&p), expected);
}

#[test]
fn gmrf_on_a_grid_is_a_five_point_stencil() {
    for (r, c) in [(1, 1), (2, 3), (5, 4), (30, 40)] {
        let f = trace("gmrf", &[TensorType::f64([r, c])], |x| {
            let x = x[0];
            let dv = x.slice(&[1, 0], &[r, c]) - x.slice(&[0, 0], &[r - 1, c]);
            let dh = x.slice(&[0, 1], &[r, c]) - x.slice(&[0, 0], &[r, c - 1]);
            vec![(dv * dv).sum_all() + (dh * dh).sum_all() + x.exp().sum_all()]
        })
        .unwrap();
        let p = hessian_pattern(&f, 0, &[None]).unwrap();
        assert_eq!(p.nnz(), r * c + 2 * (r - 1) * c + 2 * r * (c - 1), "{r}×{c}");
        for (i, j) in entries(&p) {
            let (a, b) = ((i / c, i % c), (j / c, j % c));
            assert!(a.0.abs_diff(b.0) + a.1.abs_diff(b.1) <= 1, "({i}, {j}) on {r}×{c}");
        }
    }
}

/// `Σ exp(X·z[..k]) + Σ z[k..]²`.
fn regression_block(n: usize, k: usize, m: usize) -> Func {
    trace("block", &[TensorType::f64([k + m]), TensorType::f64([n, k])], |a| {
        let (z, x) = (a[0], a[1]);
        let eta = x.matmul(z.slice(&[0], &[k]));
        let u = z.slice(&[k], &[k + m]);
        vec![eta.exp().sum_all() + (u * u).sum_all()]
    })
    .unwrap()
}

#[test]
fn dot_with_data_is_dense_only_where_the_data_is() {
    let (n, k, m) = (5, 4, 3);
    let f = regression_block(n, k, m);
    // A dense data matrix: a dense k×k block, then the diagonal.
    let dense = f64s(&[n, k], &(0..n * k).map(|i| 1.0 + i as f64).collect::<Vec<_>>());
    let p = hessian_pattern(&f, 0, &[None, Some(&dense)]).unwrap();
    assert_eq!(p.nnz(), k * k + m);
    assert!((0..k).all(|i| (0..k).all(|j| p.contains(i, j))));
    // Unknown data counts as dense.
    assert_eq!(hessian_pattern(&f, 0, &[None, None]).unwrap(), p);
    // A block-diagonal data matrix: rows 0..2 use columns 0..2, the others 2..4.
    let mut v = vec![0.0; n * k];
    for row in 0..n {
        let cols = if row < 2 { 0..2 } else { 2..4 };
        for col in cols {
            v[row * k + col] = 1.5;
        }
    }
    let sparse = f64s(&[n, k], &v);
    let p = hessian_pattern(&f, 0, &[None, Some(&sparse)]).unwrap();
    assert_eq!(p.nnz(), 4 + 4 + m);
    assert!(p.contains(0, 1) && p.contains(2, 3) && !p.contains(1, 2));
}

#[test]
fn logistic_regression_is_dense() {
    let (n, d) = (8, 5);
    let tys = [TensorType::f64([d]), TensorType::f64([n, d]), TensorType::f64([n])];
    let f = trace("logreg", &tys, |a| {
        let (beta, x, y) = (a[0], a[1], a[2]);
        let eta = x.matmul(beta);
        vec![(y * eta - eta.softplus()).sum_all() - 0.5 * (beta * beta).sum_all()]
    })
    .unwrap();
    let xv = f64s(&[n, d], &(0..n * d).map(|i| ((i * 7) % 5) as f64 - 1.5).collect::<Vec<_>>());
    let p = hessian_pattern(&f, 0, &[None, Some(&xv), None]).unwrap();
    assert_eq!(p.nnz(), d * d);
}

#[test]
fn jacobian_of_take_and_differences() {
    let f = trace_with("j", &[TensorType::f64([4]), TensorType::new(DType::I64, [3])], |_, a| {
        vec![a[0].take(a[1], 0) * 2.0]
    })
    .unwrap();
    let idx = i64s(&[3, 0, 3]);
    let p = jacobian_pattern(&f, 0, &[None, Some(&idx)]).unwrap();
    assert_eq!((p.nrows(), p.ncols()), (3, 4));
    assert_eq!(entries(&p), vec![(1, 0), (0, 3), (2, 3)]);
    let q = jacobian_pattern(&f, 0, &[None, None]).unwrap();
    assert_eq!(q.nnz(), 12);
}

#[test]
fn bad_data_and_arguments_are_typed_errors() {
    let f = random_effects(3, 4);
    let t = f64s(&[4], &[1.0; 4]);
    let out_of_range = i64s(&[0, 1, 3, 2]);
    let e = hessian_pattern(&f, 0, &[None, Some(&out_of_range), Some(&t)]).unwrap_err();
    assert_eq!(e, Error::IndexOutOfRange { op: "take", index: 3, extent: 3 });
    let negative = i64s(&[0, -1, 0, 0]);
    assert!(matches!(
        hessian_pattern(&f, 0, &[None, Some(&negative), Some(&t)]),
        Err(Error::IndexOutOfRange { index: -1, .. })
    ));
    let wrong = f64s(&[5], &[1.0; 5]);
    assert!(matches!(hessian_pattern(&f, 0, &[None, None, Some(&wrong)]), Err(Error::DataType { index: 2, .. })));
    assert!(matches!(hessian_pattern(&f, 0, &[None]), Err(Error::Ad(saddle_ad::Error::Count { .. }))));
    assert!(matches!(hessian_pattern(&f, 1, &[]), Err(Error::Ad(saddle_ad::Error::NotFloat { .. }))));
    assert!(matches!(hessian_pattern(&f, 7, &[]), Err(Error::Ad(saddle_ad::Error::NoSuchParam { .. }))));
    let vector = trace("v", &[TensorType::f64([3])], |x| vec![x[0].exp()]).unwrap();
    assert!(matches!(hessian_pattern(&vector, 0, &[]), Err(Error::Ad(saddle_ad::Error::NonScalarResult { .. }))));
    for e in [Error::TooManyEntries { nnz: 5, limit: 4 }, Error::IndexOutOfRange { op: "take", index: 3, extent: 3 }] {
        let msg = e.to_string();
        assert!(msg.chars().next().is_some_and(|c| c.is_lowercase()) && !msg.ends_with('.'), "{msg}");
    }
}

#[test]
fn a_dense_hessian_at_large_d_is_refused_before_it_is_built() {
    // (Σ x)² at d = 10⁵: 10¹⁰ entries.
    let d = 100_000;
    let f = trace("dense", &[TensorType::f64([d])], |x| {
        let s = x[0].sum_all();
        vec![s * s]
    })
    .unwrap();
    match hessian_pattern(&f, 0, &[]) {
        Err(Error::TooManyEntries { nnz, limit }) => assert!(nnz > limit),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // An arrow (x₀ interacting with all) is within limits and exact.
    let f = trace("arrow", &[TensorType::f64([6])], |x| {
        let x = x[0];
        vec![x.slice(&[0], &[1]).sum_all() * x.sum_all()]
    })
    .unwrap();
    let p = hessian_pattern(&f, 0, &[]).unwrap();
    assert_eq!(p.nnz(), 6 + 5);
    assert_symmetric(&p);
    // The cap on set sizes keeps the answer a superset.
    let tight = Options { max_set: 2, ..Options::default() };
    let f = ar1(6);
    let p = hessian_pattern_with(&f, 0, &[], &tight).unwrap();
    assert_eq!(p.nnz(), 3 * 6 - 2);
}
