//! Dimension variables and calls from the command line: one model file for
//! every data set, every command that takes arguments binding the names
//! from their shapes.

use std::process::{Command, Output};

fn saddle(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_saddle")).args(args).output().expect("the saddle binary runs")
}

fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("saddle-cli-dims-").tempdir().unwrap()
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn ok(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn fails(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "stdout: {}", String::from_utf8_lossy(&out.stdout));
    assert!(out.stdout.is_empty(), "nothing on stdout on failure");
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    assert!(err.lines().any(|l| l.starts_with("error: ")), "{err}");
    err
}

/// Bayesian linear regression with known noise: a conjugate model, whose
/// Laplace approximation is exact. The prior is N(0, I), the noise N(0, 1).
const REGRESSION: &str = "\
func @posterior(%beta: f64[2], %X: f64[N, 2], %y: f64[N]) -> f64[] {
  %mu = dot_general %X, %beta {lhs_contract = [1], rhs_contract = [0]}
  %lik = call %y, %mu {callee = @std_normal_sum}
  %zero: f64[2] = const {value = 0.0}
  %prior = call %beta, %zero {callee = @std_normal_sum}
  %lp = add %lik, %prior
  return %lp
}

# The sum of log N(x | m, 1) over K elements.
func @std_normal_sum(%x: f64[K], %m: f64[K]) -> f64[] {
  %d = sub %x, %m
  %s = mul %d, %d
  %t = reduce_sum %s {axes = [0]}
  %h: f64[] = const {value = -0.5}
  %q = mul %h, %t
  %c: f64[] = const {value = -0.9189385332046727}
  %k: f64[] = const {value = K}
  %ck = mul %c, %k
  %r = add %q, %ck
  return %r
}
";

/// The exact posterior of the regression: precision XᵀX + I, mean
/// (XᵀX + I)⁻¹ Xᵀy (2×2, by hand).
fn exact(x: &[[f64; 2]], y: &[f64]) -> ([f64; 2], [[f64; 2]; 2]) {
    let mut p = [[1.0, 0.0], [0.0, 1.0]];
    let mut b = [0.0; 2];
    for (row, yi) in x.iter().zip(y) {
        for i in 0..2 {
            b[i] += row[i] * yi;
            for j in 0..2 {
                p[i][j] += row[i] * row[j];
            }
        }
    }
    let det = p[0][0] * p[1][1] - p[0][1] * p[1][0];
    let cov = [[p[1][1] / det, -p[0][1] / det], [-p[1][0] / det, p[0][0] / det]];
    let mean = [cov[0][0] * b[0] + cov[0][1] * b[1], cov[1][0] * b[0] + cov[1][1] * b[1]];
    (mean, cov)
}

fn json_args(x: &[[f64; 2]], y: &[f64]) -> String {
    format!("[{}, {}]", serde_json::to_string(x).unwrap(), serde_json::to_string(y).unwrap())
}

#[test]
fn one_file_fits_data_sets_of_every_size() {
    let dir = scratch();
    let file = write(&dir, "regression.sir", REGRESSION);
    for n in [1usize, 3, 10, 57] {
        let x: Vec<[f64; 2]> = (0..n).map(|i| [1.0, (i as f64 * 0.37).sin()]).collect();
        let y: Vec<f64> = (0..n).map(|i| 0.5 + (i as f64 * 1.3).cos()).collect();
        let out = saddle(&["laplace", &file, "--init", "[0, 0]", "--data", &json_args(&x, &y), "--json"]);
        let fit: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
        let (mean, cov) = exact(&x, &y);
        for i in 0..2 {
            let m = fit["mode"][i].as_f64().unwrap();
            assert!((m - mean[i]).abs() < 1e-9, "n = {n}: mode {m} vs {}", mean[i]);
            for j in 0..2 {
                let c = fit["covariance"][i][j].as_f64().unwrap();
                assert!((c - cov[i][j]).abs() < 1e-9, "n = {n}: cov {c} vs {}", cov[i][j]);
            }
        }
        assert_eq!(fit["converged"], serde_json::Value::Bool(true));
    }
}

