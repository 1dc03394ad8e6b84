//! A hierarchical random-effects model: random intercepts for groups.
//!
//! ```text
//! cargo run --release --example hierarchical
//! ```
//!
//! y_gi ~ N(α + b_g, σ²),  b_g ~ N(0, τ²),  α ~ N(0, 10²),
//! σ, τ ~ half-normal(0, 5).
//! The parameters are named blocks: α real, σ and τ positive (fitted on the
//! log scale, the log-Jacobian added by the parameter space), b a vector.
//! Laplace's approximation covers all of them, each block is reported on
//! both scales, and the intra-class correlation τ²/(τ² + σ²) gets a
//! delta-method standard error (TMB's `sdreport`).

use saddle::ir::trace::trace_with;
use saddle::ir::{Array, DType, TensorType, dist};
use saddle::laplace::{Block, Options, ParamSpace, Support, laplace_params};

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
    let space = ParamSpace::new(vec![
        Block::scalar("alpha", Support::Real),
        Block::scalar("sigma", Support::Positive),
        Block::scalar("tau", Support::Positive),
        Block::vector("b", groups, Support::Real),
    ])?;
    let d = space.constrained_dim();
    let types = [TensorType::f64([d]), TensorType::f64([n]), TensorType::new(DType::I64, [n])];
    let log_posterior = trace_with("log_posterior", &types, |_, a| {
        let (theta, y, group) = (a[0], a[1], a[2]);
        let (alpha, sigma, tau) = (theta.at(0), theta.at(1), theta.at(2));
        let b = theta.slice(&[3], &[d]);
        vec![
            dist::normal_lpdf(y, alpha + b.take(group, 0), sigma)
                + dist::normal_lpdf(b, 0.0, tau)
                + dist::normal_lpdf(alpha, 0.0, 10.0)
                + dist::half_normal_lpdf(sigma, 5.0)
                + dist::half_normal_lpdf(tau, 5.0),
        ]
    })?;

    let data = vec![Array::from(ndarray::Array1::from(y)), Array::from(ndarray::Array1::from(g))];
    let mut init = vec![0.0, 1.0, 1.0];
    init.extend(std::iter::repeat_n(0.0, groups));
    let fit = laplace_params(&log_posterior, data.clone(), &space, &init, &Options::default())?;

    println!("random intercepts: {groups} groups × {per_group} observations, d = {d}");
    println!("{:>6} {:>10} {:>10}   (constrained scale; delta-method std)", "", "mode", "std");
    let names = space.names();
    for (j, name) in names.iter().enumerate() {
        println!("{:>6} {:>10.4} {:>10.4}", name, fit.summary.mode[j], fit.summary.std[j]);
    }
    println!(
        "log evidence {:.5}; {} Newton iteration(s), fit in {:?}",
        fit.fit.log_evidence, fit.fit.iterations, fit.fit.timings.total
    );

    let icc = trace_with("icc", &types, |_, a| {
        let (sigma, tau) = (a[0].at(1), a[0].at(2));
        vec![tau.square() / (tau.square() + sigma.square())]
    })?;
    let r = space.sdreport(&fit.fit, &icc, &data)?;
    println!("intra-class correlation τ²/(τ² + σ²) = {:.3} ± {:.3}", r.value[0], r.std[0]);
    Ok(())
}
