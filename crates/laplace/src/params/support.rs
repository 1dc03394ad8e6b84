//! The supports of parameter blocks: the traced map `z ↦ θ` from the
//! unconstrained coordinates onto the support with its log-Jacobian, and the
//! numerical inverse `θ ↦ z`.

use std::f64::consts::LN_2;

use ndarray::Array2;
use saddle_ir::{DType, Tensor, TensorType, Tracer};

/// The support of a parameter block, and how it is reached from
/// unconstrained real coordinates `z`.
///
/// Each support is a bijection `T` from `ℝⁿ` onto the support (`n` is
/// [`Support::unconstrained_len`]) whose log-Jacobian is added to the log
/// density, so that `∫ exp f(θ) dθ = ∫ exp(f(T(z)) + log|J(z)|) dz`: the
/// evidence of the model is unchanged. For supports of lower dimension than
/// the block (simplex, correlation and covariance matrices) the Jacobian is
/// that of the map onto the free coordinates, named with each variant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Support {
    /// Any real numbers; `θ = z`.
    Real,
    /// `θ > 0`; `θ = exp(z)`.
    Positive,
    /// `θ > lower`; `θ = lower + exp(z)`.
    Lower(f64),
    /// `θ < upper`; `θ = upper − exp(z)`.
    Upper(f64),
    /// `lower < θ < upper`; `θ = lower + (upper − lower)·logistic(z)`.
    Interval {
        /// The lower bound.
        lower: f64,
        /// The upper bound.
        upper: f64,
    },
    /// A strictly increasing vector: `θ₀ = z₀`, `θₖ = θₖ₋₁ + exp(zₖ)`.
    Ordered,
    /// A strictly increasing positive vector: `θ₀ = exp(z₀)`,
    /// `θₖ = θₖ₋₁ + exp(zₖ)`.
    PositiveOrdered,
    /// A vector of `K ≥ 2` positive entries summing to 1, from `K − 1`
    /// coordinates: `θ = softmax(z₀, …, z_{K−2}, 0)`. The Jacobian is that
    /// of the first `K − 1` entries, `∏ₖ θₖ` over all `K`.
    Simplex,
    /// A vector of `K ≥ 2` entries of unit Euclidean norm, from `K`
    /// coordinates: `θ = z / |z|`. The radius `r = |z|` carries the density
    /// `r^{K−1}·exp(h(r))` with `h(r) = m·(log r − r²/2) − log C`,
    /// `m = 256K`, normalised (`C`) to integrate to one: the evidence over
    /// the sphere is unchanged, and the radial mode is at `r = 1`.
    UnitVector,
    /// The lower Cholesky factor `L` of a `K × K` correlation matrix, from
    /// `K(K − 1)/2` coordinates: canonical partial correlations
    /// `w = tanh(z)`, row by row, `L[i,j] = w[i,j]·sqrt(1 − Σ_{k<j} L[i,k]²)`
    /// and `L[i,i] = sqrt(1 − Σ_{k<i} L[i,k]²)`. The Jacobian is that of the
    /// entries below the diagonal.
    CholeskyCorr,
    /// A `K × K` symmetric positive-definite matrix `Σ = L Lᵀ`, from
    /// `K(K + 1)/2` coordinates: the lower triangle of `L` row by row, its
    /// diagonal through `exp`. The Jacobian is that of the lower triangle
    /// of `Σ` (diagonal included).
    CovMatrix,
}

/// The radial weight of [`Support::UnitVector`] per coordinate: `m = 256K`.
const UNIT_RADIAL: f64 = 256.0;

