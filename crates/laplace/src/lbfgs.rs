//! Quasi-Newton methods with a strong Wolfe line search (Nocedal and
//! Wright, algorithms 6.1, 7.4, 3.5 and 3.6), on `F = -f`: L-BFGS, and
//! BFGS on a dense inverse Hessian started from the exact one, for a few
//! coordinates whose Hessian costs many gradients (the random-effects
//! marginal, whose Hessian is `2p` gradients by differences).

use std::collections::VecDeque;

use crate::curvature::Curvature;
use crate::density::{Counted, LogDensity};
use crate::linalg::{Cholesky, dot, norm_inf};
use crate::optimum::{Optimum, check_start};
use crate::{LaplaceError, Options};

const C1: f64 = 1e-4;
const C2: f64 = 0.9;
const MAX_LINE_EVALS: usize = 40;

/// A point on the search line: `x + α·dir`, with `F` and `∇F` there.
struct Trial {
    alpha: f64,
    value: f64,
    slope: f64,
    x: Vec<f64>,
    grad: Vec<f64>,
}

struct Line<'a, 'b, D: LogDensity + ?Sized> {
    f: &'a mut Counted<'b, D>,
    x0: &'a [f64],
    dir: &'a [f64],
    evals: usize,
}

impl<D: LogDensity + ?Sized> Line<'_, '_, D> {
    /// Evaluates `F` and its slope along the line at `alpha`.
    fn eval(&mut self, alpha: f64) -> Result<Trial, LaplaceError> {
        self.evals += 1;
        let x: Vec<f64> = self.x0.iter().zip(self.dir).map(|(a, b)| a + alpha * b).collect();
        let mut grad = vec![0.0; x.len()];
        let v = self.f.value_grad(&x, &mut grad)?;
        grad.iter_mut().for_each(|g| *g = -*g);
        let slope = dot(&grad, self.dir);
        let value = -v;
        let ok = value.is_finite() && slope.is_finite();
        Ok(Trial {
            alpha,
            value: if ok { value } else { f64::INFINITY },
            slope: if ok { slope } else { f64::NAN },
            x,
            grad,
        })
    }
}

/// Finds a step satisfying the strong Wolfe conditions, or `None`.
fn strong_wolfe<D: LogDensity + ?Sized>(
    line: &mut Line<'_, '_, D>,
    f0: f64,
    slope0: f64,
    alpha_init: f64,
) -> Result<Option<Trial>, LaplaceError> {
    let suff = |t: &Trial| sufficient(t, f0, slope0);
    let curv = |t: &Trial| t.slope.abs() <= -C2 * slope0;
    let mut prev = Trial { alpha: 0.0, value: f0, slope: slope0, x: vec![], grad: vec![] };
    let mut alpha = alpha_init;
    let mut first = true;
    while line.evals < MAX_LINE_EVALS {
        let t = line.eval(alpha)?;
        if !t.value.is_finite() {
            // Outside the density's domain: step back towards the last point.
            alpha = prev.alpha + 0.5 * (alpha - prev.alpha);
            continue;
        }
        if !suff(&t) || (!first && t.value >= prev.value) {
            return zoom(line, f0, slope0, prev, t);
        }
        if curv(&t) {
            return Ok(Some(t));
        }
        if t.slope >= 0.0 {
            return zoom(line, f0, slope0, t, prev);
        }
        first = false;
        alpha = 2.0 * t.alpha;
        prev = t;
    }
    Ok(None)
}

/// Sufficient decrease: Armijo's condition, or, where the change of `F` is
/// at the level of rounding, the approximate Wolfe condition of Hager and
/// Zhang on the slope, `φ'(α) ≤ (2c₁ − 1) φ'(0)`, which stays reliable when
/// values are all noise.
fn sufficient(t: &Trial, f0: f64, slope0: f64) -> bool {
    let noise = 64.0 * f64::EPSILON * f0.abs().max(1.0);
    t.value <= f0 + C1 * t.alpha * slope0 || (t.value <= f0 + noise && t.slope <= (2.0 * C1 - 1.0) * slope0)
}

