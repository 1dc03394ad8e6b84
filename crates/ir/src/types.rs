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

/// Axis extents, outermost first.
///
/// Shapes of rank 4 or less are stored inline, so that types (one per IR
/// value) do not allocate. A `Shape` reads like a `Vec<usize>`: it
/// dereferences to a growable vector and compares equal to vectors, slices
/// and arrays of the same extents.
///
/// ```
/// use saddle_ir::Shape;
/// let mut s = Shape::from([2, 3]);
/// s.push(4);
/// assert_eq!(s, vec![2, 3, 4]);
/// assert_eq!(s.iter().product::<usize>(), 24);
/// assert_eq!(format!("{s:?}"), "[2, 3, 4]");
/// ```
#[derive(Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Shape(smallvec::SmallVec<[usize; 4]>);

impl Clone for Shape {
    /// One copy of the extents (the small vector's own `clone` goes item
    /// by item, and types are cloned everywhere).
    #[inline]
    fn clone(&self) -> Self {
        Shape(smallvec::SmallVec::from_slice(&self.0))
    }
}

impl Shape {
    /// The rank-0 shape.
    pub fn new() -> Shape {
        Shape(smallvec::SmallVec::new())
    }

    /// A shape with the extents of `dims`.
    pub fn from_slice(dims: &[usize]) -> Shape {
        Shape(smallvec::SmallVec::from_slice(dims))
    }
}

impl std::ops::Deref for Shape {
    type Target = smallvec::SmallVec<[usize; 4]>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Shape {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

impl AsRef<[usize]> for Shape {
    fn as_ref(&self) -> &[usize] {
        &self.0
    }
}

impl std::borrow::Borrow<[usize]> for Shape {
    fn borrow(&self) -> &[usize] {
        &self.0
    }
}

impl From<&[usize]> for Shape {
    fn from(dims: &[usize]) -> Shape {
        Shape::from_slice(dims)
    }
}

impl From<Vec<usize>> for Shape {
    fn from(dims: Vec<usize>) -> Shape {
        Shape::from_slice(&dims)
    }
}

impl From<&Vec<usize>> for Shape {
    fn from(dims: &Vec<usize>) -> Shape {
        Shape::from_slice(dims)
    }
}

impl<const N: usize> From<[usize; N]> for Shape {
    fn from(dims: [usize; N]) -> Shape {
        Shape::from_slice(&dims)
    }
}

impl From<Shape> for Vec<usize> {
    fn from(s: Shape) -> Vec<usize> {
        s.0.into_vec()
    }
}

impl FromIterator<usize> for Shape {
    fn from_iter<I: IntoIterator<Item = usize>>(iter: I) -> Shape {
        Shape(iter.into_iter().collect())
    }
}

impl<'s> IntoIterator for &'s Shape {
    type Item = &'s usize;
    type IntoIter = std::slice::Iter<'s, usize>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl IntoIterator for Shape {
    type Item = usize;
    type IntoIter = smallvec::IntoIter<[usize; 4]>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl Extend<usize> for Shape {
    fn extend<I: IntoIterator<Item = usize>>(&mut self, iter: I) {
        self.0.extend(iter)
    }
}

impl PartialEq<[usize]> for Shape {
    fn eq(&self, other: &[usize]) -> bool {
        self.0[..] == *other
    }
}

impl PartialEq<&[usize]> for Shape {
    fn eq(&self, other: &&[usize]) -> bool {
        self.0[..] == **other
    }
}

impl PartialEq<Vec<usize>> for Shape {
    fn eq(&self, other: &Vec<usize>) -> bool {
        self.0[..] == other[..]
    }
}

impl<const N: usize> PartialEq<[usize; N]> for Shape {
    fn eq(&self, other: &[usize; N]) -> bool {
        self.0[..] == other[..]
    }
}

impl PartialEq<Shape> for Vec<usize> {
    fn eq(&self, other: &Shape) -> bool {
        self[..] == other.0[..]
    }
}

impl PartialEq<Shape> for [usize] {
    fn eq(&self, other: &Shape) -> bool {
        *self == other.0[..]
    }
}

impl PartialEq<Shape> for &[usize] {
    fn eq(&self, other: &Shape) -> bool {
        **self == other.0[..]
    }
}

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
    pub shape: Shape,
}

impl TensorType {
    /// A tensor type from a dtype and a shape.
    pub fn new(dtype: DType, shape: impl AsRef<[usize]>) -> Self {
        TensorType { dtype, shape: Shape::from_slice(shape.as_ref()) }
    }

    /// A rank-0 type.
    pub fn scalar(dtype: DType) -> Self {
        TensorType { dtype, shape: Shape::new() }
    }

    /// `f64` with the given shape.
    pub fn f64(shape: impl AsRef<[usize]>) -> Self {
        TensorType::new(DType::F64, shape)
    }

    /// `f32` with the given shape.
    pub fn f32(shape: impl AsRef<[usize]>) -> Self {
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

    /// Checks the rank and size bounds: at most [`MAX_RANK`] axes, and
    /// every extent as well as the element count at most [`MAX_ELEMENTS`]
    /// (an extent is bounded on its own too, so that a zero elsewhere in
    /// the shape cannot hide an extent whose index arithmetic overflows).
    pub fn checked(self) -> Result<Self, ShapeTooLarge> {
        if self.shape.len() > MAX_RANK {
            return Err(ShapeTooLarge { shape: self.shape.to_vec() });
        }
        let mut n: u64 = 1;
        for &d in &self.shape {
            if d as u64 > MAX_ELEMENTS {
                return Err(ShapeTooLarge { shape: self.shape.to_vec() });
            }
            n = n.saturating_mul(d as u64);
        }
        if n > MAX_ELEMENTS {
            return Err(ShapeTooLarge { shape: self.shape.to_vec() });
        }
        Ok(self)
    }
}

/// A shape beyond [`MAX_RANK`] axes, or with an extent or element count
/// beyond [`MAX_ELEMENTS`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("shape {} is too large (at most {MAX_RANK} axes, and 2^48 elements and 2^48 per axis)", ShapeDisplay(.shape))]
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
