//! The detected sparsity patterns contain every entry that is nonzero in
//! the dense Hessian (and Jacobian) evaluated at random points: on random
//! functions over every op kind, and on one instance of each op kind, with
//! the data arguments given and with them unknown.

mod ad_common;
mod common;

use ad_common::example;
use proptest::prelude::*;
use saddle::ad::sparsity::{hessian_pattern, jacobian_pattern};
use saddle::ir::testing::{GenOptions, random_func};
use saddle::ir::trace::trace_with;
use saddle::ir::{Array, Func, Op};

/// `f` with its first result summed to a scalar, linearly or through `sin`
/// (which makes every element interact with itself).
fn scalarised(f: &Func, through_sin: bool) -> Option<Func> {
    if !f.result_types()[0].dtype.is_float() {
        return None;
    }
    trace_with("s", f.param_types(), |tr, x| {
        let r = tr.call(f, x)[0];
        vec![if through_sin { r.sin().sum_all() } else { r.sum_all() }]
    })
    .ok()
}

/// The data arguments: all known but `wrt`, or all unknown.
fn data(x: &[Array], known: bool) -> Vec<Option<&Array>> {
    x.iter().map(|a| known.then_some(a)).collect()
}

/// Checks that the patterns of `f` with respect to every float parameter
/// contain the nonzeros of its dense Hessian and Jacobian at `x`.
fn check_contains(what: &str, f: &Func, x: &[Array]) {
    for k in (0..f.num_params()).filter(|&k| f.param_types()[k].dtype.is_float()) {
        let n = f.param_types()[k].num_elements();
        if f.result_types()[0].is_scalar() {
            let h = ad_common::eval(&saddle::ad::hessian(f, k).unwrap(), x)[0].to_f64_vec();
            for known in [true, false] {
                let p = hessian_pattern(f, k, &data(x, known)).unwrap_or_else(|e| panic!("{what}: {e}\n{f}"));
                assert_eq!((p.nrows(), p.ncols()), (n, n));
                for i in 0..n {
                    for j in 0..n {
                        let v = h[i * n + j];
                        assert!(
                            !(v.is_finite() && v != 0.0) || p.contains(i, j),
                            "{what}: d²f/dx{k}[{i}]dx{k}[{j}] = {v} but ({i}, {j}) is not in the pattern (data known: {known})\n{f}"
                        );
                    }
                }
            }
        }
        let m = f.result_types()[0].num_elements();
        let jac = ad_common::eval(&saddle::ad::jacfwd(f, k).unwrap(), x)[0].to_f64_vec();
        let p = jacobian_pattern(f, k, &data(x, true)).unwrap_or_else(|e| panic!("{what}: {e}\n{f}"));
        assert_eq!((p.nrows(), p.ncols()), (m, n));
        for i in 0..m {
            for j in 0..n {
                let v = jac[i * n + j];
                assert!(!(v.is_finite() && v != 0.0) || p.contains(i, j), "{what}: jacobian ({i}, {j}) = {v}\n{f}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Random functions over every op kind.
    #[test]
    fn pattern_contains_the_hessian_of_random_functions(seed in any::<u64>()) {
        let opts = GenOptions { special_floats: false, float_only: true, ..GenOptions::default() };
        let f = random_func(seed, &opts);
        let x = common::random_inputs(f.param_types(), seed);
        for through_sin in [false, true] {
            if let Some(g) = scalarised(&f, through_sin) {
                check_contains(&format!("random function (seed {seed}, sin {through_sin})"), &g, &x);
            }
        }
        if f.result_types()[0].dtype.is_float() {
            check_contains(&format!("random function (seed {seed})"), &f, &x);
        }
    }

    /// One instance of every op kind, on random shapes and attributes.
    #[test]
    fn pattern_contains_the_hessian_of_every_op(seed in any::<u64>()) {
        for kind in Op::every_kind() {
            let ex = example(&kind, seed);
            let x = common::random_inputs(ex.func.param_types(), seed);
            for through_sin in [false, true] {
                if let Some(g) = scalarised(&ex.func, through_sin) {
                    check_contains(&format!("{} (seed {seed}, sin {through_sin})", kind.name()), &g, &x);
                }
            }
        }
    }
}
