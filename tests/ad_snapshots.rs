//! The structure of the AD transformations of every test case: insta
//! snapshots of `jvp`, `vjp`, `grad`, `vmap` and `hessian`. The values are
//! checked by `ad_semantics.rs`; these pin what the IR looks like.

mod common;

use saddle::ir::{Func, print_func, verify};

fn snapshot(case: &str, transform: &str, f: &Func) {
    verify(f).unwrap_or_else(|e| panic!("{transform} of {case} does not verify: {e}"));
    insta::assert_snapshot!(format!("{case}.{transform}"), print_func(f));
}

#[test]
fn ad_transformations_of_every_case() {
    let cases = common::cases();
    assert!(cases.len() >= 8, "the case set has one file per op family at least");
    for (name, m) in cases {
        let f = &m.funcs[0];
        snapshot(&name, "jvp", &saddle::ad::jvp(f).unwrap());
        snapshot(&name, "vjp", &saddle::ad::vjp(f).unwrap());
        snapshot(&name, "grad", &saddle::ad::grad(f, 0).unwrap());
        snapshot(&name, "vmap", &saddle::ad::vmap_leading(f, 2).unwrap());
        snapshot(&name, "hessian", &saddle::ad::hessian(f, 0).unwrap());
    }
}
