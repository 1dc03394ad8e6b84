//! The semantic checks of one function at one point: JVP against central
//! finite differences, VJP by ⟨J·t, c⟩ = ⟨t, Jᵀ·c⟩, vmap against a loop,
//! the Hessian symmetric and equal to finite differences of the gradient,
//! and the derived Jacobians consistent with each other.

use rand::SeedableRng;
use rand::rngs::StdRng;
use saddle::ir::{Array, Func};

use super::{Fd, axpy, dot, eval, flat, norm, normal, rel_err, stack, unstack, verified};

/// Indices of the float parameters.
pub fn float_params(f: &Func) -> Vec<usize> {
    (0..f.num_params()).filter(|&k| f.param_types()[k].dtype.is_float()).collect()
}

/// Indices of the float results.
pub fn float_results(f: &Func) -> Vec<usize> {
    (0..f.results().len()).filter(|&i| f.ty(f.results()[i]).dtype.is_float()).collect()
}

/// `x` with `h·t` added to its float parameters (`t` has one entry per
/// float parameter).
fn shifted(f: &Func, x: &[Array], h: f64, t: &[Array]) -> Vec<Array> {
    let fp = float_params(f);
    x.iter()
        .enumerate()
        .map(|(k, a)| match fp.iter().position(|&j| j == k) {
            Some(i) => axpy(a, h, &t[i]),
            None => a.clone(),
        })
        .collect()
}

