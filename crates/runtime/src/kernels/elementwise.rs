//! Fused elementwise loops.
//!
//! A `Fused` group is a straight-line program of elementwise ops over
//! `n` elements. It runs block by block ([`BLOCK`] elements at a time),
//! each op one tight loop over the block that the compiler vectorises:
//!
//! - a loaded input's register is its block where it lies in its buffer;
//! - an output's register is its block where it lies in the output buffer,
//!   so the op that computes it writes it to memory directly (unless that
//!   buffer is also a loaded input's, see below);
//! - the other registers are scratch blocks that stay in the cache;
//! - splat constants and scalars are uniform operands: the binary,
//!   comparison and select loops read them as one number held in a vector
//!   register, never as an array (their registers are filled once, for the
//!   rarer ops that take every operand as an array).
//!
//! A group of one float unary op between two distinct buffers skips the
//! registers and runs from its input straight into its output. Large
//! groups split their blocks over threads. An output whose buffer is a
//! loaded input's (the plan reuses the buffer of an input that dies in the
//! group) is computed in scratch and copied out after the block's last op,
//! when every op has read the input's block.

use std::cell::RefCell;

use rayon::prelude::*;
use saddle_ir::op::{Binary, Compare, Unary};
use saddle_ir::{DType, Scalar};

use super::{Frame, Loc, with_dtype};
use crate::Error;
#[cfg(target_arch = "x86_64")]
use crate::isa::Isa;
use crate::scalar::{CastTo, Elem, Float, Num};

/// Elements per block.
pub const BLOCK: usize = 512;

/// A register: a bank (one per dtype) and an index in it (32 bits: the
/// gradient of a long chain keeps more than 65,536 values of one group
/// alive, and a 16-bit index wrapped, so registers collided).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Reg {
    pub dtype: DType,
    pub idx: u32,
}

/// Where a group input comes from.
#[derive(Clone, Debug)]
pub(crate) enum Src {
    /// Every element of a buffer of `n` elements.
    Load(Loc),
    /// A constant, the same for every element.
    Splat(Scalar),
    /// Element 0 of a buffer, the same for every element.
    ScalarAt(Loc),
}

/// One op of a group.
#[derive(Clone, Debug)]
pub(crate) enum FOp {
    Unary(Unary),
    Binary(Binary),
    Compare(Compare),
    Select,
    Convert,
}

/// An op with its registers, and the instruction it came from (for
/// errors).
#[derive(Clone, Debug)]
pub(crate) struct FInst {
    pub op: FOp,
    pub dst: Reg,
    /// Operands (at most three: `select`), inline.
    pub args: smallvec::SmallVec<[Reg; 3]>,
    /// Bit `i` is set when operand `i` is uniform: a splat constant or a
    /// scalar, the same for every element (see [`mark_uniform`]).
    pub uniform: u8,
    /// The instruction, named for errors (only divisions can fail; empty
    /// for other ops).
    pub at: String,
}

/// A fused elementwise group.
#[derive(Clone, Debug)]
pub(crate) struct Fused {
    pub n: usize,
    pub inputs: Vec<(Src, Reg)>,
    pub body: Vec<FInst>,
    pub stores: Vec<(Reg, Loc)>,
    /// Registers per bank, indexed like [`bank`].
    pub regs: [usize; 5],
}

/// Sets each instruction's [`FInst::uniform`] bits from the group's
/// inputs: an operand is uniform when its register holds a splat constant
/// or a scalar input (input registers are never written by the body).
pub(crate) fn mark_uniform(inputs: &[(Src, Reg)], body: &mut [FInst]) {
    for inst in body {
        inst.uniform = 0;
        for (i, a) in inst.args.iter().enumerate() {
            let constant = inputs.iter().any(|(src, r)| r == a && !matches!(src, Src::Load(_)));
            if constant {
                inst.uniform |= 1 << i;
            }
        }
    }
}

