//! `saddle opt` with the AD passes, and `saddle grad` and `saddle hessian`,
//! from the outside: exit codes, stdout, stderr.

use std::process::{Command, Output};

fn saddle(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_saddle")).args(args).output().expect("the saddle binary runs")
}

fn case(name: &str) -> String {
    format!("{}/tests/cases/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A file of its own (tests run in parallel) holding `contents`, in a
/// directory removed when the value is dropped.
struct TempFile {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

impl std::ops::Deref for TempFile {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.path
    }
}

fn temp_file(name: &str, contents: &str) -> TempFile {
    let dir = tempfile::Builder::new().prefix("saddle-cli-ad-").tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, contents).unwrap();
    TempFile { _dir: dir, path }
}

fn stdout(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn failure(out: &Output, code: i32) -> String {
    assert_eq!(out.status.code(), Some(code), "stdout: {}", String::from_utf8_lossy(&out.stdout));
    assert!(out.stdout.is_empty(), "nothing on stdout on failure");
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// The printed module parses, verifies, and `saddle check` accepts it.
fn parse(text: &str) -> saddle::ir::Module {
    let m = saddle::ir::parse_module("opt.sir", text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    saddle::ir::verify_module(&m).unwrap();
    let p = temp_file("check.sir", text);
    let again = saddle(&["check", p.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(0));
    m
}

const VECTOR: &str = "func @v(%x: f64[3], %n: i64[]) -> f64[3] {\n  %y = exp %x\n  return %y\n}\n";

#[test]
fn opt_prints_the_transformed_function_first() {
    let student = case("student_t.sir");
    for (pass, params, results) in [
        ("jvp", vec!["f64[2]", "f64[2]"], vec!["f64[]", "f64[]"]),
        ("vjp", vec!["f64[2]", "f64[]"], vec!["f64[]", "f64[2]"]),
        ("grad", vec!["f64[2]"], vec!["f64[2]"]),
        ("grad=0", vec!["f64[2]"], vec!["f64[2]"]),
        ("value_and_grad", vec!["f64[2]"], vec!["f64[]", "f64[2]"]),
        ("hessian", vec!["f64[2]"], vec!["f64[2,2]"]),
        ("jacfwd", vec!["f64[2]"], vec!["f64[2]"]),
        ("jacrev=0", vec!["f64[2]"], vec!["f64[2]"]),
        ("vmap=5", vec!["f64[5,2]"], vec!["f64[5]"]),
        ("dce", vec!["f64[2]"], vec!["f64[]"]),
    ] {
        let m = parse(&stdout(&saddle(&["opt", &student, "-p", pass])));
        let f = &m.funcs[0];
        let p: Vec<String> = f.param_types().iter().map(|t| t.to_string()).collect();
        let r: Vec<String> = f.result_types().iter().map(|t| t.to_string()).collect();
        assert_eq!(
            (p, r),
            (params.iter().map(|s| s.to_string()).collect(), results.iter().map(|s| s.to_string()).collect()),
            "{pass}"
        );
    }
}

#[test]
fn passes_apply_in_order() {
    // jacfwd of grad is the Hessian; vmap of grad batches the gradient.
    let student = case("student_t.sir");
    let m = parse(&stdout(&saddle(&["opt", &student, "-p", "grad", "-p", "jacfwd"])));
    assert_eq!(m.funcs[0].result_types()[0].to_string(), "f64[2,2]");
    let m = parse(&stdout(&saddle(&["opt", &student, "-p", "grad", "-p", "vmap=3", "-p", "dce"])));
    assert_eq!(m.funcs[0].param_types()[0].to_string(), "f64[3,2]");
    assert_eq!(m.funcs[0].result_types()[0].to_string(), "f64[3,2]");
}

#[test]
fn jvp_and_vjp_follow_the_contract_for_integer_parameters() {
    let p = temp_file("vector.sir", VECTOR);
    let m = parse(&stdout(&saddle(&["opt", p.to_str().unwrap(), "-p", "jvp"])));
    let types: Vec<String> = m.funcs[0].param_types().iter().map(|t| t.to_string()).collect();
    assert_eq!(types, ["f64[3]", "i64[]", "f64[3]"], "one tangent per float parameter");
    let m = parse(&stdout(&saddle(&["opt", p.to_str().unwrap(), "-p", "vjp"])));
    let types: Vec<String> = m.funcs[0].result_types().iter().map(|t| t.to_string()).collect();
    assert_eq!(types, ["f64[3]", "f64[3]"], "one cotangent per float parameter");
}

#[test]
fn other_functions_of_the_module_follow() {
    let text =
        format!("{VECTOR}\nfunc @s(%x: f64[3]) -> f64[] {{\n  %y = reduce_sum %x {{axes = [0]}}\n  return %y\n}}\n");
    let p = temp_file("two.sir", &text);
    let m = parse(&stdout(&saddle(&["opt", p.to_str().unwrap(), "--func", "s", "-p", "grad"])));
    let names: Vec<&str> = m.funcs.iter().map(|f| f.name()).collect();
    assert_eq!(names, ["s_grad", "v"]);
}

#[test]
fn stats_print_op_counts_on_stderr() {
    let out = saddle(&["opt", &case("student_t.sir"), "-p", "grad", "--stats"]);
    let text = stdout(&out);
    assert!(text.starts_with("func @log_posterior_grad"));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("before: 12 ops"), "{err}");
    assert!(err.lines().any(|l| l.contains("after grad=0") && l.contains("dot_general")), "{err}");
}

#[test]
fn grad_of_a_vector_result_is_an_error_that_says_so() {
    let p = temp_file("vector.sir", VECTOR);
    for pass in ["grad", "hessian", "value_and_grad"] {
        let err = failure(&saddle(&["opt", p.to_str().unwrap(), "-p", pass]), 1);
        assert!(err.starts_with("error: ") && err.contains("scalar") && err.contains("f64[3]"), "{err}");
    }
}

#[test]
fn bad_parameter_indices_are_errors() {
    let p = temp_file("vector.sir", VECTOR);
    let err = failure(&saddle(&["opt", &case("student_t.sir"), "-p", "grad=3"]), 1);
    assert!(err.contains("no parameter 3"), "{err}");
    let err = failure(&saddle(&["opt", p.to_str().unwrap(), "-p", "jacfwd=1"]), 1);
    assert!(err.contains("i64[]") && err.contains("float"), "{err}");
}

#[test]
fn unknown_or_malformed_passes_are_usage_errors() {
    let student = case("student_t.sir");
    for pass in ["frobnicate", "vmap", "vmap=x", "grad=-1", "jvp=2", "hessian=a"] {
        let err = failure(&saddle(&["opt", &student, "-p", pass]), 2);
        assert!(err.contains("error:"), "{pass}: {err}");
    }
    let err = failure(&saddle(&["opt", &student, "-p", "frobnicate"]), 2);
    assert!(err.contains("unknown pass `frobnicate`"), "{err}");
    // No pass at all is a usage error too.
    failure(&saddle(&["opt", &student]), 2);
}

#[test]
fn bad_files_are_errors() {
    let err = failure(&saddle(&["opt", "/nonexistent.sir", "-p", "grad"]), 1);
    assert!(err.contains("cannot read"), "{err}");
    let p = temp_file("bad.sir", "func @f(%x: f64[2]) -> f64[] {\n  %y = exp %x\n  return %y\n}\n");
    failure(&saddle(&["opt", p.to_str().unwrap(), "-p", "grad"]), 1);
    let err = failure(&saddle(&["opt", &case("student_t.sir"), "--func", "nope", "-p", "grad"]), 1);
    assert!(err.contains("no function named @nope"), "{err}");
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(out)).unwrap()
}

fn numbers(v: &serde_json::Value) -> Vec<f64> {
    match v {
        serde_json::Value::Array(items) => items.iter().flat_map(numbers).collect(),
        serde_json::Value::Number(n) => vec![n.as_f64().unwrap()],
        other => panic!("not a number: {other}"),
    }
}

#[test]
fn grad_and_hessian_of_the_student_t_density() {
    let student = case("student_t.sir");
    // At the mode the gradient vanishes and the Hessian is -(ν + 2)/ν · Σ⁻¹.
    let g = json(&saddle(&["grad", &student, "--args", "[[0.5, 2.0]]"]));
    assert_eq!(numbers(&g), [0.0, 0.0]);
    let h = json(&saddle(&["hessian", &student, "--args", "[[0.5, 2.0]]"]));
    let want = [-12.0 / 7.0, 6.0 / 7.0, 6.0 / 7.0, -12.0 / 7.0];
    assert!(h.as_array().is_some_and(|rows| rows.len() == 2 && rows.iter().all(|r| r.as_array().unwrap().len() == 2)));
    for (got, want) in numbers(&h).iter().zip(want) {
        assert!((got - want).abs() < 1e-14, "{h}");
    }
    // Away from the mode: -9/7 · Σ⁻¹d / (1 + q/7) with d = θ - μ.
    let g = numbers(&json(&saddle(&["grad", &student, "--args", "[[1, 1]]"])));
    let d = [0.5, -1.0];
    let sd = [4.0 / 3.0 * d[0] - 2.0 / 3.0 * d[1], -2.0 / 3.0 * d[0] + 4.0 / 3.0 * d[1]];
    let q = d[0] * sd[0] + d[1] * sd[1];
    for i in 0..2 {
        let want = -4.5 * 2.0 * sd[i] / 7.0 / (1.0 + q / 7.0);
        assert!((g[i] - want).abs() < 1e-14, "{g:?}");
    }
}

#[test]
fn grad_and_hessian_take_wrt_and_func() {
    let text = "func @s(%a: f64[], %x: f64[2]) -> f64[] {\n  %ax = broadcast_in_dim %a {shape = [2], dims = []}\n  %p = mul %ax, %x\n  %q = mul %p, %x\n  %y = reduce_sum %q {axes = [0]}\n  return %y\n}\n";
    let p = temp_file("two_params.sir", &format!("{VECTOR}\n{text}"));
    let p = p.to_str().unwrap();
    // y = a·Σ x²: ∂y/∂x = 2·a·x, ∂²y/∂x² = 2·a·I, ∂y/∂a = Σ x².
    let g = numbers(&json(&saddle(&["grad", p, "--func", "s", "--args", "[3, [1, 2]]", "--wrt", "1"])));
    assert_eq!(g, [6.0, 12.0]);
    let g = numbers(&json(&saddle(&["grad", p, "--func", "s", "--args", "[3, [1, 2]]"])));
    assert_eq!(g, [5.0]);
    let h = json(&saddle(&["hessian", p, "--func", "s", "--args", "[3, [1, 2]]", "--wrt", "1"]));
    assert_eq!(numbers(&h), [6.0, 0.0, 0.0, 6.0]);
    let h = json(&saddle(&["hessian", p, "--func", "s", "--args", "[3, [1, 2]]", "--wrt", "0"]));
    assert_eq!(h, serde_json::json!(0.0), "a scalar parameter has a scalar Hessian");
}

#[test]
fn grad_and_hessian_errors() {
    let student = case("student_t.sir");
    let vector = temp_file("vector.sir", VECTOR);
    let vector = vector.to_str().unwrap();
    for cmd in ["grad", "hessian"] {
        // A first result that is not a scalar.
        let err = failure(&saddle(&[cmd, vector, "--args", "[[1, 2, 3], 0]"]), 1);
        assert!(err.starts_with("error: ") && err.contains("scalar") && err.contains("f64[3]"), "{err}");
        // --wrt beyond the parameters, or an integer parameter.
        let err = failure(&saddle(&[cmd, &student, "--args", "[[1, 2]]", "--wrt", "1"]), 1);
        assert!(err.contains("there is no parameter 1"), "{err}");
        let err = failure(&saddle(&[cmd, &student, "--args", "[[1, 2]]", "--wrt", "-1"]), 2);
        assert!(err.contains("error:"), "{err}");
        // Arguments of the wrong shape or count.
        let err = failure(&saddle(&[cmd, &student, "--args", "[[1, 2, 3]]"]), 1);
        assert!(err.contains("--args: argument 0") && err.contains("shape"), "{err}");
        let err = failure(&saddle(&[cmd, &student, "--args", "[]"]), 1);
        assert!(err.contains("expected 1 argument"), "{err}");
        let err = failure(&saddle(&[cmd, &student, "--args", "[[1, 2]"]), 1);
        assert!(err.contains("invalid JSON"), "{err}");
        // Missing --args and unknown flags are usage errors.
        failure(&saddle(&[cmd, &student]), 2);
        failure(&saddle(&[cmd, &student, "--args", "[[1, 2]]", "--frobnicate"]), 2);
        // An unreadable file.
        let err = failure(&saddle(&[cmd, "/nonexistent.sir", "--args", "[]"]), 1);
        assert!(err.contains("cannot read"), "{err}");
    }
    let with_int = temp_file(
        "int.sir",
        "func @f(%x: f64[2], %n: i64[]) -> f64[] {\n  %y = reduce_sum %x {axes = [0]}\n  return %y\n}\n",
    );
    let err = failure(&saddle(&["grad", with_int.to_str().unwrap(), "--args", "[[1, 2], 3]", "--wrt", "1"]), 1);
    assert!(err.contains("i64[]") && err.contains("float"), "{err}");
}

#[test]
fn grad_and_hessian_of_a_bad_index_name_the_users_take() {
    // Linear in the gathered values: the Hessian is zero whatever the
    // indices, and the gradient scatters with segment_sum; both must still
    // refuse index 7, and in terms of the instruction the user wrote.
    let text = "func @f(%x: f64[3], %i: i64[2]) -> f64[] {\n  %y: f64[2] = take %x, %i {axis = 0}\n  %s: f64[] = reduce_sum %y {axes = [0]}\n  return %s\n}\n";
    let p = temp_file("bad_index.sir", text);
    let p = p.to_str().unwrap();
    for cmd in ["eval", "grad", "hessian"] {
        let err = failure(&saddle(&[cmd, p, "--args", "[[1, 2, 3], [0, 7]]"]), 1);
        assert!(err.starts_with("error: "), "{cmd}: {err}");
        assert!(err.contains("take at %y") && err.contains("index 7"), "{cmd}: {err}");
        if cmd != "eval" {
            assert!(err.contains("bad_index.sir:2:"), "{cmd}: {err}");
            assert!(!err.contains("value #"), "{cmd}: {err}");
        }
        // In range, all three succeed.
        stdout(&saddle(&[cmd, p, "--args", "[[1, 2, 3], [0, 2]]"]));
    }
    std::fs::remove_dir_all(std::path::Path::new(p).parent().unwrap()).unwrap();
}
