//! Modules whose functions have dimension variables and call each other.
//!
//! A dimension in a parameter's type may be a name (`%X: f64[N, 3]`): the
//! function is then *generic*, and stands for one function per binding of
//! its names. A `call` applies another function of the module, or of the
//! standard library, at the operands' types. Both are resolved by
//! *instantiation*: a body is read again with its names bound to numbers,
//! and each call is replaced by its callee's body, instantiated at the
//! operands' types. The IR itself stays statically shaped.
//!
//! Such a module is read in two passes: the signatures first (so that a
//! function may call one defined after it), then each body (`read`). A
//! generic function is checked by instantiating it at two bindings of
//! extents that appear nowhere in the file, so that its errors are found
//! before it is given numbers, and it is printed (and transformed) through
//! a few such instances, each changing number written back as the sum of
//! variables it is in all of them (`probe`).

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;

use super::{MAX_DIAGNOSTICS, ParseError, Parser, Stop};
use crate::{DType, Error, Func, Module, PrintOptions, TensorType, print_func_with};

mod probe;
mod read;

use probe::{PROBE_FLOOR, name_extents, probe_base, probe_sets, write_extents};

/// Extents of dimension variables, by name.
pub(super) type Dims = HashMap<String, usize>;

/// One axis extent of a declared parameter type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Dim {
    /// A number.
    Fixed(usize),
    /// A dimension variable: it is bound from the argument's extent.
    Var(String),
    /// A sum of dimension variables and numbers (`J+2`): checked against
    /// the argument's extent once its variables are bound elsewhere.
    Expr(DimExpr),
}

/// An extent written as an affine sum of dimension variables: `J+2`,
/// `2*N-1`, `N+M`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct DimExpr {
    /// The number added.
    pub constant: i64,
    /// Each variable with its coefficient, in the order written.
    pub terms: Vec<(i64, String)>,
}

impl DimExpr {
    /// The variable when the sum is exactly one variable.
    fn as_var(&self) -> Option<&str> {
        match self.terms.as_slice() {
            [(1, v)] if self.constant == 0 => Some(v),
            _ => None,
        }
    }

    /// Its value given the variables' extents: `Err` names an unbound
    /// variable.
    fn eval(&self, dims: &Dims) -> Result<i128, &str> {
        let mut total = i128::from(self.constant);
        for (k, v) in &self.terms {
            let n = dims.get(v).ok_or(v.as_str())?;
            total += i128::from(*k) * *n as i128;
        }
        Ok(total)
    }
}

impl fmt::Display for DimExpr {
    /// Canonical text: `J+2`, `2*N-1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (k, v)) in self.terms.iter().enumerate() {
            match (*k, i) {
                (1, 0) => write!(f, "{v}")?,
                (1, _) => write!(f, "+{v}")?,
                (-1, _) => write!(f, "-{v}")?,
                (k, 0) => write!(f, "{k}*{v}")?,
                (k, _) if k < 0 => write!(f, "-{}*{v}", -k)?,
                (k, _) => write!(f, "+{k}*{v}")?,
            }
        }
        match self.constant {
            0 if !self.terms.is_empty() => Ok(()),
            c if c > 0 && !self.terms.is_empty() => write!(f, "+{c}"),
            c => write!(f, "{c}"),
        }
    }
}

/// A parameter as declared: its name, and its type, whose extents may be
/// dimension variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamPattern {
    /// The parameter's name, without `%`.
    pub name: String,
    /// Its element type.
    pub dtype: DType,
    /// Its extents, outermost first.
    pub dims: Vec<Dim>,
}

impl fmt::Display for ParamPattern {
    /// The type as written: `f64[N,3]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[", self.dtype)?;
        for (i, d) in self.dims.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match d {
                Dim::Fixed(n) => write!(f, "{n}")?,
                Dim::Var(v) => f.write_str(v)?,
                Dim::Expr(e) => write!(f, "{e}")?,
            }
        }
        f.write_str("]")
    }
}

/// A function's signature: its name, its parameters as declared, and its
/// dimension variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// The function's name, without `@`.
    pub name: String,
    /// The parameters, in order.
    pub params: Vec<ParamPattern>,
    /// The dimension variables, in order of first appearance.
    pub vars: Vec<String>,
}

