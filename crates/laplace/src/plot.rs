//! The figure: contours of the log density against the Laplace
//! approximation, and each marginal (the true one by numerical integration
//! on the grid) against the Gaussian one. SVG through plotters, with no
//! font or system dependency.

use plotters::prelude::*;

use crate::transform::{Target, Transformed};
use crate::{Laplace, LaplaceError, LogDensity};

/// Options of [`figure`].
#[derive(Clone, Debug, PartialEq)]
pub struct PlotOptions {
    /// The pair of coordinates shown (for `d > 2` the figure is a slice
    /// through the mode; ignored for `d = 1`).
    pub dims: (usize, usize),
    /// Grid points per axis.
    pub grid: usize,
    /// Half-width of the plotted box in marginal standard deviations.
    pub half_width: f64,
    /// A title (default: none).
    pub title: Option<String>,
    /// Axis labels, one per coordinate of the fit (default: empty, for
    /// `θ0`, `log θ1`, … by the fit's constraints).
    pub labels: Vec<String>,
}

impl Default for PlotOptions {
    fn default() -> Self {
        PlotOptions { dims: (0, 1), grid: 141, half_width: 4.5, title: None, labels: Vec::new() }
    }
}

/// Relative log-density levels of the contours: the 1, 2 and 3 standard
/// deviation ellipses of the Gaussian.
const LEVELS: [f64; 3] = [-0.5, -2.0, -4.5];

struct Panel {
    /// Grid coordinates along each plotted axis.
    xs: Vec<f64>,
    ys: Vec<f64>,
    /// Log density relative to its value at the mode, row `a` = xs[a].
    truth: Vec<f64>,
    /// The mode in the plane and the Cholesky factor `[l11, l21, l22]` of
    /// the Gaussian's covariance in the plane.
    centre: (f64, f64),
    cov_factor: [f64; 3],
}

