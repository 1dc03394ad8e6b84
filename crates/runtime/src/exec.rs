//! Executables: a compiled plan, its workspaces, and running it.

use std::sync::Mutex;

use saddle_ir::{Array, DType, Func, TensorType};

use crate::backend::{Backend, DefaultBackend};
use crate::kernels::{Frame, Loc, Raw, elementwise, index, layout, linalg, reduce, with_dtype, with_float, with_num};
use crate::memory::try_zeroed;
use crate::plan::{KernelOp, Plan, Step};
use crate::scalar::Elem;
use crate::{CompileOptions, Error, check_args};

/// A compiled function: call [`Executable::run`] as often as needed.
///
/// `run` takes `&self`, so one executable can serve several threads at
/// once; each call borrows a [`Workspace`] (the buffers of the plan) from
/// a pool inside the executable and returns it, so steady-state calls do
/// not allocate buffers. The lowest-overhead path is
/// [`Executable::run_into`], with a workspace and output arrays the caller
/// keeps: it allocates nothing at all.
///
/// ```
/// use saddle_ir::{parse_func, Array};
/// let f = parse_func("f.sir", "func @f(%x: f64[3]) -> f64[3] {\n %y: f64[3] = logistic %x\n return %y\n}").unwrap();
/// let exe = saddle_runtime::compile(&f).unwrap();
/// let x = Array::from(ndarray::arr1(&[0.0, 1.0, -1.0]).into_dyn());
/// let y = exe.run(&[x.clone()]).unwrap();
/// assert_eq!(y[0].to_f64_vec()[0], 0.5);
///
/// // No allocation per call:
/// let mut ws = exe.workspace();
/// let mut out = exe.new_outputs();
/// exe.run_into(&mut ws, &[x], &mut out).unwrap();
/// assert!(out[0].bitwise_eq(&y[0]));
/// ```
pub struct Executable {
    plan: Plan,
    params: Vec<TensorType>,
    result_types: Vec<TensorType>,
    pool: Mutex<Vec<Workspace>>,
    backend: DefaultBackend,
}

/// The buffers one call of an [`Executable`] works in. Make one with
/// [`Executable::workspace`] and reuse it for every call.
pub struct Workspace {
    slots: Vec<Vec<u64>>,
    slot_raws: Vec<Raw>,
    /// The slots of the current call: `slot_raws`, with the output arrays
    /// standing in for the slots that hold results.
    call_slots: Vec<Raw>,
    direct: Vec<bool>,
    param_raws: Vec<Raw>,
    const_raws: Vec<Raw>,
    staging: Vec<Vec<u64>>,
}

// SAFETY: the raw pointers point into the workspace's own buffers (or are
// rebuilt on every call); a workspace is used by one call at a time.
unsafe impl Send for Workspace {}

/// Asks the kernel to back a large, not yet touched buffer with huge
/// pages, so that its first use takes one page fault per 2 MiB instead of
/// one per 4 KiB (a hint: without transparent huge pages nothing changes).
fn huge_pages(buf: &mut [u64]) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let bytes = std::mem::size_of_val(buf);
        if bytes < 2 * HUGE {
            return;
        }
        let start = buf.as_mut_ptr() as usize;
        let first = start.next_multiple_of(HUGE);
        let end = (start + bytes) / HUGE * HUGE;
        if end > first {
            // SAFETY: the range lies inside `buf`; MADV_HUGEPAGE changes no
            // contents and its failure is harmless.
            unsafe { libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE) };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = buf;
}

fn oom(what: String, bytes: u128) -> Error {
    Error::OutOfMemory { what, bytes, limit: crate::available_memory() }
}

/// A zero-filled array of type `t`, or [`Error::OutOfMemory`] when the
/// allocator cannot give it.
fn try_zeros(t: &TensorType, what: impl FnOnce() -> String) -> Result<Array, Error> {
    let n = t.num_elements();
    let shape = ndarray::IxDyn(&t.shape);
    with_dtype!(t.dtype, T => {
        let mut v: Vec<T> = Vec::new();
        if v.try_reserve_exact(n).is_err() {
            return Err(oom(what(), crate::memory::bytes_of(t)));
        }
        v.resize(n, <T as Default>::default());
        let a = ndarray::ArrayD::from_shape_vec(shape, v).map_err(|e| crate::reference::internal(&e.to_string()))?;
        Ok(Array::from(a))
    })
}

