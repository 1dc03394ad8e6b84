//! The one place that talks to the runtime: a function compiled once and
//! run many times on its allocation-free path.

use saddle_ir::{Array, Func};
use saddle_runtime::{Executable, Workspace};

use crate::LaplaceError;

/// A compiled function with its workspace and output buffers.
pub(crate) struct Compiled {
    exe: Executable,
    ws: Workspace,
    outputs: Vec<Array>,
}

impl Compiled {
    pub(crate) fn new(f: Func) -> Result<Compiled, LaplaceError> {
        // The density decides itself whether to simplify (see
        // `BuildOptions::simplify`); the runtime only cleans up.
        let opts = saddle_runtime::CompileOptions { simplify: false, ..Default::default() };
        let exe = saddle_runtime::compile_with(&f, &opts)
            .map_err(|e| LaplaceError::Build { stage: "compilation", message: e.to_string() })?;
        let ws = exe.workspace();
        let outputs = exe.new_outputs();
        Ok(Compiled { exe, ws, outputs })
    }

    /// The results of the last run.
    pub(crate) fn outputs(&self) -> &[Array] {
        &self.outputs
    }

    /// Runs on `args`; the results stay valid until the next run.
    pub(crate) fn run(&mut self, args: &[Array]) -> Result<&[Array], LaplaceError> {
        self.exe.run_into(&mut self.ws, args, &mut self.outputs).map_err(|e| LaplaceError::Eval(e.to_string()))?;
        Ok(&self.outputs)
    }
}