/// The bank number of a dtype.
pub(crate) fn bank(d: DType) -> usize {
    match d {
        DType::F32 => 0,
        DType::F64 => 1,
        DType::I32 => 2,
        DType::I64 => 3,
        DType::Bool => 4,
    }
}

#[derive(Default)]
struct Scratch {
    f32: Vec<f32>,
    f64: Vec<f64>,
    i32: Vec<i32>,
    i64: Vec<i64>,
    bool: Vec<bool>,
    /// Per bank, per register: where the register's current block lies in
    /// an input or output buffer, or null for a block of the bank.
    at: [Vec<*mut u8>; 5],
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Raw bank pointers of one thread's scratch, and its table of registers
/// that lie in place in an input or output buffer.
#[derive(Clone, Copy)]
struct Banks {
    f32: *mut f32,
    f64: *mut f64,
    i32: *mut i32,
    i64: *mut i64,
    bool: *mut bool,
    at: [*mut *mut u8; 5],
    /// Elements between the starts of consecutive registers of a bank: a
    /// block's length, at most [`BLOCK`], so that a group over a few
    /// elements with many registers (the gradient of a long scalar chain
    /// keeps every forward value) does not reserve `BLOCK` per register.
    stride: usize,
}

/// An operand of an op over a block: the block's elements, or one number
/// for every element.
#[derive(Clone, Copy)]
enum Opd<'a, T> {
    V(&'a [T]),
    S(T),
}

impl<T: Copy> Opd<'_, T> {
    /// Whether `p` holds for some element.
    #[inline(always)]
    fn any(&self, p: impl Fn(T) -> bool) -> bool {
        match self {
            Opd::V(v) => v.iter().any(|&x| p(x)),
            Opd::S(x) => p(*x),
        }
    }
}

trait Banked: Elem {
    /// The bank's number, as [`bank`] gives it.
    const BANK: usize;
    fn base(b: &Banks) -> *mut Self;
}
macro_rules! banked {
    ($t:ty, $f:ident, $k:expr) => {
        impl Banked for $t {
            const BANK: usize = $k;
            #[inline(always)]
            fn base(b: &Banks) -> *mut Self {
                b.$f
            }
        }
    };
}
banked!(f32, f32, 0);
banked!(f64, f64, 1);
banked!(i32, i32, 2);
banked!(i64, i64, 3);
banked!(bool, bool, 4);

impl Banks {
    /// Where register `r`'s block starts: in place in a buffer, or in its
    /// bank.
    ///
    /// # Safety
    /// `T` is `r`'s dtype.
    #[inline(always)]
    unsafe fn ptr<T: Banked>(&self, r: Reg) -> *mut T {
        let at = unsafe { *self.at[T::BANK].add(r.idx as usize) };
        if at.is_null() { unsafe { T::base(self).add(r.idx as usize * self.stride) } } else { at as *mut T }
    }

    /// Register `r` (first `len` elements), to write.
    ///
    /// # Safety
    /// `T` is `r`'s dtype; no other live slice covers the same register.
    #[allow(clippy::mut_from_ref)]
    #[inline(always)]
    unsafe fn reg<T: Banked>(&self, r: Reg, len: usize) -> &mut [T] {
        unsafe { std::slice::from_raw_parts_mut(self.ptr(r), len) }
    }

    /// Register `r` (first `len` elements), to read.
    ///
    /// # Safety
    /// `T` is `r`'s dtype; no live mutable slice covers the same register.
    #[inline(always)]
    unsafe fn src<T: Banked>(&self, r: Reg, len: usize) -> &[T] {
        unsafe { std::slice::from_raw_parts(self.ptr(r), len) }
    }

    /// Operand `i` of `inst` (first `len` elements): one number when it is
    /// uniform, the register's block otherwise.
    ///
    /// # Safety
    /// As for [`Banks::src`].
    #[inline(always)]
    unsafe fn opd<T: Banked>(&self, inst: &FInst, i: usize, len: usize) -> Opd<'_, T> {
        let r = inst.args[i];
        if inst.uniform & (1 << i) != 0 {
            Opd::S(unsafe { *self.ptr::<T>(r) })
        } else {
            Opd::V(unsafe { self.src(r, len) })
        }
    }
}

