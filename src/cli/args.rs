//! ARGS: the JSON arguments of `eval`, `grad`, `hessian`, `bench` and
//! `laplace`, as `docs/cli.md` describes them.
//!
//! An argument list is JSON text, or `@PATH` naming a JSON file: an array
//! with one entry per parameter. An entry is a number (rank 0), a nested
//! array in row-major order, or a string `"@PATH.npy"` naming a NumPy file.
//! Integers are accepted for float parameters; floats are refused for
//! integer ones. A `"@PATH.npy"` inside a JSON file read through `@PATH`
//! is relative to that file's folder; one given on the command line is
//! relative to the current directory.

use std::path::{Path, PathBuf};

use ndarray::{ArrayD, IxDyn};
use saddle::ir::{Array, DType, ShapeDisplay, TensorType};
use serde_json::Value as Json;

use super::CliError;
use super::input::{npy_shape, read_bounded, read_npy};

/// Reads `spec` (JSON text or `@PATH`) as the arguments for parameters of
/// `types`. `what` names the flag in messages (`--args`).
pub fn parse_args(spec: &str, types: &[TensorType], what: &str) -> Result<Vec<Array>, CliError> {
    let (json, base) = read_json(spec, what)?;
    let Json::Array(entries) = json else {
        return Err(CliError::msg(format!(
            "{what}: expected a JSON array with one entry per parameter, found {}",
            kind(&json)
        )));
    };
    if entries.len() != types.len() {
        let sig: Vec<String> = types.iter().map(|t| t.to_string()).collect();
        return Err(CliError::msg(format!(
            "{what}: expected {} argument(s) ({}), found {}",
            types.len(),
            sig.join(", "),
            entries.len()
        )));
    }
    entries
        .iter()
        .zip(types)
        .enumerate()
        .map(|(i, (e, ty))| parse_entry(e, ty, &base, &format!("{what}: argument {i}")))
        .collect()
}

/// Reads one entry (for `laplace --init`): JSON text or `@PATH` holding a
/// number, nested array or `"@PATH.npy"`.
pub fn parse_one(spec: &str, ty: &TensorType, what: &str) -> Result<Array, CliError> {
    let (json, base) = read_json(spec, what)?;
    parse_entry(&json, ty, &base, what)
}

/// The shapes of the entries of `spec` (JSON text or `@PATH`), for binding
/// dimension variables: nested arrays are measured, `.npy` files' headers
/// read; elements are not converted.
pub fn arg_shapes(spec: &str, what: &str) -> Result<Vec<Vec<usize>>, CliError> {
    let (json, base) = read_json(spec, what)?;
    let Json::Array(entries) = json else {
        return Err(CliError::msg(format!(
            "{what}: expected a JSON array with one entry per parameter, found {}",
            kind(&json)
        )));
    };
    entries.iter().enumerate().map(|(i, e)| entry_shape(e, &base, &format!("{what}: argument {i}"))).collect()
}

/// The shape of the one entry `spec` holds (for `laplace --init`).
pub fn one_shape(spec: &str, what: &str) -> Result<Vec<usize>, CliError> {
    let (json, base) = read_json(spec, what)?;
    entry_shape(&json, &base, what)
}

fn entry_shape(e: &Json, base: &Path, what: &str) -> Result<Vec<usize>, CliError> {
    if let Json::String(s) = e {
        let Some(path) = s.strip_prefix('@') else {
            return Err(CliError::msg(format!("{what}: a string entry must be \"@PATH.npy\", found {s:?}")));
        };
        return npy_shape(&base.join(path), what);
    }
    let mut shape = Vec::new();
    let mut leaves = Vec::new();
    flatten(e, 0, &mut shape, &mut leaves, what)?;
    Ok(shape)
}

/// Reads `spec` as JSON text or `@PATH`; also returns the folder that
/// `"@PATH.npy"` entries are relative to (the JSON file's, or the current
/// directory's for text on the command line).
pub(super) fn read_json(spec: &str, what: &str) -> Result<(Json, PathBuf), CliError> {
    let (text, origin, base) = match spec.strip_prefix('@') {
        Some(path) => {
            let bytes = read_bounded(Path::new(path)).map_err(|e| CliError::msg(format!("{what}: {e}")))?;
            let text = String::from_utf8(bytes)
                .map_err(|e| CliError::msg(format!("{what}: {path} is not UTF-8 text: {e}")))?;
            let base = Path::new(path).parent().map(Path::to_path_buf).unwrap_or_default();
            (text, path.to_string(), base)
        }
        None => (spec.to_string(), "the command line".to_string(), PathBuf::new()),
    };
    let json =
        serde_json::from_str(&text).map_err(|e| CliError::msg(format!("{what}: invalid JSON in {origin}: {e}")))?;
    Ok((json, base))
}

