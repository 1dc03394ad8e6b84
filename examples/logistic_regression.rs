//! Bayesian logistic regression with data from `.npy` files.
//!
//! ```text
//! cargo run --release --example logistic_regression [X.npy y.npy]
//! ```
//!
//! The defaults are the small data set in `examples/data` (N = 400,
//! D = 5, made by `examples/data/make_logistic.py`, which also writes
//! larger ones). The prior is β ~ N(0, 5² I); the log posterior is traced
//! from Rust with the data as fixed arguments, so the compiled code does
//! not depend on the data's values.

use ndarray::{Array1, Array2};
use ndarray_npy::read_npy;
use saddle::ir::trace::trace_with;
use saddle::ir::{Array, TensorType, dist};
use saddle::laplace::{IrDensity, Options, laplace, sdreport};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (xp, yp) = match args.as_slice() {
        [x, y] => (x.clone(), y.clone()),
        [] => ("examples/data/logistic_X.npy".into(), "examples/data/logistic_y.npy".into()),
        _ => return Err("usage: logistic_regression [X.npy y.npy]".into()),
    };
    let x: Array2<f64> = read_npy(&xp)?;
    let y: Array1<f64> = read_npy(&yp)?;
    let (n, d) = x.dim();
    if y.len() != n {
        return Err(format!("{xp} has {n} rows but {yp} has {} entries", y.len()).into());
    }

    let prior_sd = 5.0;
    let types = [TensorType::f64([d]), TensorType::f64([n, d]), TensorType::f64([n])];
    let log_posterior = trace_with("log_posterior", &types, |_, a| {
        let (beta, x, y) = (a[0], a[1], a[2]);
        vec![dist::bernoulli_logit_lpmf(y, x.matmul(beta)) + dist::normal_lpdf(beta, 0.0, prior_sd)]
    })?;

    let data = vec![Array::from(x.into_dyn()), Array::from(y.into_dyn())];
    let mut density = IrDensity::new(&log_posterior, data.clone())?;
    let fit = laplace(&mut density, &vec![0.0; d], &Options::default())?;

    println!("Bayesian logistic regression, N = {n}, D = {d}");
    println!("{:>6} {:>12} {:>12}", "", "mode", "std");
    for j in 0..d {
        println!("{:>6} {:>12.5} {:>12.5}", format!("β[{j}]"), fit.mode[j], fit.std[j]);
    }
    println!("log evidence {:.6}", fit.log_evidence);
    println!(
        "{} Newton iteration(s), |grad|∞ = {:.1e}; build {:?} (differentiate {:?}, simplify {:?}, compile {:?}), fit {:?}",
        fit.iterations,
        fit.grad_norm,
        density.report().differentiate + density.report().simplify + density.report().compile,
        density.report().differentiate,
        density.report().simplify,
        density.report().compile,
        fit.timings.total,
    );

    // A derived quantity with its delta-method standard error: the success
    // probability at the covariate means (the first column is the intercept).
    let mean_row: Vec<f64> = (0..d).map(|j| if j == 0 { 1.0 } else { 0.0 }).collect();
    let g = trace_with("p_at_mean", &types, |tr, a| {
        let row = tr.constant(mean_row.as_slice());
        vec![row.dot(a[0]).logistic()]
    })?;
    let r = sdreport(&fit, &g, &data)?;
    println!("P(y = 1 | covariates at 0) = {:.4} ± {:.4}", r.value[0], r.std[0]);
    Ok(())
}
