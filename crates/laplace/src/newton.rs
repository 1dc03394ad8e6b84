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
//!
//! Convergence is a test of the point, never of the last step alone: `P`
//! factors and the undamped Newton step from the point is small (at most
//! `1e-6 · (1 + ‖x‖∞)` with a gradient that passes the test, absolute or
//! relative to `|f|`, or at most `step_tol · (1 + ‖x‖∞)` whatever the
//! gradient). A small gradient with a long Newton step is a density
//! still rising far out (no mode); steps that shrink to rounding with a
//! large gradient are a stall; both are errors.

use crate::curvature::Curvature;
use crate::density::{Counted, LogDensity};
use crate::linalg::{dot, norm_inf};
use crate::optimum::{Optimum, check_start};
use crate::{LaplaceError, Options};

/// Acceptance threshold on actual / predicted increase.
const ETA: f64 = 1e-4;
/// With a gradient that passes the test, the largest Newton step, relative
/// to `1 + ‖x‖∞`, that still counts as converged.
const STEP_CONV: f64 = 1e-6;
/// Attempts at one iteration before giving up.
const MAX_TRIES: usize = 100;

fn converged(x: Vec<f64>, value: f64, grad: Vec<f64>, hess: Vec<f64>, iterations: usize) -> Optimum {
    Optimum { x, value, grad, hess: Some(hess), iterations, converged: true }
}

/// Newton from `init`, with the Hessian held and factored as `curv`
/// holds it (dense or sparse).
pub(crate) fn newton<D: LogDensity + ?Sized>(
    f: &mut Counted<'_, D>,
    init: &[f64],
    opts: &Options,
    curv: &mut Curvature,
) -> Result<Optimum, LaplaceError> {
    let d = f.dim();
    let hl = curv.hess_len();
    let mut x = init.to_vec();
    let mut g = vec![0.0; d];
    let mut h = vec![0.0; hl];
    let mut fx = curv.evaluate(f, &x, &mut g, &mut h)?;
    check_start(fx, &g)?;
    let (mut xt, mut gt, mut ht) = (vec![0.0; d], vec![0.0; d], vec![0.0; hl]);
    let mut p = vec![0.0; d];
    let mut pp = vec![0.0; d];
    let mut lambda = 0.0_f64;
    let mut iterations = 0;
    let mut small_step = false;
    loop {
        let gnorm = norm_inf(&g);
        // The gradient test, absolute or relative to the size of f and x
        // (a log density summing 10⁶ terms has rounding noise far above
        // an absolute tolerance of 10⁻⁸).
        let gtest = gnorm <= opts.grad_tol || gnorm * norm_inf(&x).max(1.0) <= opts.grad_tol * fx.abs().max(1.0);
        curv.load(&h);
        // The undamped Newton step from here, relative to the size of x:
        // how far the quadratic model puts the mode.
        let step = curv.factor(0.0).then(|| {
            p.copy_from_slice(&g);
            curv.solve(&mut p);
            norm_inf(&p) / (1.0 + norm_inf(&x))
        });
        match step {
            // A stationary point where -∇²f cannot be factored: the caller
            // reports the Hessian (a saddle point, a flat direction).
            None if gtest => return Ok(converged(x, fx, g, h, iterations)),
            // The mode is where the model puts it: a small gradient and a
            // small step, or a step at the precision asked for.
            Some(s) if s <= opts.step_tol || (gtest && s <= STEP_CONV) => {
                return Ok(converged(x, fx, g, h, iterations));
            }
            // A small gradient alone is no mode: -exp(-t) has gradient
            // e^(-t) and Newton step 1 at every t.
            None | Some(_) => {}
        }
        if small_step {
            return Err(LaplaceError::Stalled {
                iterations,
                grad_norm: gnorm,
                reason: "the steps have shrunk to the rounding level of the point, but the gradient is not small"
                    .into(),
                last: x,
            });
        }
        if iterations >= opts.max_iter {
            if let (true, Some(s), true) = (gtest, step, opts.require_convergence) {
                return Err(LaplaceError::NoMode {
                    iterations,
                    grad_norm: gnorm,
                    step: s * (1.0 + norm_inf(&x)),
                    last: x,
                });
            }
            return Optimum::unconverged(x, fx, g, Some(h), iterations, opts);
        }
        iterations += 1;
        let scale = curv.diag_scale().max(f64::MIN_POSITIVE.sqrt());
        let lambda0 = 1e-8 * scale;
        let bump = |l: f64, factor: f64| if l < lambda0 { lambda0 } else { l * factor };
        let mut accepted = None;
        for _ in 0..MAX_TRIES {
            // The undamped factor of the convergence test serves the first
            // undamped try (the curvature keeps it).
            if !curv.factor(lambda) {
                lambda = bump(lambda, 10.0);
                continue;
            }
            p.copy_from_slice(&g);
            curv.solve(&mut p);
            curv.prec_times(&p, &mut pp);
            let predicted = dot(&g, &p) - 0.5 * dot(&p, &pp);
            for i in 0..d {
                xt[i] = x[i] + p[i];
            }
            let ft = curv.evaluate(f, &xt, &mut gt, &mut ht)?;
            let finite = ft.is_finite()
                && xt.iter().all(|v| v.is_finite())
                && gt.iter().all(|v| v.is_finite())
                && ht.iter().all(|v| v.is_finite());
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
