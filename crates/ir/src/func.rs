//! Functions and modules: straight-line SSA in arenas.

use std::fmt;
use std::sync::Arc;

use crate::{Error, Op, TensorType};

/// A handle to a value of a [`Func`]: an index into its arenas.
///
/// Parameters come first (`0..num_params`), then one value per instruction
/// in order, so an operand always has a smaller index than its user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Value(u32);

impl Value {
    /// The value with arena index `i`.
    pub fn from_index(i: usize) -> Value {
        Value(u32::try_from(i).expect("more than 2^32 values in one function"))
    }

    pub(crate) const fn from_raw(i: u32) -> Value {
        Value(i)
    }

    /// The arena index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "value #{}", self.0)
    }
}

/// A source location: a Rust call site recorded by the tracing frontend,
/// or a position in a `.sir` file.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Location {
    /// File path.
    pub file: Arc<str>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
}

impl Location {
    /// The location of a Rust call site (see `#[track_caller]`).
    pub fn from_caller(loc: &'static std::panic::Location<'static>) -> Location {
        Location { file: Arc::from(loc.file()), line: loc.line(), col: loc.column() }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

/// The operands of an instruction: a vector that holds up to four values
/// without allocating.
///
/// ```
/// use saddle_ir::parse_func;
/// let f = parse_func("f.sir", "func @f(%x: f64[]) -> f64[] {\n %y: f64[] = mul %x, %x\n return %y\n}").unwrap();
/// let args = &f.insts()[0].args;
/// assert_eq!(args.len(), 2);
/// assert!(!args.spilled()); // stored inline
/// ```
pub type Args = smallvec::SmallVec<[Value; 4]>;

/// `items` mapped by `f` into a small vector with room for four inline,
/// written into the inline buffer in one go when they fit (collecting goes
/// item by item, at several times the cost for an instruction's operands).
#[inline]
pub(crate) fn map_small<T: Copy, U: Copy>(items: &[T], fill: U, f: impl Fn(T) -> U) -> smallvec::SmallVec<[U; 4]> {
    if items.len() > 4 {
        return items.iter().map(|&x| f(x)).collect();
    }
    let mut buf = [fill; 4];
    for (b, &x) in buf.iter_mut().zip(items) {
        *b = f(x);
    }
    smallvec::SmallVec::from_buf_and_len(buf, items.len())
}

/// One instruction: an op applied to earlier values. It defines one value.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Inst {
    /// The operation with its attributes.
    pub op: Op,
    /// Operands, each defined before this instruction (up to four are
    /// stored inline).
    pub args: Args,
}

impl Clone for Inst {
    /// The operands in one copy (the small vector's own `clone` goes item
    /// by item).
    #[inline]
    fn clone(&self) -> Self {
        Inst { op: self.op.clone(), args: Args::from_slice(&self.args) }
    }
}

/// A function: parameters, straight-line instructions, results.
///
/// Built with [`crate::FuncBuilder`], the tracing frontend
/// ([`crate::trace()`]) or the parser. Side tables (types, names, source
/// locations) are parallel vectors indexed by [`Value`].
#[derive(Clone, Debug, PartialEq)]
pub struct Func {
    pub(crate) name: String,
    pub(crate) num_params: usize,
    pub(crate) types: Vec<TensorType>,
    pub(crate) names: Names,
    pub(crate) locs: Locs,
    pub(crate) insts: Vec<Inst>,
    pub(crate) results: Vec<Value>,
}

impl Func {
    /// Assembles a function from raw parts without checking anything.
    ///
    /// `types` has one entry per value: the `param_count` parameters, then
    /// one per instruction. Use [`crate::verify()`] on the result; prefer
    /// [`crate::FuncBuilder`], which checks as it goes.
    pub fn from_raw_parts(
        name: impl Into<String>,
        param_count: usize,
        types: Vec<TensorType>,
        insts: Vec<Inst>,
        results: Vec<Value>,
    ) -> Func {
        let n = types.len();
        Func {
            name: name.into(),
            num_params: param_count,
            types,
            names: Names::with_len(n),
            locs: Locs::with_len(n),
            insts,
            results,
        }
    }

