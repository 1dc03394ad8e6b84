//! Lowers saddle IR to StableHLO for XLA (under construction).
