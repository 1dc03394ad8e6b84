//! Runtime benchmarks: per-call overhead, compile time, fused elementwise
//! throughput against a plain memory copy, and dot_general against the
//! backend's own gemm on the same data.
//!
//! `cargo bench -p saddle-runtime`; the JAX comparison is
//! `bench/runtime_vs_jax.py` at the workspace root.

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::{ArrayD, IxDyn};
use saddle_ir::{Array, parse_func};
use saddle_runtime::backend::{Backend, DefaultBackend, Strided};
use saddle_runtime::{CompileOptions, compile, compile_with};

fn vec_f64(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 6.0 - 3.0
        })
        .collect()
}

fn array(shape: &[usize], seed: u64) -> Array {
    let n = shape.iter().product();
    Array::F64(ArrayD::from_shape_vec(IxDyn(shape), vec_f64(n, seed)).unwrap())
}

/// A function of about 1,000 ops: elementwise chains with a dot every 50.
pub fn thousand_ops() -> String {
    let mut lines = vec!["func @big(%x: f64[16], %m: f64[16,16]) -> f64[] {".to_string()];
    let kinds = ["exp", "log1p", "tanh", "logistic", "neg", "sin"];
    let mut prev = "%x".to_string();
    for k in 0..996 {
        let line = if k % 50 == 49 {
            format!("  %v{k}: f64[16] = dot_general %m, {prev} {{lhs_contract = [1], rhs_contract = [0]}}")
        } else if k % 3 == 0 {
            format!("  %v{k}: f64[16] = {} {prev}", kinds[k % kinds.len()])
        } else if k % 3 == 1 {
            format!("  %v{k}: f64[16] = mul {prev}, %x")
        } else {
            format!("  %v{k}: f64[16] = add {prev}, %v{}", k - 2)
        };
        lines.push(line);
        prev = format!("%v{k}");
    }
    lines.push(format!("  %s: f64[] = reduce_sum {prev} {{axes = [0]}}"));
    lines.push("  return %s\n}".to_string());
    lines.join("\n")
}

fn per_call(c: &mut Criterion) {
    let src =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/sir/student_t.sir")).unwrap();
    let f = parse_func("student_t.sir", &src).unwrap();
    let exe = compile(&f).unwrap();
    let mut ws = exe.workspace();
    let mut out = exe.new_outputs();
    let x = [Array::from(ndarray::arr1(&[1.5, 1.0]).into_dyn())];
    c.bench_function("student_t/run_into", |b| b.iter(|| exe.run_into(&mut ws, &x, &mut out).unwrap()));
    c.bench_function("student_t/run", |b| b.iter(|| exe.run(&x).unwrap()));
}

fn compile_time(c: &mut Criterion) {
    let f = parse_func("big.sir", &thousand_ops()).unwrap();
    assert!(f.insts().len() >= 997);
    c.bench_function("compile/1000_ops", |b| b.iter(|| compile(&f).unwrap()));
    // The runtime's own planning, without the equality-saturation simplifier.
    let plain = CompileOptions { simplify: false, ..CompileOptions::default() };
    c.bench_function("compile/1000_ops/no_simplify", |b| b.iter(|| compile_with(&f, &plain).unwrap()));
}

fn logistic(c: &mut Criterion) {
    let mut g = c.benchmark_group("logistic");
    g.sample_size(20);
    for n in [1_000_000usize, 10_000_000] {
        let src = format!("func @f(%x: f64[{n}]) -> f64[{n}] {{\n  %y: f64[{n}] = logistic %x\n  return %y\n}}");
        let exe = compile(&parse_func("l.sir", &src).unwrap()).unwrap();
        let x = [array(&[n], 1)];
        let mut ws = exe.workspace();
        let mut out = exe.new_outputs();
        g.bench_function(format!("saddle/{n}"), |b| b.iter(|| exe.run_into(&mut ws, &x, &mut out).unwrap()));
        // The same bytes moved by a copy: the memory-bandwidth bound.
        let src = x[0].as_f64().unwrap().as_slice().unwrap().to_vec();
        let mut dst = vec![0.0; n];
        g.bench_function(format!("copy/{n}"), |b| b.iter(|| dst.copy_from_slice(std::hint::black_box(&src))));
    }
    g.finish();
}

fn dot(c: &mut Criterion) {
    let mut g = c.benchmark_group("dot_general");
    g.sample_size(20);
    let (n, p) = (100_000usize, 50usize);
    let x = array(&[n, p], 2);
    let v = array(&[p], 3);
    let xs = x.as_f64().unwrap().as_slice().unwrap().to_vec();
    let vs = v.as_f64().unwrap().as_slice().unwrap().to_vec();
    let backend = DefaultBackend::default();
    let src = format!(
        "func @f(%X: f64[{n},{p}], %v: f64[{p}]) -> f64[{n}] {{\n  %y: f64[{n}] = dot_general %X, %v {{lhs_contract = [1], rhs_contract = [0]}}\n  return %y\n}}"
    );
    let exe = compile(&parse_func("d.sir", &src).unwrap()).unwrap();
    let (mut ws, mut out) = (exe.workspace(), exe.new_outputs());
    let inputs = [x.clone(), v];
    g.bench_function("Xv/saddle", |b| b.iter(|| exe.run_into(&mut ws, &inputs, &mut out).unwrap()));
    let mut y = vec![0.0; n];
    g.bench_function("Xv/backend", |b| {
        b.iter(|| backend.gemm_f64(&mut y, Strided::row_major(&xs, n, p), Strided::row_major(&vs, p, 1), true))
    });
    // XᵀY with Y = W·X precomputed: the gemm of a Newton step.
    let w = array(&[n, p], 4);
    let ws_ = w.as_f64().unwrap().as_slice().unwrap().to_vec();
    let src = format!(
        "func @f(%X: f64[{n},{p}], %Y: f64[{n},{p}]) -> f64[{p},{p}] {{\n  %h: f64[{p},{p}] = dot_general %X, %Y {{lhs_contract = [0], rhs_contract = [0]}}\n  return %h\n}}"
    );
    let exe = compile(&parse_func("d.sir", &src).unwrap()).unwrap();
    let (mut wsp, mut out) = (exe.workspace(), exe.new_outputs());
    let inputs = [x, w];
    g.bench_function("XtY/saddle", |b| b.iter(|| exe.run_into(&mut wsp, &inputs, &mut out).unwrap()));
    let mut h = vec![0.0; p * p];
    g.bench_function("XtY/backend", |b| {
        b.iter(|| backend.gemm_f64(&mut h, Strided::row_major(&xs, n, p).t(), Strided::row_major(&ws_, n, p), true))
    });
    g.finish();
}

criterion_group!(benches, per_call, compile_time, logistic, dot);
criterion_main!(benches);
