//! Hostile input to the text format's front door: attribute values beyond
//! what sizes and index arithmetic can represent, huge shapes and numbers,
//! deep nesting, long lines, floods of errors and attributes. Each is a
//! clean error (or a bounded parse), never a panic or a huge allocation.

use saddle_ir::op::{MAX_POLYGAMMA_ORDER, Unary};
use saddle_ir::{Func, Inst, MAX_DIAGNOSTICS, MAX_PROBLEMS, Op, TensorType, Value, parse_module, print_module, verify};

/// Parses `body` as the statements of `func @f(PARAMS) -> RESULT`, which
/// must fail; returns the first message.
#[track_caller]
fn refused(params: &str, result: &str, body: &str) -> String {
    let src = format!("func @f({params}) -> {result} {{\n{body}\n}}\n");
    match parse_module("t.sir", &src) {
        Ok(m) => panic!("expected an error, parsed:\n{m}"),
        Err(e) => e.diagnostics[0].message.clone(),
    }
}

#[track_caller]
fn assert_contains(message: &str, needles: &[&str]) {
    for n in needles {
        assert!(message.contains(n), "{message:?} does not contain {n:?}");
    }
}

/// Extent-like attributes (strides, paddings, shapes, segment counts) and
/// type extents beyond 2^48 are refused with the op, the attribute and the
/// value, at every size class up to u64::MAX, even where a zero extent
/// elsewhere keeps the element count small.
#[test]
fn extent_attributes_beyond_the_bound_are_refused() {
    for big in [(1u64 << 48) + 1, 1 << 62, 1 << 63, u64::MAX] {
        let m = refused(
            "%x: f64[4]",
            "f64[1]",
            &format!("  %y = slice %x {{start = [0], limit = [4], stride = [{big}]}}\n  return %y"),
        );
        assert_contains(&m, &["slice", "stride[0]", &big.to_string()]);
        for attr in ["low", "high", "interior"] {
            let m = refused(
                "%x: f64[0], %v: f64[]",
                "f64[]",
                &format!("  %y = pad %x, %v {{{attr} = [{big}]}}\n  %z = reduce_sum %y {{axes = [0]}}\n  return %z"),
            );
            assert_contains(&m, &["pad", &format!("{attr}[0]"), &big.to_string()]);
        }
        let m = refused(
            "%x: f64[0], %i: i64[0]",
            "f64[]",
            &format!(
                "  %y = segment_sum %x, %i {{num_segments = {big}}}\n  %z = reduce_sum %y {{axes = [0]}}\n  return %z"
            ),
        );
        assert_contains(&m, &["too large", &big.to_string()]);
        let m = refused(
            "%x: f64[0]",
            "f64[]",
            &format!(
                "  %y = broadcast_in_dim %x {{shape = [0, {big}], dims = [0]}}\n  %z = reduce_sum %y {{axes = [0, 1]}}\n  return %z"
            ),
        );
        assert_contains(&m, &["too large", &big.to_string()]);
        let m = refused(&format!("%x: f64[0,{big}]"), "f64[]", "  %z = reduce_sum %x {axes = [0, 1]}\n  return %z");
        assert_contains(&m, &["too large", &big.to_string()]);
        let m = refused("%x: f64[]", "f64[]", &format!("  %i: f64[0,{big}] = iota {{dim = 1}}\n  return %x"));
        assert_contains(&m, &["too large", &big.to_string()]);
    }
}

/// Values at the bound itself are accepted where the shape allows them.
#[test]
fn extent_attributes_at_the_bound_are_accepted() {
    let big = 1u64 << 48;
    let src = format!(
        "func @f(%x: f64[4], %v: f64[]) -> f64[1] {{\n  %y = slice %x {{start = [0], limit = [4], stride = [{big}]}}\n  \
         %z = pad %y, %v {{low = [0], high = [0], interior = [{big}]}}\n  return %z\n}}\n"
    );
    let m = parse_module("t.sir", &src).unwrap();
    verify(&m.funcs[0]).unwrap();
    assert_eq!(parse_module("t.sir", &print_module(&m)).unwrap(), m);
}

#[test]
fn polygamma_order_is_bounded() {
    for n in [MAX_POLYGAMMA_ORDER as u64 + 1, u32::MAX as u64, 1 << 40] {
        let m = refused("%x: f64[]", "f64[]", &format!("  %y = polygamma %x {{n = {n}}}\n  return %y"));
        assert_contains(&m, &["polygamma", "`n`", &n.to_string()]);
    }
    let src =
        format!("func @f(%x: f64[]) -> f64[] {{\n  %y = polygamma %x {{n = {MAX_POLYGAMMA_ORDER}}}\n  return %y\n}}");
    parse_module("t.sir", &src).unwrap();
    // A function assembled by hand is refused by the verifier just the same.
    let f = Func::from_raw_parts(
        "f",
        1,
        vec![TensorType::f64([]); 2],
        vec![Inst { op: Op::Unary(Unary::Polygamma { n: u32::MAX }), args: vec![Value::from_index(0)].into() }],
        vec![Value::from_index(1)],
    );
    assert!(verify(&f).unwrap_err().to_string().contains("polygamma"));
}

