//! Random well-typed functions for property tests (feature `testing`).
//!
//! [`random_func`] draws a function over every op kind from a seed: the
//! printer/parser round trip, the simplifier, the runtime and the AD
//! transformations are all tested on these. Index operands are constants in
//! range and matrices given to `cholesky` are made positive definite, so a
//! generated function always evaluates without run-time errors.
//!
//! ```
//! use saddle_ir::testing::{random_func, GenOptions};
//! let f = random_func(7, &GenOptions::default());
//! assert!(saddle_ir::verify(&f).is_ok());
//! ```

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::op::{Binary, Compare, DotDims, ReduceKind, Unary};
use crate::{Array, DType, Func, FuncBuilder, Literal, Op, Scalar, TensorType, Value};

/// What [`random_func`] draws.
#[derive(Clone, Debug)]
pub struct GenOptions {
    /// Number of instructions attempted.
    pub max_insts: usize,
    /// Dtypes of parameters (drawn from this list).
    pub param_dtypes: Vec<DType>,
    /// Give values random (sometimes colliding) names.
    pub names: bool,
    /// Let constants hold NaN, ±inf, -0 and subnormals.
    pub special_floats: bool,
    /// Only ops that are differentiable almost everywhere on float values
    /// (no comparisons feeding `select` on integers, no integer ops).
    pub float_only: bool,
    /// Extents of the axes of drawn shapes (square matrices get one less
    /// at the top). The default, `1..=4`, keeps every array within one
    /// block of the runtime's fused loops; `8..=24` takes rank-3 arrays
    /// over many blocks and over the threshold of its parallel loops.
    pub dims: std::ops::RangeInclusive<usize>,
    /// Instructions whose result would have more elements than this are
    /// not drawn (large `dims` would otherwise let a `dot_general` of two
    /// rank-4 values reach hundreds of millions of elements).
    pub max_elements: usize,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            max_insts: 24,
            param_dtypes: vec![DType::F64, DType::F64, DType::F32],
            names: true,
            special_floats: true,
            float_only: false,
            dims: 1..=4,
            max_elements: usize::MAX,
        }
    }
}

struct Gen<'a> {
    rng: StdRng,
    b: FuncBuilder,
    pool: Vec<Value>,
    opts: &'a GenOptions,
}

/// A random well-typed function drawn from `seed`.
pub fn random_func(seed: u64, opts: &GenOptions) -> Func {
    let mut g = Gen { rng: StdRng::seed_from_u64(seed), b: FuncBuilder::new("f"), pool: Vec::new(), opts };
    let nparams = g.rng.random_range(1..=3);
    for _ in 0..nparams {
        let dtype = opts.param_dtypes[g.rng.random_range(0..opts.param_dtypes.len())];
        let shape = if g.rng.random_bool(0.25) {
            let (lo, hi) = (*opts.dims.start(), *opts.dims.end());
            let n = g.rng.random_range(lo..=hi.saturating_sub(1).max(lo));
            vec![n, n]
        } else {
            g.shape()
        };
        let v = g.b.param(TensorType::new(dtype, shape)).expect("small shapes are valid");
        g.pool.push(v);
    }
    for _ in 0..opts.max_insts {
        g.step();
    }
    let nres = g.rng.random_range(1..=3.min(g.pool.len()));
    let mut results = vec![*g.pool.last().expect("pool has the parameters")];
    for _ in 1..nres {
        results.push(g.pick());
    }
    if opts.names {
        g.name_values();
    }
    g.b.finish(&results).expect("results are values of the function")
}

