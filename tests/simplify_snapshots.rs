//! The simplifier on the derivatives of every test case: an insta snapshot
//! per case of `grad` and `hessian`, holding the op counts and estimated
//! flops before and after and a line diff of the printed function. Values
//! are checked by `simplify_semantics.rs`; these pin what the simplified IR
//! looks like.

mod common;

use saddle::ir::simplify::{SimplifyOptions, estimate, simplify};
use saddle::ir::{Func, print_func, verify};

/// A line diff (longest common subsequence): ` ` kept, `-` removed, `+` added.
fn diff(before: &str, after: &str) -> String {
    let a: Vec<&str> = before.lines().collect();
    let b: Vec<&str> = after.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push_str(&format!("  {}\n", a[i]));
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push_str(&format!("+ {}\n", b[j]));
            j += 1;
        } else {
            out.push_str(&format!("- {}\n", a[i]));
            i += 1;
        }
    }
    out
}

fn snapshot(case: &str, transform: &str, f: &Func) -> (usize, usize) {
    let (g, report) = simplify(f, &SimplifyOptions::default()).unwrap();
    verify(&g).unwrap_or_else(|e| panic!("simplified {transform} of {case} does not verify: {e}"));
    assert!(report.limit_hit.is_none(), "{transform} of {case}: {report}");
    let (again, _) = simplify(&g, &SimplifyOptions::default()).unwrap();
    assert_eq!(print_func(&again), print_func(&g), "simplify is not idempotent on {transform} of {case}");
    let (b, a) = (estimate(f), estimate(&g));
    assert!(a.cost.flops <= b.cost.flops, "{transform} of {case}: more flops after simplifying");
    let text = format!(
        "ops {} -> {}, flops {} -> {}, bytes {} -> {}\n\n{}",
        b.ops,
        a.ops,
        b.cost.flops,
        a.cost.flops,
        b.cost.bytes,
        a.cost.bytes,
        diff(&print_func(f), &print_func(&g))
    );
    insta::assert_snapshot!(format!("{case}.{transform}"), text);
    (b.ops, a.ops)
}

#[test]
fn simplified_derivatives_of_every_case() {
    let (mut before, mut after) = (0, 0);
    for (name, m) in common::cases() {
        let f = &m.funcs[0];
        snapshot(&name, "grad", &saddle::ad::grad(f, 0).unwrap());
        let (b, a) = snapshot(&name, "hessian", &saddle::ad::hessian(f, 0).unwrap());
        before += b;
        after += a;
    }
    // The target: at least 25% fewer ops on Hessians overall.
    assert!(4 * after <= 3 * before, "hessian ops {before} -> {after}");
}
