//! Helpers of the AD semantic tests: evaluation, finite differences, and
//! one random instance of every op kind on random shapes.
#![allow(dead_code)]

pub mod checks;

use ndarray::{ArrayD, Axis, IxDyn};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use saddle::ir::op::{Binary, Compare, DotDims, ReduceKind, Unary};
use saddle::ir::{Array, DType, Func, Op, Tensor, TensorType, Tracer, verify};

/// Runs `f` with the reference evaluator.
pub fn eval(f: &Func, args: &[Array]) -> Vec<Array> {
    saddle::runtime::reference::eval(f, args).unwrap_or_else(|e| panic!("evaluating @{} failed: {e}\n{f}", f.name()))
}

/// `f` after checking it verifies.
pub fn verified(what: &str, r: Result<Func, saddle::ad::Error>) -> Func {
    let f = r.unwrap_or_else(|e| panic!("{what}: {e}"));
    verify(&f).unwrap_or_else(|e| panic!("{what} does not verify: {e}\n{f}"));
    f
}

/// `x + h·t` for float arrays of one type.
pub fn axpy(x: &Array, h: f64, t: &Array) -> Array {
    match (x, t) {
        (Array::F64(a), Array::F64(b)) => Array::F64(a + &(b * h)),
        (Array::F32(a), Array::F32(b)) => Array::F32(a + &(b * h as f32)),
        _ => panic!("axpy of {} and {}", x.ty(), t.ty()),
    }
}

/// The float arrays of `x` as one vector.
pub fn flat(xs: &[&Array]) -> Vec<f64> {
    xs.iter().flat_map(|a| a.to_f64_vec()).collect()
}

pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// A random array of `ty` with normal entries (floats) for tangents.
pub fn normal(ty: &TensorType, rng: &mut StdRng) -> Array {
    let n = ty.num_elements();
    let v: Vec<f64> = (0..n)
        .map(|_| {
            // Box-Muller.
            let (u1, u2): (f64, f64) = (rng.random_range(1e-12..1.0), rng.random_range(0.0..1.0));
            (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        })
        .collect();
    let a = ArrayD::from_shape_vec(IxDyn(&ty.shape), v).unwrap();
    match ty.dtype {
        DType::F64 => Array::F64(a),
        DType::F32 => Array::F32(a.mapv(|x| x as f32)),
        d => panic!("no normal draws of {d}"),
    }
}

/// Stacks equally typed arrays along a new leading axis.
pub fn stack(xs: &[Array]) -> Array {
    macro_rules! st {
        ($v:ident) => {{
            let views: Vec<_> = xs
                .iter()
                .map(|x| match x {
                    Array::$v(a) => a.view(),
                    _ => panic!("mixed dtypes"),
                })
                .collect();
            Array::$v(ndarray::stack(Axis(0), &views).unwrap())
        }};
    }
    match &xs[0] {
        Array::F64(_) => st!(F64),
        Array::F32(_) => st!(F32),
        Array::I64(_) => st!(I64),
        Array::I32(_) => st!(I32),
        Array::Bool(_) => st!(Bool),
    }
}

/// Element `i` along axis 0.
pub fn unstack(x: &Array, i: usize) -> Array {
    saddle::ir::with_array!(x, a => a.index_axis(Axis(0), i).to_owned().into())
}

/// Largest difference relative to `1 + max|b|` (one scale per array).
pub fn rel_err(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    let scale = 1.0 + b.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    a.iter().zip(b).fold(0.0f64, |m, (x, y)| {
        if x == y {
            m
        } else if x.is_nan() || y.is_nan() {
            f64::INFINITY
        } else {
            m.max((x - y).abs() / scale)
        }
    })
}

/// A random shape of rank `lo..=hi` with extents 1 to 4.
pub fn shape(rng: &mut StdRng, lo: usize, hi: usize) -> Vec<usize> {
    let r = rng.random_range(lo..=hi);
    (0..r).map(|_| rng.random_range(1..=4)).collect()
}

/// A constant of random values in [lo, hi).
pub fn const_uniform<'t>(tr: &'t Tracer, shape: &[usize], rng: &mut StdRng, lo: f64, hi: f64) -> Tensor<'t> {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n).map(|_| rng.random_range(lo..hi)).collect();
    tr.constant(ArrayD::from_shape_vec(IxDyn(shape), v).unwrap())
}

