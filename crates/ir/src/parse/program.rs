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
//! function may call one defined after it), then each body. A generic
//! function is checked by instantiating it at two sets of extents that
//! appear nowhere in the file, so that its errors are found before it is
//! given numbers, and it is printed (with the names put back) from those
//! instances.

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;

use super::lexer::{Tok, Token};
use super::{MAX_DIAGNOSTICS, PResult, ParseError, Parser, Stop};
use crate::types::MAX_RANK;
use crate::{DType, Error, Func, FuncBuilder, Module, PrintOptions, TensorType, Value, print_func_with};

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
        self.decls.iter().position(|d| d.sig.name == name)
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
}

impl Program {
    /// The program of a module without dimension variables or calls.
    pub(super) fn from_module(file: &str, m: Module) -> Program {
        let decls = m
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
        {
            let calls = Calls {
                file: file.clone(),
                src: &src,
                decls: &decls,
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
        Ok(Program { file, src, decls, funcs, probe_base, max_values })
    }

    fn index(&self, name: Option<&str>) -> Result<usize, ProgramError> {
        match name {
            None => Ok(0),
            Some(n) => self
                .decls
                .iter()
                .position(|d| d.sig.name == n)
                .ok_or_else(|| ProgramError::NoSuchFunction(n.to_string())),
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
        self.funcs[i].as_ref().ok_or_else(|| ProgramError::Unbound {
            func: self.decls[i].sig.name.clone(),
            vars: self.decls[i].sig.vars.clone(),
            what: what.to_string(),
        })
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
        let texts: Vec<String> = (0..self.decls.len()).map(|i| self.print_decl(i, opts)).collect();
        texts.join("\n")
    }

    /// The function called `name` in canonical text, as [`Program::print`]
    /// prints it.
    pub fn print_function(&self, name: &str, opts: PrintOptions) -> Result<String, ProgramError> {
        Ok(self.print_decl(self.index(Some(name))?, opts))
    }

    fn print_decl(&self, i: usize, opts: PrintOptions) -> String {
        let d = &self.decls[i];
        match self.print_transformed(Some(&d.sig.name), opts, Ok::<Func, ProgramError>) {
            Ok(Some(text)) => text,
            _ => format!("{}\n", &self.src[d.start.0..d.end]),
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

/// The smallest extent tried when checking a generic function.
const PROBE_FLOOR: usize = 101;

/// The largest: tensors of a few probed axes must stay within
/// [`crate::MAX_ELEMENTS`].
const PROBE_CEILING: usize = 10_000;

fn probe_base(max_int: i128) -> usize {
    (max_int.saturating_add(1).clamp(PROBE_FLOOR as i128, PROBE_CEILING as i128)) as usize
}

fn is_prime(n: usize) -> bool {
    n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0)
}

/// The bindings at which a generic function is checked and printed, all
/// distinct primes from `base` on: a base binding, then for each variable
/// the base with only that variable changed, then an unrelated binding.
fn probe_sets(sig: &Signature, base: usize) -> Vec<Dims> {
    let k = sig.vars.len();
    let primes: Vec<usize> = (base..).filter(|&n| is_prime(n)).take(3 * k).collect();
    let with = |values: &[usize]| -> Dims { sig.vars.iter().cloned().zip(values.iter().copied()).collect() };
    let mut sets = vec![with(&primes[..k])];
    for v in 0..k {
        let mut values = primes[..k].to_vec();
        values[v] = primes[k + v];
        sets.push(with(&values));
    }
    sets.push(with(&primes[2 * k..]));
    sets
}

/// Text up to an integer, and the integer: its value, whether it was
/// written as a whole float, and its text.
type Piece<'s> = (&'s str, Option<(u64, bool, &'s str)>);

/// A printed function cut at its free-standing integers (not within names,
/// floats or negative numbers; a whole float `101.0` counts as `101`).
fn pieces(text: &str) -> Vec<Piece<'_>> {
    let bytes = text.as_bytes();
    let joined = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || b"_%@.-".contains(b));
    let mut out = Vec::new();
    let (mut i, mut last) = (0, 0);
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let digits = i;
        let whole_float = bytes.get(i) == Some(&b'.') && bytes.get(i + 1) == Some(&b'0') && !joined(bytes.get(i + 2));
        let end = if whole_float { i + 2 } else { i };
        let value = text[start..digits].parse::<u64>().ok();
        match value {
            Some(n) if !joined(start.checked_sub(1).and_then(|j| bytes.get(j))) && !joined(bytes.get(end)) => {
                out.push((&text[last..start], Some((n, whole_float, &text[start..end]))));
                last = end;
                i = end;
            }
            _ => {}
        }
    }
    out.push((&text[last..], None));
    out
}

/// The text of instances printed at the bindings of [`probe_sets`], with
/// every integer that changes with the bindings written as the sum of
/// variables it is in all of them; `None` when the texts differ otherwise.
fn write_extents(texts: &[String], sets: &[Dims], vars: &[String]) -> Option<String> {
    let cut: Vec<Vec<Piece<'_>>> = texts.iter().map(|t| pieces(t)).collect();
    let first = cut.first()?;
    if cut.iter().any(|c| c.len() != first.len()) {
        return None;
    }
    let k = vars.len();
    let value = |s: usize, v: &str| sets[s].get(v).copied().unwrap_or(0) as i128;
    let mut out = String::with_capacity(texts[0].len());
    for (p, (text, num)) in first.iter().enumerate() {
        if cut.iter().any(|c| c[p].0 != *text || c[p].1.map(|n| n.1) != num.map(|n| n.1)) {
            return None;
        }
        out.push_str(text);
        let Some((n0, _, written)) = num else { continue };
        let values: Vec<i128> = cut.iter().map(|c| c[p].1.map_or(0, |n| n.0 as i128)).collect();
        if values.iter().all(|&v| v == *n0 as i128) {
            out.push_str(written);
            continue;
        }
        // Set 0 is the base, set 1 + v changes variable v only, the last
        // verifies.
        let mut e = DimExpr { constant: 0, terms: Vec::new() };
        let mut constant = values[0];
        for (v, name) in vars.iter().enumerate() {
            let (dv, dx) = (values[1 + v] - values[0], value(1 + v, name) - value(0, name));
            if dx == 0 || dv % dx != 0 {
                return None;
            }
            let a = dv / dx;
            constant -= a * value(0, name);
            if a != 0 {
                e.terms.push((i64::try_from(a).ok()?, name.clone()));
            }
        }
        let check = k + 1;
        let predicted = constant + e.terms.iter().map(|(a, v)| i128::from(*a) * value(check, v)).sum::<i128>();
        if predicted != values[check] {
            return None;
        }
        e.constant = i64::try_from(constant).ok()?;
        out.push_str(&e.to_string());
    }
    Some(out)
}

/// `text` with every free-standing integer that is one of the extents in
/// `names` replaced by its variable's name (not within other names,
/// floats or negative numbers).
fn name_extents(text: &str, names: &[(String, usize)]) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut last = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let digits = i;
        // A whole float (`101.0`, an extent used as a `const` value) counts
        // as its integer.
        if bytes.get(i) == Some(&b'.')
            && bytes.get(i + 1) == Some(&b'0')
            && !bytes.get(i + 2).is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'.')
        {
            i += 2;
        }
        let before = start.checked_sub(1).map(|j| bytes[j]);
        let after = bytes.get(i).copied();
        let joined = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || b"_%@.-".contains(&b));
        if joined(before) || joined(after) {
            continue;
        }
        if let Some((name, _)) =
            text[start..digits].parse::<usize>().ok().and_then(|n| names.iter().find(|(_, m)| *m == n))
        {
            out.push_str(&text[last..start]);
            out.push_str(name);
            last = i;
        }
    }
    out.push_str(&text[last..]);
    out
}

