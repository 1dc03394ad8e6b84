//! Criterion benchmark of the simplifier on Hessians: a generated density
//! whose Hessian has about 5,000 ops, and the logistic-regression density;
//! and on long chains of one op that the rules collapse (`neg`, `abs`,
//! `sub 0, x`, `mul x, -1`, `transpose`, ...) of 1e3, 1e4 and 1e5 ops,
//! the inputs on which the simplifier's work once grew as n³.
//!
//!     cargo bench --bench simplify

#[path = "big_density.rs"]
mod big_density;
#[path = "../crates/ir/src/simplify/chains.rs"]
mod chains;

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

fn bench_chains(c: &mut Criterion) {
    let mut g = c.benchmark_group("simplify_chain");
    g.sample_size(10);
    for n in [1_000, 10_000, 100_000] {
        for kind in chains::KINDS {
            let f = parse_func("chain.sir", &chains::chain(kind, n)).expect("generated chain parses");
            g.bench_function(format!("{kind}_{n}"), |b| {
                b.iter(|| simplify(&f, &SimplifyOptions::default()).expect("simplify"))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench, bench_chains);
criterion_main!(benches);
