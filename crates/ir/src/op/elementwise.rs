//! Elementwise ops: unary, binary, comparisons, `select`.

use crate::{DType, TensorType, TypeError};

/// One-operand elementwise ops. The result has the operand's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unary {
    /// `-x` (numeric).
    Neg,
    /// `|x|` (numeric).
    Abs,
    /// -1, 0 or 1 (numeric; NaN for NaN).
    Sign,
    /// `e^x` (float).
    Exp,
    /// Natural logarithm (float).
    Log,
    /// `log(1 + x)`, accurate near 0 (float).
    Log1p,
    /// `e^x - 1`, accurate near 0 (float).
    Expm1,
    /// Sine (float).
    Sin,
    /// Cosine (float).
    Cos,
    /// Hyperbolic tangent (float).
    Tanh,
    /// `1 / (1 + e^-x)` (float).
    Logistic,
    /// Square root (float).
    Sqrt,
    /// `1 / sqrt(x)` (float).
    Rsqrt,
    /// `log |Γ(x)|` (float).
    Lgamma,
    /// `ψ(x) = Γ'(x) / Γ(x)` (float).
    Digamma,
    /// Error function (float).
    Erf,
    /// `ψ⁽ⁿ⁾(x)`, the `n`-th derivative of digamma,
    /// `1 <= n <=` [`MAX_POLYGAMMA_ORDER`] (float).
    Polygamma {
        /// Order of the derivative.
        n: u32,
    },
    /// `x^y` for a fixed integer `y`, which may be negative (numeric;
    /// integers need `y >= 0`).
    IntegerPow {
        /// The exponent.
        y: i32,
    },
    /// Logical negation (bool).
    Not,
}

/// The highest order `n` of `polygamma` accepted.
///
/// `|ψ⁽ⁿ⁾(x)|` falls like `(n-1)!/xⁿ`, so at order `n` it lies within the
/// normal range of `f64` only for `x` in a band about `2^(2046/n)` wide
/// (a factor of 4 at `n = 1024`), and is `±inf` or 0 elsewhere; evaluating
/// it for negative `x` costs `O(n²)` per element. Higher orders are refused
/// rather than computed for nothing. The derivative of order `n` is order
/// `n + 1`, so differentiating `polygamma {n = 1024}` is refused cleanly.
pub const MAX_POLYGAMMA_ORDER: u32 = 1024;

/// The operand dtypes an op accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DTypeClass {
    /// `f32` or `f64`.
    Float,
    /// Any but `bool`.
    Numeric,
    /// `bool` only.
    Bool,
    /// Any dtype.
    Any,
}

impl DTypeClass {
    /// Whether `d` belongs to the class.
    pub fn admits(self, d: DType) -> bool {
        match self {
            DTypeClass::Float => d.is_float(),
            DTypeClass::Numeric => d.is_numeric(),
            DTypeClass::Bool => d == DType::Bool,
            DTypeClass::Any => true,
        }
    }

    /// Words for error messages.
    pub fn describe(self) -> &'static str {
        match self {
            DTypeClass::Float => "a float dtype (f32 or f64)",
            DTypeClass::Numeric => "a numeric dtype (f32, f64, i32 or i64)",
            DTypeClass::Bool => "bool",
            DTypeClass::Any => "any dtype",
        }
    }
}

impl Unary {
    /// Every unary op, with placeholder attributes.
    pub const ALL: [Unary; 19] = [
        Unary::Neg,
        Unary::Abs,
        Unary::Sign,
        Unary::Exp,
        Unary::Log,
        Unary::Log1p,
        Unary::Expm1,
        Unary::Sin,
        Unary::Cos,
        Unary::Tanh,
        Unary::Logistic,
        Unary::Sqrt,
        Unary::Rsqrt,
        Unary::Lgamma,
        Unary::Digamma,
        Unary::Erf,
        Unary::Polygamma { n: 1 },
        Unary::IntegerPow { y: 2 },
        Unary::Not,
    ];