    /// The function's name (without `@`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Renames the function.
    pub fn set_name(&mut self, name: impl Into<String>) {
        self.name = name.into();
    }

    /// Number of parameters.
    pub fn num_params(&self) -> usize {
        self.num_params
    }

    /// The parameter values, in order.
    pub fn params(&self) -> impl ExactSizeIterator<Item = Value> + DoubleEndedIterator + use<> {
        (0..self.num_params).map(Value::from_index)
    }

    /// The parameter types, in order.
    pub fn param_types(&self) -> &[TensorType] {
        &self.types[..self.num_params.min(self.types.len())]
    }

    /// The instructions in order; instruction `i` defines value
    /// `num_params + i`.
    pub fn insts(&self) -> &[Inst] {
        &self.insts
    }

    /// Every instruction with the value it defines.
    pub fn iter_insts(&self) -> impl ExactSizeIterator<Item = (Value, &Inst)> + DoubleEndedIterator {
        let p = self.num_params;
        self.insts.iter().enumerate().map(move |(i, inst)| (Value::from_index(p + i), inst))
    }

    /// The instruction defining `v`, or `None` for a parameter.
    pub fn inst(&self, v: Value) -> Option<&Inst> {
        v.index().checked_sub(self.num_params).and_then(|i| self.insts.get(i))
    }

    /// If `v` is a parameter, its position.
    pub fn param_index(&self, v: Value) -> Option<usize> {
        (v.index() < self.num_params).then_some(v.index())
    }

    /// Total number of values (parameters and instructions).
    pub fn num_values(&self) -> usize {
        self.types.len()
    }

    /// The type of `v`.
    ///
    /// # Panics
    /// If `v` is not a value of this function.
    pub fn ty(&self, v: Value) -> &TensorType {
        &self.types[v.index()]
    }

    /// The name `v` was given (without `%`), if any.
    pub fn value_name(&self, v: Value) -> Option<&str> {
        self.names.get(v.index())
    }

    /// Gives `v` a name (the printer makes names unique).
    pub fn set_value_name(&mut self, v: Value, name: impl AsRef<str>) {
        self.names.set(v.index(), name.as_ref());
    }

    /// The source location recorded for `v`, if any.
    pub fn loc(&self, v: Value) -> Option<Location> {
        self.locs.get(v.index())
    }

    /// The returned values, in order.
    pub fn results(&self) -> &[Value] {
        &self.results
    }

    /// The result types, in order.
    pub fn result_types(&self) -> Vec<TensorType> {
        self.results.iter().map(|&v| self.types[v.index()].clone()).collect()
    }

    /// How many values each value's users read it (results count as uses).
    pub fn use_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.num_values()];
        for inst in &self.insts {
            for a in &inst.args {
                counts[a.index()] += 1;
            }
        }
        for r in &self.results {
            counts[r.index()] += 1;
        }
        counts
    }

    /// Number of instructions of each op name, sorted by name.
    pub fn op_counts(&self) -> Vec<(&'static str, usize)> {
        let mut map = std::collections::BTreeMap::new();
        for inst in &self.insts {
            *map.entry(inst.op.name()).or_insert(0) += 1;
        }
        map.into_iter().collect()
    }
}

/// The value names of a function: one text buffer and a span per value, so
/// that naming a value does not allocate (parsed modules name every value).
#[derive(Clone, Debug, Default)]
pub(crate) struct Names {
    text: String,
    /// Byte range of each value's name in `text`; `None` when unnamed.
    spans: Vec<Option<(u32, u32)>>,
}

impl Names {
    pub(crate) fn with_len(n: usize) -> Names {
        Names { text: String::new(), spans: vec![None; n] }
    }

    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }

    pub(crate) fn reserve(&mut self, additional: usize) {
        self.spans.reserve(additional);
    }

    /// Adds an unnamed entry.
    pub(crate) fn push(&mut self) {
        self.spans.push(None);
    }

    pub(crate) fn get(&self, i: usize) -> Option<&str> {
        let (start, end) = (*self.spans.get(i)?)?;
        Some(&self.text[start as usize..end as usize])
    }

    /// Names entry `i` (ignored when out of range). A renamed entry's old
    /// text stays in the buffer until the function is rebuilt; the text is
    /// limited to 4 GiB, past which new names are dropped.
    pub(crate) fn set(&mut self, i: usize, name: &str) {
        let Some(slot) = self.spans.get_mut(i) else { return };
        let start = self.text.len();
        let (Ok(s), Ok(e)) = (u32::try_from(start), u32::try_from(start + name.len())) else {
            *slot = None;
            return;
        };
        self.text.push_str(name);
        *slot = Some((s, e));
    }
}

