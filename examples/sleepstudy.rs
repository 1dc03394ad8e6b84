//! lme4's sleepstudy by TMB's marginal Laplace approximation: the random
//! intercepts per subject are integrated out, the fixed effects fitted on
//! the log marginal (maximum likelihood, lme4's `REML = FALSE`).
//!
//! ```text
//! cargo run --release --example sleepstudy
//! ```
//!
//! `Reaction ~ Days + (1 | Subject)`: with x = (β₀, β₁, log σ_u, log σ, u₁…u₁₈),
//! u ~ N(0, σ_u²) and Reaction ~ N(β₀ + β₁·Days + u[Subject], σ²). The same
//! model as text is `examples/sir/sleepstudy.sir`, for
//! `saddle laplace examples/sir/sleepstudy.sir --random 4:22 ...`.

use std::error::Error;

use ndarray::{ArrayD, IxDyn};
use saddle::ir::trace::trace_with;
use saddle::ir::{Array, DType, TensorType, dist};
use saddle::laplace::{Options, laplace_random};

/// lme4 1.1-31: `logLik(lmer(Reaction ~ Days + (1 | Subject), sleepstudy, REML = FALSE))`.
const LME4_LOGLIK: f64 = -897.039_321_502_612_9;

fn main() -> Result<(), Box<dyn Error>> {
    // The data: Days, Subject (0-based) and Reaction, as the CLI reads them.
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/sleepstudy.json"))?;
    let columns: Vec<Vec<f64>> = serde_json::from_str(&text)?;
    let [days, subject, reaction] = &columns[..] else {
        return Err("sleepstudy.json holds three columns: Days, Subject, Reaction".into());
    };
    let n = days.len();
    let groups = subject.iter().fold(0.0_f64, |m, &s| m.max(s)) as usize + 1;
    let vector = |v: &[f64]| Array::F64(ArrayD::from_shape_vec(IxDyn(&[v.len()]), v.to_vec()).expect("a vector"));
    let subject_index = Array::I64(ArrayD::from_shape_vec(IxDyn(&[n]), subject.iter().map(|&s| s as i64).collect())?);

    let params =
        [TensorType::f64([4 + groups]), TensorType::f64([n]), TensorType::new(DType::I64, [n]), TensorType::f64([n])];
    let model = trace_with("sleepstudy", &params, |_, a| {
        let (x, days, subject, y) = (a[0], a[1], a[2], a[3]);
        let (b0, b1, log_su, log_s) = (x.at(0), x.at(1), x.at(2), x.at(3));
        let u = x.slice(&[4], &[4 + groups]);
        let mean = b0 + b1 * days + u.take(subject, 0);
        vec![dist::normal_lpdf(u, 0.0, log_su.exp()) + dist::normal_lpdf(y, mean, log_s.exp())]
    })?;

    let random: Vec<usize> = (4..4 + groups).collect();
    let mut init = vec![0.0; 4 + groups];
    init[..4].copy_from_slice(&[250.0, 10.0, 3.0, 3.0]);
    let data = vec![vector(days), subject_index, vector(reaction)];
    let fit = laplace_random(&model, data, &random, &init, &Options::default())?;

    println!("fixed effects (mode ± std):");
    for (name, i) in [("(Intercept)", 0), ("Days", 1), ("log σ_subject", 2), ("log σ_residual", 3)] {
        println!("  {name:<16} {:>10.4} ± {:.4}", fit.mode[i], fit.std[i]);
    }
    println!("σ_subject = {:.4}, σ_residual = {:.4}", fit.mode[2].exp(), fit.mode[3].exp());
    println!("random intercepts of the first three subjects (mode ± joint std):");
    for g in 0..3 {
        println!("  subject {g:<2} {:>10.4} ± {:.4}", fit.mode[4 + g], fit.std[4 + g]);
    }
    println!("log marginal likelihood {:.7} (lme4: {LME4_LOGLIK:.7})", fit.log_marginal);
    println!(
        "{} outer iteration(s), {} inner Newton solve(s), {:.1} ms",
        fit.iterations,
        fit.inner.solves,
        fit.timings.total.as_secs_f64() * 1e3
    );
    if (fit.log_marginal - LME4_LOGLIK).abs() > 1e-6 * LME4_LOGLIK.abs() {
        return Err(format!("the log marginal {} differs from lme4's {LME4_LOGLIK}", fit.log_marginal).into());
    }
    Ok(())
}