/// Whether `name` may name a dimension variable: not a word the format
/// gives another meaning in a type or attribute.
fn reserved(name: &str) -> bool {
    name.parse::<DType>().is_ok() || matches!(name, "true" | "false" | "inf" | "nan")
}

impl<'a> Parser<'a> {
    /// The first pass: every function's signature; bodies are skipped.
    /// Also gives the largest integer written anywhere, and the number of
    /// statements.
    fn signatures(&mut self) -> PResult<(Vec<Decl>, i128, usize)> {
        let mut decls: Vec<Decl> = Vec::new();
        let mut max_int: i128 = 0;
        let mut statements = 0usize;
        if self.tok.tok == Tok::Eof {
            return self.fail("expected `func`, found end of file (a module needs at least one function)");
        }
        while self.tok.tok != Tok::Eof {
            let start = (self.tok.start, self.tok.line, self.tok.col);
            self.expect_keyword("func")?;
            let name_tok = self.tok;
            let Tok::Global(name) = self.tok.tok else {
                let found = self.tok.tok.describe();
                return self.fail(format!("expected a function name like `@f`, found {found}"));
            };
            if let Some(d) = decls.iter().find(|d| d.sig.name == name) {
                let msg = format!("function @{name} is already defined at line {}", d.start.1);
                self.error_at(&name_tok, msg);
            }
            self.advance()?;
            self.expect(Tok::LParen, "`(`")?;
            let mut params = Vec::new();
            let mut vars = Vec::new();
            if self.tok.tok != Tok::RParen {
                loop {
                    let Tok::Local(pname) = self.tok.tok else {
                        let found = self.tok.tok.describe();
                        return self.fail(format!("expected a parameter like `%x: f64[]`, found {found}"));
                    };
                    self.advance()?;
                    self.expect(Tok::Colon, "`:` and the parameter's type")?;
                    let (dtype, dims) = self.ty_pattern(&mut vars, &mut max_int)?;
                    params.push(ParamPattern { name: pname.to_string(), dtype, dims });
                    if self.tok.tok == Tok::Comma {
                        self.advance()?;
                    } else {
                        break;
                    }
                }
            }
            self.expect(Tok::RParen, "`,` or `)`")?;
            self.expect(Tok::Arrow, "`->` and the result types")?;
            // Result types are checked when the body is read.
            let mut scratch = Vec::new();
            if self.tok.tok == Tok::LParen {
                self.advance()?;
                while self.tok.tok != Tok::RParen {
                    self.ty_pattern(&mut scratch, &mut max_int)?;
                    if self.tok.tok == Tok::Comma {
                        self.advance()?;
                    } else {
                        break;
                    }
                }
                self.expect(Tok::RParen, "`,` or `)`")?;
            } else {
                self.ty_pattern(&mut scratch, &mut max_int)?;
            }
            self.expect(Tok::LBrace, "`{`")?;
            let mut depth = 1usize;
            let mut callees = Vec::new();
            // How far `callee = @f` has been read.
            let mut seen = 0;
            let end = loop {
                seen = match (seen, self.tok.tok) {
                    (_, Tok::Ident("callee")) => 1,
                    (1, Tok::Equals) => 2,
                    (2, Tok::Global(g)) => {
                        let t = self.tok;
                        callees.push((g.to_string(), (t.start, t.end, t.line, t.col)));
                        0
                    }
                    _ => 0,
                };
                match self.tok.tok {
                    Tok::LBrace => depth += 1,
                    Tok::RBrace => depth -= 1,
                    Tok::Int(i) => max_int = max_int.max(i),
                    Tok::Equals if depth == 1 => statements += 1,
                    Tok::Eof => return self.fail(format!("expected `}}` closing @{name}, found end of file")),
                    _ => {}
                }
                let t = self.advance()?;
                if depth == 0 {
                    break t.end;
                }
            };
            decls.push(Decl {
                sig: Signature { name: name.to_string(), params, vars },
                start,
                end,
                name_at: (name_tok.start, name_tok.end, name_tok.line, name_tok.col),
                callees,
            });
        }
        if !self.recursion(&decls) {
            self.call_depth(&decls);
        }
        Ok((decls, max_int, statements))
    }

