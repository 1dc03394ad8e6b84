//! Automatic differentiation and batching as IR-to-IR transformations (under construction).
