//! Every op of the text-format contract parses with exactly the attribute
//! names the contract gives, defaults may be left out, and the printer
//! writes it back unchanged.

use saddle_ir::{parse_module, print_module};

const ALL_OPS: &str = r#"
func @all(%x: f64[2,3], %m: f64[3,3], %b: f64[3,2], %p: bool[2,3], %i: i64[4]) -> f64[] {
  %c: f64[2,3] = const {value = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]}
  %s: f64[2,3] = const {value = 0.5}
  %io: i32[2,3] = iota {dim = 1}
  %neg = neg %x
  %abs = abs %x
  %sign = sign %x
  %exp = exp %x
  %log = log %x
  %log1p = log1p %x
  %expm1 = expm1 %x
  %sin = sin %x
  %cos = cos %x
  %tanh = tanh %x
  %lg = logistic %x
  %sqrt = sqrt %x
  %rsqrt = rsqrt %x
  %lgamma = lgamma %x
  %digamma = digamma %x
  %erf = erf %x
  %pg = polygamma %x {n = 1}
  %ip = integer_pow %x {y = -2}
  %add = add %x, %c
  %sub = sub %x, %c
  %mul = mul %x, %c
  %div = div %x, %c
  %pow = pow %x, %c
  %max = max %x, %c
  %min = min %x, %c
  %eq = eq %x, %c
  %ne = ne %x, %c
  %lt = lt %x, %c
  %le = le %x, %c
  %gt = gt %x, %c
  %ge = ge %x, %c
  %and = and %eq, %p
  %or = or %ne, %p
  %not = not %p
  %sel = select %lt, %x, %c
  %cv: f32[2,3] = convert %x {dtype = f32}
  %sg = stop_gradient %x
  %bc: f64[4,2,3] = broadcast_in_dim %x {shape = [4, 2, 3], dims = [1, 2]}
  %rs: f64[3,2] = reshape %x {shape = [3, 2]}
  %tr: f64[3,2] = transpose %x {perm = [1, 0]}
  %rsum: f64[2] = reduce_sum %x {axes = [1]}
  %rmax: f64[3] = reduce_max %x {axes = [0]}
  %rmin: f64[] = reduce_min %x {axes = [0, 1]}
  %sl: f64[1,2] = slice %x {start = [1, 0], limit = [2, 3], stride = [1, 2]}
  %sl2: f64[1,3] = slice %x {start = [0, 0], limit = [1, 3]}
  %zero: f64[] = const {value = 0.0}
  %pd: f64[4,7] = pad %x, %zero {low = [1, 0], high = [1, 2], interior = [0, 1]}
  %pd2: f64[3,3] = pad %x, %zero {low = [1, 0], high = [0, 0]}
  %cat: f64[4,3] = concatenate %x, %c {axis = 0}
  %dot: f64[2,2] = dot_general %x, %b {lhs_contract = [1], rhs_contract = [0]}
  %bdot: f64[2] = dot_general %x, %x {lhs_contract = [1], rhs_contract = [1], lhs_batch = [0], rhs_batch = [0]}
  %tk: f64[2,4] = take %x, %i {axis = 1}
  %tk0: f64[4,3] = take %c, %i
  %seg: f64[5,3] = segment_sum %tk0, %i {num_segments = 5}
  %ch = cholesky %m
  %ts: f64[3,2] = triangular_solve %ch, %b {left_side = true, lower = true, transpose_a = true, unit_diagonal = false}
  %ts2: f64[2,3] = triangular_solve %ch, %x {left_side = false}
  %out = reduce_sum %ts2 {axes = [0, 1]}
  return %out
}
"#;

#[test]
fn every_spec_op_parses_and_round_trips() {
    let m = parse_module("all.sir", ALL_OPS).unwrap_or_else(|e| panic!("{e}"));
    let f = &m.funcs[0];
    let mut names: Vec<&str> = f.insts().iter().map(|i| i.op.name()).collect();
    names.sort();
    names.dedup();
    let mut all: Vec<&str> = saddle_ir::Op::every_kind().iter().map(|o| o.name()).collect();
    all.sort();
    all.dedup();
    assert_eq!(names, all, "the contract test must use every op");
    let text = print_module(&m);
    let again = parse_module("all2.sir", &text).unwrap();
    assert_eq!(print_module(&again), text);
    insta::assert_snapshot!(text);
}

#[test]
fn annotations_are_optional_except_const_and_iota() {
    let m = parse_module("t.sir", "func @f(%x: f64[2]) -> f64[2] {\n  %y = exp %x\n  return %y\n}").unwrap();
    assert!(print_module(&m).contains("%y: f64[2] = exp %x"));
}

#[test]
fn whitespace_comments_and_line_breaks_are_free() {
    let src = "# leading comment\nfunc   @f (\n %x :f64[ 2 ] ,%y: f64[2]) ->\n (f64[2],\n f64[]) { # c\n %s: f64[2] =\n add %x ,\n %y # trailing\n %r = reduce_sum %s {\n axes = [\n0 ] }\n return %s ,%r }";
    let m = parse_module("t.sir", src).unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!(print_module(&m));
}

#[test]
fn float_attribute_forms() {
    let src = "func @f() -> f64[6] {\n  %c: f64[6] = const {value = [1.5, -2e-3, inf, -inf, nan, 3]}\n  return %c\n}";
    let m = parse_module("t.sir", src).unwrap();
    assert!(print_module(&m).contains("[1.5, -0.002, inf, -inf, nan, 3.0]"), "{}", print_module(&m));
}

#[test]
fn value_names_allow_dots_digits_underscores() {
    let src =
        "func @f(%0: f64[]) -> f64[] {\n  %t.1: f64[] = exp %0\n  %a_b.c2: f64[] = neg %t.1\n  return %a_b.c2\n}\n";
    let m = parse_module("t.sir", src).unwrap();
    assert_eq!(print_module(&m), src);
}

#[test]
fn commands_act_on_the_first_function_unless_named() {
    let src = "func @a(%x: f64[]) -> f64[] {\n  return %x\n}\nfunc @b(%x: f64[]) -> f64[] {\n  return %x\n}\n";
    let m = parse_module("t.sir", src).unwrap();
    assert_eq!(m.select(None).unwrap().name(), "a");
    assert_eq!(m.select(Some("b")).unwrap().name(), "b");
    assert!(m.select(Some("c")).is_err());
}
