//! The hand-written recursive-descent parser of the text format.
//!
//! Errors are rendered as `FILE:LINE:COL: error: MESSAGE` followed by the
//! source line and a caret under the offending token. Syntax errors stop
//! the parse; errors inside a well-formed statement (undefined values, type
//! errors, bad attributes) are collected and the parse goes on, so one run
//! reports them all.

mod attrs;
mod dense;
pub mod lexer;
mod program;

use rustc_hash::FxHashMap as HashMap;
use std::fmt;
use std::sync::Arc;

use attrs::{AttrList, AttrValue};
use lexer::{LexError, Lexer, Tok, Token};

use crate::types::MAX_RANK;
use crate::{DType, Func, FuncBuilder, Module, Shape, TensorType, Value};

pub use program::{
    Dim, DimExpr, INLINED_BUDGET_FACTOR, INLINED_VALUES_PER_STATEMENT, MAX_CALL_DEPTH, MAX_INLINED_VALUES,
    ParamPattern, Program, ProgramError, Signature,
};

/// One located error.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// File name as given to the parser.
    pub file: Arc<str>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub col: u32,
    /// Width of the offending token in characters (at least 1).
    pub width: u32,
    /// What is wrong.
    pub message: String,
    /// The source line, shortened around the column when very long.
    pub snippet: String,
    /// Column of the token within `snippet` (1-based).
    pub snippet_col: u32,
}

impl Diagnostic {
    /// The first line: `FILE:LINE:COL: error: MESSAGE`.
    pub fn headline(&self) -> String {
        format!("{}:{}:{}: error: {}", self.file, self.line, self.col, self.message)
    }
}

impl fmt::Display for Diagnostic {
    /// The headline, the source line, and a caret under the token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let gutter = self.line.to_string();
        let pad = " ".repeat(gutter.len());
        writeln!(f, "{}", self.headline())?;
        writeln!(f, "{pad} |")?;
        writeln!(f, "{gutter} | {}", self.snippet)?;
        let lead: String = self
            .snippet
            .chars()
            .take(self.snippet_col.saturating_sub(1) as usize)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        write!(f, "{pad} | {lead}{}", "^".repeat(self.width.max(1) as usize))
    }
}

/// The most diagnostics a [`ParseError`] keeps; later ones are only
/// counted (in [`ParseError::omitted`]), so that a file with millions of
/// errors costs neither memory nor pages of output.
pub const MAX_DIAGNOSTICS: usize = 100;

/// Every error found in a source file: the first [`MAX_DIAGNOSTICS`] in
/// full, and how many more there were.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}{}", .diagnostics.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n"), omitted_line(*.omitted))]
pub struct ParseError {
    /// The first errors, in source order.
    pub diagnostics: Vec<Diagnostic>,
    /// How many errors after those were found but not kept.
    pub omitted: usize,
}

