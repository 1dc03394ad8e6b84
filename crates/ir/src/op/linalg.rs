//! Linear algebra: `dot_general`, `cholesky`, `triangular_solve`.

use super::check_axes;
use crate::{Shape, TensorType, TypeError};

/// The axis attributes of `dot_general`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DotDims {
    /// Contracting axes of the left operand.
    pub lhs_contract: Vec<usize>,
    /// Contracting axes of the right operand, paired with `lhs_contract`.
    pub rhs_contract: Vec<usize>,
    /// Batch axes of the left operand.
    pub lhs_batch: Vec<usize>,
    /// Batch axes of the right operand, paired with `lhs_batch`.
    pub rhs_batch: Vec<usize>,
}

impl DotDims {
    /// Plain matrix or vector product: contract the last axis of `lhs` with
    /// axis `rhs_axis` of `rhs`, no batch axes.
    pub fn contract(lhs_axis: usize, rhs_axis: usize) -> DotDims {
        DotDims { lhs_contract: vec![lhs_axis], rhs_contract: vec![rhs_axis], ..DotDims::default() }
    }

    /// Free (neither batch nor contracting) axes of an operand of `rank`.
    pub fn free_axes(rank: usize, contract: &[usize], batch: &[usize]) -> Vec<usize> {
        (0..rank).filter(|a| !contract.contains(a) && !batch.contains(a)).collect()
    }

    /// The left operand's free axes.
    pub fn lhs_free(&self, lhs_rank: usize) -> Vec<usize> {
        DotDims::free_axes(lhs_rank, &self.lhs_contract, &self.lhs_batch)
    }

    /// The right operand's free axes.
    pub fn rhs_free(&self, rhs_rank: usize) -> Vec<usize> {
        DotDims::free_axes(rhs_rank, &self.rhs_contract, &self.rhs_batch)
    }
}

/// Typing rule of `dot_general`.
pub fn dot_general(lhs: &TensorType, rhs: &TensorType, d: &DotDims) -> Result<TensorType, TypeError> {
    let op = "dot_general";
    if !lhs.dtype.is_numeric() {
        return Err(TypeError::DType {
            op,
            operand: 0,
            found: lhs.clone(),
            expected: "a numeric dtype (f32, f64, i32 or i64)",
        });
    }
    if lhs.dtype != rhs.dtype {
        return Err(TypeError::invalid_operand(op, 1, format!("operands have different dtypes: lhs {lhs}, rhs {rhs}")));
    }
    if d.lhs_contract.len() != d.rhs_contract.len() {
        return Err(TypeError::invalid(op, "lhs_contract and rhs_contract have different lengths"));
    }
    if d.lhs_batch.len() != d.rhs_batch.len() {
        return Err(TypeError::invalid(op, "lhs_batch and rhs_batch have different lengths"));
    }
    check_axes(op, "lhs contracting or batch", d.lhs_contract.iter().chain(&d.lhs_batch), lhs.rank())?;
    check_axes(op, "rhs contracting or batch", d.rhs_contract.iter().chain(&d.rhs_batch), rhs.rank())?;
    for (what, l, r) in [("contracting", &d.lhs_contract, &d.rhs_contract), ("batch", &d.lhs_batch, &d.rhs_batch)] {
        for (&a, &b) in l.iter().zip(r.iter()) {
            if lhs.shape[a] != rhs.shape[b] {
                return Err(TypeError::invalid_operand(
                    op,
                    1,
                    format!(
                        "{what} axes differ in extent: lhs {lhs} axis {a} has {}, rhs {rhs} axis {b} has {}",
                        lhs.shape[a], rhs.shape[b]
                    ),
                ));
            }
        }
    }
    let mut shape = Shape::new();
    for &a in &d.lhs_batch {
        shape.push(lhs.shape[a]);
    }
    for a in free(lhs.rank(), &d.lhs_contract, &d.lhs_batch) {
        shape.push(lhs.shape[a]);
    }
    for a in free(rhs.rank(), &d.rhs_contract, &d.rhs_batch) {
        shape.push(rhs.shape[a]);
    }
    Ok(TensorType { dtype: lhs.dtype, shape })
}

/// The free axes of an operand, without allocating.
fn free<'d>(rank: usize, contract: &'d [usize], batch: &'d [usize]) -> impl Iterator<Item = usize> + 'd {
    (0..rank).filter(move |a| !contract.contains(a) && !batch.contains(a))
}

fn check_square(op: &'static str, operand: usize, a: &TensorType) -> Result<usize, TypeError> {
    if !a.dtype.is_float() {
        return Err(TypeError::DType { op, operand, found: a.clone(), expected: "a float dtype (f32 or f64)" });
    }
    let r = a.rank();
    if r < 2 || a.shape[r - 1] != a.shape[r - 2] {
        return Err(TypeError::invalid_operand(
            op,
            operand,
            format!("operand {operand} must be [..., n, n], found {a}"),
        ));
    }
    Ok(a.shape[r - 1])
}

/// Typing rule of `cholesky`.
pub fn cholesky(a: &TensorType) -> Result<TensorType, TypeError> {
    check_square("cholesky", 0, a)?;
    Ok(a.clone())
}

/// Typing rule of `triangular_solve`.
pub fn triangular_solve(a: &TensorType, b: &TensorType, left_side: bool) -> Result<TensorType, TypeError> {
    let op = "triangular_solve";
    let n = check_square(op, 0, a)?;
    if b.dtype != a.dtype {
        return Err(TypeError::invalid_operand(op, 1, format!("operands have different dtypes: a {a}, b {b}")));
    }
    let r = a.rank();
    let expected_axis = if left_side { r - 2 } else { r - 1 };
    let fits = b.rank() == r && b.shape[..r - 2] == a.shape[..r - 2] && b.shape[expected_axis] == n;
    if !fits {
        let form = if left_side { "[..., n, k]" } else { "[..., k, n]" };
        return Err(TypeError::invalid_operand(
            op,
            1,
            format!("b must be {form} with the batch axes of a {a}, found {b}"),
        ));
    }
    Ok(b.clone())
}