impl Signature {
    /// Whether the function has dimension variables.
    pub fn is_generic(&self) -> bool {
        !self.vars.is_empty()
    }

    /// The extent of each dimension variable (in the order of
    /// [`Signature::vars`]) given the shapes of the arguments.
    ///
    /// ```
    /// use saddle_ir::parse::parse_program;
    /// let p = parse_program("m.sir", "func @f(%a: f64[N, 3], %b: f64[N]) -> f64[N] {\n  return %b\n}").unwrap();
    /// let sig = p.signature(None).unwrap();
    /// assert_eq!(sig.bind(&[&[5, 3], &[5]]).unwrap(), vec![("N".to_string(), 5)]);
    /// let err = sig.bind(&[&[5, 3], &[4]]).unwrap_err().to_string();
    /// assert!(err.contains("dimension variable N is 5") && err.contains("but 4"), "{err}");
    /// ```
    pub fn bind(&self, shapes: &[&[usize]]) -> Result<Vec<(String, usize)>, ProgramError> {
        if shapes.len() != self.params.len() {
            return Err(ProgramError::Arity {
                func: self.name.clone(),
                expected: self.params.len(),
                found: shapes.len(),
            });
        }
        // Where each variable was first bound: extent, argument, axis.
        let mut seen: HashMap<&str, (usize, usize, usize)> = HashMap::default();
        for (i, (p, shape)) in self.params.iter().zip(shapes).enumerate() {
            let mismatch = || ProgramError::Binding {
                func: self.name.clone(),
                message: format!(
                    "argument {i} has shape {}, but %{} is declared {p}",
                    crate::ShapeDisplay(shape),
                    p.name
                ),
            };
            if p.dims.len() != shape.len() {
                return Err(mismatch());
            }
            for (axis, (d, &n)) in p.dims.iter().zip(shape.iter()).enumerate() {
                match d {
                    Dim::Fixed(m) if *m != n => return Err(mismatch()),
                    Dim::Fixed(_) => {}
                    Dim::Var(v) => match seen.get(v.as_str()) {
                        None => {
                            seen.insert(v, (n, i, axis));
                        }
                        Some(&(m, j, a)) if m != n => {
                            return Err(ProgramError::Binding {
                                func: self.name.clone(),
                                message: format!(
                                    "dimension variable {v} is {m} in argument {j} (%{}, axis {a}) but {n} in argument {i} (%{}, axis {axis})",
                                    self.params[j].name, p.name
                                ),
                            });
                        }
                        Some(_) => {}
                    },
                    Dim::Expr(_) => {}
                }
            }
        }
        let mut dims: Dims = seen.iter().map(|(v, s)| (v.to_string(), s.0)).collect();
        // A variable written only in sums is solved from a sum in which it
        // is the one unknown (`%theta: f64[J+2]` alone binds J), until no
        // more can be.
        loop {
            let mut solved = false;
            for (p, shape) in self.params.iter().zip(shapes) {
                for (d, &n) in p.dims.iter().zip(shape.iter()) {
                    let Dim::Expr(e) = d else { continue };
                    let unknown: Vec<&(i64, String)> = e.terms.iter().filter(|(_, v)| !dims.contains_key(v)).collect();
                    let [(a, v)] = unknown.as_slice() else { continue };
                    let rest: i128 = i128::from(e.constant)
                        + e.terms
                            .iter()
                            .filter_map(|(k, w)| dims.get(w).map(|&x| i128::from(*k) * x as i128))
                            .sum::<i128>();
                    let (num, a) = (n as i128 - rest, i128::from(*a));
                    if a != 0 && num % a == 0 && num / a >= 0 {
                        dims.insert(v.clone(), (num / a) as usize);
                        solved = true;
                    }
                }
            }
            if !solved {
                break;
            }
        }
        for (i, (p, shape)) in self.params.iter().zip(shapes).enumerate() {
            for (axis, (d, &n)) in p.dims.iter().zip(shape.iter()).enumerate() {
                let Dim::Expr(e) = d else { continue };
                match e.eval(&dims) {
                    Err(v) => {
                        return Err(ProgramError::Binding {
                            func: self.name.clone(),
                            message: format!(
                                "dimension variable {v} (in %{}: {p}) is neither the whole extent of an argument's axis nor solvable from one, so the arguments cannot bind it",
                                p.name
                            ),
                        });
                    }
                    Ok(m) if m != n as i128 => {
                        let bound: Vec<String> = e
                            .terms
                            .iter()
                            .map(|(_, v)| format!("{v} = {}", dims.get(v).copied().unwrap_or(0)))
                            .collect();
                        return Err(ProgramError::Binding {
                            func: self.name.clone(),
                            message: format!(
                                "argument {i} has extent {n} on axis {axis}, but %{} is declared {p}, where {e} is {m} ({})",
                                p.name,
                                bound.join(", ")
                            ),
                        });
                    }
                    Ok(_) => {}
                }
            }
        }
        Ok(self.vars.iter().map(|v| (v.clone(), dims.get(v.as_str()).copied().unwrap_or(0))).collect())
    }