/// The zoom phase between `lo` (satisfies sufficient decrease, lowest so
/// far) and `hi`.
fn zoom<D: LogDensity + ?Sized>(
    line: &mut Line<'_, '_, D>,
    f0: f64,
    slope0: f64,
    mut lo: Trial,
    mut hi: Trial,
) -> Result<Option<Trial>, LaplaceError> {
    while line.evals < MAX_LINE_EVALS {
        let (a, b) = (lo.alpha.min(hi.alpha), lo.alpha.max(hi.alpha));
        let width = b - a;
        if width <= f64::EPSILON * b.max(1e-300) {
            break;
        }
        let mut alpha = cubic_min(&lo, &hi).unwrap_or(0.5 * (a + b));
        if !(alpha > a + 0.1 * width && alpha < b - 0.1 * width) {
            alpha = 0.5 * (a + b);
        }
        let t = line.eval(alpha)?;
        if !t.value.is_finite() || !sufficient(&t, f0, slope0) || t.value > lo.value {
            hi = t;
        } else {
            if t.slope.abs() <= -C2 * slope0 {
                return Ok(Some(t));
            }
            if t.slope * (hi.alpha - lo.alpha) >= 0.0 {
                hi = lo;
            }
            lo = t;
        }
    }
    // The best point found satisfies sufficient decrease; take it if it moved.
    Ok((lo.alpha > 0.0).then_some(lo))
}

/// The minimiser of the cubic through two points with slopes.
fn cubic_min(p: &Trial, q: &Trial) -> Option<f64> {
    if !(q.value.is_finite() && q.slope.is_finite()) {
        return None;
    }
    let d1 = p.slope + q.slope - 3.0 * (p.value - q.value) / (p.alpha - q.alpha);
    let disc = d1 * d1 - p.slope * q.slope;
    if disc < 0.0 {
        return None;
    }
    let d2 = (q.alpha - p.alpha).signum() * disc.sqrt();
    let m = q.alpha - (q.alpha - p.alpha) * (q.slope + d2 - d1) / (q.slope - p.slope + 2.0 * d2);
    m.is_finite().then_some(m)
}

/// A quasi-Newton approximation of the inverse Hessian of `F`.
trait InverseHessian {
    /// The search direction `-H·g`.
    fn direction(&self, g: &[f64]) -> Vec<f64>;
    /// Takes in a step `s` and the change of gradient `y` along it.
    fn update(&mut self, s: Vec<f64>, y: Vec<f64>);
    /// Forgets the curvature learned; `false` if there was none to forget.
    fn reset(&mut self) -> bool;
    /// Whether the direction is scaled like a Newton step (a unit step
    /// is the first to try), rather than the gradient's own length.
    fn scaled(&self) -> bool;
}

/// L-BFGS's correction pairs `(s, y, 1/sᵀy)`, the newest last.
struct Pairs {
    memory: usize,
    pairs: VecDeque<(Vec<f64>, Vec<f64>, f64)>,
}

impl InverseHessian for Pairs {
    fn direction(&self, g: &[f64]) -> Vec<f64> {
        two_loop(&self.pairs, g)
    }

    fn update(&mut self, s: Vec<f64>, y: Vec<f64>) {
        let sy = dot(&s, &y);
        if sy > f64::EPSILON * dot(&y, &y) {
            if self.pairs.len() == self.memory {
                self.pairs.pop_front();
            }
            self.pairs.push_back((s, y, 1.0 / sy));
        }
    }

    fn reset(&mut self) -> bool {
        let had = !self.pairs.is_empty();
        self.pairs.clear();
        had
    }

    fn scaled(&self) -> bool {
        !self.pairs.is_empty()
    }
}

/// BFGS's dense inverse Hessian `H` (row-major `d × d`), or `None` for
/// the steepest-descent start.
struct Dense {
    d: usize,
    h: Option<Vec<f64>>,
}

