//! The seed example: Laplace's approximation of a 2-D Student-t log
//! density, written with the tracing API.
//!
//! ```text
//! cargo run --release --example student_t [OUT.svg]
//! ```
//!
//! Prints the mode, covariance and log evidence, and writes the figure
//! (contours of the true log density against the approximation, and the
//! marginals) to `student_t.svg` or the path given.

use ndarray::{arr1, arr2};
use saddle::ir::TensorType;
use saddle::ir::trace::trace_with;
use saddle::laplace::plot::{PlotOptions, figure};
use saddle::laplace::{IrDensity, Options, laplace};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args().nth(1).unwrap_or_else(|| "student_t.svg".into());

    // log p(θ) = -(ν + 2)/2 · log(1 + (θ - μ)ᵀ Σ⁻¹ (θ - μ) / ν), unnormalised,
    // with μ = (0.5, 2), Σ = [[1, .5], [.5, 1]], ν = 7.
    let nu = 7.0;
    let log_posterior = trace_with("log_posterior", &[TensorType::f64([2])], |tr, args| {
        let theta = args[0];
        let mu = tr.constant(arr1(&[0.5, 2.0]));
        let sigma_inv = tr.constant(arr2(&[[4.0 / 3.0, -2.0 / 3.0], [-2.0 / 3.0, 4.0 / 3.0]]));
        let d = theta - mu;
        let q = d.dot(sigma_inv.matmul(d));
        vec![-(nu + 2.0) / 2.0 * (1.0 + q / nu).log()]
    })?;

    let mut density = IrDensity::new(&log_posterior, vec![])?;
    let fit = laplace(&mut density, &[0.0, 0.0], &Options::default())?;

    println!("mode            {:.6}", fit.mode);
    println!("std             {:.6}", fit.std);
    println!("covariance      {:.6}", fit.covariance.as_ref().expect("d = 2").row(0));
    println!("                {:.6}", fit.covariance.as_ref().expect("d = 2").row(1));
    println!("log density     {:.6}", fit.log_density_at_mode);
    println!("log evidence    {:.7}", fit.log_evidence);
    println!(
        "{} after {} Newton iteration(s), |grad|∞ = {:.1e}, fit in {:.0?}",
        if fit.converged { "converged" } else { "not converged" },
        fit.iterations,
        fit.grad_norm,
        fit.timings.total
    );
    println!("exact: mode (0.5, 2), covariance 7/9·Σ = [[0.777778, 0.388889], [0.388889, 0.777778]]");

    let title = Some("2-D Student-t (ν = 7) and its Laplace approximation".to_string());
    let svg = figure(&fit, &mut density, &PlotOptions { title, ..PlotOptions::default() })?;
    std::fs::write(&out, svg)?;
    println!("wrote {out}");
    Ok(())
}
