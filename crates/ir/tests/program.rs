//! Dimension variables and calls in `.sir` (the format's section
//! "Dimension variables and calls"): binding, instantiation, inlining,
//! printing, and every kind of error.

use proptest::prelude::*;
use saddle_ir::parse::{MAX_CALL_DEPTH, parse_program};
use saddle_ir::{ProgramError, TensorType, parse_module, print_func, print_module};

const MODEL: &str = "\
func @model(%beta: f64[3], %X: f64[N, 3], %y: f64[N]) -> f64[] {
  %mu = dot_general %X, %beta {lhs_contract = [1], rhs_contract = [0]}
  %lp = call %y, %mu {callee = @half_sq}
  return %lp
}

func @half_sq(%x: f64[K], %m: f64[K]) -> f64[] {
  %d = sub %x, %m
  %s = mul %d, %d
  %h: f64[] = const {value = -0.5}
  %b: f64[K] = broadcast_in_dim %h {shape = [K], dims = []}
  %z = mul %b, %s
  %r = reduce_sum %z {axes = [0]}
  return %r
}
";

/// The same model written out for one `n`, as a user would without
/// dimension variables.
fn concrete(n: usize) -> String {
    format!(
        "\
func @model(%beta: f64[3], %X: f64[{n},3], %y: f64[{n}]) -> f64[] {{
  %mu: f64[{n}] = dot_general %X, %beta {{lhs_contract = [1], rhs_contract = [0]}}
  %half_sq.d: f64[{n}] = sub %y, %mu
  %half_sq.s: f64[{n}] = mul %half_sq.d, %half_sq.d
  %half_sq.h: f64[] = const {{value = -0.5}}
  %half_sq.b: f64[{n}] = broadcast_in_dim %half_sq.h {{shape = [{n}], dims = []}}
  %half_sq.z: f64[{n}] = mul %half_sq.b, %half_sq.s
  %lp: f64[] = reduce_sum %half_sq.z {{axes = [0]}}
  return %lp
}}
"
    )
}

fn types(n: usize) -> Vec<TensorType> {
    vec![TensorType::f64([3]), TensorType::f64([n, 3]), TensorType::f64([n])]
}

#[test]
fn an_instance_is_the_function_written_with_numbers() {
    let p = parse_program("m.sir", MODEL).unwrap();
    for n in [0, 1, 2, 7, 101, 1000] {
        let f = p.instantiate(None, &types(n)).unwrap();
        let written = parse_module("c.sir", &concrete(n)).unwrap();
        assert_eq!(print_func(&f), print_module(&written), "n = {n}");
    }
}

#[test]
fn the_signature_names_the_variables() {
    let p = parse_program("m.sir", MODEL).unwrap();
    let sig = p.signature(None).unwrap();
    assert_eq!(sig.vars, vec!["N".to_string()]);
    assert_eq!(sig.params[1].to_string(), "f64[N,3]");
    assert_eq!(p.signature(Some("half_sq")).unwrap().vars, vec!["K".to_string()]);
    assert!(p.is_generic());
}

#[test]
fn printing_keeps_the_names_and_reparses_to_the_same_text() {
    let p = parse_program("m.sir", MODEL).unwrap();
    let text = p.print(Default::default());
    assert!(text.contains("func @model(%beta: f64[3], %X: f64[N,3], %y: f64[N]) -> f64[] {"), "{text}");
    assert!(text.contains("%half_sq.b: f64[N] = broadcast_in_dim %half_sq.h {shape = [N], dims = []}"), "{text}");
    assert!(text.contains("func @half_sq(%x: f64[K], %m: f64[K]) -> f64[] {"), "{text}");
    let again = parse_program("again.sir", &text).unwrap().print(Default::default());
    assert_eq!(again, text);
}

#[test]
fn an_extent_derived_from_variables_is_printed_as_a_sum() {
    let src = "func @diffs(%x: f64[N]) -> f64[] {\n  %a = slice %x {start = [1], limit = [N]}\n  %r = reduce_sum %a {axes = [0]}\n  return %r\n}\n";
    let p = parse_program("d.sir", src).unwrap();
    let text = p.print(Default::default());
    assert!(text.contains("%a: f64[N-1] = slice %x {start = [1], limit = [N]}"), "{text}");
    assert_eq!(parse_program("d.sir", &text).unwrap().print(Default::default()), text);
    let f = p.instantiate(None, &[TensorType::f64([5])]).unwrap();
    let (first, _) = f.iter_insts().next().unwrap();
    assert_eq!(f.ty(first).shape, vec![4]);
}