impl Support {
    /// The name used in specifications and reports (`"simplex"`,
    /// `"cholesky_corr"`, …; bounds are written `lower(0)`, `upper(1)`,
    /// `interval(0, 1)`).
    pub fn name(&self) -> String {
        match *self {
            Support::Real => "real".into(),
            Support::Positive => "positive".into(),
            Support::Lower(l) => format!("lower({l})"),
            Support::Upper(u) => format!("upper({u})"),
            Support::Interval { lower, upper } => format!("interval({lower}, {upper})"),
            Support::Ordered => "ordered".into(),
            Support::PositiveOrdered => "positive_ordered".into(),
            Support::Simplex => "simplex".into(),
            Support::UnitVector => "unit_vector".into(),
            Support::CholeskyCorr => "cholesky_corr".into(),
            Support::CovMatrix => "cov_matrix".into(),
        }
    }

    /// Whether the support acts on each coordinate alone (the unconstrained
    /// coordinates then match the constrained ones one to one).
    pub fn is_elementwise(&self) -> bool {
        matches!(
            self,
            Support::Real | Support::Positive | Support::Lower(_) | Support::Upper(_) | Support::Interval { .. }
        )
    }

    /// Checks that the support fits a block of `shape` and that its bounds
    /// are valid; the message says what is wrong.
    pub(crate) fn check(&self, shape: &[usize]) -> Result<(), String> {
        let finite = |x: f64, what: &str| {
            if x.is_finite() { Ok(()) } else { Err(format!("the {what} bound {x} is not finite")) }
        };
        match *self {
            Support::Real | Support::Positive => Ok(()),
            Support::Lower(l) => finite(l, "lower"),
            Support::Upper(u) => finite(u, "upper"),
            Support::Interval { lower, upper } => {
                finite(lower, "lower")?;
                finite(upper, "upper")?;
                if lower < upper { Ok(()) } else { Err(format!("the interval ({lower}, {upper}) needs lower < upper")) }
            }
            Support::Ordered | Support::PositiveOrdered => match shape {
                [k] if *k >= 1 => Ok(()),
                _ => Err(format!("{} needs a vector shape [K] with K ≥ 1, found {shape:?}", self.name())),
            },
            Support::Simplex | Support::UnitVector => match shape {
                [k] if *k >= 2 => Ok(()),
                _ => Err(format!("{} needs a vector shape [K] with K ≥ 2, found {shape:?}", self.name())),
            },
            Support::CholeskyCorr => match shape {
                [a, b] if a == b && *a >= 2 => Ok(()),
                _ => Err(format!("cholesky_corr needs a square shape [K, K] with K ≥ 2, found {shape:?}")),
            },
            Support::CovMatrix => match shape {
                [a, b] if a == b && *a >= 1 => Ok(()),
                _ => Err(format!("cov_matrix needs a square shape [K, K] with K ≥ 1, found {shape:?}")),
            },
        }
    }

    /// The number of unconstrained coordinates of a block of `shape` (with
    /// `size` = the product of `shape`): `size` for elementwise supports
    /// and ordered vectors, `K − 1` for a simplex, `K` for a unit vector,
    /// `K(K − 1)/2` for `cholesky_corr`, `K(K + 1)/2` for `cov_matrix`.
    pub fn unconstrained_len(&self, shape: &[usize]) -> usize {
        let size: usize = shape.iter().product();
        let k = shape.first().copied().unwrap_or(1);
        match self {
            Support::Simplex => k.saturating_sub(1),
            Support::CholeskyCorr => k * k.saturating_sub(1) / 2,
            Support::CovMatrix => k * (k + 1) / 2,
            _ => size,
        }
    }

