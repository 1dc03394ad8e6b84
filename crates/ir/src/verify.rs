//! The verifier: one forward scan over a function.

use std::fmt;

use crate::{Func, Location, Module, Value};

/// One problem found by the verifier.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// The value whose definition is at fault, when one is.
    pub value: Option<Value>,
    /// That value's name, when it has one.
    pub name: Option<String>,
    /// Where it was built, when known.
    pub loc: Option<Location>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(loc) = &self.loc {
            write!(f, "{loc}: ")?;
        }
        match (&self.name, self.value) {
            (Some(n), _) => write!(f, "%{n}: ")?,
            (None, Some(v)) => write!(f, "{v}: ")?,
            (None, None) => {}
        }
        f.write_str(&self.message)
    }
}

/// The most problems a [`VerifyError`] keeps; later ones are only counted.
pub const MAX_PROBLEMS: usize = 100;

/// Every problem the verifier found in one function: the first
/// [`MAX_PROBLEMS`] in full, and how many more there were.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("function @{func} is not valid IR: {}", render(.problems, *.omitted))]
pub struct VerifyError {
    /// The function.
    pub func: String,
    /// The first problems, in program order.
    pub problems: Vec<Problem>,
    /// How many problems after those were found but not kept.
    pub omitted: usize,
}

fn render(problems: &[Problem], omitted: usize) -> String {
    let mut text = problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; ");
    if omitted > 0 {
        text.push_str(&format!("; and {omitted} more problem{}", if omitted == 1 { "" } else { "s" }));
    }
    text
}

/// Checks every invariant of `f` and reports all problems, not only the
/// first: arena sizes agree, every operand is defined earlier, every
/// instruction's stored type is what its op's typing rule gives, results
/// exist.
///
/// ```
/// use saddle_ir::{parse_module, verify};
/// let m = parse_module("f.sir", "func @f(%x: f64[]) -> f64[] {\n %y: f64[] = exp %x\n return %y\n}").unwrap();
/// assert!(verify(&m.funcs[0]).is_ok());
/// ```
pub fn verify(f: &Func) -> Result<(), VerifyError> {
    let mut problems = Vec::new();
    let mut omitted = 0;
    let mut problem = |value: Option<Value>, message: String| {
        if problems.len() >= MAX_PROBLEMS {
            omitted += 1;
            return;
        }
        let name = value.and_then(|v| f.value_name(v)).map(str::to_string);
        let loc = value.and_then(|v| f.loc(v));
        problems.push(Problem { value, name, loc, message });
    };
    let n = f.types.len();
    if n != f.num_params + f.insts.len() || f.names.len() != n || f.locs.len() != n {
        problem(
            None,
            format!(
                "arena sizes disagree: {} types, {} names, {} locations for {} parameters and {} instructions",
                n,
                f.names.len(),
                f.locs.len(),
                f.num_params,
                f.insts.len()
            ),
        );
        return Err(VerifyError { func: f.name.clone(), problems, omitted });
    }
    for (i, ty) in f.types[..f.num_params].iter().enumerate() {
        if let Err(e) = ty.clone().checked() {
            problem(Some(Value::from_index(i)), format!("parameter {i}: {e}"));
        }
    }
    for (v, inst) in f.iter_insts() {
        let mut operands_ok = true;
        for (k, a) in inst.args.iter().enumerate() {
            if a.index() >= v.index() {
                operands_ok = false;
                problem(
                    Some(v),
                    format!("operand {k} of {} refers to {a}, which is not defined before it", inst.op.name()),
                );
            }
        }
        if !operands_ok {
            continue;
        }
        match crate::func::infer_from(&inst.op, &f.types, &inst.args) {
            Ok(ty) if ty == f.types[v.index()] => {}
            Ok(ty) => problem(
                Some(v),
                format!("{} produces {ty} but the value is recorded as {}", inst.op.name(), f.types[v.index()]),
            ),
            Err(e) => problem(Some(v), e.to_string()),
        }
    }
    if f.results.is_empty() {
        problem(None, "the function returns no values".to_string());
    }
    for (i, r) in f.results.iter().enumerate() {
        if r.index() >= n {
            problem(None, format!("result {i} refers to {r}, which is not defined"));
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(VerifyError { func: f.name.clone(), problems, omitted }) }
}

/// Verifies every function of a module and that their names are distinct.
pub fn verify_module(m: &Module) -> Result<(), VerifyError> {
    let mut seen = std::collections::HashSet::new();
    for f in &m.funcs {
        if !seen.insert(f.name.as_str()) {
            return Err(VerifyError {
                func: f.name.clone(),
                problems: vec![Problem {
                    value: None,
                    name: None,
                    loc: None,
                    message: "a function of this name is defined twice".into(),
                }],
                omitted: 0,
            });
        }
        verify(f)?;
    }
    if m.funcs.is_empty() {
        return Err(VerifyError {
            func: String::new(),
            problems: vec![Problem {
                value: None,
                name: None,
                loc: None,
                message: "the module has no functions".into(),
            }],
            omitted: 0,
        });
    }
    Ok(())
}
