//! Concrete data: scalars, dense arrays and the literals of `const`.

use std::fmt;
use std::hash::{Hash, Hasher};

use ndarray::{ArrayD, IxDyn};

use crate::{DType, TensorType};

/// One element of any dtype.
///
/// Equality and hashing compare bit patterns, so `NaN == NaN` and
/// `0.0 != -0.0`: two constants are the same constant exactly when they
/// print the same.
#[derive(Clone, Copy, Debug)]
pub enum Scalar {
    /// An `f32` element.
    F32(f32),
    /// An `f64` element.
    F64(f64),
    /// An `i32` element.
    I32(i32),
    /// An `i64` element.
    I64(i64),
    /// A `bool` element.
    Bool(bool),
}

impl Scalar {
    /// The element's dtype.
    pub fn dtype(self) -> DType {
        match self {
            Scalar::F32(_) => DType::F32,
            Scalar::F64(_) => DType::F64,
            Scalar::I32(_) => DType::I32,
            Scalar::I64(_) => DType::I64,
            Scalar::Bool(_) => DType::Bool,
        }
    }

    /// The value as `f64` (`true` is 1).
    pub fn to_f64(self) -> f64 {
        match self {
            Scalar::F32(x) => x as f64,
            Scalar::F64(x) => x,
            Scalar::I32(x) => x as f64,
            Scalar::I64(x) => x as f64,
            Scalar::Bool(x) => x as u8 as f64,
        }
    }

    /// `x` converted to `dtype` (floats truncate towards zero when
    /// converted to integers; non-zero is `true`).
    pub fn from_f64(dtype: DType, x: f64) -> Scalar {
        match dtype {
            DType::F32 => Scalar::F32(x as f32),
            DType::F64 => Scalar::F64(x),
            DType::I32 => Scalar::I32(x as i32),
            DType::I64 => Scalar::I64(x as i64),
            DType::Bool => Scalar::Bool(x != 0.0),
        }
    }

    /// Zero of `dtype` (`false` for bool).
    pub fn zero(dtype: DType) -> Scalar {
        Scalar::from_f64(dtype, 0.0)
    }

    /// One of `dtype` (`true` for bool).
    pub fn one(dtype: DType) -> Scalar {
        Scalar::from_f64(dtype, 1.0)
    }

    fn bits(self) -> u64 {
        match self {
            Scalar::F32(x) => x.to_bits() as u64,
            Scalar::F64(x) => x.to_bits(),
            Scalar::I32(x) => x as u32 as u64,
            Scalar::I64(x) => x as u64,
            Scalar::Bool(x) => x as u64,
        }
    }
}

impl PartialEq for Scalar {
    fn eq(&self, other: &Self) -> bool {
        self.dtype() == other.dtype() && self.bits() == other.bits()
    }
}

impl Eq for Scalar {}

impl Hash for Scalar {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.dtype().hash(state);
        self.bits().hash(state);
    }
}

impl fmt::Display for Scalar {
    /// Shortest text that reads back to the same bits: `1.0`, `-2e-3`,
    /// `inf`, `nan`, `7`, `true`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Scalar::F32(x) if x.is_nan() => f.write_str("nan"),
            Scalar::F64(x) if x.is_nan() => f.write_str("nan"),
            Scalar::F32(x) => write!(f, "{x:?}"),
            Scalar::F64(x) => write!(f, "{x:?}"),
            Scalar::I32(x) => write!(f, "{x}"),
            Scalar::I64(x) => write!(f, "{x}"),
            Scalar::Bool(x) => write!(f, "{x}"),
        }
    }
}

/// A dense n-dimensional array of any dtype: the runtime's inputs and
/// outputs and the storage of dense constants.
///
/// ```
/// use saddle_ir::{Array, DType};
/// let a = Array::from(ndarray::arr1(&[1.0, 2.0]).into_dyn());
/// assert_eq!(a.dtype(), DType::F64);
/// assert_eq!(a.shape(), &[2]);
/// ```
#[derive(Clone, Debug)]
pub enum Array {
    /// `f32` data.
    F32(ArrayD<f32>),
    /// `f64` data.
    F64(ArrayD<f64>),
    /// `i32` data.
    I32(ArrayD<i32>),
    /// `i64` data.
    I64(ArrayD<i64>),
    /// `bool` data.
    Bool(ArrayD<bool>),
}

/// Applies the same expression to whichever array an [`Array`] holds.
#[macro_export]
macro_rules! with_array {
    ($array:expr, $a:ident => $body:expr) => {
        match $array {
            $crate::Array::F32($a) => $body,
            $crate::Array::F64($a) => $body,
            $crate::Array::I32($a) => $body,
            $crate::Array::I64($a) => $body,
            $crate::Array::Bool($a) => $body,
        }
    };
}