    /// The parameter types once the dimension variables are bound.
    fn types(&self, dims: &Dims) -> Vec<TensorType> {
        self.params
            .iter()
            .map(|p| {
                let shape: Vec<usize> = p
                    .dims
                    .iter()
                    .map(|d| match d {
                        Dim::Fixed(n) => *n,
                        Dim::Var(v) => dims.get(v).copied().unwrap_or(0),
                        Dim::Expr(e) => e.eval(dims).ok().and_then(|n| usize::try_from(n).ok()).unwrap_or(0),
                    })
                    .collect();
                TensorType::new(p.dtype, shape)
            })
            .collect()
    }
}

/// Errors from binding and instantiating the functions of a [`Program`].
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ProgramError {
    /// `--func NAME` or a lookup that names no function of the module.
    #[error("no function named @{0} in the module")]
    NoSuchFunction(String),
    /// Arguments given for a different number of parameters.
    #[error("@{func} takes {expected} argument(s), given {found}")]
    Arity {
        /// The function.
        func: String,
        /// Its number of parameters.
        expected: usize,
        /// The number of arguments.
        found: usize,
    },
    /// Argument shapes that do not fit the declared types, or that give a
    /// dimension variable two extents.
    #[error("@{func}: {message}")]
    Binding {
        /// The function.
        func: String,
        /// What does not fit.
        message: String,
    },
    /// A generic function asked for where numbers are needed.
    #[error("@{func} has dimension variables ({}): {what}", .vars.join(", "))]
    Unbound {
        /// The function.
        func: String,
        /// Its dimension variables.
        vars: Vec<String>,
        /// What needs numbers, and how to give them.
        what: String,
    },
    /// The function does not type-check at the bound extents.
    #[error(transparent)]
    Parse(#[from] ParseError),
}

/// Where a function's text starts: byte offset, line, column.
type Pos = (usize, u32, u32);

/// A function of the module as the first pass saw it.
#[derive(Clone, Debug)]
struct Decl {
    sig: Signature,
    /// The `func` keyword.
    start: Pos,
    /// One past the closing `}`.
    end: usize,
    /// The function's name token: byte range, line, column.
    name_at: (usize, usize, u32, u32),
    /// The callees named in the body, with their tokens' byte range,
    /// line and column.
    callees: Vec<(String, (usize, usize, u32, u32))>,
}

/// A library of functions that `call` reaches when the module does not
/// define the callee: the name, the operand types and the call's integer
/// attributes give an instantiated function, or `None` for no such name.
pub(super) type Library = fn(&str, &[TensorType], &[(&str, Vec<i64>)]) -> Option<Result<Func, Error>>;

/// The library `call` uses: the distributions and helpers of
/// [`crate::dist`].
fn standard_library(name: &str, args: &[TensorType], attrs: &[(&str, Vec<i64>)]) -> Option<Result<Func, Error>> {
    crate::dist::instantiate(name, args, attrs)
}

/// A function (by index) and the extents of its dimension variables.
type Instance = (usize, Vec<(String, usize)>);

/// What the parser of one body needs to inline calls: the module's
/// functions, the instantiations in progress (recursion is an error) and
/// those already made.
pub(super) struct Calls<'p> {
    file: Arc<str>,
    src: &'p str,
    decls: &'p [Decl],
    /// Each function's index in `decls`, by name.
    by_name: &'p HashMap<String, usize>,
    library: Library,
    /// The most values a function may have with its calls inlined.
    max_values: usize,
    /// Values inlined so far, by all calls: at most
    /// [`INLINED_BUDGET_FACTOR`] × `max_values`.
    inlined: std::cell::Cell<usize>,
    stack: RefCell<Vec<usize>>,
    /// Instantiations made, `None` for those that failed (their errors
    /// were reported the first time).
    cache: RefCell<HashMap<Instance, Option<Arc<Func>>>>,
}

