//! Known answers and run-time errors of the reference evaluator.

use ndarray::{ArrayD, IxDyn, arr1, arr2};
use saddle_ir::{Array, parse_func};
use saddle_runtime::{Error, reference};

fn f64s(shape: &[usize], v: &[f64]) -> Array {
    Array::F64(ArrayD::from_shape_vec(IxDyn(shape), v.to_vec()).unwrap())
}

fn run(src: &str, inputs: &[Array]) -> Result<Vec<Array>, Error> {
    let f = parse_func("t.sir", src).unwrap();
    reference::eval(&f, inputs)
}

#[test]
fn student_t_known_answer() {
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/cases/student_t.sir")).unwrap();
    let out = run(&src, &[f64s(&[2], &[1.5, 1.0])]).unwrap();
    // d = (1, -1); q = dᵀ Σ⁻¹ d = 4/3 + 2·2/3 + 4/3 = 4; lp = -4.5 log(1 + 4/7)
    let want = -4.5 * (1.0f64 + 4.0 / 7.0).ln();
    let got = out[0].to_f64_vec()[0];
    assert!((got - want).abs() < 1e-14, "{got} vs {want}");
}

#[test]
fn layout_ops_known_answers() {
    let src = "func @f(%x: f64[2,3]) -> (f64[3,2], f64[2,2], f64[4,5], f64[3,3], f64[6], f64[2,3,2]) {
      %t: f64[3,2] = transpose %x {perm = [1, 0]}
      %s: f64[2,2] = slice %x {start = [0, 0], limit = [2, 3], stride = [1, 2]}
      %z: f64[] = const {value = 0.0}
      %p: f64[4,5] = pad %x, %z {low = [1, 0], high = [1, 2], interior = [0, 0]}
      %c: f64[3,3] = concatenate %x, %y {axis = 0}
      %y: f64[1,3] = slice %x {start = [1, 0], limit = [2, 3]}
      %r: f64[6] = reshape %x {shape = [6]}
      %b: f64[2,3,2] = broadcast_in_dim %x {shape = [2, 3, 2], dims = [0, 1]}
      return %t, %s, %p, %c, %r, %b
    }";
    // %c uses %y before its definition: refused by the parser.
    assert!(parse_func("t.sir", src).is_err());
    let src = src
        .replace("      %c: f64[3,3] = concatenate %x, %y {axis = 0}\n", "")
        .replace("      %r: f64[6]", "      %c: f64[3,3] = concatenate %x, %y {axis = 0}\n      %r: f64[6]");
    let x = f64s(&[2, 3], &[1., 2., 3., 4., 5., 6.]);
    let out = run(&src, &[x]).unwrap();
    assert_eq!(out[0].to_f64_vec(), vec![1., 4., 2., 5., 3., 6.]);
    assert_eq!(out[1].to_f64_vec(), vec![1., 3., 4., 6.]);
    assert_eq!(
        out[2].to_f64_vec(),
        vec![0., 0., 0., 0., 0., 1., 2., 3., 0., 0., 4., 5., 6., 0., 0., 0., 0., 0., 0., 0.]
    );
    assert_eq!(out[3].to_f64_vec(), vec![1., 2., 3., 4., 5., 6., 4., 5., 6.]);
    assert_eq!(out[4].to_f64_vec(), vec![1., 2., 3., 4., 5., 6.]);
    assert_eq!(out[5].to_f64_vec(), vec![1., 1., 2., 2., 3., 3., 4., 4., 5., 5., 6., 6.]);
}

