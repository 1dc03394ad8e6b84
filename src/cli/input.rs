//! Reading the command line's input files within bounds.
//!
//! Every file the command line reads (a module, an `@PATH` JSON argument
//! list, an `"@PATH.npy"` array) must be a regular file: a directory, a
//! FIFO, a socket or a device such as `/dev/zero` is refused before it is
//! opened, so that nothing blocks or reads without end. Modules and JSON
//! files are read up to a limit, 1 GiB unless the environment variable
//! `SADDLE_MAX_INPUT_BYTES` says otherwise; a `.npy` file is bounded by
//! its own header, which is checked against the file's size (and the
//! memory available) before anything is allocated for its data.

use std::fs::File;
use std::io::{Cursor, Read};
use std::path::Path;

use ndarray::ArrayD;
use ndarray_npy::ReadNpyExt;
use ndarray_npy::npy::header::Header;
use saddle::ir::{Array, DType, ShapeDisplay, TensorType};

use super::CliError;

/// The environment variable that sets the largest module or JSON file the
/// command line reads, in bytes.
pub const MAX_INPUT_ENV: &str = "SADDLE_MAX_INPUT_BYTES";

/// The largest module or JSON file read when `SADDLE_MAX_INPUT_BYTES` is
/// not set: 1 GiB.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 1 << 30;

/// The largest `.npy` header accepted (numpy writes a few hundred bytes).
const MAX_NPY_HEADER_BYTES: u64 = 1 << 20;

/// The input limit in bytes: `SADDLE_MAX_INPUT_BYTES`, or 1 GiB.
fn max_input_bytes() -> Result<u64, String> {
    match std::env::var(MAX_INPUT_ENV) {
        Err(std::env::VarError::NotPresent) => Ok(DEFAULT_MAX_INPUT_BYTES),
        Err(std::env::VarError::NotUnicode(v)) => Err(format!("{MAX_INPUT_ENV}={v:?} is not a number of bytes")),
        Ok(v) => v.trim().parse::<u64>().map_err(|_| format!("{MAX_INPUT_ENV}={v:?} is not a number of bytes")),
    }
}

/// What kind of file `meta` describes, for messages.
fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    let ft = meta.file_type();
    if ft.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// Opens `path` if it is a regular file (following symbolic links), and
/// returns it with its size. Errors read `cannot read PATH: WHY`.
fn open_regular(path: &Path) -> Result<(File, u64), String> {
    let cannot = |why: String| format!("cannot read {}: {why}", path.display());
    // Checked before opening: opening a FIFO for reading blocks until a
    // writer comes.
    let meta = std::fs::metadata(path).map_err(|e| cannot(e.to_string()))?;
    if !meta.is_file() {
        return Err(cannot(format!("{} is not a regular file", file_kind(&meta))));
    }
    let file = File::open(path).map_err(|e| cannot(e.to_string()))?;
    let meta = file.metadata().map_err(|e| cannot(e.to_string()))?;
    if !meta.is_file() {
        return Err(cannot(format!("{} is not a regular file", file_kind(&meta))));
    }
    Ok((file, meta.len()))
}