#[test]
fn eval_grad_hessian_and_bench_bind_the_names() {
    let dir = scratch();
    let file = write(&dir, "regression.sir", REGRESSION);
    let args = "[[0.5, -1], [[1, 2], [3, 4], [5, 6]], [1, 2, 3]]";
    // log N(y | Xβ, I) + log N(β | 0, I) at β = (0.5, -1).
    let resid = [1.0 - (0.5 - 2.0), 2.0 - (1.5 - 4.0), 3.0 - (2.5 - 6.0)];
    let ss: f64 = resid.iter().map(|r| r * r).sum::<f64>() + 0.25 + 1.0;
    let want = -0.5 * ss - 5.0 * 0.9189385332046727;
    let got: Vec<f64> = serde_json::from_str(&ok(&saddle(&["eval", &file, "--args", args]))).unwrap();
    assert!((got[0] - want).abs() < 1e-12, "{got:?} vs {want}");
    let g: Vec<f64> = serde_json::from_str(&ok(&saddle(&["grad", &file, "--args", args]))).unwrap();
    // ∇ = Xᵀ r - β.
    let want_g =
        [resid[0] + 3.0 * resid[1] + 5.0 * resid[2] - 0.5, 2.0 * resid[0] + 4.0 * resid[1] + 6.0 * resid[2] + 1.0];
    assert!((g[0] - want_g[0]).abs() < 1e-12 && (g[1] - want_g[1]).abs() < 1e-12, "{g:?} vs {want_g:?}");
    let h: Vec<Vec<f64>> = serde_json::from_str(&ok(&saddle(&["hessian", &file, "--args", args]))).unwrap();
    assert_eq!(h, vec![vec![-36.0, -44.0], vec![-44.0, -57.0]]);
    let b: serde_json::Value =
        serde_json::from_str(&ok(&saddle(&["bench", &file, "--args", args, "--repeat", "3"]))).unwrap();
    assert_eq!(b["calls"], serde_json::json!(3));
}

#[test]
fn npy_arguments_bind_from_their_headers() {
    let dir = scratch();
    let file = write(&dir, "regression.sir", REGRESSION);
    let x = ndarray::Array2::from_shape_vec((4, 2), vec![1.0, 0.0, 1.0, 1.0, 1.0, 2.0, 1.0, 3.0]).unwrap();
    let y = ndarray::Array1::from(vec![1.0, 2.0, 2.5, 4.0]);
    let xp = dir.path().join("x.npy");
    let yp = dir.path().join("y.npy");
    ndarray_npy::write_npy(&xp, &x).unwrap();
    ndarray_npy::write_npy(&yp, &y).unwrap();
    let data = format!("[\"@{}\", \"@{}\"]", xp.display(), yp.display());
    let fit: serde_json::Value =
        serde_json::from_str(&ok(&saddle(&["laplace", &file, "--init", "[0, 0]", "--data", &data, "--json"]))).unwrap();
    let rows: Vec<[f64; 2]> = x.rows().into_iter().map(|r| [r[0], r[1]]).collect();
    let (mean, _) = exact(&rows, y.as_slice().unwrap());
    assert!((fit["mode"][1].as_f64().unwrap() - mean[1]).abs() < 1e-9, "{fit}");
}

#[test]
fn inconsistent_extents_are_an_error_naming_the_variable_and_both_extents() {
    let dir = scratch();
    let file = write(&dir, "regression.sir", REGRESSION);
    let bad = "[[0, 0], [[1, 2], [3, 4], [5, 6]], [1, 2]]";
    for cmd in ["eval", "grad", "hessian", "bench"] {
        let err = fails(&saddle(&[cmd, &file, "--args", bad]));
        assert!(err.contains("dimension variable N is 3") && err.contains("but 2"), "{cmd}: {err}");
    }
    let err = fails(&saddle(&["laplace", &file, "--init", "[0, 0]", "--data", "[[[1, 2]], [1, 2]]"]));
    assert!(err.contains("dimension variable N is 1") && err.contains("but 2"), "{err}");
    let err = fails(&saddle(&["eval", &file, "--args", "[[0, 0], [[1, 2, 3]], [1]]"]));
    assert!(err.contains("argument 1 has shape [1,3], but %X is declared f64[N,2]"), "{err}");
}

