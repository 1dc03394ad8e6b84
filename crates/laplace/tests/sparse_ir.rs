//! Sparse Hessians of IR densities: the pattern detected given the data,
//! the compressed Hessian, and the sparse fit, against the dense path.

use ndarray::{ArrayD, IxDyn};
use saddle_ir::{Array, DType, TensorType, trace};
use saddle_laplace::{HessianMode, IrDensity, Method, Options, laplace};

fn f64s(v: Vec<f64>) -> Array {
    Array::F64(ArrayD::from_shape_vec(IxDyn(&[v.len()]), v).unwrap())
}

fn i64s(v: Vec<i64>) -> Array {
    Array::I64(ArrayD::from_shape_vec(IxDyn(&[v.len()]), v).unwrap())
}

/// A Poisson AR(1) latent field: counts `y` with log rates `x`, and
/// `x` a stationary AR(1) with coefficient 0.7.
fn ar1_poisson(d: usize) -> saddle_ir::Func {
    trace("ar1_poisson", &[TensorType::f64([d]), TensorType::f64([d])], |a| {
        let (x, y) = (a[0], a[1]);
        let lik = (y * x - x.exp()).sum_all();
        let e = x.slice(&[1], &[d]) - 0.7 * x.slice(&[0], &[d - 1]);
        let x0 = x.slice(&[0], &[1]);
        let prior = -0.5 * (e * e).sum_all() - 0.5 * (1.0 - 0.49) * (x0 * x0).sum_all();
        vec![lik + prior]
    })
    .unwrap()
}

fn counts(n: usize) -> Vec<f64> {
    (0..n).map(|i| ((i * 7 + i / 3) % 5) as f64).collect()
}

#[test]
fn ar1_poisson_field_sparse_equals_dense() {
    let d = 1200;
    let f = ar1_poisson(d);
    let mut fits = vec![];
    for hessian in [HessianMode::Auto, HessianMode::Dense] {
        let mut density = IrDensity::new(&f, vec![f64s(counts(d))]).unwrap();
        // Newton on both paths (the dense default at this size is L-BFGS,
        // whose end point is as accurate as its tolerance, not to rounding).
        let opts = Options { hessian, method: Method::Newton, ..Options::default() };
        fits.push(laplace(&mut density, &vec![0.0; d], &opts).unwrap_or_else(|e| panic!("{hessian:?}: {e}")));
        if hessian == HessianMode::Auto {
            assert_eq!(density.report().sparse_hessian, Some((3 * d - 2, 3)));
        }
    }
    let (sparse, dense) = (&fits[0], &fits[1]);
    assert_eq!(sparse.sparse.expect("auto takes the sparse path at d = 1200").hessian_nnz, 3 * d - 2);
    assert!(dense.sparse.is_none());
    for i in 0..d {
        assert!((sparse.mode[i] - dense.mode[i]).abs() < 1e-9, "mode[{i}]: {} vs {}", sparse.mode[i], dense.mode[i]);
        assert!((sparse.std[i] - dense.std[i]).abs() < 1e-9, "std[{i}]: {} vs {}", sparse.std[i], dense.std[i]);
    }
    assert!((sparse.log_evidence - dense.log_evidence).abs() < 1e-8 * dense.log_evidence.abs());
}

