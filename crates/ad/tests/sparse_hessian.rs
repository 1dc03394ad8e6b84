//! Compressed Hessian evaluation: the structure of the built function (the
//! forward pass shared, not batched), the recovery map, and typed errors.

use saddle_ad::sparsity::{Error, Pattern, sparse_hessian, star_colouring};
use saddle_ir::{Func, TensorType, trace};

fn ar1(n: usize) -> Func {
    trace("ar1", &[TensorType::f64([n])], |x| {
        let x = x[0];
        let d = x.slice(&[1], &[n]) - 0.9 * x.slice(&[0], &[n - 1]);
        vec![-0.5 * (d * d).sum_all() + x.exp().sum_all()]
    })
    .unwrap()
}

/// The ops of `f` whose result has a leading axis of `c` (the batched
/// Hessian products), and the others.
fn split_ops(f: &Func, c: usize) -> (usize, usize) {
    let batched = f.iter_insts().filter(|&(v, _)| f.ty(v).shape.first() == Some(&c) && f.ty(v).rank() == 2).count();
    (batched, f.iter_insts().count() - batched)
}

#[test]
fn the_forward_pass_is_computed_once() {
    let n = 50;
    let f = ar1(n);
    let h = sparse_hessian(&f, 0, &[None]).unwrap();
    assert_eq!(h.num_colours(), 3);
    let vg = saddle_ad::value_and_grad(&f, 0).unwrap();
    let (batched, unbatched) = split_ops(h.func(), 3);
    // Everything that is not a Hessian product is the value and gradient,
    // computed once (CSE merges the forward pass of the value, the
    // gradient and the HVPs): no more unbatched ops than value_and_grad has.
    assert!(unbatched <= vg.iter_insts().count(), "{} vs {}\n{}", unbatched, vg.iter_insts().count(), h.func());
    // The forward's exp appears once, unbatched.
    assert_eq!(h.func().op_counts().iter().find(|(name, _)| *name == "exp").map(|e| e.1), Some(1));
    // The Hessian products: linear in the seeds, a handful of ops each.
    assert!(batched > 0 && batched <= 2 * vg.iter_insts().count(), "{batched}\n{}", h.func());
    let types = h.func().result_types();
    assert_eq!(types, vec![TensorType::f64([]), TensorType::f64([n]), TensorType::f64([3, n])]);
    assert_eq!(h.func().param_types()[1], TensorType::f64([3, n]));
    assert_eq!(h.seeds().ty(), TensorType::f64([3, n]));
}

#[test]
fn matrix_parameters_are_flattened_row_major() {
    let f = trace("m", &[TensorType::f64([3, 4])], |x| vec![(x[0] * x[0].exp()).sum_all()]).unwrap();
    let h = sparse_hessian(&f, 0, &[None]).unwrap();
    assert_eq!(h.num_colours(), 1);
    assert_eq!(h.func().param_types()[1], TensorType::f64([1, 12]));
    assert_eq!(h.func().result_types()[1], TensorType::f64([3, 4]));
    assert_eq!(h.lower().nnz(), 12);
}

#[test]
fn the_lower_pattern_holds_the_whole_diagonal() {
    // Linear in x0, x2: no diagonal entries in the pattern, but the lower
    // form has them all.
    let f = trace("f", &[TensorType::f64([3])], |x| {
        let x = x[0];
        vec![(x.slice(&[0], &[1]) * x.slice(&[1], &[2]) + x.slice(&[2], &[3])).sum_all()]
    })
    .unwrap();
    let h = sparse_hessian(&f, 0, &[None]).unwrap();
    assert_eq!(h.pattern().entries().collect::<Vec<_>>(), vec![(1, 0), (0, 1)]);
    assert_eq!(h.lower().entries().collect::<Vec<_>>(), vec![(0, 0), (1, 0), (1, 1), (2, 2)]);
    let mut lower = vec![0.0; 4];
    let c = h.num_colours() * 3;
    assert!(matches!(h.recover(&vec![0.0; c + 1], &mut lower), Err(Error::Length { .. })));
    assert!(matches!(h.recover(&vec![0.0; c], &mut lower[..3]), Err(Error::Length { .. })));
    assert!(h.to_dense(&[1.0]).is_err());
}

#[test]
fn bad_input_is_a_typed_error() {
    let f = ar1(5);
    assert!(matches!(sparse_hessian(&f, 1, &[None]), Err(Error::Ad(saddle_ad::Error::NoSuchParam { .. }))));
    let v = trace("v", &[TensorType::f64([3])], |x| vec![x[0].exp()]).unwrap();
    assert!(matches!(sparse_hessian(&v, 0, &[]), Err(Error::Ad(saddle_ad::Error::NonScalarResult { .. }))));
    let e = Pattern::from_entries(2, 2, [(0, 2)]).unwrap_err();
    assert_eq!(e, Error::EntryOutOfRange { row: 0, col: 2, nrows: 2, ncols: 2 });
    assert_eq!(e.to_string(), "entry (0, 2) is outside a 2 x 2 pattern");
}

#[test]
fn colouring_is_deterministic_and_linear_in_the_bandwidth() {
    // A banded pattern of half-bandwidth 2: 5 colours at most for a star colouring.
    let n = 200;
    let p =
        Pattern::from_entries(n, n, (0..n).flat_map(|i| (i.saturating_sub(2)..(i + 3).min(n)).map(move |j| (i, j))))
            .unwrap();
    let c = star_colouring(&p).unwrap();
    assert_eq!(c, star_colouring(&p).unwrap());
    assert!(c.num_colours() <= 5, "{}", c.num_colours());
    saddle_ad::sparsity::check_star_colouring(&p, &c).unwrap();
}

#[test]
fn sources_are_distinct_slots_of_the_other_index_colour() {
    // Each lower entry (i, j) is read from slot (colour(j), i) or
    // (colour(i), j), and no two entries share a slot: the map that lets a
    // weighted sum of Hessian entries be written on the compressed product.
    let n = 9;
    let h = sparse_hessian(&ar1(n), 0, &[None]).unwrap();
    let src = h.sources();
    assert_eq!(src.len(), h.lower().nnz());
    let col = h.colouring().colours();
    for ((i, j), &s) in h.lower().entries().zip(src) {
        let a = col[j] as usize * n + i;
        let b = col[i] as usize * n + j;
        assert!(s == a || s == b, "entry ({i}, {j}) read from slot {s}");
    }
    let mut seen = src.to_vec();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), src.len());
    assert!(seen.iter().all(|&s| s < h.num_colours() * n));
}