    /// Reports each cycle of calls among `decls` once, at the call that
    /// closes it (a depth-first search over the call graph); whether there
    /// was one.
    fn recursion(&mut self, decls: &[Decl]) -> bool {
        let mut found = false;
        let index = |name: &str| decls.iter().position(|d| d.sig.name == name);
        // 0: not visited, 1: on the path, 2: done.
        let mut state = vec![0u8; decls.len()];
        for root in 0..decls.len() {
            if state[root] != 0 {
                continue;
            }
            // The path, each function with the next callee to follow.
            let mut path: Vec<(usize, usize)> = vec![(root, 0)];
            state[root] = 1;
            while let Some(&mut (f, ref mut next)) = path.last_mut() {
                let Some((callee, at)) = decls[f].callees.get(*next) else {
                    state[f] = 2;
                    path.pop();
                    continue;
                };
                *next += 1;
                let Some(g) = index(callee) else { continue };
                match state[g] {
                    0 => {
                        state[g] = 1;
                        path.push((g, 0));
                    }
                    1 => {
                        let cycle: Vec<String> = path
                            .iter()
                            .skip_while(|(h, _)| *h != g)
                            .map(|(h, _)| format!("@{}", decls[*h].sig.name))
                            .collect();
                        let (start, end, line, col) = *at;
                        let msg = format!(
                            "recursive call: {} → @{callee} (a function may not call itself, directly or through others)",
                            cycle.join(" → ")
                        );
                        self.diag_at(start, end, line, col, msg);
                        found = true;
                    }
                    _ => {}
                }
            }
        }
        found
    }

