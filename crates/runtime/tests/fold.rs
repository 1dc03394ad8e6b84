//! Constant folding computes what the runtime computes: for every float
//! elementwise op, f64 and f32, and for reductions and small dot products,
//! the simplifier's folded constant has the bits that the compiled function
//! (on every instruction set) and the reference evaluator give at the same
//! arguments, NaN payloads aside. The arguments cover the tails: zeros of
//! both signs, subnormals, the edges of `exp`'s fast path and of overflow
//! and underflow, poles, infinities and NaN, and random bit patterns.

use saddle_ir::op::{Binary, DotDims, ReduceKind, Unary};
use saddle_ir::simplify::{SimplifyOptions, simplify};
use saddle_ir::{Array, DType, Func, FuncBuilder, Literal, Op, Scalar, TensorType, print_func};
use saddle_runtime::isa::{self, Isa};

/// Arguments in one test array.
const N: usize = 1024;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The edges where implementations of the element functions differ.
const TAILS: [f64; 52] = [
    0.0,
    -0.0,
    f64::MIN_POSITIVE,
    -f64::MIN_POSITIVE,
    5e-324,
    -5e-324,
    1e-310,
    -1e-310,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
    1.0,
    -1.0,
    0.5,
    -0.5,
    2.0,
    -1.5,
    -2.0,
    -3.0,
    -2.5,
    704.0,
    -704.0,
    704.000_000_001,
    -704.000_000_001,
    709.78,
    709.79,
    710.0,
    -708.4,
    -745.13,
    -745.2,
    -746.0,
    88.72,
    88.73,
    -103.9,
    -104.0,
    1.461_632_144_968_362_2,
    1e-8,
    -1e-8,
    1e8,
    1e16,
    -1e16,
    3.4e38,
    3.5e38,
    1e300,
    -1e300,
    f64::MAX,
    f64::MIN,
    1e-300,
    20.0,
    -20.0,
    std::f64::consts::LN_2,
    std::f64::consts::PI,
];

/// `N` arguments drawn from `seed`: the tails, then uniform over small and
/// wide ranges, then random finite bit patterns.
fn arguments(seed: u64) -> Vec<f64> {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut v: Vec<f64> = TAILS.to_vec();
    while v.len() < N {
        let u = rng.unit();
        let x = match v.len() % 4 {
            0 => u * 20.0 - 10.0,
            1 => u * 1500.0 - 750.0,
            2 => (u * 8.0 - 4.0).exp2() * if rng.next() & 1 == 0 { 1.0 } else { -1.0 },
            _ => {
                let x = f64::from_bits(rng.next());
                if x.is_finite() { x } else { u }
            }
        };
        v.push(x);
    }
    v
}

fn array(dtype: DType, xs: &[f64], shape: &[usize]) -> Array {
    let ty = TensorType::new(dtype, shape);
    let scalars: Vec<Scalar> = xs.iter().map(|&x| Scalar::from_f64(dtype, x)).collect();
    Array::from_scalars(&ty, &scalars).expect("one scalar per element")
}

/// `op` applied to parameters, and to the same values as constants.
fn both(op: &Op, args: &[Array]) -> (Func, Func) {
    let mut p = FuncBuilder::new("f");
    let params: Vec<_> = args.iter().map(|a| p.param(a.ty()).unwrap()).collect();
    let y = p.push(op.clone(), &params).unwrap();
    let f = p.finish(&[y]).unwrap();
    let mut c = FuncBuilder::new("g");
    let consts: Vec<_> = args.iter().map(|a| c.constant(Literal::dense(a.clone()))).collect();
    let y = c.push(op.clone(), &consts).unwrap();
    let g = c.finish(&[y]).unwrap();
    (f, g)
}

/// Equal bits, or both NaN.
fn same(a: Scalar, b: Scalar) -> bool {
    let nan = |s: Scalar| matches!(s, Scalar::F32(x) if x.is_nan()) || matches!(s, Scalar::F64(x) if x.is_nan());
    a == b || (nan(a) && nan(b))
}

/// Folds `op` over constants `args` and checks the constant against the
/// compiled function on every instruction set and the reference evaluator.
fn check(op: &Op, args: &[Array]) {
    let (f, g) = both(op, args);
    let opts = SimplifyOptions { max_fold_elements: 1 << 16, ..SimplifyOptions::default() };
    let (folded, _) = simplify(&g, &opts).unwrap();
    assert!(folded.iter_insts().all(|(_, i)| matches!(i.op, Op::Const(_))), "not folded:\n{}", print_func(&folded));
    let want = saddle_runtime::reference::eval(&folded, &[]).unwrap().remove(0).scalars();
    let exe = saddle_runtime::compile(&f).unwrap();
    let mut runs = vec![("reference", saddle_runtime::reference::eval(&f, args).unwrap().remove(0))];
    for (name, level) in [("widest", Isa::Widest), ("avx2", Isa::Avx2), ("baseline", Isa::Baseline)] {
        isa::limit(level);
        runs.push((name, exe.run(args).unwrap().remove(0)));
    }
    isa::limit(Isa::Widest);
    for (name, got) in runs {
        for (i, (&w, g)) in want.iter().zip(got.scalars()).enumerate() {
            let at: Vec<String> = args.iter().map(|a| a.get(i).map_or("-".into(), |s| format!("{s:?}"))).collect();
            assert!(same(w, g), "{op:?} at {at:?}: folded {w:?}, {name} {g:?}");
        }
    }
}