#[test]
fn an_extent_that_is_no_sum_of_variables_is_printed_as_written() {
    // Every other element: ceil(N / 2) elements, which no sum writes.
    let src = "func @odd(%x: f64[N]) -> f64[] {\n  %a = slice %x {start = [0], limit = [N], stride = [2]}\n  %r = reduce_sum %a {axes = [0]}\n  return %r\n}\n";
    let p = parse_program("o.sir", src).unwrap();
    let text = p.print(Default::default());
    assert_eq!(text, src);
    assert_eq!(parse_program("o.sir", &text).unwrap().print(Default::default()), text);
    let f = p.instantiate(None, &[TensorType::f64([5])]).unwrap();
    let (first, _) = f.iter_insts().next().unwrap();
    assert_eq!(f.ty(first).shape, vec![3]);
}

#[test]
fn names_work_in_shapes_counts_iota_and_results() {
    let src = "\
func @f(%x: f64[G, D], %g: i64[N]) -> (f64[N, D], i64[N]) {
  %t = take %x, %g {axis = 0}
  %s = segment_sum %t, %g {num_segments = G}
  %back = take %s, %g
  %i: i64[N] = iota {dim = 0}
  %r = reshape %back {shape = [N, D]}
  return %r, %i
}
";
    let p = parse_program("f.sir", src).unwrap();
    let f = p.instantiate(None, &[TensorType::f64([4, 2]), TensorType::new(saddle_ir::DType::I64, [9])]).unwrap();
    assert_eq!(f.result_types(), vec![TensorType::f64([9, 2]), TensorType::new(saddle_ir::DType::I64, [9])]);
    let text = p.print(Default::default());
    assert!(text.contains("{num_segments = G}") && text.contains("%i: i64[N] = iota"), "{text}");
}

#[test]
fn a_helper_serves_every_size_in_one_function() {
    let src = "\
func @two(%a: f64[3], %b: f64[5]) -> f64[] {
  %x = call %a {callee = @total}
  %y = call %b {callee = @total}
  %z = add %x, %y
  return %z
}
func @total(%v: f64[K]) -> f64[] {
  %s = reduce_sum %v {axes = [0]}
  return %s
}
";
    let p = parse_program("two.sir", src).unwrap();
    let text = print_func(p.func(Some("two"), "").unwrap());
    assert!(text.contains("%x: f64[] = reduce_sum %a") && text.contains("%y: f64[] = reduce_sum %b"), "{text}");
    // The caller has no dimension variables; the helper alone is generic.
    assert!(matches!(p.func(Some("total"), "x"), Err(ProgramError::Unbound { .. })));
}

#[test]
fn inconsistent_bindings_name_the_variable_and_both_extents() {
    let p = parse_program("m.sir", MODEL).unwrap();
    let err = p
        .instantiate(None, &[TensorType::f64([3]), TensorType::f64([4, 3]), TensorType::f64([5])])
        .unwrap_err()
        .to_string();
    assert!(err.contains("dimension variable N is 4") && err.contains("but 5"), "{err}");
    let err = p.instantiate(None, &[TensorType::f64([3]), TensorType::f64([4, 2]), TensorType::f64([4])]).unwrap_err();
    assert!(err.to_string().contains("argument 1 has shape [4,2], but %X is declared f64[N,3]"), "{err}");
    let err = p.instantiate(None, &[TensorType::f64([3])]).unwrap_err();
    assert!(matches!(err, ProgramError::Arity { expected: 3, found: 1, .. }), "{err}");
    // The same variable twice in one type.
    let sq = parse_program("s.sir", "func @f(%a: f64[K, K]) -> f64[K, K] {\n  return %a\n}").unwrap();
    let err = sq.instantiate(None, &[TensorType::f64([2, 3])]).unwrap_err().to_string();
    assert!(err.contains("dimension variable K is 2") && err.contains("but 3"), "{err}");
    assert!(sq.instantiate(None, &[TensorType::f64([3, 3])]).is_ok());
}