    /// Reports the first function (in source order) whose calls nest
    /// deeper than [`MAX_CALL_DEPTH`]. The call graph has no cycles.
    fn call_depth(&mut self, decls: &[Decl]) {
        let index = |name: &str| decls.iter().position(|d| d.sig.name == name);
        // depth[f]: the longest chain of calls from f (0: calls nothing),
        // computed callees first by an explicit post-order walk.
        let mut depth: Vec<Option<usize>> = vec![None; decls.len()];
        for root in 0..decls.len() {
            let mut stack = vec![root];
            while let Some(&f) = stack.last() {
                if depth[f].is_some() {
                    stack.pop();
                    continue;
                }
                let callees: Vec<usize> = decls[f].callees.iter().filter_map(|(c, _)| index(c)).collect();
                let pending: Vec<usize> = callees.iter().copied().filter(|&g| depth[g].is_none()).collect();
                if pending.is_empty() {
                    depth[f] = Some(callees.iter().map(|&g| depth[g].unwrap_or(0) + 1).max().unwrap_or(0));
                    stack.pop();
                } else {
                    stack.extend(pending);
                }
            }
        }
        if let Some(f) = (0..decls.len()).find(|&f| depth[f].unwrap_or(0) > MAX_CALL_DEPTH) {
            let (start, end, line, col) = decls[f].name_at;
            let msg = format!(
                "calls nest {} levels deep from @{} (at most {MAX_CALL_DEPTH})",
                depth[f].unwrap_or(0),
                decls[f].sig.name
            );
            self.diag_at(start, end, line, col, msg);
        }
    }

    /// A type whose extents may be names, collecting new names in `vars`.
    fn ty_pattern(&mut self, vars: &mut Vec<String>, max_int: &mut i128) -> PResult<(DType, Vec<Dim>)> {
        let dtype = match self.tok.tok {
            Tok::Ident(s) => s.parse::<DType>().ok(),
            _ => None,
        };
        let Some(dtype) = dtype else {
            let found = self.tok.tok.describe();
            return self
                .fail(format!("expected a type like `f64[2,3]` (dtype f32, f64, i32, i64 or bool), found {found}"));
        };
        self.advance()?;
        self.expect(Tok::LBracket, "`[` and the shape (`[]` for a scalar)")?;
        let mut dims = Vec::new();
        if self.tok.tok != Tok::RBracket {
            loop {
                let t = self.tok;
                let e = match self.tok.tok {
                    Tok::Int(i) => {
                        *max_int = (*max_int).max(i);
                        match self.number_or_sum(i)? {
                            Ok(n) => {
                                dims.push(Dim::Fixed(n));
                                if self.tok.tok == Tok::Comma {
                                    self.advance()?;
                                    continue;
                                }
                                break;
                            }
                            Err(e) => e,
                        }
                    }
                    _ => self.extent_expr(None)?,
                };
                for (_, v) in &e.terms {
                    if !vars.iter().any(|w| w == v) {
                        vars.push(v.clone());
                    }
                }
                let dim = match e.as_var() {
                    Some(v) => Dim::Var(v.to_string()),
                    None if e.terms.is_empty() => match usize::try_from(e.constant) {
                        Ok(n) => Dim::Fixed(n),
                        Err(_) => {
                            let msg = format!("expected an axis extent (a non-negative integer), found `{e}`");
                            self.error_at(&t, msg);
                            return Err(Stop);
                        }
                    },
                    None => Dim::Expr(e),
                };
                dims.push(dim);
                if self.tok.tok == Tok::Comma {
                    self.advance()?;
                } else {
                    break;
                }
            }
        }
        if dims.len() > MAX_RANK {
            return self.fail(format!("a type of {} axes has more than the {MAX_RANK} a tensor may have", dims.len()));
        }
        self.expect(Tok::RBracket, "`,` or `]`")?;
        Ok((dtype, dims))
    }

