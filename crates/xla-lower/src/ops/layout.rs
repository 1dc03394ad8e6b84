//! Layout ops, constants and `iota`: each one StableHLO op, or nothing
//! where the op is the identity.

use saddle_ir::{Literal, Value};

use crate::Error;
use crate::emit::{Emitter, dense_text, list};

/// `const`: `stablehlo.constant dense<...>` with exact element text.
pub(crate) fn constant(em: &mut Emitter, lit: &Literal) -> Result<(), Error> {
    let line = format!("{} = stablehlo.constant dense<{}> : {}", em.out(), dense_text(lit), em.out_ty());
    em.line(line);
    Ok(())
}

/// `iota`.
pub(crate) fn iota(em: &mut Emitter, dim: usize) -> Result<(), Error> {
    let line = format!("{} = stablehlo.iota dim = {dim} : {}", em.out(), em.out_ty());
    em.line(line);
    Ok(())
}

/// `broadcast_in_dim` (the same attribute as StableHLO's).
pub(crate) fn broadcast_in_dim(em: &mut Emitter, x: Value, dims: &[usize]) -> Result<(), Error> {
    let line = format!(
        "{} = stablehlo.broadcast_in_dim {}, dims = {} : ({}) -> {}",
        em.out(),
        em.arg(x),
        list(dims),
        em.ty(x),
        em.out_ty()
    );
    em.line(line);
    Ok(())
}

/// `reshape` (row-major in both).
pub(crate) fn reshape(em: &mut Emitter, x: Value) -> Result<(), Error> {
    let line = format!("{} = stablehlo.reshape {} : ({}) -> {}", em.out(), em.arg(x), em.ty(x), em.out_ty());
    em.line(line);
    Ok(())
}

/// `transpose`: result axis `i` is operand axis `perm[i]` in both.
pub(crate) fn transpose(em: &mut Emitter, x: Value, perm: &[usize]) -> Result<(), Error> {
    let line = format!(
        "{} = stablehlo.transpose {}, dims = {} : ({}) -> {}",
        em.out(),
        em.arg(x),
        list(perm),
        em.ty(x),
        em.out_ty()
    );
    em.line(line);
    Ok(())
}

/// `slice`; nothing for a scalar.
pub(crate) fn slice(
    em: &mut Emitter,
    x: Value,
    start: &[usize],
    limit: &[usize],
    stride: &[usize],
) -> Result<(), Error> {
    if start.is_empty() {
        em.alias(x);
        return Ok(());
    }
    let ranges: Vec<String> = (0..start.len())
        .map(|a| {
            if stride[a] == 1 {
                format!("{}:{}", start[a], limit[a])
            } else {
                format!("{}:{}:{}", start[a], limit[a], stride[a])
            }
        })
        .collect();
    let line = format!(
        "{} = stablehlo.slice {} [{}] : ({}) -> {}",
        em.out(),
        em.arg(x),
        ranges.join(", "),
        em.ty(x),
        em.out_ty()
    );
    em.line(line);
    Ok(())
}

/// `pad` (the same attributes as StableHLO's); nothing for a scalar.
pub(crate) fn pad(
    em: &mut Emitter,
    x: Value,
    value: Value,
    low: &[usize],
    high: &[usize],
    interior: &[usize],
) -> Result<(), Error> {
    if low.is_empty() {
        em.alias(x);
        return Ok(());
    }
    let line = format!(
        "{} = stablehlo.pad {}, {}, low = {}, high = {}, interior = {} : ({}, {}) -> {}",
        em.out(),
        em.arg(x),
        em.arg(value),
        list(low),
        list(high),
        list(interior),
        em.ty(x),
        em.ty(value),
        em.out_ty()
    );
    em.line(line);
    Ok(())
}

/// `concatenate`; nothing for a single operand.
pub(crate) fn concatenate(em: &mut Emitter, xs: &[Value], axis: usize) -> Result<(), Error> {
    if let [x] = xs {
        em.alias(*x);
        return Ok(());
    }
    let args: Vec<String> = xs.iter().map(|&x| em.arg(x)).collect();
    let types: Vec<String> = xs.iter().map(|&x| em.ty(x)).collect();
    let line = format!(
        "{} = stablehlo.concatenate {}, dim = {axis} : ({}) -> {}",
        em.out(),
        args.join(", "),
        types.join(", "),
        em.out_ty()
    );
    em.line(line);
    Ok(())
}
