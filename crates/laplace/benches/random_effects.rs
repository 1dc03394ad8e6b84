//! The Laplace-approximated log marginal of random-effects models with
//! 10⁵ random effects, value and exact gradient, as an outer optimiser
//! calls it: alternating between two nearby fixed effects, so that every
//! call runs the inner Newton from the previous call's mode.
//!
//! Models: a Poisson GLMM (log link, one covariate, random intercepts,
//! 3 observations per group) and the linear mixed model with the same
//! design. The first call, which detects the Hessian's pattern, colours it
//! and compiles the derivatives, is timed apart and printed.

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::{ArrayD, IxDyn};
use saddle_ir::trace::trace_with;
use saddle_ir::{Array, DType, Func, TensorType};
use saddle_laplace::RandomEffects;

const LN_2PI: f64 = 1.837_877_066_409_345_5;
const GROUPS: usize = 100_000;
const PER_GROUP: usize = 3;

/// `(x, group, y)` for `GROUPS` groups: Poisson counts or Gaussian responses.
fn data(poisson: bool) -> Vec<Array> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let (mut x, mut group, mut y) = (vec![], vec![], vec![]);
    for g in 0..GROUPS {
        let u = 0.5 * (uniform() - 0.5);
        for _ in 0..PER_GROUP {
            let xi = uniform() - 0.5;
            let eta = 0.3 + 0.5 * xi + u;
            let yi = if poisson {
                // Poisson by counting exponential arrivals before exp(η).
                let (mut k, mut t) = (0.0, -uniform().ln());
                while t < eta.exp() {
                    k += 1.0;
                    t -= uniform().ln();
                }
                k
            } else {
                eta + 0.4 * (uniform() - 0.5)
            };
            x.push(xi);
            group.push(g as i64);
            y.push(yi);
        }
    }
    let n = x.len();
    vec![
        Array::F64(ArrayD::from_shape_vec(IxDyn(&[n]), x).expect("a vector")),
        Array::I64(ArrayD::from_shape_vec(IxDyn(&[n]), group).expect("a vector")),
        Array::F64(ArrayD::from_shape_vec(IxDyn(&[n]), y).expect("a vector")),
    ]
}

/// x = (β₀, β₁, log σ_u, [log σ,] u): Poisson or Gaussian responses,
/// u ~ N(0, σ_u²).
fn model(poisson: bool) -> (Func, usize) {
    let p = if poisson { 3 } else { 4 };
    let n = GROUPS * PER_GROUP;
    let params =
        [TensorType::f64([p + GROUPS]), TensorType::f64([n]), TensorType::new(DType::I64, [n]), TensorType::f64([n])];
    let f = trace_with("glmm", &params, |_, a| {
        let (v, x, g, y) = (a[0], a[1], a[2], a[3]);
        let scalar = |i: usize| v.slice(&[i], &[i + 1]).reshape(&[]);
        let u = v.slice(&[p], &[p + GROUPS]);
        let eta = scalar(0) + scalar(1) * x + u.take(g, 0);
        let lik = if poisson {
            (y * eta - eta.exp()).sum_all()
        } else {
            let r = y - eta;
            -0.5 * (r * r).sum_all() * (-2.0 * scalar(3)).exp() - n as f64 * (scalar(3) + 0.5 * LN_2PI)
        };
        let prior = -0.5 * (u * u).sum_all() * (-2.0 * scalar(2)).exp() - GROUPS as f64 * (scalar(2) + 0.5 * LN_2PI);
        vec![lik + prior]
    })
    .expect("the model traces");
    (f, p)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("marginal_value_grad_1e5");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    for (name, poisson, theta) in
        [("poisson_glmm", true, vec![0.3, 0.5, -1.4]), ("lmm", false, vec![0.3, 0.5, -1.4, -2.0])]
    {
        let (f, p) = model(poisson);
        let random: Vec<usize> = (p..p + GROUPS).collect();
        let mut re = RandomEffects::new(&f, data(poisson), &random).expect("a valid model");
        let mut grad = vec![0.0; p];
        let t = Instant::now();
        re.log_marginal_grad(&theta, &mut grad).expect("the marginal at θ");
        println!(
            "{name}: first call (detection, colouring, compilation, cold inner solve) {:.3} s",
            t.elapsed().as_secs_f64()
        );
        let nearby: Vec<f64> = theta.iter().map(|t| t + 0.01).collect();
        let mut flip = false;
        group.bench_function(name, |b| {
            b.iter(|| {
                flip = !flip;
                re.log_marginal_grad(if flip { &nearby } else { &theta }, &mut grad).expect("the marginal")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