impl Gen<'_> {
    fn shape(&mut self) -> Vec<usize> {
        let rank = self.rng.random_range(0..=3);
        (0..rank).map(|_| self.rng.random_range(self.opts.dims.clone())).collect()
    }

    fn ty(&self, v: Value) -> TensorType {
        self.b.ty(v).expect("pool values exist").clone()
    }

    fn pick(&mut self) -> Value {
        // Favour recent values so that chains grow deep.
        let n = self.pool.len();
        let i = if self.rng.random_bool(0.6) {
            n - 1 - self.rng.random_range(0..n.min(4))
        } else {
            self.rng.random_range(0..n)
        };
        self.pool[i]
    }

    fn pick_where(&mut self, pred: impl Fn(&TensorType) -> bool) -> Option<Value> {
        let cands: Vec<Value> = self.pool.iter().copied().filter(|&v| pred(&self.ty(v))).collect();
        if cands.is_empty() { None } else { Some(cands[self.rng.random_range(0..cands.len())]) }
    }

    fn push(&mut self, op: Op, args: &[Value]) -> Option<Value> {
        let types: Vec<TensorType> = args.iter().map(|&a| self.ty(a)).collect();
        let ty = op.infer_type(&types.iter().collect::<Vec<_>>()).ok()?;
        if ty.num_elements() > self.opts.max_elements {
            return None;
        }
        let v = self.b.push(op, args).ok()?;
        self.pool.push(v);
        Some(v)
    }

    fn float(&mut self) -> f64 {
        if self.opts.special_floats && self.rng.random_bool(0.1) {
            [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 5e-324, 1e300][self.rng.random_range(0..6)]
        } else {
            (self.rng.random_range(-200..=200) as f64) / 64.0 + self.rng.random_range(0.0..1.0) * 1e-3
        }
    }

    fn scalar(&mut self, dtype: DType) -> Scalar {
        match dtype {
            DType::F64 => Scalar::F64(self.float()),
            DType::F32 => Scalar::F32(self.float() as f32),
            DType::I32 => Scalar::I32(self.rng.random_range(-5..=5)),
            DType::I64 => Scalar::I64(self.rng.random_range(-5..=5)),
            DType::Bool => Scalar::Bool(self.rng.random_bool(0.5)),
        }
    }

    fn constant(&mut self, ty: TensorType) -> Option<Value> {
        let lit = if self.rng.random_bool(0.5) {
            Literal::Splat { value: self.scalar(ty.dtype), ty }
        } else {
            let values: Vec<Scalar> = (0..ty.num_elements()).map(|_| self.scalar(ty.dtype)).collect();
            Literal::dense(Array::from_scalars(&ty, &values)?)
        };
        let v = self.b.constant(lit);
        self.pool.push(v);
        Some(v)
    }

    fn index_const(&mut self, shape: Vec<usize>, bound: usize) -> Value {
        let dtype = if self.rng.random_bool(0.5) { DType::I64 } else { DType::I32 };
        let ty = TensorType::new(dtype, shape);
        let values: Vec<Scalar> =
            (0..ty.num_elements()).map(|_| Scalar::from_f64(dtype, self.rng.random_range(0..bound) as f64)).collect();
        self.b.constant(Literal::dense(Array::from_scalars(&ty, &values).expect("count and dtype match")))
    }

    fn step(&mut self) {
        let kinds = if self.opts.float_only { 18 } else { 21 };
        let _ = match self.rng.random_range(0..kinds) {
            0 => {
                let dtypes = if self.opts.float_only { vec![DType::F64, DType::F32] } else { DType::ALL.to_vec() };
                let d = dtypes[self.rng.random_range(0..dtypes.len())];
                let s = self.shape();
                self.constant(TensorType::new(d, s))
            }
            1..=3 => self.unary(),
            4..=6 => self.binary(),
            7 => self.broadcast(),
            8 => self.reshape(),
            9 => self.transpose(),
            10 => self.reduce(),
            11 => self.slice(),
            12 => self.pad(),
            13 => self.concatenate(),
            14 => self.dot(),
            15 => self.take(),
            16 => self.segment_sum(),
            17 => self.cholesky_and_solve(),
            18 => self.select(),
            19 => {
                let v = self.pick();
                let d = DType::ALL[self.rng.random_range(0..5)];
                self.push(Op::Convert { dtype: d }, &[v])
            }
            _ => {
                let d = [DType::F64, DType::I64, DType::I32][self.rng.random_range(0..3)];
                let s = self.shape();
                if s.is_empty() {
                    None
                } else {
                    let dim = self.rng.random_range(0..s.len());
                    self.push(Op::Iota { dim, ty: TensorType::new(d, s) }, &[])
                }
            }
        };
    }

    fn unary(&mut self) -> Option<Value> {
        let v = self.pick();
        let t = self.ty(v);
        let mut u = Unary::ALL[self.rng.random_range(0..Unary::ALL.len())];
        if let Unary::Polygamma { .. } = u {
            u = Unary::Polygamma { n: self.rng.random_range(1..=3) };
        }
        if let Unary::IntegerPow { .. } = u {
            let lo = if t.dtype.is_float() { -3 } else { 0 };
            u = Unary::IntegerPow { y: self.rng.random_range(lo..=3) };
        }
        if self.opts.float_only && !t.dtype.is_float() {
            return None;
        }
        if !u.dtypes().admits(t.dtype) {
            return if t.dtype.is_float() && self.rng.random_bool(0.5) {
                self.push(Op::StopGradient, &[v])
            } else {
                None
            };
        }
        self.push(Op::Unary(u), &[v])
    }

    fn same_type_partner(&mut self, v: Value) -> Value {
        let t = self.ty(v);
        self.pick_where(|u| *u == t).unwrap_or(v)
    }

    fn binary(&mut self) -> Option<Value> {
        let v = self.pick();
        let w = self.same_type_partner(v);
        let t = self.ty(v);
        if self.rng.random_bool(0.25) && !self.opts.float_only {
            let c = Compare::ALL[self.rng.random_range(0..Compare::ALL.len())];
            return self.push(Op::Compare(c), &[v, w]);
        }
        let cands: Vec<Binary> = Binary::ALL.into_iter().filter(|b| b.dtypes().admits(t.dtype)).collect();
        if cands.is_empty() || (self.opts.float_only && !t.dtype.is_float()) {
            return None;
        }
        let op = cands[self.rng.random_range(0..cands.len())];
        if op == Binary::Div && t.dtype.is_int() {
            return None; // integer division by a drawn zero would be a run-time error
        }
        self.push(Op::Binary(op), &[v, w])
    }

    fn select(&mut self) -> Option<Value> {
        let v = self.pick();
        let w = self.same_type_partner(v);
        let t = self.ty(v);
        let cmp = if t.dtype == DType::Bool { Compare::Eq } else { Compare::Lt };
        let p = self.push(Op::Compare(cmp), &[v, w])?;
        self.push(Op::Select, &[p, v, w])
    }

    fn broadcast(&mut self) -> Option<Value> {
        let v = self.pick();
        let t = self.ty(v);
        if t.rank() >= 4 {
            return None;
        }
        let pos = self.rng.random_range(0..=t.rank());
        let mut shape = t.shape.clone();
        shape.insert(pos, self.rng.random_range(1..=3));
        let dims: Vec<usize> = (0..=t.rank()).filter(|&d| d != pos).collect();
        for (i, &d) in dims.iter().enumerate() {
            if t.shape[i] == 1 && self.rng.random_bool(0.5) {
                shape[d] = self.rng.random_range(1..=3);
            }
        }
        self.push(Op::BroadcastInDim { shape: shape.to_vec(), dims }, &[v])
    }

    fn reshape(&mut self) -> Option<Value> {
        let v = self.pick();
        let t = self.ty(v);
        let n = t.num_elements();
        let shape = match self.rng.random_range(0..3) {
            0 => vec![n],
            1 => vec![1, n],
            _ if n == 0 => vec![0, 2],
            _ => {
                let d = (1..=n).filter(|d| n % d == 0).collect::<Vec<_>>();
                let a = d[self.rng.random_range(0..d.len())];
                vec![a, n / a]
            }
        };
        self.push(Op::Reshape { shape }, &[v])
    }

    fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut perm: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = self.rng.random_range(0..=i);
            perm.swap(i, j);
        }
        perm
    }

    fn transpose(&mut self) -> Option<Value> {
        let v = self.pick();
        let perm = self.permutation(self.ty(v).rank());
        self.push(Op::Transpose { perm }, &[v])
    }

    fn reduce(&mut self) -> Option<Value> {
        let v = self.pick();
        let t = self.ty(v);
        let axes: Vec<usize> = (0..t.rank()).filter(|_| self.rng.random_bool(0.5)).collect();
        let kind = ReduceKind::ALL[self.rng.random_range(0..3)];
        self.push(Op::Reduce { kind, axes }, &[v])
    }

    fn slice(&mut self) -> Option<Value> {
        let v = self.pick();
        let t = self.ty(v);
        let (mut start, mut limit, mut stride) = (vec![], vec![], vec![]);
        for &n in &t.shape {
            let a = self.rng.random_range(0..=n);
            let b = self.rng.random_range(a..=n);
            start.push(a);
            limit.push(b);
            stride.push(self.rng.random_range(1..=2));
        }
        self.push(Op::Slice { start, limit, stride }, &[v])
    }

    fn pad(&mut self) -> Option<Value> {
        let v = self.pick();
        let t = self.ty(v);
        let value = self.scalar(t.dtype);
        let p = self.b.constant(Literal::Splat { ty: TensorType::scalar(t.dtype), value });
        let r = t.rank();
        let low = (0..r).map(|_| self.rng.random_range(0..=2)).collect();
        let high = (0..r).map(|_| self.rng.random_range(0..=2)).collect();
        let interior = (0..r).map(|_| self.rng.random_range(0..=1)).collect();
        self.push(Op::Pad { low, high, interior }, &[v, p])
    }

    fn concatenate(&mut self) -> Option<Value> {
        let v = self.pick();
        let t = self.ty(v);
        if t.rank() == 0 {
            return None;
        }
        let axis = self.rng.random_range(0..t.rank());
        let mut parts = vec![v];
        for _ in 0..self.rng.random_range(1..=2) {
            let w = self.pick_where(|u| {
                u.dtype == t.dtype
                    && u.rank() == t.rank()
                    && (0..u.rank()).all(|a| a == axis || u.shape[a] == t.shape[a])
            });
            parts.push(w.unwrap_or(v));
        }
        self.push(Op::Concatenate { axis }, &parts)
    }

    fn dot(&mut self) -> Option<Value> {
        let v = self.pick_where(|t| t.rank() >= 1 && t.dtype.is_numeric())?;
        let t = self.ty(v);
        let w = self.same_type_partner(v);
        let a = self.rng.random_range(0..t.rank());
        let mut dims = DotDims::contract(a, a);
        if t.rank() >= 2 && self.rng.random_bool(0.5) {
            let b = (0..t.rank()).find(|&b| b != a).expect("rank >= 2");
            dims.lhs_batch = vec![b];
            dims.rhs_batch = vec![b];
        }
        self.push(Op::DotGeneral(dims), &[v, w])
    }

    fn take(&mut self) -> Option<Value> {
        let v = self.pick_where(|t| t.rank() >= 1 && t.shape.iter().all(|&n| n > 0))?;
        let t = self.ty(v);
        let axis = self.rng.random_range(0..t.rank());
        let shape: Vec<usize> = (0..self.rng.random_range(0..=2)).map(|_| self.rng.random_range(1..=3)).collect();
        let idx = self.index_const(shape, t.shape[axis]);
        self.push(Op::Take { axis }, &[v, idx])
    }

    fn segment_sum(&mut self) -> Option<Value> {
        let v = self.pick_where(|t| t.rank() >= 1 && t.dtype.is_numeric())?;
        let t = self.ty(v);
        let num_segments = self.rng.random_range(1..=4);
        let idx = self.index_const(vec![t.shape[0]], num_segments);
        self.push(Op::SegmentSum { num_segments }, &[v, idx])
    }

    fn cholesky_and_solve(&mut self) -> Option<Value> {
        let x =
            self.pick_where(|t| t.dtype.is_float() && t.rank() >= 2 && t.shape[t.rank() - 1] == t.shape[t.rank() - 2])?;
        let t = self.ty(x);
        let r = t.rank();
        let n = t.shape[r - 1];
        let batch: Vec<usize> = (0..r - 2).collect();
        let dims = DotDims {
            lhs_contract: vec![r - 1],
            rhs_contract: vec![r - 1],
            lhs_batch: batch.clone(),
            rhs_batch: batch,
        };
        let xxt = self.b.push(Op::DotGeneral(dims), &[x, x]).ok()?;
        // x·xᵀ + (n + 1)·I is positive definite whatever finite x is.
        let eye: Vec<Scalar> = (0..t.num_elements())
            .map(|i| {
                let (row, col) = ((i / n) % n, i % n);
                Scalar::from_f64(t.dtype, if row == col { n as f64 + 1.0 } else { 0.0 })
            })
            .collect();
        let c = self.b.constant(Literal::dense(Array::from_scalars(&t, &eye)?));
        let spd = self.b.push(Op::Binary(Binary::Add), &[xxt, c]).ok()?;
        let l = self.push(Op::Cholesky, &[spd])?;
        if self.rng.random_bool(0.7) {
            let op = Op::TriangularSolve {
                left_side: self.rng.random_bool(0.5),
                lower: self.rng.random_bool(0.7),
                transpose_a: self.rng.random_bool(0.5),
                unit_diagonal: self.rng.random_bool(0.2),
            };
            let b = self.same_type_partner(x);
            return self.push(op, &[l, b]);
        }
        Some(l)
    }

    fn name_values(&mut self) {
        const NAMES: [&str; 8] = ["x", "y", "0", "1", "t.1", "a_b", "x.1", "lp"];
        for i in 0..self.b.num_values() {
            if self.rng.random_bool(0.5) {
                let n = NAMES[self.rng.random_range(0..NAMES.len())];
                self.b.set_name(Value::from_index(i), n);
            }
        }
    }
}