#[test]
fn check_and_opt_work_unbound_and_lower_asks_for_numbers() {
    let dir = scratch();
    let file = write(&dir, "regression.sir", REGRESSION);
    let text = ok(&saddle(&["check", &file]));
    assert!(text.starts_with("func @posterior(%beta: f64[2], %X: f64[N,2], %y: f64[N]) -> f64[] {"), "{text}");
    assert!(text.contains("func @std_normal_sum(%x: f64[K], %m: f64[K]) -> f64[] {"), "{text}");
    let again = write(&dir, "again.sir", &text);
    assert_eq!(ok(&saddle(&["check", &again])), text);
    let grad = ok(&saddle(&["opt", &file, "-p", "grad"]));
    assert!(grad.starts_with("func @posterior_grad(%beta: f64[2], %X: f64[N,2], %y: f64[N]) -> f64[2] {"), "{grad}");
    // The transformed module is valid input, and its gradient is right.
    let g = write(&dir, "grad.sir", &grad);
    let args = "[[0.5, -1], [[1, 2], [3, 4], [5, 6]], [1, 2, 3]]";
    let direct = ok(&saddle(&["grad", &file, "--args", args]));
    assert_eq!(ok(&saddle(&["eval", &g, "--args", args])), format!("[{}]\n", direct.trim()));
    let err = fails(&saddle(&["lower", &file]));
    assert!(err.contains("@posterior has dimension variables (N): lower needs numbers"), "{err}");
}

#[test]
fn bad_calls_exit_1_with_located_errors() {
    let dir = scratch();
    let recursive =
        write(&dir, "rec.sir", "func @f(%x: f64[]) -> f64[] {\n  %y = call %x {callee = @f}\n  return %y\n}\n");
    let err = fails(&saddle(&["check", &recursive]));
    assert!(err.contains("rec.sir:2:26: error: recursive call: @f → @f"), "{err}");
    let unknown = write(
        &dir,
        "unknown.sir",
        "func @f(%x: f64[]) -> f64[] {\n  %y = call %x {callee = @nowhere}\n  return %y\n}\n",
    );
    let err = fails(&saddle(&["eval", &unknown, "--args", "[1]"]));
    assert!(err.contains("no function @nowhere"), "{err}");
}

#[test]
fn sir_files_call_the_distribution_library() {
    let dir = scratch();
    let file = write(
        &dir,
        "lib.sir",
        "\
func @f(%x: f64[N], %mu: f64[], %m: f64[2, K]) -> (f64[], f64[2]) {
  %sigma: f64[] = const {value = 2.0}
  %lp = call %x, %mu, %sigma {callee = @normal_lpdf}
  %lse = call %m {callee = @log_sum_exp, axes = [1]}
  return %lp, %lse
}
",
    );
    let out = ok(&saddle(&["eval", &file, "--args", "[[0.5, -1.0, 2.0], 0.25, [[0, 1, 2], [3, 3, 3]]]"]));
    let got: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    let want_lp: f64 = [0.5f64, -1.0, 2.0]
        .iter()
        .map(|x| -0.5 * ((x - 0.25) / 2.0f64).powi(2) - 2.0f64.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln())
        .sum();
    assert!((got[0].as_f64().unwrap() - want_lp).abs() < 1e-12, "{out}");
    let row0 = (1.0f64 + 1f64.exp() + 2f64.exp()).ln();
    let row1 = 3.0 + 3f64.ln();
    let lse: Vec<f64> = got[1].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert!((lse[0] - row0).abs() < 1e-12 && (lse[1] - row1).abs() < 1e-12, "{out}");
    // A library function given operands it cannot take: a located error.
    let bad = write(
        &dir,
        "bad.sir",
        "func @f(%x: f64[3], %m: f64[2]) -> f64[] {\n  %s: f64[] = const {value = 1.0}\n  %lp = call %x, %m, %s {callee = @normal_lpdf}\n  return %lp\n}\n",
    );
    let err = fails(&saddle(&["check", &bad]));
    assert!(err.contains("bad.sir:3:35: error: @normal_lpdf cannot take operands (f64[3], f64[2], f64[])"), "{err}");
}