/// Every float unary op (with several orders of `polygamma` and powers of
/// `integer_pow`), f64 and f32.
#[test]
fn folded_unary_ops_have_the_runtime_bits() {
    let mut ops: Vec<Unary> = Unary::ALL
        .into_iter()
        .filter(|u| !matches!(u, Unary::Not | Unary::Polygamma { .. } | Unary::IntegerPow { .. }))
        .collect();
    ops.extend([1, 2, 3, 7, 20, 170, 171, 1000].map(|n| Unary::Polygamma { n }));
    ops.extend([-3, -1, 0, 1, 2, 5, 31, i32::MIN].map(|y| Unary::IntegerPow { y }));
    for dtype in [DType::F64, DType::F32] {
        for (k, &u) in ops.iter().enumerate() {
            let xs = arguments(k as u64 + 1);
            check(&Op::Unary(u), &[array(dtype, &xs, &[N])]);
        }
    }
}

/// Every float binary op, on pairs of tails and random arguments.
#[test]
fn folded_binary_ops_have_the_runtime_bits() {
    for dtype in [DType::F64, DType::F32] {
        for (k, b) in Binary::ALL.into_iter().filter(|b| !matches!(b, Binary::And | Binary::Or)).enumerate() {
            let mut xs = arguments(2 * k as u64 + 100);
            let mut ys = arguments(2 * k as u64 + 101);
            // Every pair of tails, then random pairs.
            let t = TAILS.len();
            for i in 0..t * t {
                if i < N {
                    xs[i] = TAILS[i / t];
                    ys[i] = TAILS[i % t];
                }
            }
            check(&Op::Binary(b), &[array(dtype, &xs, &[N]), array(dtype, &ys, &[N])]);
        }
    }
}

/// Sums of every length up to 70 and a few longer (the runtime's
/// canonical order: eight lanes, combined pairwise), over one axis and
/// several, and `reduce_max`/`reduce_min` with signed zeros and NaN.
#[test]
fn folded_reductions_have_the_runtime_bits() {
    let mut rng = Rng(7);
    for dtype in [DType::F64, DType::F32] {
        for len in (1..=70).chain([100, 257, 1000]) {
            let xs: Vec<f64> = (0..len).map(|_| (rng.unit() - 0.5) * (rng.unit() * 60.0 - 30.0).exp2()).collect();
            for kind in [ReduceKind::Sum, ReduceKind::Max, ReduceKind::Min] {
                check(&Op::Reduce { kind, axes: vec![0] }, &[array(dtype, &xs, &[len])]);
            }
        }
        for (shape, axes) in [
            (vec![6, 5], vec![1]),
            (vec![6, 5], vec![0]),
            (vec![3, 4, 5], vec![0, 2]),
            (vec![3, 4, 5], vec![1, 2]),
            (vec![3, 4, 5], vec![0, 1, 2]),
        ] {
            let n: usize = shape.iter().product();
            let xs: Vec<f64> = (0..n).map(|_| (rng.unit() - 0.5) * (rng.unit() * 60.0 - 30.0).exp2()).collect();
            for kind in [ReduceKind::Sum, ReduceKind::Max, ReduceKind::Min] {
                check(&Op::Reduce { kind, axes: axes.clone() }, &[array(dtype, &xs, &shape)]);
            }
        }
        let zeros = [0.0, -0.0, -0.0, 0.0, f64::NAN, 1.0, -0.0];
        for k in 1..=zeros.len() {
            for kind in [ReduceKind::Sum, ReduceKind::Max, ReduceKind::Min] {
                check(&Op::Reduce { kind, axes: vec![0] }, &[array(dtype, &zeros[..k], &[k])]);
                check(&Op::Reduce { kind, axes: vec![0] }, &[array(dtype, &zeros[zeros.len() - k..], &[k])]);
            }
        }
    }
}

/// Small products (the runtime's plain loops), contracting one axis or
/// two.
#[test]
fn folded_dot_products_have_the_runtime_bits() {
    let mut rng = Rng(11);
    let mut draw =
        |n: usize| -> Vec<f64> { (0..n).map(|_| (rng.unit() - 0.5) * (rng.unit() * 40.0 - 20.0).exp2()).collect() };
    for dtype in [DType::F64, DType::F32] {
        let mm = DotDims { lhs_batch: vec![], rhs_batch: vec![], lhs_contract: vec![1], rhs_contract: vec![0] };
        check(&Op::DotGeneral(mm.clone()), &[array(dtype, &draw(15), &[3, 5]), array(dtype, &draw(20), &[5, 4])]);
        check(&Op::DotGeneral(mm), &[array(dtype, &draw(24), &[2, 12]), array(dtype, &draw(36), &[12, 3])]);
        let two =
            DotDims { lhs_batch: vec![0], rhs_batch: vec![0], lhs_contract: vec![1, 2], rhs_contract: vec![2, 1] };
        check(&Op::DotGeneral(two), &[array(dtype, &draw(24), &[2, 3, 4]), array(dtype, &draw(24), &[2, 4, 3])]);
    }
}