#[test]
fn integer_pow_exponent_is_an_i32() {
    for y in ["-2147483649", "2147483648", "99999999999999999999"] {
        let m = refused("%x: f64[]", "f64[]", &format!("  %y = integer_pow %x {{y = {y}}}\n  return %y"));
        assert_contains(&m, &["integer_pow", "`y`"]);
    }
    let src = "func @f(%x: f64[]) -> f64[] {\n  %y = integer_pow %x {y = -2147483648}\n  return %y\n}";
    parse_module("t.sir", src).unwrap();
}

#[test]
fn huge_numbers_are_clean_errors() {
    let m = refused("%x: f64[99999999999999,99999999999]", "f64[]", "  return %x");
    assert_contains(&m, &["too large"]);
    let m = refused(
        "%x: i64[]",
        "i64[]",
        "  %y: i64[] = const {value = 99999999999999999999999999999999999999999}\n  return %y",
    );
    assert_contains(&m, &["too large"]);
    let m = refused("%x: i32[]", "i32[]", "  %y: i32[] = const {value = [2147483648]}\n  return %y");
    assert!(m.contains("not a valid i32 element") || m.contains("expected a number"), "{m}");
    // A float literal beyond f64 reads as infinity, as the format's `inf` would.
    let src = "func @f(%x: f64[]) -> f64[] {\n  %y: f64[] = const {value = 1e999999}\n  return %y\n}";
    let m = parse_module("t.sir", src).unwrap();
    assert!(m.to_string().contains("inf"));
    // Exponent digits by the million are one token, read once.
    let src = format!(
        "func @f(%x: f64[]) -> f64[] {{\n  %y: f64[] = const {{value = 1e{}}}\n  return %y\n}}",
        "9".repeat(1 << 20)
    );
    assert!(parse_module("t.sir", &src).is_ok());
}

#[test]
fn deep_nesting_is_a_syntax_error() {
    for depth in [65, 10_000, 1_000_000] {
        let v = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        for (ty, op) in [("f64[]", "const"), ("f64[1]", "const")] {
            let m = refused("%x: f64[]", "f64[]", &format!("  %y: {ty} = {op} {{value = {v}}}\n  return %x"));
            assert_contains(&m, &["nest deeper than 64"]);
        }
        let m = refused("%x: f64[]", "f64[]", &format!("  %y = exp %x {{a = {v}}}\n  return %y"));
        assert_contains(&m, &["nest deeper than 64"]);
    }
}

/// An error far into a very long line shows a bounded snippet around it.
#[test]
fn long_lines_give_short_snippets() {
    let src = format!("func @f(%x: f64[]) -> f64[] {{{}%y = exp %z\n  return %y\n}}", " ".repeat(1 << 22));
    let e = parse_module("t.sir", &src).unwrap_err();
    let d = &e.diagnostics[0];
    assert_eq!(d.col, (1 << 22) + 39);
    assert!(d.snippet.len() < 100, "{}", d.snippet.len());
    assert!(d.to_string().lines().count() == 4);
    assert!(d.snippet.contains("exp %z"));
}

/// A flood of errors keeps the first MAX_DIAGNOSTICS and counts the rest.
#[test]
fn diagnostics_are_capped() {
    for n in [MAX_DIAGNOSTICS - 1, MAX_DIAGNOSTICS, MAX_DIAGNOSTICS + 1, 20_000] {
        let mut src = String::from("func @f(%x: f64[]) -> f64[] {\n");
        for i in 0..n {
            src.push_str(&format!("  %v{i} = exp %undefined\n"));
        }
        src.push_str("  return %x\n}\n");
        let e = parse_module("t.sir", &src).unwrap_err();
        assert_eq!(e.diagnostics.len(), n.min(MAX_DIAGNOSTICS));
        assert_eq!(e.omitted, n.saturating_sub(MAX_DIAGNOSTICS));
        let text = e.to_string();
        assert_eq!(text.contains("not shown"), n > MAX_DIAGNOSTICS);
        if n > MAX_DIAGNOSTICS {
            let rest = n - MAX_DIAGNOSTICS;
            assert!(text.ends_with(&format!("{rest} more error{} not shown", if rest == 1 { "" } else { "s" })));
            assert_eq!(e.omitted_message().unwrap(), text.lines().last().unwrap());
        }
    }
}