/// A constant of random signs (±1).
pub fn signs<'t>(tr: &'t Tracer, shape: &[usize], rng: &mut StdRng) -> Tensor<'t> {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n).map(|_| if rng.random_bool(0.5) { 1.0 } else { -1.0 }).collect();
    tr.constant(ArrayD::from_shape_vec(IxDyn(shape), v).unwrap())
}

/// Random integer indices in `0..bound`.
pub fn indices<'t>(tr: &'t Tracer, shape: &[usize], rng: &mut StdRng, bound: usize) -> Tensor<'t> {
    let n: usize = shape.iter().product();
    let v: Vec<i64> = (0..n).map(|_| rng.random_range(0..bound as i64)).collect();
    tr.constant(ArrayD::from_shape_vec(IxDyn(shape), v).unwrap())
}

/// A random permutation of `0..n`.
pub fn permutation(rng: &mut StdRng, n: usize) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        p.swap(i, rng.random_range(0..=i));
    }
    p
}

/// How finite differences see an example: the step and the tolerance.
#[derive(Clone, Copy, Debug)]
pub struct Fd {
    /// The step of central differences.
    pub h: f64,
    /// The tolerance of finite-difference comparisons.
    pub tol: f64,
    /// The tolerance of identities exact in real arithmetic (VJP by the
    /// inner-product identity, symmetry of the Hessian): loose where the
    /// function computes in f32.
    pub exact: f64,
}

impl Default for Fd {
    fn default() -> Fd {
        Fd { h: 1e-5, tol: 1e-6, exact: 1e-11 }
    }
}

/// One op on random shapes: a function of f64 parameters (values drawn in
/// [0.5, 2]) whose first result is a weighted sum of the op's result and
/// whose second result is the op's result itself (as f64).
pub struct Example {
    pub func: Func,
    pub fd: Fd,
    /// The function's derivative is zero by design (`stop_gradient`).
    pub zero_derivative: bool,
}

