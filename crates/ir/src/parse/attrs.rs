//! Attribute lists and their conversion into ops.

use super::lexer::Token;
use crate::op::{Binary, Compare, DotDims, MAX_POLYGAMMA_ORDER, ReduceKind, Unary};
use crate::{Array, DType, Literal, Op, Scalar, TensorType};

/// A parsed attribute value, numbers still as text.
#[derive(Clone, Debug)]
pub(super) enum AttrValue<'a> {
    Int(i128),
    Float(&'a str),
    Bool(bool),
    DType(DType),
    /// `@name`: the callee of a `call`.
    Global(&'a str),
    List(Vec<(Token<'a>, AttrValue<'a>)>),
    /// The dense value of a `const`, read straight into its storage.
    Dense(Box<Literal>),
    /// A `const` value that does not fit its annotated type: where and why.
    Bad(Token<'a>, String),
}

impl AttrValue<'_> {
    pub(super) fn describe(&self) -> String {
        match self {
            AttrValue::Int(i) => format!("`{i}`"),
            AttrValue::Float(s) => format!("`{s}`"),
            AttrValue::Bool(b) => format!("`{b}`"),
            AttrValue::DType(d) => format!("`{d}`"),
            AttrValue::Global(g) => format!("`@{g}`"),
            AttrValue::List(_) | AttrValue::Dense(_) | AttrValue::Bad(..) => "a list".into(),
        }
    }
}

/// The attributes of one statement, in source order.
#[derive(Default)]
pub(super) struct AttrList<'a> {
    /// Name, name token, value token, value, taken.
    items: Vec<(&'a str, Token<'a>, Token<'a>, AttrValue<'a>, bool)>,
    /// The names of a long list (built once it passes a few entries).
    names: Option<rustc_hash::FxHashSet<&'a str>>,
}

impl<'a> AttrList<'a> {
    pub(super) fn clear(&mut self) {
        self.items.clear();
        self.names = None;
    }

    /// Adds attribute `name` unless one of that name is already in the
    /// list (then returns `false`). A short list is scanned; a long one
    /// keeps a set of its names, so that checking stays linear in the
    /// number of attributes.
    pub(super) fn insert(
        &mut self,
        name: &'a str,
        tok: Token<'a>,
        (value_tok, value): (Token<'a>, AttrValue<'a>),
    ) -> bool {
        const SCAN: usize = 8;
        if self.items.len() < SCAN {
            if self.items.iter().any(|(n, ..)| *n == name) {
                return false;
            }
        } else {
            let names = self.names.get_or_insert_with(|| self.items.iter().map(|i| i.0).collect());
            if !names.insert(name) {
                return false;
            }
        }
        self.items.push((name, tok, value_tok, value, false));
        true
    }

    /// The value token and value of attribute `name`, moved out and marked
    /// taken (each rule reads an attribute once).
    fn take(&mut self, name: &str) -> Option<(Token<'a>, AttrValue<'a>)> {
        self.items.iter_mut().find(|item| item.0 == name && !item.4).map(|item| {
            item.4 = true;
            (item.2, std::mem::replace(&mut item.3, AttrValue::Bool(false)))
        })
    }

