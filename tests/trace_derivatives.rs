//! Derivatives of the tracing frontend's composite methods are exact,
//! including at their kinks, and finite for large arguments.

use ndarray::arr1;
use saddle::ir::{Array, TensorType, trace};

fn grad_at(f: &saddle::ir::Func, x: &[f64]) -> Vec<f64> {
    let g = saddle::ad::grad(f, 0).unwrap();
    let out = saddle::runtime::reference::eval(&g, &[Array::from(arr1(x).into_dyn())]).unwrap();
    out[0].to_f64_vec()
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[test]
fn softplus_gradient_is_the_logistic_everywhere() {
    let f = trace("softplus", &[TensorType::f64([7])], |x| vec![x[0].softplus().sum_all()]).unwrap();
    let xs = [0.0, -0.0, 1e-300, -3.0, 5.0, 800.0, -800.0];
    for (g, &x) in grad_at(&f, &xs).iter().zip(&xs) {
        assert!((g - sigmoid(x)).abs() <= 1e-15, "softplus'({x}) = {g}, expected {}", sigmoid(x));
    }
    let values = saddle::runtime::reference::eval(
        &f,
        &[Array::from(arr1(&[0.0, 0.0, 0.0, 0.0, 0.0, 800.0, -800.0]).into_dyn())],
    )
    .unwrap()[0]
        .to_f64_vec()[0];
    assert!((values - (5.0 * 2f64.ln() + 800.0)).abs() < 1e-9, "{values}");
}

#[test]
fn log_sigmoid_gradient_is_one_minus_the_logistic() {
    let f = trace("ls", &[TensorType::f64([4])], |x| vec![x[0].log_sigmoid().sum_all()]).unwrap();
    let xs = [0.0, 2.0, -700.0, 700.0];
    for (g, &x) in grad_at(&f, &xs).iter().zip(&xs) {
        assert!((g - sigmoid(-x)).abs() <= 1e-15, "log_sigmoid'({x}) = {g}");
    }
}

#[test]
fn logsumexp_gradient_is_the_softmax() {
    let f = trace("lse", &[TensorType::f64([3])], |x| vec![x[0].logsumexp(&[0])]).unwrap();
    let xs = [1.0, 2.0, 1000.0];
    let g = grad_at(&f, &xs);
    assert!((g.iter().sum::<f64>() - 1.0).abs() < 1e-15, "{g:?}");
    assert!((g[2] - 1.0).abs() < 1e-15 && g[0] >= 0.0, "{g:?}");
}
