//! Times a sparse Laplace fit of a Poisson AR(1) model (d = 10⁶ unless an
//! argument says otherwise) and the share of it spent on the sparse
//! Hessian's set-up: detecting and colouring its pattern and building the
//! compressed function.

use ndarray::{ArrayD, IxDyn};
use saddle_ir::{Array, TensorType, trace};
use saddle_laplace::{IrDensity, Options, laplace};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let d: usize = std::env::args().nth(1).map_or(Ok(1_000_000), |s| s.parse())?;
    let f = trace("ar1_poisson", &[TensorType::f64([d]), TensorType::f64([d])], |a| {
        let (x, y) = (a[0], a[1]);
        let e = x.slice(&[1], &[d]) - 0.7 * x.slice(&[0], &[d - 1]);
        let x0 = x.slice(&[0], &[1]);
        vec![(y * x - x.exp()).sum_all() - 0.5 * (e * e).sum_all() - 0.255 * (x0 * x0).sum_all()]
    })?;
    let y: Vec<f64> = (0..d).map(|i| (i % 4) as f64).collect();
    let y = Array::F64(ArrayD::from_shape_vec(IxDyn(&[d]), y)?);
    let t = Instant::now();
    let mut density = IrDensity::new(&f, vec![y])?;
    let fit = laplace(&mut density, &vec![0.0; d], &Options::default())?;
    let total = t.elapsed().as_secs_f64();
    let r = density.report();
    let s = r.sparsity.as_secs_f64();
    println!(
        "d {d}: fit {total:.3} s, {} iterations; sparse set-up {s:.3} s ({:.1} %); pattern (nnz, colours) {:?}",
        fit.iterations,
        100.0 * s / total,
        r.sparse_hessian
    );
    println!("{:?}", fit.timings);
    Ok(())
}
