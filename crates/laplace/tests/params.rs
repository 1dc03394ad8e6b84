//! Parameter spaces: every support's transform and log-Jacobian (round
//! trip, Jacobian determinant against finite differences, points mapped
//! inside the support), and fits with known answers.

// Index loops read like the formulas.
#![allow(clippy::needless_range_loop)]

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use saddle_ir::{TensorType, trace};
use saddle_laplace::{Block, LaplaceError, Options, ParamSpace, Support, laplace_params};

/// Blocks covering every support, with the map from the block's entries to
/// its free coordinates (those the Jacobian is taken against).
fn cases() -> Vec<Block> {
    vec![
        Block::vector("a", 3, Support::Real),
        Block::vector("b", 3, Support::Positive),
        Block::vector("c", 2, Support::Lower(-1.5)),
        Block::vector("d", 2, Support::Upper(2.0)),
        Block::vector("e", 3, Support::Interval { lower: -1.0, upper: 3.0 }),
        Block::matrix("e2", 2, 2, Support::Positive),
        Block::vector("f", 4, Support::Ordered),
        Block::vector("f1", 1, Support::Ordered),
        Block::vector("g", 4, Support::PositiveOrdered),
        Block::vector("h", 4, Support::Simplex),
        Block::vector("h2", 2, Support::Simplex),
        Block::vector("i", 3, Support::UnitVector),
        Block::matrix("j", 2, 2, Support::CholeskyCorr),
        Block::matrix("k", 4, 4, Support::CholeskyCorr),
        Block::matrix("l", 1, 1, Support::CovMatrix),
        Block::matrix("m", 3, 3, Support::CovMatrix),
    ]
}

/// The free coordinates of a block's entries: all of them for elementwise
/// and ordered supports, the first K − 1 of a simplex, the entries below
/// the diagonal of a Cholesky factor, the lower triangle of a covariance.
fn free(b: &Block, theta: &[f64]) -> Vec<f64> {
    let k = b.shape.first().copied().unwrap_or(1);
    match b.support {
        Support::Simplex => theta[..k - 1].to_vec(),
        Support::CholeskyCorr => (0..k).flat_map(|i| (0..i).map(move |j| theta[i * k + j])).collect(),
        Support::CovMatrix => (0..k).flat_map(|i| (0..=i).map(move |j| theta[i * k + j])).collect(),
        _ => theta.to_vec(),
    }
}

fn random_z(rng: &mut StdRng, n: usize, scale: f64) -> Vec<f64> {
    (0..n).map(|_| rng.random_range(-scale..scale)).collect()
}

/// `log |det A|` by Gaussian elimination with partial pivoting.
fn log_abs_det(mut a: Vec<Vec<f64>>) -> f64 {
    let n = a.len();
    let mut out = 0.0;
    for c in 0..n {
        let p = (c..n).max_by(|&x, &y| a[x][c].abs().total_cmp(&a[y][c].abs())).unwrap();
        a.swap(c, p);
        let piv = a[c][c];
        out += piv.abs().ln();
        for r in c + 1..n {
            let f = a[r][c] / piv;
            for k in c..n {
                a[r][k] -= f * a[c][k];
            }
        }
    }
    out
}

