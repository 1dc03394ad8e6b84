//! `saddle check` from the outside: exit codes, stdout, stderr.

use std::process::{Command, Output};

fn saddle(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_saddle")).args(args).output().expect("the saddle binary runs")
}

fn example(name: &str) -> String {
    format!("{}/examples/sir/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A file in `dir`, a directory removed when the test's guard drops.
fn temp_file(dir: &tempfile::TempDir, name: &str, contents: &[u8]) -> std::path::PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, contents).unwrap();
    p
}

fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("saddle-cli-check-").tempdir().unwrap()
}

#[test]
fn check_prints_canonical_text() {
    let out = saddle(&["check", &example("student_t.sir")]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("func @log_posterior(%theta: f64[2]) -> f64[] {\n"));
    // Canonical text is a fixed point.
    let dir = scratch();
    let p = temp_file(&dir, "canon.sir", text.as_bytes());
    let again = saddle(&["check", p.to_str().unwrap()]);
    assert_eq!(String::from_utf8(again.stdout).unwrap(), text);
}

#[test]
fn errors_are_located_and_exit_1() {
    let dir = scratch();
    let p = temp_file(&dir, "bad.sir", b"func @f(%x: f64[2]) -> f64[2] {\n  %y = exp %q\n  return %y\n}\n");
    let out = saddle(&["check", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing on stdout on failure");
    let err = String::from_utf8(out.stderr).unwrap();
    let file = p.display().to_string();
    assert!(err.contains(&format!("{file}:2:12: error: undefined value %q")), "{err}");
    assert!(err.lines().any(|l| l.starts_with("error: ") && l.contains("undefined value %q")), "{err}");
    assert!(err.contains("^^"), "a caret under the token: {err}");
}

#[test]
fn hostile_inputs_exit_1_without_panicking() {
    let nesting =
        format!("func @f() -> f64[] {{\n  %c: f64[] = const {{value = {}}}\n  return %c\n}}", "[".repeat(10_000_000));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty.sir", vec![]),
        ("garbage.sir", (0..=255u8).cycle().take(4096).collect()),
        ("truncated.sir", b"func @f(%x: f64[2]) -> f64[] {\n  %y = reduce_sum %x {axes = [0".to_vec()),
        ("nesting.sir", nesting.into_bytes()),
        ("absurd.sir", b"func @f(%x: f64[4294967296,4294967296,4294967296]) -> f64[] {\n  return %x\n}".to_vec()),
    ];
    let dir = scratch();
    for (name, bytes) in cases {
        let p = temp_file(&dir, name, &bytes);
        let out = saddle(&["check", p.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert!(err.lines().any(|l| l.starts_with("error: ")), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
}

#[test]
fn unreadable_file_is_an_error() {
    let out = saddle(&["check", "/nonexistent/dir/x.sir"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: cannot read /nonexistent/dir/x.sir"));
}

#[test]
fn usage_errors_exit_2() {
    let out = saddle(&["check", "--no-such-flag", &example("logistic.sir")]);
    assert_eq!(out.status.code(), Some(2));
    let out = saddle(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn dot_output_draws_the_dataflow_graph() {
    let out = saddle(&["check", "--dot", &example("logistic.sir")]);
    assert_eq!(out.status.code(), Some(0));
    let dot = String::from_utf8(out.stdout).unwrap();
    assert!(dot.starts_with("digraph {"), "{dot}");
    assert!(dot.contains("%e: f64[] = exp"), "{dot}");
    let out = saddle(&["check", "--dot", "--func", "nope", &example("logistic.sir")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no function named @nope"));
}

/// Exit status 1, nothing on stdout, an `error:` line containing `needle`.
fn fails_with(out: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(out.stdout.is_empty(), "partial output: {}", String::from_utf8_lossy(&out.stdout));
    assert!(err.lines().any(|l| l.starts_with("error: ") && l.contains(needle)), "expected {needle:?} in:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn inputs_that_are_not_regular_files_are_refused() {
    let dir = scratch();
    // A directory, a device that never ends, a FIFO nobody writes to: each
    // would block or read without end.
    fails_with(&saddle(&["check", dir.path().to_str().unwrap()]), "a directory is not a regular file");
    fails_with(&saddle(&["check", "/dev/zero"]), "a character device is not a regular file");
    let fifo = dir.path().join("fifo.sir");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success());
    fails_with(&saddle(&["check", fifo.to_str().unwrap()]), "a FIFO is not a regular file");
    // The same for every command that reads a module, and for @ARGS files.
    let st = example("student_t.sir");
    for cmd in ["eval", "grad", "hessian", "bench"] {
        fails_with(&saddle(&[cmd, "/dev/zero", "--args", "[[1, 2]]"]), "not a regular file");
        fails_with(&saddle(&[cmd, &st, "--args", "@/dev/zero"]), "--args: cannot read /dev/zero");
        fails_with(&saddle(&[cmd, &st, "--args", &format!("@{}", fifo.display())]), "a FIFO is not a regular file");
        fails_with(&saddle(&[cmd, &st, "--args", "[\"@/dev/zero\"]"]), "not a regular file");
    }
    fails_with(&saddle(&["opt", "/dev/zero", "-p", "dce"]), "not a regular file");
    fails_with(&saddle(&["lower", "/dev/zero"]), "not a regular file");
    fails_with(&saddle(&["laplace", &st, "--init", "@/dev/zero"]), "not a regular file");
    fails_with(&saddle(&["laplace", &st, "--init", "\"@/dev/zero\""]), "not a regular file");
}

#[test]
fn inputs_over_the_size_limit_are_refused() {
    let dir = scratch();
    let sir = temp_file(&dir, "big.sir", &std::fs::read(example("student_t.sir")).unwrap());
    // An argument file larger than the module.
    let sir_len = std::fs::metadata(&sir).unwrap().len() as usize;
    let args = temp_file(&dir, "args.json", format!("[[1.5, {}1.0]]", " ".repeat(sir_len)).as_bytes());
    let between = (sir_len + 5).to_string();
    let run = |limit: &str, cmd: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_saddle")).args(cmd).env("SADDLE_MAX_INPUT_BYTES", limit).output().unwrap()
    };
    let check = ["check", sir.to_str().unwrap()];
    fails_with(&run("10", &check), "more than the input limit of 10 bytes (set SADDLE_MAX_INPUT_BYTES");
    assert_eq!(run("1000000", &check).status.code(), Some(0));
    let eval = ["eval", sir.to_str().unwrap(), "--args", &format!("@{}", args.display())];
    fails_with(&run(&between, &eval), "--args: cannot read");
    assert_eq!(run("100000", &eval).status.code(), Some(0));
    fails_with(&run("lots", &check), "SADDLE_MAX_INPUT_BYTES=\"lots\" is not a number of bytes");
}

#[test]
fn a_large_file_that_cannot_be_text_is_refused_from_its_first_bytes() {
    let dir = scratch();
    // 2 GiB of NUL bytes (a sparse file): over the input limit, but the
    // first bytes already show it is no module, and nothing more is read.
    let path = dir.path().join("zeros.sir");
    std::fs::File::create(&path).unwrap().set_len(2 << 30).unwrap();
    fails_with(&saddle(&["check", path.to_str().unwrap()]), "zeros.sir:1:1: unexpected character '\\0'");
    // Binary data after a valid start: the first invalid byte.
    let mut bytes = b"func @f(%x: f64[]) -> f64[] {\n".to_vec();
    bytes.extend((0..3 << 20).map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8 | 0x80));
    let garbage = temp_file(&dir, "garbage.sir", &bytes);
    fails_with(&saddle(&["eval", garbage.to_str().unwrap(), "--args", "[1]"]), "invalid UTF-8 (byte 31 of the file)");
}

#[test]
fn failed_writes_to_stdout_are_errors() {
    let dir = scratch();
    let st = example("student_t.sir");
    let svg = dir.path().join("fig.svg");
    let commands: Vec<Vec<&str>> = vec![
        vec!["check", &st],
        vec!["check", "--dot", &st],
        vec!["eval", &st, "--args", "[[1.5, 1.0]]"],
        vec!["grad", &st, "--args", "[[1.5, 1.0]]"],
        vec!["hessian", &st, "--args", "[[1.5, 1.0]]"],
        vec!["opt", &st, "-p", "grad"],
        vec!["lower", &st],
        vec!["bench", &st, "--args", "[[1.5, 1.0]]", "--repeat", "3", "--warmup", "0"],
        vec!["laplace", &st, "--init", "[0, 0]", "--json"],
        vec!["laplace", &st, "--init", "[0, 0]"],
        vec!["laplace", &st, "--init", "[0, 0]", "--plot", svg.to_str().unwrap()],
        vec!["--help"],
        vec!["--version"],
    ];
    for cmd in commands {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full opens");
        let out = Command::new(env!("CARGO_BIN_EXE_saddle")).args(&cmd).stdout(full).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{cmd:?}: {err}");
        assert!(err.lines().any(|l| l.starts_with("error: cannot write to stdout")), "{cmd:?}: {err}");
        assert!(!err.contains("panicked"), "{cmd:?}: {err}");
    }
}
