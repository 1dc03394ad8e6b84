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
    // Unsimplified: the simplifier would rewrite the sum of the broadcast
    // into a scaling of exp(x), a plan of a few bytes.
    let plain = CompileOptions { simplify: false, ..CompileOptions::default() };
    assert!(matches!(compile_with(&f, &plain), Err(Error::OutOfMemory { .. })));
    assert!(compile(&f).is_ok());
    let small =
        parse_func("t.sir", "func @f(%x: f64[1000]) -> f64[1000] {\n %y: f64[1000] = exp %x\n return %y\n}").unwrap();
    // The workspace (one buffer of 8000 bytes) and the result array of
    // a call (8000 more).
    let opts = CompileOptions { memory_limit: Some(12000), ..CompileOptions::default() };
    assert!(matches!(compile_with(&small, &opts), Err(Error::OutOfMemory { .. })));
    let opts = CompileOptions { memory_limit: Some(16000), ..CompileOptions::default() };
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

#[test]
fn run_into_validates_everything_it_indexes() {
    // Workspaces of other executables (fewer or more buffers, smaller
    // buffers, other parameter counts), and arguments and outputs of the
    // wrong count, dtype, shape or layout: a typed error or a correct
    // result, never a panic.
    let f = parse_func("t.sir", SRC).unwrap();
    let exe = compile(&f).unwrap();
    let inputs = [f64s(&[1.0, 2.0, 3.0]), f64s(&[0.5, -1.0, 0.25])];
    let want = reference::eval(&f, &inputs).unwrap();
    let others = [
        "func @g(%x: f64[]) -> f64[] {\n %y: f64[] = exp %x\n return %y\n}",
        "func @g(%a: f64[64], %b: f64[64], %c: f64[64], %d: f64[64]) -> f64[64] {
  %e: f64[64] = mul %a, %b
  %t: f64[64] = transpose %e {perm = [0]}
  %u: f64[64] = add %t, %c
  %v: f64[64] = transpose %u {perm = [0]}
  %w: f64[64] = sub %v, %d
  return %w
}",
        "func @g() -> f64[2] {\n %k: f64[2] = const {value = 1.0}\n return %k\n}",
    ];
    for other in others {
        let g = compile(&parse_func("g.sir", other).unwrap()).unwrap();
        let mut ws = g.workspace();
        let mut out = exe.new_outputs();
        exe.run_into(&mut ws, &inputs, &mut out).unwrap();
        for (o, w) in out.iter().zip(&want) {
            assert!(o.bitwise_eq(w));
        }
        // And back: the workspace now serves `g` again.
        let mut gout = g.new_outputs();
        let gin: Vec<Array> =
            g.func().param_types().iter().map(|t| Array::full(t, saddle_ir::Scalar::F64(1.0))).collect();
        g.run_into(&mut ws, &gin, &mut gout).unwrap();
    }
    let mut ws = exe.workspace();
    let mut out = exe.new_outputs();
    // Arguments: count, dtype, shape.
    assert!(matches!(
        exe.run_into(&mut ws, &inputs[..1], &mut out),
        Err(Error::ArgCount { expected: 2, found: 1, .. })
    ));
    let f32s = Array::F32(ArrayD::from_shape_vec(IxDyn(&[3]), vec![1.0f32; 3]).unwrap());
    assert!(matches!(
        exe.run_into(&mut ws, &[inputs[0].clone(), f32s], &mut out),
        Err(Error::ArgType { index: 1, .. })
    ));
    assert!(matches!(
        exe.run_into(&mut ws, &[f64s(&[1.0; 4]), inputs[1].clone()], &mut out),
        Err(Error::ArgType { index: 0, .. })
    ));
    // Outputs: count, dtype, shape, layout.
    let cases: Vec<(usize, Array)> = vec![
        (0, Array::F32(ArrayD::zeros(IxDyn(&[3])))),
        (3, f64s(&[0.0; 3])),
        (4, Array::F64(ArrayD::zeros(IxDyn(&[3, 1])))),
        (1, Array::F64(ArrayD::zeros(IxDyn(&[6])).slice_move(ndarray::s![..;2]).into_dyn())),
    ];
    for (index, bad) in cases {
        let mut out = exe.new_outputs();
        out[index] = bad;
        let err = exe.run_into(&mut ws, &inputs, &mut out).unwrap_err();
        assert!(matches!(err, Error::OutputType { index: i, .. } if i == index), "{err}");
    }
    let mut long = exe.new_outputs();
    long.push(f64s(&[0.0]));
    assert!(matches!(exe.run_into(&mut ws, &inputs, &mut long), Err(Error::OutputCount { found: 6, .. })));
    // After all that, the workspace still gives the right answer.
    exe.run_into(&mut ws, &inputs, &mut out).unwrap();
    for (o, w) in out.iter().zip(&want) {
        assert!(o.bitwise_eq(w));
    }
}