    /// The extent starting at integer `i` (the current token): the number
    /// itself, or the sum it starts (`2*N`, `3+J`).
    pub(super) fn number_or_sum(&mut self, i: i128) -> PResult<Result<usize, DimExpr>> {
        let t = self.advance()?;
        if matches!(self.tok.tok, Tok::Plus | Tok::Minus | Tok::Star) || matches!(self.tok.tok, Tok::Int(j) if j < 0) {
            return Ok(Err(self.extent_expr(Some(i))?));
        }
        match usize::try_from(i) {
            Ok(n) => Ok(Ok(n)),
            Err(_) => {
                let found = t.tok.describe();
                self.error_at(&t, format!("expected an axis extent (a non-negative integer), found {found}"));
                Err(Stop)
            }
        }
    }

    /// An extent: a number, a dimension variable, or an affine sum of
    /// them (`J+2`, `2*N-1`, `N+M`). `first` is an integer already read.
    pub(super) fn extent_expr(&mut self, first: Option<i128>) -> PResult<DimExpr> {
        const LIMIT: i128 = 1 << 62;
        let mut e = DimExpr::default();
        let mut constant: i128 = 0;
        let mut sign: i128 = 1;
        let mut pending = first;
        loop {
            let t = self.tok;
            // One term: INT, NAME, INT*NAME or NAME*INT.
            let (coeff, var) = match (pending.take(), self.tok.tok) {
                (Some(i), _) => (i, None),
                (None, Tok::Int(i)) => {
                    self.advance()?;
                    (i, None)
                }
                (None, Tok::Ident(name)) if !reserved(name) => {
                    self.advance()?;
                    (1, Some(name))
                }
                (None, Tok::Ident(name)) => {
                    return self.fail(format!("`{name}` cannot name a dimension variable: it is a keyword"));
                }
                (None, other) => {
                    let found = other.describe();
                    return self.fail(format!(
                        "expected an axis extent (a non-negative integer, a dimension variable or a sum like `J+2`), found {found}"
                    ));
                }
            };
            let (coeff, var) = if self.tok.tok == Tok::Star {
                self.advance()?;
                match (var, self.tok.tok) {
                    (None, Tok::Ident(name)) if !reserved(name) => {
                        self.advance()?;
                        (coeff, Some(name))
                    }
                    (Some(name), Tok::Int(k)) => {
                        self.advance()?;
                        (k, Some(name))
                    }
                    _ => {
                        let found = self.tok.tok.describe();
                        return self.fail(format!(
                            "expected a dimension variable times a number (`2*N`) in an extent, found {found}"
                        ));
                    }
                }
            } else {
                (coeff, var)
            };
            let coeff = sign * coeff;
            if !(-LIMIT..=LIMIT).contains(&coeff) {
                self.error_at(&t, format!("the number {coeff} in an extent is out of range"));
                return Err(Stop);
            }
            match var {
                Some(v) => {
                    let k = match e.terms.iter_mut().find(|(_, w)| w == v) {
                        Some((k, _)) => k,
                        None => {
                            e.terms.push((0, v.to_string()));
                            &mut e.terms.last_mut().expect("just pushed").0
                        }
                    };
                    let sum = i128::from(*k) + coeff;
                    if !(-LIMIT..=LIMIT).contains(&sum) {
                        self.error_at(&t, format!("the coefficient of {v} in an extent is out of range"));
                        return Err(Stop);
                    }
                    *k = sum as i64;
                }
                None => constant += coeff,
            }
            if !(-LIMIT..=LIMIT).contains(&constant) {
                self.error_at(&t, "an extent's constant is out of range".to_string());
                return Err(Stop);
            }
            match self.tok.tok {
                Tok::Plus => {
                    self.advance()?;
                    sign = 1;
                }
                Tok::Minus => {
                    self.advance()?;
                    sign = -1;
                }
                // `J-2`: the minus was read as the number's sign.
                Tok::Int(i) if i < 0 => sign = 1,
                _ => break,
            }
        }
        e.terms.retain(|(k, _)| *k != 0);
        e.constant = constant as i64;
        Ok(e)
    }

