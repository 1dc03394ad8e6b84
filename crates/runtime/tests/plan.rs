//! The compiled plan (fusion and buffer reuse on) against the reference
//! evaluator, bit for bit, on random functions mixing every dtype at sizes
//! of many blocks and over the threshold of the parallel loops: where a
//! fused loop writes its output into the buffer of an input that dies in
//! it, the two must hold elements of the same width, or the output runs
//! ahead of the input (or into another thread's block) before it is read.

use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use saddle_ir::op::{Compare, DotDims, Unary};
use saddle_ir::testing::{GenOptions, random_func};
use saddle_ir::{Array, DType, Func, FuncBuilder, Op, Scalar, TensorType, Value};
use saddle_runtime::kernels::elementwise::BLOCK;
use saddle_runtime::{CompileOptions, compile_with, reference};

/// Values of every dtype, floats with a few specials among them.
fn random_array(ty: &TensorType, rng: &mut StdRng) -> Array {
    let dim = IxDyn(&ty.shape);
    let n = ty.num_elements();
    let float = |rng: &mut StdRng| {
        if rng.random_bool(0.02) {
            [f64::NAN, f64::INFINITY, -0.0, 1e300][rng.random_range(0..4)]
        } else {
            rng.random_range(-4.0..4.0)
        }
    };
    match ty.dtype {
        DType::F64 => Array::F64(ArrayD::from_shape_vec(dim, (0..n).map(|_| float(rng)).collect()).unwrap()),
        DType::F32 => Array::F32(ArrayD::from_shape_vec(dim, (0..n).map(|_| float(rng) as f32).collect()).unwrap()),
        DType::I32 => {
            Array::I32(ArrayD::from_shape_vec(dim, (0..n).map(|_| rng.random_range(-9..=9)).collect()).unwrap())
        }
        DType::I64 => {
            Array::I64(ArrayD::from_shape_vec(dim, (0..n).map(|_| rng.random_range(-9..=9)).collect()).unwrap())
        }
        DType::Bool => {
            Array::Bool(ArrayD::from_shape_vec(dim, (0..n).map(|_| rng.random_bool(0.5)).collect()).unwrap())
        }
    }
}

/// Same type and same bits, a NaN matching any NaN (x86 and the
/// reference's scalar code may pick different NaN payloads).
fn same_bits(a: &Array, b: &Array) -> bool {
    let nan = |s: &Scalar| match s {
        Scalar::F32(x) => x.is_nan(),
        Scalar::F64(x) => x.is_nan(),
        Scalar::I32(_) | Scalar::I64(_) | Scalar::Bool(_) => false,
    };
    a.ty() == b.ty() && a.scalars().iter().zip(b.scalars()).all(|(x, y)| x == &y || (nan(x) && nan(&y)))
}

/// The plan with fusion and buffer reuse (simplifier off: it may
/// re-associate sums) gives the bits of the plan without them (one buffer
/// per value, the same kernels), and the reference's results or its error,
/// bit for bit where no dense linear algebra is involved (the reference's
/// plain loops round otherwise than the backend's blocked ones beyond
/// small sizes).
fn check(f: &Func, inputs: &[Array]) -> Result<(), TestCaseError> {
    let text = || saddle_ir::print_func(f);
    let run = |opts: &CompileOptions| {
        let exe = compile_with(f, opts).map_err(|e| TestCaseError::fail(format!("compile: {e}\n{}", text())))?;
        Ok::<_, TestCaseError>(exe.run(inputs))
    };
    let got = run(&CompileOptions { simplify: false, ..CompileOptions::default() })?;
    let unfused = run(&CompileOptions::unfused())?;
    let want = reference::eval(f, inputs);
    let linalg =
        f.insts().iter().any(|i| matches!(i.op, Op::DotGeneral(_) | Op::Cholesky | Op::TriangularSolve { .. }));
    let mut oracles = vec![("unfused", unfused)];
    if !linalg {
        oracles.push(("reference", want));
    }
    for (name, want) in oracles {
        match (&want, &got) {
            (Ok(w), Ok(g)) => {
                for (i, (a, b)) in w.iter().zip(g).enumerate() {
                    prop_assert!(same_bits(a, b), "result {i} differs from the {name}'s\n{}", text());
                }
            }
            (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string(), "{}", text()),
            _ => prop_assert!(false, "{}\n{name} {:?}\ncompiled {:?}", text(), want.err(), got.as_ref().err()),
        }
    }
    Ok(())
}