    /// The traced map: `z` (a vector of [`Support::unconstrained_len`]
    /// entries) to the block's entries, flat in row-major order, and the
    /// log-Jacobian (a scalar; `None` when it is zero).
    pub(crate) fn forward<'t>(
        &self,
        tr: &'t Tracer,
        z: Tensor<'t>,
        shape: &[usize],
    ) -> (Tensor<'t>, Option<Tensor<'t>>) {
        let dtype = z.dtype();
        let n = z.shape().first().copied().unwrap_or(0);
        let k = shape.first().copied().unwrap_or(1);
        match *self {
            Support::Real => (z, None),
            Support::Positive => (z.exp(), Some(z.sum_all())),
            Support::Lower(l) => (z.exp() + l, Some(z.sum_all())),
            Support::Upper(u) => (u - z.exp(), Some(z.sum_all())),
            Support::Interval { lower, upper } => {
                let w = upper - lower;
                let theta = lower + w * z.logistic();
                let lj = (z.log_sigmoid() + (-z).log_sigmoid()).sum_all() + n as f64 * w.ln();
                (theta, Some(lj))
            }
            Support::Ordered | Support::PositiveOrdered => {
                let steps = if *self == Support::Ordered && n > 1 {
                    tr.concatenate(&[z.slice(&[0], &[1]), z.slice(&[1], &[n]).exp()], 0)
                } else if *self == Support::Ordered {
                    z
                } else {
                    z.exp()
                };
                let cumsum = constant(tr, Array2::from_shape_fn((n, n), |(i, j)| f64::from(u8::from(j <= i))), dtype);
                let lj = match (*self, n) {
                    (Support::Ordered, 1) => None,
                    (Support::Ordered, _) => Some(z.slice(&[1], &[n]).sum_all()),
                    _ => Some(z.sum_all()),
                };
                (cumsum.matmul(steps), lj)
            }
            Support::Simplex => {
                let full = tr.concatenate(&[z, tr.zeros(&TensorType::new(dtype, [1]))], 0);
                let log_theta = full - full.logsumexp(&[0]);
                (log_theta.exp(), Some(log_theta.sum_all()))
            }
            Support::UnitVector => {
                let r2 = (z * z).sum_all();
                let m = UNIT_RADIAL * k as f64;
                let lj = 0.5 * m * (r2.log() - r2) - unit_log_normaliser(k);
                (z / r2.sqrt(), Some(lj))
            }
            Support::CholeskyCorr => cholesky_corr(tr, z, k),
            Support::CovMatrix => {
                // z is the lower triangle of L row by row; the diagonal
                // goes through exp, and a constant 0/1 matrix scatters the
                // entries into the K×K layout.
                let mut diag = vec![false; n];
                let mut weight = vec![0.0; n];
                let mut scatter = Array2::zeros((k * k, n));
                let mut idx = 0;
                for i in 0..k {
                    for j in 0..=i {
                        if i == j {
                            diag[idx] = true;
                            weight[idx] = (k - i + 1) as f64;
                        }
                        scatter[[i * k + j, idx]] = 1.0;
                        idx += 1;
                    }
                }
                let entries = tr.constant(diag).select(z.exp(), z);
                let l = constant(tr, scatter, dtype).matmul(entries).reshape(&[k, k]);
                let sigma = l.matmul(l.t()).reshape(&[k * k]);
                let weight = constant(tr, ndarray::Array1::from(weight), dtype);
                (sigma, Some(weight.dot(z) + k as f64 * LN_2))
            }
        }
    }

    /// `z = T⁻¹(θ)` for the block's entries `theta` (row-major), or a
    /// message saying why `theta` is outside the support.
    pub(crate) fn inverse(&self, theta: &[f64], shape: &[usize]) -> Result<Vec<f64>, String> {
        if let Some((i, x)) = theta.iter().enumerate().find(|(_, x)| !x.is_finite()) {
            return Err(format!("entry {i} is {x}, not finite"));
        }
        let k = shape.first().copied().unwrap_or(1);
        let each = |ok: &dyn Fn(f64) -> bool, map: &dyn Fn(f64) -> f64, what: &str| {
            theta
                .iter()
                .enumerate()
                .map(|(i, &x)| if ok(x) { Ok(map(x)) } else { Err(format!("entry {i} is {x}, not {what}")) })
                .collect::<Result<Vec<f64>, String>>()
        };
        match *self {
            Support::Real => Ok(theta.to_vec()),
            Support::Positive => each(&|x| x > 0.0, &f64::ln, "positive"),
            Support::Lower(l) => each(&|x| x > l, &|x| (x - l).ln(), &format!("above {l}")),
            Support::Upper(u) => each(&|x| x < u, &|x| (u - x).ln(), &format!("below {u}")),
            Support::Interval { lower, upper } => each(
                &|x| x > lower && x < upper,
                &|x| {
                    let s = (x - lower) / (upper - lower);
                    s.ln() - (-s).ln_1p()
                },
                &format!("inside ({lower}, {upper})"),
            ),
            Support::Ordered | Support::PositiveOrdered => {
                if *self == Support::PositiveOrdered && !(theta[0] > 0.0) {
                    return Err(format!("entry 0 is {}, not positive", theta[0]));
                }
                let mut z = Vec::with_capacity(k);
                z.push(if *self == Support::Ordered { theta[0] } else { theta[0].ln() });
                for i in 1..theta.len() {
                    let step = theta[i] - theta[i - 1];
                    if !(step > 0.0) {
                        return Err(format!(
                            "entries {} and {i} ({} and {}) are not increasing",
                            i - 1,
                            theta[i - 1],
                            theta[i]
                        ));
                    }
                    z.push(step.ln());
                }
                Ok(z)
            }
            Support::Simplex => {
                if let Some((i, x)) = theta.iter().enumerate().find(|(_, x)| !(**x > 0.0)) {
                    return Err(format!("entry {i} is {x}, not positive"));
                }
                let sum: f64 = theta.iter().sum();
                if (sum - 1.0).abs() > 1e-8 {
                    return Err(format!("the entries sum to {sum}, not 1"));
                }
                let last = theta[k - 1].ln();
                Ok(theta[..k - 1].iter().map(|x| x.ln() - last).collect())
            }
            Support::UnitVector => {
                let norm = theta.iter().map(|x| x * x).sum::<f64>().sqrt();
                if (norm - 1.0).abs() > 1e-8 {
                    return Err(format!("the norm is {norm}, not 1"));
                }
                Ok(theta.iter().map(|x| x / norm).collect())
            }
            Support::CholeskyCorr => {
                lower_triangular(theta, k)?;
                let mut z = Vec::with_capacity(k * (k - 1) / 2);
                for i in 0..k {
                    let row = &theta[i * k..i * k + i + 1];
                    let norm2: f64 = row.iter().map(|x| x * x).sum();
                    if (norm2 - 1.0).abs() > 1e-8 || !(row[i] > 0.0) {
                        return Err(format!(
                            "row {i} has norm {} and diagonal {}: a Cholesky factor of a correlation matrix has rows of unit norm and a positive diagonal",
                            norm2.sqrt(),
                            row[i]
                        ));
                    }
                    let mut rem: f64 = 1.0;
                    for &x in &row[..i] {
                        let w = x / rem.sqrt();
                        z.push(0.5 * ((1.0 + w) / (1.0 - w)).ln());
                        rem -= x * x;
                    }
                }
                Ok(z)
            }
            Support::CovMatrix => {
                let scale = theta.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
                for i in 0..k {
                    for j in 0..i {
                        let (a, b) = (theta[i * k + j], theta[j * k + i]);
                        if (a - b).abs() > 1e-8 * scale.max(1.0) {
                            return Err(format!("entries [{i},{j}] and [{j},{i}] ({a} and {b}) differ: not symmetric"));
                        }
                    }
                }
                let mut l = vec![0.0; k * k];
                for i in 0..k {
                    for j in 0..=i {
                        let s = theta[i * k + j] - (0..j).map(|p| l[i * k + p] * l[j * k + p]).sum::<f64>();
                        if i == j {
                            if !(s > 0.0) {
                                return Err("the matrix is not positive definite".into());
                            }
                            l[i * k + i] = s.sqrt();
                        } else {
                            l[i * k + j] = s / l[j * k + j];
                        }
                    }
                }
                let mut z = Vec::with_capacity(k * (k + 1) / 2);
                for i in 0..k {
                    for j in 0..=i {
                        z.push(if i == j { l[i * k + i].ln() } else { l[i * k + j] });
                    }
                }
                Ok(z)
            }
        }
    }
}

