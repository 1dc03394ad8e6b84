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
mod params;
mod random;

use std::borrow::Cow;
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
    let name = path.display().to_string();
    if let Some(e) = early_error(path, &name)? {
        return Err(e.into());
    }
    let bytes = input::read_bounded(path).map_err(CliError::msg)?;
    Ok(saddle::ir::parse_program_bytes(&name, &bytes)?)
}

/// The bytes of a large file read first: a file that cannot be text (a
/// gigabyte of NUL bytes, an image) is refused from them alone.
const PREFIX_BYTES: u64 = 1 << 20;

/// The parse error of a large file when its first [`PREFIX_BYTES`] already
/// show it: the parser stops at its first lexing error, so when that error
/// lies well inside the prefix, parsing the prefix gives the same errors as
/// parsing the whole file, without reading the rest.
fn early_error(path: &std::path::Path, name: &str) -> Result<Option<saddle::ir::ParseError>, CliError> {
    let Some(prefix) = input::read_prefix(path, PREFIX_BYTES).map_err(CliError::msg)? else {
        return Ok(None);
    };
    // Cut at a character boundary, well before the end of the prefix.
    let valid = match std::str::from_utf8(&prefix) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&prefix[..e.valid_up_to()]).unwrap_or_default(),
    };
    let mut lexer = saddle::ir::parse::lexer::Lexer::new(valid);
    let bad = loop {
        match lexer.next_token() {
            Ok(t) if t.tok == saddle::ir::parse::lexer::Tok::Eof => break None,
            Ok(_) => {}
            Err(e) => break Some(e),
        }
    };
    let margin = 4096;
    let stop = match (bad, prefix.len() != valid.len()) {
        (Some(e), _) if e.start + margin < valid.len() => (e.line, e.col),
        // Invalid UTF-8 well inside the prefix.
        (None, true) if valid.len() + margin < prefix.len() => {
            let cut = &prefix[..valid.len() + 1];
            return Ok(saddle::ir::parse_program_bytes(name, cut)
                .err()
                .filter(|e| e.diagnostics.last().is_some_and(|d| d.message.starts_with("invalid UTF-8"))));
        }
        _ => return Ok(None),
    };
    Ok(saddle::ir::parse_program(name, valid)
        .err()
        .filter(|e| e.diagnostics.last().is_some_and(|d| (d.line, d.col) == stop)))
}

/// The function `name` (default: the first) of `program`, for arguments
/// of the shapes `shapes` gives: its dimension variables bound from them
/// (`shapes` is only called for a generic function), then verified. An
/// owned program gives up its function (no copy); a borrowed one keeps it.
pub fn bind(
    program: Cow<'_, saddle::ir::Program>,
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
        match program {
            Cow::Owned(p) => p.into_func(name, "")?,
            Cow::Borrowed(p) => p.func(name, "")?.clone(),
        }
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
