//! How much memory the machine can give, checked before allocating.

use saddle_ir::TensorType;

use crate::Error;

/// Bytes of memory available to this process: `MemAvailable` plus free
/// swap from `/proc/meminfo` where that exists, else `isize::MAX`.
///
/// ```
/// assert!(saddle_runtime::available_memory() > 0);
/// ```
pub fn available_memory() -> u128 {
    let Ok(text) = std::fs::read_to_string("/proc/meminfo") else {
        return isize::MAX as u128;
    };
    let field = |name: &str| -> Option<u128> {
        let line = text.lines().find(|l| l.starts_with(name))?;
        let kib: u128 = line[name.len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(kib * 1024)
    };
    match field("MemAvailable:") {
        Some(avail) => (avail + field("SwapFree:").unwrap_or(0)).min(isize::MAX as u128),
        None => isize::MAX as u128,
    }
}

/// Bytes that a tensor of type `ty` occupies (never overflows).
pub(crate) fn bytes_of(ty: &TensorType) -> u128 {
    ty.shape.iter().fold(ty.dtype.size_bytes() as u128, |acc, &d| acc.saturating_mul(d as u128))
}

/// Refuses `bytes` beyond `limit`, naming `what` needed them.
pub(crate) fn check(what: impl FnOnce() -> String, bytes: u128, limit: u128) -> Result<(), Error> {
    if bytes > limit { Err(Error::OutOfMemory { what: what(), bytes, limit }) } else { Ok(()) }
}
