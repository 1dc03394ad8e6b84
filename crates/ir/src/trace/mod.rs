//! The tracing frontend: write a log density as a Rust closure over
//! [`Tensor`]s and get a [`Func`].
//!
//! [`Tensor`] is a small `Copy` handle; arithmetic operators, numpy-style
//! broadcasting and one method per op family make traced code read like
//! the NumPy it replaces. Every op records the Rust call site that built it
//! (`#[track_caller]`), printed with `PrintOptions { locations: true }`.
//!
//! An ill-typed op does not panic: the first error is recorded with its
//! call site and returned by [`trace`] (or [`Tracer::finish`]); later ops
//! that depend on the failed one are skipped.
//!
//! ```
//! use ndarray::{arr1, arr2};
//! use saddle_ir::{trace, TensorType};
//!
//! // The seed's 2-D Student-t log density (unnormalised).
//! let f = saddle_ir::trace::trace_with("log_posterior", &[TensorType::f64([2])], |tr, args| {
//!     let theta = args[0];
//!     let mu = tr.constant(arr1(&[0.5, 2.0]));
//!     let sinv = tr.constant(arr2(&[[4.0 / 3.0, -2.0 / 3.0], [-2.0 / 3.0, 4.0 / 3.0]]));
//!     let d = theta - mu;
//!     let q = d.dot(sinv.matmul(d));
//!     vec![-4.5 * (1.0 + q / 7.0).log()]
//! })
//! .unwrap();
//! assert_eq!(f.result_types(), vec![TensorType::f64([])]);
//! ```

mod ops;

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

pub use ops::{Element, IntoConstant, Operand, broadcast_shapes};

use crate::{Error, Func, FuncBuilder, Literal, Location, Op, TensorType, TypeError, Value};

/// Builds a function by running `f` on traced parameters of types `params`.
///
/// ```
/// use saddle_ir::{trace, TensorType};
/// let f = trace("softplus", &[TensorType::f64([3])], |x| vec![(1.0 + x[0].exp()).log()]).unwrap();
/// assert_eq!(f.insts().len(), 4);
/// ```
pub fn trace<F>(name: &str, params: &[TensorType], f: F) -> Result<Func, Error>
where
    F: for<'t> FnOnce(&[Tensor<'t>]) -> Vec<Tensor<'t>>,
{
    trace_with(name, params, |_, args| f(args))
}

/// Like [`trace`], with the [`Tracer`] at hand for constants and `iota`.
pub fn trace_with<F>(name: &str, params: &[TensorType], f: F) -> Result<Func, Error>
where
    F: for<'t> FnOnce(&'t Tracer, &[Tensor<'t>]) -> Vec<Tensor<'t>>,
{
    let tr = Tracer::new(name);
    let args: Vec<Tensor<'_>> = params.iter().map(|t| tr.param(t.clone())).collect();
    let results = f(&tr, &args);
    let results: Vec<Value> = results.iter().map(|t| t.v).collect();
    tr.finish_values(&results)
}

/// The handle of a traced value. Cheap to copy; belongs to one [`Tracer`].
#[derive(Clone, Copy)]
pub struct Tensor<'t> {
    tr: &'t Tracer,
    v: Value,
}

impl std::fmt::Debug for Tensor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tensor({}, {})", self.v, self.ty())
    }
}

/// Records ops into a function under construction.
pub struct Tracer {
    b: RefCell<FuncBuilder>,
    error: RefCell<Option<Error>>,
    files: RefCell<HashMap<&'static str, Arc<str>>>,
    loc_override: RefCell<Option<Location>>,
}

/// Marks a value whose definition failed.
const POISON: Value = Value::from_raw(u32::MAX);

impl Tracer {
    /// A tracer for a new function called `name`.
    pub fn new(name: &str) -> Tracer {
        Tracer {
            b: RefCell::new(FuncBuilder::new(name)),
            error: RefCell::new(None),
            files: RefCell::new(HashMap::new()),
            loc_override: RefCell::new(None),
        }
    }

