//! StableHLO lowering: snapshots of the text emitted for every test case
//! and op module, the errors for what cannot be lowered, and a check that
//! the XLA harness's inputs use every op and dtype.
mod common;

use std::collections::BTreeSet;
use std::path::Path;

use saddle::ir::{DType, Func, Inst, Module, Op, TensorType, Value, parse_module};
use saddle::xla_lower::{Error, to_stablehlo, to_stablehlo_module};

/// Every `tests/xla/ops/*.sir` module (run by the XLA harness as written),
/// parsed, sorted by file name.
fn op_modules() -> Vec<(String, Module)> {
    common::sir_modules(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("xla").join("ops"))
}

fn lower(src: &str) -> Result<String, Error> {
    let m = parse_module("t.sir", src).expect("test source parses");
    to_stablehlo(&m.funcs[0])
}

#[test]
fn snapshot_every_case() {
    for (name, m) in common::cases() {
        let text = to_stablehlo(&m.funcs[0]).unwrap_or_else(|e| panic!("{name}: {e}"));
        insta::assert_snapshot!(name.clone(), text);
    }
}

#[test]
fn snapshot_every_op_module() {
    for (name, m) in op_modules() {
        let text = to_stablehlo(&m.funcs[0]).unwrap_or_else(|e| panic!("{name}: {e}"));
        insta::assert_snapshot!(format!("ops_{name}"), text);
    }
}

/// The op names (with `polygamma` and `integer_pow` once each) used by a
/// function.
fn used_ops(f: &Func, into: &mut BTreeSet<&'static str>, dtypes: &mut BTreeSet<DType>) {
    for (v, inst) in f.iter_insts() {
        into.insert(inst.op.name());
        dtypes.insert(f.ty(v).dtype);
    }
    for t in f.param_types() {
        dtypes.insert(t.dtype);
    }
}

#[test]
fn harness_inputs_use_every_op_and_dtype() {
    let mut used = BTreeSet::new();
    let mut dtypes = BTreeSet::new();
    let modules = [common::cases(), op_modules()].concat();
    for (_, m) in &modules {
        used_ops(&m.funcs[0], &mut used, &mut dtypes);
    }
    let missing: Vec<&str> = Op::every_kind().iter().map(Op::name).filter(|n| !used.contains(n)).collect();
    assert!(missing.is_empty(), "no case or op module of the XLA harness uses {missing:?}");
    let missing: Vec<DType> = DType::ALL.into_iter().filter(|d| !dtypes.contains(d)).collect();
    assert!(missing.is_empty(), "no case or op module of the XLA harness uses {missing:?}");
}

#[test]
fn module_variant_lowers_every_function_with_the_entry_as_main() {
    let m = parse_module(
        "m.sir",
        "func @main(%x: f64[]) -> f64[] { %y: f64[] = sin %x  return %y }
         func @g(%x: f64[2]) -> (f64[2], f64[]) { %y: f64[2] = cos %x  %z: f64[] = reduce_sum %y {axes = [0]}  return %y, %z }",
    )
    .unwrap();
    let text = to_stablehlo_module(&m, Some("g")).unwrap();
    assert!(text.starts_with("module @g {\n"), "{text}");
    assert!(text.contains("func.func public @main(%x: tensor<2xf64>) -> (tensor<2xf64>, tensor<f64>)"), "{text}");
    assert!(text.contains("func.func public @main$(%x: tensor<f64>) -> tensor<f64>"), "{text}");
    assert!(text.contains("return %y, %z : tensor<2xf64>, tensor<f64>"), "{text}");
    let first = to_stablehlo_module(&m, None).unwrap();
    assert!(first.contains("func.func public @g(%x: tensor<2xf64>)"), "{first}");
    let err = to_stablehlo_module(&m, Some("nope")).unwrap_err();
    assert_eq!(err.to_string(), "no function named @nope in the module");
}

#[test]
fn constant_index_out_of_range_is_refused() {
    let err = lower(
        "func @f(%x: f64[3]) -> f64[2] {
           %i: i64[2] = const {value = [1, 3]}
           %t: f64[2] = take %x, %i
           return %t
         }",
    )
    .unwrap_err();
    assert_eq!(
        err,
        Error::IndexOutOfRange { op: "take", value: "t".into(), index: 3, position: 1, extent: 3 },
        "{err}"
    );
    assert_eq!(err.to_string(), "take %t: index 3 at position 1 is out of range for an axis of extent 3");

    let err = lower(
        "func @f(%x: f64[2]) -> f64[4] {
           %i: i32[2] = const {value = [-1, 0]}
           %s: f64[4] = segment_sum %x, %i {num_segments = 4}
           return %s
         }",
    )
    .unwrap_err();
    assert_eq!(err, Error::IndexOutOfRange { op: "segment_sum", value: "s".into(), index: -1, position: 0, extent: 4 });

    // A splat index is checked once, whatever its shape.
    let err = lower(
        "func @f(%x: f64[2,3]) -> f64[2,5] {
           %i: i64[5] = const {value = 3}
           %t: f64[2,5] = take %x, %i {axis = 1}
           return %t
         }",
    )
    .unwrap_err();
    assert!(matches!(err, Error::IndexOutOfRange { index: 3, position: 0, extent: 3, .. }), "{err}");
}

#[test]
fn indexing_an_empty_axis_is_refused() {
    let err = lower(
        "func @f(%x: f64[0], %y: f64[2]) -> f64[2] {
           %i: i64[2] = iota {dim = 0}
           %t: f64[2] = take %x, %i
           return %t
         }",
    )
    .unwrap_err();
    assert_eq!(err, Error::EmptyAxis { op: "take", value: "t".into() });
    let err = lower(
        "func @f(%x: f64[2]) -> f64[0] {
           %i: i64[2] = iota {dim = 0}
           %s: f64[0] = segment_sum %x, %i {num_segments = 0}
           return %s
         }",
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "segment_sum %s: indexes an axis of extent 0, so no index is in range");
}

#[test]
fn run_time_indices_are_lowered() {
    // An index computed at run time cannot be checked: it lowers to a gather.
    let text = lower(
        "func @f(%x: f64[3], %i: i64[2]) -> f64[2] {
           %t: f64[2] = take %x, %i
           return %t
         }",
    )
    .unwrap();
    assert!(text.contains("\"stablehlo.gather\"(%x, %i)"), "{text}");
}

#[test]
fn invalid_function_is_refused() {
    // exp of an f64[2] recorded as f64[3]: built without the checking builder.
    let f = Func::from_raw_parts(
        "bad",
        1,
        vec![TensorType::f64([2]), TensorType::f64([3])],
        vec![Inst { op: Op::Unary(saddle::ir::op::Unary::Exp), args: vec![Value::from_index(0)].into() }],
        vec![Value::from_index(1)],
    );
    let err = to_stablehlo(&f).unwrap_err();
    assert!(matches!(err, Error::Ir(_)), "{err:?}");
    assert!(err.to_string().contains("exp produces f64[2] but the value is recorded as f64[3]"), "{err}");
}

#[test]
fn names_mlir_cannot_take_are_rewritten() {
    let text = lower(
        "func @2f(%1x: f64[], %v1x: f64[]) -> f64[] {
           %0: f64[] = add %1x, %v1x
           return %0
         }",
    );
    let text = text.unwrap();
    assert!(text.starts_with("module @\"2f\" {"), "{text}");
    assert!(text.contains("@main(%v1x: tensor<f64>, %v1x-1: tensor<f64>)"), "{text}");
    assert!(text.contains("%0 = stablehlo.add %v1x, %v1x-1 : tensor<f64>"), "{text}");
}