impl<'p> Calls<'p> {
    fn index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// Function `i` with its dimension variables bound to `dims`.
    fn instantiate(&self, i: usize, dims: &Dims) -> Result<Arc<Func>, ParseError> {
        let mut key: Vec<(String, usize)> = dims.iter().map(|(k, v)| (k.clone(), *v)).collect();
        key.sort();
        let key = (i, key);
        if let Some(found) = self.cache.borrow().get(&key) {
            return found.clone().ok_or(ParseError { diagnostics: Vec::new(), omitted: 0 });
        }
        self.stack.borrow_mut().push(i);
        let mut p = Parser::at(self.file.clone(), self.src, self.decls[i].start, dims, self);
        let result = p.func();
        self.stack.borrow_mut().pop();
        match result {
            Ok((f, _)) if p.diags.is_empty() => {
                let f = Arc::new(f);
                self.cache.borrow_mut().insert(key, Some(f.clone()));
                Ok(f)
            }
            Ok(_) | Err(Stop) => {
                self.cache.borrow_mut().insert(key, None);
                Err(ParseError { diagnostics: p.diags, omitted: p.omitted })
            }
        }
    }
}

/// A parsed module whose functions may be generic (have dimension
/// variables) and may call each other and the standard library.
///
/// Functions without dimension variables are instantiated (their calls
/// inlined) when the module is read: [`Program::func`]. A generic one is
/// instantiated for given argument types by [`Program::instantiate`].
///
/// ```
/// use saddle_ir::{TensorType, parse::parse_program};
/// let src = "
/// func @model(%beta: f64[3], %X: f64[N, 3], %y: f64[N]) -> f64[] {
///   %mu = dot_general %X, %beta {lhs_contract = [1], rhs_contract = [0]}
///   %lp = call %y, %mu {callee = @sq_err}
///   return %lp
/// }
///
/// func @sq_err(%x: f64[K], %m: f64[K]) -> f64[] {
///   %d = sub %x, %m
///   %s = mul %d, %d
///   %t = reduce_sum %s {axes = [0]}
///   %h: f64[] = const {value = -0.5}
///   %r = mul %h, %t
///   return %r
/// }";
/// let p = parse_program("m.sir", src).unwrap();
/// assert!(p.signature(None).unwrap().is_generic());
/// let f = p.instantiate(None, &[TensorType::f64([3]), TensorType::f64([10, 3]), TensorType::f64([10])]).unwrap();
/// assert_eq!(f.param_types()[1], TensorType::f64([10, 3]));
/// // Printed with its dimension variables.
/// assert!(p.print(Default::default()).contains("%X: f64[N,3]"));
/// ```
#[derive(Clone, Debug)]
pub struct Program {
    file: Arc<str>,
    src: Arc<str>,
    decls: Vec<Decl>,
    /// The instantiated functions without dimension variables.
    funcs: Vec<Option<Func>>,
    /// The smallest extent tried when checking generic functions: above
    /// every number written in the file.
    probe_base: usize,
    /// The most values a function may have with its calls inlined.
    max_values: usize,
    /// Each function's index in `decls`, by name.
    by_name: HashMap<String, usize>,
}

/// Each declaration's index by its function's name (the first, should a
/// name repeat).
fn index_names(decls: &[Decl]) -> HashMap<String, usize> {
    let mut by_name = HashMap::with_capacity_and_hasher(decls.len(), Default::default());
    for (i, d) in decls.iter().enumerate() {
        by_name.entry(d.sig.name.clone()).or_insert(i);
    }
    by_name
}

