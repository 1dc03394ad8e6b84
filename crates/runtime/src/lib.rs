//! Compiles saddle IR to an execution plan and runs it on CPU kernels (under construction).
