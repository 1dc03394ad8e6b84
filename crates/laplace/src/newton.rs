//! Newton's method with Levenberg–Marquardt damping.
//!
//! Maximises `f` by steps `p = (P + λI)⁻¹ ∇f`, with `P = -∇²f` the
//! precision. `λ = 0` is the pure Newton step; a step is accepted when the
//! actual increase is a fair fraction of the increase the quadratic model
//! predicted, and `λ` shrinks or grows with that ratio (the trust-region
//! logic of Moré's Levenberg–Marquardt). A rejected step makes `λ` at
//! least `4‖∇f‖ / ‖p‖`, which bounds the next step by a quarter of the
//! rejected one. A Cholesky factorisation that fails (an indefinite
//! `P + λI`) grows `λ` without evaluating `f`.

use crate::density::{Counted, LogDensity};
use crate::linalg::{Cholesky, dot, matvec, norm_inf};
use crate::optimum::{Optimum, check_start};
use crate::{LaplaceError, Options};

/// Acceptance threshold on actual / predicted increase.
const ETA: f64 = 1e-4;
/// Attempts at one iteration before giving up.
const MAX_TRIES: usize = 100;

pub(crate) fn newton<D: LogDensity + ?Sized>(
    f: &mut Counted<'_, D>,
    init: &[f64],
    opts: &Options,
) -> Result<Optimum, LaplaceError> {
    let d = f.dim();
    let mut x = init.to_vec();
    let mut g = vec![0.0; d];
    let mut h = vec![0.0; d * d];
    let mut fx = f.value_grad_hess(&x, &mut g, &mut h)?;
    check_start(fx, &g)?;
    let (mut xt, mut gt, mut ht) = (vec![0.0; d], vec![0.0; d], vec![0.0; d * d]);
    let mut p = vec![0.0; d];
    let mut pp = vec![0.0; d];
    let mut prec = vec![0.0; d * d];
    let mut lambda = 0.0_f64;
    let mut iterations = 0;
    let mut small_step = false;
    loop {
        let gnorm = norm_inf(&g);
        if gnorm <= opts.grad_tol || small_step {
            return Ok(Optimum { x, value: fx, grad: g, hess: Some(h), iterations, converged: true });
        }
        if iterations >= opts.max_iter {
            return Optimum::unconverged(x, fx, g, Some(h), iterations, opts);
        }
        iterations += 1;
        for (q, v) in prec.iter_mut().zip(&h) {
            *q = -v;
        }
        let scale = (0..d).map(|i| prec[i * d + i].abs()).fold(0.0_f64, f64::max).max(f64::MIN_POSITIVE.sqrt());
        let lambda0 = 1e-8 * scale;
        let bump = |l: f64, factor: f64| if l < lambda0 { lambda0 } else { l * factor };
        let mut accepted = None;
        for _ in 0..MAX_TRIES {
            let Some(chol) = Cholesky::new(&prec, d, lambda) else {
                lambda = bump(lambda, 10.0);
                continue;
            };
            p.copy_from_slice(&g);
            chol.solve(&mut p);
            matvec(&prec, &p, &mut pp);
            let predicted = dot(&g, &p) - 0.5 * dot(&p, &pp);
            for i in 0..d {
                xt[i] = x[i] + p[i];
            }
            let ft = f.value_grad_hess(&xt, &mut gt, &mut ht)?;
            let finite = ft.is_finite() && gt.iter().all(|v| v.is_finite()) && ht.iter().all(|v| v.is_finite());
            if finite {
                let actual = ft - fx;
                let rho = actual / predicted;
                let at_noise = predicted.abs() <= 64.0 * f64::EPSILON * fx.abs().max(1.0)
                    && actual >= -64.0 * f64::EPSILON * fx.abs().max(1.0)
                    && norm_inf(&gt) <= gnorm;
                if rho > ETA || at_noise {
                    accepted = Some((rho, ft));
                    break;
                }
            }
            // Shrink the trust region to a quarter of the rejected step at
            // once: for positive definite P, ‖(P + λI)⁻¹ ∇f‖ ≤ ‖∇f‖ / λ, so
            // this λ bounds the next step, where growing λ from 10⁻⁸·scale
            // by factors of 4 would spend an evaluation per factor.
            let shrink = 4.0 * dot(&g, &g).sqrt() / dot(&p, &p).sqrt();
            lambda = bump(lambda, 4.0);
            if shrink.is_finite() {
                lambda = lambda.max(shrink);
            }
            if !lambda.is_finite() {
                break;
            }
        }
        let Some((rho, ft_last)) = accepted else {
            return Err(LaplaceError::Stalled {
                iterations,
                grad_norm: gnorm,
                reason: "no step increases the log density, even with heavy damping".into(),
                last: x,
            });
        };
        small_step = lambda == 0.0 && norm_inf(&p) <= opts.step_tol * (1.0 + norm_inf(&x));
        if rho > 0.75 {
            lambda = if lambda / 8.0 < lambda0 { 0.0 } else { lambda / 8.0 };
        } else if rho < 0.25 {
            lambda = bump(lambda, 4.0);
        }
        std::mem::swap(&mut x, &mut xt);
        std::mem::swap(&mut g, &mut gt);
        std::mem::swap(&mut h, &mut ht);
        fx = ft_last;
    }
}
