//! The AD transformations compute what they claim: on every test case, and
//! on every op on random shapes and values (JVP against central finite
//! differences; VJP by ⟨J·t, c⟩ = ⟨t, Jᵀ·c⟩; vmap against a loop; the
//! Hessian symmetric and equal to finite differences of the gradient).

mod ad_common;
mod common;

use ad_common::checks::check_all;
use ad_common::{Fd, example};
use proptest::prelude::*;
use saddle::ir::Op;

#[test]
fn every_case() {
    for (name, m) in common::cases() {
        let f = &m.funcs[0];
        for seed in 0..2 {
            let x = common::random_inputs(f.param_types(), seed);
            check_all(&name, f, &x, Fd::default(), false, seed);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every op kind, on random shapes, attributes and values.
    #[test]
    fn every_op(seed in any::<u64>()) {
        for kind in Op::every_kind() {
            let ex = example(&kind, seed);
            let x = common::random_inputs(ex.func.param_types(), seed);
            let what = format!("{} (seed {seed})\n{}", kind.name(), ex.func);
            check_all(&what, &ex.func, &x, ex.fd, ex.zero_derivative, seed);
        }
    }
}
