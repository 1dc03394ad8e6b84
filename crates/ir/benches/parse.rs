//! Parsing and verifying a generated 100,000-statement module.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use saddle_ir::{parse_module, verify_module};

/// A module of `n` statements: a long chain of elementwise ops with
/// constants, reductions and products mixed in, as AD output looks.
pub fn big_module(n: usize) -> String {
    let mut s = String::with_capacity(n * 48);
    s.push_str("func @big(%x: f64[8], %m: f64[8,8]) -> f64[] {\n");
    s.push_str("  %v0: f64[8] = exp %x\n");
    let mut last = 0;
    for i in 1..n - 1 {
        match i % 8 {
            0 => s.push_str(&format!("  %v{i}: f64[8] = const {{value = {}.5}}\n", i % 97)),
            1 => s.push_str(&format!("  %v{i}: f64[8] = add %v{last}, %v{}\n", i - 1)),
            2 => s.push_str(&format!(
                "  %v{i}: f64[8] = dot_general %m, %v{last} {{lhs_contract = [1], rhs_contract = [0]}}\n"
            )),
            3 => s.push_str(&format!("  %v{i}: f64[8] = tanh %v{last}\n")),
            4 => s.push_str(&format!("  %v{i}: f64[8] = mul %v{last}, %x\n")),
            5 => s.push_str(&format!("  %v{i}: f64[] = reduce_sum %v{last} {{axes = [0]}}\n")),
            6 => s.push_str(&format!("  %v{i}: f64[8] = broadcast_in_dim %v{} {{shape = [8], dims = []}}\n", i - 1)),
            _ => s.push_str(&format!("  %v{i}: f64[8] = sub %v{}, %v{last}\n", i - 1)),
        }
        if i % 8 != 5 {
            last = i;
        }
    }
    s.push_str(&format!("  %out: f64[] = reduce_sum %v{last} {{axes = [0]}}\n  return %out\n}}\n"));
    s
}

fn bench(c: &mut Criterion) {
    let text = big_module(100_000);
    assert!(verify_module(&parse_module("big.sir", &text).unwrap()).is_ok());
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Elements(100_000));
    g.sample_size(20);
    g.bench_function("parse_and_verify_100k_statements", |b| {
        b.iter(|| {
            let m = parse_module("big.sir", &text).unwrap();
            verify_module(&m).unwrap();
            m
        })
    });
    let m = parse_module("big.sir", &text).unwrap();
    g.bench_function("print_100k_statements", |b| b.iter(|| saddle_ir::print_module(&m)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
