//! Argument parsing and dispatch. Every command returns `Result<String,
//! CliError>`: the text for stdout, or the errors for stderr. Nothing is
//! printed on stdout unless the whole command succeeded.

mod args;
mod bench;
mod check;
mod eval;
mod grad;
mod hessian;
mod input;
mod json;
mod laplace;
mod lower;
mod opt;
mod random;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A failed command: one or more messages, each printed on stderr as a
/// line beginning `error:` (located diagnostics keep their own form above
/// it).
#[derive(Debug)]
pub struct CliError {
    /// Rendered diagnostics printed before the `error:` lines (source line
    /// and caret).
    pub details: Vec<String>,
    /// The `error:` lines, without the prefix.
    pub messages: Vec<String>,
}

impl CliError {
    /// A single-message error.
    pub fn msg(m: impl Into<String>) -> CliError {
        CliError { details: vec![], messages: vec![m.into()] }
    }
}

impl From<saddle::ir::Error> for CliError {
    fn from(e: saddle::ir::Error) -> CliError {
        match e {
            saddle::ir::Error::Parse(p) => CliError::from(p),
            other => CliError::msg(other.to_string()),
        }
    }
}

impl From<saddle::runtime::Error> for CliError {
    fn from(e: saddle::runtime::Error) -> CliError {
        CliError::msg(e.to_string())
    }
}

impl From<saddle::ir::ParseError> for CliError {
    fn from(p: saddle::ir::ParseError) -> CliError {
        let mut messages: Vec<String> =
            p.diagnostics.iter().map(|d| format!("{}:{}:{}: {}", d.file, d.line, d.col, d.message)).collect();
        messages.extend(p.omitted_message());
        CliError { details: p.diagnostics.iter().map(|d| d.to_string()).collect(), messages }
    }
}

#[derive(Parser)]
#[command(name = "saddle", version, about = "Exact derivatives, batching and Laplace approximations of log densities")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse and verify a module; print it in canonical text.
    Check(check::Args),
    /// Run a function; print its results as a JSON array.
    Eval(eval::Args),
    /// Gradient of the scalar first result with respect to a parameter.
    Grad(grad::Args),
    /// Hessian of the scalar first result with respect to a parameter.
    Hessian(hessian::Args),
    /// Apply passes in order; print the transformed module.
    Opt(opt::Args),
    /// Lower a function to StableHLO (MLIR text).
    Lower(lower::Args),
    /// Compile once, call N times; print timings as JSON.
    Bench(bench::Args),
    /// Laplace approximation of the density given by the first result.
    Laplace(laplace::Args),
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // `--help` and `--version` print on stdout; a failed write
            // there is an error like any other.
            if e.print().is_err() && !e.use_stderr() {
                return write_failed("stdout");
            }
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let result = match cli.command {
        Command::Check(a) => check::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Grad(a) => grad::run(a),
        Command::Hessian(a) => hessian::run(a),
        Command::Opt(a) => opt::run(a),
        Command::Lower(a) => lower::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Laplace(a) => laplace::run(a),
    };
    match result {
        Ok(out) => {
            let mut stdout = std::io::stdout().lock();
            if let Err(e) = stdout.write_all(out.as_bytes()).and_then(|_| stdout.flush()) {
                return write_failed(&format!("stdout: {e}"));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            let mut stderr = std::io::stderr().lock();
            for d in &e.details {
                let _ = writeln!(stderr, "{d}");
            }
            for m in &e.messages {
                let _ = writeln!(stderr, "error: {m}");
            }
            ExitCode::from(1)
        }
    }
}

/// Reports a failed write on stdout (a full disk, a closed pipe): an
/// `error:` line on stderr and exit status 1.
fn write_failed(what: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "error: cannot write to {what}");
    ExitCode::from(1)
}

/// Reads and parses a module file; its functions may have dimension
/// variables and calls.
pub fn load_program(path: &std::path::Path) -> Result<saddle::ir::Program, CliError> {
    let bytes = input::read_bounded(path).map_err(CliError::msg)?;
    Ok(saddle::ir::parse_program_bytes(&path.display().to_string(), &bytes)?)
}

/// The function `name` (default: the first) of `program`, for arguments
/// of the shapes `shapes` gives: its dimension variables bound from them
/// (`shapes` is only called for a generic function), then verified.
pub fn bind(
    program: &saddle::ir::Program,
    name: Option<&str>,
    shapes: impl FnOnce() -> Result<Vec<Vec<usize>>, CliError>,
) -> Result<saddle::ir::Func, CliError> {
    let sig = program.signature(name)?;
    let f = if sig.is_generic() {
        let types: Vec<saddle::ir::TensorType> = shapes()?
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                let dtype = sig.params.get(i).map_or(saddle::ir::DType::F64, |p| p.dtype);
                saddle::ir::TensorType::new(dtype, s)
            })
            .collect();
        program.instantiate(name, &types)?
    } else {
        program.func(name, "")?.clone()
    };
    saddle::ir::verify(&f).map_err(|e| CliError::msg(e.to_string()))?;
    Ok(f)
}

impl From<saddle::ir::ProgramError> for CliError {
    fn from(e: saddle::ir::ProgramError) -> CliError {
        match e {
            saddle::ir::ProgramError::Parse(p) => CliError::from(p),
            other => CliError::msg(other.to_string()),
        }
    }
}