/// Whether `theta` lies in the block's support (checked directly, not
/// through the inverse).
fn inside(b: &Block, theta: &[f64]) -> bool {
    let k = b.shape.first().copied().unwrap_or(1);
    let tol = 1e-10;
    theta.iter().all(|x| x.is_finite())
        && match b.support {
            Support::Real => true,
            Support::Positive => theta.iter().all(|&x| x > 0.0),
            Support::Lower(l) => theta.iter().all(|&x| x > l),
            Support::Upper(u) => theta.iter().all(|&x| x < u),
            Support::Interval { lower, upper } => theta.iter().all(|&x| x > lower && x < upper),
            Support::Ordered => theta.windows(2).all(|w| w[1] > w[0]),
            Support::PositiveOrdered => theta[0] > 0.0 && theta.windows(2).all(|w| w[1] > w[0]),
            Support::Simplex => theta.iter().all(|&x| x > 0.0) && (theta.iter().sum::<f64>() - 1.0).abs() < tol,
            Support::UnitVector => (theta.iter().map(|x| x * x).sum::<f64>() - 1.0).abs() < tol,
            Support::CholeskyCorr => (0..k).all(|i| {
                let row = &theta[i * k..(i + 1) * k];
                row[i] > 0.0
                    && row[i + 1..].iter().all(|&x| x == 0.0)
                    && (row.iter().map(|x| x * x).sum::<f64>() - 1.0).abs() < tol
            }),
            Support::CovMatrix => {
                // Symmetric, and positive leading minors (Cholesky succeeds).
                let sym = (0..k).all(|i| (0..k).all(|j| (theta[i * k + j] - theta[j * k + i]).abs() < tol));
                let mut l = vec![0.0; k * k];
                let mut pd = true;
                for i in 0..k {
                    for j in 0..=i {
                        let s = theta[i * k + j] - (0..j).map(|p| l[i * k + p] * l[j * k + p]).sum::<f64>();
                        if i == j {
                            pd &= s > 0.0;
                            l[i * k + i] = s.max(0.0).sqrt();
                        } else {
                            l[i * k + j] = s / l[j * k + j];
                        }
                    }
                }
                sym && pd
            }
        }
}

#[test]
fn round_trip_and_support_for_every_constraint() {
    let mut rng = StdRng::seed_from_u64(7);
    for b in cases() {
        let space = ParamSpace::new(vec![b.clone()]).unwrap();
        let mut t = space.compile().unwrap();
        for _ in 0..50 {
            let z = random_z(&mut rng, b.unconstrained_len(), 3.0);
            let (theta, lj) = t.apply(&z).unwrap();
            assert_eq!(theta.len(), b.size());
            assert!(lj.is_finite(), "{}: log|J| = {lj}", b.name);
            assert!(inside(&b, &theta), "{}: T({z:?}) = {theta:?} is outside the support", b.name);
            let back = space.unconstrain(&theta).unwrap();
            if b.support == Support::UnitVector {
                // z is defined up to its radius: T⁻¹ picks radius 1.
                let r = z.iter().map(|x| x * x).sum::<f64>().sqrt();
                for (x, y) in z.iter().zip(&back) {
                    assert!((x / r - y).abs() < 1e-12, "{}: {z:?} → {back:?}", b.name);
                }
            } else {
                for (x, y) in z.iter().zip(&back) {
                    assert!((x - y).abs() < 1e-9 * (1.0 + x.abs()), "{}: {z:?} → {theta:?} → {back:?}", b.name);
                }
            }
        }
    }
}

#[test]
fn log_jacobian_matches_finite_differences() {
    let mut rng = StdRng::seed_from_u64(11);
    for b in cases().into_iter().filter(|b| b.support != Support::UnitVector) {
        let space = ParamSpace::new(vec![b.clone()]).unwrap();
        let mut t = space.compile().unwrap();
        let n = b.unconstrained_len();
        for _ in 0..10 {
            let z = random_z(&mut rng, n, 1.5);
            let (_, lj) = t.apply(&z).unwrap();
            let h = 1e-6;
            // Column j of the Jacobian of z ↦ free(T(z)), by central
            // differences; rows of `jac` are its columns (same |det|).
            let jac: Vec<Vec<f64>> = (0..n)
                .map(|j| {
                    let mut zp = z.clone();
                    let mut zm = z.clone();
                    zp[j] += h;
                    zm[j] -= h;
                    let fp = free(&b, &t.apply(&zp).unwrap().0);
                    let fm = free(&b, &t.apply(&zm).unwrap().0);
                    assert_eq!(fp.len(), n, "{}: the free coordinates", b.name);
                    fp.iter().zip(&fm).map(|(p, m)| (p - m) / (2.0 * h)).collect()
                })
                .collect();
            let fd = log_abs_det(jac);
            assert!((fd - lj).abs() < 1e-6 * (1.0 + lj.abs()), "{}: log|J| = {lj}, finite differences {fd}", b.name);
        }
    }
}

