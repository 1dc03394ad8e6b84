//! Times Laplace fits of a `.sir` log density: build (differentiate,
//! simplify, compile), the first fit, and warm fits (compiled code and data
//! in memory). Used by `bench/laplace_vs_jax.py`.
//!
//! ```text
//! cargo run --release --example laplace_bench -- FILE.sir INIT_JSON DATA_ARGS [REPEAT [METHOD]]
//! ```
//!
//! METHOD is `auto` (the default), `newton` or `lbfgs`.
//!
//! Prints one JSON object with times in seconds.

mod common;

use std::time::Instant;

use common::load_args;
use saddle::ir::parse_module;
use saddle::laplace::{IrDensity, LogDensity, Method, Options, laplace};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, init, data, rest @ ..] = args.as_slice() else {
        return Err("usage: laplace_bench FILE.sir INIT_JSON DATA_ARGS [REPEAT [METHOD]]".into());
    };
    let repeat: usize = rest.first().map(|s| s.parse()).transpose()?.unwrap_or(10);
    let method = match rest.get(1).map(String::as_str) {
        None | Some("auto") => Method::Auto,
        Some("newton") => Method::Newton,
        Some("lbfgs") => Method::Lbfgs { memory: 10 },
        Some(other) => return Err(format!("unknown METHOD {other:?}: auto, newton or lbfgs").into()),
    };
    let opts = Options { method, ..Options::default() };
    let t0 = Instant::now();
    let module = parse_module(file, &std::fs::read_to_string(file)?)?;
    let f = &module.funcs[0];
    let init: Vec<f64> = serde_json::from_str(init)?;
    let data = load_args(data, &f.param_types()[1..])?;
    let load = t0.elapsed().as_secs_f64();

    let mut density = IrDensity::new(f, data)?;
    let t = Instant::now();
    density.prepare()?;
    let build = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let first = laplace(&mut density, &init, &opts)?;
    let first_fit = t.elapsed().as_secs_f64();
    let mut warm = Vec::new();
    for _ in 0..repeat {
        let t = Instant::now();
        let fit = laplace(&mut density, &init, &opts)?;
        warm.push(t.elapsed().as_secs_f64());
        assert_eq!(fit.iterations, first.iterations);
    }
    warm.sort_by(f64::total_cmp);
    // One call of each compiled function at the mode: where a fit's time goes.
    let mode = first.mode.to_vec();
    let d = mode.len();
    let (mut g, mut h) = (vec![0.0; d], vec![0.0; d * d]);
    let per_call = |f: &mut dyn FnMut() -> Result<f64, saddle::laplace::LaplaceError>| {
        let mut ts = Vec::new();
        for _ in 0..repeat.clamp(3, 20) {
            let t = Instant::now();
            f().expect("evaluates at the mode");
            ts.push(t.elapsed().as_secs_f64());
        }
        ts.sort_by(f64::total_cmp);
        ts[ts.len() / 2]
    };
    let grad_call = per_call(&mut || density.value_grad(&mode, &mut g));
    let hess_call = per_call(&mut || density.value_grad_hess(&mode, &mut g, &mut h));
    let r = density.report();
    println!(
        "{{\"load_s\": {load}, \"build_s\": {build}, \"differentiate_s\": {}, \"simplify_s\": {}, \"compile_s\": {}, \
         \"hessian_ops\": [{}, {}], \"first_fit_s\": {first_fit}, \"warm_fit_median_s\": {}, \"warm_fit_min_s\": {}, \
         \"iterations\": {}, \"evaluations\": {}, \"grad_evals\": {}, \"hess_evals\": {}, \"method\": \"{:?}\", \
         \"optimize_s\": {}, \"hessian_s\": {}, \"grad_call_s\": {grad_call}, \"hess_call_s\": {hess_call}, \
         \"grad_norm\": {}, \"log_evidence\": {}}}",
        r.differentiate.as_secs_f64(),
        r.simplify.as_secs_f64(),
        r.compile.as_secs_f64(),
        r.hessian_ops.0,
        r.hessian_ops.1,
        warm.get(warm.len() / 2).copied().unwrap_or(f64::NAN),
        warm.first().copied().unwrap_or(f64::NAN),
        first.iterations,
        first.evaluations.hess + first.evaluations.grad,
        first.evaluations.grad,
        first.evaluations.hess,
        first.method,
        first.timings.optimize.as_secs_f64(),
        first.timings.hessian.as_secs_f64(),
        first.grad_norm,
        first.log_evidence,
    );
    Ok(())
}
