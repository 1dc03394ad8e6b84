//! Every op kind is handled by every transformation: JVP, transposition
//! (for the ops that are linear in an operand) and batching, and the
//! derived transformations on top of them. Structure only; the values are
//! checked by the workspace's property tests.

use saddle_ad::Error;
use saddle_ir::op::{Binary, DotDims, ReduceKind, Unary};
use saddle_ir::{DType, Func, Literal, Op, Scalar, Tensor, TensorType, Tracer, verify};

fn f64t(shape: &[usize]) -> TensorType {
    TensorType::f64(shape)
}

/// `op`'s kind with real attributes, and the types of its operands.
fn instance(kind: &Op) -> (Op, Vec<TensorType>) {
    let spd = f64t(&[3, 3]);
    match kind {
        Op::Const(_) => (Op::Const(Literal::splat(Scalar::F64(2.0), [2])), vec![]),
        Op::Iota { .. } => (Op::Iota { dim: 0, ty: f64t(&[2]) }, vec![]),
        Op::Unary(Unary::Not) => (Op::Unary(Unary::Not), vec![TensorType::new(DType::Bool, [2])]),
        Op::Unary(u) => (Op::Unary(*u), vec![f64t(&[2])]),
        Op::Binary(b @ (Binary::And | Binary::Or)) => {
            (Op::Binary(*b), vec![TensorType::new(DType::Bool, [2]), TensorType::new(DType::Bool, [2])])
        }
        Op::Binary(b) => (Op::Binary(*b), vec![f64t(&[2]), f64t(&[2])]),
        Op::Compare(c) => (Op::Compare(*c), vec![f64t(&[2]), f64t(&[2])]),
        Op::Select => (Op::Select, vec![TensorType::new(DType::Bool, [2]), f64t(&[2]), f64t(&[2])]),
        Op::Convert { .. } => (Op::Convert { dtype: DType::F32 }, vec![f64t(&[2])]),
        Op::StopGradient => (Op::StopGradient, vec![f64t(&[2])]),
        Op::BroadcastInDim { .. } => {
            (Op::BroadcastInDim { shape: vec![3, 2, 2], dims: vec![1, 2] }, vec![f64t(&[2, 1])])
        }
        Op::Reshape { .. } => (Op::Reshape { shape: vec![3, 2] }, vec![f64t(&[2, 3])]),
        Op::Transpose { .. } => (Op::Transpose { perm: vec![1, 0] }, vec![f64t(&[2, 3])]),
        Op::Reduce { kind, .. } => (Op::Reduce { kind: *kind, axes: vec![1] }, vec![f64t(&[2, 3])]),
        Op::Slice { .. } => {
            (Op::Slice { start: vec![0, 1], limit: vec![2, 3], stride: vec![1, 2] }, vec![f64t(&[2, 3])])
        }
        Op::Pad { .. } => {
            (Op::Pad { low: vec![1, 0], high: vec![0, 2], interior: vec![1, 0] }, vec![f64t(&[2, 3]), f64t(&[])])
        }
        Op::Concatenate { .. } => (Op::Concatenate { axis: 1 }, vec![f64t(&[2, 3]), f64t(&[2, 1])]),
        Op::DotGeneral(_) => (
            Op::DotGeneral(DotDims {
                lhs_contract: vec![2],
                rhs_contract: vec![1],
                lhs_batch: vec![0],
                rhs_batch: vec![0],
            }),
            vec![f64t(&[2, 3, 4]), f64t(&[2, 4, 5])],
        ),
        Op::Take { .. } => (Op::Take { axis: 1 }, vec![f64t(&[2, 3]), TensorType::new(DType::I64, [4])]),
        Op::SegmentSum { .. } => {
            (Op::SegmentSum { num_segments: 3 }, vec![f64t(&[4, 2]), TensorType::new(DType::I32, [4])])
        }
        Op::Cholesky => (Op::Cholesky, vec![spd]),
        Op::TriangularSolve { .. } => (
            Op::TriangularSolve { left_side: false, lower: false, transpose_a: true, unit_diagonal: false },
            vec![spd, f64t(&[2, 3])],
        ),
    }
}

