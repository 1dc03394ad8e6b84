//! The reference evaluator: plain loops over ndarray, one instruction at a
//! time, every intermediate materialised.
//!
//! It is the test oracle of the compiled plan ([`crate::compile`]), of
//! differentiation, of simplification and of the XLA lowering. Elementwise
//! ops, reductions (in the order of [`crate::kernels::reduce::sum`]),
//! layout ops and indexing give the same bits as the compiled plan; dense
//! linear algebra beyond small sizes differs by rounding only.
//!
//! ```
//! use saddle_ir::{parse_func, Array};
//! use saddle_runtime::reference;
//! let f = parse_func("f.sir", "func @f(%x: f64[2]) -> f64[] {\n %y: f64[] = reduce_sum %x {axes = [0]}\n return %y\n}").unwrap();
//! let out = reference::eval(&f, &[Array::from(ndarray::arr1(&[1.0, 2.0]).into_dyn())]).unwrap();
//! assert_eq!(out[0].to_f64_vec(), vec![3.0]);
//! ```

mod elementwise;
mod index;
mod layout;
mod linalg;
mod reduce;

use saddle_ir::{Array, Func, Op, TensorType, Value};

use crate::memory::{available_memory, bytes_of, check};
use crate::{Error, check_args};

/// Runs `f` on `inputs` and returns its results.
///
/// Checks the arguments against the signature; reports an index out of
/// range in `take`/`segment_sum` and an integer division by zero as
/// errors; refuses, before allocating, a value that would take more memory
/// than the machine has available. Instructions no result depends on are
/// not run (so they cannot fail).
pub fn eval(f: &Func, inputs: &[Array]) -> Result<Vec<Array>, Error> {
    eval_with_memory_limit(f, inputs, available_memory())
}

/// [`eval`] with an explicit bound on the bytes its live values may take.
pub fn eval_with_memory_limit(f: &Func, inputs: &[Array], memory_limit: u128) -> Result<Vec<Array>, Error> {
    saddle_ir::verify(f)?;
    check_args(f, inputs)?;
    let n = f.num_values();
    let mut last_use = vec![usize::MAX; n];
    // Only instructions the results depend on run (as in the compiled
    // plan, which removes dead code): a fault in dead code is no fault.
    let mut needed = vec![false; n];
    for r in f.results() {
        needed[r.index()] = true;
    }
    for (v, inst) in f.iter_insts().rev() {
        if needed[v.index()] {
            for a in &inst.args {
                needed[a.index()] = true;
            }
        }
    }
    for (i, (v, inst)) in f.iter_insts().enumerate() {
        if needed[v.index()] {
            for a in &inst.args {
                last_use[a.index()] = i;
            }
        }
    }
    for r in f.results() {
        last_use[r.index()] = usize::MAX;
    }
    let mut values: Vec<Option<Array>> = vec![None; n];
    let mut live: u128 = 0;
    for (i, x) in inputs.iter().enumerate() {
        values[i] = Some(standard(x));
        live += bytes_of(&x.ty());
    }
    for (i, (v, inst)) in f.iter_insts().enumerate() {
        if !needed[v.index()] {
            continue;
        }
        let ty = f.ty(v);
        let bytes = bytes_of(ty);
        check(|| format!("{} at {}", inst.op.name(), describe(f, v)), live.saturating_add(bytes), memory_limit)?;
        let args: Vec<&Array> = inst
            .args
            .iter()
            .map(|a| values[a.index()].as_ref().ok_or_else(|| internal("operand freed early")))
            .collect::<Result<_, _>>()?;
        let out = apply(&inst.op, &args, ty, &At { f, v })?;
        if out.ty() != *ty {
            return Err(internal(&format!("{} produced {} instead of {ty}", inst.op.name(), out.ty())));
        }
        values[v.index()] = Some(out);
        live += bytes;
        for a in &inst.args {
            if last_use[a.index()] == i
                && let Some(x) = values[a.index()].take()
            {
                live -= bytes_of(&x.ty());
            }
        }
    }
    f.results().iter().map(|r| values[r.index()].clone().ok_or_else(|| internal("result not computed"))).collect()
}

/// Where an instruction sits, for error messages.
pub(crate) struct At<'a> {
    pub f: &'a Func,
    pub v: Value,
}

