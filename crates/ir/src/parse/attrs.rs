//! Attribute lists and their conversion into ops.

use super::lexer::Token;
use crate::op::{Binary, Compare, DotDims, ReduceKind, Unary};
use crate::{Array, DType, Literal, Op, Scalar, TensorType};

/// A parsed attribute value, numbers still as text.
#[derive(Clone, Debug)]
pub(super) enum AttrValue {
    Int(i128),
    Float(String),
    Bool(bool),
    DType(DType),
    List(Vec<(Token, AttrValue)>),
}

impl AttrValue {
    fn describe(&self) -> String {
        match self {
            AttrValue::Int(i) => format!("`{i}`"),
            AttrValue::Float(s) => format!("`{s}`"),
            AttrValue::Bool(b) => format!("`{b}`"),
            AttrValue::DType(d) => format!("`{d}`"),
            AttrValue::List(_) => "a list".into(),
        }
    }
}

/// The attributes of one statement, in source order.
#[derive(Default)]
pub(super) struct AttrList {
    /// Name, name token, value token, value, taken.
    items: Vec<(String, Token, Token, AttrValue, bool)>,
}

impl AttrList {
    pub(super) fn contains(&self, name: &str) -> bool {
        self.items.iter().any(|(n, ..)| n == name)
    }

    pub(super) fn push(&mut self, name: String, tok: Token, (value_tok, value): (Token, AttrValue)) {
        self.items.push((name, tok, value_tok, value, false));
    }

    /// The value token and value of attribute `name`, marking it taken.
    fn take(&mut self, name: &str) -> Option<(Token, AttrValue)> {
        self.items.iter_mut().find(|(n, ..)| n == name).map(|item| {
            item.4 = true;
            (item.2.clone(), item.3.clone())
        })
    }

    /// The name token and name of the first attribute that no rule took.
    pub(super) fn leftover(&self) -> Option<(Token, String)> {
        self.items.iter().find(|i| !i.4).map(|(n, t, ..)| (t.clone(), n.clone()))
    }
}

/// An attribute error, at a token when one is to blame.
pub(super) struct AttrError {
    pub token: Option<Token>,
    pub message: String,
}

fn err<T>(token: Option<&Token>, message: impl Into<String>) -> Result<T, AttrError> {
    Err(AttrError { token: token.cloned(), message: message.into() })
}

struct Ctx<'a> {
    op: &'a str,
    attrs: &'a mut AttrList,
}

impl Ctx<'_> {
    fn required(&mut self, name: &str) -> Result<(Token, AttrValue), AttrError> {
        match self.attrs.take(name) {
            Some(v) => Ok(v),
            None => err(None, format!("{} needs the attribute `{name}`", self.op)),
        }
    }

    fn int_of(&self, name: &str, t: &Token, v: &AttrValue, lo: i128, hi: i128) -> Result<i128, AttrError> {
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

    fn usize_of(&self, name: &str, t: &Token, v: &AttrValue) -> Result<usize, AttrError> {
        self.int_of(name, t, v, 0, usize::MAX as i128).map(|i| i as usize)
    }

    fn usize(&mut self, name: &str) -> Result<usize, AttrError> {
        let (t, v) = self.required(name)?;
        self.usize_of(name, &t, &v)
    }

    fn usize_or(&mut self, name: &str, default: usize) -> Result<usize, AttrError> {
        match self.attrs.take(name) {
            Some((t, v)) => self.usize_of(name, &t, &v),
            None => Ok(default),
        }
    }

    fn usizes_of(&self, name: &str, t: &Token, v: &AttrValue) -> Result<Vec<usize>, AttrError> {
        match v {
            AttrValue::List(items) => items.iter().map(|(t, v)| self.usize_of(name, t, v)).collect(),
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

    fn usizes(&mut self, name: &str) -> Result<Vec<usize>, AttrError> {
        let (t, v) = self.required(name)?;
        self.usizes_of(name, &t, &v)
    }

    fn usizes_or(&mut self, name: &str, default: impl FnOnce() -> Vec<usize>) -> Result<Vec<usize>, AttrError> {
        match self.attrs.take(name) {
            Some((t, v)) => self.usizes_of(name, &t, &v),
            None => Ok(default()),
        }
    }

    fn bool_or(&mut self, name: &str, default: bool) -> Result<bool, AttrError> {
        match self.attrs.take(name) {
            Some((_, AttrValue::Bool(b))) => Ok(b),
            Some((t, other)) => err(
                Some(&t),
                format!("attribute `{name}` of {} must be `true` or `false`, found {}", self.op, other.describe()),
            ),
            None => Ok(default),
        }
    }

    fn dtype(&mut self, name: &str) -> Result<DType, AttrError> {
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
/// statement's type annotation; `operands` the operand types, used for
/// defaults that depend on rank.
pub(super) fn make_op(
    name: &str,
    attrs: &mut AttrList,
    annotation: Option<&TensorType>,
    ranks: &[usize],
) -> Result<Op, AttrError> {
    let mut c = Ctx { op: name, attrs };
    let rank0 = ranks.first().copied().unwrap_or(0);
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
            let (t, v) = c.required("value")?;
            Op::Const(literal(ty, &t, &v)?)
        }
        "iota" => {
            let Some(ty) = annotation else {
                return err(None, "iota needs a type annotation (`%i: i64[3] = iota {dim = 0}`)");
            };
            Op::Iota { dim: c.usize("dim")?, ty: ty.clone() }
        }
        "polygamma" => {
            let (t, v) = c.required("n")?;
            Op::Unary(Unary::Polygamma { n: c.int_of("n", &t, &v, 1, u32::MAX as i128)? as u32 })
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

fn scalar(dtype: DType, t: &Token, v: &AttrValue) -> Result<Scalar, AttrError> {
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
        (DType::F32, AttrValue::Float(s)) => match s.as_str() {
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
fn literal(ty: &TensorType, t: &Token, v: &AttrValue) -> Result<Literal, AttrError> {
    if !matches!(v, AttrValue::List(_)) {
        return Ok(Literal::Splat { ty: ty.clone(), value: scalar(ty.dtype, t, v)? });
    }
    let mut out = Vec::new();
    flatten(ty, &ty.shape, t, v, &mut out)?;
    let array = Array::from_scalars(ty, &out).expect("flatten checked count and dtype");
    Ok(Literal::dense(array))
}

fn flatten(ty: &TensorType, shape: &[usize], t: &Token, v: &AttrValue, out: &mut Vec<Scalar>) -> Result<(), AttrError> {
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