    /// The attributes of a `call`: the callee's name and its token, and
    /// the other attributes, which must be integers or lists of integers
    /// (passed to a library function).
    #[allow(clippy::type_complexity)]
    pub(super) fn call_attrs(&mut self) -> Result<(Token<'a>, &'a str, Vec<(&'a str, Vec<i64>)>), AttrError<'a>> {
        let mut callee = None;
        let mut rest = Vec::new();
        for (name, name_tok, value_tok, value, taken) in &mut self.items {
            *taken = true;
            if *name == "callee" {
                match value {
                    AttrValue::Global(g) => callee = Some((*value_tok, *g)),
                    other => {
                        return err(
                            Some(value_tok),
                            format!(
                                "attribute `callee` of call must be a function like `@f`, found {}",
                                other.describe()
                            ),
                        );
                    }
                }
                continue;
            }
            let int = |v: &AttrValue<'a>| match v {
                AttrValue::Int(i) => i64::try_from(*i).ok(),
                _ => None,
            };
            let ints = match value {
                AttrValue::List(items) => items.iter().map(|(_, v)| int(v)).collect::<Option<Vec<i64>>>(),
                v => int(v).map(|i| vec![i]),
            };
            match ints {
                Some(ints) => rest.push((*name, ints)),
                None => {
                    return err(
                        Some(name_tok),
                        format!("attribute `{name}` of call must be an integer or a list of integers"),
                    );
                }
            }
        }
        match callee {
            Some((t, g)) => Ok((t, g, rest)),
            None => err(None, "call needs the attribute `callee` (the function called, like `@f`)"),
        }
    }

    /// The name token and name of the first attribute that no rule took.
    pub(super) fn leftover(&self) -> Option<(Token<'a>, &'a str)> {
        self.items.iter().find(|i| !i.4).map(|(n, t, ..)| (*t, *n))
    }
}

/// An attribute error, at a token when one is to blame.
pub(super) struct AttrError<'a> {
    pub token: Option<Token<'a>>,
    pub message: String,
}

fn err<'a, T>(token: Option<&Token<'a>>, message: impl Into<String>) -> Result<T, AttrError<'a>> {
    Err(AttrError { token: token.copied(), message: message.into() })
}

struct Ctx<'c, 'a> {
    op: &'c str,
    attrs: &'c mut AttrList<'a>,
}

impl<'a> Ctx<'_, 'a> {
    fn required(&mut self, name: &str) -> Result<(Token<'a>, AttrValue<'a>), AttrError<'a>> {
        match self.attrs.take(name) {
            Some(v) => Ok(v),
            None => err(None, format!("{} needs the attribute `{name}`", self.op)),
        }
    }

    fn int_of(&self, name: &str, t: &Token<'a>, v: &AttrValue<'a>, lo: i128, hi: i128) -> Result<i128, AttrError<'a>> {
        match v {
            AttrValue::Int(i) if (lo..=hi).contains(i) => Ok(*i),
            AttrValue::Int(i) => {
                err(Some(t), format!("attribute `{name}` of {} is {i}, out of range {lo}..={hi}", self.op))
            }
            other => err(
                Some(t),
                format!("attribute `{name}` of {} must be an integer, found {}", self.op, other.describe()),
            ),
        }
    }

    fn usize_of(&self, name: &str, t: &Token<'a>, v: &AttrValue<'a>) -> Result<usize, AttrError<'a>> {
        self.int_of(name, t, v, 0, usize::MAX as i128).map(|i| i as usize)
    }

    fn usize(&mut self, name: &str) -> Result<usize, AttrError<'a>> {
        let (t, v) = self.required(name)?;
        self.usize_of(name, &t, &v)
    }

    fn usize_or(&mut self, name: &str, default: usize) -> Result<usize, AttrError<'a>> {
        match self.attrs.take(name) {
            Some((t, v)) => self.usize_of(name, &t, &v),
            None => Ok(default),
        }
    }

    fn usizes_of(&self, name: &str, t: &Token<'a>, v: &AttrValue<'a>) -> Result<Vec<usize>, AttrError<'a>> {
        match v {
            AttrValue::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (t, v) in items {
                    out.push(self.usize_of(name, t, v)?);
                }
                Ok(out)
            }
            AttrValue::Bad(t, message) => err(Some(t), format!("attribute `{name}` of {}: {message}", self.op)),
            other => err(
                Some(t),
                format!(
                    "attribute `{name}` of {} must be a list of integers like `[0, 1]`, found {}",
                    self.op,
                    other.describe()
                ),
            ),
        }
    }

    fn usizes(&mut self, name: &str) -> Result<Vec<usize>, AttrError<'a>> {
        let (t, v) = self.required(name)?;
        self.usizes_of(name, &t, &v)
    }

    fn usizes_or(&mut self, name: &str, default: impl FnOnce() -> Vec<usize>) -> Result<Vec<usize>, AttrError<'a>> {
        match self.attrs.take(name) {
            Some((t, v)) => self.usizes_of(name, &t, &v),
            None => Ok(default()),
        }
    }

    fn bool_or(&mut self, name: &str, default: bool) -> Result<bool, AttrError<'a>> {
        match self.attrs.take(name) {
            Some((_, AttrValue::Bool(b))) => Ok(b),
            Some((t, other)) => err(
                Some(&t),
                format!("attribute `{name}` of {} must be `true` or `false`, found {}", self.op, other.describe()),
            ),
            None => Ok(default),
        }
    }

    fn dtype(&mut self, name: &str) -> Result<DType, AttrError<'a>> {
        match self.required(name)? {
            (_, AttrValue::DType(d)) => Ok(d),
            (t, other) => err(
                Some(&t),
                format!(
                    "attribute `{name}` of {} must be a dtype (f32, f64, i32, i64, bool), found {}",
                    self.op,
                    other.describe()
                ),
            ),
        }
    }
}