/// Poisson counts with random intercepts by group and a covariate:
/// `x = [μ, β, u₁ … u_G]`, `yᵢ ~ Poisson(exp(μ + β zᵢ + u_g(i)))`,
/// `u_g ~ N(0, 1)`. Its Hessian is an arrowhead: the two global
/// coordinates touch everything.
#[test]
fn random_intercepts_by_take_sparse_equals_dense() {
    let groups = 1100;
    let n = 3 * groups;
    let d = groups + 2;
    let types = [TensorType::f64([d]), TensorType::f64([n]), TensorType::f64([n]), TensorType::new(DType::I64, [n])];
    let f = trace("glmm", &types, |a| {
        let (x, y, z, g) = (a[0], a[1], a[2], a[3]);
        let mu = x.slice(&[0], &[1]);
        let beta = x.slice(&[1], &[2]);
        let u = x.slice(&[2], &[d]);
        let eta = mu + beta * z + u.take(g, 0);
        let lik = (y * eta - eta.exp()).sum_all();
        vec![lik - 0.5 * (u * u).sum_all() - 0.5 * (mu * mu).sum_all() - 0.5 * (beta * beta).sum_all()]
    })
    .unwrap();
    let z: Vec<f64> = (0..n).map(|i| ((i % 11) as f64 - 5.0) / 5.0).collect();
    let y = counts(n);
    let g: Vec<i64> = (0..n as i64).map(|i| (i * 7) % groups as i64).collect();
    let mut fits = vec![];
    for hessian in [HessianMode::Sparse, HessianMode::Dense] {
        let mut density = IrDensity::new(&f, vec![f64s(y.clone()), f64s(z.clone()), i64s(g.clone())]).unwrap();
        let opts = Options { hessian, method: Method::Newton, ..Options::default() };
        fits.push(laplace(&mut density, &vec![0.0; d], &opts).unwrap_or_else(|e| panic!("{hessian:?}: {e}")));
        if hessian == HessianMode::Sparse {
            // The diagonal, the two global rows and columns, and their pair.
            let (nnz, colours) = density.report().sparse_hessian.unwrap();
            assert!(nnz <= d + 4 * groups + 2, "{nnz}");
            assert!(colours <= 4, "{colours} colours for an arrowhead");
        }
    }
    let (sparse, dense) = (&fits[0], &fits[1]);
    for i in 0..d {
        assert!((sparse.mode[i] - dense.mode[i]).abs() < 1e-8, "mode[{i}]");
        assert!((sparse.std[i] - dense.std[i]).abs() < 1e-8, "std[{i}]");
    }
    assert!((sparse.log_evidence - dense.log_evidence).abs() < 1e-8 * dense.log_evidence.abs());
    let (cs, cd) = (sparse.covariance.as_ref().unwrap(), dense.covariance.as_ref().unwrap());
    assert!((cs - cd).iter().all(|v| v.abs() < 1e-8));
}

#[test]
fn f32_densities_take_the_sparse_path_too() {
    let d = 50;
    let f = trace("f", &[TensorType::new(DType::F32, vec![d])], |a| {
        let x = a[0];
        let e = x.slice(&[1], &[d]) - 0.5 * x.slice(&[0], &[d - 1]);
        vec![-0.5 * (e * e).sum_all() - 0.5 * (x * x).sum_all()]
    })
    .unwrap();
    let mut density = IrDensity::new(&f, vec![]).unwrap();
    let opts = Options { hessian: HessianMode::Sparse, grad_tol: 1e-4, ..Options::default() };
    let fit = laplace(&mut density, &vec![1.0; d], &opts).unwrap();
    assert_eq!(fit.sparse.unwrap().hessian_nnz, 3 * d - 2);
    assert!(fit.mode.iter().all(|m| m.abs() < 1e-4));
}

#[test]
fn compressed_hessian_equals_the_dense_one() {
    let d = 40;
    let f = ar1_poisson(d);
    let mut density = IrDensity::new(&f, vec![f64s(counts(d))]).unwrap();
    let s = saddle_laplace::LogDensity::hessian_structure(&mut density).unwrap().unwrap();
    let x: Vec<f64> = (0..d).map(|i| (i as f64 * 0.3).sin()).collect();
    let (mut g1, mut g2) = (vec![0.0; d], vec![0.0; d]);
    let mut dense = vec![0.0; d * d];
    let mut values = vec![0.0; s.nnz()];
    let v1 = saddle_laplace::LogDensity::value_grad_hess(&mut density, &x, &mut g1, &mut dense).unwrap();
    let v2 = saddle_laplace::LogDensity::value_grad_sparse_hess(&mut density, &x, &mut g2, &s, &mut values).unwrap();
    assert_eq!(v1, v2);
    assert_eq!(g1, g2);
    let back = s.to_dense(&values);
    for k in 0..d * d {
        assert!(
            (back[k] - dense[k]).abs() <= 1e-12 * dense[k].abs().max(1.0),
            "entry {k}: {} vs {}",
            back[k],
            dense[k]
        );
    }
}
