//! The verifier reports every problem of a hand-assembled function.

use saddle_ir::op::{Binary, Unary};
use saddle_ir::{Func, Inst, Op, TensorType, Value, verify};

#[test]
fn reports_every_problem() {
    let v = Value::from_index;
    let f = Func::from_raw_parts(
        "broken",
        1,
        vec![TensorType::f64([2]), TensorType::f64([3]), TensorType::f64([2]), TensorType::f64([2])],
        vec![
            // Recorded as f64[3] but exp of f64[2] is f64[2].
            Inst { op: Op::Unary(Unary::Exp), args: vec![v(0)].into() },
            // Uses itself: not defined before.
            Inst { op: Op::Binary(Binary::Add), args: vec![v(0), v(2)].into() },
            // Operands of different types.
            Inst { op: Op::Binary(Binary::Mul), args: vec![v(0), v(1)].into() },
        ],
        vec![v(3), v(9)],
    );
    let e = verify(&f).unwrap_err();
    let messages: Vec<String> = e.problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(messages.len(), 4, "{messages:#?}");
    assert!(messages[0].contains("exp produces f64[2] but the value is recorded as f64[3]"));
    assert!(messages[1].contains("operand 1 of add refers to value #2, which is not defined before it"));
    assert!(messages[2].contains("mul: operand 1 has type f64[3], expected f64[2]"));
    assert!(messages[3].contains("result 1 refers to value #9"));
}

#[test]
fn arena_size_mismatch_is_reported_not_a_panic() {
    let f = Func::from_raw_parts("short", 1, vec![], vec![], vec![Value::from_index(0)]);
    let e = verify(&f).unwrap_err();
    assert!(e.to_string().contains("arena sizes disagree"), "{e}");
}

#[test]
fn no_results_is_reported() {
    let f = Func::from_raw_parts("none", 1, vec![TensorType::f64([])], vec![], vec![]);
    assert!(verify(&f).unwrap_err().to_string().contains("returns no values"));
}

#[test]
fn every_op_kind_has_a_name_and_an_arity() {
    for op in Op::every_kind() {
        assert!(!op.name().is_empty());
        // Typing every kind on no operands either succeeds (nullary ops) or
        // reports an arity error; it never panics.
        let _ = op.infer_type(&[]);
    }
}