pub(super) fn kind(j: &Json) -> &'static str {
    match j {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

fn parse_entry(e: &Json, ty: &TensorType, base: &Path, what: &str) -> Result<Array, CliError> {
    if let Json::String(s) = e {
        let Some(path) = s.strip_prefix('@') else {
            return Err(CliError::msg(format!("{what}: a string entry must be \"@PATH.npy\", found {s:?}")));
        };
        return read_npy(&base.join(path), ty, what);
    }
    let mut shape = Vec::new();
    let mut leaves = Vec::new();
    flatten(e, 0, &mut shape, &mut leaves, what)?;
    if shape != ty.shape {
        return Err(CliError::msg(format!(
            "{what}: expected shape {} ({ty}), found shape {}",
            ShapeDisplay(&ty.shape),
            ShapeDisplay(&shape)
        )));
    }
    let dim = IxDyn(&ty.shape);
    let bad = |j: &Json| CliError::msg(format!("{what}: {j} is not a valid {} element", ty.dtype));
    Ok(match ty.dtype {
        DType::F64 | DType::F32 => {
            let v: Vec<f64> = leaves.iter().map(|j| j.as_f64().ok_or_else(|| bad(j))).collect::<Result<_, _>>()?;
            if ty.dtype == DType::F64 {
                Array::F64(ArrayD::from_shape_vec(dim, v).expect("shape checked"))
            } else {
                Array::F32(
                    ArrayD::from_shape_vec(dim, v.into_iter().map(|x| x as f32).collect()).expect("shape checked"),
                )
            }
        }
        DType::I64 => Array::I64(
            ArrayD::from_shape_vec(
                dim,
                leaves.iter().map(|j| j.as_i64().ok_or_else(|| bad(j))).collect::<Result<_, _>>()?,
            )
            .expect("shape checked"),
        ),
        DType::I32 => Array::I32(
            ArrayD::from_shape_vec(
                dim,
                leaves
                    .iter()
                    .map(|j| j.as_i64().and_then(|x| i32::try_from(x).ok()).ok_or_else(|| bad(j)))
                    .collect::<Result<_, _>>()?,
            )
            .expect("shape checked"),
        ),
        DType::Bool => Array::Bool(
            ArrayD::from_shape_vec(
                dim,
                leaves.iter().map(|j| j.as_bool().ok_or_else(|| bad(j))).collect::<Result<_, _>>()?,
            )
            .expect("shape checked"),
        ),
    })
}

/// Collects the leaves of a nested array, checking it is rectangular.
fn flatten<'a>(
    j: &'a Json,
    depth: usize,
    shape: &mut Vec<usize>,
    out: &mut Vec<&'a Json>,
    what: &str,
) -> Result<(), CliError> {
    match j {
        Json::Array(items) => {
            if depth == shape.len() {
                if !out.is_empty() {
                    return Err(CliError::msg(format!(
                        "{what}: ragged array (an array where a number was expected at depth {depth})"
                    )));
                }
                shape.push(items.len());
            } else if shape[depth] != items.len() {
                return Err(CliError::msg(format!(
                    "{what}: ragged array (lengths {} and {} at depth {depth})",
                    shape[depth],
                    items.len()
                )));
            }
            if items.is_empty() && depth + 1 < shape.len() {
                return Err(CliError::msg(format!("{what}: ragged array (an empty array at depth {depth})")));
            }
            for it in items {
                flatten(it, depth + 1, shape, out, what)?;
            }
            Ok(())
        }
        Json::Number(_) | Json::Bool(_) => {
            if depth != shape.len() {
                return Err(CliError::msg(format!(
                    "{what}: ragged array (a number where an array was expected at depth {depth})"
                )));
            }
            out.push(j);
            Ok(())
        }
        other => Err(CliError::msg(format!("{what}: expected numbers or arrays, found {}", kind(other)))),
    }
}