/// Everything below, at `x`, with tangents and cotangents drawn from
/// `seed`. `what` names the function in failure messages.
pub fn check_all(what: &str, f: &Func, x: &[Array], fd: Fd, zero_derivative: bool, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let fp = float_params(f);
    let fr = float_results(f);
    let nres = f.results().len();
    let t: Vec<Array> = fp.iter().map(|&k| normal(&f.param_types()[k], &mut rng)).collect();
    let c: Vec<Array> = fr.iter().map(|&i| normal(&f.ty(f.results()[i]).clone(), &mut rng)).collect();
    let y = eval(f, x);

    // JVP: the primal results unchanged, the tangents against central
    // differences.
    let jf = verified(&format!("jvp of {what}"), saddle::ad::jvp(f));
    let jout = eval(&jf, &[x.to_vec(), t.clone()].concat());
    for i in 0..nres {
        assert_eq!(rel_err(&jout[i].to_f64_vec(), &y[i].to_f64_vec()), 0.0, "{what}: jvp changed result {i}");
    }
    let jt: Vec<&Array> = jout[nres..].iter().collect();
    if zero_derivative {
        assert!(flat(&jt).iter().all(|&v| v == 0.0), "{what}: the tangent must be zero");
    } else if !fp.is_empty() {
        let plus = eval(f, &shifted(f, x, fd.h, &t));
        let minus = eval(f, &shifted(f, x, -fd.h, &t));
        for (j, &i) in fr.iter().enumerate() {
            let diff: Vec<f64> =
                plus[i].to_f64_vec().iter().zip(minus[i].to_f64_vec()).map(|(p, m)| (p - m) / (2.0 * fd.h)).collect();
            let err = rel_err(&jt[j].to_f64_vec(), &diff);
            assert!(err <= fd.tol, "{what}: jvp of result {i} is off finite differences by {err:e}\n{jf}");
        }
    }

    // VJP: the primal results unchanged, and ⟨J·t, c⟩ = ⟨t, Jᵀ·c⟩.
    let vf = verified(&format!("vjp of {what}"), saddle::ad::vjp(f));
    let vout = eval(&vf, &[x.to_vec(), c.clone()].concat());
    for i in 0..nres {
        assert_eq!(rel_err(&vout[i].to_f64_vec(), &y[i].to_f64_vec()), 0.0, "{what}: vjp changed result {i}");
    }
    let jtc: Vec<&Array> = vout[nres..].iter().collect();
    let (jt_flat, c_flat) = (flat(&jt), flat(&c.iter().collect::<Vec<_>>()));
    let (t_flat, jtc_flat) = (flat(&t.iter().collect::<Vec<_>>()), flat(&jtc));
    let lhs = dot(&jt_flat, &c_flat);
    let rhs = dot(&t_flat, &jtc_flat);
    let scale = 1.0 + norm(&jt_flat) * norm(&c_flat) + norm(&t_flat) * norm(&jtc_flat);
    assert!((lhs - rhs).abs() <= fd.exact * scale, "{what}: <J t, c> = {lhs} but <t, J^T c> = {rhs}\n{vf}");

    // vmap: three batch elements against three single calls.
    let batch: Vec<Vec<Array>> = (0..3u64)
        .map(|b| {
            let mut r = StdRng::seed_from_u64(seed ^ (b + 1));
            x.iter().map(|a| perturbed(a, &mut r)).collect()
        })
        .collect();
    let stacked: Vec<Array> =
        (0..x.len()).map(|k| stack(&batch.iter().map(|b| b[k].clone()).collect::<Vec<_>>())).collect();
    let bf = verified(&format!("vmap of {what}"), saddle::ad::vmap_leading(f, 3));
    let bout = eval(&bf, &stacked);
    for (b, xb) in batch.iter().enumerate() {
        let single = eval(f, xb);
        for i in 0..nres {
            let err = rel_err(&unstack(&bout[i], b).to_f64_vec(), &single[i].to_f64_vec());
            assert!(err <= 1e-12, "{what}: vmap element {b} of result {i} differs by {err:e}\n{bf}");
        }
    }
    // vmap with a shared (unbatched) first parameter and the batch last.
    if x.len() > 1 {
        let in_axes: Vec<Option<usize>> = (0..x.len()).map(|k| (k > 0).then(|| f.param_types()[k].rank())).collect();
        let out_axes: Vec<Option<usize>> = (0..nres).map(|i| Some(f.ty(f.results()[i]).rank())).collect();
        let bf = verified(&format!("vmap with axes of {what}"), saddle::ad::vmap(f, 3, &in_axes, &out_axes));
        let args: Vec<Array> = (0..x.len())
            .map(|k| {
                if k == 0 {
                    x[0].clone()
                } else {
                    let s = stack(&batch.iter().map(|b| b[k].clone()).collect::<Vec<_>>());
                    move_axis0_last(&s)
                }
            })
            .collect();
        let bout = eval(&bf, &args);
        for (b, xb) in batch.iter().enumerate() {
            let mut xb = xb.clone();
            xb[0] = x[0].clone();
            let single = eval(f, &xb);
            for i in 0..nres {
                let got = unstack(&move_last_axis0(&bout[i]), b);
                let err = rel_err(&got.to_f64_vec(), &single[i].to_f64_vec());
                assert!(err <= 1e-12, "{what}: vmap (axes) element {b} of result {i} differs by {err:e}\n{bf}");
            }
        }
    }

    // Gradients, Hessians and Jacobians of the scalar first result.
    for &k in &fp {
        let g = verified(&format!("grad of {what}"), saddle::ad::grad(f, k));
        let gx = eval(&g, x)[0].to_f64_vec();
        // The gradient is the VJP with cotangent 1 on the first result.
        let mut c1: Vec<Array> = fr.iter().map(|&i| zeros_like(&y[i])).collect();
        c1[0] = ones_like(&y[0]);
        let v1 = eval(&vf, &[x.to_vec(), c1].concat());
        let pos = fp.iter().position(|&j| j == k).unwrap();
        assert!(rel_err(&gx, &v1[nres + pos].to_f64_vec()) <= fd.exact * 10.0, "{what}: grad and vjp disagree");
        let vg = eval(&verified("value_and_grad", saddle::ad::value_and_grad(f, k)), x);
        assert_eq!(vg[0].to_f64_vec(), y[0].to_f64_vec());
        assert!(rel_err(&vg[1].to_f64_vec(), &gx) <= fd.exact * 10.0);
        // Forward and reverse Jacobians of the first result agree with the
        // gradient.
        let jf1 = eval(&verified("jacfwd", saddle::ad::jacfwd(f, k)), x)[0].to_f64_vec();
        let jr1 = eval(&verified("jacrev", saddle::ad::jacrev(f, k)), x)[0].to_f64_vec();
        assert!(
            rel_err(&jf1, &gx) <= fd.exact * 10.0 && rel_err(&jr1, &gx) <= fd.exact * 10.0,
            "{what}: jacfwd/jacrev differ from grad"
        );
        // The Hessian: symmetric, and finite differences of the gradient.
        let h = verified(&format!("hessian of {what}"), saddle::ad::hessian(f, k));
        let hx = eval(&h, x)[0].to_f64_vec();
        let n = gx.len();
        assert_eq!(hx.len(), n * n);
        let hscale = 1.0 + hx.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for i in 0..n {
            for j in 0..i {
                assert!(
                    (hx[i * n + j] - hx[j * n + i]).abs() <= fd.exact * 10.0 * hscale,
                    "{what}: Hessian not symmetric at ({i}, {j}): {} vs {}",
                    hx[i * n + j],
                    hx[j * n + i]
                );
            }
        }
        if !zero_derivative {
            for j in 0..n {
                let mut e = vec![0.0; n];
                e[j] = 1.0;
                let ej =
                    Array::F64(ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&f.param_types()[k].shape), e).unwrap());
                let ej = if f.param_types()[k].dtype == saddle::ir::DType::F32 { to_f32(&ej) } else { ej };
                let mut xp = x.to_vec();
                let mut xm = x.to_vec();
                xp[k] = axpy(&x[k], fd.h, &ej);
                xm[k] = axpy(&x[k], -fd.h, &ej);
                let (gp, gm) = (eval(&g, &xp)[0].to_f64_vec(), eval(&g, &xm)[0].to_f64_vec());
                let col: Vec<f64> = gp.iter().zip(&gm).map(|(p, m)| (p - m) / (2.0 * fd.h)).collect();
                let hcol: Vec<f64> = (0..n).map(|i| hx[i * n + j]).collect();
                let err = rel_err(&hcol, &col);
                assert!(
                    err <= fd.tol * 10.0,
                    "{what}: Hessian column {j} is off finite differences of the gradient by {err:e}"
                );
            }
        }
        // The Hessian-vector product is the Hessian times the vector.
        let v = normal(&f.param_types()[k], &mut rng);
        let hv = eval(&verified("hvp", saddle::ad::hvp(f, k)), &[x.to_vec(), vec![v.clone()]].concat())[0].to_f64_vec();
        let vf64 = v.to_f64_vec();
        let want: Vec<f64> = (0..n).map(|i| (0..n).map(|j| hx[i * n + j] * vf64[j]).sum()).collect();
        assert!(rel_err(&hv, &want) <= fd.exact * 100.0, "{what}: hvp differs from H·v");
    }
}

