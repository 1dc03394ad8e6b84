//! Random well-typed functions over every op kind always lower, and the
//! text names every parameter, instruction and result.

use saddle_ir::testing::{GenOptions, random_func};
use saddle_xla_lower::{tensor_type, to_stablehlo};

#[test]
fn random_functions_lower() {
    let opts = GenOptions { max_insts: 40, ..GenOptions::default() };
    let mut ops_seen = std::collections::BTreeSet::new();
    for seed in 0..400 {
        let f = random_func(seed, &opts);
        let text = to_stablehlo(&f).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{f}"));
        let params: Vec<String> = f.param_types().iter().map(tensor_type).collect();
        let header = text.lines().nth(1).expect("a func line");
        assert!(header.starts_with("  func.func public @main("), "seed {seed}: {text}");
        for p in &params {
            assert!(header.contains(p.as_str()), "seed {seed}: parameter type {p} missing from {header}");
        }
        let results: Vec<String> = f.result_types().iter().map(tensor_type).collect();
        let ret = text.lines().rev().nth(2).expect("a return line");
        assert!(ret.trim_start().starts_with("return "), "seed {seed}: {text}");
        assert!(ret.ends_with(&format!(" : {}", results.join(", "))), "seed {seed}: {ret}");
        assert_eq!(text.matches('{').count(), text.matches('}').count(), "seed {seed}: unbalanced braces\n{text}");
        for (_, inst) in f.iter_insts() {
            ops_seen.insert(inst.op.name());
        }
    }
    let every: Vec<&str> = saddle_ir::Op::every_kind().iter().map(saddle_ir::Op::name).collect();
    let missing: Vec<&&str> = every.iter().filter(|n| !ops_seen.contains(*n)).collect();
    assert!(missing.is_empty(), "the random functions never used {missing:?}");
}
