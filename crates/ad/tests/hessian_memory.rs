//! The Hessian of a logistic-regression log density (forward over reverse:
//! the JVP of the gradient, batched over the identity basis) never holds a
//! value of more than N·D elements: memory stays O(N·D), never O(N·D²).

use saddle_ir::TensorType;
use saddle_ir::trace::trace_with;

#[test]
fn logistic_regression_hessian_memory_is_linear_in_n_times_d() {
    let (n, d) = (500, 12);
    let f = trace_with("logreg", &[TensorType::f64([d]), TensorType::f64([n, d]), TensorType::f64([n])], |_, p| {
        let (beta, x, y) = (p[0], p[1], p[2]);
        let z = x.matmul(beta);
        let loglik = (y * z - (1.0 + z.exp()).log()).sum_all();
        vec![loglik - 0.5 * (beta * beta).sum_all()]
    })
    .unwrap();
    let h = saddle_ad::hessian(&f, 0).unwrap();
    saddle_ir::verify(&h).unwrap();
    assert_eq!(h.result_types(), vec![TensorType::f64([d, d])]);
    let largest = (0..h.num_values()).map(|i| h.ty(saddle_ir::Value::from_index(i)).num_elements()).max().unwrap();
    assert!(largest <= n * d, "a value of {largest} elements (N·D = {}, N·D² = {})", n * d, n * d * d);
    // The same holds for the Hessian-vector product, which holds O(N).
    let hv = saddle_ad::hvp(&f, 0).unwrap();
    let largest = (0..hv.num_values()).map(|i| hv.ty(saddle_ir::Value::from_index(i)).num_elements()).max().unwrap();
    assert!(largest <= n * d, "{largest}");
}
