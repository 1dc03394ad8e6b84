//! Laplace approximations of posteriors built on saddle (under construction).