    /// The value of extent `e` (read from token `t` on): a number as it
    /// is; with variables, their sum under the bindings in scope (on the
    /// streaming pass, stops it: the module is read again with its
    /// signatures known).
    pub(super) fn extent_value(&mut self, e: &DimExpr, t: &Token<'a>) -> PResult<usize> {
        if e.terms.is_empty() {
            return match usize::try_from(e.constant) {
                Ok(n) => Ok(n),
                Err(_) => {
                    self.error_at(t, format!("expected an axis extent (a non-negative integer), found `{e}`"));
                    Err(Stop)
                }
            };
        }
        let Some(dims) = self.dims else {
            self.needs_program = true;
            return Err(Stop);
        };
        match e.eval(dims) {
            Err(v) => {
                let msg = format!(
                    "`{v}` is not a dimension variable of this function (they are named in its parameters' types)"
                );
                self.error_at(t, msg);
                Err(Stop)
            }
            Ok(n) => match usize::try_from(n) {
                Ok(n) => Ok(n),
                Err(_) => {
                    let bound: Vec<String> =
                        e.terms.iter().map(|(_, v)| format!("{v} = {}", dims.get(v).copied().unwrap_or(0))).collect();
                    self.error_at(t, format!("the extent {e} is {n} for {}", bound.join(", ")));
                    Err(Stop)
                }
            },
        }
    }