/// Random functions over every dtype whose arrays span many blocks: rank-3
/// values of 512 to 13,824 elements, `dot_general` results up to 2^18.
fn large_options() -> GenOptions {
    GenOptions {
        max_insts: 20,
        param_dtypes: DType::ALL.to_vec(),
        dims: 8..=24,
        max_elements: 1 << 18,
        ..GenOptions::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Random functions of every op and dtype, beyond one block.
    #[test]
    fn random_functions_of_every_dtype_over_many_blocks(seed in any::<u64>()) {
        let f = random_func(seed, &large_options());
        let mut rng = StdRng::seed_from_u64(seed);
        let inputs: Vec<Array> = f.param_types().iter().map(|t| random_array(t, &mut rng)).collect();
        check(&f, &inputs)?;
    }
}

/// A kernel (a transpose) that makes an array of dtype `narrow`, feeding
/// one fused loop that converts, compares and selects it with parameters
/// into a `wide` value, over `n` elements: the kernel's buffer is the only
/// one free when the loop's outputs get theirs, the shape of every in-place
/// reuse across dtypes.
fn narrow_into_wide(seed: u64, n: usize, narrow: DType, wide: DType) -> (Func, Vec<Array>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut b = FuncBuilder::new("f");
    let x = b.param(TensorType::new(narrow, vec![2, n / 2])).unwrap();
    let y = b.param(TensorType::new(wide, vec![n / 2, 2])).unwrap();
    let m = b.param(TensorType::new(DType::Bool, vec![n / 2, 2])).unwrap();
    let tr = |b: &mut FuncBuilder, v: Value| b.push(Op::Transpose { perm: vec![1, 0] }, &[v]).unwrap();
    let xt = tr(&mut b, x);
    let xw = b.push(Op::Convert { dtype: wide }, &[xt]).unwrap();
    let cmp = if wide == DType::Bool { Compare::Ne } else { Compare::Lt };
    let c = b.push(Op::Compare(cmp), &[xw, y]).unwrap();
    let both = b.push(Op::Binary(saddle_ir::op::Binary::And), &[c, m]).unwrap();
    let s = b.push(Op::Select, &[both, xw, y]).unwrap();
    let s2 = b.push(Op::Select, &[m, s, xw]).unwrap();
    let out = if wide != DType::Bool { b.push(Op::Unary(Unary::Abs), &[s2]).unwrap() } else { s2 };
    let back = b.push(Op::Convert { dtype: narrow }, &[out]).unwrap();
    // Kernels read the stored results, so both stay in buffers.
    let r1 = tr(&mut b, out);
    let r2 = tr(&mut b, back);
    let f = b.finish(&[r1, r2]).unwrap();
    let inputs = f.param_types().iter().map(|t| random_array(t, &mut rng)).collect();
    (f, inputs)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Every pair of dtypes, at sizes from under one block to past the
    /// parallel threshold.
    #[test]
    fn narrow_kernel_outputs_feeding_wide_fused_loops(
        seed in any::<u64>(),
        n in prop_oneof![2usize..(2 * BLOCK), (2 * BLOCK)..(40 * BLOCK), (140 * BLOCK)..(300 * BLOCK)],
        a in 0usize..5,
        c in 0usize..5,
    ) {
        let n = n.next_multiple_of(2);
        let (narrow, wide) = (DType::ALL[a], DType::ALL[c]);
        let (f, inputs) = narrow_into_wide(seed, n, narrow, wide);
        check(&f, &inputs)?;
    }
}

#[test]
fn generated_functions_span_many_blocks_and_every_dtype() {
    // The options above do what the property test needs: arrays past one
    // block and past the parallel threshold, values of every dtype.
    let (mut big, mut huge) = (0, 0);
    let mut dtypes = std::collections::BTreeSet::new();
    for seed in 0..64 {
        let f = random_func(seed, &large_options());
        for (v, _) in f.iter_insts() {
            let t = f.ty(v);
            big += usize::from(t.num_elements() > BLOCK);
            huge += usize::from(t.num_elements() > 1 << 16);
            dtypes.insert(format!("{}", t.dtype));
        }
    }
    assert!(big > 100 && huge > 0, "{big} values over a block, {huge} over the parallel threshold");
    assert_eq!(dtypes.len(), 5, "{dtypes:?}");
}

#[test]
fn cholesky_densities_of_every_order_through_the_plan() {
    // A Cholesky factor of a parameter-dependent matrix feeding fused loops
    // (the shape of a Gaussian log density's derivatives), n = 1..=16.
    for n in 1..=16 {
        let mut b = FuncBuilder::new("f");
        let a = b.param(TensorType::f64([n, n])).unwrap();
        let x = b.param(TensorType::f64([n, 1])).unwrap();
        let dims = DotDims::contract(1, 1);
        let aat = b.push(Op::DotGeneral(dims), &[a, a]).unwrap();
        let eye: Vec<f64> = (0..n * n).map(|i| if i / n == i % n { n as f64 } else { 0.0 }).collect();
        let eye =
            b.constant(saddle_ir::Literal::dense(Array::F64(ArrayD::from_shape_vec(IxDyn(&[n, n]), eye).unwrap())));
        let spd = b.push(Op::Binary(saddle_ir::op::Binary::Add), &[aat, eye]).unwrap();
        let l = b.push(Op::Cholesky, &[spd]).unwrap();
        let solve = Op::TriangularSolve { left_side: true, lower: true, transpose_a: false, unit_diagonal: false };
        let z = b.push(solve, &[l, x]).unwrap();
        let zz = b.push(Op::Binary(saddle_ir::op::Binary::Mul), &[z, z]).unwrap();
        let d = b.push(Op::Compare(Compare::Gt), &[zz, x]).unwrap();
        let dd = b.push(Op::Convert { dtype: DType::F64 }, &[d]).unwrap();
        let ll = b.push(Op::Unary(Unary::Log), &[l]).unwrap();
        let f = b.finish(&[zz, dd, ll]).unwrap();
        let mut rng = StdRng::seed_from_u64(n as u64);
        let inputs: Vec<Array> = f
            .param_types()
            .iter()
            .map(|t| {
                let v = (0..t.num_elements()).map(|_| rng.random_range(-1.0..1.0)).collect();
                Array::F64(ArrayD::from_shape_vec(IxDyn(&t.shape), v).unwrap())
            })
            .collect();
        check(&f, &inputs).unwrap();
    }
}

/// One fused loop over `n` elements of `dtype` in which every binary op,
/// comparison and select of the dtype takes a splat constant or a
/// broadcast scalar parameter in each operand position, with several
/// results (written in place into their buffers) and a kernel's dying
/// buffer among the loop's inputs (an output computed aside and copied).
fn uniform_operands(seed: u64, n: usize, dtype: DType) -> (Func, Vec<Array>) {
    use saddle_ir::op::Binary;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut b = FuncBuilder::new("f");
    let x = b.param(TensorType::new(dtype, vec![n])).unwrap();
    let s = b.param(TensorType::new(dtype, vec![])).unwrap();
    let m = b.param(TensorType::new(DType::Bool, vec![n])).unwrap();
    let y = b.param(TensorType::new(dtype, vec![2, n / 2])).unwrap();
    let value = random_array(&TensorType::new(dtype, vec![]), &mut rng).scalars()[0];
    let c = b.constant(saddle_ir::Literal::splat(value, [n]));
    let sb = b.push(Op::BroadcastInDim { shape: vec![n], dims: vec![] }, &[s]).unwrap();
    // A kernel's result that dies in the loop: its buffer may take an output.
    let yt = b.push(Op::Transpose { perm: vec![1, 0] }, &[y]).unwrap();
    let v = b.push(Op::Reshape { shape: vec![n] }, &[yt]).unwrap();
    let binaries: &[Binary] = match dtype {
        DType::Bool => &[Binary::And, Binary::Or],
        DType::F32 | DType::F64 => {
            &[Binary::Add, Binary::Sub, Binary::Mul, Binary::Div, Binary::Pow, Binary::Max, Binary::Min]
        }
        DType::I32 | DType::I64 => &[Binary::Add, Binary::Sub, Binary::Mul, Binary::Div, Binary::Max, Binary::Min],
    };
    let mut outs = Vec::new();
    let mut acc = v;
    for &op in binaries {
        for (p, q) in [(x, sb), (sb, x), (x, c), (c, x), (acc, sb), (c, sb)] {
            let r = b.push(Op::Binary(op), &[p, q]).unwrap();
            outs.push(r);
            acc = r;
        }
    }
    let compares: &[Compare] = if dtype == DType::Bool {
        &[Compare::Eq, Compare::Ne]
    } else {
        &[Compare::Eq, Compare::Ne, Compare::Lt, Compare::Le, Compare::Gt, Compare::Ge]
    };
    for &cmp in compares {
        for (p, q) in [(acc, sb), (c, x)] {
            let k = b.push(Op::Compare(cmp), &[p, q]).unwrap();
            for (t, e) in [(x, sb), (c, acc), (sb, c)] {
                outs.push(b.push(Op::Select, &[k, t, e]).unwrap());
            }
            outs.push(b.push(Op::Select, &[m, acc, c]).unwrap());
        }
    }
    // Through the text form, so that values have names: errors then name
    // the same division in the compiled function, whose common
    // subexpressions (`add %x, %s` and `add %s, %x`) are merged.
    let f = saddle_ir::parse_func("t.sir", &saddle_ir::print_func(&b.finish(&outs).unwrap())).unwrap();
    let inputs = f.param_types().iter().map(|t| random_array(t, &mut rng)).collect();
    (f, inputs)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Uniform operands in every position, of every dtype, at sizes from
    /// under one block to past the parallel threshold.
    #[test]
    fn splats_and_scalars_in_every_operand_position(
        seed in any::<u64>(),
        n in prop_oneof![2usize..(2 * BLOCK), (2 * BLOCK)..(40 * BLOCK), (140 * BLOCK)..(200 * BLOCK)],
        d in 0usize..5,
    ) {
        let n = n.next_multiple_of(2);
        let (f, inputs) = uniform_operands(seed, n, DType::ALL[d]);
        check(&f, &inputs)?;
    }
}