fn raw_of(a: &Array) -> Raw {
    let bytes = a.len() * a.dtype().size_bytes();
    let ptr = saddle_ir::with_array!(a, x => x.as_ptr() as *mut u8);
    Raw { ptr, bytes }
}

impl Executable {
    pub(crate) fn new(f: &Func, opts: &CompileOptions) -> Result<Executable, Error> {
        let plan = crate::plan::plan(f, opts)?;
        Ok(Executable {
            params: f.param_types().to_vec(),
            result_types: f.result_types(),
            plan,
            pool: Mutex::new(Vec::new()),
            backend: DefaultBackend::default(),
        })
    }

    /// The function as planned (after the clean-up passes).
    pub fn func(&self) -> &Func {
        &self.plan.func
    }

    /// Number of steps of the plan (fused loops and kernels).
    pub fn num_steps(&self) -> usize {
        self.plan.steps.len()
    }

    /// Number of fused elementwise loops.
    pub fn num_fused_loops(&self) -> usize {
        self.plan.fused_groups
    }

    /// Bytes of the workspace buffers.
    pub fn workspace_bytes(&self) -> usize {
        self.plan.slot_bytes.iter().sum()
    }

    /// The linear-algebra backend's name (`faer` or `openblas`).
    pub fn backend(&self) -> &'static str {
        self.backend.name()
    }

    /// A fresh workspace for [`Executable::run_into`]. Its buffers are
    /// allocated here when memory allows; otherwise it is left empty and
    /// the first [`Executable::run_into`] with it retries and reports
    /// [`Error::OutOfMemory`].
    pub fn workspace(&self) -> Workspace {
        self.try_workspace().unwrap_or_else(|_| Workspace {
            slots: Vec::new(),
            slot_raws: Vec::new(),
            call_slots: Vec::new(),
            direct: Vec::new(),
            param_raws: Vec::new(),
            const_raws: Vec::new(),
            staging: Vec::new(),
        })
    }

    /// A fresh workspace, or [`Error::OutOfMemory`] when the allocator
    /// cannot give its buffers.
    fn try_workspace(&self) -> Result<Workspace, Error> {
        let what = || format!("the workspace of @{}", self.plan.func.name());
        let mut slots: Vec<Vec<u64>> = Vec::new();
        slots.try_reserve_exact(self.plan.slot_bytes.len()).map_err(|_| oom(what(), 0))?;
        for &b in &self.plan.slot_bytes {
            slots.push(try_zeroed(b.div_ceil(8).max(1), what)?);
        }
        slots.iter_mut().for_each(|s| huge_pages(s));
        let slot_raws = slots.iter_mut().map(|s| Raw { ptr: s.as_mut_ptr() as *mut u8, bytes: s.len() * 8 }).collect();
        let call_slots = Vec::with_capacity(self.plan.slot_bytes.len());
        Ok(Workspace {
            slots,
            slot_raws,
            call_slots,
            direct: Vec::with_capacity(self.result_types.len()),
            param_raws: Vec::with_capacity(self.params.len()),
            const_raws: Vec::with_capacity(self.plan.consts.len()),
            staging: vec![Vec::new(); self.params.len()],
        })
    }

    /// Zero-filled arrays of the result types, for [`Executable::run_into`].
    pub fn new_outputs(&self) -> Vec<Array> {
        self.result_types.iter().map(|t| Array::full(t, saddle_ir::Scalar::zero(t.dtype))).collect()
    }

    /// Runs the function on `inputs` and returns its results.
    pub fn run(&self, inputs: &[Array]) -> Result<Vec<Array>, Error> {
        check_args(&self.plan.func, inputs)?;
        let pooled = self.pool.lock().ok().and_then(|mut p| p.pop());
        let mut ws = match pooled {
            Some(ws) => ws,
            None => self.try_workspace()?,
        };
        let mut out = Vec::with_capacity(self.result_types.len());
        for (i, t) in self.result_types.iter().enumerate() {
            out.push(try_zeros(t, || format!("result {i} of @{}", self.plan.func.name()))?);
        }
        let result = self.run_into(&mut ws, inputs, &mut out);
        if let Ok(mut p) = self.pool.lock() {
            p.push(ws);
        }
        result.map(|()| out)
    }

    /// Runs the function on `inputs`, writing its results into `outputs`
    /// (arrays of the result types in standard layout, e.g. from
    /// [`Executable::new_outputs`]). Allocates nothing when the inputs are
    /// in standard layout.
    pub fn run_into(&self, ws: &mut Workspace, inputs: &[Array], outputs: &mut [Array]) -> Result<(), Error> {
        let name = || self.plan.func.name().to_string();
        if outputs.len() != self.result_types.len() {
            return Err(Error::OutputCount { func: name(), expected: self.result_types.len(), found: outputs.len() });
        }
        for (index, (o, t)) in outputs.iter().zip(&self.result_types).enumerate() {
            let standard = saddle_ir::with_array!(o, a => a.is_standard_layout());
            if o.dtype() != t.dtype || o.shape() != t.shape.as_slice() || !standard {
                return Err(Error::OutputType {
                    func: name(),
                    index,
                    expected: Box::new(t.clone()),
                    found: Box::new(o.ty()),
                });
            }
        }
        // A workspace made for another executable (or left empty when its
        // buffers could not be allocated) is replaced by one of this plan.
        if ws.slots.len() != self.plan.slot_bytes.len()
            || ws.slots.iter().zip(&self.plan.slot_bytes).any(|(s, &b)| s.len().saturating_mul(8) < b)
            || ws.staging.len() != self.params.len()
        {
            *ws = self.try_workspace()?;
        }
        // Results computed into a slot are computed straight into the output
        // array when it is large enough to stand in for that slot.
        ws.call_slots.clear();
        ws.call_slots.extend_from_slice(&ws.slot_raws);
        ws.direct.clear();
        for (o, &loc) in outputs.iter_mut().zip(&self.plan.results) {
            let raw = raw_of(o);
            let direct = match loc {
                Loc::Slot(s) => {
                    let s = s as usize;
                    let free =
                        !std::ptr::eq(ws.call_slots[s].ptr, raw.ptr) && ws.call_slots[s].ptr == ws.slot_raws[s].ptr;
                    free && raw.bytes >= self.plan.slot_bytes[s] && !raw.ptr.is_null() && raw.bytes > 0
                }
                Loc::Param(_) | Loc::Const(_) => false,
            };
            if direct && let Loc::Slot(s) = loc {
                ws.call_slots[s as usize] = raw;
            }
            ws.direct.push(direct);
        }
        self.execute(ws, inputs)?;
        for (((o, &loc), ty), &direct) in
            outputs.iter_mut().zip(&self.plan.results).zip(&self.result_types).zip(&ws.direct)
        {
            if direct {
                continue;
            }
            // The call's slots: a value returned twice is read from the
            // output that stood in for its slot.
            let frame = Frame { params: &ws.param_raws, consts: &ws.const_raws, slots: &ws.call_slots };
            with_dtype!(ty.dtype, T => {
                // SAFETY: the plan stored a T of this many elements there.
                let src = unsafe { frame.get::<T>(loc, ty.num_elements()) };
                let dst = T::unwrap_mut(o).and_then(|a| a.as_slice_mut()).expect("checked above");
                dst.copy_from_slice(src);
            });
        }
        Ok(())
    }

    fn execute(&self, ws: &mut Workspace, inputs: &[Array]) -> Result<(), Error> {
        check_args(&self.plan.func, inputs)?;
        ws.param_raws.clear();
        for (i, x) in inputs.iter().enumerate() {
            let standard = saddle_ir::with_array!(x, a => a.is_standard_layout());
            if standard {
                ws.param_raws.push(raw_of(x));
            } else {
                let bytes = x.len() * x.dtype().size_bytes();
                let buf = &mut ws.staging[i];
                let words = bytes.div_ceil(8).max(1);
                if buf.len() < words {
                    *buf = try_zeroed(words, || format!("a copy of argument {i} in standard layout"))?;
                }
                with_dtype!(x.dtype(), T => {
                    let a = T::unwrap(x).expect("dtype checked");
                    // SAFETY: the buffer holds `bytes` bytes, 8-aligned.
                    let dst = unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr() as *mut T, a.len()) };
                    for (d, s) in dst.iter_mut().zip(a.iter()) {
                        *d = *s;
                    }
                });
                ws.param_raws.push(Raw { ptr: buf.as_mut_ptr() as *mut u8, bytes });
            }
        }
        ws.const_raws.clear();
        ws.const_raws.extend(self.plan.consts.iter().map(raw_of));
        let frame = Frame { params: &ws.param_raws, consts: &ws.const_raws, slots: &ws.call_slots };
        for step in &self.plan.steps {
            match step {
                Step::Fused(g) => elementwise::run(g, &frame)?,
                Step::Kernel { op, args, out, ty, temps, at } => {
                    kernel(self.backend, op, args, *out, ty, temps, at, &frame)?;
                }
            }
        }
        Ok(())
    }
}

