//! The executable's API: reuse, outputs, errors, threads.

use ndarray::{ArrayD, IxDyn, arr1};
use saddle_ir::{Array, parse_func};
use saddle_runtime::{CompileOptions, Error, compile, compile_with, reference};

fn f64s(v: &[f64]) -> Array {
    Array::F64(ArrayD::from_shape_vec(IxDyn(&[v.len()]), v.to_vec()).unwrap())
}

const SRC: &str = "func @f(%x: f64[3], %y: f64[3]) -> (f64[3], f64[3], f64[3], f64[], f64[3]) {
  %a: f64[3] = mul %x, %y
  %b: f64[3] = exp %a
  %c: f64[] = reduce_sum %b {axes = [0]}
  %k: f64[3] = const {value = 2.0}
  return %b, %b, %x, %c, %k
}";

#[test]
fn results_returned_twice_params_and_constants() {
    let f = parse_func("t.sir", SRC).unwrap();
    let inputs = [f64s(&[1.0, 2.0, 3.0]), f64s(&[0.5, -1.0, 0.25])];
    let exe = compile(&f).unwrap();
    let want = reference::eval(&f, &inputs).unwrap();
    for _ in 0..3 {
        let got = exe.run(&inputs).unwrap();
        for (g, w) in got.iter().zip(&want) {
            assert!(g.bitwise_eq(w));
        }
    }
    let mut ws = exe.workspace();
    let mut out = exe.new_outputs();
    for _ in 0..3 {
        exe.run_into(&mut ws, &inputs, &mut out).unwrap();
        for (g, w) in out.iter().zip(&want) {
            assert!(g.bitwise_eq(w));
        }
    }
}

#[test]
fn output_buffers_are_checked() {
    let f = parse_func("t.sir", SRC).unwrap();
    let inputs = [f64s(&[1.0, 2.0, 3.0]), f64s(&[0.5, -1.0, 0.25])];
    let exe = compile(&f).unwrap();
    let mut ws = exe.workspace();
    let mut short = exe.new_outputs();
    short.pop();
    assert!(matches!(
        exe.run_into(&mut ws, &inputs, &mut short),
        Err(Error::OutputCount { expected: 5, found: 4, .. })
    ));
    let mut wrong = exe.new_outputs();
    wrong[3] = f64s(&[1.0]);
    assert!(matches!(exe.run_into(&mut ws, &inputs, &mut wrong), Err(Error::OutputType { index: 3, .. })));
}

#[test]
fn non_standard_layout_inputs() {
    let f = parse_func("t.sir", "func @f(%x: f64[2,3]) -> f64[2,3] {\n %y: f64[2,3] = neg %x\n return %y\n}").unwrap();
    let t = Array::F64(ArrayD::from_shape_vec(IxDyn(&[3, 2]), vec![1., 2., 3., 4., 5., 6.]).unwrap().reversed_axes());
    let got = compile(&f).unwrap().run(std::slice::from_ref(&t)).unwrap();
    assert_eq!(got[0].to_f64_vec(), vec![-1., -3., -5., -2., -4., -6.]);
}