/// Runs a fused group over all `n` elements.
///
/// A large group is cut into [`super::TASKS_PER_THREAD`] tasks per thread
/// of at least [`super::MIN_TASK`] elements, each one a task of its own
/// for rayon (`with_max_len(1)`: its adaptive splitting would otherwise
/// run several of them in one unstealable piece). When another process
/// holds a core, the threads elsewhere take over the tasks that the slow
/// thread has not started, and the call waits for one short task on the
/// busy core rather than for a half or a quarter of the work.
pub(crate) fn run(g: &Fused, frame: &Frame) -> Result<(), Error> {
    let work = g.n.saturating_mul(g.body.len().max(1));
    if !super::parallel(work) {
        return run_range(g, frame, 0, g.n);
    }
    let chunk = super::task_len(g.n, BLOCK);
    let tasks = g.n.div_ceil(chunk);
    (0..tasks)
        .into_par_iter()
        .with_max_len(1)
        .try_for_each(|t| run_range(g, frame, t * chunk, ((t + 1) * chunk).min(g.n)))
}

fn run_range(g: &Fused, frame: &Frame, lo: usize, hi: usize) -> Result<(), Error> {
    if let Some((u, src, dst, dtype)) = direct_unary(g) {
        // Pieces of a few blocks: the slice functions redo their rare slow
        // elements in a second pass, which then finds the piece in cache.
        let mut start = lo;
        while start < hi {
            let len = (8 * BLOCK).min(hi - start);
            // SAFETY: the plan sized both buffers to n elements of the
            // group's dtype; `direct_unary` checked that they are distinct,
            // and this range of the output is written by this thread only.
            unsafe {
                match dtype {
                    DType::F32 => {
                        direct(u, frame.get_mut_range::<f32>(dst, start, len), frame.get_range(src, start, len))
                    }
                    // F64: `direct_unary` admits the float dtypes only.
                    _ => direct(u, frame.get_mut_range::<f64>(dst, start, len), frame.get_range(src, start, len)),
                }
            }
            start += len;
        }
        return Ok(());
    }
    SCRATCH.with(|s| {
        let mut s = s.borrow_mut();
        let s = &mut *s;
        // No block of this range is longer than `stride`.
        let stride = BLOCK.min(hi - lo).max(1);
        let need = |k: usize| g.regs[k] * stride;
        if s.f32.len() < need(0) {
            s.f32.resize(need(0), 0.0);
        }
        if s.f64.len() < need(1) {
            s.f64.resize(need(1), 0.0);
        }
        if s.i32.len() < need(2) {
            s.i32.resize(need(2), 0);
        }
        if s.i64.len() < need(3) {
            s.i64.resize(need(3), 0);
        }
        if s.bool.len() < need(4) {
            s.bool.resize(need(4), false);
        }
        for (k, table) in s.at.iter_mut().enumerate() {
            table.clear();
            table.resize(g.regs[k], std::ptr::null_mut());
        }
        // Loaded inputs are read in place: their registers are never
        // written (the plan gives inputs registers of their own, and no
        // output is an input).
        debug_assert!(g.inputs.iter().all(|(src, r)| {
            !matches!(src, Src::Load(_)) || g.body.iter().all(|i| i.dst != *r) && g.stores.iter().all(|(o, _)| o != r)
        }));
        // An output is written in place unless its buffer shares memory
        // with a loaded input (an op would overwrite elements of the block
        // that later ops still read) or its register already lies in
        // another output; those are copied out after the block's last op.
        let loads: smallvec::SmallVec<[(usize, usize); 8]> = g
            .inputs
            .iter()
            .filter_map(|(src, _)| if let Src::Load(l) = src { Some(frame.span(*l)) } else { None })
            .collect();
        let mut in_place: smallvec::SmallVec<[bool; 4]> = smallvec::SmallVec::new();
        for (k, (r, loc)) in g.stores.iter().enumerate() {
            let (a, b) = frame.span(*loc);
            let shared = loads.iter().any(|&(c, d)| a < d && c < b);
            let again = g.stores[..k].iter().zip(&in_place).any(|((o, _), &p)| p && o == r);
            in_place.push(!shared && !again);
        }
        let banks = Banks {
            f32: s.f32.as_mut_ptr(),
            f64: s.f64.as_mut_ptr(),
            i32: s.i32.as_mut_ptr(),
            i64: s.i64.as_mut_ptr(),
            bool: s.bool.as_mut_ptr(),
            at: std::array::from_fn(|k| s.at[k].as_mut_ptr()),
            stride,
        };
        let full = BLOCK.min(hi - lo);
        // Constant inputs fill their registers once.
        for (src, r) in &g.inputs {
            match src {
                Src::Load(_) => {}
                Src::Splat(v) => with_dtype!(r.dtype, T => {
                    // SAFETY: the register's bank is T's.
                    unsafe { banks.reg::<T>(*r, full) }.fill(splat_value::<T>(*v));
                }),
                Src::ScalarAt(loc) => with_dtype!(r.dtype, T => {
                    // SAFETY: the plan stored a T there with at least one element.
                    let v = unsafe { frame.get_range::<T>(*loc, 0, 1) }[0];
                    unsafe { banks.reg::<T>(*r, full) }.fill(v);
                }),
            }
        }
        let mut start = lo;
        while start < hi {
            let len = BLOCK.min(hi - start);
            // The block after next of each loaded input is requested now, so
            // that its fetch from memory overlaps this block's arithmetic.
            let ahead = start + 2 * BLOCK;
            for (src, r) in &g.inputs {
                if let (Src::Load(loc), true) = (src, ahead < hi) {
                    with_dtype!(r.dtype, T => {
                        // SAFETY: as for the loads below.
                        prefetch(unsafe { frame.get_range::<T>(*loc, ahead, BLOCK.min(hi - ahead)) });
                    });
                }
            }
            for (src, r) in &g.inputs {
                if let Src::Load(loc) = src {
                    with_dtype!(r.dtype, T => {
                        // SAFETY: the plan sized the buffer to n elements of
                        // T; the block is only read (an output sharing its
                        // memory is written after the body).
                        let x = unsafe { frame.get_range::<T>(*loc, start, len) };
                        // SAFETY: the table has a slot for every register.
                        unsafe { banks.at[bank(r.dtype)].add(r.idx as usize).write(x.as_ptr() as *mut u8) };
                    });
                }
            }
            for ((r, loc), _) in g.stores.iter().zip(&in_place).filter(|(_, p)| **p) {
                with_dtype!(r.dtype, T => {
                    // SAFETY: as for the loads; this block of the output is
                    // written by this thread only, and no input lies there.
                    let out = unsafe { frame.get_mut_range::<T>(*loc, start, len) };
                    unsafe { banks.at[bank(r.dtype)].add(r.idx as usize).write(out.as_mut_ptr() as *mut u8) };
                });
            }
            // SAFETY: registers of distinct indices never overlap, and a
            // destination is never one of its own operands.
            unsafe { body(&g.body, &banks, len)? };
            for ((r, loc), _) in g.stores.iter().zip(&in_place).filter(|(_, p)| !**p) {
                with_dtype!(r.dtype, T => {
                    // SAFETY: as for the loads; this block of the output is
                    // written by this thread only.
                    let out = unsafe { frame.get_mut_range::<T>(*loc, start, len) };
                    out.copy_from_slice(unsafe { banks.src::<T>(*r, len) });
                });
            }
            start += len;
        }
        Ok(())
    })
}