/// A random instance of the op kind `kind`, drawn from `seed`.
pub fn example(kind: &Op, seed: u64) -> Example {
    let mut rng = StdRng::seed_from_u64(seed);
    let rng = &mut rng;
    let tr = Tracer::new(kind.name());
    let mut fd = Fd::default();
    let mut zero_derivative = false;
    let p = |tr: &'_ Tracer, shape: &[usize]| -> TensorType {
        let _ = tr;
        TensorType::f64(shape)
    };
    let out: Tensor<'_> = match kind {
        Op::Const(_) => {
            let s = shape(rng, 0, 2);
            let x = tr.param(p(&tr, &s));
            const_uniform(&tr, &s, rng, -1.0, 1.0) * x
        }
        Op::Iota { .. } => {
            let s = shape(rng, 1, 3);
            let x = tr.param(p(&tr, &s));
            let dim = rng.random_range(0..s.len());
            tr.iota(&TensorType::f64(s.clone()), dim) * x
        }
        Op::Unary(u) => {
            let s = shape(rng, 0, 3);
            let x = tr.param(p(&tr, &s));
            let positive = matches!(
                u,
                Unary::Log
                    | Unary::Log1p
                    | Unary::Sqrt
                    | Unary::Rsqrt
                    | Unary::Lgamma
                    | Unary::Digamma
                    | Unary::Polygamma { .. }
            );
            let xs = if positive { x } else { x * signs(&tr, &s, rng) };
            match u {
                Unary::Not => tr.op(Op::Unary(Unary::Not), &[x.gt(1.25)]).select(x, x * x),
                Unary::Polygamma { .. } => tr.op(Op::Unary(Unary::Polygamma { n: rng.random_range(1..=3) }), &[xs]),
                Unary::IntegerPow { .. } => xs.powi(rng.random_range(-3..=4)),
                Unary::Sign => xs.sign() * x,
                u => tr.op(Op::Unary(*u), &[xs]),
            }
        }
        Op::Binary(b) => {
            let s = shape(rng, 0, 3);
            let (x, y) = (tr.param(p(&tr, &s)), tr.param(p(&tr, &s)));
            match b {
                Binary::And | Binary::Or => {
                    let m = tr.op(Op::Binary(*b), &[x.gt(1.25), y.lt(1.25)]);
                    m.select(x * y, x - y)
                }
                Binary::Pow => x.pow(y * signs(&tr, &s, rng)),
                b => tr.op(Op::Binary(*b), &[x * signs(&tr, &s, rng), y * signs(&tr, &s, rng)]),
            }
        }
        Op::Compare(c) => {
            let s = shape(rng, 0, 3);
            let (x, y) = (tr.param(p(&tr, &s)), tr.param(p(&tr, &s)));
            let _ = Compare::Eq;
            x.binary_op(Op::Compare(*c), y).select(x * y, x + y)
        }
        Op::Select => {
            let s = shape(rng, 0, 3);
            let (x, y) = (tr.param(p(&tr, &s)), tr.param(p(&tr, &s)));
            let pred = const_uniform(&tr, &s, rng, 0.0, 1.0).gt(0.5);
            pred.select(x.exp(), y * x)
        }
        Op::Convert { .. } => {
            // Through f32 and back: linear, so a large step is exact up to
            // f32 rounding.
            fd = Fd { h: 0.25, tol: 1e-5, exact: 1e-6 };
            let s = shape(rng, 0, 3);
            let x = tr.param(p(&tr, &s));
            (x * 3.0).convert(DType::F32).convert(DType::F64)
        }
        Op::StopGradient => {
            zero_derivative = true;
            let s = shape(rng, 0, 3);
            let x = tr.param(p(&tr, &s));
            x.exp().stop_gradient()
        }
        Op::BroadcastInDim { .. } => {
            let out_shape = shape(rng, 1, 4);
            let r = rng.random_range(0..=out_shape.len());
            let mut dims: Vec<usize> = permutation(rng, out_shape.len())[..r].to_vec();
            dims.sort_unstable();
            let in_shape: Vec<usize> =
                dims.iter().map(|&d| if rng.random_bool(0.3) { 1 } else { out_shape[d] }).collect();
            let x = tr.param(p(&tr, &in_shape));
            x.broadcast_in_dim(&out_shape, &dims)
        }
        Op::Reshape { .. } => {
            let s = shape(rng, 0, 3);
            let x = tr.param(p(&tr, &s));
            let n: usize = s.iter().product();
            let mut out = Vec::new();
            let mut left = n;
            for d in 2..=n {
                while left % d == 0 && rng.random_bool(0.6) {
                    out.push(d);
                    left /= d;
                }
            }
            if left > 1 {
                out.push(left);
            }
            if rng.random_bool(0.3) {
                out.insert(0, 1);
            }
            x.reshape(&out)
        }
        Op::Transpose { .. } => {
            let s = shape(rng, 0, 4);
            let x = tr.param(p(&tr, &s));
            x.transpose(&permutation(rng, s.len()))
        }
        Op::Reduce { kind, .. } => {
            let s = shape(rng, 0, 3);
            let x = tr.param(p(&tr, &s));
            let axes: Vec<usize> = (0..s.len()).filter(|_| rng.random_bool(0.5)).collect();
            let xs = x * signs(&tr, &s, rng);
            match kind {
                ReduceKind::Sum => xs.sum(&axes),
                ReduceKind::Max => xs.reduce_max(&axes),
                ReduceKind::Min => xs.reduce_min(&axes),
            }
        }
        Op::Slice { .. } => {
            let s = shape(rng, 1, 3);
            let x = tr.param(p(&tr, &s));
            let start: Vec<usize> = s.iter().map(|&e| rng.random_range(0..e)).collect();
            let limit: Vec<usize> = s.iter().zip(&start).map(|(&e, &b)| rng.random_range(b + 1..=e)).collect();
            let stride: Vec<usize> = s.iter().map(|_| rng.random_range(1..=3)).collect();
            x.slice_strided(&start, &limit, &stride)
        }
        Op::Pad { .. } => {
            let s = shape(rng, 0, 3);
            let x = tr.param(p(&tr, &s));
            let v = tr.param(p(&tr, &[]));
            let mut r = || s.iter().map(|_| rng.random_range(0..=2)).collect::<Vec<usize>>();
            let (low, high, interior) = (r(), r(), r());
            tr.op(Op::Pad { low, high, interior }, &[x, v])
        }
        Op::Concatenate { .. } => {
            let s = shape(rng, 1, 3);
            let axis = rng.random_range(0..s.len());
            let k = rng.random_range(1..=3);
            let parts: Vec<Tensor<'_>> = (0..k)
                .map(|_| {
                    let mut ps = s.clone();
                    ps[axis] = rng.random_range(1..=3);
                    tr.param(p(&tr, &ps))
                })
                .collect();
            tr.concatenate(&parts, axis)
        }
        Op::DotGeneral(_) => {
            let nb = rng.random_range(0..=1);
            let nc = rng.random_range(0..=2);
            let (fl, fr) = (rng.random_range(0..=2), rng.random_range(0..=1));
            let ext = |rng: &mut StdRng, n: usize| (0..n).map(|_| rng.random_range(1..=3)).collect::<Vec<usize>>();
            let (b, c, l, r) = (ext(rng, nb), ext(rng, nc), ext(rng, fl), ext(rng, fr));
            // Logical axes [batch, contract, free] placed at random positions.
            let lperm = permutation(rng, nb + nc + fl);
            let rperm = permutation(rng, nb + nc + fr);
            let place = |perm: &[usize], exts: &[usize]| {
                let mut shape = vec![0; perm.len()];
                for (logical, &pos) in perm.iter().enumerate() {
                    shape[pos] = exts[logical];
                }
                shape
            };
            let lexts: Vec<usize> = [b.clone(), c.clone(), l].concat();
            let rexts: Vec<usize> = [b, c, r].concat();
            let x = tr.param(p(&tr, &place(&lperm, &lexts)));
            let y = tr.param(p(&tr, &place(&rperm, &rexts)));
            let dims = DotDims {
                lhs_batch: lperm[..nb].to_vec(),
                rhs_batch: rperm[..nb].to_vec(),
                lhs_contract: lperm[nb..nb + nc].to_vec(),
                rhs_contract: rperm[nb..nb + nc].to_vec(),
            };
            x.dot_general(y, dims)
        }
        Op::Take { .. } => {
            let s = shape(rng, 1, 3);
            let x = tr.param(p(&tr, &s));
            let axis = rng.random_range(0..s.len());
            let idx_shape = shape(rng, 0, 2);
            let idx = indices(&tr, &idx_shape, rng, s[axis]);
            let idx = if rng.random_bool(0.5) { idx.convert(DType::I32) } else { idx };
            x.take(idx, axis)
        }
        Op::SegmentSum { .. } => {
            let s = shape(rng, 1, 3);
            let x = tr.param(p(&tr, &s));
            let segments = rng.random_range(1..=4);
            let idx = indices(&tr, &[s[0]], rng, segments);
            x.segment_sum(idx, segments)
        }
        Op::Cholesky => {
            let n = rng.random_range(1..=4);
            let batch = shape(rng, 0, 1);
            let a = tr.param(p(&tr, &[batch.clone(), vec![n, n]].concat()));
            spd(&tr, a, &batch, n).cholesky()
        }
        Op::TriangularSolve { .. } => {
            let n = rng.random_range(1..=4);
            let k = rng.random_range(1..=3);
            let batch = shape(rng, 0, 1);
            let (left_side, lower, transpose_a, unit_diagonal) =
                (rng.random_bool(0.5), rng.random_bool(0.5), rng.random_bool(0.5), rng.random_bool(0.5));
            let a = tr.param(p(&tr, &[batch.clone(), vec![n, n]].concat()));
            let b_shape = [batch.clone(), if left_side { vec![n, k] } else { vec![k, n] }].concat();
            let b = tr.param(p(&tr, &b_shape));
            // A well-conditioned triangle: a dominant diagonal.
            let a = a + diagonal(&tr, &batch, n, 2.0 * n as f64);
            a.triangular_solve(b, left_side, lower, transpose_a, unit_diagonal)
        }
    };
    let out = if out.dtype() == DType::F64 { out } else { out.convert(DType::F64) };
    let w = const_uniform(&tr, &out.shape(), rng, -1.0, 1.0);
    let total = (out * w).sum_all();
    let (total, out) = (total.value(), out.value());
    let func = tr.finish_values(&[total, out]).unwrap_or_else(|e| panic!("example of {}: {e}", kind.name()));
    verify(&func).unwrap();
    Example { func, fd, zero_derivative }
}

/// `c` on the diagonal of `batch ++ [n, n]`.
pub fn diagonal<'t>(tr: &'t Tracer, batch: &[usize], n: usize, c: f64) -> Tensor<'t> {
    let ty = TensorType::f64([batch.to_vec(), vec![n, n]].concat());
    let r = ty.rank();
    let (i, j) = (tr.iota(&ty, r - 2), tr.iota(&ty, r - 1));
    i.eq(j).select(i.scalar_like(c), i.scalar_like(0.0))
}

/// `a·aᵀ + n·I`: symmetric positive definite.
pub fn spd<'t>(tr: &'t Tracer, a: Tensor<'t>, batch: &[usize], n: usize) -> Tensor<'t> {
    a.matmul(a.t()) + diagonal(tr, batch, n, n as f64)
}
