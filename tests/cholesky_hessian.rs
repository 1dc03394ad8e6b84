//! The Hessian of a multivariate normal log density whose covariance is
//! built from the parameter (`cholesky`, then `triangular_solve`), compiled
//! with fusion and buffer reuse, against the reference evaluator and
//! against central differences of the gradient, at orders past one block
//! of the fused loops' elements (n² · n² > 512 from n = 5).

use ndarray::{ArrayD, IxDyn};
use saddle::ir::{Array, Func, parse_func};
use saddle::runtime::{CompileOptions, compile, compile_with, reference};

/// `log N(x | m, A·Aᵀ + 3·I)` over `A: f64[n,n]`, as in
/// `tests/cases/linalg_mvn.sir`.
fn mvn(n: usize) -> Func {
    let col = |f: &dyn Fn(usize) -> f64| (0..n).map(|i| format!("[{}]", f(i))).collect::<Vec<_>>().join(", ");
    let x = col(&|i| ((i * 7) % 5) as f64 * 0.4 - 0.9);
    let m = col(&|i| 0.1 * i as f64 - 0.3);
    let src = format!(
        "func @mvn(%a: f64[N,N]) -> f64[] {{
  %at: f64[N,N] = transpose %a {{perm = [1, 0]}}
  %aat: f64[N,N] = dot_general %a, %at {{lhs_contract = [1], rhs_contract = [0]}}
  %r: i64[N,N] = iota {{dim = 0}}
  %c: i64[N,N] = iota {{dim = 1}}
  %diag: bool[N,N] = eq %r, %c
  %three: f64[N,N] = const {{value = 3.0}}
  %zero: f64[N,N] = const {{value = 0.0}}
  %eye3: f64[N,N] = select %diag, %three, %zero
  %s: f64[N,N] = add %aat, %eye3
  %l: f64[N,N] = cholesky %s
  %x: f64[N,1] = const {{value = [{x}]}}
  %m: f64[N,1] = const {{value = [{m}]}}
  %d: f64[N,1] = sub %x, %m
  %z: f64[N,1] = triangular_solve %l, %d
  %zz: f64[] = dot_general %z, %z {{lhs_contract = [0, 1], rhs_contract = [0, 1]}}
  %nh: f64[] = const {{value = -0.5}}
  %q: f64[] = mul %nh, %zz
  %ld: f64[N,N] = select %diag, %l, %zero
  %dv: f64[N] = reduce_sum %ld {{axes = [1]}}
  %lg: f64[N] = log %dv
  %ldet: f64[] = reduce_sum %lg {{axes = [0]}}
  %lp: f64[] = sub %q, %ldet
  return %lp
}}"
    )
    .replace('N', &n.to_string());
    parse_func("mvn.sir", &src).unwrap()
}

fn point(n: usize) -> Array {
    let v: Vec<f64> = (0..n * n).map(|k| ((k * 37 % 17) as f64 - 8.0) / 10.0).collect();
    Array::F64(ArrayD::from_shape_vec(IxDyn(&[n, n]), v).unwrap())
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

#[test]
fn cholesky_density_hessians_match_the_reference_and_differences() {
    for n in [3, 9, 10, 11, 12] {
        let f = mvn(n);
        let a = point(n);
        let h = saddle::ad::hessian(&f, 0).unwrap();
        let want = reference::eval(&h, std::slice::from_ref(&a)).unwrap()[0].to_f64_vec();
        let scale = want.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        // Without the simplifier and with it (which re-associates sums).
        let plain = compile_with(&h, &CompileOptions { simplify: false, ..CompileOptions::default() }).unwrap();
        let got = plain.run(std::slice::from_ref(&a)).unwrap()[0].to_f64_vec();
        assert!(max_abs_diff(&got, &want) <= 1e-12 * scale, "n = {n}: {}", max_abs_diff(&got, &want));
        let got = compile(&h).unwrap().run(std::slice::from_ref(&a)).unwrap()[0].to_f64_vec();
        assert!(max_abs_diff(&got, &want) <= 1e-9 * scale, "n = {n}, simplified: {}", max_abs_diff(&got, &want));
        // Central differences of the compiled gradient, column by column.
        let g = compile(&saddle::ad::grad(&f, 0).unwrap()).unwrap();
        let base = a.to_f64_vec();
        let eps = 1e-5;
        let k = n * n;
        for j in 0..k {
            let at = |delta: f64| {
                let mut v = base.clone();
                v[j] += delta;
                let x = Array::F64(ArrayD::from_shape_vec(IxDyn(&[n, n]), v).unwrap());
                g.run(&[x]).unwrap()[0].to_f64_vec()
            };
            let (up, down) = (at(eps), at(-eps));
            for i in 0..k {
                let fd = (up[i] - down[i]) / (2.0 * eps);
                let h_ij = got[i * k + j];
                assert!((fd - h_ij).abs() <= 1e-5 * scale, "n = {n}: H[{i},{j}] = {h_ij}, differences {fd}");
            }
        }
    }
}
