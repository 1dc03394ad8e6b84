//! The text writer: MLIR names, types and literals, and one function's body.

use std::collections::HashSet;
use std::fmt::Write;

use saddle_ir::{DType, Func, Literal, Scalar, TensorType, Value, value_names};

use crate::Error;
use crate::ops;

/// Writes the body of one function, one instruction at a time.
///
/// Every IR value gets an MLIR name up front (its IR name where MLIR
/// accepts it). Helper values that a lowering needs besides its result are
/// named after that result with a `-N` suffix (and a `_` prefix when the
/// result's name is a number): `-` cannot occur in an IR name, so helper
/// names never collide with the names of IR values.
pub(crate) struct Emitter<'f> {
    /// The function being lowered.
    pub f: &'f Func,
    /// The printed IR name of each value (without `%`), for messages.
    pub ir_names: Vec<String>,
    /// The MLIR name of each value (without `%`).
    names: Vec<String>,
    used: HashSet<String>,
    body: String,
    /// The value whose instruction is being lowered.
    current: Value,
    next_helper: usize,
}

impl<'f> Emitter<'f> {
    fn new(f: &'f Func) -> Emitter<'f> {
        let ir_names = value_names(f);
        let mut used = HashSet::with_capacity(ir_names.len());
        let mut names = Vec::with_capacity(ir_names.len());
        for n in &ir_names {
            // MLIR takes `%` followed by digits only, or by a letter or
            // `_.$-` then anything of those; IR names such as `1x` need a
            // prefix.
            let starts_ok = n.starts_with(|c: char| !c.is_ascii_digit());
            let base = if starts_ok || n.chars().all(|c| c.is_ascii_digit()) { n.clone() } else { format!("v{n}") };
            let mut name = base.clone();
            let mut k = 1;
            while used.contains(&name) {
                name = format!("{base}-{k}");
                k += 1;
            }
            used.insert(name.clone());
            names.push(name);
        }
        Emitter { f, ir_names, names, used, body: String::new(), current: Value::from_index(0), next_helper: 1 }
    }

    /// `%name` of `v`.
    pub fn arg(&self, v: Value) -> String {
        format!("%{}", self.names[v.index()])
    }

    /// `%name` of the value being defined.
    pub fn out(&self) -> String {
        self.arg(self.current)
    }

    /// The value being defined.
    pub fn current(&self) -> Value {
        self.current
    }

    /// The MLIR type of `v`.
    pub fn ty(&self, v: Value) -> String {
        tensor_type(self.f.ty(v))
    }

    /// The MLIR type of the value being defined.
    pub fn out_ty(&self) -> String {
        self.ty(self.current)
    }

    /// A fresh name for a helper value of the current instruction.
    pub fn helper(&mut self) -> String {
        let base = &self.names[self.current.index()];
        // `%3-1` is not an MLIR name (digits only, or a non-digit first).
        let sep = if base.starts_with(|c: char| c.is_ascii_digit()) { "_" } else { "" };
        loop {
            let name = format!("{sep}{base}-{}", self.next_helper);
            self.next_helper += 1;
            if self.used.insert(name.clone()) {
                return format!("%{name}");
            }
        }
    }

    /// Makes the value being defined another name for `v` (an op that
    /// lowers to nothing, such as `stop_gradient`).
    pub fn alias(&mut self, v: Value) {
        self.names[self.current.index()] = self.names[v.index()].clone();
    }

    /// Appends one line of the body (indentation added here).
    pub fn line(&mut self, text: impl AsRef<str>) {
        for l in text.as_ref().lines() {
            self.body.push_str("    ");
            self.body.push_str(l);
            self.body.push('\n');
        }
    }

    /// Writes `%helper = stablehlo.constant dense<value> : ty` and returns
    /// the helper's name.
    pub fn splat_const(&mut self, value: Scalar, ty: &TensorType) -> String {
        let name = self.helper();
        self.line(format!("{name} = stablehlo.constant dense<{}> : {}", scalar_text(value), tensor_type(ty)));
        name
    }
}

/// Lowers `f` to one `func.func` with the given visibility and symbol.
pub(crate) fn lower_func(f: &Func, symbol: &str, visibility: &str) -> Result<String, Error> {
    saddle_ir::verify(f)?;
    let mut em = Emitter::new(f);
    for (v, inst) in f.iter_insts() {
        em.current = v;
        em.next_helper = 1;
        ops::lower_inst(&mut em, v, inst)?;
    }
    let mut out = String::new();
    let params: Vec<String> = f.params().map(|p| format!("{}: {}", em.arg(p), em.ty(p))).collect();
    let result_types: Vec<String> = f.results().iter().map(|&r| em.ty(r)).collect();
    let results =
        if result_types.len() == 1 { result_types[0].clone() } else { format!("({})", result_types.join(", ")) };
    let _ = writeln!(out, "  func.func {visibility} {symbol}({}) -> {results} {{", params.join(", "));
    out.push_str(&em.body);
    let returned: Vec<String> = f.results().iter().map(|&r| em.arg(r)).collect();
    let _ = writeln!(out, "    return {} : {}", returned.join(", "), result_types.join(", "));
    out.push_str("  }\n");
    Ok(out)
}

/// An MLIR symbol reference for `name`: bare where MLIR allows, quoted
/// (with `\XX` escapes for anything but printable ASCII) otherwise.
pub(crate) fn symbol(name: &str) -> String {
    let bare = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '.'));
    if bare {
        return format!("@{name}");
    }
    let mut out = String::from("@\"");
    for b in name.bytes() {
        if (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\' {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "\\{b:02X}");
        }
    }
    out.push('"');
    out
}

