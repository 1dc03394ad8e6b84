//! Sparse Cholesky of precision matrices: symbolic analysis, numeric
//! factorisation and selected inverse, on AR(1) chains of 10⁵ and 10⁶
//! variables, a 300 × 300 grid (5-point stencil) and an 8⁴ lattice (each
//! node coupled to its ±1 neighbours on each of the four axes), simplicial
//! and supernodal where faer's choice is not obvious.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use saddle_laplace::{FactorKind, SparseCholesky};

/// A lower-triangular CSC pattern and diagonally dominant values.
struct Lower {
    n: usize,
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    values: Vec<f64>,
}

/// The precision of a lattice with the given side lengths: each node coupled
/// to its ±1 neighbours along every axis, weight −0.2, diagonal 1 + Σ|w|.
fn lattice(sides: &[usize]) -> Lower {
    let n: usize = sides.iter().product();
    let mut strides = vec![1; sides.len()];
    for a in (0..sides.len().saturating_sub(1)).rev() {
        strides[a] = strides[a + 1] * sides[a + 1];
    }
    let (mut col_ptr, mut row_idx, mut values) = (vec![0], Vec::new(), Vec::new());
    for c in 0..n {
        let mut degree = 0.0;
        let mut below = Vec::new();
        for (a, &s) in sides.iter().enumerate() {
            let x = (c / strides[a]) % s;
            if x > 0 {
                degree += 0.2;
            }
            if x + 1 < s {
                degree += 0.2;
                below.push(c + strides[a]);
            }
        }
        below.sort_unstable();
        row_idx.push(c);
        values.push(1.0 + degree);
        for r in below {
            row_idx.push(r);
            values.push(-0.2);
        }
        col_ptr.push(row_idx.len());
    }
    Lower { n, col_ptr, row_idx, values }
}

fn bench_case(c: &mut Criterion, name: &str, m: &Lower, kind: FactorKind, samples: usize) {
    let mut chol = SparseCholesky::analyse_with(m.n, &m.col_ptr, &m.row_idx, kind).expect("the pattern is valid");
    eprintln!(
        "{name}: n = {}, nnz(A lower) = {}, nnz(L) = {}, supernodal = {}, factor bytes = {}",
        m.n,
        m.row_idx.len(),
        chol.factor_nnz(),
        chol.is_supernodal(),
        chol.factor_bytes()
    );
    let mut group = c.benchmark_group(name);
    group.sample_size(samples).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    group.bench_function("analyse", |b| {
        b.iter(|| SparseCholesky::analyse_with(m.n, &m.col_ptr, &m.row_idx, kind).expect("the pattern is valid"))
    });
    group.bench_function("factor", |b| b.iter(|| assert!(chol.factor(&m.values, 0.0).expect("values fit"))));
    assert!(chol.factor(&m.values, 0.0).expect("values fit"));
    group.bench_function("selected_inverse", |b| b.iter(|| chol.selected_inverse().expect("factored")));
    group.finish();
}

fn sparse_cholesky(c: &mut Criterion) {
    bench_case(c, "ar1_1e5", &lattice(&[100_000]), FactorKind::Auto, 10);
    bench_case(c, "ar1_1e6", &lattice(&[1_000_000]), FactorKind::Auto, 10);
    let grid = lattice(&[300, 300]);
    bench_case(c, "grid_300x300_simplicial", &grid, FactorKind::Simplicial, 10);
    bench_case(c, "grid_300x300_supernodal", &grid, FactorKind::Supernodal, 10);
    bench_case(c, "grid_300x300_auto", &grid, FactorKind::Auto, 10);
    let l4 = lattice(&[8, 8, 8, 8]);
    bench_case(c, "lattice_8x8x8x8_simplicial", &l4, FactorKind::Simplicial, 10);
    bench_case(c, "lattice_8x8x8x8_supernodal", &l4, FactorKind::Supernodal, 10);
}

criterion_group!(benches, sparse_cholesky);
criterion_main!(benches);