    /// `call %a, %b {callee = @f}`: `@f` (of the module, else of the
    /// library) instantiated at the operands' types and inlined; the value
    /// is its first result.
    pub(super) fn build_call(
        &mut self,
        b: &mut FuncBuilder,
        op_tok: &Token<'a>,
        operands: &[(Token<'a>, Value)],
        annotation: Option<&(Token<'a>, TensorType)>,
        attrs: &mut super::attrs::AttrList<'a>,
    ) -> Option<Value> {
        let calls = self.calls?;
        let (callee_tok, callee, extra) = match attrs.call_attrs() {
            Ok(found) => found,
            Err(e) => {
                let t = e.token.unwrap_or(*op_tok);
                self.error_at(&t, e.message);
                return None;
            }
        };
        let types: Vec<TensorType> = operands.iter().map(|(_, v)| b.ty(*v).cloned()).collect::<Option<_>>()?;
        if calls.stack.borrow().len() >= MAX_CALL_DEPTH {
            let msg = format!("calls nest deeper than {MAX_CALL_DEPTH} levels here (at the call of @{callee})");
            self.error_at(&callee_tok, msg);
            return None;
        }
        let library = calls.index(callee).is_none();
        let f: Arc<Func> = match calls.index(callee) {
            Some(i) => {
                if let Some((name, _)) = extra.first() {
                    let msg = format!(
                        "call of @{callee}: attribute `{name}` is for library functions; a call of the module's own function takes only `callee`"
                    );
                    self.error_at(op_tok, msg);
                    return None;
                }
                if calls.stack.borrow().contains(&i) {
                    let chain: Vec<String> = calls
                        .stack
                        .borrow()
                        .iter()
                        .skip_while(|&&j| j != i)
                        .map(|&j| format!("@{}", calls.decls[j].sig.name))
                        .collect();
                    let msg = format!(
                        "recursive call: {} calls @{callee} again (recursion is not allowed)",
                        chain.join(" → ")
                    );
                    self.error_at(&callee_tok, msg);
                    return None;
                }
                let sig = &calls.decls[i].sig;
                let shapes: Vec<&[usize]> = types.iter().map(|t| &t.shape[..]).collect();
                let dims: Dims = match sig.bind(&shapes) {
                    Ok(bound) => bound.into_iter().collect(),
                    Err(e) => {
                        self.error_at(&callee_tok, format!("call: {e}"));
                        return None;
                    }
                };
                let want = sig.types(&dims);
                for (k, ((t, _), (have, want))) in operands.iter().zip(types.iter().zip(&want)).enumerate() {
                    if have.dtype != want.dtype {
                        let msg = format!("call of @{callee}: operand {k} has type {have}, but @{callee} takes {want}");
                        self.error_at(t, msg);
                        return None;
                    }
                }
                match calls.instantiate(i, &dims) {
                    Ok(f) => f,
                    Err(e) => {
                        let bound: Vec<String> = dims.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                        let msg = format!(
                            "@{callee} does not type-check when called with ({}){}",
                            types.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", "),
                            if bound.is_empty() { String::new() } else { format!(", where {}", bound.join(", ")) }
                        );
                        self.error_at(&callee_tok, msg);
                        for d in e.diagnostics {
                            if self.diags.len() < MAX_DIAGNOSTICS {
                                self.diags.push(d);
                            } else {
                                self.omitted += 1;
                            }
                        }
                        return None;
                    }
                }
            }
            None => match (calls.library)(callee, &types, &extra) {
                None => {
                    let msg = format!("no function @{callee} in the module or in the standard library");
                    self.error_at(&callee_tok, msg);
                    return None;
                }
                Some(Err(e)) => {
                    // The library's errors name the function and the operands.
                    self.error_at(&callee_tok, e.to_string());
                    return None;
                }
                Some(Ok(f)) => Arc::new(f),
            },
        };
        if f.num_params() != operands.len() {
            let msg = format!("@{callee} takes {} operand(s), given {}", f.num_params(), operands.len());
            self.error_at(op_tok, msg);
            return None;
        }
        for (k, ((t, _), (have, want))) in operands.iter().zip(types.iter().zip(f.param_types())).enumerate() {
            if have != want {
                let msg = format!("call of @{callee}: operand {k} has type {have}, but @{callee} takes {want}");
                self.error_at(t, msg);
                return None;
            }
        }
        let budget = calls.max_values.saturating_mul(INLINED_BUDGET_FACTOR);
        let spent = calls.inlined.get().saturating_add(f.insts().len());
        if spent > budget {
            let msg = format!(
                "inlining @{callee} ({} ops) takes the module's functions past {budget} inlined values in all",
                f.insts().len()
            );
            self.error_at(&callee_tok, msg);
            return None;
        }
        calls.inlined.set(spent);
        if b.num_values().saturating_add(f.insts().len()) > calls.max_values {
            let msg = format!(
                "inlining @{callee} ({} ops) makes this function larger than {} values",
                f.insts().len(),
                calls.max_values
            );
            self.error_at(&callee_tok, msg);
            return None;
        }
        let mut map: Vec<Value> = operands.iter().map(|(_, v)| *v).collect();
        for (old, inst) in f.iter_insts() {
            let args: Vec<Value> = inst.args.iter().map(|a| map[a.index()]).collect();
            match b.push(inst.op.clone(), &args) {
                Ok(v) => {
                    // One prefix: names inlined from deeper calls keep theirs.
                    match f.value_name(old) {
                        Some(n) if n.contains('.') => b.set_name(v, n),
                        Some(n) if !n.is_empty() => b.set_name(v, format!("{callee}.{n}")),
                        _ => b.set_name(v, format!("{callee}.{}", old.index())),
                    }
                    // A module function's ops keep their lines in its body;
                    // a library function's are located at the call.
                    match f.loc(old) {
                        Some(loc) if !library => b.set_loc(v, loc),
                        _ => b.set_line_col(v, &self.file, op_tok.line, op_tok.col),
                    }
                    map.push(v);
                }
                Err(e) => {
                    self.error_at(op_tok, format!("call of @{callee}: {e}"));
                    return None;
                }
            }
        }
        let Some(r) = f.results().first() else {
            self.error_at(op_tok, format!("@{callee} has no result"));
            return None;
        };
        let v = map[r.index()];
        if let Some((t, want)) = annotation {
            let have = b.ty(v)?;
            if have != want {
                let msg = format!("type annotation says {want}, but the call of @{callee} produces {have}");
                self.error_at(t, msg);
                return None;
            }
        }
        Some(v)
    }
}