    /// Name in the text format.
    #[inline]
    pub fn name(self) -> &'static str {
        match self {
            Unary::Neg => "neg",
            Unary::Abs => "abs",
            Unary::Sign => "sign",
            Unary::Exp => "exp",
            Unary::Log => "log",
            Unary::Log1p => "log1p",
            Unary::Expm1 => "expm1",
            Unary::Sin => "sin",
            Unary::Cos => "cos",
            Unary::Tanh => "tanh",
            Unary::Logistic => "logistic",
            Unary::Sqrt => "sqrt",
            Unary::Rsqrt => "rsqrt",
            Unary::Lgamma => "lgamma",
            Unary::Digamma => "digamma",
            Unary::Erf => "erf",
            Unary::Polygamma { .. } => "polygamma",
            Unary::IntegerPow { .. } => "integer_pow",
            Unary::Not => "not",
        }
    }

    /// The attribute-free unary op called `name`, if any.
    pub fn from_name(name: &str) -> Option<Unary> {
        Unary::ALL
            .into_iter()
            .find(|u| u.name() == name && !matches!(u, Unary::Polygamma { .. } | Unary::IntegerPow { .. }))
    }

    /// Which operand dtypes the op accepts.
    pub fn dtypes(self) -> DTypeClass {
        match self {
            Unary::Neg | Unary::Abs | Unary::Sign | Unary::IntegerPow { .. } => DTypeClass::Numeric,
            Unary::Exp
            | Unary::Log
            | Unary::Log1p
            | Unary::Expm1
            | Unary::Sin
            | Unary::Cos
            | Unary::Tanh
            | Unary::Logistic
            | Unary::Sqrt
            | Unary::Rsqrt
            | Unary::Lgamma
            | Unary::Digamma
            | Unary::Erf
            | Unary::Polygamma { .. } => DTypeClass::Float,
            Unary::Not => DTypeClass::Bool,
        }
    }
}

/// Two-operand elementwise ops on identical types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Binary {
    /// `x + y` (numeric).
    Add,
    /// `x - y` (numeric).
    Sub,
    /// `x * y` (numeric).
    Mul,
    /// `x / y` (numeric; integers truncate, and dividing by zero is a
    /// run-time error).
    Div,
    /// `x^y` (float).
    Pow,
    /// Larger of the two (numeric; NaN if either is NaN).
    Max,
    /// Smaller of the two (numeric; NaN if either is NaN).
    Min,
    /// Logical and (bool).
    And,
    /// Logical or (bool).
    Or,
}

impl Binary {
    /// Every binary op.
    pub const ALL: [Binary; 9] = [
        Binary::Add,
        Binary::Sub,
        Binary::Mul,
        Binary::Div,
        Binary::Pow,
        Binary::Max,
        Binary::Min,
        Binary::And,
        Binary::Or,
    ];

    /// Name in the text format.
    #[inline]
    pub fn name(self) -> &'static str {
        match self {
            Binary::Add => "add",
            Binary::Sub => "sub",
            Binary::Mul => "mul",
            Binary::Div => "div",
            Binary::Pow => "pow",
            Binary::Max => "max",
            Binary::Min => "min",
            Binary::And => "and",
            Binary::Or => "or",
        }
    }

    /// The binary op called `name`, if any.
    pub fn from_name(name: &str) -> Option<Binary> {
        Binary::ALL.into_iter().find(|b| b.name() == name)
    }

    /// Which operand dtypes the op accepts.
    pub fn dtypes(self) -> DTypeClass {
        match self {
            Binary::Add | Binary::Sub | Binary::Mul | Binary::Div | Binary::Max | Binary::Min => DTypeClass::Numeric,
            Binary::Pow => DTypeClass::Float,
            Binary::And | Binary::Or => DTypeClass::Bool,
        }
    }
}