impl Program {
    /// The program of a module without dimension variables or calls.
    pub(super) fn from_module(file: &str, m: Module) -> Program {
        let decls: Vec<Decl> = m
            .funcs
            .iter()
            .map(|f| Decl {
                sig: Signature {
                    name: f.name().to_string(),
                    params: f
                        .params()
                        .enumerate()
                        .map(|(i, v)| ParamPattern {
                            name: f.value_name(v).map_or_else(|| i.to_string(), str::to_string),
                            dtype: f.ty(v).dtype,
                            dims: f.ty(v).shape.iter().map(|&n| Dim::Fixed(n)).collect(),
                        })
                        .collect(),
                    vars: Vec::new(),
                },
                start: (0, 1, 1),
                end: 0,
                name_at: (0, 0, 1, 1),
                callees: Vec::new(),
            })
            .collect();
        Program {
            file: Arc::from(file),
            src: Arc::from(""),
            by_name: index_names(&decls),
            decls,
            funcs: m.funcs.into_iter().map(Some).collect(),
            probe_base: PROBE_FLOOR,
            max_values: MAX_INLINED_VALUES,
        }
    }

    /// Reads a module in two passes: signatures, then bodies.
    pub(super) fn parse(file: &str, src: &str) -> Result<Program, ParseError> {
        let file: Arc<str> = Arc::from(file);
        let mut scan = Parser::new(&file, src);
        let scanned = scan.signatures();
        let (decls, max_int, statements) = match scanned {
            Ok(found) if scan.diags.is_empty() => found,
            Ok(_) | Err(Stop) => return Err(ParseError { diagnostics: scan.diags, omitted: scan.omitted }),
        };
        let probe_base = probe_base(max_int);
        let max_values = MAX_INLINED_VALUES.max(statements.saturating_mul(INLINED_VALUES_PER_STATEMENT));
        let src: Arc<str> = Arc::from(src);
        let mut diagnostics = Vec::new();
        let mut omitted = 0;
        let mut funcs = Vec::with_capacity(decls.len());
        let by_name = index_names(&decls);
        {
            let calls = Calls {
                file: file.clone(),
                src: &src,
                decls: &decls,
                by_name: &by_name,
                library: standard_library,
                max_values,
                inlined: std::cell::Cell::new(0),
                stack: RefCell::new(Vec::new()),
                cache: RefCell::new(HashMap::default()),
            };
            for (i, d) in decls.iter().enumerate() {
                if !d.sig.is_generic() {
                    match calls.instantiate(i, &Dims::default()) {
                        Ok(f) => funcs.push(Some(Arc::unwrap_or_clone(f))),
                        Err(e) => {
                            omitted += e.omitted;
                            diagnostics.extend(e.diagnostics);
                            funcs.push(None);
                        }
                    }
                    continue;
                }
                let sets = probe_sets(&d.sig, probe_base);
                for probe in [sets[0].clone(), sets[sets.len() - 1].clone()] {
                    if let Err(e) = calls.instantiate(i, &probe) {
                        let names: Vec<(String, usize)> = probe.into_iter().collect();
                        omitted += e.omitted;
                        diagnostics.extend(e.diagnostics.into_iter().map(|mut diag| {
                            diag.message = name_extents(&diag.message, &names);
                            diag
                        }));
                        break;
                    }
                }
                funcs.push(None);
            }
        }
        if !diagnostics.is_empty() {
            if diagnostics.len() > MAX_DIAGNOSTICS {
                omitted += diagnostics.len() - MAX_DIAGNOSTICS;
                diagnostics.truncate(MAX_DIAGNOSTICS);
            }
            return Err(ParseError { diagnostics, omitted });
        }
        Ok(Program { file, src, decls, funcs, probe_base, max_values, by_name })
    }

    fn index(&self, name: Option<&str>) -> Result<usize, ProgramError> {
        match name {
            None => Ok(0),
            Some(n) => self.by_name.get(n).copied().ok_or_else(|| ProgramError::NoSuchFunction(n.to_string())),
        }
    }