#[test]
fn unit_vector_radius_integrates_to_one() {
    // log|J| at z = r·e₀ is h(r); ∫₀^∞ r^{K−1} e^{h(r)} dr must be 1 so that
    // the evidence over the sphere is unchanged.
    for k in [2usize, 3, 5] {
        let space = ParamSpace::new(vec![Block::vector("u", k, Support::UnitVector)]).unwrap();
        let mut t = space.compile().unwrap();
        let (n, hi) = (20_000, 3.0);
        let dr = hi / n as f64;
        let mut total = 0.0;
        for i in 1..n {
            let r = i as f64 * dr;
            let mut z = vec![0.0; k];
            z[0] = r;
            let (theta, lj) = t.apply(&z).unwrap();
            assert!((theta[0] - 1.0).abs() < 1e-15);
            total += r.powi(k as i32 - 1) * lj.exp() * dr;
        }
        assert!((total - 1.0).abs() < 1e-8, "K = {k}: {total}");
    }
}

#[test]
fn points_outside_the_support_are_refused_by_name() {
    let bad: Vec<(Block, Vec<f64>)> = vec![
        (Block::scalar("tau", Support::Positive), vec![0.0]),
        (Block::scalar("s", Support::Lower(1.0)), vec![1.0]),
        (Block::scalar("s", Support::Upper(1.0)), vec![2.0]),
        (Block::scalar("p", Support::Interval { lower: 0.0, upper: 1.0 }), vec![1.0]),
        (Block::vector("o", 3, Support::Ordered), vec![0.0, 2.0, 2.0]),
        (Block::vector("o", 2, Support::PositiveOrdered), vec![-1.0, 2.0]),
        (Block::vector("w", 3, Support::Simplex), vec![0.5, 0.6, -0.1]),
        (Block::vector("w", 3, Support::Simplex), vec![0.5, 0.6, 0.1]),
        (Block::vector("u", 2, Support::UnitVector), vec![1.0, 1.0]),
        (Block::matrix("L", 2, 2, Support::CholeskyCorr), vec![1.0, 0.1, 0.0, 1.0]),
        (Block::matrix("L", 2, 2, Support::CholeskyCorr), vec![1.0, 0.0, 0.6, 0.6]),
        (Block::matrix("S", 2, 2, Support::CovMatrix), vec![1.0, 2.0, 2.0, 1.0]),
        (Block::matrix("S", 2, 2, Support::CovMatrix), vec![1.0, 0.5, 0.4, 1.0]),
        (Block::scalar("x", Support::Real), vec![f64::NAN]),
    ];
    for (b, theta) in bad {
        let space = ParamSpace::new(vec![b.clone()]).unwrap();
        match space.unconstrain(&theta) {
            Err(LaplaceError::Param { block, .. }) => assert_eq!(block, b.name),
            other => panic!("{} at {theta:?}: {other:?}", b.support.name()),
        }
    }
}

#[test]
fn malformed_spaces_are_refused() {
    let bad = [
        vec![Block::vector("w", 1, Support::Simplex)],
        vec![Block::matrix("L", 2, 3, Support::CholeskyCorr)],
        vec![Block::scalar("o", Support::Ordered)],
        vec![Block::scalar("s", Support::Interval { lower: 1.0, upper: 1.0 })],
        vec![Block::scalar("s", Support::Lower(f64::INFINITY))],
        vec![Block::scalar("a", Support::Real), Block::scalar("a", Support::Real)],
        vec![Block::scalar("", Support::Real)],
    ];
    for blocks in bad {
        assert!(ParamSpace::new(blocks.clone()).is_err(), "{blocks:?}");
    }
    assert!(matches!(ParamSpace::new(vec![]), Err(LaplaceError::EmptyParameter)));
}

