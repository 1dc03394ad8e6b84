//! Every op of the IR, compiled, against the reference evaluator on random
//! shapes and values, for every dtype the op takes; fused and unfused
//! plans against each other, bit for bit.

use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use saddle_ir::op::{Binary, Compare, DotDims, ReduceKind, Unary};
use saddle_ir::{Array, DType, Func, FuncBuilder, Literal, Op, Scalar, TensorType, Value};
use saddle_runtime::isa::{self, Isa};
use saddle_runtime::{CompileOptions, compile, compile_with, reference};

fn random_array(ty: &TensorType, rng: &mut StdRng, lo: f64, hi: f64) -> Array {
    let dim = IxDyn(&ty.shape);
    let n = ty.num_elements();
    match ty.dtype {
        DType::F64 => {
            Array::F64(ArrayD::from_shape_vec(dim, (0..n).map(|_| rng.random_range(lo..hi)).collect()).unwrap())
        }
        DType::F32 => {
            Array::F32(ArrayD::from_shape_vec(dim, (0..n).map(|_| rng.random_range(lo..hi) as f32).collect()).unwrap())
        }
        DType::I32 => Array::I32(
            ArrayD::from_shape_vec(dim, (0..n).map(|_| rng.random_range(lo as i32..hi as i32 + 1)).collect()).unwrap(),
        ),
        DType::I64 => Array::I64(
            ArrayD::from_shape_vec(dim, (0..n).map(|_| rng.random_range(lo as i64..hi as i64 + 1)).collect()).unwrap(),
        ),
        DType::Bool => {
            Array::Bool(ArrayD::from_shape_vec(dim, (0..n).map(|_| rng.random_bool(0.5)).collect()).unwrap())
        }
    }
}

/// A function applying `op` to fresh parameters of `types`, and inputs.
fn single(op: Op, types: &[TensorType], inputs: Vec<Array>) -> Option<(Func, Vec<Array>)> {
    let mut b = FuncBuilder::new("f");
    let ps: Vec<Value> = types.iter().map(|t| b.param(t.clone()).unwrap()).collect();
    let y = b.push(op, &ps).ok()?;
    Some((b.finish(&[y]).unwrap(), inputs))
}

fn shape_strategy(max_rank: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0usize..5, 0..=max_rank)
}

fn unary_ops() -> Vec<Unary> {
    let mut v: Vec<Unary> = Unary::ALL.to_vec();
    v.extend([
        Unary::Polygamma { n: 2 },
        Unary::Polygamma { n: 3 },
        Unary::IntegerPow { y: -3 },
        Unary::IntegerPow { y: 0 },
        Unary::IntegerPow { y: 5 },
    ]);
    v
}

