//! How long the transformations themselves take: JVP, VJP, gradient and
//! Hessian of a generated 5,000-op function, and of the logistic-regression
//! log density.

use criterion::{Criterion, criterion_group, criterion_main};
use saddle_ir::{Func, TensorType, parse_func};

/// A chain of `n` statements over a vector of 8, as AD output looks:
/// elementwise ops, matrix-vector products, reductions and broadcasts.
fn chain(n: usize) -> Func {
    let mut s = String::with_capacity(n * 48);
    s.push_str("func @big(%x: f64[8], %m: f64[8,8]) -> f64[] {\n  %v0: f64[8] = exp %x\n");
    let mut last = 0;
    for i in 1..n - 1 {
        let line = match i % 8 {
            0 => format!("  %v{i}: f64[8] = const {{value = {}.5}}\n", i % 97),
            1 => format!("  %v{i}: f64[8] = add %v{last}, %v{}\n", i - 1),
            2 => format!("  %v{i}: f64[8] = dot_general %m, %v{last} {{lhs_contract = [1], rhs_contract = [0]}}\n"),
            3 => format!("  %v{i}: f64[8] = tanh %v{last}\n"),
            4 => format!("  %v{i}: f64[8] = mul %v{last}, %x\n"),
            5 => format!("  %v{i}: f64[] = reduce_sum %v{last} {{axes = [0]}}\n"),
            6 => format!("  %v{i}: f64[8] = broadcast_in_dim %v{} {{shape = [8], dims = []}}\n", i - 1),
            _ => format!("  %v{i}: f64[8] = sub %v{}, %v{last}\n", i - 1),
        };
        s.push_str(&line);
        if i % 8 != 5 {
            last = i;
        }
    }
    s.push_str(&format!("  %out: f64[] = reduce_sum %v{last} {{axes = [0]}}\n  return %out\n}}\n"));
    parse_func("chain.sir", &s).expect("the generated chain parses")
}

fn logreg() -> Func {
    saddle_ir::trace::trace_with(
        "logreg",
        &[TensorType::f64([50]), TensorType::f64([100_000, 50]), TensorType::f64([100_000])],
        |_, p| {
            let (beta, x, y) = (p[0], p[1], p[2]);
            let z = x.matmul(beta);
            vec![(y * z - (1.0 + z.exp()).log()).sum_all() - 0.5 * (beta * beta).sum_all()]
        },
    )
    .expect("the log density traces")
}

fn bench(c: &mut Criterion) {
    let big = chain(5000);
    let mut g = c.benchmark_group("5000-op chain");
    g.sample_size(10);
    g.bench_function("jvp", |b| b.iter(|| saddle_ad::jvp(&big).unwrap()));
    g.bench_function("vjp", |b| b.iter(|| saddle_ad::vjp(&big).unwrap()));
    g.bench_function("grad", |b| b.iter(|| saddle_ad::grad(&big, 0).unwrap()));
    g.bench_function("vmap", |b| b.iter(|| saddle_ad::vmap_leading(&big, 16).unwrap()));
    g.bench_function("hessian", |b| b.iter(|| saddle_ad::hessian(&big, 0).unwrap()));
    g.finish();
    let lr = logreg();
    let mut g = c.benchmark_group("logistic regression");
    g.bench_function("grad", |b| b.iter(|| saddle_ad::grad(&lr, 0).unwrap()));
    g.bench_function("hessian", |b| b.iter(|| saddle_ad::hessian(&lr, 0).unwrap()));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
