//! The methods and operators of [`Tensor`].

use std::ops::{Add, Div, Mul, Neg, Not, Sub};

use ndarray::{ArrayBase, ArrayD, Data, Dimension};

use super::{Tensor, Tracer};
use crate::op::{Binary, Compare, DotDims, ReduceKind, Unary};
use crate::{Array, DType, Literal, Op, Scalar, TensorType, TypeError};

/// Element types that constants can be made of.
pub trait Element: Copy + 'static {
    /// The matching dtype.
    const DTYPE: DType;
    /// Wraps an array of this element type.
    fn into_array(a: ArrayD<Self>) -> Array;
}

macro_rules! element {
    ($t:ty, $d:ident) => {
        impl Element for $t {
            const DTYPE: DType = DType::$d;
            fn into_array(a: ArrayD<$t>) -> Array {
                Array::$d(a)
            }
        }
    };
}
element!(f32, F32);
element!(f64, F64);
element!(i32, I32);
element!(i64, I64);
element!(bool, Bool);

/// Things [`Tracer::constant`] accepts: scalars, slices, arrays of
/// elements, ndarray arrays of any dimension, and [`Array`].
pub trait IntoConstant {
    /// The literal.
    fn into_literal(self) -> Literal;
}

impl<A: Element> IntoConstant for A {
    fn into_literal(self) -> Literal {
        Literal::dense(A::into_array(ArrayD::from_elem(ndarray::IxDyn(&[]), self)))
    }
}

impl<A: Element> IntoConstant for &[A] {
    fn into_literal(self) -> Literal {
        Literal::dense(A::into_array(
            ArrayD::from_shape_vec(ndarray::IxDyn(&[self.len()]), self.to_vec()).expect("1-D shape matches"),
        ))
    }
}

impl<A: Element, const N: usize> IntoConstant for &[A; N] {
    fn into_literal(self) -> Literal {
        self.as_slice().into_literal()
    }
}

impl<A: Element> IntoConstant for Vec<A> {
    fn into_literal(self) -> Literal {
        self.as_slice().into_literal()
    }
}

impl<A: Element, S: Data<Elem = A>, D: Dimension> IntoConstant for ArrayBase<S, D> {
    fn into_literal(self) -> Literal {
        Literal::dense(A::into_array(self.to_owned().into_dyn()))
    }
}

impl IntoConstant for Array {
    fn into_literal(self) -> Literal {
        Literal::dense(self)
    }
}

/// Operands of binary methods: a tensor, or an `f64` number that takes the
/// other operand's dtype (so `x * 2.0` works for `f32` and integer `x` too).
pub trait Operand<'t>: Copy {
    /// The operand as a tensor shaped and typed like `like` (numbers) or
    /// itself (tensors).
    fn to_tensor(self, like: Tensor<'t>) -> Tensor<'t>;
    /// The tensor, when the operand is one.
    fn as_tensor(self) -> Option<Tensor<'t>> {
        None
    }
}

impl<'t> Operand<'t> for Tensor<'t> {
    fn to_tensor(self, _like: Tensor<'t>) -> Tensor<'t> {
        self
    }
    fn as_tensor(self) -> Option<Tensor<'t>> {
        Some(self)
    }
}

