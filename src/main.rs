//! The `saddle` command line: IR inspection, evaluation, derivatives,
//! lowering, benchmarks and Laplace approximations.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