#[test]
fn names_on_both_scales() {
    let space = ParamSpace::new(vec![
        Block::scalar("mu", Support::Real),
        Block::scalar("tau", Support::Positive),
        Block::vector("w", 3, Support::Simplex),
        Block::matrix("L", 2, 2, Support::CholeskyCorr),
        Block::scalar("s", Support::Interval { lower: 0.0, upper: 10.0 }),
    ])
    .unwrap();
    assert_eq!(space.names(), ["mu", "tau", "w[0]", "w[1]", "w[2]", "L[0,0]", "L[0,1]", "L[1,0]", "L[1,1]", "s"]);
    assert_eq!(space.unconstrained_names(), ["mu", "log(tau)", "free(w)[0]", "free(w)[1]", "free(L)[0]", "logit(s)"]);
}

/// `lgamma` for the known answers (Stirling series; x ≥ 10 here).
fn lgamma(x: f64) -> f64 {
    (x - 0.5) * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI).ln() + 1.0 / (12.0 * x) - 1.0 / (360.0 * x.powi(3))
        + 1.0 / (1260.0 * x.powi(5))
}

#[test]
fn gamma_posterior_of_a_precision_on_the_log_scale() {
    // y_i ~ N(0, 1/τ), τ ~ Gamma(a, b): the posterior is Gamma(α, β) with
    // α = a + n/2, β = b + Σy²/2. On u = log τ the density is
    // exp(α u − β eᵘ): mode log(α/β), std 1/√α, and the constrained
    // delta-method std is √α/β.
    let y = [0.3, -1.2, 0.8, 2.1, -0.4, 0.9, -1.7, 0.05, 1.3, -0.6];
    let (a, b) = (3.0, 2.0);
    let n = y.len() as f64;
    let ss: f64 = y.iter().map(|v| v * v).sum();
    let (alpha, beta) = (a + n / 2.0, b + ss / 2.0);
    let c = a * f64::ln(b) - lgamma(a) - 0.5 * n * (2.0 * std::f64::consts::PI).ln();
    let f = saddle_ir::trace::trace_with("logp", &[TensorType::f64([1]), TensorType::f64([10])], |_, x| {
        let tau = x[0];
        let lik = 0.5 * n * tau.log() - 0.5 * tau * (x[1] * x[1]).sum_all();
        let prior = (a - 1.0) * tau.log() - b * tau;
        vec![(lik + prior).sum_all() + c]
    })
    .unwrap();
    let space = ParamSpace::new(vec![Block::scalar("tau", Support::Positive)]).unwrap();
    let data = vec![saddle_ir::Array::F64(ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[10]), y.to_vec()).unwrap())];
    let fit = laplace_params(&f, data, &space, &[1.0], &Options::default()).unwrap();
    let tau = &fit.summary.blocks[0];
    assert!((fit.fit.mode[0] - (alpha / beta).ln()).abs() < 1e-10);
    assert!((fit.fit.std[0] - 1.0 / alpha.sqrt()).abs() < 1e-10);
    assert!((tau.mode[[]] - alpha / beta).abs() < 1e-10);
    assert!((tau.std[[]] - alpha.sqrt() / beta).abs() < 1e-10);
    assert!((tau.unconstrained_mode[0] - fit.fit.mode[0]).abs() < 1e-15);
    // The evidence of the model as written, ∫ p(y|τ) p(τ) dτ, is
    // c + lgamma(α) − α log β; Laplace on u replaces lgamma(α) by its
    // Stirling leading terms (relative error 1/(12α)).
    let exact = c + lgamma(alpha) - alpha * beta.ln();
    let laplace = c + alpha * (alpha / beta).ln() - alpha + 0.5 * (2.0 * std::f64::consts::PI / alpha).ln();
    assert!((fit.fit.log_evidence - laplace).abs() < 1e-9, "{} vs {laplace}", fit.fit.log_evidence);
    assert!((fit.fit.log_evidence - exact).abs() < 1.0 / (12.0 * alpha) + 1e-3);
}