/// Builds a random instance of op family `which` of dtype `dtype`.
fn build(which: usize, dtype: DType, shape: &[usize], seed: u64) -> Option<(Func, Vec<Array>)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let ty = TensorType::new(dtype, shape);
    let rank = shape.len();
    let x = random_array(&ty, &mut rng, -4.0, 4.0);
    match which {
        0 => {
            let ops = unary_ops();
            let u = ops[rng.random_range(0..ops.len())];
            let x = if dtype == DType::Bool { random_array(&ty, &mut rng, 0.0, 1.0) } else { x };
            single(Op::Unary(u), &[ty], vec![x])
        }
        1 => {
            let bop = Binary::ALL[rng.random_range(0..Binary::ALL.len())];
            let y = random_array(&ty, &mut rng, -4.0, 4.0);
            single(Op::Binary(bop), &[ty.clone(), ty], vec![x, y])
        }
        2 => {
            let c = Compare::ALL[rng.random_range(0..Compare::ALL.len())];
            // Equal elements sometimes, so that eq/le see ties.
            let y = if rng.random_bool(0.3) { x.clone() } else { random_array(&ty, &mut rng, -4.0, 4.0) };
            single(Op::Compare(c), &[ty.clone(), ty], vec![x, y])
        }
        3 => {
            let pt = ty.with_dtype(DType::Bool);
            let p = random_array(&pt, &mut rng, 0.0, 1.0);
            let y = random_array(&ty, &mut rng, -4.0, 4.0);
            single(Op::Select, &[pt, ty.clone(), ty], vec![p, x, y])
        }
        4 => {
            let to = DType::ALL[rng.random_range(0..5)];
            let x = if dtype.is_float() && rng.random_bool(0.2) { random_array(&ty, &mut rng, -1e12, 1e12) } else { x };
            single(Op::Convert { dtype: to }, &[ty], vec![x])
        }
        5 => single(Op::StopGradient, &[ty], vec![x]),
        6 => {
            // broadcast_in_dim into a larger rank
            let extra = rng.random_range(0..3);
            let mut out = Vec::new();
            let mut dims = Vec::new();
            let mut i = 0;
            while i < rank || out.len() < rank + extra {
                if i < rank && (out.len() + (rank - i) >= rank + extra || rng.random_bool(0.5)) {
                    dims.push(out.len());
                    out.push(if shape[i] == 1 { rng.random_range(1..4) } else { shape[i] });
                    i += 1;
                } else {
                    out.push(rng.random_range(1..4));
                }
            }
            single(Op::BroadcastInDim { shape: out, dims }, &[ty], vec![x])
        }
        7 => {
            let n = ty.num_elements();
            let new = if n > 0 && n.is_multiple_of(2) { vec![2, n / 2] } else { vec![n] };
            single(Op::Reshape { shape: new }, &[ty], vec![x])
        }
        8 => {
            let mut perm: Vec<usize> = (0..rank).collect();
            for i in (1..rank).rev() {
                perm.swap(i, rng.random_range(0..=i));
            }
            single(Op::Transpose { perm }, &[ty], vec![x])
        }
        9 => {
            if dtype == DType::Bool {
                return None;
            }
            let kind = ReduceKind::ALL[rng.random_range(0..3)];
            let axes: Vec<usize> = (0..rank).filter(|_| rng.random_bool(0.5)).collect();
            single(Op::Reduce { kind, axes }, &[ty], vec![x])
        }
        10 => {
            let mut start = vec![];
            let mut limit = vec![];
            let mut stride = vec![];
            for &d in shape {
                let s = rng.random_range(0..=d);
                start.push(s);
                limit.push(rng.random_range(s..=d));
                stride.push(rng.random_range(1..4));
            }
            single(Op::Slice { start, limit, stride }, &[ty], vec![x])
        }
        11 => {
            let low = (0..rank).map(|_| rng.random_range(0..3)).collect();
            let high = (0..rank).map(|_| rng.random_range(0..3)).collect();
            let interior = (0..rank).map(|_| rng.random_range(0..3)).collect();
            let st = TensorType::scalar(dtype);
            let v = random_array(&st, &mut rng, -4.0, 4.0);
            single(Op::Pad { low, high, interior }, &[ty, st], vec![x, v])
        }
        12 => {
            if rank == 0 {
                return None;
            }
            let axis = rng.random_range(0..rank);
            let mut types = vec![ty.clone()];
            let mut inputs = vec![x];
            for _ in 0..rng.random_range(0..3) {
                let mut s = shape.to_vec();
                s[axis] = rng.random_range(0..4);
                let t = TensorType::new(dtype, s);
                inputs.push(random_array(&t, &mut rng, -4.0, 4.0));
                types.push(t);
            }
            single(Op::Concatenate { axis }, &types, inputs)
        }
        13 => {
            if dtype == DType::Bool {
                return None;
            }
            // dot_general: random batch, free and contracting axes, in random
            // positions of each operand.
            let nb = rng.random_range(0..2);
            let nc = rng.random_range(0..3);
            let (nl, nr) = (rng.random_range(0..2), rng.random_range(0..2));
            let ext = |rng: &mut StdRng| rng.random_range(1..5);
            let batch: Vec<usize> = (0..nb).map(|_| ext(&mut rng)).collect();
            let contract: Vec<usize> = (0..nc).map(|_| ext(&mut rng)).collect();
            let place = |rng: &mut StdRng, groups: &[(usize, usize)]| -> (Vec<usize>, Vec<(usize, usize)>) {
                // groups: (tag, extent); returns shape and (tag, position)
                let mut order: Vec<usize> = (0..groups.len()).collect();
                for i in (1..order.len()).rev() {
                    order.swap(i, rng.random_range(0..=i));
                }
                let shape = order.iter().map(|&k| groups[k].1).collect();
                let pos = order.iter().enumerate().map(|(p, &k)| (groups[k].0, p)).collect();
                (shape, pos)
            };
            let mut lg = vec![];
            let mut rg = vec![];
            for (i, &e) in batch.iter().enumerate() {
                lg.push((i, e));
                rg.push((i, e));
            }
            for (i, &e) in contract.iter().enumerate() {
                lg.push((10 + i, e));
                rg.push((10 + i, e));
            }
            for i in 0..nl {
                lg.push((20 + i, ext(&mut rng)));
            }
            for i in 0..nr {
                rg.push((30 + i, ext(&mut rng)));
            }
            let (ls, lp) = place(&mut rng, &lg);
            let (rs, rp) = place(&mut rng, &rg);
            let find = |p: &[(usize, usize)], tag: usize| p.iter().find(|(t, _)| *t == tag).unwrap().1;
            let d = DotDims {
                lhs_batch: (0..nb).map(|i| find(&lp, i)).collect(),
                rhs_batch: (0..nb).map(|i| find(&rp, i)).collect(),
                lhs_contract: (0..nc).map(|i| find(&lp, 10 + i)).collect(),
                rhs_contract: (0..nc).map(|i| find(&rp, 10 + i)).collect(),
            };
            let (lt, rt) = (TensorType::new(dtype, ls), TensorType::new(dtype, rs));
            let (l, r) = (random_array(&lt, &mut rng, -4.0, 4.0), random_array(&rt, &mut rng, -4.0, 4.0));
            single(Op::DotGeneral(d), &[lt, rt], vec![l, r])
        }
        14 => {
            if rank == 0 || shape.contains(&0) {
                return None;
            }
            let axis = rng.random_range(0..rank);
            let idt = if rng.random_bool(0.5) { DType::I32 } else { DType::I64 };
            let it =
                TensorType::new(idt, &vec![rng.random_range(0..4), rng.random_range(1..3)][..rng.random_range(0..3)]);
            let idx = random_array(&it, &mut rng, 0.0, (shape[axis] - 1) as f64);
            single(Op::Take { axis }, &[ty, it], vec![x, idx])
        }
        15 => {
            if rank == 0 || dtype == DType::Bool {
                return None;
            }
            let segments = rng.random_range(1..5);
            let idt = if rng.random_bool(0.5) { DType::I32 } else { DType::I64 };
            let it = TensorType::new(idt, vec![shape[0]]);
            let idx = random_array(&it, &mut rng, 0.0, (segments - 1) as f64);
            single(Op::SegmentSum { num_segments: segments }, &[ty, it], vec![x, idx])
        }
        16 | 17 => {
            if !dtype.is_float() {
                return None;
            }
            // Batched square matrices: SPD for cholesky, well-conditioned
            // triangles for triangular_solve.
            let n = rng.random_range(0..6);
            let batch: Vec<usize> = shape.iter().take(1).copied().collect();
            let mut s = batch.clone();
            s.extend([n, n]);
            let at = TensorType::new(dtype, s.clone());
            let base = random_array(&at, &mut rng, -1.0, 1.0).to_f64_vec();
            let count = at.num_elements() / (n * n).max(1);
            let mut a = vec![0.0; at.num_elements()];
            for b in 0..count {
                for i in 0..n {
                    for j in 0..n {
                        let mut v = if i == j { n as f64 + 1.0 } else { 0.0 };
                        for k in 0..n {
                            v += base[b * n * n + i * n + k] * base[b * n * n + j * n + k];
                        }
                        a[b * n * n + i * n + j] = v;
                    }
                }
            }
            let a = Array::F64(ArrayD::from_shape_vec(IxDyn(&s), a).unwrap());
            let a = if dtype == DType::F32 { Array::F32(a.as_f64().unwrap().mapv(|v| v as f32)) } else { a };
            if which == 16 {
                return single(Op::Cholesky, &[at], vec![a]);
            }
            let left = rng.random_bool(0.5);
            let k = rng.random_range(0..4);
            let mut bs = batch;
            bs.extend(if left { [n, k] } else { [k, n] });
            let bt = TensorType::new(dtype, bs);
            let bv = random_array(&bt, &mut rng, -4.0, 4.0);
            let op = Op::TriangularSolve {
                left_side: left,
                lower: rng.random_bool(0.5),
                transpose_a: rng.random_bool(0.5),
                unit_diagonal: rng.random_bool(0.3),
            };
            single(op, &[at, bt], vec![a, bv])
        }
        18 => {
            if rank == 0 || dtype == DType::Bool {
                return None;
            }
            let mut b = FuncBuilder::new("f");
            let p = b.param(ty.clone()).unwrap();
            let io = b.push(Op::Iota { dim: rng.random_range(0..rank), ty: ty.clone() }, &[]).unwrap();
            let dense = b.constant(Literal::dense(random_array(&ty, &mut rng, -4.0, 4.0)));
            let s1 = b.push(Op::Binary(Binary::Add), &[p, io]).unwrap();
            let s2 = b.push(Op::Binary(Binary::Mul), &[s1, dense]).unwrap();
            Some((b.finish(&[s2, io, dense]).unwrap(), vec![x]))
        }
        _ => None,
    }
}