macro_rules! number_operand {
    ($t:ty) => {
        impl<'t> Operand<'t> for $t {
            #[track_caller]
            fn to_tensor(self, like: Tensor<'t>) -> Tensor<'t> {
                like.scalar_like(self as f64)
            }
        }
    };
}
number_operand!(f64);

/// The numpy broadcast of two shapes, if they are compatible.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let r = a.len().max(b.len());
    let mut out = vec![0; r];
    for i in 0..r {
        let da = if i < r - a.len() { 1 } else { a[i - (r - a.len())] };
        let db = if i < r - b.len() { 1 } else { b[i - (r - b.len())] };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

macro_rules! unary_methods {
    ($($(#[$doc:meta])* $name:ident => $op:expr;)*) => {
        $(
            $(#[$doc])*
            #[track_caller]
            pub fn $name(self) -> Tensor<'t> {
                self.unary($op)
            }
        )*
    };
}

macro_rules! binary_methods {
    ($($(#[$doc:meta])* $name:ident => $op:expr;)*) => {
        $(
            $(#[$doc])*
            #[track_caller]
            pub fn $name(self, other: impl Operand<'t>) -> Tensor<'t> {
                self.binary_op(Op::Binary($op), other)
            }
        )*
    };
}

macro_rules! compare_methods {
    ($($(#[$doc:meta])* $name:ident => $op:expr;)*) => {
        $(
            $(#[$doc])*
            #[track_caller]
            pub fn $name(self, other: impl Operand<'t>) -> Tensor<'t> {
                self.binary_op(Op::Compare($op), other)
            }
        )*
    };
}

impl<'t> Tensor<'t> {
    /// A number as a splat constant of this tensor's type.
    #[track_caller]
    pub fn scalar_like(self, x: f64) -> Tensor<'t> {
        let ty = self.ty();
        let s = Scalar::from_f64(ty.dtype, x);
        if s.to_f64() != x && !(x.is_nan() && ty.dtype.is_float()) && ty.dtype != DType::F32 {
            return self.tr.fail(TypeError::invalid("const", format!("{x} cannot be represented in {}", ty.dtype)));
        }
        self.tr.literal(Literal::Splat { ty, value: s })
    }

    #[track_caller]
    fn unary(self, u: Unary) -> Tensor<'t> {
        self.tr.op(Op::Unary(u), &[self])
    }

    /// Applies a two-operand elementwise op with numpy broadcasting.
    #[track_caller]
    pub fn binary_op(self, op: Op, other: impl Operand<'t>) -> Tensor<'t> {
        let other = other.to_tensor(self);
        let (a, b) = self.broadcast_with(other);
        self.tr.op(op, &[a, b])
    }

    /// Broadcasts `self` and `other` to their common numpy shape.
    #[track_caller]
    pub fn broadcast_with(self, other: Tensor<'t>) -> (Tensor<'t>, Tensor<'t>) {
        let (sa, sb) = (self.shape(), other.shape());
        if sa == sb {
            return (self, other);
        }
        match broadcast_shapes(&sa, &sb) {
            Some(s) => (self.broadcast_to(&s), other.broadcast_to(&s)),
            None => {
                let p = self.tr.fail(TypeError::Mismatch {
                    op: "broadcast",
                    operand: 1,
                    found: Box::new(other.ty()),
                    expected: Box::new(self.ty()),
                });
                (p, p)
            }
        }
    }

    /// Numpy-style broadcast to `shape` (axes aligned on the right; extents
    /// of 1 stretch).
    #[track_caller]
    pub fn broadcast_to(self, shape: &[usize]) -> Tensor<'t> {
        let s = self.shape();
        if s == shape {
            return self;
        }
        if s.len() > shape.len() {
            return self.tr.fail(TypeError::invalid(
                "broadcast_in_dim",
                format!("cannot broadcast {} to fewer axes {:?}", self.ty(), shape),
            ));
        }
        let off = shape.len() - s.len();
        self.broadcast_in_dim(shape, &(off..shape.len()).collect::<Vec<_>>())
    }

    /// `broadcast_in_dim`: operand axis `i` becomes result axis `dims[i]`.
    #[track_caller]
    pub fn broadcast_in_dim(self, shape: &[usize], dims: &[usize]) -> Tensor<'t> {
        self.tr.op(Op::BroadcastInDim { shape: shape.to_vec(), dims: dims.to_vec() }, &[self])
    }

    unary_methods! {
        /// Elementwise `e^x`.
        exp => Unary::Exp;
        /// Elementwise natural logarithm.
        log => Unary::Log;
        /// Elementwise `log(1 + x)`.
        log1p => Unary::Log1p;
        /// Elementwise `e^x - 1`.
        expm1 => Unary::Expm1;
        /// Elementwise sine.
        sin => Unary::Sin;
        /// Elementwise cosine.
        cos => Unary::Cos;
        /// Elementwise hyperbolic tangent.
        tanh => Unary::Tanh;
        /// Elementwise `1 / (1 + e^-x)`.
        logistic => Unary::Logistic;
        /// Elementwise square root.
        sqrt => Unary::Sqrt;
        /// Elementwise `1 / sqrt(x)`.
        rsqrt => Unary::Rsqrt;
        /// Elementwise `log |Γ(x)|`.
        lgamma => Unary::Lgamma;
        /// Elementwise digamma.
        digamma => Unary::Digamma;
        /// Elementwise error function.
        erf => Unary::Erf;
        /// Elementwise absolute value.
        abs => Unary::Abs;
        /// Elementwise sign (-1, 0, 1).
        sign => Unary::Sign;
    }

    /// Same as [`Tensor::logistic`].
    #[track_caller]
    pub fn sigmoid(self) -> Tensor<'t> {
        self.unary(Unary::Logistic)
    }

    /// Elementwise `ψ⁽ⁿ⁾(x)`.
    #[track_caller]
    pub fn polygamma(self, n: u32) -> Tensor<'t> {
        self.unary(Unary::Polygamma { n })
    }

    /// Elementwise `x^y` for an integer `y` (`integer_pow`).
    #[track_caller]
    pub fn powi(self, y: i32) -> Tensor<'t> {
        self.unary(Unary::IntegerPow { y })
    }

    /// Elementwise `x²`.
    #[track_caller]
    pub fn square(self) -> Tensor<'t> {
        self.powi(2)
    }

    /// Elementwise `log(1 + e^x)`, stable for large `|x|`.
    #[track_caller]
    ///
    /// Written as `max(x, 0) + log1p(exp(-|x|))` with both kinks expressed
    /// by one `select` on `x > 0`, so that derivatives are exact everywhere,
    /// including `x = 0` (where `max` and `abs` alone would take their
    /// tie conventions and give 0 instead of ½).
    pub fn softplus(self) -> Tensor<'t> {
        let positive = self.gt(0.0);
        let relu = positive.select(self, 0.0);
        let minus_abs = positive.select(-self, self);
        relu + minus_abs.exp().log1p()
    }

    /// Elementwise `log(1 / (1 + e^-x))`, stable for large `|x|`.
    #[track_caller]
    pub fn log_sigmoid(self) -> Tensor<'t> {
        -(-self).softplus()
    }

    binary_methods! {
        /// Elementwise `x^y` (float).
        pow => Binary::Pow;
        /// Elementwise maximum.
        max => Binary::Max;
        /// Elementwise minimum.
        min => Binary::Min;
        /// Elementwise logical and (bool).
        and => Binary::And;
        /// Elementwise logical or (bool).
        or => Binary::Or;
    }

    compare_methods! {
        /// Elementwise `==`.
        eq => Compare::Eq;
        /// Elementwise `!=`.
        ne => Compare::Ne;
        /// Elementwise `<`.
        lt => Compare::Lt;
        /// Elementwise `<=`.
        le => Compare::Le;
        /// Elementwise `>`.
        gt => Compare::Gt;
        /// Elementwise `>=`.
        ge => Compare::Ge;
    }

    /// Elementwise choice: where `self` (bool) is true take `on_true`,
    /// else `on_false`; all three broadcast together.
    #[track_caller]
    pub fn select(self, on_true: impl Operand<'t>, on_false: impl Operand<'t>) -> Tensor<'t> {
        let like = on_true.as_tensor().or(on_false.as_tensor()).unwrap_or_else(|| self.tr.zeros(&TensorType::f64([])));
        let (t, f) = (on_true.to_tensor(like), on_false.to_tensor(like));
        let shape = broadcast_shapes(&self.shape(), &t.shape()).and_then(|s| broadcast_shapes(&s, &f.shape()));
        match shape {
            Some(s) => self.tr.op(Op::Select, &[self.broadcast_to(&s), t.broadcast_to(&s), f.broadcast_to(&s)]),
            None => self.tr.fail(TypeError::Mismatch {
                op: "select",
                operand: 2,
                found: Box::new(f.ty()),
                expected: Box::new(t.ty()),
            }),
        }
    }

    /// Converts to another dtype.
    #[track_caller]
    pub fn convert(self, dtype: DType) -> Tensor<'t> {
        if self.dtype() == dtype {
            return self;
        }
        self.tr.op(Op::Convert { dtype }, &[self])
    }

    /// The same value with a zero derivative.
    #[track_caller]
    pub fn stop_gradient(self) -> Tensor<'t> {
        self.tr.op(Op::StopGradient, &[self])
    }

    /// Reshapes (row-major) to `shape`.
    #[track_caller]
    pub fn reshape(self, shape: &[usize]) -> Tensor<'t> {
        self.tr.op(Op::Reshape { shape: shape.to_vec() }, &[self])
    }

    /// Permutes axes: result axis `i` is axis `perm[i]`.
    #[track_caller]
    pub fn transpose(self, perm: &[usize]) -> Tensor<'t> {
        self.tr.op(Op::Transpose { perm: perm.to_vec() }, &[self])
    }

    /// Swaps the last two axes (the matrix transpose); a no-op below rank 2.
    #[track_caller]
    pub fn t(self) -> Tensor<'t> {
        let r = self.rank();
        if r < 2 {
            return self;
        }
        let mut perm: Vec<usize> = (0..r).collect();
        perm.swap(r - 2, r - 1);
        self.transpose(&perm)
    }

    #[track_caller]
    fn reduce(self, kind: ReduceKind, axes: &[usize]) -> Tensor<'t> {
        self.tr.op(Op::Reduce { kind, axes: axes.to_vec() }, &[self])
    }

    /// Sum over `axes`.
    #[track_caller]
    pub fn sum(self, axes: &[usize]) -> Tensor<'t> {
        self.reduce(ReduceKind::Sum, axes)
    }

    /// Sum of every element.
    #[track_caller]
    pub fn sum_all(self) -> Tensor<'t> {
        self.sum(&(0..self.rank()).collect::<Vec<_>>())
    }

    /// Maximum over `axes`.
    #[track_caller]
    pub fn reduce_max(self, axes: &[usize]) -> Tensor<'t> {
        self.reduce(ReduceKind::Max, axes)
    }

    /// Minimum over `axes`.
    #[track_caller]
    pub fn reduce_min(self, axes: &[usize]) -> Tensor<'t> {
        self.reduce(ReduceKind::Min, axes)
    }

    /// Mean over `axes` (float).
    #[track_caller]
    pub fn mean(self, axes: &[usize]) -> Tensor<'t> {
        let shape = self.shape();
        let n: usize = axes.iter().filter_map(|&a| shape.get(a)).product();
        self.sum(axes) / n as f64
    }

    /// `log(sum(exp(x)))` over `axes`, computed stably by shifting by the
    /// (gradient-stopped) maximum.
    #[track_caller]
    pub fn logsumexp(self, axes: &[usize]) -> Tensor<'t> {
        let m = self.reduce_max(axes).stop_gradient();
        let finite = m.abs().lt(f64::INFINITY);
        let m = finite.select(m, 0.0);
        let kept: Vec<usize> = (0..self.rank()).filter(|a| !axes.contains(a)).collect();
        let mb = m.broadcast_in_dim(&self.shape(), &kept);
        (self - mb).exp().sum(axes).log() + m
    }

    /// Slice with unit stride: `start..limit` on each axis.
    #[track_caller]
    pub fn slice(self, start: &[usize], limit: &[usize]) -> Tensor<'t> {
        self.slice_strided(start, limit, &vec![1; start.len()])
    }

    /// Slice with strides.
    #[track_caller]
    pub fn slice_strided(self, start: &[usize], limit: &[usize], stride: &[usize]) -> Tensor<'t> {
        self.tr.op(Op::Slice { start: start.to_vec(), limit: limit.to_vec(), stride: stride.to_vec() }, &[self])
    }

    /// Pads with `value` (`low` before, `high` after, `interior` between
    /// elements, per axis).
    #[track_caller]
    pub fn pad(self, value: impl Operand<'t>, low: &[usize], high: &[usize], interior: &[usize]) -> Tensor<'t> {
        let v = value.to_tensor(self.tr.scalar_of(self));
        self.tr.op(Op::Pad { low: low.to_vec(), high: high.to_vec(), interior: interior.to_vec() }, &[self, v])
    }

    /// `dot_general` with explicit axes.
    #[track_caller]
    pub fn dot_general(self, other: Tensor<'t>, dims: DotDims) -> Tensor<'t> {
        self.tr.op(Op::DotGeneral(dims), &[self, other])
    }

    /// Contracts the last axis of `self` with the first axis of `other`
    /// (for vectors and matrices this is numpy's `dot`).
    #[track_caller]
    pub fn dot(self, other: Tensor<'t>) -> Tensor<'t> {
        let r = self.rank();
        if r == 0 || other.rank() == 0 {
            return self * other;
        }
        self.dot_general(other, DotDims::contract(r - 1, 0))
    }

    /// Numpy's `matmul`: matrix-matrix, matrix-vector, vector-matrix and
    /// vector-vector products; equal leading axes of rank > 2 operands are
    /// batch axes.
    #[track_caller]
    pub fn matmul(self, other: Tensor<'t>) -> Tensor<'t> {
        let (ra, rb) = (self.rank(), other.rank());
        match (ra, rb) {
            (0, _) | (_, 0) => self.tr.fail(TypeError::invalid("matmul", "matmul needs operands of rank at least 1")),
            (1 | 2, 1) | (1, 2) | (2, 2) => self.dot_general(other, DotDims::contract(ra - 1, 0)),
            _ if ra == rb => {
                let batch: Vec<usize> = (0..ra - 2).collect();
                self.dot_general(
                    other,
                    DotDims {
                        lhs_contract: vec![ra - 1],
                        rhs_contract: vec![rb - 2],
                        lhs_batch: batch.clone(),
                        rhs_batch: batch,
                    },
                )
            }
            _ => self.tr.fail(TypeError::Mismatch {
                op: "matmul",
                operand: 1,
                found: Box::new(other.ty()),
                expected: Box::new(self.ty()),
            }),
        }
    }

    /// Gathers along `axis` with integer indices `idx` (`take`).
    #[track_caller]
    pub fn take(self, idx: Tensor<'t>, axis: usize) -> Tensor<'t> {
        self.tr.op(Op::Take { axis }, &[self, idx])
    }

    /// Sums rows of `self` into `num_segments` buckets chosen by `idx`.
    #[track_caller]
    pub fn segment_sum(self, idx: Tensor<'t>, num_segments: usize) -> Tensor<'t> {
        self.tr.op(Op::SegmentSum { num_segments }, &[self, idx])
    }

    /// Lower Cholesky factor of a symmetric positive-definite matrix (or
    /// batch of matrices).
    #[track_caller]
    pub fn cholesky(self) -> Tensor<'t> {
        self.tr.op(Op::Cholesky, &[self])
    }

    /// Solves `op(self)·x = b` (`left_side`) or `x·op(self) = b` with `self`
    /// triangular.
    #[track_caller]
    pub fn triangular_solve(
        self,
        b: Tensor<'t>,
        left_side: bool,
        lower: bool,
        transpose_a: bool,
        unit_diagonal: bool,
    ) -> Tensor<'t> {
        self.tr.op(Op::TriangularSolve { left_side, lower, transpose_a, unit_diagonal }, &[self, b])
    }

    /// Solves `self·x = b` for lower-triangular `self`.
    #[track_caller]
    pub fn solve_lower(self, b: Tensor<'t>) -> Tensor<'t> {
        self.triangular_solve(b, true, true, false, false)
    }
}

impl Tracer {
    #[track_caller]
    fn scalar_of(&self, like: Tensor<'_>) -> Tensor<'_> {
        self.literal(Literal::Splat { ty: TensorType::scalar(like.dtype()), value: Scalar::zero(like.dtype()) })
    }
}

macro_rules! arith {
    ($tr:ident, $m:ident, $b:expr) => {
        impl<'t, R: Operand<'t>> $tr<R> for Tensor<'t> {
            type Output = Tensor<'t>;
            #[track_caller]
            fn $m(self, rhs: R) -> Tensor<'t> {
                self.binary_op(Op::Binary($b), rhs)
            }
        }
        impl<'t> $tr<Tensor<'t>> for f64 {
            type Output = Tensor<'t>;
            #[track_caller]
            fn $m(self, rhs: Tensor<'t>) -> Tensor<'t> {
                rhs.scalar_like(self).binary_op(Op::Binary($b), rhs)
            }
        }
    };
}
arith!(Add, add, Binary::Add);
arith!(Sub, sub, Binary::Sub);
arith!(Mul, mul, Binary::Mul);
arith!(Div, div, Binary::Div);

impl<'t> Neg for Tensor<'t> {
    type Output = Tensor<'t>;
    #[track_caller]
    fn neg(self) -> Tensor<'t> {
        self.unary(Unary::Neg)
    }
}

impl<'t> Not for Tensor<'t> {
    type Output = Tensor<'t>;
    /// Elementwise logical not (bool).
    #[track_caller]
    fn not(self) -> Tensor<'t> {
        self.unary(Unary::Not)
    }
}