/// `a` scaled elementwise by factors in [0.9, 1.1] (floats only), so it
/// stays in the domain of the function.
fn perturbed(a: &Array, rng: &mut StdRng) -> Array {
    use rand::RngExt;
    match a {
        Array::F64(x) => Array::F64(x.mapv(|v| v * rng.random_range(0.9..1.1))),
        Array::F32(x) => Array::F32(x.mapv(|v| v * rng.random_range(0.9f32..1.1))),
        other => other.clone(),
    }
}

pub fn zeros_like(a: &Array) -> Array {
    Array::full(&a.ty(), saddle::ir::Scalar::zero(a.dtype()))
}

pub fn ones_like(a: &Array) -> Array {
    Array::full(&a.ty(), saddle::ir::Scalar::one(a.dtype()))
}

fn to_f32(a: &Array) -> Array {
    Array::F32(a.as_f64().unwrap().mapv(|x| x as f32))
}

/// Moves axis 0 to the end.
fn move_axis0_last(a: &Array) -> Array {
    saddle::ir::with_array!(a, x => {
        let r = x.ndim();
        let perm: Vec<usize> = (1..r).chain(std::iter::once(0)).collect();
        x.clone().permuted_axes(perm).as_standard_layout().into_owned().into()
    })
}

/// Moves the last axis to the front.
fn move_last_axis0(a: &Array) -> Array {
    saddle::ir::with_array!(a, x => {
        let r = x.ndim();
        let perm: Vec<usize> = std::iter::once(r - 1).chain(0..r - 1).collect();
        x.clone().permuted_axes(perm).as_standard_layout().into_owned().into()
    })
}