/// The MLIR element type of a dtype.
pub fn element_type(d: DType) -> &'static str {
    match d {
        DType::F32 => "f32",
        DType::F64 => "f64",
        DType::I32 => "i32",
        DType::I64 => "i64",
        DType::Bool => "i1",
    }
}

/// The MLIR type of a tensor type: `tensor<2x3xf64>`, `tensor<i64>`,
/// `tensor<3xi1>`.
///
/// ```
/// use saddle_ir::{DType, TensorType};
/// use saddle_xla_lower::tensor_type;
/// assert_eq!(tensor_type(&TensorType::f64([2, 3])), "tensor<2x3xf64>");
/// assert_eq!(tensor_type(&TensorType::scalar(DType::I64)), "tensor<i64>");
/// assert_eq!(tensor_type(&TensorType::new(DType::Bool, [3])), "tensor<3xi1>");
/// ```
pub fn tensor_type(t: &TensorType) -> String {
    let mut s = String::from("tensor<");
    for d in &t.shape {
        let _ = write!(s, "{d}x");
    }
    s.push_str(element_type(t.dtype));
    s.push('>');
    s
}

/// A finite float as an MLIR float literal that reads back to the same
/// bits: the shortest round-trip decimal, with the `.` MLIR requires
/// (`1.0e-7`, not `1e-7`).
fn float_text(x: f64) -> String {
    let s = format!("{x:?}");
    match s.find('e') {
        Some(i) if !s[..i].contains('.') => format!("{}.0{}", &s[..i], &s[i..]),
        None if !s.contains('.') => format!("{s}.0"),
        _ => s,
    }
}

/// One element as MLIR literal text, exact: finite floats in shortest
/// round-trip decimal (an `f32` is written as the decimal of its exact
/// `f64` value, so that it reads back exactly whether MLIR parses through
/// `f64` or not), non-finite floats as their bit pattern in hex, integers
/// in decimal, booleans as `true`/`false`.
///
/// ```
/// use saddle_ir::Scalar;
/// use saddle_xla_lower::scalar_text;
/// assert_eq!(scalar_text(Scalar::F64(1.5)), "1.5");
/// assert_eq!(scalar_text(Scalar::F64(1e-300)), "1.0e-300");
/// assert_eq!(scalar_text(Scalar::F64(f64::NEG_INFINITY)), "0xFFF0000000000000");
/// assert_eq!(scalar_text(Scalar::I32(-3)), "-3");
/// assert_eq!(scalar_text(Scalar::Bool(true)), "true");
/// ```
pub fn scalar_text(s: Scalar) -> String {
    match s {
        Scalar::F64(x) if x.is_finite() => float_text(x),
        Scalar::F64(x) => format!("0x{:016X}", x.to_bits()),
        Scalar::F32(x) if x.is_finite() => float_text(f64::from(x)),
        Scalar::F32(x) => format!("0x{:08X}", x.to_bits()),
        Scalar::I32(x) => x.to_string(),
        Scalar::I64(x) => x.to_string(),
        Scalar::Bool(x) => x.to_string(),
    }
}

/// A literal as the body of `dense<...>`: one element for a splat, nested
/// lists in row-major order otherwise, nothing for an empty tensor.
pub(crate) fn dense_text(lit: &Literal) -> String {
    match lit {
        Literal::Splat { ty, .. } if ty.num_elements() == 0 => String::new(),
        Literal::Splat { value, .. } => scalar_text(*value),
        Literal::Dense(a) if a.is_empty() => String::new(),
        Literal::Dense(a) => {
            let scalars = a.scalars();
            let mut out = String::new();
            nested(&mut out, a.shape(), &scalars, 0, 0);
            out
        }
    }
}

fn nested(out: &mut String, shape: &[usize], scalars: &[Scalar], axis: usize, offset: usize) {
    if axis == shape.len() {
        out.push_str(&scalar_text(scalars[offset]));
        return;
    }
    let stride: usize = shape[axis + 1..].iter().product();
    out.push('[');
    for i in 0..shape[axis] {
        if i > 0 {
            out.push_str(", ");
        }
        nested(out, shape, scalars, axis + 1, offset + i * stride);
    }
    out.push(']');
}

/// `[0, 1, 2]`.
pub(crate) fn list(v: &[usize]) -> String {
    let items: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    format!("[{}]", items.join(", "))
}

/// The comparison type StableHLO wants for operands of `d`.
pub(crate) fn comparison_type(d: DType) -> &'static str {
    match d {
        DType::F32 | DType::F64 => "FLOAT",
        DType::I32 | DType::I64 => "SIGNED",
        DType::Bool => "UNSIGNED",
    }
}