    /// The signatures of the module's functions, in source order.
    pub fn signatures(&self) -> impl Iterator<Item = &Signature> {
        self.decls.iter().map(|d| &d.sig)
    }

    /// The signature of the first function, or of the one called `name`.
    pub fn signature(&self, name: Option<&str>) -> Result<&Signature, ProgramError> {
        Ok(&self.decls[self.index(name)?].sig)
    }

    /// Whether some function of the module has dimension variables.
    pub fn is_generic(&self) -> bool {
        self.decls.iter().any(|d| d.sig.is_generic())
    }

    /// The first function, or the one called `name`, when it has no
    /// dimension variables (its calls inlined); `what` completes the error
    /// about a generic one (`lower needs numbers: ...`).
    pub fn func(&self, name: Option<&str>, what: &str) -> Result<&Func, ProgramError> {
        let i = self.index(name)?;
        self.funcs[i].as_ref().ok_or_else(|| self.unbound(i, what))
    }

    /// The error for function `i`, which needs its dimension variables
    /// bound for `what`.
    fn unbound(&self, i: usize, what: &str) -> ProgramError {
        ProgramError::Unbound {
            func: self.decls[i].sig.name.clone(),
            vars: self.decls[i].sig.vars.clone(),
            what: what.to_string(),
        }
    }

    /// [`Program::func`], moved out of the program, which is dropped: the
    /// function is not copied.
    pub fn into_func(mut self, name: Option<&str>, what: &str) -> Result<Func, ProgramError> {
        let i = self.index(name)?;
        self.funcs[i].take().ok_or_else(|| self.unbound(i, what))
    }

    /// The first function, or the one called `name`, for arguments of
    /// types `args`: its dimension variables bound from their shapes, its
    /// calls inlined.
    ///
    /// A function without dimension variables is returned as it is (the
    /// arguments are checked against it where they are used).
    pub fn instantiate(&self, name: Option<&str>, args: &[TensorType]) -> Result<Func, ProgramError> {
        let i = self.index(name)?;
        if let Some(f) = &self.funcs[i] {
            return Ok(f.clone());
        }
        let sig = &self.decls[i].sig;
        let shapes: Vec<&[usize]> = args.iter().map(|t| &t.shape[..]).collect();
        let dims: Dims = sig.bind(&shapes)?.into_iter().collect();
        Ok(Arc::unwrap_or_clone(self.calls().instantiate(i, &dims)?))
    }

