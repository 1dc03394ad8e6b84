//! A hierarchical random-effects model: random intercepts for groups.
//!
//! ```text
//! cargo run --release --example hierarchical
//! ```
//!
//! y_gi ~ N(α + b_g, σ²),  b_g ~ N(0, τ²),  α ~ N(0, 10²),
//! σ, τ ~ half-normal(0, 5²).
//! The parameter vector is (α, σ, τ, b_1, ..., b_G) with σ and τ positive
//! (through the log, with the log-Jacobian added); Laplace's approximation
//! covers all of them, and the intra-class correlation τ²/(τ² + σ²) gets a
//! delta-method standard error (TMB's `sdreport`).

use saddle::ir::trace::trace_with;
use saddle::ir::{Array, DType, TensorType};
use saddle::laplace::{Constraint, IrDensity, Options, Target, laplace_constrained, sdreport};

/// Simulated data: `groups` groups of `per_group` observations.
fn simulate(groups: usize, per_group: usize) -> (Vec<f64>, Vec<i64>) {
    // A fixed linear congruential generator with Box–Muller normals, so the
    // data are the same on every machine.
    let mut state: u64 = 0x5eed;
    let mut uniform = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let mut normal = move || {
        let (u, v) = (uniform(), uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    };
    let (alpha, sigma, tau) = (1.5, 1.0, 0.7);
    let mut y = Vec::new();
    let mut g = Vec::new();
    for k in 0..groups {
        let b = tau * normal();
        for _ in 0..per_group {
            y.push(alpha + b + sigma * normal());
            g.push(k as i64);
        }
    }
    (y, g)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (groups, per_group) = (12, 8);
    let (y, g) = simulate(groups, per_group);
    let n = y.len();
    let d = 3 + groups;
    let types = [TensorType::f64([d]), TensorType::f64([n]), TensorType::new(DType::I64, [n])];
    let log_posterior = trace_with("log_posterior", &types, |_, a| {
        let (theta, y, group) = (a[0], a[1], a[2]);
        let scalar = |i: usize| theta.slice(&[i], &[i + 1]).reshape(&[]);
        let (alpha, sigma, tau) = (scalar(0), scalar(1), scalar(2));
        let b = theta.slice(&[3], &[d]);
        let mean = alpha + b.take(group, 0);
        let r = (y - mean) / sigma;
        let loglik = -0.5 * (r * r).sum_all() - n as f64 * sigma.log();
        let z = b / tau;
        let random_effects = -0.5 * (z * z).sum_all() - groups as f64 * tau.log();
        let priors = -0.5 * (alpha * alpha) / 100.0 - 0.5 * (sigma * sigma) / 25.0 - 0.5 * (tau * tau) / 25.0;
        vec![loglik + random_effects + priors]
    })?;

    let data = vec![Array::from(ndarray::Array1::from(y).into_dyn()), Array::from(ndarray::Array1::from(g).into_dyn())];
    let mut density = IrDensity::new(&log_posterior, data.clone())?;
    let mut constraints = vec![Constraint::Real, Constraint::Positive, Constraint::Positive];
    constraints.extend(std::iter::repeat_n(Constraint::Real, groups));
    let mut init = vec![0.0, 1.0, 1.0];
    init.extend(std::iter::repeat_n(0.0, groups));
    let fit =
        laplace_constrained(&mut density, &init, &constraints, Target::UnconstrainedPosterior, &Options::default())?;

    println!("random intercepts: {groups} groups × {per_group} observations, d = {d}");
    println!("{:>6} {:>10} {:>10}   (constrained space; delta-method std)", "", "mode", "std");
    let names: Vec<String> =
        ["α", "σ", "τ"].iter().map(|s| s.to_string()).chain((1..=groups).map(|k| format!("b[{k}]"))).collect();
    for (j, name) in names.iter().enumerate() {
        println!("{:>6} {:>10.4} {:>10.4}", name, fit.constrained_mode[j], fit.constrained_std[j]);
    }
    println!(
        "log evidence {:.5}; {} Newton iteration(s), fit in {:?}",
        fit.log_evidence, fit.iterations, fit.timings.total
    );

    let icc = trace_with("icc", &types, |_, a| {
        let theta = a[0];
        let s2 = theta.slice(&[1], &[2]).square();
        let t2 = theta.slice(&[2], &[3]).square();
        vec![(t2 / (t2 + s2)).reshape(&[])]
    })?;
    let r = sdreport(&fit, &icc, &data)?;
    println!("intra-class correlation τ²/(τ² + σ²) = {:.3} ± {:.3}", r.value[0], r.std[0]);
    Ok(())
}
