//! The parser's side of programs: the first pass over the signatures, the
//! call graph's checks, extents written as sums, and the inlining of calls.

use std::sync::Arc;

use super::super::lexer::{Tok, Token};
use super::super::{MAX_DIAGNOSTICS, PResult, Parser, Stop};
use super::{Decl, Dim, DimExpr, Dims, INLINED_BUDGET_FACTOR, MAX_CALL_DEPTH, ParamPattern, Signature};
use crate::types::MAX_RANK;
use crate::{DType, Func, FuncBuilder, TensorType, Value};

/// Whether `name` may name a dimension variable: not a word the format
/// gives another meaning in a type or attribute.
fn reserved(name: &str) -> bool {
    name.parse::<DType>().is_ok() || matches!(name, "true" | "false" | "inf" | "nan")
}

impl<'a> Parser<'a> {
    /// The first pass: every function's signature; bodies are skipped.
    /// Also gives the largest integer written anywhere, and the number of
    /// statements.
    pub(super) fn signatures(&mut self) -> PResult<(Vec<Decl>, i128, usize)> {
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
            let mut params = Vec::new();
            let mut vars = Vec::new();
            // Result types are checked when the body is read: names that
            // appear only there are not variables.
            let mut result_vars = Vec::new();
            self.header(
                |p, result| p.ty_pattern(if result { &mut result_vars } else { &mut vars }, &mut max_int),
                |_, _, pname, (dtype, dims)| params.push(ParamPattern { name: pname.to_string(), dtype, dims }),
            )?;
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
    pub(in crate::parse) fn number_or_sum(&mut self, i: i128) -> PResult<Result<usize, DimExpr>> {
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
    pub(in crate::parse) fn extent_expr(&mut self, first: Option<i128>) -> PResult<DimExpr> {
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
    pub(in crate::parse) fn extent_value(&mut self, e: &DimExpr, t: &Token<'a>) -> PResult<usize> {
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
    pub(in crate::parse) fn build_call(
        &mut self,
        b: &mut FuncBuilder,
        op_tok: &Token<'a>,
        operands: &[(Token<'a>, Value)],
        annotation: Option<&(Token<'a>, TensorType)>,
        attrs: &mut super::super::attrs::AttrList<'a>,
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
