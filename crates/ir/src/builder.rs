//! Building functions one checked instruction at a time.

use crate::{Error, Func, Inst, Literal, Location, Op, TensorType, TypeError, Value};

/// Builds a [`Func`], type-checking every instruction as it is added.
///
/// An ill-typed instruction is refused at the point of construction with a
/// [`TypeError`] naming the op, the operand and both types.
///
/// ```
/// use saddle_ir::{FuncBuilder, Op, TensorType, op::Unary};
/// let mut b = FuncBuilder::new("f");
/// let x = b.param(TensorType::f64([3])).unwrap();
/// let y = b.push(Op::Unary(Unary::Exp), &[x]).unwrap();
/// let f = b.finish(&[y]).unwrap();
/// assert_eq!(f.insts().len(), 1);
/// ```
#[derive(Clone, Debug)]
pub struct FuncBuilder {
    func: Func,
}

impl FuncBuilder {
    /// An empty function called `name`.
    pub fn new(name: impl Into<String>) -> FuncBuilder {
        FuncBuilder {
            func: Func {
                name: name.into(),
                num_params: 0,
                types: Vec::new(),
                names: Default::default(),
                locs: Default::default(),
                insts: Vec::new(),
                results: Vec::new(),
            },
        }
    }

    /// Reserves room for `additional` more values, so that building a large
    /// function does not regrow its arenas.
    ///
    /// ```
    /// use saddle_ir::{FuncBuilder, Op, TensorType, op::Unary};
    /// let mut b = FuncBuilder::new("chain");
    /// b.reserve(1001);
    /// let mut v = b.param(TensorType::f64([4])).unwrap();
    /// for _ in 0..1000 {
    ///     v = b.push(Op::Unary(Unary::Tanh), &[v]).unwrap();
    /// }
    /// assert_eq!(b.finish(&[v]).unwrap().insts().len(), 1000);
    /// ```
    pub fn reserve(&mut self, additional: usize) {
        let f = &mut self.func;
        f.types.reserve(additional);
        f.names.reserve(additional);
        f.locs.reserve(additional);
        f.insts.reserve(additional);
    }

    /// Adds a parameter. Parameters must come before any instruction.
    pub fn param(&mut self, ty: TensorType) -> Result<Value, Error> {
        if !self.func.insts.is_empty() {
            return Err(Error::ParamAfterInst);
        }
        let ty = ty.checked().map_err(|e| Error::Type { error: TypeError::TooLarge(e), loc: None })?;
        self.func.num_params += 1;
        Ok(self.add_value(ty))
    }

    fn add_value(&mut self, ty: TensorType) -> Value {
        let v = Value::from_index(self.func.types.len());
        self.func.types.push(ty);
        self.func.names.push();
        self.func.locs.push();
        v
    }

    /// Appends `op` applied to `args` and returns the value it defines.
    pub fn push(&mut self, op: Op, args: &[Value]) -> Result<Value, TypeError> {
        let n = self.func.types.len();
        if let Some(i) = args.iter().position(|a| a.index() >= n) {
            return Err(TypeError::invalid_operand(
                op.name(),
                i,
                format!("operand {i} is not a value of this function"),
            ));
        }
        let ty = crate::func::infer_from(&op, &self.func.types, args)?;
        Ok(self.push_typed(op, args, ty))
    }

    /// Appends an instruction whose result type the caller has already
    /// computed with [`Op::infer_type`]. Used by passes that copy checked
    /// instructions; the verifier catches a wrong `ty`.
    pub fn push_typed(&mut self, op: Op, args: &[Value], ty: TensorType) -> Value {
        self.func.insts.push(Inst { op, args: crate::Args::from_slice(args) });
        self.add_value(ty)
    }

    /// A `const` instruction.
    pub fn constant(&mut self, lit: Literal) -> Value {
        let ty = lit.ty();
        self.push_typed(Op::Const(lit), &[], ty)
    }

    /// Names `v` (printed as `%name`; the printer keeps names unique).
    pub fn set_name(&mut self, v: Value, name: impl AsRef<str>) {
        self.func.set_value_name(v, name);
    }

    /// Records where `v` was built.
    pub fn set_loc(&mut self, v: Value, loc: Location) {
        self.func.locs.set(v.index(), &loc.file, loc.line, loc.col);
    }

    /// Records that `v` was built at `line:col` of `file` (no reference
    /// count is taken unless `file` is new to this function).
    pub(crate) fn set_line_col(&mut self, v: Value, file: &std::sync::Arc<str>, line: u32, col: u32) {
        self.func.locs.set(v.index(), file, line, col);
    }

    /// The type of `v`, if it is a value of this function.
    pub fn ty(&self, v: Value) -> Option<&TensorType> {
        self.func.types.get(v.index())
    }

    /// The function built so far (without results).
    pub fn func(&self) -> &Func {
        &self.func
    }

    /// Number of values defined so far.
    pub fn num_values(&self) -> usize {
        self.func.types.len()
    }

    /// Finishes the function, returning `results`.
    pub fn finish(mut self, results: &[Value]) -> Result<Func, Error> {
        if results.is_empty() {
            return Err(Error::NoResults(self.func.name));
        }
        if let Some((i, &v)) = results.iter().enumerate().find(|(_, v)| v.index() >= self.func.types.len()) {
            return Err(Error::UndefinedValue { what: format!("result {i}"), value: v });
        }
        self.func.results = results.to_vec();
        Ok(self.func)
    }
}