/// Elementwise comparisons: `bool` result of the operands' shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Compare {
    /// `x == y` (any dtype).
    Eq,
    /// `x != y` (any dtype).
    Ne,
    /// `x < y` (numeric).
    Lt,
    /// `x <= y` (numeric).
    Le,
    /// `x > y` (numeric).
    Gt,
    /// `x >= y` (numeric).
    Ge,
}

impl Compare {
    /// Every comparison.
    pub const ALL: [Compare; 6] = [Compare::Eq, Compare::Ne, Compare::Lt, Compare::Le, Compare::Gt, Compare::Ge];

    /// Name in the text format.
    #[inline]
    pub fn name(self) -> &'static str {
        match self {
            Compare::Eq => "eq",
            Compare::Ne => "ne",
            Compare::Lt => "lt",
            Compare::Le => "le",
            Compare::Gt => "gt",
            Compare::Ge => "ge",
        }
    }

    /// The comparison called `name`, if any.
    pub fn from_name(name: &str) -> Option<Compare> {
        Compare::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Which operand dtypes the comparison accepts.
    pub fn dtypes(self) -> DTypeClass {
        match self {
            Compare::Eq | Compare::Ne => DTypeClass::Any,
            Compare::Lt | Compare::Le | Compare::Gt | Compare::Ge => DTypeClass::Numeric,
        }
    }
}

fn check_dtype(op: &'static str, operand: usize, ty: &TensorType, class: DTypeClass) -> Result<(), TypeError> {
    if class.admits(ty.dtype) {
        Ok(())
    } else {
        Err(TypeError::DType { op, operand, found: ty.clone(), expected: class.describe() })
    }
}

fn check_same(op: &'static str, operand: usize, x: &TensorType, y: &TensorType) -> Result<(), TypeError> {
    if x == y {
        Ok(())
    } else {
        Err(TypeError::Mismatch { op, operand, found: Box::new(y.clone()), expected: Box::new(x.clone()) })
    }
}

/// Typing rule of the unary ops.
pub fn unary(u: Unary, x: &TensorType) -> Result<TensorType, TypeError> {
    check_dtype(u.name(), 0, x, u.dtypes())?;
    match u {
        Unary::Polygamma { n: 0 } => {
            return Err(TypeError::invalid("polygamma", "n must be at least 1 (polygamma with n = 0 is digamma)"));
        }
        Unary::Polygamma { n } if n > MAX_POLYGAMMA_ORDER => {
            return Err(TypeError::invalid(
                "polygamma",
                format!("n = {n} is larger than {MAX_POLYGAMMA_ORDER}, the highest order supported"),
            ));
        }
        Unary::IntegerPow { y } if y < 0 && x.dtype.is_int() => {
            return Err(TypeError::invalid(
                "integer_pow",
                format!("a negative exponent ({y}) needs a float dtype, found {x}"),
            ));
        }
        _ => {}
    }
    Ok(x.clone())
}

/// Typing rule of the binary ops.
pub fn binary(b: Binary, x: &TensorType, y: &TensorType) -> Result<TensorType, TypeError> {
    check_dtype(b.name(), 0, x, b.dtypes())?;
    check_same(b.name(), 1, x, y)?;
    Ok(x.clone())
}

/// Typing rule of the comparisons.
pub fn compare(c: Compare, x: &TensorType, y: &TensorType) -> Result<TensorType, TypeError> {
    check_dtype(c.name(), 0, x, c.dtypes())?;
    check_same(c.name(), 1, x, y)?;
    Ok(x.with_dtype(DType::Bool))
}

/// Typing rule of `select`.
pub fn select(pred: &TensorType, on_true: &TensorType, on_false: &TensorType) -> Result<TensorType, TypeError> {
    check_dtype("select", 0, pred, DTypeClass::Bool)?;
    check_same("select", 2, on_true, on_false)?;
    if pred.shape != on_true.shape {
        return Err(TypeError::Mismatch {
            op: "select",
            operand: 0,
            found: Box::new(pred.clone()),
            expected: Box::new(on_true.with_dtype(DType::Bool)),
        });
    }
    Ok(on_true.clone())
}