#[test]
fn run_time_errors_of_the_compiled_plan() {
    let f = parse_func(
        "t.sir",
        "func @f(%x: f64[3], %i: i32[2], %a: i64[2], %b: i64[2]) -> (f64[2], f64[4], i64[2]) {
  %t: f64[2] = take %x, %i
  %s: f64[4] = segment_sum %x, %j {num_segments = 4}
  %q: i64[2] = div %a, %b
  return %t, %s, %q
}"
        .replace("%j", "%jj")
        .replace("  %s:", "  %jj: i32[3] = const {value = [0, 3, 1]}\n  %s:")
        .as_str(),
    )
    .unwrap();
    let exe = compile(&f).unwrap();
    let x = f64s(&[1.0, 2.0, 3.0]);
    let ok_i = Array::I32(arr1(&[2, 0]).into_dyn());
    let a = Array::I64(arr1(&[7, -7]).into_dyn());
    let b = Array::I64(arr1(&[2, 3]).into_dyn());
    let out = exe.run(&[x.clone(), ok_i.clone(), a.clone(), b]).unwrap();
    assert_eq!(out[2].to_f64_vec(), vec![3.0, -2.0]);
    let bad_i = Array::I32(arr1(&[2, 3]).into_dyn());
    let err = exe.run(&[x.clone(), bad_i, a.clone(), Array::I64(arr1(&[2, 3]).into_dyn())]).unwrap_err();
    assert_eq!(err.to_string(), "take at %t: index 3 is out of range for an axis of extent 3");
    let zero = Array::I64(arr1(&[2, 0]).into_dyn());
    let err = exe.run(&[x.clone(), ok_i.clone(), a.clone(), zero]).unwrap_err();
    assert_eq!(err.to_string(), "div at %q: integer division by zero");
    assert!(matches!(exe.run(std::slice::from_ref(&x)), Err(Error::ArgCount { expected: 4, found: 1, .. })));
    let err = exe.run(&[x.clone(), Array::I64(arr1(&[0, 1]).into_dyn()), a.clone(), a]).unwrap_err();
    assert_eq!(err.to_string(), "argument 1 of @f has type i64[2], expected i32[2]");
}

#[test]
fn plans_too_large_for_memory_are_refused_at_compile_time() {
    let f = parse_func(
        "t.sir",
        "func @f(%x: f64[]) -> f64[] {
  %b: f64[1048576,1048576] = broadcast_in_dim %x {shape = [1048576, 1048576], dims = []}
  %e: f64[1048576,1048576] = exp %b
  %s: f64[] = reduce_sum %e {axes = [0, 1]}
  return %s
}",
    )
    .unwrap();
    assert!(matches!(compile(&f), Err(Error::OutOfMemory { .. })));
    let small =
        parse_func("t.sir", "func @f(%x: f64[1000]) -> f64[1000] {\n %y: f64[1000] = exp %x\n return %y\n}").unwrap();
    let opts = CompileOptions { memory_limit: Some(4000), ..CompileOptions::default() };
    assert!(matches!(compile_with(&small, &opts), Err(Error::OutOfMemory { .. })));
    let opts = CompileOptions { memory_limit: Some(8000), ..CompileOptions::default() };
    assert!(compile_with(&small, &opts).is_ok());
}

#[test]
fn one_executable_serves_many_threads() {
    let f = parse_func("t.sir", SRC).unwrap();
    let exe = compile(&f).unwrap();
    std::thread::scope(|s| {
        for t in 0..4 {
            let exe = &exe;
            s.spawn(move || {
                let inputs = [f64s(&[t as f64, 2.0, 3.0]), f64s(&[0.5, -1.0, 0.25])];
                let want = reference::eval(exe.func(), &inputs).unwrap();
                for _ in 0..200 {
                    let got = exe.run(&inputs).unwrap();
                    assert!(got[3].bitwise_eq(&want[3]));
                }
            });
        }
    });
}

#[test]
fn fusion_shrinks_the_plan() {
    let f = parse_func(
        "t.sir",
        "func @f(%x: f64[1000]) -> f64[] {
  %one: f64[1000] = const {value = 1.0}
  %n: f64[1000] = neg %x
  %e: f64[1000] = exp %n
  %d: f64[1000] = add %one, %e
  %y: f64[1000] = div %one, %d
  %l: f64[1000] = log %y
  %s: f64[] = reduce_sum %l {axes = [0]}
  return %s
}",
    )
    .unwrap();
    let fused = compile(&f).unwrap();
    let unfused = compile_with(&f, &CompileOptions::unfused()).unwrap();
    assert_eq!(fused.num_fused_loops(), 1);
    assert_eq!(fused.num_steps(), 2);
    assert!(unfused.num_steps() >= 6);
    // One buffer for the loop's output, one for the sum and its partials.
    assert!(fused.workspace_bytes() <= 8000 + 16, "{}", fused.workspace_bytes());
    assert!(unfused.workspace_bytes() >= 5 * 8000);
}