#[test]
fn a_call_binds_the_callee_from_its_operands() {
    let src = "\
func @f(%a: f64[4], %b: f64[3]) -> f64[4] {
  %c = call %a, %b {callee = @g}
  return %c
}
func @g(%x: f64[K], %y: f64[K]) -> f64[K] {
  %z = add %x, %y
  return %z
}
";
    let err = parse_program("c.sir", src).unwrap_err().to_string();
    assert!(err.contains("c.sir:2:30: error: call: @g: dimension variable K is 4"), "{err}");
}

#[test]
fn errors_in_generic_bodies_are_found_unbound_and_told_with_names() {
    let src = "func @f(%x: f64[N], %z: f64[M]) -> f64[N] {\n  %y = add %x, %z\n  return %y\n}\n";
    let err = parse_program("e.sir", src).unwrap_err().to_string();
    assert!(err.starts_with("e.sir:2:16: error: add: operand 1 has type f64[M], expected f64[N]"), "{err}");
    let src = "func @f(%x: f64[N]) -> f64[N] {\n  %q: f64[K] = neg %x\n  return %x\n}\n";
    let err = parse_program("e.sir", src).unwrap_err().to_string();
    assert!(err.contains("e.sir:2:11: error: `K` is not a dimension variable"), "{err}");
    let src = "func @f(%x: f64[f32]) -> f64[] {\n  %s = reduce_sum %x {axes = [0]}\n  return %s\n}\n";
    assert!(parse_program("e.sir", src).unwrap_err().to_string().contains("cannot name a dimension variable"));
}

#[test]
fn errors_that_only_some_sizes_have_are_reported_at_the_call() {
    let src = "\
func @f(%x: f64[4]) -> f64[] {
  %y = call %x {callee = @h}
  return %y
}
func @h(%x: f64[K]) -> f64[] {
  %s = slice %x {start = [0], limit = [5]}
  %r = reduce_sum %s {axes = [0]}
  return %r
}
";
    let err = parse_program("s.sir", src).unwrap_err().to_string();
    assert!(err.contains("s.sir:2:26: error: @h does not type-check when called with (f64[4]), where K = 4"), "{err}");
    assert!(err.contains("s.sir:6:8: error: slice"), "{err}");
}

#[test]
fn recursion_is_an_error_told_once() {
    let direct = "func @f(%x: f64[]) -> f64[] {\n  %y = call %x {callee = @f}\n  return %y\n}\n";
    let err = parse_program("r.sir", direct).unwrap_err();
    assert_eq!(err.diagnostics.len(), 1);
    assert!(err.to_string().contains("recursive call: @f → @f"), "{err}");
    let mutual = "\
func @a(%x: f64[N]) -> f64[N] {
  %y = call %x {callee = @b}
  return %y
}
func @b(%x: f64[M]) -> f64[M] {
  %y = call %x {callee = @a}
  return %y
}
";
    let err = parse_program("r.sir", mutual).unwrap_err();
    assert_eq!(err.diagnostics.len(), 1, "{err}");
    assert!(err.to_string().contains("r.sir:6:26: error: recursive call: @a → @b → @a"), "{err}");
}

#[test]
fn call_errors() {
    let cases = [
        ("%y = call %x {callee = @nope}", "no function @nope in the module or in the standard library"),
        ("%y = call %x", "call needs the attribute `callee`"),
        ("%y = call %x {callee = 3}", "attribute `callee` of call must be a function like `@f`"),
        ("%y = call %x {callee = @g, axes = [0]}", "attribute `axes` is for library functions"),
        ("%y = call %x, %x {callee = @g}", "@g takes 1 argument(s), given 2"),
        ("%y: f64[2] = call %x {callee = @g}", "type annotation says f64[2], but the call of @g produces f64[]"),
    ];
    for (stmt, want) in cases {
        let src = format!(
            "func @f(%x: f64[]) -> f64[] {{\n  {stmt}\n  return %x\n}}\nfunc @g(%x: f64[]) -> f64[] {{\n  return %x\n}}\n"
        );
        let err = parse_program("c.sir", &src).unwrap_err().to_string();
        assert!(err.contains(want), "{stmt}: {err}");
    }
    let dtype = "func @f(%x: f32[2]) -> f64[] {\n  %y = call %x {callee = @g}\n  return %y\n}\nfunc @g(%x: f64[K]) -> f64[] {\n  %s = reduce_sum %x {axes = [0]}\n  return %s\n}\n";
    let err = parse_program("c.sir", dtype).unwrap_err().to_string();
    assert!(err.contains("operand 0 has type f32[2], but @g takes f64[2]"), "{err}");
}

