//! The closed set of IR operations and their typing rules.
//!
//! Every op of the text format is one variant of [`Op`], with its attributes
//! inline. Each concern (typing here, printing, parsing, differentiation,
//! batching, execution, lowering) is one exhaustive `match` over [`Op`], so
//! that a new variant makes the compiler list every rule still to write.
//! The typing rules live in one file per op family, mirrored by the same
//! file names in the other crates:
//! [`elementwise`], [`reduce`], [`layout`], [`linalg`], [`index`].

pub mod elementwise;
pub mod index;
pub mod layout;
pub mod linalg;
pub mod reduce;

use crate::{DType, Literal, TensorType, TypeError};

pub use elementwise::{Binary, Compare, MAX_POLYGAMMA_ORDER, Unary};
pub use linalg::DotDims;
pub use reduce::ReduceKind;

/// An IR operation with its attributes.
///
/// The doc of each variant is its typing rule. All ops produce exactly one
/// value. Elementwise ops take operands of identical type: there is no
/// implicit broadcasting in the IR (the tracing frontend inserts
/// `broadcast_in_dim`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    /// `const {value}`: no operands; the literal's type.
    Const(Literal),
    /// `iota {dim}`: no operands; result `ty`, each element its index along
    /// axis `dim` (`dim < rank`, numeric dtype).
    Iota {
        /// Axis whose index fills the result.
        dim: usize,
        /// The result type (annotated in the text form).
        ty: TensorType,
    },
    /// One-operand elementwise op: result has the operand's type (see
    /// [`Unary`] for which dtypes each accepts).
    Unary(Unary),
    /// Two-operand elementwise op on identical types: result has that type.
    Binary(Binary),
    /// Elementwise comparison of identical types: `bool` of the same shape.
    Compare(Compare),
    /// `select pred, on_true, on_false`: `pred` is `bool` with the shape of
    /// `on_true`; `on_true` and `on_false` have identical types; result has
    /// that type.
    Select,
    /// `convert x {dtype}`: the shape of `x` with element type `dtype`.
    Convert {
        /// Target element type.
        dtype: DType,
    },
    /// `stop_gradient x`: the type of `x`; its derivative is zero.
    StopGradient,
    /// `broadcast_in_dim x {shape, dims}`: `dims[i]` is the result axis of
    /// operand axis `i` (strictly increasing, in range); each operand extent
    /// is 1 or equal to `shape[dims[i]]`. Result: dtype of `x`, `shape`.
    BroadcastInDim {
        /// Result shape.
        shape: Vec<usize>,
        /// Result axis of each operand axis.
        dims: Vec<usize>,
    },
    /// `reshape x {shape}`: same element count, row-major order kept.
    Reshape {
        /// Result shape.
        shape: Vec<usize>,
    },
    /// `transpose x {perm}`: `perm` is a permutation of `0..rank`; result
    /// axis `i` is operand axis `perm[i]`.
    Transpose {
        /// The permutation.
        perm: Vec<usize>,
    },
    /// `reduce_sum`, `reduce_max`, `reduce_min x {axes}`: distinct axes in
    /// range; result is `x` with those axes removed (max and min need a
    /// non-bool dtype; sum also).
    Reduce {
        /// Which reduction.
        kind: ReduceKind,
        /// Axes reduced away.
        axes: Vec<usize>,
    },
    /// `slice x {start, limit, stride}`: per axis `start <= limit <= extent`,
    /// `stride >= 1`; result extent `ceil((limit - start) / stride)`.
    Slice {
        /// First index taken, per axis.
        start: Vec<usize>,
        /// One past the last index, per axis.
        limit: Vec<usize>,
        /// Step, per axis.
        stride: Vec<usize>,
    },
    /// `pad x, v {low, high, interior}`: `v` is a scalar of `x`'s dtype;
    /// result extent per axis `low + high + n + (n - 1) * interior` (with
    /// `n - 1` taken as 0 when `n` is 0).
    Pad {
        /// Padding before the first element, per axis.
        low: Vec<usize>,
        /// Padding after the last element, per axis.
        high: Vec<usize>,
        /// Padding between elements, per axis.
        interior: Vec<usize>,
    },
    /// `concatenate x1, ..., xn {axis}`: at least one operand, same dtype and
    /// rank, extents equal except along `axis`; result extent along `axis`
    /// is the sum.
    Concatenate {
        /// The joined axis.
        axis: usize,
    },
    /// `dot_general lhs, rhs {lhs_contract, rhs_contract, lhs_batch,
    /// rhs_batch}`: same float or integer dtype; paired contracting and batch
    /// axes have equal extents; result axes are the batch axes, then the
    /// free axes of `lhs`, then those of `rhs` (as in XLA).
    DotGeneral(DotDims),
    /// `take x, idx {axis}`: `idx` is `i32` or `i64`; result shape
    /// `x.shape[..axis] ++ idx.shape ++ x.shape[axis+1..]`.
    Take {
        /// The indexed axis of `x`.
        axis: usize,
    },
    /// `segment_sum data, idx {num_segments}`: `idx` is rank-1 `i32` or `i64`
    /// of length `data.shape[0]`; result `[num_segments] ++ data.shape[1..]`.
    SegmentSum {
        /// Number of output rows.
        num_segments: usize,
    },
    /// `cholesky a`: float `[..., n, n]`; result is the lower factor, with
    /// the type of `a`.
    Cholesky,
    /// `triangular_solve a, b {...}`: float, same dtype; `a` is
    /// `[..., n, n]`, `b` is `[..., n, k]` when `left_side` else
    /// `[..., k, n]`, equal batch axes; result has the type of `b`.
    TriangularSolve {
        /// Solve `op(a)·x = b` (true) or `x·op(a) = b` (false).
        left_side: bool,
        /// `a` is lower (true) or upper (false) triangular.
        lower: bool,
        /// Use `aᵀ` for `op(a)`.
        transpose_a: bool,
        /// Take the diagonal of `a` as ones.
        unit_diagonal: bool,
    },
}