/// A group that is one float unary op from a loaded input to a stored
/// output in another buffer (a standalone `exp` or `logistic` over a large
/// array): it runs from the input buffer straight into the output, without
/// copying blocks into and out of registers, so that the loads from memory
/// overlap the arithmetic. Same functions, same bits.
fn direct_unary(g: &Fused) -> Option<(Unary, Loc, Loc, DType)> {
    let [inst] = g.body.as_slice() else { return None };
    let FOp::Unary(u) = inst.op else { return None };
    let [(Src::Load(src), r)] = g.inputs.as_slice() else { return None };
    let [(out, dst)] = g.stores.as_slice() else { return None };
    let float = matches!(r.dtype, DType::F32 | DType::F64);
    (float && inst.args[..] == [*r] && *out == inst.dst && out.dtype == r.dtype && src != dst)
        .then_some((u, *src, *dst, r.dtype))
}

/// The widest vectors this CPU has, for the loops that multiversion
/// (within the cap of [`crate::isa::limit`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Simd {
    Avx512,
    Avx2,
    Plain,
}

#[inline(always)]
fn simd() -> Simd {
    #[cfg(target_arch = "x86_64")]
    {
        let cap = crate::isa::current();
        if cap == Isa::Widest
            && std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx512bw")
        {
            return Simd::Avx512;
        }
        if cap != Isa::Baseline
            && std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
        {
            return Simd::Avx2;
        }
    }
    Simd::Plain
}

