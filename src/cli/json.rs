//! JSON output of arrays: nested lists in row-major order, floats in the
//! shortest text that reads back to the same bits. Non-finite floats are
//! written `NaN`, `Infinity` and `-Infinity`, as Python's `json` module
//! writes and reads them.

use std::fmt::Write;

use saddle::ir::{Array, Scalar};

/// One float as JSON.
pub fn f64_text(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "Infinity".into() } else { "-Infinity".into() }
    } else {
        format!("{x:?}")
    }
}

fn scalar_text(s: Scalar) -> String {
    match s {
        Scalar::F64(x) => f64_text(x),
        Scalar::F32(x) if x.is_finite() => format!("{x:?}"),
        Scalar::F32(x) => f64_text(x as f64),
        Scalar::I32(x) => x.to_string(),
        Scalar::I64(x) => x.to_string(),
        Scalar::Bool(x) => x.to_string(),
    }
}

/// An array as nested JSON lists (a bare number for rank 0).
pub fn array_json(a: &Array) -> String {
    let scalars = a.scalars();
    let mut out = String::new();
    write_nested(&mut out, a.shape(), &scalars, 0, 0);
    out
}

fn write_nested(out: &mut String, shape: &[usize], scalars: &[Scalar], axis: usize, offset: usize) {
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
        write_nested(out, shape, scalars, axis + 1, offset + i * stride);
    }
    out.push(']');
}

/// A list of arrays as a JSON array.
pub fn arrays_json(arrays: &[Array]) -> String {
    let mut out = String::from("[");
    for (i, a) in arrays.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{}", array_json(a));
    }
    out.push(']');
    out
}
