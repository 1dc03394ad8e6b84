//! The cost model: estimated floating-point operations and bytes moved per
//! op, read from shapes alone.

use std::fmt;

use crate::{Func, Op, TensorType};

/// Estimated work of one op or a whole function.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Cost {
    /// Arithmetic operations: one per element for elementwise ops (four
    /// for a division) and reductions, `2·M·N·K` (times the batch size) for
    /// `dot_general`,
    /// `n³/3` for `cholesky`, `n²·k` for `triangular_solve`.
    pub flops: f64,
    /// Bytes read and written: operands and result, except that a slice or
    /// a `take` reads only what it keeps, and a `reshape` is free.
    pub bytes: f64,
}

impl Cost {
    /// The one number extraction minimises: flops, plus one unit per eight
    /// bytes moved, plus one per op so that among equals fewer ops win.
    pub fn weight(&self) -> f64 {
        self.flops + self.bytes / 8.0 + 1.0
    }
}

impl std::ops::Add for Cost {
    type Output = Cost;
    fn add(self, o: Cost) -> Cost {
        Cost { flops: self.flops + o.flops, bytes: self.bytes + o.bytes }
    }
}

impl std::iter::Sum for Cost {
    fn sum<I: Iterator<Item = Cost>>(iter: I) -> Cost {
        iter.fold(Cost::default(), |a, b| a + b)
    }
}

fn elements(t: &TensorType) -> f64 {
    t.num_elements() as f64
}

fn bytes(t: &TensorType) -> f64 {
    t.size_bytes() as f64
}

/// The estimated cost of `op` applied to operands of types `args`,
/// producing `out`.
pub fn op_cost(op: &Op, args: &[&TensorType], out: &TensorType) -> Cost {
    let io = || args.iter().map(|t| bytes(t)).sum::<f64>() + bytes(out);
    let (flops, bytes_moved) = match op {
        Op::Const(lit) => match lit {
            crate::Literal::Splat { ty, .. } => (0.0, ty.dtype.size_bytes() as f64),
            crate::Literal::Dense(_) => (0.0, bytes(out)),
        },
        Op::Iota { .. } => (elements(out), bytes(out)),
        // A division takes several times a product's time on every CPU, so
        // `x · (1/c)` wins over `x / c` where the two are the same.
        Op::Binary(crate::op::Binary::Div) => (4.0 * elements(out), io()),
        Op::Unary(_) | Op::Binary(_) | Op::Compare(_) | Op::Select => (elements(out), io()),
        Op::Convert { .. } | Op::StopGradient => (0.0, io()),
        Op::BroadcastInDim { .. } | Op::Transpose { .. } | Op::Pad { .. } | Op::Concatenate { .. } => (0.0, io()),
        Op::Slice { .. } => (0.0, 2.0 * bytes(out)),
        Op::Take { .. } => (0.0, 2.0 * bytes(out) + bytes(args[1])),
        Op::Reshape { .. } => (0.0, 0.0),
        Op::Reduce { .. } => (elements(args[0]), io()),
        Op::SegmentSum { .. } => (elements(args[0]), io()),
        Op::DotGeneral(d) => {
            let (l, r) = (args[0], args[1]);
            let batch: f64 = d.lhs_batch.iter().map(|&a| l.shape[a] as f64).product();
            let k: f64 = d.lhs_contract.iter().map(|&a| l.shape[a] as f64).product();
            let m: f64 = d.lhs_free(l.rank()).iter().map(|&a| l.shape[a] as f64).product();
            let n: f64 = d.rhs_free(r.rank()).iter().map(|&a| r.shape[a] as f64).product();
            (2.0 * batch * m * n * k, io())
        }
        Op::Cholesky => {
            let r = out.rank();
            let n = out.shape[r - 1] as f64;
            let batch = elements(out) / (n * n).max(1.0);
            (batch * n * n * n / 3.0, io())
        }
        Op::TriangularSolve { .. } => {
            let a = args[0];
            let n = a.shape[a.rank() - 1] as f64;
            let batch = elements(a) / (n * n).max(1.0);
            let k = elements(out) / (batch * n).max(1.0);
            (batch * n * n * k, io())
        }
    };
    Cost { flops, bytes: bytes_moved }
}

/// Op count and estimated cost of a function.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CostSummary {
    /// Number of instructions (constants included).
    pub ops: usize,
    /// Summed estimates over the instructions.
    pub cost: Cost,
}

impl fmt::Display for CostSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ops, {} flops, {} bytes", self.ops, human(self.cost.flops), human(self.cost.bytes))
    }
}

/// A count in a short form: `812`, `4.2e6`.
pub(crate) fn human(x: f64) -> String {
    if x < 1e4 { format!("{x:.0}") } else { format!("{x:.2e}") }
}

/// Op count and estimated flops and bytes of `f`, counting every
/// instruction once (shared values are computed once).
///
/// ```
/// use saddle_ir::{parse_func, simplify::estimate};
/// let f = parse_func("f.sir", "func @f(%a: f64[3,4], %b: f64[4,5]) -> f64[3,5] {\n  %c: f64[3,5] = dot_general %a, %b {lhs_contract = [1], rhs_contract = [0]}\n  return %c\n}").unwrap();
/// let s = estimate(&f);
/// assert_eq!((s.ops, s.cost.flops), (1, 2.0 * 3.0 * 4.0 * 5.0));
/// ```
pub fn estimate(f: &Func) -> CostSummary {
    let cost = f
        .iter_insts()
        .map(|(v, inst)| {
            let args = crate::func::map_small(&inst.args, f.ty(v), |a| f.ty(a));
            op_cost(&inst.op, &args, f.ty(v))
        })
        .sum();
    CostSummary { ops: f.insts().len(), cost }
}
