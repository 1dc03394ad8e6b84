//! Both linear-algebra backends agree (the OpenBLAS one exists with the
//! `openblas` feature; CI runs this file with it).

use saddle_runtime::backend::{Backend, Faer, Strided, TriangularSolve};

fn data(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_add(0x9e3779b97f4a7c15);
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        })
        .collect()
}

fn naive(a: Strided<f64>, b: Strided<f64>) -> Vec<f64> {
    let mut c = vec![0.0; a.rows * b.cols];
    for i in 0..a.rows {
        for j in 0..b.cols {
            for p in 0..a.cols {
                c[i * b.cols + j] += unsafe { a.at(i, p) * b.at(p, j) };
            }
        }
    }
    c
}

fn close(a: &[f64], b: &[f64], tol: f64) -> bool {
    a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tol * (1.0 + y.abs()))
}

fn check_backend<B: Backend>(backend: B) {
    // gemm on row-major, transposed and odd-strided views.
    for (m, k, n) in [(7, 5, 3), (64, 33, 17), (1, 40, 1), (90, 1, 2)] {
        let a = data(m * k, 1);
        let b = data(k * n, 2);
        let at = data(k * m, 3);
        let views = [
            (Strided::row_major(&a, m, k), Strided::row_major(&b, k, n)),
            (Strided::row_major(&at, k, m).t(), Strided::row_major(&b, k, n)),
        ];
        for (x, y) in views {
            let mut c = vec![f64::NAN; m * n];
            backend.gemm_f64(&mut c, x, y, false);
            assert!(close(&c, &naive(x, y), 1e-12), "{} gemm {m}x{k}x{n}", backend.name());
        }
    }
    // cholesky and the four triangular solves.
    let n = 60;
    let g = data(n * n, 4);
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            a[i * n + j] =
                (0..n).map(|k| g[i * n + k] * g[j * n + k]).sum::<f64>() + if i == j { n as f64 } else { 0.0 };
        }
    }
    let mut l = a.clone();
    assert!(backend.cholesky_f64(&mut l, n));
    let llt = naive(Strided::row_major(&l, n, n), Strided::row_major(&l, n, n).t());
    assert!(close(&llt, &a, 1e-12), "{} cholesky", backend.name());
    let mut bad = a.clone();
    bad[0] = -1.0;
    assert!(!backend.cholesky_f64(&mut bad, n));
    for left in [true, false] {
        for transpose in [false, true] {
            let (rows, cols) = if left { (n, 3) } else { (3, n) };
            let b = data(rows * cols, 5);
            let mut x = b.clone();
            let s = TriangularSolve { left, lower: true, transpose, unit: false };
            backend.trsm_f64(&l, n, &mut x, rows, cols, s);
            let lt: Vec<f64> = (0..n * n).map(|i| l[(i % n) * n + i / n]).collect();
            let m = if transpose { &lt } else { &l };
            let back = if left {
                naive(Strided::row_major(m, n, n), Strided::row_major(&x, rows, cols))
            } else {
                naive(Strided::row_major(&x, rows, cols), Strided::row_major(m, n, n))
            };
            assert!(close(&back, &b, 1e-10), "{} trsm left={left} transpose={transpose}", backend.name());
        }
    }
}

#[test]
fn faer_backend() {
    check_backend(Faer);
}

#[cfg(feature = "openblas")]
#[test]
fn openblas_backend() {
    check_backend(saddle_runtime::backend::OpenBlas);
}
