//! Slice loops of `exp`, `logistic` and `expm1` that vectorise: the
//! element functions are [`saddle_ir::math::exp_log`]'s and
//! [`saddle_ir::math::log1p_expm1`]'s (re-exported here), and every loop
//! here gives their bits. [`exp_slice`], [`logistic_slice`] and
//! [`exp_m1_slice`] run the branch-free fast path (|x| ≤ 704) over a whole
//! slice, as one loop the compiler vectorises or as AVX-512 intrinsics,
//! and redo the rare arguments beyond it; the f32 forms compute in f64
//! lanes and round each result once, as [`saddle_ir::math::Real`] does for
//! one element. `ln` and `ln_1p` are branch-free, so a plain loop over
//! them vectorises as it is.

pub use saddle_ir::math::exp_log::{exp, ln, logistic};
use saddle_ir::math::exp_log::{exp_core, exp_slow, fast, fused, logistic_from};
pub use saddle_ir::math::log1p_expm1::{exp_m1, ln_1p};
use saddle_ir::math::log1p_expm1::{exp_m1_core, exp_m1_slow};

/// `out[i] = exp(x[i])` with the bits of [`exp`], as one loop the
/// compiler vectorises (arguments outside the fast path are redone after).
#[inline(always)]
pub fn exp_slice(out: &mut [f64], x: &[f64]) {
    exp_slice_of(out, x, |y| y);
}

/// [`exp_slice`] and [`exp_slice_f32`]: each element computed in f64 and
/// rounded to `T` by `round`, with the AVX-512 loop where the CPU has it.
#[inline(always)]
fn exp_slice_of<T: Copy + Into<f64>>(out: &mut [T], x: &[T], round: impl Fn(f64) -> T) {
    #[cfg(target_arch = "x86_64")]
    if x.len() >= 16 && avx512::available() {
        // SAFETY: the CPU has the features; T is f64 or f32.
        return unsafe { avx512::exp_slice(out, x, round) };
    }
    over_slice(out, x, round, |v| v, |_, e| e, exp_slow);
}

/// `out[i] = exp_m1(x[i])` with the bits of [`exp_m1`], as one loop the
/// compiler vectorises (arguments outside the fast path are redone after).
#[inline(always)]
pub fn exp_m1_slice(out: &mut [f64], x: &[f64]) {
    exp_m1_slice_of(out, x, |y| y);
}

/// [`exp_m1_slice`] for f32: the bits of `exp_m1(x as f64) as f32`.
#[inline(always)]
pub fn exp_m1_slice_f32(out: &mut [f32], x: &[f32]) {
    exp_m1_slice_of(out, x, |y| y as f32);
}

/// [`exp_m1_slice`] and [`exp_m1_slice_f32`], in the formulation this CPU
/// takes ([`fused`]).
#[inline(always)]
fn exp_m1_slice_of<T: Copy + Into<f64>>(out: &mut [T], x: &[T], round: impl Fn(f64) -> T) {
    in_formulation(out, x, round, exp_m1_core::<false>, exp_m1_core::<true>, exp_m1_slow);
}

/// The slice loops of `exp` and `logistic`: `finish(v, e^arg(v))` over
/// every element in the formulation of `exp` this CPU takes ([`fused`]),
/// then `exact` redone beyond the fast path.
#[inline(always)]
fn over_slice<T: Copy + Into<f64>>(
    out: &mut [T],
    x: &[T],
    round: impl Fn(f64) -> T,
    arg: impl Fn(f64) -> f64,
    finish: impl Fn(f64, f64) -> f64,
    exact: impl Fn(f64) -> f64,
) {
    let plain = |v| finish(v, exp_core::<false>(arg(v), 0));
    let with_fma = |v| finish(v, exp_core::<true>(arg(v), 0));
    in_formulation(out, x, round, plain, with_fma, exact);
}

/// [`fast_then_fix`] with `plain` or `with_fma`, the fast path's two
/// formulations, whichever this CPU takes ([`fused`]).
#[inline(always)]
fn in_formulation<T: Copy + Into<f64>>(
    out: &mut [T],
    x: &[T],
    round: impl Fn(f64) -> T,
    plain: impl Fn(f64) -> f64,
    with_fma: impl Fn(f64) -> f64,
    exact: impl Fn(f64) -> f64,
) {
    if !fused() {
        return fast_then_fix(out, x, round, plain, exact);
    }
    // Where the build does not assume the FMA instruction, the loop runs
    // in a copy compiled for it; elsewhere each `mul_add` would be a call
    // to a software `fma` (the same result, more slowly).
    #[cfg(target_arch = "x86_64")]
    if !cfg!(target_feature = "fma")
        && crate::isa::current() != crate::isa::Isa::Baseline
        && std::arch::is_x86_feature_detected!("fma")
    {
        // SAFETY: the CPU has FMA.
        return unsafe { fast_then_fix_with_fma(out, x, round, with_fma, exact) };
    }
    fast_then_fix(out, x, round, with_fma, exact)
}