#[test]
fn verifier_problems_are_capped() {
    let n = 5 * MAX_PROBLEMS;
    let v = Value::from_index;
    let insts = (0..n).map(|_| Inst { op: Op::Unary(Unary::Exp), args: vec![v(0)].into() }).collect();
    let mut types = vec![TensorType::f64([])];
    types.extend(std::iter::repeat_n(TensorType::f64([2]), n));
    let f = Func::from_raw_parts("f", 1, types, insts, vec![v(1)]);
    let e = verify(&f).unwrap_err();
    assert_eq!(e.problems.len(), MAX_PROBLEMS);
    assert_eq!(e.omitted, n - MAX_PROBLEMS);
    assert!(e.to_string().ends_with(&format!("and {} more problems", n - MAX_PROBLEMS)));
}

/// Duplicates are found wherever they are in a long attribute list.
#[test]
fn duplicate_attributes_in_long_lists() {
    for (len, dup) in [(3, 2), (8, 7), (9, 8), (20, 3), (20, 19), (5000, 4999)] {
        let mut attrs: Vec<String> = (0..len).map(|i| format!("a{i} = 1")).collect();
        attrs.push(format!("a{} = 2", dup % len));
        let src = format!("func @f(%x: f64[]) -> f64[] {{\n  %y = exp %x {{{}}}\n  return %y\n}}", attrs.join(", "));
        let e = parse_module("t.sir", &src).unwrap_err();
        assert!(e.diagnostics[0].message.contains(&format!("attribute `a{}` is given twice", dup % len)));
        assert_eq!(e.diagnostics.len(), 2, "{e}");
        assert!(e.diagnostics[1].message.contains("exp has no attribute `a0`"));
    }
}

/// Attribute lists other than `const` values are at most one entry per
/// axis: longer or nested ones are refused with their length, whatever
/// their size, and not kept in memory.
#[test]
fn long_and_nested_attribute_lists_are_refused() {
    for n in [33, 1000, 1 << 20] {
        let ones = vec!["1"; n].join(",");
        let m = refused("%x: f64[1]", "f64[1]", &format!("  %y = reshape %x {{shape = [{ones}]}}\n  return %y"));
        assert_contains(&m, &["reshape", "`shape`", &format!("{n} entries")]);
        let spaced = vec!["1"; n].join(", ");
        let m = refused("%x: f64[1]", "f64[1]", &format!("  %y = reshape %x {{shape = [{spaced}]}}\n  return %y"));
        assert_contains(&m, &[&format!("{n} entries")]);
        let m = refused("%x: f64[1]", "f64[1]", &format!("  %y = exp %x {{junk = [{ones}]}}\n  return %y"));
        assert_contains(&m, &["exp has no attribute `junk`"]);
    }
    let m = refused("%x: f64[1]", "f64[1]", "  %y = transpose %x {perm = [[0]]}\n  return %y");
    assert_contains(&m, &["transpose", "`perm`"]);
    // A const value of many elements is read whole.
    let n = 100_000;
    let vals = vec!["0.5"; n].join(", ");
    let src =
        format!("func @f(%x: f64[]) -> f64[{n}] {{\n  %c: f64[{n}] = const {{value = [{vals}]}}\n  return %c\n}}");
    let m = parse_module("t.sir", &src).unwrap();
    assert_eq!(parse_module("t.sir", &print_module(&m)).unwrap(), m);
}

/// Constants that do not fit their annotated type are reported at the
/// first offending token in source order, the list's `[` for a wrong length.
#[test]
fn dense_constants_of_the_wrong_form() {
    let cases = [
        ("f64[2]", "[1.0, 2.0, 3.0]", 31, "expected a list of 2 elements for a constant of type f64[2], found 3"),
        ("f64[2,2]", "[[1, 2], [3]]", 40, "expected a list of 2 elements for a constant of type f64[2,2], found 1"),
        ("f64[2,2]", "[[1, 2], 3]", 40, "expected a list of 2 elements for a constant of type f64[2,2], found `3`"),
        ("f64[2]", "[1, [2]]", 35, "the list is nested deeper than the shape of f64[2]"),
        ("i32[2]", "[1, 2.5]", 35, "`2.5` is not a valid i32 element"),
        ("f64[2]", "[[1, 2.5], 1]", 32, "nested deeper than the shape of f64[2]"),
        ("bool[1]", "[1]", 32, "`1` is not a valid bool element"),
        ("f64[3]", "[1,2]", 31, "found 2"),
    ];
    for (ty, value, col, needle) in cases {
        let src = format!("func @f(%x: f64[]) -> f64[] {{\n  %c: {ty} = const {{value = {value}}}\n  return %x\n}}");
        let e = parse_module("t.sir", &src).unwrap_err();
        assert_eq!(e.diagnostics.len(), 1, "{e}");
        let d = &e.diagnostics[0];
        assert!(d.message.contains(needle), "{ty} {value}: {}", d.message);
        assert_eq!((d.line, d.col), (2, col + ty.len() as u32 - 6), "{ty} {value}: {}", d.message);
    }
}
