//! The cost of derivatives at run time: one call of `f`, `grad(f)` and
//! `hessian(f)`, compiled once by the runtime, for the seed examples and a
//! logistic-regression log density with N = 100,000 observations and D = 50
//! predictors (data as parameters). The Hessian is also timed after the
//! e-graph simplifier. `bench/ad_vs_jax.py` reads these numbers and sets
//! them against JAX's.
//!
//! `cargo bench --bench ad_eval [-- FILTER]`; `SADDLE_BENCH_N` and
//! `SADDLE_BENCH_D` change the size of the regression.

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::{Array1, Array2};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use saddle::ir::simplify::{SimplifyOptions, simplify};
use saddle::ir::{Array, Func, TensorType, parse_module};

fn example(name: &str) -> Func {
    let path = format!("{}/examples/sir/{name}.sir", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("the seed example exists");
    parse_module(&path, &text).expect("the seed example parses").funcs.remove(0)
}

/// The logistic-regression log density of `bench/ad_vs_jax.py`, traced.
pub fn logreg(n: usize, d: usize) -> Func {
    saddle::ir::trace::trace_with(
        "logreg",
        &[TensorType::f64([d]), TensorType::f64([n, d]), TensorType::f64([n])],
        |_, p| {
            let (beta, x, y) = (p[0], p[1], p[2]);
            let z = x.matmul(beta);
            let loglik = (y * z - z.exp().log1p()).sum_all();
            vec![loglik - 0.5 * (beta * beta).sum_all()]
        },
    )
    .expect("the log density traces")
}

fn logreg_data(n: usize, d: usize) -> Vec<Array> {
    let mut rng = StdRng::seed_from_u64(0);
    let scale = 1.0 / (d as f64).sqrt();
    let x = Array2::from_shape_fn((n, d), |_| rng.random_range(-1.7..1.7) * scale);
    let y = Array1::from_shape_fn(n, |_| if rng.random_bool(0.5) { 1.0 } else { 0.0 });
    let beta = Array1::from_shape_fn(d, |_| rng.random_range(-0.1..0.1));
    vec![beta.into_dyn().into(), x.into_dyn().into(), y.into_dyn().into()]
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn time(c: &mut Criterion, group: &str, f: &Func, args: &[Array], samples: usize) {
    let simplified = |g: Func| simplify(&g, &SimplifyOptions::default()).expect("simplifies").0;
    let variants: Vec<(&str, Func)> = vec![
        ("f", f.clone()),
        ("grad", saddle::ad::grad(f, 0).expect("grad")),
        ("hessian", saddle::ad::hessian(f, 0).expect("hessian")),
        ("grad_simplified", simplified(saddle::ad::grad(f, 0).expect("grad"))),
        ("hessian_simplified", simplified(saddle::ad::hessian(f, 0).expect("hessian"))),
    ];
    let mut g = c.benchmark_group(group);
    g.sample_size(samples);
    for (name, func) in &variants {
        let exe = saddle::runtime::compile(func).expect("compiles");
        g.bench_function(*name, |b| b.iter(|| exe.run(args).expect("runs")));
    }
    g.finish();
}

fn bench(c: &mut Criterion) {
    for name in ["student_t", "logistic"] {
        let f = example(name);
        let args: Vec<Array> = f.param_types().iter().map(|t| Array::full(t, saddle::ir::Scalar::F64(1.25))).collect();
        time(c, name, &f, &args, 100);
    }
    let (n, d) = (env("SADDLE_BENCH_N", 100_000), env("SADDLE_BENCH_D", 50));
    time(c, "logreg", &logreg(n, d), &logreg_data(n, d), 20);
}

criterion_group!(benches, bench);
criterion_main!(benches);