#[test]
fn dirichlet_posterior_on_the_simplex() {
    // f(θ) = Σ (a_k − 1) log θ_k − log B(a): a Dirichlet(a) density over
    // the first K − 1 coordinates, with evidence exactly 1. On the
    // softmax coordinates the density is ∏ θ_k^{a_k}: the constrained
    // mode is a / Σa.
    let a = [40.0, 25.0, 60.0];
    let s: f64 = a.iter().sum();
    let log_b = a.iter().map(|&x| lgamma(x)).sum::<f64>() - lgamma(s);
    let f = saddle_ir::trace::trace_with("dirichlet", &[TensorType::f64([3])], |tr, x| {
        let am1 = tr.constant(&[a[0] - 1.0, a[1] - 1.0, a[2] - 1.0]);
        vec![(am1 * x[0].log()).sum_all() - log_b]
    })
    .unwrap();
    let space = ParamSpace::new(vec![Block::vector("w", 3, Support::Simplex)]).unwrap();
    let fit = laplace_params(&f, vec![], &space, &[1.0 / 3.0; 3], &Options::default()).unwrap();
    let w = &fit.summary.blocks[0];
    for k in 0..3 {
        assert!((w.mode[[k]] - a[k] / s).abs() < 1e-10, "{:?}", w.mode);
    }
    // Delta-method variance on the simplex: the stds are those of a
    // multinomial-like Gaussian with covariance (diag(p) − p pᵀ)/s.
    for k in 0..3 {
        let p = a[k] / s;
        assert!((w.std[[k]] - (p * (1.0 - p) / s).sqrt()).abs() < 1e-10, "{:?}", w.std);
    }
    assert!(fit.fit.log_evidence.abs() < 0.02, "log evidence {}", fit.fit.log_evidence);
    // Draws of the approximation map inside the simplex.
    let mut t = space.compile().unwrap();
    for row in fit.fit.draws(200, 3).rows() {
        let (theta, _) = t.apply(&row.to_vec()).unwrap();
        assert!(space.unconstrain(&theta).is_ok());
    }
}

#[test]
fn derived_quantities_through_the_transform() {
    // With τ ~ Gamma(α, β) on the log scale, g(τ) = 1/sqrt(τ) (a standard
    // deviation) has delta-method std |g'(τ*)|·τ*·σᵤ = ½ τ*^{-1/2} / √α.
    let (alpha, beta) = (12.0, 3.0);
    let f =
        trace("logp", &[TensorType::f64([1])], |x| vec![((alpha - 1.0) * x[0].log() - beta * x[0]).sum_all()]).unwrap();
    let g = trace("sd", &[TensorType::f64([1])], |x| vec![x[0].rsqrt()]).unwrap();
    let space = ParamSpace::new(vec![Block::scalar("tau", Support::Positive)]).unwrap();
    let fit = laplace_params(&f, vec![], &space, &[1.0], &Options::default()).unwrap();
    let r = space.sdreport(&fit.fit, &g, &[]).unwrap();
    let t = alpha / beta;
    assert!((r.value[0] - t.powf(-0.5)).abs() < 1e-9);
    assert!((r.std[0] - 0.5 * t.powf(-0.5) / alpha.sqrt()).abs() < 1e-9, "{}", r.std[0]);
}

#[test]
fn compose_checks_the_parameter_length() {
    let f = trace("logp", &[TensorType::f64([2])], |x| vec![(-(x[0] * x[0])).sum_all()]).unwrap();
    let space = ParamSpace::new(vec![Block::vector("w", 3, Support::Simplex)]).unwrap();
    assert!(matches!(space.compose(&f), Err(LaplaceError::Signature { .. })));
    assert!(matches!(space.unconstrain(&[0.5, 0.5]), Err(LaplaceError::InitDimension { .. })));
}