impl ParseError {
    /// The line that counts the errors not shown (`None` when all are
    /// shown): `12 more errors not shown`.
    pub fn omitted_message(&self) -> Option<String> {
        (self.omitted > 0).then(|| format!("{} more error{} not shown", self.omitted, plural(self.omitted)))
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn omitted_line(omitted: usize) -> String {
    if omitted == 0 { String::new() } else { format!("\n{omitted} more error{} not shown", plural(omitted)) }
}

/// Parses and type-checks a module from text. `file` names the source in
/// error messages.
///
/// ```
/// use saddle_ir::parse_module;
/// let err = parse_module("bad.sir", "func @f(%x: f64[]) -> f64[] {\n  return %y\n}").unwrap_err();
/// assert!(err.to_string().starts_with("bad.sir:2:10: error: undefined value %y"));
/// ```
pub fn parse_module(file: &str, src: &str) -> Result<Module, ParseError> {
    parse_program(file, src)?.into_module()
}

/// Parses and type-checks a module whose functions may have dimension
/// variables and calls (see [`Program`]). `file` names the source in error
/// messages.
///
/// A module without either is read in one streaming pass, as
/// [`parse_module`] always did; one with them is read in two (the
/// signatures first, then each body).
///
/// ```
/// use saddle_ir::{TensorType, parse::parse_program};
/// let src = "func @sumsq(%x: f64[N]) -> f64[] {
///   %y = mul %x, %x
///   %s = reduce_sum %y {axes = [0]}
///   return %s
/// }";
/// let p = parse_program("m.sir", src).unwrap();
/// let f = p.instantiate(None, &[TensorType::f64([5])]).unwrap();
/// assert_eq!(f.param_types(), &[TensorType::f64([5])]);
/// ```
pub fn parse_program(file: &str, src: &str) -> Result<Program, ParseError> {
    let mut p = Parser::new(file, src);
    let result = p.module();
    if p.needs_program {
        return Program::parse(file, src);
    }
    match result {
        Ok(m) if p.diags.is_empty() => Ok(Program::from_module(file, m)),
        Ok(_) | Err(Stop) => Err(ParseError { diagnostics: p.diags, omitted: p.omitted }),
    }
}

/// Parses raw bytes: invalid UTF-8 is an error at the first bad byte.
pub fn parse_module_bytes(file: &str, bytes: &[u8]) -> Result<Module, ParseError> {
    parse_program_bytes(file, bytes)?.into_module()
}

/// [`parse_program`] of raw bytes: invalid UTF-8 is an error at the first
/// bad byte.
pub fn parse_program_bytes(file: &str, bytes: &[u8]) -> Result<Program, ParseError> {
    match std::str::from_utf8(bytes) {
        Ok(src) => parse_program(file, src),
        Err(e) => {
            let valid = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
            let line = valid.matches('\n').count() as u32 + 1;
            let line_start = valid.rfind('\n').map_or(0, |i| i + 1);
            let col = valid[line_start..].chars().count() as u32 + 1;
            let (snippet, snippet_col) = snippet_of(&valid[line_start..], col);
            Err(ParseError {
                diagnostics: vec![Diagnostic {
                    file: Arc::from(file),
                    line,
                    col,
                    width: 1,
                    message: format!("invalid UTF-8 (byte {} of the file)", e.valid_up_to() + 1),
                    snippet,
                    snippet_col,
                }],
                omitted: 0,
            })
        }
    }
}

/// Parses a module holding exactly the text of one function and returns it.
pub fn parse_func(file: &str, src: &str) -> Result<Func, ParseError> {
    let m = parse_module(file, src)?;
    Ok(m.funcs.into_iter().next().expect("a parsed module has at least one function"))
}

/// Marker: a syntax error was recorded and the parse cannot go on.
#[derive(Debug)]
struct Stop;

type PResult<T> = Result<T, Stop>;

/// The most deeply nested attribute list accepted.
const MAX_NESTING: usize = 64;

struct Parser<'a> {
    file: Arc<str>,
    src: &'a str,
    lexer: Lexer<'a>,
    tok: Token<'a>,
    diags: Vec<Diagnostic>,
    /// Errors found after [`MAX_DIAGNOSTICS`] were kept.
    omitted: usize,
    /// Scratch buffers reused across statements.
    operands: Vec<(Token<'a>, Value)>,
    args: Vec<Value>,
    attrs: AttrList<'a>,
    /// The extents of the dimension variables in scope. `None` on the
    /// first, streaming pass over a module, which stops (setting
    /// `needs_program`) at the first name in a shape or the first `call`.
    dims: Option<&'a program::Dims>,
    /// The module's functions, for `call`s; `None` on the streaming pass.
    calls: Option<&'a program::Calls<'a>>,
    /// The streaming pass met a dimension variable or a call: the module
    /// is read again by [`Program::parse`].
    needs_program: bool,
}

/// A value in scope: defined, or poisoned by an earlier error (its uses
/// are then not reported again).
#[derive(Clone, Copy)]
enum Slot {
    Defined(Value, u32),
    Poisoned(u32),
}

/// Characters of context shown around an error.
const WINDOW: usize = 80;

fn clean(s: &str) -> String {
    s.chars().map(|c| if c.is_control() && c != '\t' { '?' } else { c }).collect()
}

/// The snippet of a whole `line` for an error at character column `col`:
/// the line itself when short, else [`WINDOW`] characters around the column.
fn snippet_of(line: &str, col: u32) -> (String, u32) {
    let n = line.chars().count();
    if n <= 2 * WINDOW {
        return (clean(line), col);
    }
    let c = col.saturating_sub(1) as usize;
    let from = c.saturating_sub(WINDOW / 2);
    let text: String = line.chars().skip(from).take(WINDOW).collect();
    let prefix = if from > 0 { "..." } else { "" };
    let suffix = if from + WINDOW < n { "..." } else { "" };
    (format!("{prefix}{}{suffix}", clean(&text)), (c - from + prefix.len() + 1) as u32)
}

/// The snippet for an error at byte `start` of `src`, as [`snippet_of`]
/// gives for its line, reading only a bounded window of characters on
/// either side (lines may be megabytes long).
fn snippet_at(src: &str, start: usize) -> (String, u32) {
    let limit = 2 * WINDOW + 1;
    let (before, after) = (&src[..start], &src[start..]);
    let mut nb = 0;
    let mut from = start;
    for (i, c) in before.char_indices().rev().take(limit) {
        if c == '\n' {
            break;
        }
        nb += 1;
        from = i;
    }
    let mut na = 0;
    let mut to = start;
    for (i, c) in after.char_indices().take(limit) {
        if c == '\n' {
            break;
        }
        na += 1;
        to = start + i + c.len_utf8();
    }
    if nb + na <= 2 * WINDOW {
        return (clean(&src[from..to]), nb as u32 + 1);
    }
    let shown_before = nb.min(WINDOW / 2);
    let left: String = before.chars().rev().take(shown_before).collect::<Vec<_>>().into_iter().rev().collect();
    let right: String = after.chars().take(WINDOW - shown_before).collect();
    let prefix = if shown_before < nb { "..." } else { "" };
    let suffix = if WINDOW - shown_before < na { "..." } else { "" };
    (format!("{prefix}{}{}{suffix}", clean(&left), clean(&right)), (shown_before + prefix.len() + 1) as u32)
}

/// The largest char boundary of `s` at or below byte `i`.
fn floor_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl<'a> Parser<'a> {
    fn new(file: &str, src: &'a str) -> Parser<'a> {
        let mut p = Parser {
            file: Arc::from(file),
            src,
            lexer: Lexer::new(src),
            tok: Token { tok: Tok::Eof, start: 0, end: 0, line: 1, col: 1 },
            diags: Vec::new(),
            omitted: 0,
            operands: Vec::new(),
            args: Vec::new(),
            attrs: AttrList::default(),
            dims: None,
            calls: None,
            needs_program: false,
        };
        if p.advance().is_err() {
            p.tok = Token { tok: Tok::Eof, start: src.len(), end: src.len(), line: 1, col: 1 };
        }
        p
    }

    /// A parser at byte `pos` (line `line`, column `col`) of `src`, with
    /// dimension variables `dims` and the module's functions `calls`.
    fn at(
        file: Arc<str>,
        src: &'a str,
        (pos, line, col): (usize, u32, u32),
        dims: &'a program::Dims,
        calls: &'a program::Calls<'a>,
    ) -> Parser<'a> {
        let mut p = Parser {
            file,
            src,
            lexer: Lexer::at(src, pos, line, col),
            tok: Token { tok: Tok::Eof, start: 0, end: 0, line, col },
            diags: Vec::new(),
            omitted: 0,
            operands: Vec::new(),
            args: Vec::new(),
            attrs: AttrList::default(),
            dims: Some(dims),
            calls: Some(calls),
            needs_program: false,
        };
        if p.advance().is_err() {
            p.tok = Token { tok: Tok::Eof, start: src.len(), end: src.len(), line, col };
        }
        p
    }

    fn diag_at(&mut self, start: usize, end: usize, line: u32, col: u32, message: String) {
        if self.diags.len() >= MAX_DIAGNOSTICS {
            self.omitted += 1;
            return;
        }
        let start = floor_boundary(self.src, start);
        let end = floor_boundary(self.src, end.max(start));
        let width = self.src[start..end].chars().take_while(|&c| c != '\n').take(80).count().max(1) as u32;
        let (snippet, snippet_col) = snippet_at(self.src, start);
        self.diags.push(Diagnostic { file: self.file.clone(), line, col, width, message, snippet, snippet_col });
    }

    fn error_at(&mut self, t: &Token<'a>, message: impl Into<String>) {
        let t = *t;
        self.diag_at(t.start, t.end, t.line, t.col, message.into());
    }

    fn fail<T>(&mut self, message: impl Into<String>) -> PResult<T> {
        let t = self.tok;
        self.error_at(&t, message);
        Err(Stop)
    }

    fn lex_error(&mut self, e: LexError) -> Stop {
        self.diag_at(e.start, e.end, e.line, e.col, e.message);
        Stop
    }

    /// Moves to the next token, returning the current one.
    fn advance(&mut self) -> PResult<Token<'a>> {
        let next = self.lexer.next_token().map_err(|e| self.lex_error(e))?;
        Ok(std::mem::replace(&mut self.tok, next))
    }

    /// Consumes a punctuation token (`want` carries no text).
    fn expect(&mut self, want: Tok<'a>, what: &str) -> PResult<Token<'a>> {
        if std::mem::discriminant(&self.tok.tok) == std::mem::discriminant(&want) {
            self.advance()
        } else {
            let found = self.tok.tok.describe();
            self.fail(format!("expected {what}, found {found}"))
        }
    }

    fn expect_keyword(&mut self, kw: &str) -> PResult<Token<'a>> {
        if matches!(self.tok.tok, Tok::Ident(s) if s == kw) {
            self.advance()
        } else {
            let found = self.tok.tok.describe();
            self.fail(format!("expected `{kw}`, found {found}"))
        }
    }

    fn module(&mut self) -> PResult<Module> {
        let mut funcs: Vec<Func> = Vec::new();
        let mut names: HashMap<&'a str, u32> = HashMap::default();
        if self.tok.tok == Tok::Eof {
            return self.fail("expected `func`, found end of file (a module needs at least one function)");
        }
        while self.tok.tok != Tok::Eof {
            let (f, name_tok) = self.func()?;
            if let Some(line) = names.get(f.name()) {
                let msg = format!("function @{} is already defined at line {line}", f.name());
                self.error_at(&name_tok, msg);
            } else {
                names.insert(name_tok_str(&name_tok), name_tok.line);
            }
            funcs.push(f);
        }
        Ok(Module { funcs })
    }

    fn func(&mut self) -> PResult<(Func, Token<'a>)> {
        self.expect_keyword("func")?;
        let name_tok = self.tok;
        let Tok::Global(name) = self.tok.tok else {
            let found = self.tok.tok.describe();
            return self.fail(format!("expected a function name like `@f`, found {found}"));
        };
        let mut b = FuncBuilder::new(name);
        // Room for about one statement per line up to the next `return`:
        // large functions then build without regrowing their arenas. A
        // statement takes at least 16 bytes of text (`%a: f64[] = exp %b`
        // is 19), so blank lines cannot make the reservation outgrow the
        // input by more than a small factor.
        let rest = &self.src.as_bytes()[self.tok.end..];
        let body = &rest[..memchr::memmem::find(rest, b"return").unwrap_or(rest.len())];
        let estimate = memchr::memchr_iter(b'\n', body).count().min(body.len() / 16);
        b.reserve(estimate);
        self.advance()?;
        let mut scope: HashMap<&'a str, Slot> = HashMap::with_capacity_and_hasher(estimate, Default::default());
        let declared = self.header(
            |p, _| p.ty(),
            |p, name_tok, pname, ty| {
                let v = b.param(ty).expect("parameters precede instructions and types are checked");
                b.set_name(v, pname);
                b.set_line_col(v, &p.file, name_tok.line, name_tok.col);
                p.define(&mut scope, &name_tok, pname, Slot::Defined(v, name_tok.line));
            },
        )?;
        self.expect(Tok::LBrace, "`{`")?;
        while !matches!(self.tok.tok, Tok::Ident("return")) {
            self.stmt(&mut b, &mut scope)?;
        }
        let ret_tok = self.advance()?;
        let mut results = Vec::new();
        let mut poisoned = false;
        loop {
            let t = self.tok;
            match self.use_value(&scope)? {
                Some(v) => results.push((t, v)),
                None => poisoned = true,
            }
            if self.tok.tok == Tok::Comma {
                self.advance()?;
            } else {
                break;
            }
        }
        self.expect(Tok::RBrace, "`}` after the return statement")?;
        if !poisoned {
            if results.len() != declared.len() {
                let msg =
                    format!("the signature declares {} result(s) but `return` gives {}", declared.len(), results.len());
                self.error_at(&ret_tok, msg);
            } else {
                for (i, ((t, v), (_, want))) in results.iter().zip(&declared).enumerate() {
                    let have = b.ty(*v).expect("scope holds values of this function").clone();
                    if &have != want {
                        let msg = format!("result {i} has type {have}, but the signature declares {want}");
                        self.error_at(t, msg);
                    }
                }
            }
        }
        if declared.is_empty() {
            self.error_at(&ret_tok, "a function needs at least one result");
        }
        let vals: Vec<Value> = results.iter().map(|(_, v)| *v).collect();
        let f = if vals.is_empty() {
            empty_func(&name_tok)
        } else {
            b.finish(&vals).expect("results are values of this function")
        };
        Ok((f, name_tok))
    }

    /// A signature after the function's name: `(%a: T, ...) -> R` or
    /// `-> (R, ...)`. Types are read by `ty` (told whether it reads a
    /// result); each parameter goes to `param` with its name and its
    /// token; the result types are returned with their tokens.
    fn header<T>(
        &mut self,
        mut ty: impl FnMut(&mut Self, bool) -> PResult<T>,
        mut param: impl FnMut(&mut Self, Token<'a>, &'a str, T),
    ) -> PResult<Vec<(Token<'a>, T)>> {
        self.expect(Tok::LParen, "`(`")?;
        if self.tok.tok != Tok::RParen {
            loop {
                let name_tok = self.tok;
                let Tok::Local(pname) = self.tok.tok else {
                    let found = self.tok.tok.describe();
                    return self.fail(format!("expected a parameter like `%x: f64[]`, found {found}"));
                };
                self.advance()?;
                self.expect(Tok::Colon, "`:` and the parameter's type")?;
                let t = ty(self, false)?;
                param(self, name_tok, pname, t);
                if self.tok.tok == Tok::Comma {
                    self.advance()?;
                } else {
                    break;
                }
            }
        }
        self.expect(Tok::RParen, "`,` or `)`")?;
        self.expect(Tok::Arrow, "`->` and the result types")?;
        let mut declared = Vec::new();
        if self.tok.tok == Tok::LParen {
            self.advance()?;
            if self.tok.tok != Tok::RParen {
                loop {
                    let t = self.tok;
                    declared.push((t, ty(self, true)?));
                    if self.tok.tok == Tok::Comma {
                        self.advance()?;
                    } else {
                        break;
                    }
                }
            }
            self.expect(Tok::RParen, "`,` or `)`")?;
        } else {
            let t = self.tok;
            declared.push((t, ty(self, true)?));
        }
        Ok(declared)
    }

    fn define(&mut self, scope: &mut HashMap<&'a str, Slot>, t: &Token<'a>, name: &'a str, slot: Slot) {
        let prev = match scope.get(name) {
            Some(Slot::Defined(_, line)) | Some(Slot::Poisoned(line)) => Some(*line),
            None => None,
        };
        if let Some(line) = prev {
            self.error_at(t, format!("%{name} is already defined at line {line}"));
        } else {
            scope.insert(name, slot);
        }
    }

    /// Reads `%name` and looks it up. `Ok(None)`: poisoned or undefined
    /// (undefined is reported here).
    fn use_value(&mut self, scope: &HashMap<&'a str, Slot>) -> PResult<Option<Value>> {
        let t = self.tok;
        let Tok::Local(name) = t.tok else {
            let found = t.tok.describe();
            return self.fail(format!("expected a value like `%x`, found {found}"));
        };
        self.advance()?;
        match scope.get(name) {
            Some(Slot::Defined(v, _)) => Ok(Some(*v)),
            Some(Slot::Poisoned(_)) => Ok(None),
            None => {
                self.error_at(&t, format!("undefined value %{name}"));
                Ok(None)
            }
        }
    }

    fn ty(&mut self) -> PResult<TensorType> {
        let t = self.tok;
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
        let mut shape = Shape::new();
        if self.tok.tok == Tok::LBracket {
            if let Some(close) = self.lexer.small_int_list(|_, i| shape.push(i as usize)) {
                self.advance()?;
                return self.checked_type(&t, TensorType { dtype, shape }, &close);
            }
        }
        self.expect(Tok::LBracket, "`[` and the shape (`[]` for a scalar)")?;
        if self.tok.tok != Tok::RBracket {
            loop {
                let t = self.tok;
                let extent = match self.tok.tok {
                    Tok::Int(i) => match self.number_or_sum(i)? {
                        Ok(n) => n,
                        Err(e) => self.extent_value(&e, &t)?,
                    },
                    Tok::Ident(_) => {
                        let e = self.extent_expr(None)?;
                        self.extent_value(&e, &t)?
                    }
                    _ => self.usize_tok("an axis extent")?,
                };
                shape.push(extent);
                if self.tok.tok == Tok::Comma {
                    self.advance()?;
                } else {
                    break;
                }
            }
        }
        let close = self.expect(Tok::RBracket, "`,` or `]`")?;
        self.checked_type(&t, TensorType { dtype, shape }, &close)
    }

    /// `ty` if its shape is within bounds; otherwise an error spanning the
    /// type's text, from token `t` to `close`.
    fn checked_type(&mut self, t: &Token<'a>, ty: TensorType, close: &Token<'a>) -> PResult<TensorType> {
        match ty.checked() {
            Ok(ty) => Ok(ty),
            Err(e) => {
                self.diag_at(t.start, close.end, t.line, t.col, e.to_string());
                Err(Stop)
            }
        }
    }

    fn usize_tok(&mut self, what: &str) -> PResult<usize> {
        match self.tok.tok {
            Tok::Int(i) if i >= 0 && i <= usize::MAX as i128 => {
                self.advance()?;
                Ok(i as usize)
            }
            _ => {
                let found = self.tok.tok.describe();
                self.fail(format!("expected {what} (a non-negative integer), found {found}"))
            }
        }
    }

    fn stmt(&mut self, b: &mut FuncBuilder, scope: &mut HashMap<&'a str, Slot>) -> PResult<()> {
        let name_tok = self.tok;
        let Tok::Local(name) = self.tok.tok else {
            let found = self.tok.tok.describe();
            return self.fail(format!("expected a statement like `%y: f64[] = exp %x`, or `return`, found {found}"));
        };
        self.advance()?;
        let annotation = if self.tok.tok == Tok::Colon {
            self.advance()?;
            let t = self.tok;
            Some((t, self.ty()?))
        } else {
            None
        };
        self.expect(Tok::Equals, "`=`")?;
        let op_tok = self.tok;
        let Tok::Ident(op_name) = self.tok.tok else {
            let found = self.tok.tok.describe();
            return self.fail(format!("expected an op name, found {found}"));
        };
        if op_name == "call" && self.calls.is_none() {
            self.needs_program = true;
            return Err(Stop);
        }
        self.advance()?;
        let mut operands = std::mem::take(&mut self.operands);
        operands.clear();
        let mut poisoned = false;
        if matches!(self.tok.tok, Tok::Local(_)) {
            loop {
                let t = self.tok;
                match self.use_value(scope)? {
                    Some(v) => operands.push((t, v)),
                    None => poisoned = true,
                }
                if self.tok.tok == Tok::Comma {
                    self.advance()?;
                } else {
                    break;
                }
            }
        }
        let mut attrs = std::mem::take(&mut self.attrs);
        attrs.clear();
        if self.tok.tok == Tok::LBrace {
            let dense_ty = annotation.as_ref().filter(|_| op_name == "const").map(|(_, ty)| ty);
            self.attr_list(&mut attrs, dense_ty)?;
        }
        let before = b.num_values();
        let slot = if poisoned {
            Slot::Poisoned(name_tok.line)
        } else {
            let built = if op_name == "call" {
                self.build_call(b, &op_tok, &operands, annotation.as_ref(), &mut attrs)
            } else {
                self.build(b, &op_tok, op_name, &operands, annotation.as_ref(), &mut attrs)
            };
            match built {
                // A call that returns one of its operands defines no new
                // value: the name is an alias.
                Some(v) if v.index() < before => Slot::Defined(v, name_tok.line),
                Some(v) => {
                    b.set_name(v, name);
                    b.set_line_col(v, &self.file, name_tok.line, name_tok.col);
                    Slot::Defined(v, name_tok.line)
                }
                None => Slot::Poisoned(name_tok.line),
            }
        };
        self.define(scope, &name_tok, name, slot);
        self.operands = operands;
        self.attrs = attrs;
        Ok(())
    }

    /// Builds one instruction, reporting (and returning `None` on) any
    /// attribute or type error.
    fn build(
        &mut self,
        b: &mut FuncBuilder,
        op_tok: &Token<'a>,
        op_name: &str,
        operands: &[(Token<'a>, Value)],
        annotation: Option<&(Token<'a>, TensorType)>,
        attrs: &mut AttrList<'a>,
    ) -> Option<Value> {
        let rank0 = operands.first().and_then(|(_, v)| b.ty(*v)).map_or(0, TensorType::rank);
        let op = match attrs::make_op(op_name, attrs, annotation.map(|(_, t)| t), rank0) {
            Ok(op) => op,
            Err(e) => {
                let t = e.token.unwrap_or(*op_tok);
                self.error_at(&t, e.message);
                return None;
            }
        };
        if let Some((t, name)) = attrs.leftover() {
            self.error_at(&t, format!("{op_name} has no attribute `{name}`"));
            return None;
        }
        self.args.clear();
        self.args.extend(operands.iter().map(|(_, v)| *v));
        match b.push(op, &self.args) {
            Ok(v) => {
                if let Some((t, want)) = annotation {
                    let have = b.ty(v).expect("just pushed");
                    if have != want {
                        self.error_at(t, format!("type annotation says {want}, but {op_name} produces {have}"));
                        return None;
                    }
                }
                Some(v)
            }
            Err(e) => {
                let t = e.operand().and_then(|i| operands.get(i)).map_or(*op_tok, |(t, _)| *t);
                self.error_at(&t, e.to_string());
                None
            }
        }
    }

    /// `{name = value, ...}`. `dense_ty` is the annotated type of a
    /// `const`, whose list `value` is read straight into its storage.
    fn attr_list(&mut self, list: &mut AttrList<'a>, dense_ty: Option<&TensorType>) -> PResult<()> {
        self.expect(Tok::LBrace, "`{`")?;
        if self.tok.tok != Tok::RBrace {
            loop {
                let t = self.tok;
                let Tok::Ident(name) = self.tok.tok else {
                    let found = self.tok.tok.describe();
                    return self.fail(format!("expected an attribute name, found {found}"));
                };
                self.advance()?;
                self.expect(Tok::Equals, "`=` after the attribute name")?;
                let value = match dense_ty {
                    Some(ty) if name == "value" && self.tok.tok == Tok::LBracket => self.dense_value(ty)?,
                    _ => self.attr_value(0)?,
                };
                if !list.insert(name, t, value) {
                    self.error_at(&t, format!("attribute `{name}` is given twice"));
                }
                if self.tok.tok == Tok::Comma {
                    self.advance()?;
                } else {
                    break;
                }
            }
        }
        self.expect(Tok::RBrace, "`,` or `}`")?;
        Ok(())
    }

    fn attr_value(&mut self, depth: usize) -> PResult<(Token<'a>, AttrValue<'a>)> {
        let t = self.tok;
        let v = match self.tok.tok {
            Tok::Int(i) => {
                self.advance()?;
                let sum = matches!(self.tok.tok, Tok::Plus | Tok::Minus | Tok::Star)
                    || matches!(self.tok.tok, Tok::Int(j) if j < 0);
                if !sum {
                    return Ok((t, AttrValue::Int(i)));
                }
                // An extent written as a sum: `2*N`, `3+J`.
                let e = self.extent_expr(Some(i))?;
                let n = self.extent_value(&e, &t)?;
                return Ok((t, AttrValue::Int(n as i128)));
            }
            Tok::Float(s) => AttrValue::Float(s),
            Tok::Ident(s) => match s {
                "true" => AttrValue::Bool(true),
                "false" => AttrValue::Bool(false),
                "inf" | "nan" => AttrValue::Float(s),
                other => match other.parse::<DType>() {
                    Ok(d) => AttrValue::DType(d),
                    Err(()) => {
                        let e = self.extent_expr(None)?;
                        let n = self.extent_value(&e, &t)?;
                        return Ok((t, AttrValue::Int(n as i128)));
                    }
                },
            },
            Tok::Global(s) => AttrValue::Global(s),
            Tok::LBracket => {
                if depth >= MAX_NESTING {
                    return self.fail(format!("attribute lists nest deeper than {MAX_NESTING} levels"));
                }
                // Outside `const` values (read by `dense_value`), attribute
                // lists are flat lists of axes or extents, at most one per
                // axis: longer or nested lists are read to their end but not
                // kept, so that their size costs no memory.
                if depth > 0 {
                    self.list_entries(depth, |_| {})?;
                    let message = "lists nested in an attribute value are read only in `const` values";
                    return Ok((t, AttrValue::Bad(t, message.into())));
                }
                let mut items = Vec::new();
                let count = self.list_entries(depth, |item| {
                    if items.len() < MAX_RANK {
                        items.push(item);
                    }
                })?;
                if count > MAX_RANK {
                    let message =
                        format!("a list of {count} entries is longer than the {MAX_RANK} axes a tensor may have");
                    return Ok((t, AttrValue::Bad(t, message)));
                }
                return Ok((t, AttrValue::List(items)));
            }
            other => {
                let found = other.describe();
                return self.fail(format!("expected an attribute value, found {found}"));
            }
        };
        self.advance()?;
        Ok((t, v))
    }
}

impl<'a> Parser<'a> {
    /// Reads the entries of a list (the current token is its `[`), passing
    /// each to `each`; returns how many there were.
    fn list_entries(&mut self, depth: usize, mut each: impl FnMut((Token<'a>, AttrValue<'a>))) -> PResult<usize> {
        let mut count = 0;
        if self
            .lexer
            .small_int_list(|t, i| {
                count += 1;
                each((t, AttrValue::Int(i)));
            })
            .is_some()
        {
            self.advance()?;
            return Ok(count);
        }
        self.advance()?;
        if self.tok.tok != Tok::RBracket {
            loop {
                each(self.attr_value(depth + 1)?);
                count += 1;
                if self.tok.tok == Tok::Comma {
                    self.advance()?;
                } else {
                    break;
                }
            }
        }
        self.expect(Tok::RBracket, "`,` or `]`")?;
        Ok(count)
    }
}

fn name_tok_str<'a>(t: &Token<'a>) -> &'a str {
    match t.tok {
        Tok::Global(s) => s,
        _ => "",
    }
}

fn empty_func(t: &Token) -> Func {
    Func::from_raw_parts(name_tok_str(t), 0, vec![], vec![], vec![])
}
