//! The one place that talks to the runtime: a function compiled once and
//! run many times.

use saddle_ir::{Array, Func};

use crate::LaplaceError;

/// A compiled function.
pub(crate) struct Compiled {
    exe: saddle_runtime::Executable,
}

impl Compiled {
    pub(crate) fn new(f: Func) -> Result<Compiled, LaplaceError> {
        let exe = saddle_runtime::compile(&f)
            .map_err(|e| LaplaceError::Build { stage: "compilation", message: e.to_string() })?;
        Ok(Compiled { exe })
    }

    pub(crate) fn run(&mut self, args: &[Array]) -> Result<Vec<Array>, LaplaceError> {
        self.exe.run(args).map_err(|e| LaplaceError::Eval(e.to_string()))
    }
}