    /// Adds a parameter. Parameters must be added before any op.
    #[track_caller]
    pub fn param(&self, ty: TensorType) -> Tensor<'_> {
        let r = self.b.borrow_mut().param(ty);
        match r {
            Ok(v) => self.tensor(v),
            Err(e) => {
                self.record(e);
                self.tensor(POISON)
            }
        }
    }

    /// Adds a named parameter (printed as `%name`).
    #[track_caller]
    pub fn param_named(&self, name: &str, ty: TensorType) -> Tensor<'_> {
        self.param(ty).named(name)
    }

    /// While set, ops record `loc` instead of their Rust call site (used by
    /// transformations to carry the location of the op they rewrite).
    pub fn set_location_override(&self, loc: Option<Location>) {
        *self.loc_override.borrow_mut() = loc;
    }

    fn tensor(&self, v: Value) -> Tensor<'_> {
        Tensor { tr: self, v }
    }

    /// Wraps a value of this tracer's function as a [`Tensor`].
    pub fn wrap(&self, v: Value) -> Tensor<'_> {
        if v.index() < self.b.borrow().num_values() { self.tensor(v) } else { self.tensor(POISON) }
    }

    fn record(&self, e: Error) {
        let mut slot = self.error.borrow_mut();
        if slot.is_none() {
            *slot = Some(e);
        }
    }

    #[track_caller]
    fn caller_loc(&self) -> Location {
        if let Some(l) = self.loc_override.borrow().as_ref() {
            return l.clone();
        }
        let c = std::panic::Location::caller();
        let file = self.files.borrow_mut().entry(c.file()).or_insert_with(|| Arc::from(c.file())).clone();
        Location { file, line: c.line(), col: c.column() }
    }

    /// Records a type error at the caller's location and returns poison.
    #[track_caller]
    pub(crate) fn fail(&self, error: TypeError) -> Tensor<'_> {
        let loc = self.caller_loc();
        self.record(Error::Type { error, loc: Some(loc) });
        self.tensor(POISON)
    }

    /// Applies any op to traced operands. The building block of every
    /// method of [`Tensor`].
    #[track_caller]
    pub fn op(&self, op: Op, args: &[Tensor<'_>]) -> Tensor<'_> {
        if args.iter().any(|a| a.v == POISON) {
            return self.tensor(POISON);
        }
        if args.iter().any(|a| !std::ptr::eq(a.tr, self)) {
            return self.fail(TypeError::invalid(op.name(), "an operand belongs to another trace"));
        }
        let vals: Vec<Value> = args.iter().map(|a| a.v).collect();
        let r = self.b.borrow_mut().push(op, &vals);
        match r {
            Ok(v) => {
                let loc = self.caller_loc();
                self.b.borrow_mut().set_loc(v, loc);
                self.tensor(v)
            }
            Err(e) => self.fail(e),
        }
    }

    /// A constant from a scalar, a slice, an array reference or an ndarray
    /// array (`f64` by default; any [`Element`] type).
    #[track_caller]
    pub fn constant(&self, value: impl IntoConstant) -> Tensor<'_> {
        self.op(Op::Const(value.into_literal()), &[])
    }

    /// A constant literal.
    #[track_caller]
    pub fn literal(&self, lit: Literal) -> Tensor<'_> {
        self.op(Op::Const(lit), &[])
    }

    /// `value` (of `ty.dtype`) splatted over `ty`.
    #[track_caller]
    pub fn full(&self, ty: &TensorType, value: f64) -> Tensor<'_> {
        self.literal(Literal::Splat { ty: ty.clone(), value: crate::Scalar::from_f64(ty.dtype, value) })
    }

    /// Zeros of type `ty`.
    #[track_caller]
    pub fn zeros(&self, ty: &TensorType) -> Tensor<'_> {
        self.full(ty, 0.0)
    }

    /// Ones of type `ty`.
    #[track_caller]
    pub fn ones(&self, ty: &TensorType) -> Tensor<'_> {
        self.full(ty, 1.0)
    }

    /// `iota`: each element of `ty` is its index along `dim`.
    #[track_caller]
    pub fn iota(&self, ty: &TensorType, dim: usize) -> Tensor<'_> {
        self.op(Op::Iota { dim, ty: ty.clone() }, &[])
    }

    /// Joins tensors along `axis`.
    #[track_caller]
    pub fn concatenate(&self, parts: &[Tensor<'_>], axis: usize) -> Tensor<'_> {
        self.op(Op::Concatenate { axis }, parts)
    }

    /// Inlines `f` applied to `args`, returning its results.
    #[track_caller]
    pub fn call(&self, f: &Func, args: &[Tensor<'_>]) -> Vec<Tensor<'_>> {
        let poison = || vec![self.tensor(POISON); f.results().len()];
        if args.len() != f.num_params() {
            self.fail(TypeError::invalid(
                "call",
                format!("@{} takes {} argument(s), given {}", f.name(), f.num_params(), args.len()),
            ));
            return poison();
        }
        for (i, (a, want)) in args.iter().zip(f.param_types()).enumerate() {
            if a.v != POISON && &a.ty() != want {
                self.fail(TypeError::Mismatch {
                    op: "call",
                    operand: i,
                    found: Box::new(a.ty()),
                    expected: Box::new(want.clone()),
                });
                return poison();
            }
        }
        let mut map: Vec<Tensor<'_>> = args.iter().map(|a| self.tensor(a.v)).collect();
        for (_, inst) in f.iter_insts() {
            let ops: Vec<Tensor<'_>> = inst.args.iter().map(|a| map[a.index()]).collect();
            map.push(self.op(inst.op.clone(), &ops));
        }
        f.results().iter().map(|r| map[r.index()]).collect()
    }

    /// Number of values (parameters and ops) recorded so far; a value with
    /// a smaller index existed before, one at this index or above is new.
    pub fn num_values(&self) -> usize {
        self.b.borrow().num_values()
    }

    /// The first error recorded so far, if any.
    pub fn error(&self) -> Option<Error> {
        self.error.borrow().clone()
    }

    /// The type of a traced value.
    pub fn ty_of(&self, v: Value) -> TensorType {
        self.b.borrow().ty(v).cloned().unwrap_or_else(|| TensorType::scalar(crate::DType::F64))
    }

    /// Finishes the function with `results`, or returns the first error.
    pub fn finish(self, results: &[Tensor<'_>]) -> Result<Func, Error> {
        let vals: Vec<Value> = results.iter().map(|t| t.v).collect();
        self.finish_values(&vals)
    }

    /// Finishes the function with the values `results` (see
    /// [`Tensor::value`]), or returns the first error. Unlike
    /// [`Tracer::finish`], this can be called once the tensors, which
    /// borrow the tracer, are gone.
    ///
    /// ```
    /// use saddle_ir::{TensorType, Tracer};
    /// let tr = Tracer::new("f");
    /// let y = tr.param(TensorType::f64([])).exp().value();
    /// let f = tr.finish_values(&[y]).unwrap();
    /// assert_eq!(f.insts().len(), 1);
    /// ```
    pub fn finish_values(self, results: &[Value]) -> Result<Func, Error> {
        if let Some(e) = self.error.into_inner() {
            return Err(e);
        }
        self.b.into_inner().finish(results)
    }
}

impl<'t> Tensor<'t> {
    /// The underlying IR value.
    pub fn value(self) -> Value {
        self.v
    }

    /// The tracer this tensor belongs to.
    pub fn tracer(self) -> &'t Tracer {
        self.tr
    }

    /// Its type (`f64[]` for a value whose definition failed).
    pub fn ty(self) -> TensorType {
        self.tr.ty_of(self.v)
    }

    /// Its shape.
    pub fn shape(self) -> Vec<usize> {
        self.ty().shape.to_vec()
    }

    /// Its rank.
    pub fn rank(self) -> usize {
        self.ty().rank()
    }

    /// Its dtype.
    pub fn dtype(self) -> crate::DType {
        self.ty().dtype
    }

    /// Element `i` along the first axis, that axis dropped: `x.at(2)` of
    /// an `f64[5]` is its third element as an `f64[]`, of an `f64[5, 3]`
    /// its third row. An index out of range is recorded as the trace's
    /// error, like any ill-typed op.
    ///
    /// ```
    /// use saddle_ir::{trace, TensorType};
    /// let f = trace("first_times_last", &[TensorType::f64([4])], |x| vec![x[0].at(0) * x[0].at(3)]).unwrap();
    /// assert_eq!(f.result_types(), vec![TensorType::f64([])]);
    /// ```
    #[track_caller]
    pub fn at(self, i: usize) -> Tensor<'t> {
        self.index(&[i])
    }

    /// The element or sub-array at `idx` along the leading axes, those
    /// axes dropped: `m.index(&[1, 2])` of an `f64[3, 4]` is `m[1, 2]`.
    #[track_caller]
    pub fn index(self, idx: &[usize]) -> Tensor<'t> {
        let shape = self.shape();
        let mut start = vec![0; shape.len()];
        let mut limit = shape.clone();
        for (axis, &i) in idx.iter().enumerate().take(shape.len()) {
            start[axis] = i;
            limit[axis] = i.saturating_add(1);
        }
        if idx.len() > shape.len() {
            return self.tr.fail(TypeError::invalid(
                "index",
                format!("{} indices for a value of rank {} ({})", idx.len(), shape.len(), self.ty()),
            ));
        }
        let kept: Vec<usize> = shape[idx.len()..].to_vec();
        self.slice(&start, &limit).reshape(&kept)
    }

    /// Names the value (printed as `%name`).
    pub fn named(self, name: &str) -> Tensor<'t> {
        if self.v != POISON {
            self.tr.b.borrow_mut().set_name(self.v, name);
        }
        self
    }
}