#[test]
fn von_mises_fisher_on_the_sphere() {
    // f(θ) = κ μᵀθ on the unit sphere in ℝ³: ∫ exp f = 4π sinh(κ)/κ, and
    // the mode is μ.
    let kappa = 20.0;
    let f = trace("vmf", &[TensorType::f64([3])], |x| vec![(x[0] * kappa).slice(&[2], &[3]).sum_all()]).unwrap();
    let space = ParamSpace::new(vec![Block::vector("u", 3, Support::UnitVector)]).unwrap();
    let s = 0.6f64;
    let fit = laplace_params(&f, vec![], &space, &[s, 0.0, (1.0 - s * s).sqrt()], &Options::default()).unwrap();
    let u = &fit.summary.blocks[0];
    assert!(u.mode[[0]].abs() < 1e-8 && (u.mode[[2]] - 1.0).abs() < 1e-12, "{:?}", u.mode);
    let exact = (4.0 * std::f64::consts::PI * kappa.sinh() / kappa).ln();
    // Laplace's method on the sphere is exact here up to e^{-2κ}; the
    // radius adds −0.0012 (see `Support::UnitVector`).
    assert!((fit.fit.log_evidence - exact).abs() < 0.002, "{} vs {exact}", fit.fit.log_evidence);
}

#[test]
fn block_summaries_match_the_delta_method_of_the_whole_vector() {
    // The per-block stds (closed-form slopes for elementwise blocks, AD
    // Jacobians for the others) against sdreport of the identity g(θ) = θ,
    // which differentiates the whole transform at once.
    let space = ParamSpace::new(vec![
        Block::scalar("s", Support::Interval { lower: -1.0, upper: 2.0 }),
        Block::vector("a", 2, Support::Lower(0.5)),
        Block::vector("o", 3, Support::Ordered),
        Block::vector("w", 3, Support::Simplex),
        Block::matrix("S", 2, 2, Support::CovMatrix),
    ])
    .unwrap();
    let d = space.constrained_dim();
    let f = saddle_ir::trace::trace_with("f", &[TensorType::f64([d])], |tr, x| {
        let c = tr.constant((0..d).map(|i| 0.3 + 0.2 * i as f64).collect::<Vec<f64>>());
        vec![-0.5 * ((x[0] - c) * (x[0] - c)).sum_all()]
    })
    .unwrap();
    let init = [0.0, 1.0, 1.0, -1.0, 0.0, 1.0, 0.2, 0.3, 0.5, 1.0, 0.2, 0.2, 1.0];
    let fit = laplace_params(&f, vec![], &space, &init, &Options::default()).unwrap();
    let id = trace("id", &[TensorType::f64([d])], |x| vec![x[0]]).unwrap();
    let all = space.sdreport(&fit.fit, &id, &[]).unwrap();
    for i in 0..d {
        assert!((all.value[i] - fit.summary.mode[i]).abs() < 1e-12, "{i}");
        assert!((all.std[i] - fit.summary.std[i]).abs() < 1e-10, "{i}: {} vs {}", all.std[i], fit.summary.std[i]);
    }
    let s = &fit.summary.blocks[4];
    let cov = s.covariance.as_ref().unwrap();
    assert!((cov[[1, 1]] - all.covariance[[10, 10]]).abs() < 1e-10);
    assert!(fit.summary.blocks[0].covariance.is_none());
}

#[test]
fn every_support_composes_with_an_f32_model() {
    let blocks = cases();
    let space = ParamSpace::new(blocks).unwrap();
    let d = space.constrained_dim();
    let f = trace("f", &[TensorType::f32([d])], |x| vec![(-(x[0] * x[0])).sum_all()]).unwrap();
    let g = space.compose(&f).unwrap();
    saddle_ir::verify(&g).unwrap();
    assert_eq!(g.param_types()[0], TensorType::f32([space.unconstrained_dim()]));
    assert_eq!(g.result_types()[0], TensorType::f32([]));
}