/// An operand of type `ty` made from the float parameter `p` (of the same
/// shape when float): indices are constants, bools are comparisons, and
/// matrices given to `cholesky` or as the triangle of `triangular_solve`
/// are positive definite.
fn operand<'t>(tr: &'t Tracer, op: &Op, i: usize, ty: &TensorType, p: Tensor<'t>) -> Tensor<'t> {
    match (op, i) {
        (Op::Take { .. }, 1) => tr.constant(&[2i64, 0, 2, 1]),
        (Op::SegmentSum { .. }, 1) => tr.constant(&[0i32, 2, 2, 1]),
        (Op::Cholesky | Op::TriangularSolve { .. }, 0) => {
            let (i, j) = (tr.iota(&f64t(&[3, 3]), 0), tr.iota(&f64t(&[3, 3]), 1));
            p.matmul(p.t()) + i.eq(j).select(i.scalar_like(3.0), i.scalar_like(0.0))
        }
        _ if ty.dtype == DType::Bool => p.gt(1.0),
        _ => p,
    }
}

/// A function of float parameters (one per operand) applying `kind`; its
/// first result is a scalar that depends on the op's result and on the
/// first parameter, its second the op's result (as a float).
fn example(kind: &Op) -> Func {
    let (op, types) = instance(kind);
    let tr = Tracer::new(op.name());
    let float_types: Vec<TensorType> =
        if types.is_empty() { vec![f64t(&[2])] } else { types.iter().map(|t| t.with_dtype(DType::F64)).collect() };
    let ps: Vec<Tensor<'_>> = float_types.iter().map(|t| tr.param(t.clone())).collect();
    let args: Vec<Tensor<'_>> = types.iter().enumerate().map(|(i, t)| operand(&tr, &op, i, t, ps[i])).collect();
    let out = tr.op(op.clone(), &args);
    let out = match out.dtype() {
        DType::F64 => out,
        DType::F32 => out.exp().convert(DType::F64),
        DType::Bool => out.select(ps[0], ps[0] * 2.0),
        DType::I32 | DType::I64 => out.convert(DType::F64),
    };
    let total = out.sum_all() * (ps[0].sum_all() + 1.0);
    let (total, out) = (total.value(), out.value());
    tr.finish_values(&[total, out]).unwrap_or_else(|e| panic!("example of {}: {e}", op.name()))
}

fn ok(what: &str, op: &Op, r: Result<Func, Error>) -> Func {
    let f = r.unwrap_or_else(|e| panic!("{what} of {}: {e}", op.name()));
    verify(&f).unwrap_or_else(|e| panic!("{what} of {} does not verify: {e}\n{f}", op.name()));
    f
}

#[test]
fn every_op_has_jvp_vjp_batching_and_derived_rules() {
    for kind in Op::every_kind() {
        let f = example(&kind);
        verify(&f).unwrap();
        ok("jvp", &kind, saddle_ad::jvp(&f));
        ok("vjp", &kind, saddle_ad::vjp(&f));
        ok("vmap", &kind, saddle_ad::vmap_leading(&f, 3));
        // Batch only parameter 0, along its last axis; results batched on
        // their last axis.
        let n = f.num_params();
        let in_axes: Vec<_> = (0..n).map(|k| (k == 0).then(|| f.param_types()[0].rank())).collect();
        let out_axes: Vec<_> = f.result_types().iter().map(|t| Some(t.rank())).collect();
        ok("vmap with axes", &kind, saddle_ad::vmap(&f, 2, &in_axes, &out_axes));
        for k in 0..n {
            ok("grad", &kind, saddle_ad::grad(&f, k));
            ok("hessian", &kind, saddle_ad::hessian(&f, k));
            ok("jacrev", &kind, saddle_ad::jacrev(&f, k));
            ok("hvp", &kind, saddle_ad::hvp(&f, k));
        }
        let l = saddle_ad::linearize(&f).unwrap_or_else(|e| panic!("linearize of {}: {e}", kind.name()));
        let num_linear = l.linear.num_params() - l.num_residuals;
        ok("transpose of the linearization", &kind, saddle_ad::transpose(&l.linear, num_linear));
    }
}