/// The loop shape of the slice functions: `approx` (exact on the fast
/// path) over every element as one loop the compiler vectorises, then
/// `exact` redone for the elements outside the fast path. Elements are
/// widened to f64 and each result rounded once by `round`, so f32 gets the
/// bits of the f64 function rounded.
#[inline(always)]
fn fast_then_fix<T: Copy + Into<f64>>(
    out: &mut [T],
    x: &[T],
    round: impl Fn(f64) -> T,
    approx: impl Fn(f64) -> f64,
    exact: impl Fn(f64) -> f64,
) {
    let mut slow = false;
    for (o, &v) in out.iter_mut().zip(x) {
        let v: f64 = v.into();
        *o = round(approx(v));
        slow |= !fast(v);
    }
    if slow {
        redo_slow(out, x, round, exact);
    }
}

/// [`fast_then_fix`] compiled for CPUs with FMA.
///
/// # Safety
/// The CPU has FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma")]
unsafe fn fast_then_fix_with_fma<T: Copy + Into<f64>>(
    out: &mut [T],
    x: &[T],
    round: impl Fn(f64) -> T,
    approx: impl Fn(f64) -> f64,
    exact: impl Fn(f64) -> f64,
) {
    fast_then_fix(out, x, round, approx, exact)
}

/// `exact` redone for the elements of `x` outside the fast path.
#[inline(always)]
fn redo_slow<T: Copy + Into<f64>>(out: &mut [T], x: &[T], round: impl Fn(f64) -> T, exact: impl Fn(f64) -> f64) {
    for (o, &v) in out.iter_mut().zip(x) {
        let v: f64 = v.into();
        if !fast(v) {
            *o = round(exact(v));
        }
    }
}

/// `out[i] = logistic(x[i])` with the bits of [`logistic`], as one loop
/// the compiler vectorises.
#[inline(always)]
pub fn logistic_slice(out: &mut [f64], x: &[f64]) {
    logistic_slice_of(out, x, |y| y);
}

/// [`logistic_slice`] and [`logistic_slice_f32`], as [`exp_slice_of`].
#[inline(always)]
fn logistic_slice_of<T: Copy + Into<f64>>(out: &mut [T], x: &[T], round: impl Fn(f64) -> T) {
    #[cfg(target_arch = "x86_64")]
    if x.len() >= 16 && avx512::available() {
        // SAFETY: the CPU has the features; T is f64 or f32.
        return unsafe { avx512::logistic_slice(out, x, round) };
    }
    over_slice(out, x, round, |v| -v.abs(), logistic_from, logistic);
}

