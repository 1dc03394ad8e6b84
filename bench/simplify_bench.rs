//! Measures the simplifier: op counts and estimated flops of `grad` and
//! `hessian` of every test case before and after, the time to simplify a
//! Hessian of about 5,000 ops, and the logistic-regression Hessian
//! (N = 1e5, D = 50) against the hand-written XᵀWX. Prints Markdown tables
//! (docs/simplify.md records them).
//!
//!     cargo run --release --example simplify_bench

#[path = "big_density.rs"]
mod big_density;
#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use saddle::ir::simplify::{SimplifyOptions, estimate, simplify};
use saddle::ir::{Func, parse_func};

fn pct(before: f64, after: f64) -> String {
    if before == 0.0 { "–".into() } else { format!("{:+.0}%", 100.0 * (after - before) / before) }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time_simplify(f: &Func, runs: usize) -> (Duration, saddle::ir::simplify::SimplifyReport) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let (_, r) = simplify(f, &SimplifyOptions::default()).expect("simplify");
        times.push(t.elapsed());
        last = Some(r);
    }
    (median(times), last.expect("at least one run"))
}

fn main() {
    println!("## Op counts and estimated flops, before and after\n");
    println!("| case | transform | ops before | ops after | change | flops before | flops after | change | time |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut totals = [[0.0f64; 4]; 2];
    for (name, m) in common::cases() {
        let f = m.funcs[0].clone();
        for (k, what) in ["grad", "hessian"].into_iter().enumerate() {
            let g = if k == 0 { saddle::ad::grad(&f, 0) } else { saddle::ad::hessian(&f, 0) }.expect("AD");
            let (t, r) = time_simplify(&g, 3);
            let (b, a) = (r.before, r.after);
            totals[k][0] += b.ops as f64;
            totals[k][1] += a.ops as f64;
            totals[k][2] += b.cost.flops;
            totals[k][3] += a.cost.flops;
            println!(
                "| {name} | {what} | {} | {} | {} | {} | {} | {} | {:.1} ms |",
                b.ops,
                a.ops,
                pct(b.ops as f64, a.ops as f64),
                b.cost.flops,
                a.cost.flops,
                pct(b.cost.flops, a.cost.flops),
                t.as_secs_f64() * 1e3
            );
        }
    }
    for (k, what) in ["grad", "hessian"].into_iter().enumerate() {
        let t = totals[k];
        println!(
            "| **all** | **{what}** | {} | {} | **{}** | {} | {} | **{}** | |",
            t[0],
            t[1],
            pct(t[0], t[1]),
            t[2],
            t[3],
            pct(t[2], t[3])
        );
    }

    println!("\n## Simplifying a large Hessian\n");
    println!("| function | ops before | ops after | e-nodes | iterations | time (median of 5) |");
    println!("|---|---:|---:|---:|---:|---:|");
    for blocks in [50, 200] {
        let f = parse_func("big.sir", &big_density::big_density(blocks, 6)).expect("generated density parses");
        let h = saddle::ad::hessian(&f, 0).expect("hessian");
        let (t, r) = time_simplify(&h, 5);
        println!(
            "| hessian of a {blocks}-block density | {} | {} | {} | {} | {:.0} ms |",
            r.before.ops,
            r.after.ops,
            r.egraph_nodes,
            r.iterations,
            t.as_secs_f64() * 1e3
        );
    }

    println!("\n## Logistic regression, N = 1e5, D = 50\n");
    let (n, d) = (100_000usize, 50usize);
    let src = format!(
        "func @logreg(%beta: f64[{d}], %X: f64[{n},{d}], %y: f64[{n}]) -> f64[] {{
  %z: f64[{n}] = dot_general %X, %beta {{lhs_contract = [1], rhs_contract = [0]}}
  %yz: f64[{n}] = mul %y, %z
  %ez: f64[{n}] = exp %z
  %sp: f64[{n}] = log1p %ez
  %ll: f64[{n}] = sub %yz, %sp
  %loglik: f64[] = reduce_sum %ll {{axes = [0]}}
  %b2: f64[{d}] = mul %beta, %beta
  %ss: f64[] = reduce_sum %b2 {{axes = [0]}}
  %mhalf: f64[] = const {{value = -0.5}}
  %prior: f64[] = mul %mhalf, %ss
  %lp: f64[] = add %loglik, %prior
  return %lp
}}"
    );
    let f = parse_func("logreg.sir", &src).expect("logreg parses");
    let h = saddle::ad::hessian(&f, 0).expect("hessian");
    let (t, r) = time_simplify(&h, 3);
    let xtwx = 2.0 * (n * d * d) as f64 + (n * d) as f64;
    println!("| | ops | estimated flops | flops / (2·N·D² + N·D) |");
    println!("|---|---:|---:|---:|");
    println!(
        "| hessian as AD gives it | {} | {:.3e} | {:.2} |",
        r.before.ops,
        r.before.cost.flops,
        r.before.cost.flops / xtwx
    );
    println!(
        "| simplified ({:.0} ms) | {} | {:.3e} | {:.2} |",
        t.as_secs_f64() * 1e3,
        r.after.ops,
        r.after.cost.flops,
        r.after.cost.flops / xtwx
    );
    println!("| hand-written XᵀWX | – | {:.3e} | 1.00 |", xtwx);
    let _ = estimate;
}
