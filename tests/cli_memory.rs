//! Under a lowered address-space limit (`ulimit -v`), a tiny module asking
//! for more memory than the limit leaves fails with an `error:` line and
//! exit status 1, rather than the allocator aborting the process.

use std::path::PathBuf;
use std::process::{Command, Output};

/// About 1.9 GiB of address space, in the KiB of `ulimit -v`.
const LIMIT_KIB: u64 = 2_000_000;

/// A fresh directory for one test's files, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let d = std::env::temp_dir().join(format!("saddle-mem-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Scratch(d)
    }

    fn file(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `saddle ARGS` run by a shell that first lowers `RLIMIT_AS`.
fn saddle_limited(args: &[&str]) -> Output {
    let script = format!("ulimit -v {LIMIT_KIB} && exec \"$0\" \"$@\"");
    Command::new("sh").arg("-c").arg(script).arg(env!("CARGO_BIN_EXE_saddle")).args(args).output().expect("sh runs")
}

fn refused(o: &Output, what: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{what}: status {:?}, stderr:\n{err}", o.status);
    assert!(o.stdout.is_empty(), "{what}: partial output");
    assert!(err.lines().any(|l| l.starts_with("error:") && l.contains("bytes")), "{what}: stderr:\n{err}");
}

#[cfg(target_os = "linux")]
#[test]
fn allocations_beyond_the_address_space_limit_are_errors() {
    let dir = Scratch::new("rlimit");
    // Within the limit, the same binary runs normally.
    let small = dir.file("small.sir", "func @f(%x: f64[3]) -> f64[3] {\n  %y: f64[3] = exp %x\n  return %y\n}\n");
    let o = saddle_limited(&["eval", &small, "--args", "[[0, 1, 2]]"]);
    assert_eq!(o.status.code(), Some(0), "stderr:\n{}", String::from_utf8_lossy(&o.stderr));
    let cases = [
        // A 2 GiB constant splat, returned (so made whole).
        ("splat", "func @f() -> f64[268435456] {\n  %c: f64[268435456] = const {value = 1.5}\n  return %c\n}\n", "[]"),
        // A pad whose padding makes a 2 GiB array of a 3-element one.
        (
            "pad",
            "func @f(%x: f64[3]) -> f64[268435459] {\n  %z: f64[] = const {value = 0.0}\n  %p: f64[268435459] = pad %x, %z {low = [268435456]}\n  return %p\n}\n",
            "[[1, 2, 3]]",
        ),
        // 1.2 GiB: fits the limit alone, not with the result array too.
        (
            "splat_and_result",
            "func @f(%x: f64[]) -> f64[161061273] {\n  %b: f64[161061273] = broadcast_in_dim %x {shape = [161061273], dims = []}\n  %e: f64[161061273] = exp %b\n  return %e\n}\n",
            "[0.5]",
        ),
    ];
    for (name, text, args) in cases {
        let file = dir.file(&format!("{name}.sir"), text);
        refused(&saddle_limited(&["eval", &file, "--args", args]), name);
    }
}

/// `func @f(%x0: f64[]) -> f64[]` applying `sin` `n` times.
fn sin_chain(n: usize) -> String {
    let mut s = String::from("func @f(%x0: f64[]) -> f64[] {\n");
    for i in 1..=n {
        s.push_str(&format!("  %x{i}: f64[] = sin %x{}\n", i - 1));
    }
    s.push_str(&format!("  return %x{n}\n}}\n"));
    s
}

fn succeeded(o: &Output, what: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{what}: status {:?}, stderr:\n{err}", o.status);
    assert!(!o.stdout.is_empty(), "{what}: no output");
}

/// A chain of 100,000 ops (3 MB of text) is checked, simplified, run and
/// differentiated within half the address space of the test above: the
/// gradient's fused loop over scalars once reserved 512 elements of
/// registers per forward value (400 MB), and the simplifier put the
/// 300,000-value gradient into an e-graph (500 MB).
#[cfg(target_os = "linux")]
#[test]
fn a_long_chain_stays_within_a_small_multiple_of_its_text() {
    let dir = Scratch::new("chain");
    let file = dir.file("chain.sir", &sin_chain(100_000));
    let script = "ulimit -v 1000000 && exec \"$0\" \"$@\"";
    let run = |args: &[&str]| {
        Command::new("sh").arg("-c").arg(script).arg(env!("CARGO_BIN_EXE_saddle")).args(args).output().expect("sh runs")
    };
    let check = run(&["check", &file]);
    succeeded(&check, "check");
    assert_eq!(check.stdout.iter().filter(|&&b| b == b'\n').count(), 100_003);
    succeeded(&run(&["opt", &file, "-p", "simplify"]), "opt -p simplify");
    succeeded(&run(&["eval", &file, "--args", "[0.5]"]), "eval");
    let grad = run(&["grad", &file, "--args", "[0.5]"]);
    succeeded(&grad, "grad");
    // The derivative is the product of the cosines along the chain (the
    // 300,000 values of one fused loop once wrapped 16-bit registers).
    let (mut x, mut want) = (0.5f64, 1.0f64);
    for _ in 0..100_000 {
        want *= x.cos();
        x = x.sin();
    }
    let got: f64 = String::from_utf8_lossy(&grad.stdout).trim().parse().expect("one number");
    assert!((got - want).abs() <= 1e-9 * want.abs(), "grad: {got}, expected {want}");
}

/// A module of 20,000 small functions is printed in time linear in its
/// size (each function was looked up by name among all of them).
#[test]
fn a_module_of_many_functions_is_checked() {
    let dir = Scratch::new("funcs");
    let mut text = String::new();
    for i in 0..20_000 {
        text.push_str(&format!(
            "func @g{i}(%a: f64[3]) -> f64[] {{\n  %e: f64[3] = exp %a\n  %s: f64[] = reduce_sum %e {{axes = [0]}}\n  return %s\n}}\n"
        ));
        if i + 1 < 20_000 {
            text.push('\n');
        }
    }
    let file = dir.file("funcs.sir", &text);
    let o = Command::new(env!("CARGO_BIN_EXE_saddle")).args(["check", &file]).output().expect("saddle runs");
    succeeded(&o, "check");
    assert_eq!(String::from_utf8_lossy(&o.stdout), text);
}