impl PartialEq for Names {
    /// Equal when every entry has the same name, however the text is laid out.
    fn eq(&self, other: &Names) -> bool {
        self.len() == other.len() && (0..self.len()).all(|i| self.get(i) == other.get(i))
    }
}

/// The source locations of a function's values: each a file (an index
/// into a small table of distinct files), a line and a column, so that
/// recording one costs no reference count.
#[derive(Clone, Debug, Default)]
pub(crate) struct Locs {
    files: Vec<Arc<str>>,
    /// File index, line and column of each value; `None` when unknown.
    at: Vec<Option<(u32, u32, u32)>>,
}

impl Locs {
    pub(crate) fn with_len(n: usize) -> Locs {
        Locs { files: Vec::new(), at: vec![None; n] }
    }

    pub(crate) fn len(&self) -> usize {
        self.at.len()
    }

    pub(crate) fn reserve(&mut self, additional: usize) {
        self.at.reserve(additional);
    }

    /// Adds an entry without a location.
    pub(crate) fn push(&mut self) {
        self.at.push(None);
    }

    pub(crate) fn get(&self, i: usize) -> Option<Location> {
        let (file, line, col) = (*self.at.get(i)?)?;
        Some(Location { file: self.files[file as usize].clone(), line, col })
    }

    /// Records that entry `i` (ignored when out of range) is at `line:col`
    /// of `file`.
    pub(crate) fn set(&mut self, i: usize, file: &Arc<str>, line: u32, col: u32) {
        if i >= self.at.len() {
            return;
        }
        // Values are mostly built in file order, so the last file is the
        // likely one; the table stays small (one entry per source file).
        let known = self.files.iter().rposition(|f| Arc::ptr_eq(f, file) || **f == **file);
        let index = known.unwrap_or_else(|| {
            self.files.push(file.clone());
            self.files.len() - 1
        });
        self.at[i] = Some((index as u32, line, col));
    }
}

impl PartialEq for Locs {
    /// Equal when every entry has the same location.
    fn eq(&self, other: &Locs) -> bool {
        self.len() == other.len() && (0..self.len()).all(|i| self.get(i) == other.get(i))
    }
}

/// Applies `op`'s typing rule to the operands `args`, whose types are in
/// `types`, without allocating for up to three operands.
pub(crate) fn infer_from(op: &Op, types: &[TensorType], args: &[Value]) -> Result<TensorType, crate::TypeError> {
    let t = |v: &Value| &types[v.index()];
    match args {
        [] => op.infer_type(&[]),
        [a] => op.infer_type(&[t(a)]),
        [a, b] => op.infer_type(&[t(a), t(b)]),
        [a, b, c] => op.infer_type(&[t(a), t(b), t(c)]),
        _ => op.infer_type(&args.iter().map(t).collect::<Vec<_>>()),
    }
}

/// A module: one or more functions with distinct names.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Module {
    /// The functions, in source order. Commands act on the first unless
    /// told otherwise.
    pub funcs: Vec<Func>,
}

impl Module {
    /// A module holding `funcs`.
    pub fn new(funcs: Vec<Func>) -> Module {
        Module { funcs }
    }

    /// The function called `name`.
    pub fn func(&self, name: &str) -> Result<&Func, Error> {
        self.funcs.iter().find(|f| f.name == name).ok_or_else(|| Error::NoSuchFunction(name.to_string()))
    }

    /// The first function, or the one called `name` when given.
    pub fn select(&self, name: Option<&str>) -> Result<&Func, Error> {
        match name {
            Some(n) => self.func(n),
            None => self.funcs.first().ok_or(Error::EmptyModule),
        }
    }
}

impl From<Func> for Module {
    fn from(f: Func) -> Module {
        Module { funcs: vec![f] }
    }
}