#[test]
fn deep_and_exploding_calls_are_refused_in_bounded_time() {
    let chain: String = (0..MAX_CALL_DEPTH + 5)
        .map(|k| {
            format!("func @f{k}(%x: f64[]) -> f64[] {{\n  %y = call %x {{callee = @f{}}}\n  return %y\n}}\n", k + 1)
        })
        .chain(std::iter::once(format!("func @f{}(%x: f64[]) -> f64[] {{\n  return %x\n}}\n", MAX_CALL_DEPTH + 5)))
        .collect();
    let err = parse_program("deep.sir", &chain).unwrap_err().to_string();
    assert!(err.contains("calls nest 69 levels deep from @f0"), "{err}");
    // Each function calls the next twice: 2^40 ops once inlined.
    let doubling: String = (0..40)
        .map(|k| {
            format!(
                "func @f{k}(%x: f64[N]) -> f64[N] {{\n  %a = call %x {{callee = @f{n}}}\n  %b = call %a {{callee = @f{n}}}\n  return %b\n}}\n",
                n = k + 1
            )
        })
        .chain(std::iter::once("func @f40(%x: f64[N]) -> f64[N] {\n  %a = neg %x\n  return %a\n}\n".to_string()))
        .collect();
    let start = std::time::Instant::now();
    let err = parse_program("exp.sir", &doubling).unwrap_err();
    assert!(err.to_string().contains("makes this function larger than"), "{err}");
    assert!(err.diagnostics.len() < 100, "{} diagnostics", err.diagnostics.len());
    assert!(start.elapsed().as_secs() < 60);
}

