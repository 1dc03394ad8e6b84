//! One test per kind of error in the text format, each asserting the line
//! and column it is reported at, plus snapshots of the rendered messages.

use saddle_ir::{Diagnostic, parse_module};

/// Parses `src` (which must fail) and returns its diagnostics.
fn errors(src: &str) -> Vec<Diagnostic> {
    match parse_module("t.sir", src) {
        Ok(m) => panic!("expected an error, parsed:\n{m}"),
        Err(e) => e.diagnostics,
    }
}

/// Asserts exactly one error at `line:col` whose message contains `needle`.
#[track_caller]
fn one_error(src: &str, line: u32, col: u32, needle: &str) -> Diagnostic {
    let d = errors(src);
    assert_eq!(d.len(), 1, "expected one error, got: {d:#?}");
    assert_eq!((d[0].line, d[0].col), (line, col), "wrong position for: {}", d[0].message);
    assert!(d[0].message.contains(needle), "message {:?} does not contain {needle:?}", d[0].message);
    d[0].clone()
}

#[test]
fn syntax_error() {
    let d = one_error("func @f(%x: f64[]) -> f64[] {\n  %y: f64[] = exp %x,\n  return %y\n}", 3, 3, "expected a value");
    insta::assert_snapshot!(d.to_string());
}

#[test]
fn missing_equals() {
    one_error("func @f(%x: f64[]) -> f64[] {\n  %y: f64[] exp %x\n  return %y\n}", 2, 13, "expected `=`");
}

#[test]
fn undefined_value() {
    let d =
        one_error("func @f(%x: f64[]) -> f64[] {\n  %y: f64[] = exp %z\n  return %y\n}", 2, 19, "undefined value %z");
    insta::assert_snapshot!(d.to_string());
}

#[test]
fn use_before_definition() {
    one_error(
        "func @f(%x: f64[]) -> f64[] {\n  %y: f64[] = exp %w\n  %w: f64[] = neg %x\n  return %y\n}",
        2,
        19,
        "undefined value %w",
    );
}

#[test]
fn redefinition() {
    let d = one_error(
        "func @f(%x: f64[]) -> f64[] {\n  %y: f64[] = exp %x\n  %y: f64[] = neg %x\n  return %y\n}",
        3,
        3,
        "%y is already defined at line 2",
    );
    insta::assert_snapshot!(d.to_string());
}

#[test]
fn redefinition_of_parameter() {
    one_error(
        "func @f(%x: f64[]) -> f64[] {\n  %x: f64[] = exp %x\n  return %x\n}",
        2,
        3,
        "%x is already defined at line 1",
    );
}

#[test]
fn unknown_op() {
    let d =
        one_error("func @f(%x: f64[]) -> f64[] {\n  %y: f64[] = expp %x\n  return %y\n}", 2, 15, "unknown op `expp`");
    insta::assert_snapshot!(d.to_string());
}

#[test]
fn unknown_attribute() {
    one_error(
        "func @f(%x: f64[2]) -> f64[2] {\n  %y: f64[2] = transpose %x {perm = [0], order = 1}\n  return %y\n}",
        2,
        42,
        "transpose has no attribute `order`",
    );
}

#[test]
fn missing_attribute() {
    one_error(
        "func @f(%x: f64[2]) -> f64[2] {\n  %y: f64[2] = transpose %x\n  return %y\n}",
        2,
        16,
        "transpose needs the attribute `perm`",
    );
}

#[test]
fn attribute_of_wrong_kind() {
    let d = one_error(
        "func @f(%x: f64[2]) -> f64[] {\n  %y: f64[] = reduce_sum %x {axes = 0}\n  return %y\n}",
        2,
        37,
        "must be a list of integers",
    );
    insta::assert_snapshot!(d.to_string());
}

#[test]
fn attribute_out_of_range_for_operand() {
    one_error(
        "func @f(%x: f64[2]) -> f64[] {\n  %y: f64[] = reduce_sum %x {axes = [1]}\n  return %y\n}",
        2,
        15,
        "reduced axis 1 is out of range for rank 1",
    );
}

#[test]
fn duplicate_attribute() {
    one_error(
        "func @f(%x: f64[2]) -> f64[2] {\n  %y: f64[2] = transpose %x {perm = [0], perm = [0]}\n  return %y\n}",
        2,
        42,
        "attribute `perm` is given twice",
    );
}

#[test]
fn shape_mismatch() {
    let d = one_error(
        "func @f(%x: f64[2], %z: f64[3]) -> f64[2] {\n  %y = add %x, %z\n  return %y\n}",
        2,
        16,
        "add: operand 1 has type f64[3], expected f64[2]",
    );
    insta::assert_snapshot!(d.to_string());
}

#[test]
fn dtype_mismatch() {
    one_error(
        "func @f(%x: f64[2], %z: f32[2]) -> f64[2] {\n  %y = mul %x, %z\n  return %y\n}",
        2,
        16,
        "mul: operand 1 has type f32[2], expected f64[2]",
    );
}

#[test]
fn dtype_not_accepted() {
    one_error(
        "func @f(%x: i64[2]) -> i64[2] {\n  %y = exp %x\n  return %y\n}",
        2,
        12,
        "exp: operand 0 has type i64[2], expected a float dtype",
    );
}

