//! Folding of `dot_general` (`cholesky` and `triangular_solve` are not
//! folded).

use super::elementwise::binary;
use super::{Vals, for_each_index, strides};
use crate::op::{Binary, DotDims};
use crate::{Scalar, TensorType};

pub(super) fn dot_general(lhs: &Vals, rhs: &Vals, d: &DotDims, ty: &TensorType) -> Option<Vec<Scalar>> {
    let (ls, rs) = (strides(&lhs.ty.shape), strides(&rhs.ty.shape));
    let lfree = d.lhs_free(lhs.ty.rank());
    let rfree = d.rhs_free(rhs.ty.rank());
    let nb = d.lhs_batch.len();
    let contract_shape: Vec<usize> = d.lhs_contract.iter().map(|&a| lhs.ty.shape[a]).collect();
    let mut out = Vec::with_capacity(ty.num_elements());
    let mut failed = false;
    for_each_index(&ty.shape, |idx| {
        let mut lbase = 0;
        let mut rbase = 0;
        for (j, (&la, &ra)) in d.lhs_batch.iter().zip(&d.rhs_batch).enumerate() {
            lbase += idx[j] * ls[la];
            rbase += idx[j] * rs[ra];
        }
        for (j, &la) in lfree.iter().enumerate() {
            lbase += idx[nb + j] * ls[la];
        }
        for (j, &ra) in rfree.iter().enumerate() {
            rbase += idx[nb + lfree.len() + j] * rs[ra];
        }
        let mut acc = Scalar::zero(ty.dtype);
        let mut step = |c: &[usize]| {
            let lo: usize = lbase + d.lhs_contract.iter().zip(c).map(|(&a, &i)| i * ls[a]).sum::<usize>();
            let ro: usize = rbase + d.rhs_contract.iter().zip(c).map(|(&a, &i)| i * rs[a]).sum::<usize>();
            match binary(Binary::Mul, lhs.data[lo], rhs.data[ro]).and_then(|p| binary(Binary::Add, acc, p)) {
                Some(v) => acc = v,
                None => failed = true,
            }
        };
        if contract_shape.is_empty() {
            step(&[]);
        } else {
            for_each_index(&contract_shape, &mut step);
        }
        out.push(acc);
    });
    (!failed).then_some(out)
}