/// [`unary_float`] with the widest vectors the CPU has (see [`body`]).
unsafe fn direct<T: Float>(u: Unary, o: &mut [T], a: &[T]) {
    #[cfg(target_arch = "x86_64")]
    if o.len() >= SMALL {
        match simd() {
            // SAFETY: the CPU has these features.
            Simd::Avx512 => return unsafe { direct_avx512(u, o, a) },
            Simd::Avx2 => return unsafe { direct_avx2(u, o, a) },
            Simd::Plain => {}
        }
    }
    unary_float(u, o, a)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
unsafe fn direct_avx512<T: Float>(u: Unary, o: &mut [T], a: &[T]) {
    unary_float(u, o, a)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn direct_avx2<T: Float>(u: Unary, o: &mut [T], a: &[T]) {
    unary_float(u, o, a)
}

/// Asks the CPU to bring `x` into the cache (a hint: no effect on results).
#[inline(always)]
fn prefetch<T>(x: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let p = x.as_ptr() as *const i8;
        for off in (0..std::mem::size_of_val(x)).step_by(64) {
            // SAFETY: the address is inside `x`; a prefetch never faults.
            #[allow(unused_unsafe)]
            unsafe {
                _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(off))
            };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

fn splat_value<T: Elem>(v: Scalar) -> T {
    fn pick<T: Elem, U: Elem>(u: U) -> T {
        // Only called with U = T.
        *(&u as &dyn std::any::Any).downcast_ref::<T>().expect("splat of the register's dtype")
    }
    match v {
        Scalar::F32(x) => pick(x),
        Scalar::F64(x) => pick(x),
        Scalar::I32(x) => pick(x),
        Scalar::I64(x) => pick(x),
        Scalar::Bool(x) => pick(x),
    }
}

#[inline(always)]
fn map1<T: Copy, U: Copy>(d: &mut [U], a: &[T], f: impl Fn(T) -> U) {
    for (o, &x) in d.iter_mut().zip(a) {
        *o = f(x);
    }
}

#[inline(always)]
fn map2<T: Copy, U: Copy>(d: &mut [U], a: &[T], b: &[T], f: impl Fn(T, T) -> U) {
    for ((o, &x), &y) in d.iter_mut().zip(a).zip(b) {
        *o = f(x, y);
    }
}

/// `d = f(a, b)` elementwise, a uniform operand read as one number.
#[inline(always)]
fn zip2<T: Copy, U: Copy>(d: &mut [U], a: Opd<'_, T>, b: Opd<'_, T>, f: impl Fn(T, T) -> U) {
    match (a, b) {
        (Opd::V(a), Opd::V(b)) => map2(d, a, b, f),
        (Opd::V(a), Opd::S(y)) => map1(d, a, |x| f(x, y)),
        (Opd::S(x), Opd::V(b)) => map1(d, b, |y| f(x, y)),
        (Opd::S(x), Opd::S(y)) => d.fill(f(x, y)),
    }
}

/// Blocks shorter than this run without the wide-vector bodies.
const SMALL: usize = 16;

/// Runs the group's program over one block, with the widest vectors the
/// CPU has. The element functions are IEEE operations; the fused
/// multiply-adds of `exp` round once on every path (the instruction, or a
/// software `fma` in loops capped below it), and a CPU without FMA takes
/// `exp`'s unfused formulation everywhere, so every instruction set gives
/// the same bits.
unsafe fn body(body: &[FInst], banks: &Banks, len: usize) -> Result<(), Error> {
    // A few elements (scalars, small vectors) gain nothing from wide
    // vectors, whose loops' set-up and masked tails cost more than the
    // arithmetic: the plain loops run them, with the same bits.
    #[cfg(target_arch = "x86_64")]
    if len >= SMALL {
        match simd() {
            // SAFETY: the CPU has these AVX-512 subsets.
            Simd::Avx512 => return unsafe { body_avx512(body, banks, len) },
            // SAFETY: the CPU has AVX2.
            Simd::Avx2 => return unsafe { body_avx2(body, banks, len) },
            Simd::Plain => {}
        }
    }
    for inst in body {
        unsafe { step(inst, banks, len)? };
    }
    Ok(())
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
unsafe fn body_avx512(body: &[FInst], banks: &Banks, len: usize) -> Result<(), Error> {
    for inst in body {
        unsafe { step(inst, banks, len)? };
    }
    Ok(())
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn body_avx2(body: &[FInst], banks: &Banks, len: usize) -> Result<(), Error> {
    for inst in body {
        unsafe { step(inst, banks, len)? };
    }
    Ok(())
}

// The comparisons are written once for every dtype, bool included.
#[allow(clippy::bool_comparison)]
#[inline(always)]
unsafe fn step(inst: &FInst, banks: &Banks, len: usize) -> Result<(), Error> {
    let a = inst.args.first().copied();
    let d = inst.dst;
    unsafe {
        match &inst.op {
            FOp::Unary(u) => unary(*u, banks, d, a.expect("one operand"), len),
            FOp::Binary(b) => binary(*b, banks, inst, len),
            FOp::Compare(c) => {
                let x = a.expect("operand");
                let out = banks.reg::<bool>(d, len);
                with_dtype!(x.dtype, T => {
                    let (p, q) = (banks.opd::<T>(inst, 0, len), banks.opd::<T>(inst, 1, len));
                    match c {
                        Compare::Eq => zip2(out, p, q, |s, t| s == t),
                        Compare::Ne => zip2(out, p, q, |s, t| s != t),
                        Compare::Lt => zip2(out, p, q, |s, t| s < t),
                        Compare::Le => zip2(out, p, q, |s, t| s <= t),
                        Compare::Gt => zip2(out, p, q, |s, t| s > t),
                        Compare::Ge => zip2(out, p, q, |s, t| s >= t),
                    }
                });
                Ok(())
            }
            FOp::Select => {
                let p = banks.src::<bool>(inst.args[0], len);
                with_dtype!(d.dtype, T => {
                    let out = banks.reg::<T>(d, len);
                    match (banks.opd::<T>(inst, 1, len), banks.opd::<T>(inst, 2, len)) {
                        (Opd::V(t), Opd::V(f)) => {
                            for i in 0..len {
                                out[i] = if p[i] { t[i] } else { f[i] };
                            }
                        }
                        (Opd::V(t), Opd::S(f)) => {
                            for i in 0..len {
                                out[i] = if p[i] { t[i] } else { f };
                            }
                        }
                        (Opd::S(t), Opd::V(f)) => {
                            for i in 0..len {
                                out[i] = if p[i] { t } else { f[i] };
                            }
                        }
                        (Opd::S(t), Opd::S(f)) => {
                            for i in 0..len {
                                out[i] = if p[i] { t } else { f };
                            }
                        }
                    }
                });
                Ok(())
            }
            FOp::Convert => {
                let x = a.expect("one operand");
                with_dtype!(x.dtype, A => {
                    let src = banks.src::<A>(x, len);
                    with_dtype!(d.dtype, B => map1(banks.reg::<B>(d, len), src, CastTo::<B>::cast));
                });
                Ok(())
            }
        }
    }
}

/// `o = u(a)` for the numeric unary ops; false for the others.
#[inline(always)]
fn unary_num<T: Num>(u: Unary, o: &mut [T], a: &[T]) -> bool {
    match u {
        Unary::Neg => map1(o, a, Num::neg),
        Unary::Abs => map1(o, a, Num::abs),
        Unary::Sign => map1(o, a, Num::sign),
        Unary::IntegerPow { y } => map1(o, a, |v| Num::ipow(v, y)),
        _ => return false,
    }
    true
}

/// `o = u(a)` for a float dtype.
#[inline(always)]
fn unary_float<T: Float>(u: Unary, o: &mut [T], a: &[T]) {
    if unary_num(u, o, a) {
        return;
    }
    match u {
        Unary::Exp => T::exp_slice(o, a),
        Unary::Log => map1(o, a, Float::ln),
        Unary::Log1p => map1(o, a, Float::ln_1p),
        Unary::Expm1 => T::exp_m1_slice(o, a),
        Unary::Sin => map1(o, a, Float::sin),
        Unary::Cos => map1(o, a, Float::cos),
        Unary::Tanh => map1(o, a, Float::tanh),
        Unary::Logistic => T::logistic_slice(o, a),
        Unary::Sqrt => map1(o, a, Float::sqrt),
        Unary::Rsqrt => map1(o, a, Float::rsqrt),
        Unary::Lgamma => map1(o, a, Float::lgamma),
        Unary::Digamma => map1(o, a, Float::digamma),
        Unary::Erf => map1(o, a, Float::erf),
        Unary::Polygamma { n } => map1(o, a, |v| Float::polygamma(v, n)),
        Unary::Neg | Unary::Abs | Unary::Sign | Unary::IntegerPow { .. } | Unary::Not => {
            unreachable!("handled by the numeric and bool arms")
        }
    }
}

#[inline(always)]
unsafe fn unary(u: Unary, banks: &Banks, d: Reg, x: Reg, len: usize) -> Result<(), Error> {
    unsafe {
        match d.dtype {
            DType::F32 => unary_float(u, banks.reg::<f32>(d, len), banks.src::<f32>(x, len)),
            DType::F64 => unary_float(u, banks.reg::<f64>(d, len), banks.src::<f64>(x, len)),
            DType::I32 => {
                unary_num(u, banks.reg::<i32>(d, len), banks.src::<i32>(x, len));
            }
            DType::I64 => {
                unary_num(u, banks.reg::<i64>(d, len), banks.src::<i64>(x, len));
            }
            DType::Bool => map1(banks.reg::<bool>(d, len), banks.src::<bool>(x, len), |v| !v),
        }
    }
    Ok(())
}

#[inline(always)]
unsafe fn binary(b: Binary, banks: &Banks, inst: &FInst, len: usize) -> Result<(), Error> {
    #[inline(always)]
    fn num<T: Num>(b: Binary, o: &mut [T], p: Opd<'_, T>, q: Opd<'_, T>) -> Result<(), ()> {
        match b {
            Binary::Add => zip2(o, p, q, Num::add),
            Binary::Sub => zip2(o, p, q, Num::sub),
            Binary::Mul => zip2(o, p, q, Num::mul),
            Binary::Max => zip2(o, p, q, Num::max),
            Binary::Min => zip2(o, p, q, Num::min),
            Binary::Div => {
                if q.any(|v| Num::div(T::one(), v).is_none()) {
                    return Err(());
                }
                zip2(o, p, q, |s, t| Num::div(s, t).unwrap_or(s))
            }
            Binary::Pow | Binary::And | Binary::Or => unreachable!("float and bool arms"),
        }
        Ok(())
    }
    #[inline(always)]
    fn float<T: Float>(b: Binary, o: &mut [T], p: Opd<'_, T>, q: Opd<'_, T>) -> Result<(), ()> {
        match b {
            Binary::Pow => {
                zip2(o, p, q, Float::pow);
                Ok(())
            }
            _ => num(b, o, p, q),
        }
    }
    let d = inst.dst;
    let r = unsafe {
        match d.dtype {
            DType::F32 => float(b, banks.reg::<f32>(d, len), banks.opd(inst, 0, len), banks.opd(inst, 1, len)),
            DType::F64 => float(b, banks.reg::<f64>(d, len), banks.opd(inst, 0, len), banks.opd(inst, 1, len)),
            DType::I32 => num(b, banks.reg::<i32>(d, len), banks.opd(inst, 0, len), banks.opd(inst, 1, len)),
            DType::I64 => num(b, banks.reg::<i64>(d, len), banks.opd(inst, 0, len), banks.opd(inst, 1, len)),
            DType::Bool => {
                let o = banks.reg::<bool>(d, len);
                let (p, q) = (banks.opd::<bool>(inst, 0, len), banks.opd::<bool>(inst, 1, len));
                if b == Binary::And {
                    zip2(o, p, q, |s, t| s & t)
                } else {
                    zip2(o, p, q, |s, t| s | t)
                }
                Ok(())
            }
        }
    };
    r.map_err(|()| Error::DivisionByZero { op: "div", at: inst.at.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CompileOptions;
    use crate::plan::{Step, plan};

    fn groups(body: &str, params: &str, result: &str) -> Vec<Fused> {
        let src = format!("func @f({params}) -> {result} {{\n{body}\n}}");
        let f = saddle_ir::parse_func("t.sir", &src).unwrap();
        let p = plan(&f, &CompileOptions::default()).unwrap();
        p.steps
            .into_iter()
            .filter_map(|s| match s {
                Step::Fused(g) => Some(g),
                Step::Kernel { .. } => None,
            })
            .collect()
    }

    #[test]
    fn only_a_lone_float_unary_op_between_two_buffers_runs_direct() {
        let lone = groups("%y: f64[4096] = logistic %x\nreturn %y", "%x: f64[4096]", "f64[4096]");
        assert!(matches!(direct_unary(&lone[0]), Some((Unary::Logistic, Loc::Param(0), Loc::Slot(_), DType::F64))));
        let f32 = groups("%y: f32[64] = exp %x\nreturn %y", "%x: f32[64]", "f32[64]");
        assert!(direct_unary(&f32[0]).is_some());
        // Two ops: the intermediate stays in a register.
        let two = groups("%a: f64[64] = exp %x\n%y: f64[64] = tanh %a\nreturn %y", "%x: f64[64]", "f64[64]");
        assert!(direct_unary(&two[0]).is_none());
        // Integers, and binary ops, go through the registers.
        let int = groups("%y: i64[64] = neg %x\nreturn %y", "%x: i64[64]", "i64[64]");
        assert!(direct_unary(&int[0]).is_none());
        let bin = groups("%y: f64[64] = add %x, %x\nreturn %y", "%x: f64[64]", "f64[64]");
        assert!(direct_unary(&bin[0]).is_none());
        // An output written over its own input's buffer goes through the
        // registers, which read a block before writing it.
        let inplace = groups(
            "%a: f64[64] = dot_general %m, %v {lhs_contract = [1], rhs_contract = [0]}\n%y: f64[64] = exp %a\nreturn %y",
            "%m: f64[64,8], %v: f64[8]",
            "f64[64]",
        );
        let g = &inplace[0];
        let same = matches!((&g.inputs[0].0, &g.stores[0].1), (Src::Load(a), b) if a == b);
        assert!(same, "the plan reuses the dying input's buffer");
        assert!(direct_unary(g).is_none());
    }
}