impl At<'_> {
    pub(crate) fn name(&self) -> String {
        describe(self.f, self.v)
    }
}

/// `%name`, or `value #N` for an unnamed value.
pub(crate) fn describe(f: &Func, v: Value) -> String {
    match f.value_name(v) {
        Some(n) => format!("%{n}"),
        None => v.to_string(),
    }
}

pub(crate) fn internal(m: &str) -> Error {
    Error::Internal { message: m.to_string() }
}

/// The ndarray of `y`, which must hold `T` like its sibling operand.
pub(crate) fn same<T: crate::scalar::Elem>(y: &Array) -> Result<&ndarray::ArrayD<T>, Error> {
    T::unwrap(y).ok_or_else(|| internal("operands of different dtypes"))
}

/// A copy of `x` in standard (row-major) layout.
pub(crate) fn standard(x: &Array) -> Array {
    saddle_ir::with_array!(x, a => a.as_standard_layout().into_owned().into())
}

/// The value of `iota {dim}` of type `ty`.
pub(crate) fn iota_array(dim: usize, ty: &TensorType) -> Result<Array, Error> {
    layout::iota(dim, ty)
}

fn apply(op: &Op, args: &[&Array], ty: &TensorType, at: &At) -> Result<Array, Error> {
    match op {
        Op::Const(lit) => Ok(lit.to_array()),
        Op::Iota { dim, ty } => layout::iota(*dim, ty),
        Op::Unary(u) => elementwise::unary(*u, args[0]),
        Op::Binary(b) => elementwise::binary(*b, args[0], args[1], at),
        Op::Compare(c) => elementwise::compare(*c, args[0], args[1]),
        Op::Select => elementwise::select(args[0], args[1], args[2]),
        Op::Convert { dtype } => Ok(elementwise::convert(args[0], *dtype)),
        Op::StopGradient => Ok(args[0].clone()),
        Op::BroadcastInDim { shape, dims } => Ok(layout::broadcast_in_dim(args[0], shape, dims)),
        Op::Reshape { shape } => Ok(layout::reshape(args[0], shape)),
        Op::Transpose { perm } => Ok(layout::transpose(args[0], perm)),
        Op::Reduce { kind, axes } => reduce::reduce(*kind, args[0], axes),
        Op::Slice { start, limit, stride } => Ok(layout::slice(args[0], start, limit, stride)),
        Op::Pad { low, high, interior } => layout::pad(args[0], args[1], low, high, interior, ty),
        Op::Concatenate { axis } => Ok(layout::concatenate(args, *axis)),
        Op::DotGeneral(dims) => linalg::dot_general(args[0], args[1], dims, ty),
        Op::Take { axis } => index::take(args[0], args[1], *axis, ty, at),
        Op::SegmentSum { num_segments } => index::segment_sum(args[0], args[1], *num_segments, ty, at),
        Op::Cholesky => linalg::cholesky(args[0]),
        Op::TriangularSolve { left_side, lower, transpose_a, unit_diagonal } => {
            linalg::triangular_solve(args[0], args[1], *left_side, *lower, *transpose_a, *unit_diagonal)
        }
    }
}

/// Matches the numeric variants of an [`Array`], binding the ndarray to
/// `$a` in each arm; `bool` is an internal error (the verifier refuses it).
macro_rules! numeric {
    ($x:expr, $a:ident => $body:expr) => {
        match $x {
            saddle_ir::Array::F32($a) => $body,
            saddle_ir::Array::F64($a) => $body,
            saddle_ir::Array::I32($a) => $body,
            saddle_ir::Array::I64($a) => $body,
            saddle_ir::Array::Bool(_) => return Err($crate::reference::internal("numeric op on bool data")),
        }
    };
}

/// Matches the float variants of an [`Array`].
macro_rules! float {
    ($x:expr, $a:ident => $body:expr) => {
        match $x {
            saddle_ir::Array::F32($a) => $body,
            saddle_ir::Array::F64($a) => $body,
            saddle_ir::Array::I32(_) | saddle_ir::Array::I64(_) | saddle_ir::Array::Bool(_) => {
                return Err($crate::reference::internal("float op on non-float data"))
            }
        }
    };
}

pub(crate) use linalg::cholesky_in_place;
pub(crate) use {float, numeric};