/// Reads a whole module or JSON file, refusing one larger than the input
/// limit (`SADDLE_MAX_INPUT_BYTES`, 1 GiB by default). Errors read
/// `cannot read PATH: WHY`.
pub fn read_bounded(path: &Path) -> Result<Vec<u8>, String> {
    let cap = max_input_bytes()?;
    let (file, len) = open_regular(path)?;
    let too_big = |n: u64| {
        format!(
            "cannot read {}: the file has {n}{} bytes, more than the input limit of {cap} bytes (set {MAX_INPUT_ENV} to raise it)",
            path.display(),
            if n > len { " or more" } else { "" }
        )
    };
    if len > cap {
        return Err(too_big(len));
    }
    // The size can change while reading (and files under /proc report 0):
    // the reader stops one byte past the limit whatever the size said.
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(len as usize).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    file.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.len() as u64 > cap {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

/// The first `n` bytes of `path`, for a file longer than `n` bytes (`None`
/// for a shorter one, which is not read here).
pub fn read_prefix(path: &Path, n: u64) -> Result<Option<Vec<u8>>, String> {
    let (file, len) = open_regular(path)?;
    if len <= n {
        return Ok(None);
    }
    let mut bytes = Vec::new();
    file.take(n).read_to_end(&mut bytes).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(Some(bytes))
}

/// The memory the system says is available, in bytes, where it says so.
fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// The element types a `.npy` file may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NpyType {
    F64,
    F32,
    I64,
    I32,
    Bool,
}

impl NpyType {
    /// From a numpy type descriptor such as `<f8`; either byte order.
    fn from_descriptor(d: &str) -> Option<NpyType> {
        let body = d.strip_prefix(['<', '>', '=', '|']).unwrap_or(d);
        match body {
            "f8" => Some(NpyType::F64),
            "f4" => Some(NpyType::F32),
            "i8" => Some(NpyType::I64),
            "i4" => Some(NpyType::I32),
            "b1" | "?" => Some(NpyType::Bool),
            _ => None,
        }
    }

    fn size(self) -> u64 {
        match self {
            NpyType::F64 | NpyType::I64 => 8,
            NpyType::F32 | NpyType::I32 => 4,
            NpyType::Bool => 1,
        }
    }

    fn dtype(self) -> DType {
        match self {
            NpyType::F64 => DType::F64,
            NpyType::F32 => DType::F32,
            NpyType::I64 => DType::I64,
            NpyType::I32 => DType::I32,
            NpyType::Bool => DType::Bool,
        }
    }

    /// Whether an array of this type may stand for a parameter of dtype
    /// `to`: the same type, or a widening (integers and f32 into f64, i32
    /// into i64).
    fn converts_to(self, to: DType) -> bool {
        match to {
            DType::F64 => matches!(self, NpyType::F64 | NpyType::F32 | NpyType::I64 | NpyType::I32),
            DType::F32 => self == NpyType::F32,
            DType::I64 => matches!(self, NpyType::I64 | NpyType::I32),
            DType::I32 => self == NpyType::I32,
            DType::Bool => self == NpyType::Bool,
        }
    }
}

/// Reads the `.npy` file at `path` as an argument of type `ty`. The header
/// is checked against the file's size before the data are allocated; each
/// kind of bad file gets its own message (bad magic, bad header,
/// unsupported dtype, truncated data, size mismatch). `what` names the
/// argument in messages.
pub fn read_npy(path: &Path, ty: &TensorType, what: &str) -> Result<Array, CliError> {
    read_npy_inner(path, ty).map_err(|e| CliError::msg(format!("{what}: {e}")))
}

/// The shape a `.npy` file declares, read from its header alone (for
/// binding dimension variables before the data are read).
pub fn npy_shape(path: &Path, what: &str) -> Result<Vec<usize>, CliError> {
    open_npy(path).map(|head| head.header.shape).map_err(|e| CliError::msg(format!("{what}: {e}")))
}

/// An open `.npy` file, its header read and checked against the file's size.
struct NpyHead {
    file: File,
    len: u64,
    header_bytes: Vec<u8>,
    data_start: u64,
    header: Header,
}

fn open_npy(path: &Path) -> Result<NpyHead, String> {
    let p = path.display();
    let (mut file, len) = open_regular(path)?;
    let io = |e: std::io::Error| format!("cannot read {p}: {e}");
    // Magic (6 bytes), version (2), header length (2 in version 1, else 4).
    let mut prefix = vec![0u8; 8];
    if len < 10 {
        return Err(format!("{p} is not a .npy file: {len} bytes is too short for a header"));
    }
    file.read_exact(&mut prefix).map_err(io)?;
    if &prefix[..6] != b"\x93NUMPY" {
        return Err(format!("{p} is not a .npy file (bad magic)"));
    }
    let width = match (prefix[6], prefix[7]) {
        (1, 0) => 2,
        (2, 0) | (3, 0) => 4,
        (major, minor) => return Err(format!("{p}: unsupported .npy version {major}.{minor}")),
    };
    let mut field = vec![0u8; width];
    file.read_exact(&mut field).map_err(|_| format!("{p}: bad header: the file ends inside the header length"))?;
    let header_len = field.iter().rev().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    prefix.extend_from_slice(&field);
    let data_start = prefix.len() as u64 + header_len;
    if header_len > MAX_NPY_HEADER_BYTES {
        return Err(format!(
            "{p}: bad header: it claims {header_len} bytes, more than the {MAX_NPY_HEADER_BYTES} a .npy header may have"
        ));
    }
    if data_start > len {
        return Err(format!("{p}: truncated header: it claims {header_len} bytes, the file holds {}", len - 10));
    }
    let mut header_bytes = prefix;
    let start = header_bytes.len();
    header_bytes.resize(data_start as usize, 0);
    file.read_exact(&mut header_bytes[start..]).map_err(io)?;
    let header = Header::from_reader(&mut Cursor::new(&header_bytes)).map_err(|e| format!("{p}: bad header: {e}"))?;
    Ok(NpyHead { file, len, header_bytes, data_start, header })
}

fn read_npy_inner(path: &Path, ty: &TensorType) -> Result<Array, String> {
    let p = path.display();
    let NpyHead { file, len, header_bytes, data_start, header } = open_npy(path)?;
    let descriptor = header.type_descriptor.to_string();
    let npy_type = header
        .type_descriptor
        .as_string()
        .and_then(|d| NpyType::from_descriptor(d))
        .ok_or_else(|| format!("{p}: unsupported dtype {descriptor} (saddle reads f8, f4, i8, i4 and b1)"))?;
    let elements = header
        .shape
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
        .filter(|&n| n.checked_mul(npy_type.size()).is_some())
        .ok_or_else(|| format!("{p}: size mismatch: the shape {} overflows", ShapeDisplay(&header.shape)))?;
    let expected = elements * npy_type.size();
    let found = len - data_start;
    if found < expected {
        return Err(format!(
            "{p}: truncated data: shape {} of {descriptor} needs {expected} bytes, found {found}",
            ShapeDisplay(&header.shape)
        ));
    }
    if found > expected {
        return Err(format!(
            "{p}: size mismatch: shape {} of {descriptor} needs {expected} bytes of data, the file holds {found}",
            ShapeDisplay(&header.shape)
        ));
    }
    if !npy_type.converts_to(ty.dtype) {
        return Err(format!(
            "{p} holds {} data ({descriptor}), which a {ty} parameter does not accept",
            npy_type.dtype()
        ));
    }
    if header.shape != ty.shape {
        return Err(format!(
            "{p} has shape {}, expected {} ({ty})",
            ShapeDisplay(&header.shape),
            ShapeDisplay(&ty.shape)
        ));
    }
    // The data are as long as the header says; a sparse file can still
    // claim more than memory holds.
    if let Some(avail) = available_memory() {
        if expected > avail {
            return Err(format!("{p}: its {expected} bytes of data exceed the {avail} bytes of memory available"));
        }
    }
    let reader = Cursor::new(header_bytes).chain(file);
    let bad = |e: ndarray_npy::ReadNpyError| format!("cannot read {p}: {e}");
    fn standard<T: Clone>(a: ArrayD<T>) -> ArrayD<T> {
        if a.is_standard_layout() { a } else { a.as_standard_layout().into_owned() }
    }
    Ok(match (npy_type, ty.dtype) {
        (NpyType::F64, _) => Array::F64(standard(ArrayD::<f64>::read_npy(reader).map_err(bad)?)),
        (NpyType::F32, DType::F64) => {
            Array::F64(standard(ArrayD::<f32>::read_npy(reader).map_err(bad)?.mapv(f64::from)))
        }
        (NpyType::F32, _) => Array::F32(standard(ArrayD::<f32>::read_npy(reader).map_err(bad)?)),
        (NpyType::I64, DType::F64) => {
            Array::F64(standard(ArrayD::<i64>::read_npy(reader).map_err(bad)?.mapv(|x| x as f64)))
        }
        (NpyType::I64, _) => Array::I64(standard(ArrayD::<i64>::read_npy(reader).map_err(bad)?)),
        (NpyType::I32, DType::F64) => {
            Array::F64(standard(ArrayD::<i32>::read_npy(reader).map_err(bad)?.mapv(f64::from)))
        }
        (NpyType::I32, DType::I64) => {
            Array::I64(standard(ArrayD::<i32>::read_npy(reader).map_err(bad)?.mapv(i64::from)))
        }
        (NpyType::I32, _) => Array::I32(standard(ArrayD::<i32>::read_npy(reader).map_err(bad)?)),
        (NpyType::Bool, _) => Array::Bool(standard(ArrayD::<bool>::read_npy(reader).map_err(bad)?)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version 1.0 `.npy` file of `data` under the given header fields.
    fn npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
        let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        while (10 + dict.len() + 1) % 64 != 0 {
            dict.push(' ');
        }
        dict.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        out.extend_from_slice(dict.as_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn every_truncation_extension_and_header_byte_change_is_refused_or_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.npy");
        let ty = TensorType::f64([3]);
        let data: Vec<u8> = [1.0f64, 2.0, 3.0].iter().flat_map(|x| x.to_le_bytes()).collect();
        let good = npy("<f8", "(3,)", &data);
        std::fs::write(&p, &good).unwrap();
        assert_eq!(read_npy_inner(&p, &ty).unwrap().to_f64_vec(), vec![1.0, 2.0, 3.0]);
        for n in 0..good.len() {
            std::fs::write(&p, &good[..n]).unwrap();
            assert!(read_npy_inner(&p, &ty).is_err(), "a file cut to {n} bytes was read");
        }
        for extra in 1..=16 {
            let mut long = good.clone();
            long.resize(good.len() + extra, 0);
            std::fs::write(&p, &long).unwrap();
            let err = read_npy_inner(&p, &ty).unwrap_err();
            assert!(err.contains("size mismatch"), "{err}");
        }
        // Any byte of the prefix and header changed to any of these values:
        // an error or an array, never a panic or a huge allocation.
        let header_end = good.len() - data.len();
        for i in 0..header_end {
            for b in [0u8, b' ', b')', b'9', 0xff] {
                let mut bad = good.clone();
                bad[i] = b;
                std::fs::write(&p, &bad).unwrap();
                if let Ok(a) = read_npy_inner(&p, &ty) {
                    assert_eq!(a.shape(), &[3]);
                }
            }
        }
    }

    #[test]
    fn header_claims_are_checked_against_the_file_size() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.npy");
        let ty = TensorType::f64([2]);
        for (shape, needle) in [
            ("(1099511627776,)", "truncated data"),
            ("(18446744073709551615,)", "overflows"),
            ("(4294967296, 4294967296)", "overflows"),
            ("(0,)", "size mismatch"),
        ] {
            std::fs::write(&p, npy("<f8", shape, &[0; 16])).unwrap();
            let err = read_npy_inner(&p, &ty).unwrap_err();
            assert!(err.contains(needle), "{shape}: {err}");
        }
        for width in [2usize, 4] {
            let mut f = b"\x93NUMPY".to_vec();
            f.extend_from_slice(if width == 2 { &[1, 0] } else { &[2, 0] });
            f.extend(std::iter::repeat_n(0xff, width));
            f.resize(144, b' ');
            std::fs::write(&p, &f).unwrap();
            let err = read_npy_inner(&p, &ty).unwrap_err();
            assert!(err.contains("bad header") || err.contains("truncated header"), "{err}");
        }
    }
}
