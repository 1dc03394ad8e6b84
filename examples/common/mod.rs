//! What the benchmark examples share: reading the data arguments.

use saddle::ir::{Array, DType, TensorType};

/// The data arguments from DATA_ARGS, a JSON array of `"@PATH.npy"`
/// entries, read as `types` says (i64 or f64).
pub fn load_args(spec: &str, types: &[TensorType]) -> Result<Vec<Array>, Box<dyn std::error::Error>> {
    let v: serde_json::Value = serde_json::from_str(spec)?;
    let entries = v.as_array().ok_or("DATA_ARGS must be a JSON array")?;
    let mut out = Vec::new();
    for (e, ty) in entries.iter().zip(types) {
        let path = e.as_str().and_then(|s| s.strip_prefix('@')).ok_or("entries must be \"@PATH.npy\"")?;
        let a = match ty.dtype {
            DType::I64 => Array::I64(ndarray_npy::read_npy(path)?),
            _ => Array::F64(ndarray_npy::read_npy(path)?),
        };
        out.push(a);
    }
    Ok(out)
}
