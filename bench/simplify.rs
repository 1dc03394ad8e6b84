//! Criterion benchmark of the simplifier on Hessians: a generated density
//! whose Hessian has about 5,000 ops, and the logistic-regression density.
//!
//!     cargo bench --bench simplify

#[path = "big_density.rs"]
mod big_density;

use criterion::{Criterion, criterion_group, criterion_main};
use saddle::ir::parse_func;
use saddle::ir::simplify::{SimplifyOptions, simplify};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("simplify");
    g.sample_size(10);
    let f = parse_func("big.sir", &big_density::big_density(200, 6)).expect("generated density parses");
    let h = saddle::ad::hessian(&f, 0).expect("hessian");
    g.bench_function(format!("hessian_{}_ops", h.insts().len()), |b| {
        b.iter(|| simplify(&h, &SimplifyOptions::default()).expect("simplify"))
    });
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cases/logreg.sir")).expect("case");
    let f = parse_func("logreg.sir", &text).expect("logreg parses");
    let h = saddle::ad::hessian(&f, 0).expect("hessian");
    g.bench_function("logreg_hessian", |b| b.iter(|| simplify(&h, &SimplifyOptions::default()).expect("simplify")));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
