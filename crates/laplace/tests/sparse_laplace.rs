//! The sparse path of the Laplace approximation: known answers on Gaussian
//! Markov random fields (where Laplace is exact), agreement with the
//! dense path, and its failures.

use saddle_laplace::{HessianMode, LaplaceError, LogDensity, Options, Precision, SparseStructure, laplace};

/// An AR(1) latent field `x` (stationary, unit innovations, coefficient
/// `rho`) around a mean `mu`, with optional Poisson counts `y` on a log
/// link: `f(x) = -½ (x-μ)ᵀ Q (x-μ) + Σ (yᵢ xᵢ - exp xᵢ)`.
struct Ar1 {
    rho: f64,
    mu: Vec<f64>,
    y: Option<Vec<f64>>,
    /// Whether the density tells its pattern.
    sparse: bool,
}

impl Ar1 {
    fn q_times(&self, r: &[f64], out: &mut [f64]) {
        let (d, rho) = (r.len(), self.rho);
        for i in 0..d {
            let diag = if i == 0 || i == d - 1 { 1.0 } else { 1.0 + rho * rho };
            let mut v = diag * r[i];
            if i > 0 {
                v -= rho * r[i - 1];
            }
            if i + 1 < d {
                v -= rho * r[i + 1];
            }
            out[i] = v;
        }
    }

    fn structure(d: usize) -> SparseStructure {
        let mut col_ptr = vec![0];
        let mut rows = vec![];
        for j in 0..d {
            rows.push(j);
            if j + 1 < d {
                rows.push(j + 1);
            }
            col_ptr.push(rows.len());
        }
        SparseStructure::new(d, col_ptr, rows).unwrap()
    }
}

impl LogDensity for Ar1 {
    fn dim(&self) -> usize {
        self.mu.len()
    }

    fn value(&mut self, x: &[f64]) -> Result<f64, LaplaceError> {
        let mut g = vec![0.0; x.len()];
        self.value_grad(x, &mut g)
    }

    fn value_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, LaplaceError> {
        let r: Vec<f64> = x.iter().zip(&self.mu).map(|(a, b)| a - b).collect();
        self.q_times(&r, grad);
        let mut v = -0.5 * r.iter().zip(grad.iter()).map(|(a, b)| a * b).sum::<f64>();
        grad.iter_mut().for_each(|g| *g = -*g);
        if let Some(y) = &self.y {
            for i in 0..x.len() {
                v += y[i] * x[i] - x[i].exp();
                grad[i] += y[i] - x[i].exp();
            }
        }
        Ok(v)
    }

    fn value_grad_hess(&mut self, x: &[f64], grad: &mut [f64], hess: &mut [f64]) -> Result<f64, LaplaceError> {
        let d = x.len();
        let s = Ar1::structure(d);
        let mut values = vec![0.0; s.nnz()];
        let v = self.value_grad_sparse_hess(x, grad, &s, &mut values)?;
        hess.copy_from_slice(&s.to_dense(&values));
        Ok(v)
    }

    fn hessian_structure(&mut self) -> Result<Option<SparseStructure>, LaplaceError> {
        Ok(self.sparse.then(|| Ar1::structure(self.mu.len())))
    }

    fn value_grad_sparse_hess(
        &mut self,
        x: &[f64],
        grad: &mut [f64],
        s: &SparseStructure,
        values: &mut [f64],
    ) -> Result<f64, LaplaceError> {
        let (d, rho) = (x.len(), self.rho);
        let v = self.value_grad(x, grad)?;
        values.iter_mut().for_each(|v| *v = 0.0);
        for j in 0..d {
            let diag = if j == 0 || j == d - 1 { 1.0 } else { 1.0 + rho * rho };
            let poisson = if self.y.is_some() { x[j].exp() } else { 0.0 };
            values[s.position(j, j).unwrap()] = -diag - poisson;
            if j + 1 < d {
                values[s.position(j + 1, j).unwrap()] = rho;
            }
        }
        Ok(v)
    }
}

fn mean(d: usize) -> Vec<f64> {
    (0..d).map(|i| (i as f64 * 0.37).sin()).collect()
}

const LN_2PI: f64 = 1.837_877_066_409_345_5;

#[test]
fn gaussian_ar1_field_is_exact_on_the_sparse_path() {
    let (d, rho) = (5000, 0.8);
    let mut f = Ar1 { rho, mu: mean(d), y: None, sparse: true };
    let fit = laplace(&mut f, &vec![0.0; d], &Options::default()).unwrap();
    let Some(info) = fit.sparse else { panic!("the auto mode should take the sparse path at d = {d}") };
    assert_eq!(info.hessian_nnz, 3 * d - 2);
    assert!(matches!(fit.precision, Precision::Sparse(_)));
    assert!(fit.covariance.is_none(), "no covariance above 2,000 coordinates by default");
    for i in 0..d {
        assert!((fit.mode[i] - f.mu[i]).abs() < 1e-10);
        // The stationary variance 1/(1-ρ²), from the selected inverse.
        assert!((fit.std[i] - (1.0 / (1.0 - rho * rho)).sqrt()).abs() < 1e-10, "std[{i}] = {}", fit.std[i]);
    }
    // log ∫ exp f = d/2·log 2π − ½·log det Q, and det Q = 1 − ρ².
    let want = 0.5 * d as f64 * LN_2PI - 0.5 * (1.0 - rho * rho).ln();
    assert!((fit.log_evidence - want).abs() < 1e-8 * want.abs(), "{} vs {want}", fit.log_evidence);
    assert!(fit.converged);
}

