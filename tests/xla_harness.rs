//! Runs `tests/xla/harness.py`: every test case of `tests/cases` with its
//! `grad`, `hessian` and `vmap` transforms, every op module of `tests/xla/ops`, and random
//! well-typed functions over every op kind (`saddle_ir::testing`), lowered
//! to StableHLO, run on XLA's CPU client and compared with saddle's
//! runtime.
//!
//! The harness needs Python with jax, so the test is marked `#[ignore]`
//! and `cargo test --workspace` lists it as ignored rather than passing it
//! without running anything. Run it with
//! `cargo test --test xla_harness -- --include-ignored` (`.ci/run` does,
//! after the workspace's tests). The interpreter is `$SADDLE_PYTHON`,
//! else `.venv/bin/python` in the repository when it exists, else
//! `python3`. When run without jax the test passes with a message on
//! stderr, unless `SADDLE_REQUIRE_XLA=1` (as in CI), when it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use saddle::ir::print_func;
use saddle::ir::testing::{GenOptions, random_func};

/// How many random functions the harness runs (seeds `0..RANDOM_FUNCS`),
/// drawn without NaN, infinite or huge constants: the functions test the
/// lowering, and those constants mostly test how NaN and infinity spread
/// through two different Cholesky and triangular-solve algorithms.
const RANDOM_FUNCS: u64 = 100;

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("SADDLE_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv").join("bin").join("python");
    if venv.exists() { venv } else { PathBuf::from("python3") }
}

#[test]
#[ignore = "needs Python with jax; run with --include-ignored (CI does, with SADDLE_REQUIRE_XLA=1)"]
fn xla_agrees_with_the_runtime_on_every_case_and_transform() {
    let python = python();
    let required = std::env::var("SADDLE_REQUIRE_XLA").is_ok_and(|v| v == "1");
    let probe = Command::new(&python).args(["-c", "import jax, jaxlib"]).output();
    let available = probe.as_ref().is_ok_and(|o| o.status.success());
    if !available {
        let why = match &probe {
            Ok(o) => String::from_utf8_lossy(&o.stderr).lines().last().unwrap_or("").to_string(),
            Err(e) => e.to_string(),
        };
        assert!(!required, "SADDLE_REQUIRE_XLA=1 but jax is not importable by {}: {why}", python.display());
        eprintln!(
            "skipping the XLA harness: jax is not importable by {} ({why}); \
             set SADDLE_PYTHON to a Python with jax installed to run it",
            python.display()
        );
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("xla-harness");
    let random = work.join("random");
    let _ = std::fs::remove_dir_all(&random);
    std::fs::create_dir_all(&random).expect("the work directory can be made");
    let opts = GenOptions { max_insts: 32, special_floats: false, ..GenOptions::default() };
    for seed in 0..RANDOM_FUNCS {
        let path = random.join(format!("random_{seed:03}.sir"));
        std::fs::write(path, print_func(&random_func(seed, &opts))).expect("the work directory is writable");
    }
    let out = Command::new(&python)
        .arg(root.join("tests/xla/harness.py"))
        .arg("--saddle")
        .arg(env!("CARGO_BIN_EXE_saddle"))
        .arg("--cases")
        .arg(root.join("tests/cases"))
        .arg("--ops")
        .arg(root.join("tests/xla/ops"))
        .arg("--random")
        .arg(&random)
        .arg("--work")
        .arg(&work)
        .output()
        .expect("the harness starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Shown with --nocapture, and on failure.
    println!("{stdout}");
    assert!(out.status.success(), "the XLA harness failed (exit {:?}):\n{stdout}\n{stderr}", out.status.code());
}
