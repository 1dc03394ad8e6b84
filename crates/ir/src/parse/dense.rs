//! Dense `const` values read straight into typed storage.
//!
//! The elements of `const {value = [[...], ...]}` are read token by token
//! into one vector of the annotated dtype, checking the nesting against the
//! annotated shape as they come, so that a constant of a million elements
//! costs its data (8 bytes an element for `f64`) and not a tree of tokens.

use ndarray::{ArrayD, IxDyn};

use super::attrs::{AttrValue, scalar};
use super::lexer::{Tok, Token};
use super::{MAX_NESTING, PResult, Parser};
use crate::{Array, DType, Literal, Scalar, TensorType};

/// Elements read so far, in the constant's dtype.
enum Buffer {
    F32(Vec<f32>),
    F64(Vec<f64>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    Bool(Vec<bool>),
}

impl Buffer {
    fn with_capacity(dtype: DType, n: usize) -> Buffer {
        match dtype {
            DType::F32 => Buffer::F32(Vec::with_capacity(n)),
            DType::F64 => Buffer::F64(Vec::with_capacity(n)),
            DType::I32 => Buffer::I32(Vec::with_capacity(n)),
            DType::I64 => Buffer::I64(Vec::with_capacity(n)),
            DType::Bool => Buffer::Bool(Vec::with_capacity(n)),
        }
    }

    fn push(&mut self, s: Scalar) {
        match (self, s) {
            (Buffer::F32(v), Scalar::F32(x)) => v.push(x),
            (Buffer::F64(v), Scalar::F64(x)) => v.push(x),
            (Buffer::I32(v), Scalar::I32(x)) => v.push(x),
            (Buffer::I64(v), Scalar::I64(x)) => v.push(x),
            (Buffer::Bool(v), Scalar::Bool(x)) => v.push(x),
            // `scalar` converts to the buffer's dtype.
            _ => {}
        }
    }

    fn into_array(self, shape: &[usize]) -> Option<Array> {
        let dim = IxDyn(shape);
        Some(match self {
            Buffer::F32(v) => Array::F32(ArrayD::from_shape_vec(dim, v).ok()?),
            Buffer::F64(v) => Array::F64(ArrayD::from_shape_vec(dim, v).ok()?),
            Buffer::I32(v) => Array::I32(ArrayD::from_shape_vec(dim, v).ok()?),
            Buffer::I64(v) => Array::I64(ArrayD::from_shape_vec(dim, v).ok()?),
            Buffer::Bool(v) => Array::Bool(ArrayD::from_shape_vec(dim, v).ok()?),
        })
    }
}

/// The reader's state: the constant's type, the data, and the first
/// error in source order (a list of the wrong length is reported at its
/// `[`, before any error inside it, as reading the list whole would).
struct Reader<'t, 'a> {
    ty: &'t TensorType,
    data: Option<Buffer>,
    first_error: Option<(Token<'a>, String)>,
}

impl<'a> Reader<'_, 'a> {
    fn error(&mut self, t: Token<'a>, message: String) {
        if self.first_error.as_ref().is_none_or(|(f, _)| t.start < f.start) {
            self.first_error = Some((t, message));
        }
        self.data = None;
    }

    /// A number (not a list) found in a list at nesting `depth`.
    fn item(&mut self, t: Token<'a>, v: &AttrValue<'a>, depth: usize) {
        if self.first_error.is_some() {
            return;
        }
        if let Some(&n) = self.ty.shape.get(depth + 1) {
            let ty = self.ty;
            let found = v.describe();
            self.error(t, format!("expected a list of {n} elements for a constant of type {ty}, found {found}"));
            return;
        }
        match scalar(self.ty.dtype, &t, v) {
            Ok(s) => {
                if let Some(d) = &mut self.data {
                    d.push(s);
                }
            }
            Err(e) => self.error(e.token.unwrap_or(t), e.message),
        }
    }
}

impl<'a> Parser<'a> {
    /// Reads a `[`-list as the dense value of a constant of type `ty`. A
    /// list that does not fit `ty` is read to its end and returned as
    /// [`AttrValue::Bad`] with the first error; a syntax error stops.
    pub(super) fn dense_value(&mut self, ty: &TensorType) -> PResult<(Token<'a>, AttrValue<'a>)> {
        let open = self.tok;
        // An element takes at least two bytes of text (`1,`), which bounds
        // the reservation by the input whatever the annotated shape says.
        let room = (self.src.len() - open.start) / 2;
        let mut r =
            Reader { ty, data: Some(Buffer::with_capacity(ty.dtype, ty.num_elements().min(room))), first_error: None };
        self.dense_list(&mut r, 0)?;
        let value = match (r.first_error, r.data.and_then(|d| d.into_array(&ty.shape))) {
            (None, Some(array)) => AttrValue::Dense(Box::new(Literal::dense(array))),
            (Some((t, message)), _) => AttrValue::Bad(t, message),
            (None, None) => AttrValue::Bad(open, format!("the elements do not fill a constant of type {ty}")),
        };
        Ok((open, value))
    }

    /// One list at nesting `depth` (the current token is its `[`).
    fn dense_list(&mut self, r: &mut Reader<'_, 'a>, depth: usize) -> PResult<()> {
        let open = self.tok;
        if depth >= MAX_NESTING {
            return self.fail(format!("attribute lists nest deeper than {MAX_NESTING} levels"));
        }
        let want = r.ty.shape.get(depth).copied();
        if want.is_none() {
            r.error(open, format!("expected a number here: the list is nested deeper than the shape of {}", r.ty));
        }
        let mut count = 0usize;
        let fast = self.lexer.small_int_list(|t, i| {
            count += 1;
            if want.is_some() {
                r.item(t, &AttrValue::Int(i), depth);
            }
        });
        if fast.is_some() {
            self.advance()?;
        } else {
            self.advance()?;
            if self.tok.tok != Tok::RBracket {
                loop {
                    if self.tok.tok == Tok::LBracket {
                        self.dense_list(r, depth + 1)?;
                    } else {
                        let (t, v) = self.attr_value(depth + 1)?;
                        if want.is_some() {
                            r.item(t, &v, depth);
                        }
                    }
                    count += 1;
                    if self.tok.tok == Tok::Comma {
                        self.advance()?;
                    } else {
                        break;
                    }
                }
            }
            self.expect(Tok::RBracket, "`,` or `]`")?;
        }
        if let Some(n) = want {
            if count != n {
                let ty = r.ty;
                r.error(open, format!("expected a list of {n} elements for a constant of type {ty}, found {count}"));
            }
        }
        Ok(())
    }
}