/// Draws the figure for `fit` of `density` as SVG text.
///
/// `density` is the log density that was approximated (in the constrained
/// space when the fit has constraints: the figure is drawn in the space
/// the Gaussian lives in, the unconstrained one).
pub fn figure<D: LogDensity + ?Sized>(
    fit: &Laplace,
    density: &mut D,
    opts: &PlotOptions,
) -> Result<String, LaplaceError> {
    let d = fit.dim();
    if density.dim() != d {
        return Err(LaplaceError::InitDimension { expected: density.dim(), found: d });
    }
    let (i, j) = opts.dims;
    if d >= 2 && (i >= d || j >= d || i == j) {
        return Err(LaplaceError::Options {
            name: "dims",
            message: format!("need two different coordinates below {d}, found {i},{j}"),
        });
    }
    if opts.grid < 3 || opts.grid > 2001 || !(opts.half_width > 0.0 && opts.half_width.is_finite()) {
        return Err(LaplaceError::Options {
            name: "grid",
            message: "need 3 to 2001 grid points and a positive finite half-width".into(),
        });
    }
    let jacobian = fit.target == Some(Target::UnconstrainedPosterior);
    let mut f = Transformed::new(density, &fit.constraints, jacobian);
    let f0 = fit.log_density_at_mode;
    let mut eval = |x: &[f64]| -> Result<f64, LaplaceError> {
        let v = f.value(x)?;
        Ok(if v.is_nan() { f64::NEG_INFINITY } else { v - f0 })
    };
    let axis = |k: usize| -> Vec<f64> {
        let (m, s) = (fit.mode[k], fit.std[k]);
        let n = opts.grid;
        (0..n).map(|a| m - opts.half_width * s + 2.0 * opts.half_width * s * a as f64 / (n - 1) as f64).collect()
    };
    let mut svg = String::new();
    if d == 1 {
        let xs = axis(0);
        let mut truth = Vec::with_capacity(xs.len());
        for &x in &xs {
            truth.push(eval(&[x])?);
        }
        let gauss = fit.marginal(0).expect("d = 1");
        {
            let root = SVGBackend::with_string(&mut svg, (560, 420)).into_drawing_area();
            root.fill(&WHITE).map_err(draw_err)?;
            let root = titled(&root, opts.title.as_deref())?;
            marginal(&root, &xs, &truth_marginal_1d(&xs, &truth), gauss, &label(fit, opts, 0))?;
            root.present().map_err(draw_err)?;
        }
        return Ok(svg);
    }
    let (xs, ys) = (axis(i), axis(j));
    let n = opts.grid;
    let mut truth = vec![0.0; n * n];
    // The Gaussian restricted to the plotted plane: its 2 × 2 precision block.
    let p = &fit.precision;
    let (pii, pij, pjj) = (p.get(i, i), p.get(i, j), p.get(j, j));
    let mut x = fit.mode.to_vec();
    for (a, &xa) in xs.iter().enumerate() {
        for (b, &yb) in ys.iter().enumerate() {
            x[i] = xa;
            x[j] = yb;
            truth[a * n + b] = eval(&x)?;
        }
    }
    // The Gaussian restricted to the plane has covariance [[pjj, -pij],
    // [-pij, pii]] / det; its marginals are, for d = 2, the Gaussian's own.
    let det = pii * pjj - pij * pij;
    let (cii, cij, cjj) = (pjj / det, -pij / det, pii / det);
    let l11 = cii.sqrt();
    let l21 = cij / l11;
    let l22 = (cjj - l21 * l21).max(0.0).sqrt();
    let centre = (fit.mode[i], fit.mode[j]);
    let panel = Panel { xs, ys, truth, centre, cov_factor: [l11, l21, l22] };
    let gi = crate::Normal { mean: fit.mode[i], std: cii.sqrt() };
    let gj = crate::Normal { mean: fit.mode[j], std: cjj.sqrt() };
    let (ti, tj) = truth_marginals_2d(&panel);
    {
        let root = SVGBackend::with_string(&mut svg, (1260, 440)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let mut title = opts.title.clone().unwrap_or_default();
        if d > 2 {
            if !title.is_empty() {
                title.push_str(" — ");
            }
            title.push_str(&format!(
                "a 2-D slice through the mode: coordinates {i} and {j} vary, the other {} are fixed at the mode",
                d - 2
            ));
        }
        let root = titled(&root, (!title.is_empty()).then_some(title.as_str()))?;
        let areas = root.split_evenly((1, 3));
        contours(&areas[0], &panel, &label(fit, opts, i), &label(fit, opts, j))?;
        marginal(&areas[1], &panel.xs, &ti, gi, &label(fit, opts, i))?;
        marginal(&areas[2], &panel.ys, &tj, gj, &label(fit, opts, j))?;
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

fn label(fit: &Laplace, opts: &PlotOptions, k: usize) -> String {
    if let Some(l) = opts.labels.get(k) {
        return l.clone();
    }
    match fit.constraints.get(k) {
        Some(crate::Constraint::Positive) => format!("log θ{k}"),
        Some(crate::Constraint::Interval { .. }) => format!("logit θ{k}"),
        _ => format!("θ{k}"),
    }
}

fn draw_err<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> LaplaceError {
    LaplaceError::Build { stage: "drawing", message: e.to_string() }
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

fn titled<'a>(root: &Area<'a>, title: Option<&str>) -> Result<Area<'a>, LaplaceError> {
    match title {
        Some(t) => root.titled(t, ("sans-serif", 18)).map_err(draw_err),
        None => Ok(root.clone()),
    }
}

/// Normalised densities from relative log densities on an even grid.
fn normalise(xs: &[f64], w: &mut [f64]) {
    let h = xs[1] - xs[0];
    let area: f64 = h * (w.iter().sum::<f64>() - 0.5 * (w[0] + w[w.len() - 1]));
    if area > 0.0 && area.is_finite() {
        w.iter_mut().for_each(|v| *v /= area);
    }
}

fn truth_marginal_1d(xs: &[f64], logf: &[f64]) -> Vec<f64> {
    let mut w: Vec<f64> = logf.iter().map(|v| v.exp()).collect();
    normalise(xs, &mut w);
    w
}

/// The marginals of the true density on the grid by the trapezoidal rule.
fn truth_marginals_2d(p: &Panel) -> (Vec<f64>, Vec<f64>) {
    let n = p.xs.len();
    let mut mi = vec![0.0; n];
    let mut mj = vec![0.0; n];
    for a in 0..n {
        for b in 0..n {
            let w = p.truth[a * n + b].exp();
            let ta = if a == 0 || a == n - 1 { 0.5 } else { 1.0 };
            let tb = if b == 0 || b == n - 1 { 0.5 } else { 1.0 };
            mi[a] += w * tb;
            mj[b] += w * ta;
        }
    }
    normalise(&p.xs, &mut mi);
    normalise(&p.ys, &mut mj);
    (mi, mj)
}

const TRUE_COLOR: RGBColor = RGBColor(31, 119, 180);
const GAUSS_COLOR: RGBColor = RGBColor(214, 39, 40);

fn contours(area: &Area<'_>, p: &Panel, xl: &str, yl: &str) -> Result<(), LaplaceError> {
    let (x0, x1) = (p.xs[0], p.xs[p.xs.len() - 1]);
    let (y0, y1) = (p.ys[0], p.ys[p.ys.len() - 1]);
    let mut chart = ChartBuilder::on(area)
        .caption("log density: true (solid) and Laplace (dashed)", ("sans-serif", 14))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(draw_err)?;
    chart.configure_mesh().x_desc(xl).y_desc(yl).light_line_style(WHITE).draw().map_err(draw_err)?;
    for (k, &level) in LEVELS.iter().enumerate() {
        let style = TRUE_COLOR.stroke_width(if k == 0 { 2 } else { 1 });
        for seg in marching_squares(&p.xs, &p.ys, &p.truth, level) {
            chart.draw_series(LineSeries::new(seg, style)).map_err(draw_err)?;
        }
        // The Gaussian's level sets are ellipses: centre + r·L·(cos t, sin t)
        // with L the Cholesky factor of the plane's covariance, r² = -2·level.
        let r = (-2.0 * level).sqrt();
        let (c, l) = (p.centre, p.cov_factor);
        let ellipse = (0..=240).map(|k| {
            let t = std::f64::consts::TAU * k as f64 / 240.0;
            let (a, b) = (r * t.cos(), r * t.sin());
            (c.0 + l[0] * a, c.1 + l[1] * a + l[2] * b)
        });
        let style = GAUSS_COLOR.stroke_width(if k == 0 { 2 } else { 1 });
        chart.draw_series(DashedLineSeries::new(ellipse, 6, 4, style)).map_err(draw_err)?;
    }
    chart.draw_series(std::iter::once(Circle::new(p.centre, 3, BLACK.filled()))).map_err(draw_err)?;
    Ok(())
}

fn marginal(area: &Area<'_>, xs: &[f64], truth: &[f64], g: crate::Normal, xl: &str) -> Result<(), LaplaceError> {
    let gauss: Vec<f64> = xs.iter().map(|&x| g.pdf(x)).collect();
    let top = truth.iter().chain(&gauss).copied().filter(|v| v.is_finite()).fold(0.0_f64, f64::max) * 1.08;
    let top = if top > 0.0 { top } else { 1.0 };
    let mut chart = ChartBuilder::on(area)
        .caption(format!("marginal of {xl}"), ("sans-serif", 14))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(xs[0]..xs[xs.len() - 1], 0.0..top)
        .map_err(draw_err)?;
    chart.configure_mesh().x_desc(xl).y_desc("density").light_line_style(WHITE).draw().map_err(draw_err)?;
    chart
        .draw_series(LineSeries::new(xs.iter().copied().zip(truth.iter().copied()), TRUE_COLOR.stroke_width(2)))
        .map_err(draw_err)?
        .label("true (grid integration)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], TRUE_COLOR.stroke_width(2)));
    chart
        .draw_series(DashedLineSeries::new(xs.iter().copied().zip(gauss), 5, 4, GAUSS_COLOR.stroke_width(2)))
        .map_err(draw_err)?
        .label("Laplace")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], GAUSS_COLOR.stroke_width(2)));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK.mix(0.3))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(draw_err)?;
    Ok(())
}