/// Builds the op called `name` from its attributes. `annotation` is the
/// statement's type annotation; `rank0` the rank of the first operand, used
/// for defaults that depend on it.
pub(super) fn make_op<'a>(
    name: &str,
    attrs: &mut AttrList<'a>,
    annotation: Option<&TensorType>,
    rank0: usize,
) -> Result<Op, AttrError<'a>> {
    let mut c = Ctx { op: name, attrs };
    if let Some(u) = Unary::from_name(name) {
        return Ok(Op::Unary(u));
    }
    if let Some(b) = Binary::from_name(name) {
        return Ok(Op::Binary(b));
    }
    if let Some(k) = Compare::from_name(name) {
        return Ok(Op::Compare(k));
    }
    if let Some(kind) = ReduceKind::from_name(name) {
        return Ok(Op::Reduce { kind, axes: c.usizes("axes")? });
    }
    let op = match name {
        "const" => {
            let Some(ty) = annotation else {
                return err(None, "const needs a type annotation (`%c: f64[2] = const {value = ...}`)");
            };
            match c.required("value")? {
                (_, AttrValue::Dense(lit)) => Op::Const(*lit),
                (_, AttrValue::Bad(t, message)) => return err(Some(&t), message),
                (t, v) => Op::Const(literal(ty, &t, &v)?),
            }
        }
        "iota" => {
            let Some(ty) = annotation else {
                return err(None, "iota needs a type annotation (`%i: i64[3] = iota {dim = 0}`)");
            };
            Op::Iota { dim: c.usize("dim")?, ty: ty.clone() }
        }
        "polygamma" => {
            let (t, v) = c.required("n")?;
            Op::Unary(Unary::Polygamma { n: c.int_of("n", &t, &v, 1, MAX_POLYGAMMA_ORDER.into())? as u32 })
        }
        "integer_pow" => {
            let (t, v) = c.required("y")?;
            Op::Unary(Unary::IntegerPow { y: c.int_of("y", &t, &v, i32::MIN as i128, i32::MAX as i128)? as i32 })
        }
        "select" => Op::Select,
        "convert" => Op::Convert { dtype: c.dtype("dtype")? },
        "stop_gradient" => Op::StopGradient,
        "broadcast_in_dim" => Op::BroadcastInDim { shape: c.usizes("shape")?, dims: c.usizes("dims")? },
        "reshape" => Op::Reshape { shape: c.usizes("shape")? },
        "transpose" => Op::Transpose { perm: c.usizes("perm")? },
        "slice" => {
            let start = c.usizes("start")?;
            let limit = c.usizes("limit")?;
            let n = start.len();
            Op::Slice { start, limit, stride: c.usizes_or("stride", || vec![1; n])? }
        }
        "pad" => Op::Pad {
            low: c.usizes_or("low", || vec![0; rank0])?,
            high: c.usizes_or("high", || vec![0; rank0])?,
            interior: c.usizes_or("interior", || vec![0; rank0])?,
        },
        "concatenate" => Op::Concatenate { axis: c.usize("axis")? },
        "dot_general" => Op::DotGeneral(DotDims {
            lhs_contract: c.usizes("lhs_contract")?,
            rhs_contract: c.usizes("rhs_contract")?,
            lhs_batch: c.usizes_or("lhs_batch", Vec::new)?,
            rhs_batch: c.usizes_or("rhs_batch", Vec::new)?,
        }),
        "take" => Op::Take { axis: c.usize_or("axis", 0)? },
        "segment_sum" => Op::SegmentSum { num_segments: c.usize("num_segments")? },
        "cholesky" => Op::Cholesky,
        "triangular_solve" => Op::TriangularSolve {
            left_side: c.bool_or("left_side", true)?,
            lower: c.bool_or("lower", true)?,
            transpose_a: c.bool_or("transpose_a", false)?,
            unit_diagonal: c.bool_or("unit_diagonal", false)?,
        },
        _ => return err(None, format!("unknown op `{name}`")),
    };
    Ok(op)
}