    fn calls(&self) -> Calls<'_> {
        Calls {
            file: self.file.clone(),
            src: &self.src,
            decls: &self.decls,
            by_name: &self.by_name,
            library: standard_library,
            max_values: self.max_values,
            inlined: std::cell::Cell::new(0),
            stack: RefCell::new(Vec::new()),
            cache: RefCell::new(HashMap::default()),
        }
    }

    /// The first function, or the one called `name`, transformed by `pass`
    /// and printed in canonical text. A generic function is instantiated
    /// at several bindings of its variables that appear nowhere in the
    /// file (a base one, one per variable with only that variable changed,
    /// and an unrelated one to verify), `pass` is applied to each, and the
    /// printed results are compared: every number that changes with the
    /// bindings must be the same sum of variables in all of them (`J+2`,
    /// `2*N-1`), and is printed as that sum. `Ok(None)`: some result
    /// depends on the variables otherwise (a constant folded from `1/N`,
    /// say), so it has no text with the variables.
    pub fn print_transformed<E: From<ProgramError>>(
        &self,
        name: Option<&str>,
        opts: PrintOptions,
        mut pass: impl FnMut(Func) -> Result<Func, E>,
    ) -> Result<Option<String>, E> {
        let i = self.index(name)?;
        if let Some(f) = &self.funcs[i] {
            return Ok(Some(print_func_with(&pass(f.clone())?, opts)));
        }
        self.print_generic(i, opts, pass)
    }

    /// [`Program::print_transformed`] of generic function `i`.
    fn print_generic<E: From<ProgramError>>(
        &self,
        i: usize,
        opts: PrintOptions,
        mut pass: impl FnMut(Func) -> Result<Func, E>,
    ) -> Result<Option<String>, E> {
        let sig = &self.decls[i].sig;
        if sig.vars.len() > MAX_PRINTED_VARS {
            return Ok(None);
        }
        let sets = probe_sets(sig, self.probe_base);
        let calls = self.calls();
        let mut texts = Vec::with_capacity(sets.len());
        for dims in &sets {
            let f = calls.instantiate(i, dims).map_err(ProgramError::from)?;
            texts.push(print_func_with(&pass(Arc::unwrap_or_clone(f))?, opts));
        }
        Ok(write_extents(&texts, &sets, &sig.vars))
    }

    /// The module, when no function has dimension variables; otherwise an
    /// error at the first generic function's name.
    pub fn into_module(self) -> Result<Module, ParseError> {
        if let Some(d) = self.decls.iter().find(|d| d.sig.is_generic()) {
            let mut p = Parser::new(&self.file, &self.src);
            let (start, end, line, col) = d.name_at;
            p.diag_at(
                start,
                end,
                line,
                col,
                format!(
                    "@{} has dimension variables ({}): bind them by instantiating it (`Program::instantiate`)",
                    d.sig.name,
                    d.sig.vars.join(", ")
                ),
            );
            return Err(ParseError { diagnostics: p.diags, omitted: 0 });
        }
        Ok(Module { funcs: self.funcs.into_iter().flatten().collect() })
    }

    /// The module in canonical text. Functions without dimension variables
    /// are printed with their calls inlined; generic ones with their
    /// dimension variables, or, where an extent is derived from them in a
    /// way the format cannot write (`N - 1`), as written in the file.
    pub fn print(&self, opts: PrintOptions) -> String {
        let mut out = String::new();
        for i in 0..self.decls.len() {
            if i > 0 {
                out.push('\n');
            }
            self.write_decl(&mut out, i, opts);
        }
        out
    }

    /// The functions without dimension variables (their calls inlined), in
    /// source order.
    pub fn concrete_funcs(&self) -> impl Iterator<Item = &Func> {
        self.funcs.iter().flatten()
    }

    /// The function called `name` in canonical text, as [`Program::print`]
    /// prints it.
    pub fn print_function(&self, name: &str, opts: PrintOptions) -> Result<String, ProgramError> {
        Ok(self.print_decl(self.index(Some(name))?, opts))
    }

    fn print_decl(&self, i: usize, opts: PrintOptions) -> String {
        let mut out = String::new();
        self.write_decl(&mut out, i, opts);
        out
    }

    /// Appends function `i` in canonical text to `out`: by its index (a
    /// lookup by name would make printing a module of many functions
    /// quadratic), and without copying a function that has no dimension
    /// variables.
    fn write_decl(&self, out: &mut String, i: usize, opts: PrintOptions) {
        if let Some(f) = &self.funcs[i] {
            crate::print::write_func(out, f, opts).expect("writing to a String cannot fail");
            return;
        }
        let d = &self.decls[i];
        match self.print_generic(i, opts, Ok::<Func, ProgramError>) {
            Ok(Some(text)) => out.push_str(&text),
            _ => {
                out.push_str(&self.src[d.start.0..d.end]);
                out.push('\n');
            }
        }
    }
}

/// The deepest nesting of calls (a call inside a callee inside a callee
/// ...) instantiated: each level is read on the stack.
pub const MAX_CALL_DEPTH: usize = 64;

/// The most values a function may have once its calls are inlined (calls
/// of calls multiply: a chain of functions that each call the next twice
/// doubles at every level), unless the file is large: a function may
/// always have [`INLINED_VALUES_PER_STATEMENT`] values per statement of the
/// file, so that memory stays within a fixed multiple of the input.
pub const MAX_INLINED_VALUES: usize = 1 << 16;

/// See [`MAX_INLINED_VALUES`].
pub const INLINED_VALUES_PER_STATEMENT: usize = 64;

/// All the functions of a module together may inline this many times the
/// values one function may have (many functions that each inline a large
/// callee would otherwise add up without bound).
pub const INLINED_BUDGET_FACTOR: usize = 16;

/// Generic functions with more dimension variables than this are printed
/// as written (each variable costs an instantiation when printing).
const MAX_PRINTED_VARS: usize = 8;