impl InverseHessian for Dense {
    fn direction(&self, g: &[f64]) -> Vec<f64> {
        match &self.h {
            Some(h) => (0..self.d).map(|i| -dot(&h[i * self.d..(i + 1) * self.d], g)).collect(),
            None => g.iter().map(|v| -v).collect(),
        }
    }

    fn update(&mut self, s: Vec<f64>, y: Vec<f64>) {
        let (d, sy, yy) = (self.d, dot(&s, &y), dot(&y, &y));
        if !(sy > f64::EPSILON * yy) {
            return;
        }
        // The first pair scales the identity (Nocedal and Wright, 6.20).
        let h = self.h.get_or_insert_with(|| {
            let mut h = vec![0.0; d * d];
            (0..d).for_each(|i| h[i * d + i] = sy / yy);
            h
        });
        // H ← (I − ρsyᵀ) H (I − ρysᵀ) + ρssᵀ, with ρ = 1/sᵀy:
        // H − ρ(s·(Hy)ᵀ + (Hy)·sᵀ) + (ρ²·yᵀHy + ρ)·ssᵀ.
        let rho = 1.0 / sy;
        let hy: Vec<f64> = (0..d).map(|i| dot(&h[i * d..(i + 1) * d], &y)).collect();
        let c = rho * rho * dot(&y, &hy) + rho;
        for i in 0..d {
            for j in 0..d {
                h[i * d + j] += c * s[i] * s[j] - rho * (s[i] * hy[j] + hy[i] * s[j]);
            }
        }
    }

    fn reset(&mut self) -> bool {
        self.h.take().is_some()
    }

    fn scaled(&self) -> bool {
        self.h.is_some()
    }
}

/// L-BFGS keeping `memory` correction pairs.
pub(crate) fn lbfgs<D: LogDensity + ?Sized>(
    f: &mut Counted<'_, D>,
    init: &[f64],
    memory: usize,
    opts: &Options,
) -> Result<Optimum, LaplaceError> {
    let pairs = Pairs { memory, pairs: VecDeque::with_capacity(memory) };
    quasi_newton(f, init, None, pairs, opts)
}

/// BFGS started from the exact precision `−∇²f` at `init` (evaluated
/// through `curv`): its inverse is the first inverse Hessian, so the first
/// step is Newton's. A precision that is not finite, or not dense, starts
/// from steepest descent.
pub(crate) fn bfgs<D: LogDensity + ?Sized>(
    f: &mut Counted<'_, D>,
    init: &[f64],
    curv: &mut Curvature,
    opts: &Options,
) -> Result<Optimum, LaplaceError> {
    let d = f.dim();
    let (mut g, mut p) = (vec![0.0; d], vec![0.0; curv.hess_len()]);
    let v = curv.evaluate(f, init, &mut g, &mut p)?;
    check_start(v, &g)?;
    p.iter_mut().for_each(|x| *x = -*x);
    // Far from the mode the precision may be indefinite: shift it until it
    // factors, as a damped Newton step would.
    let h = if p.len() == d * d && p.iter().all(|v| v.is_finite()) {
        let scale = (0..d).map(|i| p[i * d + i].abs()).fold(0.0, f64::max).max(f64::MIN_POSITIVE.sqrt());
        std::iter::once(0.0)
            .chain((0..12).map(|k| scale * 1e-6 * 10f64.powi(k)))
            .find_map(|shift| Cholesky::new(&p, d, shift))
            .map(|c| c.inverse())
    } else {
        None
    };
    quasi_newton(f, init, Some((v, g)), Dense { d, h }, opts)
}