/// `log C` of [`Support::UnitVector`]: `C = ∫₀^∞ r^{m+K−1} exp(−m r²/2) dr
/// = ½·(2/m)^{(m+K)/2}·Γ((m+K)/2)` with `m = 256K`.
pub(crate) fn unit_log_normaliser(k: usize) -> f64 {
    let m = UNIT_RADIAL * k as f64;
    let p = m + k as f64;
    -LN_2 + 0.5 * p * (2.0 / m).ln() + ln_gamma(0.5 * p)
}

/// `log Γ(x)` for `x > 0` (Lanczos, g = 7, n = 9; relative error ~1e-15).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let a = G[1..].iter().enumerate().fold(G[0], |a, (i, g)| a + g / (x + i as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Checks that the `k × k` row-major `theta` is lower triangular.
fn lower_triangular(theta: &[f64], k: usize) -> Result<(), String> {
    for i in 0..k {
        for j in i + 1..k {
            if theta[i * k + j] != 0.0 {
                return Err(format!("entry [{i},{j}] is {}: the matrix is not lower triangular", theta[i * k + j]));
            }
        }
    }
    Ok(())
}

/// A constant matrix or vector in `dtype`.
fn constant<'t, D: ndarray::Dimension>(tr: &'t Tracer, a: ndarray::Array<f64, D>, dtype: DType) -> Tensor<'t> {
    let c = tr.constant(a);
    if dtype == DType::F64 { c } else { c.convert(dtype) }
}

