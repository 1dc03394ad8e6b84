//! Indexing: `take` as `stablehlo.gather`, `segment_sum` as
//! `stablehlo.scatter` with an `add` body.
//!
//! In saddle an index out of range is a run-time error. XLA has no
//! run-time errors: its gather clamps an index into range and its scatter
//! drops an update whose index is out of range. A constant index (the usual
//! case: group labels of a hierarchical model) is checked here, and a bad
//! one is refused with [`Error::IndexOutOfRange`]; an index computed at run
//! time cannot be checked, and follows XLA's rule.

use saddle_ir::{Literal, Op, Scalar, TensorType, Value};

use crate::Error;
use crate::emit::{Emitter, dense_text, list};

/// Refuses a constant index tensor with an element outside `0..extent`.
fn check_constant_indices(em: &Emitter, op: &'static str, idx: Value, extent: usize) -> Result<(), Error> {
    let Some(inst) = em.f.inst(idx) else { return Ok(()) };
    let Op::Const(lit) = &inst.op else { return Ok(()) };
    let count = match lit {
        // A splat holds one element however large its shape.
        Literal::Splat { ty, .. } => ty.num_elements().min(1),
        Literal::Dense(a) => a.len(),
    };
    for position in 0..count {
        let index = match lit.get(position) {
            Some(Scalar::I32(i)) => i64::from(i),
            Some(Scalar::I64(i)) => i,
            // The verifier admits only integer indices.
            Some(Scalar::F32(_) | Scalar::F64(_) | Scalar::Bool(_)) | None => continue,
        };
        if index < 0 || index as u64 >= extent as u64 {
            return Err(Error::IndexOutOfRange {
                op,
                value: em.ir_names[em.current().index()].clone(),
                index,
                position,
                extent,
            });
        }
    }
    Ok(())
}

/// Defines the current value as a constant splat of `value`.
fn define_splat(em: &mut Emitter, value: Scalar, ty: &TensorType) {
    let text = dense_text(&Literal::Splat { ty: ty.clone(), value });
    let line = format!("{} = stablehlo.constant dense<{text}> : {}", em.out(), em.out_ty());
    em.line(line);
}

/// `take x, idx {axis}`: a gather of one-element slices along `axis`,
/// batched over the index tensor (its implicit trailing index vector).
pub(crate) fn take(em: &mut Emitter, x: Value, idx: Value, axis: usize) -> Result<(), Error> {
    let xt = em.f.ty(x).clone();
    let it = em.f.ty(idx).clone();
    let extent = xt.shape[axis];
    check_constant_indices(em, "take", idx, extent)?;
    if extent == 0 && it.num_elements() > 0 {
        return Err(Error::EmptyAxis { op: "take", value: em.ir_names[em.current().index()].clone() });
    }
    let rt = em.f.ty(em.current()).clone();
    if rt.num_elements() == 0 {
        define_splat(em, Scalar::zero(rt.dtype), &rt);
        return Ok(());
    }
    let k = it.rank();
    let offset_dims: Vec<usize> = (0..axis).chain(axis + k..xt.rank() - 1 + k).collect();
    let mut slice_sizes = xt.shape.clone();
    slice_sizes[axis] = 1;
    let sizes: Vec<String> = slice_sizes.iter().map(|s| s.to_string()).collect();
    let offsets =
        if offset_dims.is_empty() { String::new() } else { format!("offset_dims = {}, ", list(&offset_dims)) };
    let line = format!(
        "{} = \"stablehlo.gather\"({}, {}) <{{dimension_numbers = #stablehlo.gather<{offsets}collapsed_slice_dims = [{axis}], \
         start_index_map = [{axis}], index_vector_dim = {k}>, indices_are_sorted = false, slice_sizes = array<i64: {}>}}> \
         : ({}, {}) -> {}",
        em.out(),
        em.arg(x),
        em.arg(idx),
        sizes.join(", "),
        em.ty(x),
        em.ty(idx),
        em.out_ty()
    );
    em.line(line);
    Ok(())
}

/// `segment_sum data, idx {num_segments}`: a scatter-add of the rows of
/// `data` into zeros.
pub(crate) fn segment_sum(em: &mut Emitter, data: Value, idx: Value, num_segments: usize) -> Result<(), Error> {
    let dt = em.f.ty(data).clone();
    check_constant_indices(em, "segment_sum", idx, num_segments)?;
    if num_segments == 0 && dt.shape[0] > 0 {
        return Err(Error::EmptyAxis { op: "segment_sum", value: em.ir_names[em.current().index()].clone() });
    }
    let rt = em.f.ty(em.current()).clone();
    if rt.num_elements() == 0 || dt.shape[0] == 0 {
        define_splat(em, Scalar::zero(rt.dtype), &rt);
        return Ok(());
    }
    let zero = em.splat_const(Scalar::zero(rt.dtype), &rt);
    let scalar = crate::tensor_type(&TensorType::scalar(dt.dtype));
    let (acc, update, sum) = (em.helper(), em.helper(), em.helper());
    let window: Vec<usize> = (1..dt.rank()).collect();
    let windows = if window.is_empty() { String::new() } else { format!("update_window_dims = {}, ", list(&window)) };
    let text = format!(
        "{out} = \"stablehlo.scatter\"({zero}, {idx}, {data}) <{{indices_are_sorted = false, \
         scatter_dimension_numbers = #stablehlo.scatter<{windows}inserted_window_dims = [0], \
         scatter_dims_to_operand_dims = [0], index_vector_dim = 1>, unique_indices = false}}> ({{\n\
         ^bb0({acc}: {scalar}, {update}: {scalar}):\n  \
         {sum} = stablehlo.add {acc}, {update} : {scalar}\n  \
         stablehlo.return {sum} : {scalar}\n\
         }}) : ({rtt}, {itt}, {dtt}) -> {rtt}",
        out = em.out(),
        idx = em.arg(idx),
        data = em.arg(data),
        rtt = em.out_ty(),
        itt = em.ty(idx),
        dtt = em.ty(data),
    );
    em.line(text);
    Ok(())
}