#[allow(clippy::too_many_arguments)]
fn kernel<B: Backend>(
    backend: B,
    op: &KernelOp,
    args: &[(Loc, TensorType)],
    out: Loc,
    ty: &TensorType,
    temps: &[Loc],
    at: &str,
    frame: &Frame,
) -> Result<(), Error> {
    let n = ty.num_elements();
    // SAFETY (every `unsafe` below): the plan fixed the dtype and element
    // count of each buffer, and a step never writes a buffer it reads.
    macro_rules! arg {
        ($T:ty, $i:expr) => {
            unsafe { frame.get::<$T>(args[$i].0, args[$i].1.num_elements()) }
        };
    }
    macro_rules! out {
        ($T:ty) => {
            unsafe { frame.get_mut::<$T>(out, n) }
        };
    }
    match op {
        KernelOp::Broadcast { xshape, dims } => {
            with_dtype!(ty.dtype, T => layout::broadcast(arg!(T, 0), xshape, out!(T), &ty.shape, dims))
        }
        KernelOp::Transpose { xshape, perm } => {
            with_dtype!(ty.dtype, T => layout::transpose(arg!(T, 0), xshape, perm, out!(T), &ty.shape))
        }
        KernelOp::Slice { xshape, start, limit, stride } => {
            with_dtype!(ty.dtype, T => layout::slice(arg!(T, 0), xshape, start, limit, stride, out!(T), &ty.shape))
        }
        KernelOp::Pad { xshape, low, interior } => with_dtype!(ty.dtype, T => {
            let v = arg!(T, 1)[0];
            layout::pad(arg!(T, 0), xshape, v, low, interior, out!(T), &ty.shape)
        }),
        KernelOp::Concatenate { shapes, axis } => with_dtype!(ty.dtype, T => {
            let mut parts: smallvec_parts::Parts<T> = Default::default();
            for (i, s) in shapes.iter().enumerate() {
                parts.push((arg!(T, i), s.as_slice()));
            }
            layout::concatenate(parts.as_slice(), *axis, out!(T), &ty.shape)
        }),
        KernelOp::Reduce { kind, moved, row_len } => with_num!(ty.dtype, T => {
            let x = arg!(T, 0);
            let partial_len = row_len.div_ceil(reduce::SUM_CHUNK).max(1);
            let partials = unsafe { frame.get_mut::<T>(*temps.last().expect("partials"), partial_len) };
            match moved {
                Some((perm, xshape)) => {
                    let tmp = unsafe { frame.get_mut::<T>(temps[0], x.len()) };
                    let pshape: Vec<usize> = perm.iter().map(|&a| xshape[a]).collect();
                    layout::transpose(x, xshape, perm, tmp, &pshape);
                    reduce::reduce_rows(*kind, tmp, *row_len, out!(T), partials)
                }
                None => reduce::reduce_rows(*kind, x, *row_len, out!(T), partials),
            }
        }),
        KernelOp::Dot { plan, lshape, rshape } => with_num!(ty.dtype, T => {
            let mut t = temps.iter();
            let l = match &plan.lhs.perm {
                Some(p) => pack(frame, arg!(T, 0), lshape, p, *t.next().expect("packing buffer")),
                None => arg!(T, 0),
            };
            let r = match &plan.rhs.perm {
                Some(p) => pack(frame, arg!(T, 1), rshape, p, *t.next().expect("packing buffer")),
                None => arg!(T, 1),
            };
            linalg::dot(backend, plan, l, r, out!(T))
        }),
        KernelOp::Take { outer, extent, inner } => with_dtype!(ty.dtype, T => {
            let x = arg!(T, 0);
            let r = match args[1].1.dtype {
                DType::I32 => index::take(x, *outer, *extent, *inner, arg!(i32, 1), out!(T)),
                _ => index::take(x, *outer, *extent, *inner, arg!(i64, 1), out!(T)),
            };
            r.map_err(|(index, extent)| Error::IndexOutOfRange { op: "take", at: at.to_string(), index, extent })?
        }),
        KernelOp::SegmentSum { inner, segments } => with_num!(ty.dtype, T => {
            let x = arg!(T, 0);
            let r = match args[1].1.dtype {
                DType::I32 => index::segment_sum(x, *inner, arg!(i32, 1), *segments, out!(T)),
                _ => index::segment_sum(x, *inner, arg!(i64, 1), *segments, out!(T)),
            };
            r.map_err(|(index, extent)| Error::IndexOutOfRange { op: "segment_sum", at: at.to_string(), index, extent })?
        }),
        KernelOp::Cholesky { n: order } => with_float!(ty.dtype, T => {
            let o = out!(T);
            o.copy_from_slice(arg!(T, 0));
            linalg::cholesky(backend, o, *order)
        }),
        KernelOp::TriangularSolve { n: order, rows, cols, solve } => with_float!(ty.dtype, T => {
            let o = out!(T);
            o.copy_from_slice(arg!(T, 1));
            linalg::triangular_solve(backend, arg!(T, 0), *order, o, *rows, *cols, *solve)
        }),
    }
    Ok(())
}