#[test]
fn linalg_known_answers() {
    let src = "func @f(%a: f64[2,2], %b: f64[2,1]) -> (f64[2,2], f64[2,1], f64[2,2]) {
      %l: f64[2,2] = cholesky %a
      %x: f64[2,1] = triangular_solve %l, %b
      %g: f64[2,2] = dot_general %l, %l {lhs_contract = [1], rhs_contract = [1]}
      return %l, %x, %g
    }";
    let a = Array::from(arr2(&[[4.0, 99.0], [2.0, 5.0]]).into_dyn());
    let b = Array::from(arr2(&[[2.0], [5.0]]).into_dyn());
    let out = run(src, &[a, b]).unwrap();
    // The upper triangle (99) is never read.
    assert_eq!(out[0].to_f64_vec(), vec![2.0, 0.0, 1.0, 2.0]);
    assert_eq!(out[1].to_f64_vec(), vec![1.0, 2.0]);
    assert_eq!(out[2].to_f64_vec(), vec![4.0, 2.0, 2.0, 5.0]);
}

#[test]
fn cholesky_of_indefinite_matrix_is_nan() {
    let src = "func @f(%a: f64[2,2]) -> f64[2,2] {\n %l: f64[2,2] = cholesky %a\n return %l\n}";
    let a = Array::from(arr2(&[[1.0, 0.0], [2.0, 1.0]]).into_dyn());
    let out = run(src, &[a]).unwrap();
    assert!(out[0].to_f64_vec().iter().all(|x| x.is_nan()));
}

#[test]
fn take_and_segment_sum() {
    let src = "func @f(%x: f64[3,2], %i: i64[4]) -> (f64[4,2], f64[2,2]) {
      %t: f64[4,2] = take %x, %i {axis = 0}
      %j: i32[3] = const {value = [1, 0, 1]}
      %s: f64[2,2] = segment_sum %x, %j {num_segments = 2}
      return %t, %s
    }";
    let x = f64s(&[3, 2], &[1., 2., 3., 4., 5., 6.]);
    let i = Array::I64(arr1(&[2, 0, 0, 1]).into_dyn());
    let out = run(src, &[x.clone(), i]).unwrap();
    assert_eq!(out[0].to_f64_vec(), vec![5., 6., 1., 2., 1., 2., 3., 4.]);
    assert_eq!(out[1].to_f64_vec(), vec![3., 4., 6., 8.]);
    let bad = Array::I64(arr1(&[0, 3, 0, 0]).into_dyn());
    match run(src, &[x.clone(), bad]) {
        Err(Error::IndexOutOfRange { op: "take", index: 3, extent: 3, at }) => assert_eq!(at, "%t"),
        other => panic!("{other:?}"),
    }
    let negative = Array::I64(arr1(&[0, -1, 0, 0]).into_dyn());
    assert!(matches!(run(src, &[x, negative]), Err(Error::IndexOutOfRange { index: -1, .. })));
}

#[test]
fn segment_sum_index_out_of_range() {
    let src = "func @f(%x: f64[3], %i: i32[3]) -> f64[2] {
      %s: f64[2] = segment_sum %x, %i {num_segments = 2}
      return %s
    }";
    let x = f64s(&[3], &[1., 2., 3.]);
    let i = Array::I32(arr1(&[0, 1, 2]).into_dyn());
    let err = run(src, &[x, i]).unwrap_err();
    assert!(matches!(err, Error::IndexOutOfRange { op: "segment_sum", index: 2, extent: 2, .. }), "{err}");
    assert_eq!(err.to_string(), "segment_sum at %s: index 2 is out of range for an axis of extent 2");
}

#[test]
fn integer_division_by_zero() {
    let src = "func @f(%x: i32[2], %y: i32[2]) -> i32[2] {\n %q: i32[2] = div %x, %y\n return %q\n}";
    let x = Array::I32(arr1(&[7, -7]).into_dyn());
    let out = run(src, &[x.clone(), Array::I32(arr1(&[2, 2]).into_dyn())]).unwrap();
    assert_eq!(out[0].to_f64_vec(), vec![3.0, -3.0]);
    let err = run(src, &[x, Array::I32(arr1(&[2, 0]).into_dyn())]).unwrap_err();
    assert!(matches!(err, Error::DivisionByZero { .. }), "{err}");
}