/// Line segments of the level set `field = level` on the grid (marching
/// squares with linear interpolation along cell edges; saddle cells are
/// split by the centre value).
pub(crate) fn marching_squares(xs: &[f64], ys: &[f64], field: &[f64], level: f64) -> Vec<Vec<(f64, f64)>> {
    let (nx, ny) = (xs.len(), ys.len());
    let at = |a: usize, b: usize| field[a * ny + b];
    let mut segs = Vec::new();
    for a in 0..nx.saturating_sub(1) {
        for b in 0..ny.saturating_sub(1) {
            // Corners counter-clockwise: (a,b), (a+1,b), (a+1,b+1), (a,b+1).
            let c = [(a, b), (a + 1, b), (a + 1, b + 1), (a, b + 1)];
            let v: Vec<f64> = c.iter().map(|&(p, q)| at(p, q)).collect();
            if v.iter().any(|x| x.is_nan()) {
                continue;
            }
            let inside: Vec<bool> = v.iter().map(|&x| x >= level).collect();
            let mut crossings = Vec::with_capacity(4);
            for e in 0..4 {
                let (k0, k1) = (e, (e + 1) % 4);
                if inside[k0] != inside[k1] {
                    let (p0, p1) = (c[k0], c[k1]);
                    let (v0, v1) = (v[k0], v[k1]);
                    let t = if v0.is_finite() && v1.is_finite() { (level - v0) / (v1 - v0) } else { 0.5 };
                    let t = t.clamp(0.0, 1.0);
                    crossings.push((xs[p0.0] + t * (xs[p1.0] - xs[p0.0]), ys[p0.1] + t * (ys[p1.1] - ys[p0.1])));
                }
            }
            match crossings.len() {
                2 => segs.push(crossings),
                4 => {
                    let centre = v.iter().sum::<f64>() / 4.0;
                    // Edges 0..4 crossings in order; pair them so the
                    // segments separate the corners on the other side of the centre.
                    if (centre >= level) == inside[0] {
                        segs.push(vec![crossings[0], crossings[1]]);
                        segs.push(vec![crossings[2], crossings[3]]);
                    } else {
                        segs.push(vec![crossings[3], crossings[0]]);
                        segs.push(vec![crossings[1], crossings[2]]);
                    }
                }
                _ => {}
            }
        }
    }
    segs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn circle_contour_lies_on_the_circle() {
        let n = 61;
        let xs: Vec<f64> = (0..n).map(|k| -2.0 + 4.0 * k as f64 / (n - 1) as f64).collect();
        let field: Vec<f64> = (0..n * n).map(|k| -0.5 * (xs[k / n] * xs[k / n] + xs[k % n] * xs[k % n])).collect();
        let segs = marching_squares(&xs, &xs, &field, -0.5);
        assert!(segs.len() > 40);
        for s in segs {
            for (x, y) in s {
                assert!(((x * x + y * y).sqrt() - 1.0).abs() < 0.01);
            }
        }
    }
}