const FAMILIES: usize = 19;

/// Whether `a` and `b` have the same type and the same bits in every
/// element, a NaN matching any NaN. Where an op combines two NaNs, x86
/// returns the first operand's, and a vectorised loop may order the
/// operands of a commutative op otherwise than the reference's scalar code
/// (IEEE 754 leaves a NaN's sign and payload to the implementation), so
/// only the fact of a NaN is compared.
fn same_bits(a: &Array, b: &Array) -> bool {
    let nan = |s: &Scalar| match s {
        Scalar::F32(x) => x.is_nan(),
        Scalar::F64(x) => x.is_nan(),
        Scalar::I32(_) | Scalar::I64(_) | Scalar::Bool(_) => false,
    };
    a.ty() == b.ty() && a.scalars().iter().zip(b.scalars()).all(|(x, y)| x == &y || (nan(x) && nan(&y)))
}

/// Compiled (fused with buffer reuse, and unfused) against the reference,
/// bit for bit (NaNs as in [`same_bits`]). The simplifier is off: it may
/// re-associate sums (its own tests check its values to a tolerance).
fn check_against_reference(f: &Func, inputs: &[Array]) -> Result<(), TestCaseError> {
    let want = reference::eval(f, inputs);
    let fused = CompileOptions { simplify: false, ..CompileOptions::default() };
    for opts in [fused, CompileOptions::unfused()] {
        let exe = compile_with(f, &opts).map_err(|e| TestCaseError::fail(format!("compile: {e}")))?;
        let got = exe.run(inputs);
        match (&want, &got) {
            (Ok(w), Ok(g)) => {
                for (a, b) in w.iter().zip(g) {
                    prop_assert!(same_bits(a, b), "{}\nreference {:?}\ncompiled {:?}", saddle_ir::print_func(f), a, b);
                }
            }
            (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
            _ => prop_assert!(false, "{}\nreference {:?}\ncompiled {:?}", saddle_ir::print_func(f), want, got),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Every op family, every dtype, random shapes: the compiled plan gives
    /// the reference's bits (small linear algebra runs the same loops).
    #[test]
    fn every_op_matches_reference(which in 0..FAMILIES, d in 0usize..5, shape in shape_strategy(3), seed in any::<u64>()) {
        let dtype = DType::ALL[d];
        if let Some((f, inputs)) = build(which, dtype, &shape, seed) {
            check_against_reference(&f, &inputs)?;
        }
    }
}

/// Random elementwise chains over one shape, with scalar broadcasts and
/// splat constants mixed in.
fn chain(seed: u64, n: usize, len: usize, dtype: DType) -> (Func, Vec<Array>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let ty = TensorType::new(dtype, vec![n]);
    let mut b = FuncBuilder::new("chain");
    let x = b.param(ty.clone()).unwrap();
    let y = b.param(ty.clone()).unwrap();
    let s = b.param(TensorType::scalar(dtype)).unwrap();
    let sb = b.push(Op::BroadcastInDim { shape: vec![n], dims: vec![] }, &[s]).unwrap();
    let c = b.constant(Literal::splat(saddle_ir::Scalar::from_f64(dtype, 0.75), vec![n]));
    let mut vals = vec![x, y, sb, c];
    let unary =
        [Unary::Exp, Unary::Log1p, Unary::Logistic, Unary::Tanh, Unary::Neg, Unary::Abs, Unary::Sqrt, Unary::Log];
    let binary = [Binary::Add, Binary::Sub, Binary::Mul, Binary::Div, Binary::Max, Binary::Min];
    for _ in 0..len {
        let pick = |rng: &mut StdRng, vals: &[Value]| vals[rng.random_range(0..vals.len())];
        let v = match rng.random_range(0..4) {
            0 => b.push(Op::Unary(unary[rng.random_range(0..unary.len())]), &[pick(&mut rng, &vals)]).unwrap(),
            1 => {
                let p = b.push(Op::Compare(Compare::Lt), &[pick(&mut rng, &vals), pick(&mut rng, &vals)]).unwrap();
                b.push(Op::Select, &[p, pick(&mut rng, &vals), pick(&mut rng, &vals)]).unwrap()
            }
            _ => {
                let (p, q) = (pick(&mut rng, &vals), pick(&mut rng, &vals));
                b.push(Op::Binary(binary[rng.random_range(0..binary.len())]), &[p, q]).unwrap()
            }
        };
        vals.push(v);
    }
    let k = vals.len();
    let total = b.push(Op::Reduce { kind: ReduceKind::Sum, axes: vec![0] }, &[vals[k - 1]]).unwrap();
    let f = b.finish(&[vals[k - 1], total, vals[k / 2]]).unwrap();
    let inputs = vec![
        random_array(&ty, &mut rng, -3.0, 3.0),
        random_array(&ty, &mut rng, -3.0, 3.0),
        random_array(&TensorType::scalar(dtype), &mut rng, -3.0, 3.0),
    ];
    (f, inputs)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Fusion and buffer reuse do not change a single bit.
    #[test]
    fn fusion_and_buffer_reuse_are_bit_exact(seed in any::<u64>(), n in 1usize..2000, len in 1usize..30, f32s in any::<bool>()) {
        let dtype = if f32s { DType::F32 } else { DType::F64 };
        let (f, inputs) = chain(seed, n, len, dtype);
        check_against_reference(&f, &inputs)?;
        let exe = compile_with(&f, &CompileOptions { simplify: false, ..CompileOptions::default() }).unwrap();
        prop_assert!(exe.num_steps() <= 3, "one fused loop and a reduction expected, found {} steps", exe.num_steps());
    }
}

#[test]
fn large_arrays_take_the_parallel_paths_bit_exactly() {
    // Above the threshold at which fused loops and sums split over threads.
    for (seed, n) in [(1, 300_001), (2, 1 << 18)] {
        let (f, inputs) = chain(seed, n, 12, DType::F64);
        check_against_reference(&f, &inputs).unwrap();
    }
    // A standalone unary op runs from its input buffer straight into its
    // output, over threads.
    standalone_unary_ops(300_001, 4);
    // Reductions of rows, columns and everything, over threads.
    let mut rng = StdRng::seed_from_u64(3);
    let ty = TensorType::f64([300, 700]);
    let x = random_array(&ty, &mut rng, -1.0, 1.0);
    for axes in [vec![0], vec![1], vec![0, 1]] {
        for kind in ReduceKind::ALL {
            let (f, inputs) =
                single(Op::Reduce { kind, axes: axes.clone() }, std::slice::from_ref(&ty), vec![x.clone()]).unwrap();
            check_against_reference(&f, &inputs).unwrap();
        }
    }
}

/// Standalone unary ops over `n` elements whose arguments include the slow
/// path's (beyond ±704, infinities, NaN, underflow to zero) scattered
/// through the array, against the reference.
fn standalone_unary_ops(n: usize, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    for dtype in [DType::F64, DType::F32] {
        let ty = TensorType::new(dtype, vec![n]);
        let mut x: Vec<f64> = (0..n).map(|_| rng.random_range(-30.0..30.0)).collect();
        let specials = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 750.0, -750.0, 710.0, -745.5, -745.13, -720.0];
        for (k, v) in specials.iter().enumerate() {
            x[k * (n / specials.len()) + 7] = *v;
        }
        let input = match dtype {
            DType::F32 => {
                Array::F32(ArrayD::from_shape_vec(IxDyn(&[n]), x.iter().map(|&v| v as f32).collect()).unwrap())
            }
            _ => Array::F64(ArrayD::from_shape_vec(IxDyn(&[n]), x.clone()).unwrap()),
        };
        for u in [Unary::Exp, Unary::Logistic, Unary::Tanh, Unary::Neg] {
            let (f, inputs) = single(Op::Unary(u), std::slice::from_ref(&ty), vec![input.clone()]).unwrap();
            check_against_reference(&f, &inputs).unwrap();
        }
    }
}

/// Puts the widest instruction sets back when a test ends, passing or not.
struct WidestAgain;

impl Drop for WidestAgain {
    fn drop(&mut self) {
        isa::limit(Isa::Widest);
    }
}

/// The AVX-512, AVX2 and baseline builds of the kernels each give the
/// reference's bits (on a CPU without some of them, the cap changes
/// nothing). The cap is process-wide, so tests running alongside this one
/// meet every build too, which is what they should tolerate.
#[test]
fn every_instruction_set_gives_the_reference_bits() {
    let _restore = WidestAgain;
    for level in [Isa::Widest, Isa::Avx2, Isa::Baseline] {
        isa::limit(level);
        for seed in 0..40u64 {
            let dtype = if seed % 2 == 0 { DType::F64 } else { DType::F32 };
            let n = [1, 7, 16, 100, 513, 1999][seed as usize % 6];
            let (f, inputs) = chain(seed, n, 20, dtype);
            check_against_reference(&f, &inputs).unwrap_or_else(|e| panic!("{level:?}: {e}"));
        }
        standalone_unary_ops(5_003, 9);
    }
}

fn max_rel(a: &Array, b: &Array) -> f64 {
    a.to_f64_vec().iter().zip(b.to_f64_vec()).map(|(x, y)| (x - y).abs() / y.abs().max(1.0)).fold(0.0, f64::max)
}

#[test]
fn large_linear_algebra_matches_reference() {
    let mut rng = StdRng::seed_from_u64(4);
    // XᵀWX shapes: contract over the long axis of X.
    let xt = TensorType::f64([2000, 30]);
    let x = random_array(&xt, &mut rng, -1.0, 1.0);
    let w = random_array(&xt, &mut rng, 0.0, 1.0);
    let d = DotDims { lhs_contract: vec![0], rhs_contract: vec![0], ..DotDims::default() };
    let (f, inputs) = single(Op::DotGeneral(d), &[xt.clone(), xt.clone()], vec![x.clone(), w]).unwrap();
    let got = compile(&f).unwrap().run(&inputs).unwrap();
    let want = reference::eval(&f, &inputs).unwrap();
    assert!(max_rel(&got[0], &want[0]) < 1e-12);
    // Batched gemm with batch axes in the middle.
    let lt = TensorType::f64([40, 6, 50]);
    let rt = TensorType::f64([50, 6, 45]);
    let d = DotDims { lhs_contract: vec![2], rhs_contract: vec![0], lhs_batch: vec![1], rhs_batch: vec![1] };
    let (l, r) = (random_array(&lt, &mut rng, -1.0, 1.0), random_array(&rt, &mut rng, -1.0, 1.0));
    let (f, inputs) = single(Op::DotGeneral(d), &[lt, rt], vec![l, r]).unwrap();
    let got = compile(&f).unwrap().run(&inputs).unwrap();
    let want = reference::eval(&f, &inputs).unwrap();
    assert!(max_rel(&got[0], &want[0]) < 1e-12);
    // Cholesky and triangular solves of order 120 go to the backend.
    let n = 120;
    let src = format!(
        "func @f(%x: f64[{n},{n}], %b: f64[{n},3]) -> (f64[{n},{n}], f64[{n},3], f64[3,{n}]) {{
          %g: f64[{n},{n}] = dot_general %x, %x {{lhs_contract = [1], rhs_contract = [1]}}
          %e: f64[{n},{n}] = iota {{dim = 0}}
          %f: f64[{n},{n}] = iota {{dim = 1}}
          %q: bool[{n},{n}] = eq %e, %f
          %k: f64[{n},{n}] = const {{value = {n}.0}}
          %z: f64[{n},{n}] = const {{value = 0.0}}
          %dg: f64[{n},{n}] = select %q, %k, %z
          %a: f64[{n},{n}] = add %g, %dg
          %l: f64[{n},{n}] = cholesky %a
          %s: f64[{n},3] = triangular_solve %l, %b
          %bt: f64[3,{n}] = transpose %b {{perm = [1, 0]}}
          %t: f64[3,{n}] = triangular_solve %l, %bt {{left_side = false, transpose_a = true}}
          return %l, %s, %t
        }}"
    );
    let f = saddle_ir::parse_func("t.sir", &src).unwrap();
    let inputs = vec![
        random_array(&TensorType::f64([n, n]), &mut rng, -1.0, 1.0),
        random_array(&TensorType::f64([n, 3]), &mut rng, -1.0, 1.0),
    ];
    let got = compile(&f).unwrap().run(&inputs).unwrap();
    let want = reference::eval(&f, &inputs).unwrap();
    for (g, w) in got.iter().zip(&want) {
        assert!(max_rel(g, w) < 1e-10, "{}", max_rel(g, w));
    }
}

#[test]
fn every_op_kind_is_generated() {
    // The families above cover every op of the IR.
    let mut names: std::collections::BTreeSet<&str> = Default::default();
    for which in 0..FAMILIES {
        for d in DType::ALL {
            for seed in 0..200 {
                if let Some((f, _)) = build(which, d, &[2, 3], seed) {
                    for inst in f.insts() {
                        names.insert(inst.op.name());
                    }
                }
            }
        }
    }
    for op in Op::every_kind() {
        assert!(names.contains(op.name()), "{} is never generated", op.name());
    }
}
