//! print → parse → print is the identity on generated well-typed modules.

use proptest::prelude::*;
use saddle_ir::testing::{GenOptions, random_func};
use saddle_ir::{Module, parse_module, print_module, verify};

fn round_trip(m: &Module) {
    let text = print_module(m);
    let parsed =
        parse_module("gen.sir", &text).unwrap_or_else(|e| panic!("printed module does not parse:\n{e}\n{text}"));
    for f in &parsed.funcs {
        verify(f).unwrap_or_else(|e| panic!("{e}\n{text}"));
    }
    assert_eq!(print_module(&parsed), text);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn generated_functions_round_trip(seed in any::<u64>(), n in 1usize..40) {
        let f = random_func(seed, &GenOptions { max_insts: n, ..GenOptions::default() });
        verify(&f).unwrap();
        round_trip(&Module::new(vec![f]));
    }

    #[test]
    fn generated_modules_round_trip(seeds in proptest::collection::vec(any::<u64>(), 1..4)) {
        let funcs = seeds.iter().enumerate().map(|(i, &s)| {
            let mut f = random_func(s, &GenOptions::default());
            f.set_name(format!("f{i}"));
            f
        }).collect();
        round_trip(&Module::new(funcs));
    }
}

#[test]
fn every_op_kind_is_generated() {
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..300 {
        let f = random_func(seed, &GenOptions { max_insts: 40, ..GenOptions::default() });
        for inst in f.insts() {
            seen.insert(inst.op.name());
        }
    }
    let all: std::collections::BTreeSet<&str> = saddle_ir::Op::every_kind().iter().map(|o| o.name()).collect();
    let missing: Vec<_> = all.difference(&seen).collect();
    assert!(missing.is_empty(), "ops never generated: {missing:?}");
}

#[test]
fn seed_examples_round_trip() {
    for name in ["student_t", "logistic"] {
        let path = format!("{}/../../examples/sir/{name}.sir", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(path).unwrap();
        let m = parse_module("seed.sir", &text).unwrap();
        round_trip(&m);
    }
}