/// The quasi-Newton iteration from `init`, where `start` is `f` and `∇f`
/// when the caller has them already (checked finite).
fn quasi_newton<D: LogDensity + ?Sized>(
    f: &mut Counted<'_, D>,
    init: &[f64],
    start: Option<(f64, Vec<f64>)>,
    mut approx: impl InverseHessian,
    opts: &Options,
) -> Result<Optimum, LaplaceError> {
    let mut x = init.to_vec();
    let (v, mut g) = match start {
        Some(start) => start,
        None => {
            let mut g = vec![0.0; f.dim()];
            let v = f.value_grad(&x, &mut g)?;
            check_start(v, &g)?;
            (v, g)
        }
    };
    // Minimise F = -f, with gradient G = -∇f.
    let mut fx = -v;
    g.iter_mut().for_each(|x| *x = -*x);
    let mut iterations = 0;
    let finish = |x: Vec<f64>, fx: f64, mut g: Vec<f64>, iterations, converged| {
        g.iter_mut().for_each(|x| *x = -*x);
        Optimum { x, value: -fx, grad: g, hess: None, iterations, converged }
    };
    loop {
        let gnorm = norm_inf(&g);
        if gnorm <= opts.grad_tol {
            return Ok(finish(x, fx, g, iterations, true));
        }
        if iterations >= opts.max_iter {
            let mut ng = g.clone();
            ng.iter_mut().for_each(|x| *x = -*x);
            return Optimum::unconverged(x, -fx, ng, None, iterations, opts);
        }
        iterations += 1;
        let mut dir = approx.direction(&g);
        let mut slope = dot(&dir, &g);
        if !(slope < 0.0) {
            approx.reset();
            dir = g.iter().map(|v| -v).collect();
            slope = dot(&dir, &g);
        }
        let alpha0 = if approx.scaled() { 1.0 } else { (1.0 / norm_inf(&dir)).min(1.0) };
        let mut line = Line { f, x0: &x, dir: &dir, evals: 0 };
        let found = strong_wolfe(&mut line, fx, slope, alpha0)?;
        let Some(t) = found else {
            // Forget the curvature learned and try steepest descent.
            if approx.reset() {
                continue;
            }
            return Err(LaplaceError::Stalled {
                iterations,
                grad_norm: gnorm,
                reason: "the line search found no step that decreases the negative log density".into(),
                last: x,
            });
        };
        let s: Vec<f64> = t.x.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = t.grad.iter().zip(&g).map(|(a, b)| a - b).collect();
        let small_step = norm_inf(&s) <= opts.step_tol * (1.0 + norm_inf(&x));
        let small_decrease = fx - t.value <= opts.rel_value_tol * fx.abs().max(t.value.abs()).max(1.0);
        // Stopping on a small step or decrease is not convergence: the
        // end point is a mode only if the gradient test passes there (the
        // caller then checks it with Newton steps on the exact Hessian).
        if small_decrease && norm_inf(&t.grad) > gnorm {
            // `f` is flat to rounding between the two points: the one with
            // the smaller gradient is the better estimate of the mode.
            let ok = gnorm <= opts.grad_tol;
            return Ok(finish(x, fx, g, iterations, ok));
        }
        approx.update(s, y);
        x = t.x;
        g = t.grad;
        fx = t.value;
        if small_step || small_decrease {
            let ok = norm_inf(&g) <= opts.grad_tol;
            return Ok(finish(x, fx, g, iterations, ok));
        }
    }
}

/// `-H·g` for the L-BFGS inverse Hessian `H`.
fn two_loop(pairs: &VecDeque<(Vec<f64>, Vec<f64>, f64)>, g: &[f64]) -> Vec<f64> {
    let mut q = g.to_vec();
    let mut alphas = vec![0.0; pairs.len()];
    for (k, (s, y, rho)) in pairs.iter().enumerate().rev() {
        let a = rho * dot(s, &q);
        alphas[k] = a;
        q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= a * yi);
    }
    if let Some((s, y, _)) = pairs.back() {
        let gamma = dot(s, y) / dot(y, y);
        q.iter_mut().for_each(|v| *v *= gamma);
    }
    for (k, (s, y, rho)) in pairs.iter().enumerate() {
        let b = rho * dot(y, &q);
        q.iter_mut().zip(s).for_each(|(qi, si)| *qi += (alphas[k] - b) * si);
    }
    q.iter_mut().for_each(|v| *v = -*v);
    q
}