#[test]
fn a_generic_module_is_not_a_module() {
    let err = parse_module("m.sir", MODEL).unwrap_err().to_string();
    assert!(err.starts_with("m.sir:1:6: error: @model has dimension variables (N)"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Any binding of the variables gives the function written with those
    /// numbers, and every instance prints and reparses to itself.
    #[test]
    fn instances_match_the_written_function(n in 0usize..300) {
        let p = parse_program("m.sir", MODEL).unwrap();
        let f = p.instantiate(None, &types(n)).unwrap();
        let written = parse_module("c.sir", &concrete(n)).unwrap();
        prop_assert_eq!(print_func(&f), print_module(&written));
        let again = parse_module("again.sir", &print_func(&f)).unwrap();
        prop_assert_eq!(print_module(&again), print_func(&f));
    }
}

#[test]
fn extents_may_be_sums_of_variables() {
    // A flat parameter vector with two scalars before J group effects.
    let src = "\
func @es(%theta: f64[J+2], %y: f64[J]) -> f64[] {
  %eta = slice %theta {start = [2], limit = [J+2]}
  %k: f64[] = const {value = 2*J-1}
  %b: f64[J] = broadcast_in_dim %k {shape = [J], dims = []}
  %p = mul %b, %eta
  %q = add %p, %y
  %r = reduce_sum %q {axes = [0]}
  return %r
}
";
    let p = parse_program("es.sir", src).unwrap();
    let sig = p.signature(None).unwrap();
    assert_eq!(sig.params[0].to_string(), "f64[J+2]");
    assert_eq!(sig.vars, vec!["J".to_string()]);
    let f = p.instantiate(None, &[TensorType::f64([10]), TensorType::f64([8])]).unwrap();
    assert!(print_func(&f).contains("const {value = 15.0}"), "{}", print_func(&f));
    let err = p.instantiate(None, &[TensorType::f64([9]), TensorType::f64([8])]).unwrap_err().to_string();
    assert!(
        err.contains("argument 0 has extent 9 on axis 0, but %theta is declared f64[J+2], where J+2 is 10 (J = 8)"),
        "{err}"
    );
    // Printed with the sums, and stable.
    let text = p.print(Default::default());
    assert!(text.contains("%eta: f64[J] = slice %theta {start = [2], limit = [J+2]}"), "{text}");
    assert!(text.contains("const {value = 2*J-1}"), "{text}");
    assert_eq!(parse_program("again.sir", &text).unwrap().print(Default::default()), text);
    // Every written form of a sum reads the same.
    for (written, n) in [("J + 2", 10), ("2 + J", 10), ("J+J-6", 10), ("2*J - 6", 10), ("J*2-6", 10)] {
        let src = format!("func @f(%t: f64[{written}], %y: f64[J]) -> f64[{written}] {{\n  return %t\n}}\n");
        let p = parse_program("f.sir", &src).unwrap();
        assert!(p.instantiate(None, &[TensorType::f64([n]), TensorType::f64([8])]).is_ok(), "{written}");
    }
}

#[test]
fn a_variable_only_in_sums_is_solved_where_it_can_be() {
    // J+1 = 4 gives J = 3.
    let src = "func @f(%t: f64[J+1]) -> f64[J] {\n  %s = slice %t {start = [1], limit = [J+1]}\n  return %s\n}\n";
    let f = parse_program("f.sir", src).unwrap().instantiate(None, &[TensorType::f64([4])]).unwrap();
    assert_eq!(f.result_types(), vec![TensorType::f64([3])]);
    // 2*J = 5 has no solution; J+K = 5 has many.
    for (ty, n) in [("f64[2*J]", 5), ("f64[J+K]", 5)] {
        let src = format!("func @f(%t: {ty}) -> f64[] {{\n  %s = reduce_sum %t {{axes = [0]}}\n  return %s\n}}\n");
        let p = parse_program("f.sir", &src).unwrap();
        let err = p.instantiate(None, &[TensorType::f64([n])]).unwrap_err().to_string();
        assert!(err.contains("is neither the whole extent of an argument's axis nor solvable from one"), "{ty}: {err}");
    }
    let negative = "func @f(%t: f64[N], %u: f64[N-3]) -> f64[] {\n  %s = reduce_sum %t {axes = [0]}\n  return %s\n}\n";
    let p = parse_program("f.sir", negative).unwrap();
    let err = p.instantiate(None, &[TensorType::f64([2]), TensorType::f64([0])]).unwrap_err().to_string();
    assert!(err.contains("where N-3 is -1"), "{err}");
    for bad in ["f64[N*M]", "f64[N+]", "f64[2*3]"] {
        let src = format!("func @f(%t: f64[N], %u: {bad}) -> f64[N] {{\n  return %t\n}}\n");
        assert!(parse_program("f.sir", &src).is_err(), "{bad}");
    }
}

/// A random generic function over `f64[N]`: a chain of elementwise ops,
/// slices that shorten by one (extents `N-1`, `N-2`, ...), broadcasts of
/// reductions, and calls of a generic helper.
fn generic_chain(ops: &[u8]) -> String {
    let mut body = String::new();
    let mut cur = "%x".to_string();
    let mut len = 0i64; // the current extent is N - len
    let extent = |len: i64| if len == 0 { "N".to_string() } else { format!("N-{len}") };
    for (k, op) in ops.iter().enumerate() {
        let v = format!("%v{k}");
        let line = match op % 6 {
            0 => format!("  {v} = exp {cur}\n"),
            1 => format!("  {v} = mul {cur}, {cur}\n"),
            2 if len < 3 => {
                len += 1;
                format!("  {v} = slice {cur} {{start = [1], limit = [{}]}}\n", extent(len - 1))
            }
            3 => format!(
                "  {v}.s = reduce_sum {cur} {{axes = [0]}}\n  {v} = broadcast_in_dim {v}.s {{shape = [{}], dims = []}}\n",
                extent(len)
            ),
            4 => format!("  {v} = call {cur} {{callee = @twice}}\n"),
            _ => format!("  {v} = neg {cur}\n"),
        };
        body.push_str(&line);
        cur = v;
    }
    format!(
        "func @chain(%x: f64[N]) -> f64[] {{\n{body}  %r = reduce_sum {cur} {{axes = [0]}}\n  return %r\n}}\n\n\
         func @twice(%a: f64[K]) -> f64[K] {{\n  %b = add %a, %a\n  return %b\n}}\n"
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Printing a generic module is a fixed point of parse ∘ print, and
    /// binding N = n gives the function that the printed text with n
    /// written for N gives.
    #[test]
    fn generic_modules_print_parse_and_bind_consistently(ops in proptest::collection::vec(any::<u8>(), 1..12), n in 3usize..40) {
        let src = generic_chain(&ops);
        let p = parse_program("g.sir", &src).unwrap();
        let text = p.print(Default::default());
        prop_assert_eq!(parse_program("g.sir", &text).unwrap().print(Default::default()), text.clone());
        let bound = p.instantiate(None, &[TensorType::f64([n])]).unwrap();
        let first = &text[..text.find("\n\n").unwrap() + 1];
        let written = first.replace("N", &n.to_string());
        let concrete = parse_program("c.sir", &written).unwrap();
        prop_assert_eq!(print_func(concrete.func(None, "").unwrap()), print_func(&bound));
    }
}

#[test]
fn inlining_across_a_module_is_bounded_in_all() {
    // @big has 400 ops; @mid calls it 100 times (40,000 values); each of
    // 30 functions calls @mid: 1.24 million inlined values in all, past
    // the module's budget, though each function alone is within its limit.
    let big: String = (0..400).map(|k| format!("  %v{} = neg %v{k}\n", k + 1)).collect();
    let mut src = format!("func @big(%v0: f64[]) -> f64[] {{\n{big}  return %v400\n}}\n");
    let mid: String = (0..100).map(|k| format!("  %m{} = call %m{k} {{callee = @big}}\n", k + 1)).collect();
    src.push_str(&format!("func @mid(%m0: f64[]) -> f64[] {{\n{mid}  return %m100\n}}\n"));
    for c in 0..30 {
        src.push_str(&format!(
            "func @c{c}(%x: f64[]) -> f64[] {{\n  %y = call %x {{callee = @mid}}\n  return %y\n}}\n"
        ));
    }
    let start = std::time::Instant::now();
    let err = parse_program("many.sir", &src).unwrap_err().to_string();
    assert!(err.contains("inlined values in all"), "{err}");
    assert!(start.elapsed().as_secs() < 60);
    // Sums with coefficients out of range are refused, not wrapped.
    let huge = "func @f(%x: f64[N], %y: f64[N+4611686018427387904*N+4611686018427387904*N]) -> f64[] {\n  %s = reduce_sum %x {axes = [0]}\n  return %s\n}\n";
    assert!(parse_program("huge.sir", huge).unwrap_err().to_string().contains("out of range"));
}

#[test]
fn a_call_gives_the_callees_first_result() {
    let src = "\
func @f(%x: f64[3]) -> f64[3] {
  %y: f64[3] = call %x {callee = @pair}
  return %y
}
func @pair(%a: f64[K]) -> (f64[K], f64[]) {
  %e = exp %a
  %s = reduce_sum %a {axes = [0]}
  return %e, %s
}
";
    let p = parse_program("pair.sir", src).unwrap();
    let text = print_func(p.func(None, "").unwrap());
    assert!(text.contains("%y: f64[3] = exp %x"), "{text}");
    // The rest of the body is there, as if written in place (DCE removes it).
    assert!(text.contains("%pair.s: f64[] = reduce_sum %x"), "{text}");
}

#[test]
fn inlined_ops_are_located_in_the_file() {
    let src = "\
func @f(%x: f64[3]) -> f64[] {
  %lp = call %x {callee = @total}
  %n = call %x {callee = @log_sum_exp}
  %r = add %lp, %n
  return %r
}
func @total(%v: f64[K]) -> f64[] {
  %s = reduce_sum %v {axes = [0]}
  return %s
}
";
    let p = parse_program("loc.sir", src).unwrap();
    let text = saddle_ir::print_func_with(p.func(None, "").unwrap(), saddle_ir::PrintOptions { locations: true });
    // The module's helper at its own line, the library's ops at the call.
    assert!(text.contains("%lp: f64[] = reduce_sum %x {axes = [0]}  # at loc.sir:"), "{text}");
    for line in text.lines().filter(|l| l.contains(" = ") && !l.contains("%lp") && !l.contains("%r:")) {
        assert!(line.ends_with("# at loc.sir:3:8") || line.ends_with("# at loc.sir:3:3"), "{line}");
    }
}
