//! `saddle laplace --params SPEC`: names, shapes and constraints of the
//! blocks of the first parameter, as `docs/cli.md` describes them.
//!
//! SPEC is JSON text or `@PATH`: an array of blocks in order, each an
//! object with `name`, optional `shape` (default `[]`, a scalar) and
//! optional `constraint` (default `"real"`): one of the strings `real`,
//! `positive`, `ordered`, `positive_ordered`, `simplex`, `unit_vector`,
//! `cholesky_corr`, `cov_matrix`, or an object `{"lower": L}`,
//! `{"upper": U}` or `{"lower": L, "upper": U}`.

use saddle::laplace::{Block, LaplaceError, ParamSpace, Support};
use serde_json::Value as Json;

use super::CliError;
use super::args::{kind, read_json};

/// Reads `--params` into a parameter space whose constrained length must
/// be `d` (the length of the function's first parameter).
pub fn parse_params(spec: &str, d: usize) -> Result<ParamSpace, CliError> {
    let what = "--params";
    let (json, _) = read_json(spec, what)?;
    let Json::Array(entries) = json else {
        return Err(CliError::msg(format!("{what}: expected a JSON array of blocks, found {}", kind(&json))));
    };
    let blocks = entries
        .iter()
        .enumerate()
        .map(|(i, e)| block(e, &format!("{what}: block {i}")))
        .collect::<Result<Vec<Block>, CliError>>()?;
    let space = ParamSpace::new(blocks).map_err(|e| match e {
        LaplaceError::EmptyParameter => CliError::msg(format!("{what}: the blocks have no coordinates")),
        e => CliError::msg(format!("{what}: {e}")),
    })?;
    if space.constrained_dim() != d {
        let sizes: Vec<String> = space.blocks().iter().map(|b| format!("{} {}", b.name, b.size())).collect();
        return Err(CliError::msg(format!(
            "{what}: the blocks' sizes ({}) add up to {}, but the first parameter has {d} coordinate(s)",
            sizes.join(", "),
            space.constrained_dim()
        )));
    }
    Ok(space)
}

fn block(e: &Json, what: &str) -> Result<Block, CliError> {
    let Json::Object(fields) = e else {
        return Err(CliError::msg(format!("{what}: expected an object {{\"name\": …}}, found {}", kind(e))));
    };
    if let Some(k) = fields.keys().find(|k| !["name", "shape", "constraint"].contains(&k.as_str())) {
        return Err(CliError::msg(format!("{what}: unknown field {k:?} (expected name, shape, constraint)")));
    }
    let name = match fields.get("name") {
        Some(Json::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err(CliError::msg(format!("{what}: \"name\" must be a non-empty string"))),
    };
    let what = format!("{what} ({name})");
    let shape = match fields.get("shape") {
        None => vec![],
        Some(Json::Array(dims)) => dims
            .iter()
            .map(|d| {
                d.as_u64().and_then(|d| usize::try_from(d).ok()).ok_or_else(|| {
                    CliError::msg(format!("{what}: \"shape\" must be an array of sizes (integers ≥ 0), found {d}"))
                })
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(CliError::msg(format!("{what}: \"shape\" must be an array, found {}", kind(other))));
        }
    };
    if shape.len() > 2 {
        return Err(CliError::msg(format!("{what}: a block is a scalar, a vector or a matrix (rank ≤ 2)")));
    }
    let support = match fields.get("constraint") {
        None => Support::Real,
        Some(c) => support(c, &what)?,
    };
    Ok(Block { name, shape, support })
}

fn support(c: &Json, what: &str) -> Result<Support, CliError> {
    let names = "real, positive, ordered, positive_ordered, simplex, unit_vector, cholesky_corr, cov_matrix, \
                 {\"lower\": L}, {\"upper\": U} or {\"lower\": L, \"upper\": U}";
    match c {
        Json::String(s) => Ok(match s.as_str() {
            "real" => Support::Real,
            "positive" => Support::Positive,
            "ordered" => Support::Ordered,
            "positive_ordered" => Support::PositiveOrdered,
            "simplex" => Support::Simplex,
            "unit_vector" => Support::UnitVector,
            "cholesky_corr" => Support::CholeskyCorr,
            "cov_matrix" => Support::CovMatrix,
            other => return Err(CliError::msg(format!("{what}: unknown constraint {other:?} (expected {names})"))),
        }),
        Json::Object(bounds) => {
            if let Some(k) = bounds.keys().find(|k| !["lower", "upper"].contains(&k.as_str())) {
                return Err(CliError::msg(format!("{what}: unknown bound {k:?} (expected lower, upper)")));
            }
            let bound = |k: &str| -> Result<Option<f64>, CliError> {
                match bounds.get(k) {
                    None => Ok(None),
                    Some(v) => v
                        .as_f64()
                        .map(Some)
                        .ok_or_else(|| CliError::msg(format!("{what}: the {k} bound must be a number, found {v}"))),
                }
            };
            match (bound("lower")?, bound("upper")?) {
                (Some(lower), Some(upper)) => Ok(Support::Interval { lower, upper }),
                (Some(lower), None) => Ok(Support::Lower(lower)),
                (None, Some(upper)) => Ok(Support::Upper(upper)),
                (None, None) => Err(CliError::msg(format!("{what}: a bounds object needs lower, upper or both"))),
            }
        }
        other => Err(CliError::msg(format!("{what}: a constraint is a string or an object, found {}", kind(other)))),
    }
}