impl Array {
    /// The element type.
    pub fn dtype(&self) -> DType {
        match self {
            Array::F32(_) => DType::F32,
            Array::F64(_) => DType::F64,
            Array::I32(_) => DType::I32,
            Array::I64(_) => DType::I64,
            Array::Bool(_) => DType::Bool,
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        with_array!(self, a => a.shape())
    }

    /// The tensor type (dtype and shape).
    pub fn ty(&self) -> TensorType {
        TensorType::new(self.dtype(), self.shape())
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        with_array!(self, a => a.len())
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An array of `ty` filled with `value` (converted to `ty.dtype`).
    pub fn full(ty: &TensorType, value: Scalar) -> Array {
        let dim = IxDyn(&ty.shape);
        let v = value.to_f64();
        match (ty.dtype, value) {
            (DType::F32, Scalar::F32(x)) => Array::F32(ArrayD::from_elem(dim, x)),
            (DType::F32, _) => Array::F32(ArrayD::from_elem(dim, v as f32)),
            (DType::F64, _) => Array::F64(ArrayD::from_elem(dim, v)),
            (DType::I32, Scalar::I32(x)) => Array::I32(ArrayD::from_elem(dim, x)),
            (DType::I32, _) => Array::I32(ArrayD::from_elem(dim, v as i32)),
            (DType::I64, Scalar::I64(x)) => Array::I64(ArrayD::from_elem(dim, x)),
            (DType::I64, _) => Array::I64(ArrayD::from_elem(dim, v as i64)),
            (DType::Bool, _) => Array::Bool(ArrayD::from_elem(dim, v != 0.0)),
        }
    }

    /// A rank-0 array holding `value`.
    pub fn scalar(value: Scalar) -> Array {
        Array::full(&TensorType::scalar(value.dtype()), value)
    }

    /// The element at row-major position `i`.
    ///
    /// Returns `None` when `i` is out of range.
    pub fn get(&self, i: usize) -> Option<Scalar> {
        match self {
            Array::F32(a) => a.iter().nth(i).map(|&x| Scalar::F32(x)),
            Array::F64(a) => a.iter().nth(i).map(|&x| Scalar::F64(x)),
            Array::I32(a) => a.iter().nth(i).map(|&x| Scalar::I32(x)),
            Array::I64(a) => a.iter().nth(i).map(|&x| Scalar::I64(x)),
            Array::Bool(a) => a.iter().nth(i).map(|&x| Scalar::Bool(x)),
        }
    }

    /// All elements in row-major order.
    pub fn scalars(&self) -> Vec<Scalar> {
        match self {
            Array::F32(a) => a.iter().map(|&x| Scalar::F32(x)).collect(),
            Array::F64(a) => a.iter().map(|&x| Scalar::F64(x)).collect(),
            Array::I32(a) => a.iter().map(|&x| Scalar::I32(x)).collect(),
            Array::I64(a) => a.iter().map(|&x| Scalar::I64(x)).collect(),
            Array::Bool(a) => a.iter().map(|&x| Scalar::Bool(x)).collect(),
        }
    }

    /// Builds an array of `ty` from row-major scalars of `ty.dtype`.
    ///
    /// Returns `None` when the count or a dtype does not match.
    pub fn from_scalars(ty: &TensorType, values: &[Scalar]) -> Option<Array> {
        if values.len() != ty.num_elements() || values.iter().any(|s| s.dtype() != ty.dtype) {
            return None;
        }
        let dim = IxDyn(&ty.shape);
        macro_rules! collect {
            ($variant:ident) => {
                Array::$variant(
                    ArrayD::from_shape_vec(
                        dim,
                        values
                            .iter()
                            .map(|s| match *s {
                                Scalar::$variant(x) => x,
                                _ => unreachable!("dtypes checked above"),
                            })
                            .collect(),
                    )
                    .ok()?,
                )
            };
        }
        Some(match ty.dtype {
            DType::F32 => collect!(F32),
            DType::F64 => collect!(F64),
            DType::I32 => collect!(I32),
            DType::I64 => collect!(I64),
            DType::Bool => collect!(Bool),
        })
    }

    /// The `f64` data, if that is the dtype.
    pub fn as_f64(&self) -> Option<&ArrayD<f64>> {
        match self {
            Array::F64(a) => Some(a),
            _ => None,
        }
    }

    /// The `f32` data, if that is the dtype.
    pub fn as_f32(&self) -> Option<&ArrayD<f32>> {
        match self {
            Array::F32(a) => Some(a),
            _ => None,
        }
    }

    /// The elements converted to `f64`, row-major.
    pub fn to_f64_vec(&self) -> Vec<f64> {
        match self {
            Array::F32(a) => a.iter().map(|&x| x as f64).collect(),
            Array::F64(a) => a.iter().copied().collect(),
            Array::I32(a) => a.iter().map(|&x| x as f64).collect(),
            Array::I64(a) => a.iter().map(|&x| x as f64).collect(),
            Array::Bool(a) => a.iter().map(|&x| x as u8 as f64).collect(),
        }
    }

    /// Bitwise equality of dtype, shape and every element.
    pub fn bitwise_eq(&self, other: &Array) -> bool {
        self.ty() == other.ty() && self.scalars() == other.scalars()
    }
}

macro_rules! array_from {
    ($t:ty, $variant:ident) => {
        /// An ndarray array of any rank (`Array1`, `Array2`, `ArrayD`, ...).
        impl<D: ndarray::Dimension> From<ndarray::Array<$t, D>> for Array {
            fn from(a: ndarray::Array<$t, D>) -> Array {
                Array::$variant(a.into_dyn())
            }
        }
    };
}
array_from!(f32, F32);
array_from!(f64, F64);
array_from!(i32, I32);
array_from!(i64, I64);
array_from!(bool, Bool);

impl From<f64> for Array {
    fn from(x: f64) -> Array {
        Array::scalar(Scalar::F64(x))
    }
}

impl From<f32> for Array {
    fn from(x: f32) -> Array {
        Array::scalar(Scalar::F32(x))
    }
}

/// The value of a `const`: one element splatted over a shape, or dense data.
///
/// A splat is kept as one element however large its shape, and prints as
/// one number (`const {value = 1.0}`).
#[derive(Clone, Debug)]
pub enum Literal {
    /// `value` repeated over every element of `ty`.
    Splat {
        /// The type of the whole constant.
        ty: TensorType,
        /// The repeated element (of `ty.dtype`).
        value: Scalar,
    },
    /// Dense data, in standard (row-major) layout (boxed, so that every
    /// instruction does not pay for the array's header).
    Dense(Box<Array>),
}

impl Literal {
    /// A splat of `value` over `shape`, with `value`'s dtype.
    pub fn splat(value: Scalar, shape: impl AsRef<[usize]>) -> Literal {
        Literal::Splat { ty: TensorType::new(value.dtype(), shape), value }
    }

    /// A dense literal holding `array`. A rank-0 array becomes a splat, so
    /// that a literal has one representation per printed form.
    pub fn dense(array: Array) -> Literal {
        if array.shape().is_empty() {
            if let Some(value) = array.get(0) {
                return Literal::Splat { ty: array.ty(), value };
            }
        }
        Literal::Dense(Box::new(array.into_standard_layout()))
    }

    /// The constant's type.
    pub fn ty(&self) -> TensorType {
        match self {
            Literal::Splat { ty, .. } => ty.clone(),
            Literal::Dense(a) => a.ty(),
        }
    }

    /// The single value of a splat, or of a dense literal whose elements
    /// are all the same bit pattern.
    pub fn uniform_value(&self) -> Option<Scalar> {
        match self {
            Literal::Splat { value, .. } => Some(*value),
            Literal::Dense(a) => {
                let first = a.get(0)?;
                a.scalars().into_iter().all(|s| s == first).then_some(first)
            }
        }
    }

    /// The element at row-major position `i`.
    pub fn get(&self, i: usize) -> Option<Scalar> {
        match self {
            Literal::Splat { ty, value } => (i < ty.num_elements()).then_some(*value),
            Literal::Dense(a) => a.get(i),
        }
    }

    /// Materialises the constant as an array. For a splat this allocates
    /// the full shape.
    pub fn to_array(&self) -> Array {
        match self {
            Literal::Splat { ty, value } => Array::full(ty, *value),
            Literal::Dense(a) => (**a).clone(),
        }
    }
}

impl Array {
    fn into_standard_layout(self) -> Array {
        if crate::with_array!(&self, a => a.is_standard_layout()) {
            return self;
        }
        match self {
            Array::F32(a) => Array::F32(a.as_standard_layout().into_owned()),
            Array::F64(a) => Array::F64(a.as_standard_layout().into_owned()),
            Array::I32(a) => Array::I32(a.as_standard_layout().into_owned()),
            Array::I64(a) => Array::I64(a.as_standard_layout().into_owned()),
            Array::Bool(a) => Array::Bool(a.as_standard_layout().into_owned()),
        }
    }
}

impl PartialEq for Literal {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Literal::Splat { ty: a, value: x }, Literal::Splat { ty: b, value: y }) => a == b && x == y,
            (Literal::Dense(a), Literal::Dense(b)) => a.bitwise_eq(b),
            _ => false,
        }
    }
}

impl Eq for Literal {}

impl Hash for Literal {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Literal::Splat { ty, value } => {
                0u8.hash(state);
                ty.hash(state);
                value.hash(state);
            }
            Literal::Dense(a) => {
                1u8.hash(state);
                a.ty().hash(state);
                for s in a.scalars() {
                    s.hash(state);
                }
            }
        }
    }
}

impl PartialOrd for Literal {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Literal {
    /// A total order on bit patterns (for egg's sorted e-nodes), not a
    /// numeric order.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let key = |l: &Literal| -> (u8, TensorType, Vec<(DType, u64)>) {
            match l {
                Literal::Splat { ty, value } => (0, ty.clone(), vec![(value.dtype(), value.bits())]),
                Literal::Dense(a) => (1, a.ty(), a.scalars().into_iter().map(|s| (s.dtype(), s.bits())).collect()),
            }
        };
        key(self).cmp(&key(other))
    }
}