#[test]
fn dot_general_contracting_mismatch() {
    one_error(
        "func @f(%a: f64[2,3], %b: f64[2]) -> f64[2] {\n  %y = dot_general %a, %b {lhs_contract = [1], rhs_contract = [0]}\n  return %y\n}",
        2,
        24,
        "contracting axes differ in extent",
    );
}

#[test]
fn wrong_annotation() {
    let d = one_error(
        "func @f(%x: f64[2]) -> f64[2] {\n  %y: f64[3] = exp %x\n  return %y\n}",
        2,
        7,
        "type annotation says f64[3], but exp produces f64[2]",
    );
    insta::assert_snapshot!(d.to_string());
}

#[test]
fn wrong_return_type() {
    let d = one_error(
        "func @f(%x: f64[2]) -> f64[] {\n  %y: f64[2] = exp %x\n  return %y\n}",
        3,
        10,
        "result 0 has type f64[2], but the signature declares f64[]",
    );
    insta::assert_snapshot!(d.to_string());
}

#[test]
fn wrong_result_count() {
    one_error(
        "func @f(%x: f64[]) -> (f64[], f64[]) {\n  %y: f64[] = exp %x\n  return %y\n}",
        3,
        3,
        "declares 2 result(s) but `return` gives 1",
    );
}

#[test]
fn duplicate_function() {
    let src = "func @f(%x: f64[]) -> f64[] {\n  return %x\n}\nfunc @f(%x: f64[]) -> f64[] {\n  return %x\n}\n";
    let d = one_error(src, 4, 6, "function @f is already defined at line 1");
    insta::assert_snapshot!(d.to_string());
}

#[test]
fn empty_file() {
    let d = one_error("", 1, 1, "expected `func`, found end of file");
    insta::assert_snapshot!(d.to_string());
    one_error("  # only a comment\n\n", 3, 1, "expected `func`, found end of file");
}

#[test]
fn truncated_file() {
    one_error("func @f(%x: f64[]) -> f64[] {\n  %y: f64[] = exp %x\n", 3, 1, "expected a statement");
}

#[test]
fn const_without_annotation() {
    one_error(
        "func @f() -> f64[] {\n  %c = const {value = 1.0}\n  return %c\n}",
        2,
        8,
        "const needs a type annotation",
    );
}

#[test]
fn const_of_wrong_shape() {
    one_error(
        "func @f() -> f64[3] {\n  %c: f64[3] = const {value = [1.0, 2.0]}\n  return %c\n}",
        2,
        31,
        "expected a list of 3 elements",
    );
}

#[test]
fn float_for_integer_constant() {
    one_error(
        "func @f() -> i64[] {\n  %c: i64[] = const {value = 1.5}\n  return %c\n}",
        2,
        30,
        "`1.5` is not a valid i64 element",
    );
}

#[test]
fn bad_character() {
    one_error("func @f(%x: f64[]) -> f64[] {\n  %y: f64[] = exp $x\n  return %y\n}", 2, 19, "unexpected character `$`");
}

#[test]
fn unknown_dtype() {
    one_error("func @f(%x: f16[]) -> f64[] {\n  return %x\n}", 1, 13, "expected a type like `f64[2,3]`");
}

#[test]
fn absurd_shape() {
    one_error("func @f(%x: f64[1000000000,1000000000,1000000000]) -> f64[] {\n  return %x\n}", 1, 13, "is too large");
    one_error(
        "func @f(%x: f64[99999999999999999999999999999999999999999]) -> f64[] {\n  return %x\n}",
        1,
        17,
        "is too large",
    );
}

#[test]
fn several_errors_are_all_reported() {
    let d = errors(
        "func @f(%x: f64[2]) -> f64[2] {\n  %a = exp %q\n  %b = foo %x\n  %c: f32[2] = neg %x\n  %d = add %a, %x\n  return %x\n}",
    );
    let at: Vec<(u32, u32)> = d.iter().map(|d| (d.line, d.col)).collect();
    // %d uses the failed %a: not reported again.
    assert_eq!(at, vec![(2, 12), (3, 8), (4, 7)]);
}

#[test]
fn invalid_utf8_is_located() {
    let e = saddle_ir::parse_module_bytes("t.sir", b"func @f(%x: f64[]) -> f64[] {\n  %y = ex\xffp %x\n").unwrap_err();
    let d = &e.diagnostics[0];
    assert_eq!((d.line, d.col), (2, 10));
    assert!(d.message.contains("invalid UTF-8"));
}

#[test]
fn deep_nesting_is_refused_quickly() {
    let src =
        format!("func @f() -> f64[] {{\n  %c: f64[] = const {{value = {}}}\n  return %c\n}}", "[".repeat(10_000_000));
    let d = errors(&src);
    assert!(d[0].message.contains("nest deeper than 64"), "{}", d[0].message);
    // The snippet of a 10 MB line is shortened around the column.
    assert!(d[0].snippet.len() < 200);
}

#[test]
fn headline_has_file_line_col() {
    let d = errors("func @f(%x: f64[]) -> f64[] {\n  return %nope\n}");
    assert_eq!(d[0].headline(), "t.sir:2:10: error: undefined value %nope");
}