/// [`exp_slice`] and [`logistic_slice`] (and their f32 forms, in f64 lanes)
/// written with AVX-512 intrinsics: the same operations in the same order
/// as [`exp_core`] and [`logistic_from`] (the same fused multiply-adds), so
/// the same bits, with the tables looked up by in-register permutes
/// (`vpermt2pd`) rather than the gathers the compiler emits for the plain
/// loops.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    use saddle_ir::math::exp_log::{
        EXP_HI, EXP_TAIL, FAST, LN2_N_HI, LN2_N_LO, N_OVER_LN2, SHIFT, exp_core, exp_slow, fast, logistic,
        logistic_from,
    };

    use super::redo_slow;

    #[inline(always)]
    pub(super) fn available() -> bool {
        crate::isa::current() == crate::isa::Isa::Widest
            && std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512dq")
    }

    /// The two halves of a table of 16, as vectors of 8.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq")]
    fn halves(t: &[u64; 16]) -> (__m512i, __m512i) {
        // SAFETY: each half is 8 u64s, read unaligned.
        unsafe { (_mm512_loadu_si512(t.as_ptr().cast()), _mm512_loadu_si512(t.as_ptr().add(8).cast())) }
    }

    /// Eight lanes of `exp_core(x, 0)`, operation for operation.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq")]
    fn core(x: __m512d, tail: (__m512i, __m512i), hi: (__m512i, __m512i)) -> __m512d {
        let c = _mm512_set1_pd;
        let t = _mm512_fmadd_pd(x, c(N_OVER_LN2), c(SHIFT));
        let kf = _mm512_sub_pd(t, c(SHIFT));
        let r = _mm512_fnmadd_pd(kf, c(LN2_N_LO), _mm512_fnmadd_pd(kf, c(LN2_N_HI), x));
        let bits = _mm512_castpd_si512(t);
        // The low four bits of each lane pick one of the 16 entries.
        let tl = _mm512_castsi512_pd(_mm512_permutex2var_epi64(tail.0, bits, tail.1));
        let h = _mm512_permutex2var_epi64(hi.0, bits, hi.1);
        let s = _mm512_castsi512_pd(_mm512_add_epi64(h, _mm512_slli_epi64::<48>(bits)));
        let r2 = _mm512_mul_pd(r, r);
        let a = _mm512_fmadd_pd(r, c(1.0 / 6.0), c(0.5));
        let b = _mm512_fmadd_pd(r, c(1.0 / 120.0), c(1.0 / 24.0));
        let d = _mm512_fmadd_pd(r, c(1.0 / 5040.0), c(1.0 / 720.0));
        let p = _mm512_fmadd_pd(r2, _mm512_fmadd_pd(r2, _mm512_fmadd_pd(r2, d, b), a), _mm512_add_pd(tl, r));
        _mm512_fmadd_pd(s, p, s)
    }

    /// Runs `lanes` over `x` eight at a time and `one` over the rest, then
    /// redoes the elements beyond the fast path with `exact`; each result
    /// is rounded to `T` by `round`. `T` is f64 or f32: f32 elements are
    /// widened to f64 lanes exactly and each result narrowed once, like
    /// `round` (to nearest, ties to even).
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq")]
    fn run<T: Copy + Into<f64>>(
        out: &mut [T],
        x: &[T],
        round: impl Fn(f64) -> T,
        lanes: impl Fn(__m512d) -> __m512d,
        one: impl Fn(f64) -> f64,
        exact: impl Fn(f64) -> f64,
    ) {
        let wide = std::mem::size_of::<T>() == 8;
        debug_assert!(wide || std::mem::size_of::<T>() == 4, "f64 or f32 only");
        let n = x.len().min(out.len());
        let limit = _mm512_set1_pd(FAST);
        let mut slow = false;
        let mut i = 0;
        while i + 8 <= n {
            // SAFETY: i + 8 <= n for both slices, whose elements are f64
            // (`wide`) or f32.
            let v = unsafe {
                let p = x.as_ptr().add(i);
                if wide { _mm512_loadu_pd(p.cast()) } else { _mm512_cvtps_pd(_mm256_loadu_ps(p.cast())) }
            };
            slow |= _mm512_cmp_pd_mask::<_CMP_LE_OQ>(_mm512_abs_pd(v), limit) != 0xff;
            let y = lanes(v);
            unsafe {
                let p = out.as_mut_ptr().add(i);
                if wide { _mm512_storeu_pd(p.cast(), y) } else { _mm256_storeu_ps(p.cast(), _mm512_cvtpd_ps(y)) }
            }
            i += 8;
        }
        for k in i..n {
            let v: f64 = x[k].into();
            out[k] = round(one(v));
            slow |= !fast(v);
        }
        if slow {
            redo_slow(out, x, round, exact);
        }
    }

    /// [`super::exp_slice`] and [`super::exp_slice_f32`].
    ///
    /// # Safety
    /// The CPU has AVX-512 F and DQ; `T` is f64 or f32.
    #[target_feature(enable = "avx512f,avx512dq")]
    pub(super) unsafe fn exp_slice<T: Copy + Into<f64>>(out: &mut [T], x: &[T], round: impl Fn(f64) -> T) {
        let (tail, hi) = (halves(&EXP_TAIL), halves(&EXP_HI));
        run(out, x, round, |v| core(v, tail, hi), |v| exp_core::<true>(v, 0), exp_slow);
    }

    /// [`super::logistic_slice`] and [`super::logistic_slice_f32`]: `num /
    /// (1 + e)` with `e = e^-|x|` and `num` 1 for x ≥ 0, `e` otherwise (NaN
    /// compares false: `e`).
    ///
    /// # Safety
    /// The CPU has AVX-512 F and DQ; `T` is f64 or f32.
    #[target_feature(enable = "avx512f,avx512dq")]
    pub(super) unsafe fn logistic_slice<T: Copy + Into<f64>>(out: &mut [T], x: &[T], round: impl Fn(f64) -> T) {
        let (tail, hi) = (halves(&EXP_TAIL), halves(&EXP_HI));
        let (one, zero, sign) = (_mm512_set1_pd(1.0), _mm512_setzero_pd(), _mm512_set1_pd(-0.0));
        let lanes = |v: __m512d| {
            let e = core(_mm512_xor_pd(_mm512_abs_pd(v), sign), tail, hi);
            let num = _mm512_mask_blend_pd(_mm512_cmp_pd_mask::<_CMP_GE_OQ>(v, zero), e, one);
            _mm512_div_pd(num, _mm512_add_pd(one, e))
        };
        run(out, x, round, lanes, |v| logistic_from(v, exp_core::<true>(-v.abs(), 0)), logistic);
    }
}

/// [`exp_slice`] for f32: each element computed in f64 and rounded once,
/// the bits of `exp(x as f64) as f32`.
#[inline(always)]
pub fn exp_slice_f32(out: &mut [f32], x: &[f32]) {
    exp_slice_of(out, x, |y| y as f32);
}

/// [`logistic_slice`] for f32: the bits of `logistic(x as f64) as f32`.
#[inline(always)]
pub fn logistic_slice_f32(out: &mut [f32], x: &[f32]) {
    logistic_slice_of(out, x, |y| y as f32);
}