/// [`Support::CholeskyCorr`]: with `w = tanh z` and `ρ = ∏ (1 − w²)` over
/// the row so far, `L[i,j] = w·sqrt(ρ)` and `L[i,i] = sqrt(ρ)`; `log(1 − w²)`
/// is `2·(log 2 − z − softplus(−2z))`, exact for large `|z|`.
fn cholesky_corr<'t>(tr: &'t Tracer, z: Tensor<'t>, k: usize) -> (Tensor<'t>, Option<Tensor<'t>>) {
    let dtype = z.dtype();
    let w = z.tanh();
    let log1m_w2 = 2.0 * (LN_2 - z - (-2.0 * z).softplus());
    let one = tr.ones(&TensorType::new(dtype, [1]));
    let zero = tr.zeros(&TensorType::new(dtype, [1]));
    let mut pieces = Vec::with_capacity(k * k);
    let mut half_logs = Vec::new();
    let mut idx = 0;
    for i in 0..k {
        // log ρ before entry j of row i.
        let mut log_rho: Option<Tensor<'t>> = None;
        for _ in 0..i {
            let wij = w.slice(&[idx], &[idx + 1]);
            let lij = match log_rho {
                None => wij,
                Some(lr) => {
                    half_logs.push(lr);
                    wij * (0.5 * lr).exp()
                }
            };
            pieces.push(lij);
            let step = log1m_w2.slice(&[idx], &[idx + 1]);
            log_rho = Some(match log_rho {
                None => step,
                Some(lr) => lr + step,
            });
            idx += 1;
        }
        pieces.push(match log_rho {
            None => one,
            Some(lr) => (0.5 * lr).exp(),
        });
        pieces.extend(std::iter::repeat_n(zero, k - 1 - i));
    }
    let mut lj = log1m_w2.sum_all();
    if !half_logs.is_empty() {
        lj = lj + 0.5 * tr.concatenate(&half_logs, 0).sum_all();
    }
    (tr.concatenate(&pieces, 0), Some(lj))
}