#[test]
fn argument_errors() {
    let src = "func @f(%x: f64[2]) -> f64[2] {\n %y: f64[2] = exp %x\n return %y\n}";
    assert!(matches!(run(src, &[]), Err(Error::ArgCount { expected: 1, found: 0, .. })));
    let wrong_shape = f64s(&[3], &[1., 2., 3.]);
    assert!(matches!(run(src, &[wrong_shape]), Err(Error::ArgType { index: 0, .. })));
    let wrong_dtype = Array::F32(arr1(&[1.0f32, 2.0]).into_dyn());
    let err = run(src, &[wrong_dtype]).unwrap_err();
    assert_eq!(err.to_string(), "argument 0 of @f has type f32[2], expected f64[2]");
}

#[test]
fn huge_allocation_is_refused_before_allocating() {
    // 2^40 f64 elements: 8 TiB.
    let src = "func @f(%x: f64[]) -> f64[1048576,1048576] {
      %y: f64[1048576,1048576] = broadcast_in_dim %x {shape = [1048576, 1048576], dims = []}
      return %y
    }";
    let err = run(src, &[Array::from(1.0)]).unwrap_err();
    assert!(matches!(err, Error::OutOfMemory { .. }), "{err}");
    let f = parse_func(
        "t.sir",
        "func @f(%x: f64[]) -> f64[4] {\n %y: f64[4] = broadcast_in_dim %x {shape = [4], dims = []}\n return %y\n}",
    )
    .unwrap();
    assert!(reference::eval_with_memory_limit(&f, &[Array::from(1.0)], 40).is_ok());
    assert!(matches!(reference::eval_with_memory_limit(&f, &[Array::from(1.0)], 39), Err(Error::OutOfMemory { .. })));
}

#[test]
fn every_dtype_through_elementwise_ops() {
    let src = "func @f(%a: i64[3], %b: i32[3], %c: f32[3], %p: bool[3]) -> (i64[3], i32[3], f32[3], bool[3], f64[3], i32[3]) {
      %a2: i64[3] = integer_pow %a {y = 3}
      %bn: i32[3] = neg %b
      %cs: f32[3] = sign %c
      %q: bool[3] = not %p
      %cf: f64[3] = convert %c {dtype = f64}
      %bi: i32[3] = convert %p {dtype = i32}
      return %a2, %bn, %cs, %q, %cf, %bi
    }";
    let out = run(
        src,
        &[
            Array::I64(arr1(&[-2, 0, 3]).into_dyn()),
            Array::I32(arr1(&[i32::MIN, 0, 5]).into_dyn()),
            Array::F32(arr1(&[-2.5f32, 0.0, 1.5]).into_dyn()),
            Array::Bool(arr1(&[true, false, true]).into_dyn()),
        ],
    )
    .unwrap();
    assert_eq!(out[0].to_f64_vec(), vec![-8.0, 0.0, 27.0]);
    assert_eq!(out[1].to_f64_vec(), vec![i32::MIN as f64, 0.0, -5.0]);
    assert_eq!(out[2].to_f64_vec(), vec![-1.0, 0.0, 1.0]);
    assert_eq!(out[3].to_f64_vec(), vec![0.0, 1.0, 0.0]);
    assert_eq!(out[4].to_f64_vec(), vec![-2.5, 0.0, 1.5]);
    assert_eq!(out[5].to_f64_vec(), vec![1.0, 0.0, 1.0]);
}

#[test]
fn dead_code_cannot_fail() {
    // The division by zero feeds no result: it is not run, here or in the
    // compiled plan (which removes dead code).
    let src = "func @f(%x: i32[2], %y: i32[2]) -> i32[2] {\n %q: i32[2] = div %x, %y\n %s: i32[2] = add %x, %x\n return %s\n}";
    let zero = Array::I32(arr1(&[0, 0]).into_dyn());
    let out = run(src, &[zero.clone(), zero.clone()]).unwrap();
    assert_eq!(out[0].to_f64_vec(), vec![0.0, 0.0]);
    let f = parse_func("t.sir", src).unwrap();
    assert!(saddle_runtime::compile(&f).unwrap().run(&[zero.clone(), zero]).is_ok());
}