pub(super) fn scalar<'a>(dtype: DType, t: &Token<'a>, v: &AttrValue<'a>) -> Result<Scalar, AttrError<'a>> {
    let float_text = |s: &str| -> Option<f64> {
        match s {
            "inf" => Some(f64::INFINITY),
            "-inf" => Some(f64::NEG_INFINITY),
            "nan" => Some(f64::NAN),
            _ => s.parse::<f64>().ok(),
        }
    };
    match (dtype, v) {
        (DType::F64, AttrValue::Int(i)) => Ok(Scalar::F64(*i as f64)),
        (DType::F32, AttrValue::Int(i)) => Ok(Scalar::F32(*i as f32)),
        (DType::F64, AttrValue::Float(s)) => float_text(s).map(Scalar::F64).ok_or(()),
        (DType::F32, AttrValue::Float(s)) => match *s {
            "inf" | "-inf" | "nan" => float_text(s).map(|x| Scalar::F32(x as f32)).ok_or(()),
            _ => s.parse::<f32>().map(Scalar::F32).map_err(|_| ()),
        },
        (DType::I32, AttrValue::Int(i)) => i32::try_from(*i).map(Scalar::I32).map_err(|_| ()),
        (DType::I64, AttrValue::Int(i)) => i64::try_from(*i).map(Scalar::I64).map_err(|_| ()),
        (DType::Bool, AttrValue::Bool(b)) => Ok(Scalar::Bool(*b)),
        _ => Err(()),
    }
    .or_else(|()| err(Some(t), format!("{} is not a valid {dtype} element", v.describe())))
}

/// Reads `value` as a constant of type `ty`: one number (a splat) or nested
/// lists of exactly `ty`'s shape.
fn literal<'a>(ty: &TensorType, t: &Token<'a>, v: &AttrValue<'a>) -> Result<Literal, AttrError<'a>> {
    if !matches!(v, AttrValue::List(_)) {
        return Ok(Literal::Splat { ty: ty.clone(), value: scalar(ty.dtype, t, v)? });
    }
    let mut out = Vec::new();
    flatten(ty, &ty.shape, t, v, &mut out)?;
    let array = Array::from_scalars(ty, &out).expect("flatten checked count and dtype");
    Ok(Literal::dense(array))
}

fn flatten<'a>(
    ty: &TensorType,
    shape: &[usize],
    t: &Token<'a>,
    v: &AttrValue<'a>,
    out: &mut Vec<Scalar>,
) -> Result<(), AttrError<'a>> {
    match (shape.split_first(), v) {
        (None, AttrValue::List(_)) => {
            err(Some(t), format!("expected a number here: the list is nested deeper than the shape of {ty}"))
        }
        (None, v) => {
            out.push(scalar(ty.dtype, t, v)?);
            Ok(())
        }
        (Some((&n, rest)), AttrValue::List(items)) => {
            if items.len() != n {
                return err(
                    Some(t),
                    format!("expected a list of {n} elements for a constant of type {ty}, found {}", items.len()),
                );
            }
            items.iter().try_for_each(|(t, v)| flatten(ty, rest, t, v, out))
        }
        (Some((&n, _)), other) => err(
            Some(t),
            format!("expected a list of {n} elements for a constant of type {ty}, found {}", other.describe()),
        ),
    }
}
