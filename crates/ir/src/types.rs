//! Tensor types: a dtype and a static shape.

use std::fmt;

use crate::DType;

/// The most elements a single tensor type may describe (2^48).
///
/// Types are static and never allocate by themselves, but a shape whose
/// element count does not fit this bound is refused when it is built, so
/// that no later arithmetic on sizes can overflow.
pub const MAX_ELEMENTS: u64 = 1 << 48;

/// The most axes a tensor type may have.
pub const MAX_RANK: usize = 32;

/// The type of an IR value: an element type and a static shape.
///
/// ```
/// use saddle_ir::{DType, TensorType};
/// let t = TensorType::new(DType::F64, [2, 3]);
/// assert_eq!(t.to_string(), "f64[2,3]");
/// assert_eq!(t.num_elements(), 6);
/// assert!(TensorType::scalar(DType::F32).is_scalar());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TensorType {
    /// Element type.
    pub dtype: DType,
    /// Extent of each axis, outermost first (row-major).
    pub shape: Vec<usize>,
}

impl TensorType {
    /// A tensor type from a dtype and a shape.
    pub fn new(dtype: DType, shape: impl Into<Vec<usize>>) -> Self {
        TensorType { dtype, shape: shape.into() }
    }

    /// A rank-0 type.
    pub fn scalar(dtype: DType) -> Self {
        TensorType { dtype, shape: Vec::new() }
    }

    /// `f64` with the given shape.
    pub fn f64(shape: impl Into<Vec<usize>>) -> Self {
        TensorType::new(DType::F64, shape)
    }

    /// `f32` with the given shape.
    pub fn f32(shape: impl Into<Vec<usize>>) -> Self {
        TensorType::new(DType::F32, shape)
    }

    /// Number of axes.
    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    /// Whether this is a rank-0 tensor.
    pub fn is_scalar(&self) -> bool {
        self.shape.is_empty()
    }

    /// Number of elements (1 for a scalar). Saturates instead of
    /// overflowing; types built through [`TensorType::checked`] never do.
    pub fn num_elements(&self) -> usize {
        self.shape.iter().fold(1usize, |acc, &d| acc.saturating_mul(d))
    }

    /// Size of the data in bytes (saturating).
    pub fn size_bytes(&self) -> usize {
        self.num_elements().saturating_mul(self.dtype.size_bytes())
    }

    /// The same shape with another dtype.
    pub fn with_dtype(&self, dtype: DType) -> Self {
        TensorType { dtype, shape: self.shape.clone() }
    }

    /// Checks the rank and element-count bounds ([`MAX_RANK`],
    /// [`MAX_ELEMENTS`]).
    pub fn checked(self) -> Result<Self, ShapeTooLarge> {
        if self.shape.len() > MAX_RANK {
            return Err(ShapeTooLarge { shape: self.shape });
        }
        let mut n: u64 = 1;
        for &d in &self.shape {
            n = n.checked_mul(d as u64).ok_or_else(|| ShapeTooLarge { shape: self.shape.clone() })?;
        }
        if n > MAX_ELEMENTS {
            return Err(ShapeTooLarge { shape: self.shape });
        }
        Ok(self)
    }
}

/// A shape beyond [`MAX_RANK`] axes or [`MAX_ELEMENTS`] elements.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("shape {} is too large (at most {MAX_RANK} axes and 2^48 elements)", ShapeDisplay(.shape))]
pub struct ShapeTooLarge {
    /// The refused shape.
    pub shape: Vec<usize>,
}

/// Displays a shape as `[2,3]`.
pub struct ShapeDisplay<'a>(pub &'a [usize]);

impl fmt::Display for ShapeDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{d}")?;
        }
        f.write_str("]")
    }
}

impl fmt::Display for TensorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.dtype, ShapeDisplay(&self.shape))
    }
}