/// How many operands an op takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arity {
    /// Exactly this many.
    Exactly(usize),
    /// This many or more.
    AtLeast(usize),
}

impl Op {
    /// Whether the op's two operands may be swapped without changing its
    /// result: `add`, `mul`, `max`, `min`, `and`, `or`, `eq`, `ne`.
    ///
    /// ```
    /// use saddle_ir::{Op, op::Binary};
    /// assert!(Op::Binary(Binary::Add).is_commutative());
    /// assert!(!Op::Binary(Binary::Sub).is_commutative());
    /// ```
    pub fn is_commutative(&self) -> bool {
        matches!(
            self,
            Op::Binary(Binary::Add | Binary::Mul | Binary::Max | Binary::Min | Binary::And | Binary::Or)
                | Op::Compare(Compare::Eq | Compare::Ne)
        )
    }

    /// The op's name in the text format.
    #[inline]
    pub fn name(&self) -> &'static str {
        match self {
            Op::Const(_) => "const",
            Op::Iota { .. } => "iota",
            Op::Unary(u) => u.name(),
            Op::Binary(b) => b.name(),
            Op::Compare(c) => c.name(),
            Op::Select => "select",
            Op::Convert { .. } => "convert",
            Op::StopGradient => "stop_gradient",
            Op::BroadcastInDim { .. } => "broadcast_in_dim",
            Op::Reshape { .. } => "reshape",
            Op::Transpose { .. } => "transpose",
            Op::Reduce { kind, .. } => kind.name(),
            Op::Slice { .. } => "slice",
            Op::Pad { .. } => "pad",
            Op::Concatenate { .. } => "concatenate",
            Op::DotGeneral(_) => "dot_general",
            Op::Take { .. } => "take",
            Op::SegmentSum { .. } => "segment_sum",
            Op::Cholesky => "cholesky",
            Op::TriangularSolve { .. } => "triangular_solve",
        }
    }

    /// How many operands the op takes.
    pub fn arity(&self) -> Arity {
        match self {
            Op::Const(_) | Op::Iota { .. } => Arity::Exactly(0),
            Op::Unary(_)
            | Op::Convert { .. }
            | Op::StopGradient
            | Op::BroadcastInDim { .. }
            | Op::Reshape { .. }
            | Op::Transpose { .. }
            | Op::Reduce { .. }
            | Op::Slice { .. }
            | Op::Cholesky => Arity::Exactly(1),
            Op::Binary(_)
            | Op::Compare(_)
            | Op::Pad { .. }
            | Op::DotGeneral(_)
            | Op::Take { .. }
            | Op::SegmentSum { .. }
            | Op::TriangularSolve { .. } => Arity::Exactly(2),
            Op::Select => Arity::Exactly(3),
            Op::Concatenate { .. } => Arity::AtLeast(1),
        }
    }

    /// Whether the op applies one scalar function to every element position
    /// of identically shaped operands (the ops the runtime fuses).
    pub fn is_elementwise(&self) -> bool {
        matches!(
            self,
            Op::Unary(_) | Op::Binary(_) | Op::Compare(_) | Op::Select | Op::Convert { .. } | Op::StopGradient
        )
    }

    /// The result type of this op applied to operands of `args` types.
    ///
    /// This is the single typing rule that the builder, the verifier, the
    /// parser and the simplifier's e-class analysis all call.
    pub fn infer_type(&self, args: &[&TensorType]) -> Result<TensorType, TypeError> {
        let name = self.name();
        let ok = match self.arity() {
            Arity::Exactly(n) => args.len() == n,
            Arity::AtLeast(n) => args.len() >= n,
        };
        if !ok {
            return Err(TypeError::Arity { op: name, expected: self.arity(), found: args.len() });
        }
        let ty = match self {
            Op::Const(lit) => lit.ty(),
            Op::Iota { dim, ty } => layout::iota(*dim, ty)?,
            Op::Unary(u) => elementwise::unary(*u, args[0])?,
            Op::Binary(b) => elementwise::binary(*b, args[0], args[1])?,
            Op::Compare(c) => elementwise::compare(*c, args[0], args[1])?,
            Op::Select => elementwise::select(args[0], args[1], args[2])?,
            Op::Convert { dtype } => args[0].with_dtype(*dtype),
            Op::StopGradient => args[0].clone(),
            Op::BroadcastInDim { shape, dims } => layout::broadcast_in_dim(args[0], shape, dims)?,
            Op::Reshape { shape } => layout::reshape(args[0], shape)?,
            Op::Transpose { perm } => layout::transpose(args[0], perm)?,
            Op::Reduce { kind, axes } => reduce::reduce(*kind, args[0], axes)?,
            Op::Slice { start, limit, stride } => layout::slice(args[0], start, limit, stride)?,
            Op::Pad { low, high, interior } => layout::pad(args[0], args[1], low, high, interior)?,
            Op::Concatenate { axis } => layout::concatenate(args, *axis)?,
            Op::DotGeneral(dims) => linalg::dot_general(args[0], args[1], dims)?,
            Op::Take { axis } => index::take(args[0], args[1], *axis)?,
            Op::SegmentSum { num_segments } => index::segment_sum(args[0], args[1], *num_segments)?,
            Op::Cholesky => linalg::cholesky(args[0])?,
            Op::TriangularSolve { left_side, .. } => linalg::triangular_solve(args[0], args[1], *left_side)?,
        };
        ty.checked().map_err(TypeError::from)
    }

    /// One instance of every op kind (with placeholder attributes), for
    /// coverage tests that check each concern handles every op.
    pub fn every_kind() -> Vec<Op> {
        let mut ops =
            vec![Op::Const(Literal::splat(crate::Scalar::F64(0.0), [])), Op::Iota { dim: 0, ty: TensorType::f64([1]) }];
        ops.extend(Unary::ALL.iter().map(|&u| Op::Unary(u)));
        ops.extend(Binary::ALL.iter().map(|&b| Op::Binary(b)));
        ops.extend(Compare::ALL.iter().map(|&c| Op::Compare(c)));
        ops.extend([
            Op::Select,
            Op::Convert { dtype: DType::F64 },
            Op::StopGradient,
            Op::BroadcastInDim { shape: vec![], dims: vec![] },
            Op::Reshape { shape: vec![] },
            Op::Transpose { perm: vec![] },
        ]);
        ops.extend(ReduceKind::ALL.iter().map(|&kind| Op::Reduce { kind, axes: vec![] }));
        ops.extend([
            Op::Slice { start: vec![], limit: vec![], stride: vec![] },
            Op::Pad { low: vec![], high: vec![], interior: vec![] },
            Op::Concatenate { axis: 0 },
            Op::DotGeneral(DotDims::default()),
            Op::Take { axis: 0 },
            Op::SegmentSum { num_segments: 1 },
            Op::Cholesky,
            Op::TriangularSolve { left_side: true, lower: true, transpose_a: false, unit_diagonal: false },
        ]);
        ops
    }
}

/// Checks that every axis in `axes` is below `rank` and none repeats.
pub(crate) fn check_axes<'x>(
    op: &'static str,
    what: &str,
    axes: impl IntoIterator<Item = &'x usize>,
    rank: usize,
) -> Result<(), TypeError> {
    // Ranks are at most MAX_RANK (32), so a bit mask records the axes seen.
    let mut seen: u64 = 0;
    for &a in axes {
        if a >= rank || a >= 64 {
            return Err(TypeError::invalid(op, format!("{what} axis {a} is out of range for rank {rank}")));
        }
        if seen & (1 << a) != 0 {
            return Err(TypeError::invalid(op, format!("{what} axis {a} appears twice")));
        }
        seen |= 1 << a;
    }
    Ok(())
}