/// `x` with its axes permuted to `perm`, written into the temporary `at`.
fn pack<'f, T: Elem>(frame: &'f Frame, x: &[T], shape: &[usize], perm: &[usize], at: Loc) -> &'f [T] {
    // SAFETY: the plan sized the temporary for this operand; nothing else uses it.
    let tmp = unsafe { frame.get_mut::<T>(at, x.len()) };
    let pshape: Vec<usize> = perm.iter().map(|&a| shape[a]).collect();
    layout::transpose(x, shape, perm, tmp, &pshape);
    tmp
}

mod smallvec_parts {
    /// Operands of a concatenation, inline up to 8 (no allocation).
    pub struct Parts<'a, T> {
        inline: [(&'a [T], &'a [usize]); 8],
        len: usize,
        spill: Vec<(&'a [T], &'a [usize])>,
    }
    impl<T> Default for Parts<'_, T> {
        fn default() -> Self {
            Parts { inline: [(&[], &[]); 8], len: 0, spill: Vec::new() }
        }
    }
    impl<'a, T> Parts<'a, T> {
        pub fn push(&mut self, p: (&'a [T], &'a [usize])) {
            if self.len < 8 && self.spill.is_empty() {
                self.inline[self.len] = p;
                self.len += 1;
            } else {
                if self.spill.is_empty() {
                    self.spill.extend_from_slice(&self.inline[..self.len]);
                }
                self.spill.push(p);
            }
        }
        pub fn as_slice(&self) -> &[(&'a [T], &'a [usize])] {
            if self.spill.is_empty() { &self.inline[..self.len] } else { &self.spill }
        }
    }
}