/// Whether `op` is linear in its first float operand when the other
/// operands of `add`, `sub`, `select`, `pad` and `concatenate` are zero
/// and the others are constants.
fn linear_in_first_float(op: &Op) -> bool {
    match op {
        Op::Unary(u) => matches!(u, Unary::Neg | Unary::IntegerPow { y: 1 }),
        Op::Binary(b) => matches!(b, Binary::Add | Binary::Sub | Binary::Mul | Binary::Div),
        Op::Reduce { kind, .. } => *kind == ReduceKind::Sum,
        Op::Const(_) | Op::Iota { .. } | Op::Compare(_) | Op::Cholesky => false,
        Op::Select
        | Op::Convert { .. }
        | Op::StopGradient
        | Op::BroadcastInDim { .. }
        | Op::Reshape { .. }
        | Op::Transpose { .. }
        | Op::Slice { .. }
        | Op::Pad { .. }
        | Op::Concatenate { .. }
        | Op::DotGeneral(_)
        | Op::Take { .. }
        | Op::SegmentSum { .. } => true,
        // Linear in b, the second operand.
        Op::TriangularSolve { .. } => true,
    }
}

/// Each op applied directly to a linear parameter: the ops linear in it
/// transpose, the others are refused as not linear.
#[test]
fn every_op_transposes_or_is_refused_as_not_linear() {
    for kind in Op::every_kind() {
        let (op, types) = instance(&kind);
        // The linear operand: the first float one (b for triangular_solve).
        let Some(lin) = types
            .iter()
            .enumerate()
            .position(|(i, t)| t.dtype.is_float() && !(matches!(op, Op::TriangularSolve { .. }) && i == 0))
        else {
            continue;
        };
        let zero_others =
            matches!(op, Op::Binary(Binary::Add | Binary::Sub) | Op::Select | Op::Pad { .. } | Op::Concatenate { .. });
        let tr = Tracer::new("linear");
        let known: Vec<Option<Tensor<'_>>> = types
            .iter()
            .enumerate()
            .map(|(i, t)| (i != lin && !zero_others).then(|| tr.param(t.with_dtype(DType::F64))))
            .collect();
        let x = tr.param(types[lin].clone());
        let args: Vec<Tensor<'_>> = types
            .iter()
            .enumerate()
            .map(|(i, t)| match known[i] {
                _ if i == lin => x,
                Some(p) => operand(&tr, &op, i, t, p),
                None if t.dtype == DType::Bool => tr.constant(&[true, false]),
                None if matches!(op, Op::Take { .. } | Op::SegmentSum { .. }) => operand(&tr, &op, i, t, x),
                None => tr.zeros(t),
            })
            .collect();
        let y = tr.op(op.clone(), &args);
        let y = if y.dtype().is_float() { y } else { y.convert(DType::F64) };
        let y = y.value();
        let g = tr.finish_values(&[y]).unwrap_or_else(|e| panic!("{}: {e}", op.name()));
        let r = saddle_ad::transpose(&g, 1);
        match (linear_in_first_float(&kind), r) {
            (true, Ok(t)) => {
                verify(&t).unwrap();
                assert_eq!(t.result_types(), vec![types[lin].clone()], "{}", op.name());
            }
            (false, Err(Error::NotLinear { .. })) => {}
            (true, Err(e)) => panic!("{} should transpose: {e}", op.name()),
            (false, Ok(t)) => panic!("{} is not linear but transposed:\n{t}", op.name()),
            (false, Err(e)) => panic!("{} should be refused as not linear, got: {e}", op.name()),
        }
    }
}

/// An affine function (a linear value plus a non-zero constant) is not
/// linear, and transposition says so.
#[test]
fn affine_functions_are_refused() {
    let f = saddle_ir::parse_func(
        "f.sir",
        "func @f(%x: f64[2]) -> f64[2] {\n  %c: f64[2] = const {value = 1.0}\n  %y = add %x, %c\n  return %y\n}",
    )
    .unwrap();
    let e = saddle_ad::transpose(&f, 1).unwrap_err();
    assert!(matches!(e, Error::NotLinear { op: "add", .. }), "{e}");
    let f =
        saddle_ir::parse_func("f.sir", "func @f(%x: f64[2]) -> f64[2] {\n  %y = mul %x, %x\n  return %y\n}").unwrap();
    assert!(matches!(saddle_ad::transpose(&f, 1).unwrap_err(), Error::NotLinear { op: "mul", .. }));
}
