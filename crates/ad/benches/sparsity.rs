//! How long sparse-Hessian set-up takes at the sizes of large Laplace
//! models: pattern detection and star colouring of an AR(1) prior over
//! 10⁶ latents, of random intercepts with one global mean (an arrowhead,
//! 10⁶ latents and observations, indices known), and of the dense pattern
//! the same model has when its indices are unknown (1,001 colours).

use criterion::{Criterion, criterion_group, criterion_main};
use saddle_ad::sparsity::{hessian_pattern, star_colouring};
use saddle_ir::{Array, DType, Func, Scalar, TensorType, trace};

fn ar1(n: usize) -> Func {
    trace("ar1", &[TensorType::f64([n])], |x| {
        let x = x[0];
        let d = x.slice(&[1], &[n]) - 0.9 * x.slice(&[0], &[n - 1]);
        vec![0.5 * (d * d).sum_all() + x.softplus().sum_all()]
    })
    .expect("the AR(1) density traces")
}

/// `[μ, u…]`, observation `i` in group `idx[i]`: `η = μ + u[idx]`.
fn arrowhead(g: usize, m: usize) -> Func {
    let types = [TensorType::f64([g + 1]), TensorType::new(DType::I64, vec![m])];
    trace("arrowhead", &types, |a| {
        let (x, idx) = (a[0], a[1]);
        let mu = x.slice(&[0], &[1]).reshape(&[]).broadcast_in_dim(&[m], &[]);
        let u = x.slice(&[1], &[g + 1]);
        let eta = mu + u.take(idx, 0);
        vec![(eta.exp() - eta).sum_all() + 0.5 * (u * u).sum_all()]
    })
    .expect("the random-intercept density traces")
}

fn groups(g: usize, m: usize) -> Array {
    let idx: Vec<Scalar> = (0..m).map(|i| Scalar::I64(((i * 7919) % g) as i64)).collect();
    Array::from_scalars(&TensorType::new(DType::I64, vec![m]), &idx).expect("the index array has m elements")
}

fn bench(c: &mut Criterion) {
    let n = 1_000_000;
    let mut g = c.benchmark_group("sparsity");
    g.sample_size(10);
    let f = ar1(n);
    let p = hessian_pattern(&f, 0, &[None]).expect("the AR(1) pattern");
    g.bench_function("ar1 1e6 pattern", |b| b.iter(|| hessian_pattern(&f, 0, &[None])));
    g.bench_function("ar1 1e6 colouring", |b| b.iter(|| star_colouring(&p)));
    let f = arrowhead(n, n);
    let idx = groups(n, n);
    let data = [None, Some(&idx)];
    let p = hessian_pattern(&f, 0, &data).expect("the arrowhead pattern");
    g.bench_function("arrowhead 1e6 pattern", |b| b.iter(|| hessian_pattern(&f, 0, &data)));
    g.bench_function("arrowhead 1e6 colouring", |b| b.iter(|| star_colouring(&p)));
    let f = arrowhead(1000, 5000);
    let p = hessian_pattern(&f, 0, &[None, None]).expect("the dense pattern");
    g.bench_function("dense 1001 pattern", |b| b.iter(|| hessian_pattern(&f, 0, &[None, None])));
    g.bench_function("dense 1001 colouring", |b| b.iter(|| star_colouring(&p)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