#[test]
fn full_covariance_on_request() {
    let (d, rho) = (2100, 0.5);
    let mut f = Ar1 { rho, mu: mean(d), y: None, sparse: true };
    let opts = Options { full_covariance: true, ..Options::default() };
    let fit = laplace(&mut f, &vec![0.0; d], &opts).unwrap();
    assert!(fit.sparse.is_some());
    let cov = fit.covariance.as_ref().expect("asked for");
    for (i, j) in [(0, 0), (10, 13), (2000, 1990), (5, 5)] {
        let want = rho.powi((i as i32 - j as i32).abs()) / (1.0 - rho * rho);
        assert!((cov[[i, j]] - want).abs() < 1e-10, "({i}, {j}): {} vs {want}", cov[[i, j]]);
    }
    assert!(fit.constrained_covariance.is_some());
}

#[test]
fn sparse_and_dense_paths_agree_on_a_poisson_field() {
    let d = 300;
    let y: Vec<f64> = (0..d).map(|i| ((i * 7) % 5) as f64).collect();
    let mu = vec![0.2; d];
    let mut fits = vec![];
    for hessian in [HessianMode::Dense, HessianMode::Sparse] {
        let mut f = Ar1 { rho: 0.9, mu: mu.clone(), y: Some(y.clone()), sparse: true };
        let opts = Options { hessian, ..Options::default() };
        fits.push(laplace(&mut f, &vec![0.0; d], &opts).unwrap());
    }
    let (dense, sparse) = (&fits[0], &fits[1]);
    assert!(dense.sparse.is_none() && sparse.sparse.is_some());
    for i in 0..d {
        assert!((dense.mode[i] - sparse.mode[i]).abs() < 1e-9);
        assert!((dense.std[i] - sparse.std[i]).abs() < 1e-9);
    }
    assert!((dense.log_evidence - sparse.log_evidence).abs() < 1e-8);
    let (cd, cs) = (dense.covariance.as_ref().unwrap(), sparse.covariance.as_ref().unwrap());
    assert!((cd - cs).iter().all(|v| v.abs() < 1e-9));
    // The Gaussians are the same: equal densities at a point, and draws
    // with the same mean and covariance (each a linear map of the same
    // normal vectors, through different factors).
    let x: Vec<f64> = (0..d).map(|i| dense.mode[i] + 0.1 * (i as f64).cos()).collect();
    assert!((dense.log_density(&x) - sparse.log_density(&x)).abs() < 1e-8);
    let draws = sparse.draws(4000, 7);
    let m0 = draws.column(0).mean().unwrap();
    assert!((m0 - sparse.mode[0]).abs() < 5.0 * sparse.std[0] / (4000f64).sqrt());
}

#[test]
fn a_density_without_a_pattern_can_be_forced_sparse() {
    let d = 40;
    let mut f = Ar1 { rho: 0.3, mu: mean(d), y: Some(vec![1.0; d]), sparse: false };
    let dense = laplace(&mut f, &vec![0.0; d], &Options::default()).unwrap();
    let opts = Options { hessian: HessianMode::Sparse, ..Options::default() };
    let sparse = laplace(&mut f, &vec![0.0; d], &opts).unwrap();
    assert_eq!(sparse.sparse.unwrap().hessian_nnz, d * d);
    assert!((dense.log_evidence - sparse.log_evidence).abs() < 1e-9);
}

#[test]
fn indefinite_sparse_precision_is_refused_with_its_direction() {
    // ρ > 1 with the "stationary" end terms: Q is indefinite.
    let d = 2500;
    let mut f = Ar1 { rho: 1.5, mu: vec![0.0; d], y: None, sparse: true };
    let opts = Options { hessian: HessianMode::Sparse, max_iter: 5, require_convergence: false, ..Options::default() };
    match laplace(&mut f, &vec![0.0; d], &opts) {
        Err(LaplaceError::NotNegativeDefinite { eigenvalue, direction, .. }) => {
            assert!(eigenvalue < 0.0, "{eigenvalue}");
            assert_eq!(direction.len(), d);
        }
        other => panic!("expected NotNegativeDefinite, got {:?}", other.map(|f| f.log_evidence)),
    }
}

#[test]
fn a_sparse_fit_that_cannot_fit_in_memory_is_refused_before_allocating() {
    // A dense pattern of 10⁵ coordinates, stored sparse: 5·10⁹ entries.
    struct Dense(usize);
    impl LogDensity for Dense {
        fn dim(&self) -> usize {
            self.0
        }
        fn value(&mut self, _: &[f64]) -> Result<f64, LaplaceError> {
            unreachable!("refused before any evaluation")
        }
        fn value_grad(&mut self, _: &[f64], _: &mut [f64]) -> Result<f64, LaplaceError> {
            unreachable!("refused before any evaluation")
        }
        fn value_grad_hess(&mut self, _: &[f64], _: &mut [f64], _: &mut [f64]) -> Result<f64, LaplaceError> {
            unreachable!("refused before any evaluation")
        }
    }
    let d = 100_000;
    for hessian in [HessianMode::Auto, HessianMode::Sparse, HessianMode::Dense] {
        let opts = Options { hessian, ..Options::default() };
        let e = laplace(&mut Dense(d), &vec![0.0; d], &opts).unwrap_err();
        assert!(matches!(e, LaplaceError::TooLarge { .. }), "{hessian:?}: {e}");
    }
}
