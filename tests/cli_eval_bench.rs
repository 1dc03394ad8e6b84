//! `saddle eval` and `saddle bench`: outputs and exit codes (0 on success,
//! 1 with `error:` lines for bad input, 2 for usage errors).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ndarray_npy::WriteNpyExt;

fn saddle(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_saddle")).args(args).output().expect("the saddle binary runs")
}

fn case(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases").join(name).display().to_string()
}

/// A fresh directory for one test's files, removed when the guard drops.
struct Scratch(tempfile::TempDir);

impl Scratch {
    fn join(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}

fn scratch(test: &str) -> Scratch {
    Scratch(tempfile::Builder::new().prefix(&format!("saddle-cli-{test}-")).tempdir().unwrap())
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// Exit status 1, nothing on stdout, an `error:` line mentioning `needle`.
fn fails_with(o: &Output, needle: &str) {
    assert_eq!(o.status.code(), Some(1), "stderr: {}", stderr(o));
    assert!(o.stdout.is_empty(), "partial output: {}", stdout(o));
    let e = stderr(o);
    assert!(
        e.lines().any(|l| l.starts_with("error:") && l.contains(needle)),
        "expected an error about {needle:?}, got:\n{e}"
    );
    assert!(!e.contains("panicked"), "{e}");
}

const INT_PARAM: &str = "func @f(%i: i64[2], %x: f64[3]) -> f64[2] {\n  %t: f64[2] = take %x, %i\n  return %t\n}\n";

#[test]
fn eval_student_t() {
    let o = saddle(&["eval", &case("student_t.sir"), "--args", "[[1.5, 1.0]]"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let got = v[0].as_f64().unwrap();
    let want = -4.5 * (1.0f64 + 4.0 / 7.0).ln();
    assert!((got - want).abs() < 1e-14, "{got} vs {want}");
}

#[test]
fn eval_prints_shortest_round_trip_floats() {
    let dir = scratch("roundtrip");
    let f = dir.join("f.sir");
    std::fs::write(&f, "func @f(%x: f64[3]) -> (f64[3], f64[]) {\n  %y: f64[3] = div %x, %x\n  %s: f64[] = reduce_sum %x {axes = [0]}\n  return %x, %s\n}\n").unwrap();
    let o = saddle(&["eval", f.to_str().unwrap(), "--args", "[[0.1, 1e-300, 3]]"]);
    assert_eq!(stdout(&o), "[[0.1, 1e-300, 3.0], 3.1]\n");
}

#[test]
fn eval_reads_args_from_json_file_and_npy() {
    let dir = scratch("files");
    let npy = dir.join("theta.npy");
    ndarray::arr1(&[1.5f64, 1.0]).write_npy(std::fs::File::create(&npy).unwrap()).unwrap();
    let json = dir.join("args.json");
    std::fs::write(&json, format!("[\"@{}\"]", npy.display())).unwrap();
    let by_npy = saddle(&["eval", &case("student_t.sir"), "--args", &format!("@{}", json.display())]);
    assert_eq!(by_npy.status.code(), Some(0), "{}", stderr(&by_npy));
    let direct = saddle(&["eval", &case("student_t.sir"), "--args", "[[1.5, 1]]"]);
    assert_eq!(stdout(&by_npy), stdout(&direct));
    // Integer parameters.
    let f = dir.join("take.sir");
    std::fs::write(&f, INT_PARAM).unwrap();
    let o = saddle(&["eval", f.to_str().unwrap(), "--args", "[[2, 0], [1, 2, 3]]"]);
    assert_eq!(stdout(&o), "[[3.0, 1.0]]\n");
}

#[test]
fn eval_bad_arguments_exit_1() {
    let st = case("student_t.sir");
    fails_with(&saddle(&["eval", &st, "--args", "[]"]), "expected 1 argument");
    fails_with(&saddle(&["eval", &st, "--args", "[[1, 2], [3]]"]), "expected 1 argument");
    fails_with(&saddle(&["eval", &st, "--args", "[[1, 2, 3]]"]), "shape");
    fails_with(&saddle(&["eval", &st, "--args", "[[1, 2"]), "invalid JSON");
    fails_with(&saddle(&["eval", &st, "--args", "[\"@/nonexistent/x.npy\"]"]), "cannot read");
    fails_with(&saddle(&["eval", &st, "--args", "@/nonexistent/args.json"]), "cannot read");
    fails_with(&saddle(&["eval", &st, "--args", "[[true, 1]]"]), "not a valid f64");
    fails_with(&saddle(&["eval", "/nonexistent.sir", "--args", "[]"]), "cannot read");
    fails_with(&saddle(&["eval", &st, "--func", "nope", "--args", "[[1, 2]]"]), "no function named @nope");
    let dir = scratch("bad");
    let f = dir.join("take.sir");
    std::fs::write(&f, INT_PARAM).unwrap();
    // A float for an integer parameter.
    fails_with(&saddle(&["eval", f.to_str().unwrap(), "--args", "[[0.5, 1], [1, 2, 3]]"]), "not a valid i64");
    // A .npy of the wrong dtype.
    let npy = dir.join("i.npy");
    ndarray::arr1(&[0.5f64, 1.0]).write_npy(std::fs::File::create(&npy).unwrap()).unwrap();
    fails_with(
        &saddle(&["eval", f.to_str().unwrap(), "--args", &format!("[\"@{}\", [1, 2, 3]]", npy.display())]),
        "i64",
    );
    // Run-time errors: an index out of range.
    fails_with(&saddle(&["eval", f.to_str().unwrap(), "--args", "[[3, 0], [1, 2, 3]]"]), "out of range");
    // Syntax errors.
    let bad = dir.join("bad.sir");
    std::fs::write(&bad, "func @f(%x: f64[]) -> f64[] {\n  %y = frobnicate %x\n  return %y\n}\n").unwrap();
    fails_with(&saddle(&["eval", bad.to_str().unwrap(), "--args", "[1]"]), "bad.sir:2");
}

#[test]
fn eval_usage_errors_exit_2() {
    assert_eq!(saddle(&["eval", &case("student_t.sir")]).status.code(), Some(2));
    assert_eq!(saddle(&["eval", &case("student_t.sir"), "--args", "[[1, 2]]", "--bogus"]).status.code(), Some(2));
}

#[test]
fn bench_reports_timings() {
    let o = saddle(&["bench", &case("student_t.sir"), "--args", "[[1.5, 1.0]]", "--repeat", "50"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(v["compile_us"].as_f64().unwrap() > 0.0);
    let (median, min) = (v["per_call_ns"]["median"].as_u64().unwrap(), v["per_call_ns"]["min"].as_u64().unwrap());
    assert!(min <= median && min > 0);
    assert_eq!(v["calls"].as_u64(), Some(50));
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
    // With a pass first.
    let o = saddle(&["bench", &case("student_t.sir"), "--args", "[[1.5, 1.0]]", "-p", "dce", "--repeat", "3"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Without the warm-up, and with a long one.
    for (warmup, at_least_ms) in [("0", 0), ("300", 300)] {
        let args = ["bench", &case("student_t.sir"), "--args", "[[1.5, 1.0]]", "--repeat", "5", "--warmup", warmup];
        let t = std::time::Instant::now();
        let o = saddle(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(t.elapsed().as_millis() >= at_least_ms, "--warmup {warmup} ran");
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v["calls"].as_u64(), Some(5));
    }
    // Each cap on the vector instruction sets.
    for isa in ["widest", "avx2", "baseline"] {
        let o = saddle(&["bench", &case("student_t.sir"), "--args", "[[1.5, 1.0]]", "--repeat", "3", "--isa", isa]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v["calls"].as_u64(), Some(3));
    }
}

#[test]
fn bench_bad_input() {
    let st = case("student_t.sir");
    fails_with(&saddle(&["bench", &st, "--args", "[[1, 2, 3]]"]), "shape");
    fails_with(&saddle(&["bench", &st, "--args", "{"]), "invalid JSON");
    fails_with(&saddle(&["bench", &st, "--args", "[]"]), "expected 1 argument");
    fails_with(&saddle(&["bench", &st, "--args", "[\"@missing.npy\"]"]), "cannot read");
    let dir = scratch("bench");
    let f = dir.join("take.sir");
    std::fs::write(&f, INT_PARAM).unwrap();
    fails_with(&saddle(&["bench", f.to_str().unwrap(), "--args", "[[1.5, 0], [1, 2, 3]]"]), "not a valid i64");
    fails_with(&saddle(&["bench", f.to_str().unwrap(), "--args", "[[0, 7], [1, 2, 3]]"]), "out of range");
    assert_eq!(saddle(&["bench", &st, "--args", "[[1, 2]]", "--repeat", "0"]).status.code(), Some(2));
    assert_eq!(saddle(&["bench", &st, "--args", "[[1, 2]]", "--isa", "sse9"]).status.code(), Some(2));
    assert_eq!(saddle(&["bench", &st, "--args", "[[1, 2]]", "--warmup", "-1"]).status.code(), Some(2));
    assert_eq!(saddle(&["bench", &st, "--args", "[[1, 2]]", "-p", "nonsense"]).status.code(), Some(2));
    assert_eq!(saddle(&["bench", &st]).status.code(), Some(2));
}

/// A version 1.0 `.npy` file: magic, version, header length, the header
/// dictionary padded to 64 bytes with a final newline, then `data`.
fn npy_bytes(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
    let fortran = if fortran { "True" } else { "False" };
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}");
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

fn f64_bytes(xs: &[f64]) -> Vec<u8> {
    xs.iter().flat_map(|x| x.to_le_bytes()).collect()
}

#[test]
fn eval_reads_every_supported_npy_layout() {
    let dir = scratch("npy-ok");
    let st = case("student_t.sir");
    let want = stdout(&saddle(&["eval", &st, "--args", "[[1.5, 1.0]]"]));
    let big_endian: Vec<u8> = [1.5f64, 1.0].iter().flat_map(|x| x.to_be_bytes()).collect();
    let f32s: Vec<u8> = [1.5f32, 1.0].iter().flat_map(|x| x.to_le_bytes()).collect();
    let i32s: Vec<u8> = [3i32, 1].iter().flat_map(|x| x.to_le_bytes()).collect();
    let files = [
        ("le.npy", npy_bytes("<f8", false, "(2,)", &f64_bytes(&[1.5, 1.0]))),
        ("be.npy", npy_bytes(">f8", false, "(2,)", &big_endian)),
        ("f4.npy", npy_bytes("<f4", false, "(2,)", &f32s)),
    ];
    for (name, bytes) in files {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        let o = saddle(&["eval", &st, "--args", &format!("[\"@{}\"]", p.display())]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
        assert_eq!(stdout(&o), want, "{name}");
    }
    // i32 data for an i64 parameter.
    let f = dir.join("take.sir");
    std::fs::write(&f, INT_PARAM).unwrap();
    let idx = dir.join("i4.npy");
    std::fs::write(&idx, npy_bytes("<i4", false, "(2,)", &i32s)).unwrap();
    let o = saddle(&["eval", f.to_str().unwrap(), "--args", &format!("[\"@{}\", [1, 2, 3]]", idx.display())]);
    fails_with(&o, "out of range");
    std::fs::write(
        &idx,
        npy_bytes("<i4", false, "(2,)", &[2i32, 1].iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>()),
    )
    .unwrap();
    let o = saddle(&["eval", f.to_str().unwrap(), "--args", &format!("[\"@{}\", [1, 2, 3]]", idx.display())]);
    assert_eq!(stdout(&o), "[[3.0, 2.0]]\n", "{}", stderr(&o));
    // Fortran order is read in its logical (row-major) order.
    let m = dir.join("m.sir");
    std::fs::write(&m, "func @f(%x: f64[2,3]) -> f64[2,3] {\n  %y: f64[2,3] = neg %x\n  return %y\n}\n").unwrap();
    let fortran = dir.join("fortran.npy");
    // Column-major storage of [[1, 2, 3], [4, 5, 6]].
    std::fs::write(&fortran, npy_bytes("<f8", true, "(2, 3)", &f64_bytes(&[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]))).unwrap();
    let o = saddle(&["eval", m.to_str().unwrap(), "--args", &format!("[\"@{}\"]", fortran.display())]);
    assert_eq!(stdout(&o), "[[[-1.0, -2.0, -3.0], [-4.0, -5.0, -6.0]]]\n", "{}", stderr(&o));
}

#[test]
fn each_kind_of_bad_npy_has_its_own_message() {
    let dir = scratch("npy-bad");
    let st = case("student_t.sir");
    let two = f64_bytes(&[1.5, 1.0]);
    // A header length of 0xffffffff in a version 2.0 file of 144 bytes.
    let mut huge_header = b"\x93NUMPY\x02\x00\xff\xff\xff\xff".to_vec();
    huge_header.resize(144, b' ');
    let mut short_header = npy_bytes("<f8", false, "(2,)", &[]);
    short_header.truncate(40);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.npy", vec![], "too short for a header"),
        ("magic.npy", b"PK\x03\x04 this is a zip file, not an array".to_vec(), "bad magic"),
        ("version.npy", b"\x93NUMPY\x07\x00\x10\x00{}".to_vec(), "unsupported .npy version 7.0"),
        ("huge_header.npy", huge_header, "bad header: it claims 4294967295 bytes"),
        ("short_header.npy", short_header, "truncated header"),
        ("garbage_header.npy", npy_bytes("<f8", false, "(2,", &two), "bad header"),
        // 144 bytes that claim 2^40 f64s: refused before any allocation.
        (
            "claims_2_40.npy",
            npy_bytes("<f8", false, "(1099511627776,)", &two),
            "truncated data: shape [1099511627776] of '<f8' needs 8796093022208 bytes, found 16",
        ),
        ("overflow.npy", npy_bytes("<f8", false, "(4294967296, 4294967296, 4294967296)", &two), "overflows"),
        (
            "truncated.npy",
            npy_bytes("<f8", false, "(2,)", &two[..12]),
            "truncated data: shape [2] of '<f8' needs 16 bytes, found 12",
        ),
        (
            "extra.npy",
            npy_bytes("<f8", false, "(2,)", &f64_bytes(&[1.5, 1.0, 0.0])),
            "size mismatch: shape [2] of '<f8' needs 16 bytes of data, the file holds 24",
        ),
        (
            "complex.npy",
            npy_bytes("<c16", false, "(2,)", &f64_bytes(&[1.5, 0.0, 1.0, 0.0])),
            "unsupported dtype '<c16'",
        ),
        ("unsigned.npy", npy_bytes("<u8", false, "(2,)", &two), "unsupported dtype '<u8'"),
        ("shape.npy", npy_bytes("<f8", false, "(1, 2)", &two), "has shape [1,2], expected [2]"),
        (
            "dtype.npy",
            npy_bytes("|b1", false, "(2,)", &[1, 0]),
            "holds bool data ('|b1'), which a f64[2] parameter does not accept",
        ),
    ];
    for (name, bytes, needle) in cases {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        for cmd in ["eval", "grad"] {
            fails_with(&saddle(&[cmd, &st, "--args", &format!("[\"@{}\"]", p.display())]), needle);
        }
        fails_with(&saddle(&["laplace", &st, "--init", &format!("\"@{}\"", p.display())]), needle);
    }
    // Bytes that are not 0 or 1 in a bool array.
    let b = dir.join("b.sir");
    std::fs::write(&b, "func @f(%x: bool[2]) -> bool[2] {\n  %y: bool[2] = not %x\n  return %y\n}\n").unwrap();
    let p = dir.join("bad_bool.npy");
    std::fs::write(&p, npy_bytes("|b1", false, "(2,)", &[1, 7])).unwrap();
    fails_with(&saddle(&["eval", b.to_str().unwrap(), "--args", &format!("[\"@{}\"]", p.display())]), "cannot read");
}

#[test]
fn bench_memory_and_time_stay_bounded_for_huge_repeat_counts() {
    let st = case("student_t.sir");
    let max = u64::MAX.to_string();
    let o = saddle(&["bench", &st, "--args", "[[1.5, 1.0]]", "--repeat", &max, "--warmup", "0", "--max-time", "0.2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let calls = v["calls"].as_u64().unwrap();
    assert!(calls > 0 && calls < u64::MAX, "{calls}");
    let (median, min) = (v["per_call_ns"]["median"].as_u64().unwrap(), v["per_call_ns"]["min"].as_u64().unwrap());
    assert!(min <= median, "{v}");
    assert!(stderr(&o).contains(&format!("note: timing stopped after --max-time 0.2 s: {calls} of {max} calls made")));
    // The note is not the result: a failed write of it changes nothing.
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full opens");
    let o = Command::new(env!("CARGO_BIN_EXE_saddle"))
        .args(["bench", &st, "--args", "[[1.5, 1.0]]", "--repeat", &max, "--warmup", "0", "--max-time", "0.05"])
        .stderr(full)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(serde_json::from_str::<serde_json::Value>(&stdout(&o)).is_ok(), "{}", stdout(&o));
    for bad in ["0", "-1", "nan", "inf", "1e300"] {
        let o = saddle(&["bench", &st, "--args", "[[1.5, 1.0]]", "--max-time", bad]);
        assert_eq!(o.status.code(), Some(2), "--max-time {bad}: {}", stderr(&o));
    }
    let o = saddle(&["bench", &st, "--args", "[[1.5, 1.0]]", "--warmup", &max]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
