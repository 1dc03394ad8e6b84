//! Kernels of the compiled plan, one file per op family, working on flat
//! row-major slices whose shapes the plan fixed at compile time.

pub mod elementwise;
pub mod index;
pub mod layout;
pub mod linalg;
pub mod reduce;

/// Where a value's elements live during a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Loc {
    /// The `i`-th argument.
    Param(u32),
    /// The `i`-th constant of the plan.
    Const(u32),
    /// The `i`-th buffer of the workspace.
    Slot(u32),
}

/// A typed buffer's first byte and its length in bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Raw {
    pub ptr: *mut u8,
    pub bytes: usize,
}

/// The buffers of one call: arguments, constants, workspace slots.
///
/// The plan guarantees that no step writes a buffer that another part of
/// the same step reads (fused elementwise loops read each block of their
/// inputs before writing the same block of their outputs), which is what
/// makes the unchecked accessors sound.
pub(crate) struct Frame<'a> {
    pub params: &'a [Raw],
    pub consts: &'a [Raw],
    pub slots: &'a [Raw],
}

// SAFETY: a frame only hands out slices according to the plan's
// non-overlapping schedule; the buffers outlive the call.
unsafe impl Send for Frame<'_> {}
unsafe impl Sync for Frame<'_> {}

impl Frame<'_> {
    /// The address range `[first, end)` of the buffer at `loc`, to tell
    /// whether two locations share memory.
    pub(crate) fn span(&self, loc: Loc) -> (usize, usize) {
        let r = self.raw(loc);
        (r.ptr as usize, r.ptr as usize + r.bytes)
    }

    fn raw(&self, loc: Loc) -> Raw {
        match loc {
            Loc::Param(i) => self.params[i as usize],
            Loc::Const(i) => self.consts[i as usize],
            Loc::Slot(i) => self.slots[i as usize],
        }
    }

    /// The first `len` elements at `loc`, read-only.
    ///
    /// # Safety
    /// `T` is the dtype the plan stored there, and nothing writes it meanwhile.
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn get<T>(&self, loc: Loc, len: usize) -> &[T] {
        let r = self.raw(loc);
        assert!(len * std::mem::size_of::<T>() <= r.bytes, "buffer too small");
        if len == 0 {
            return &[];
        }
        unsafe { std::slice::from_raw_parts(r.ptr as *const T, len) }
    }

    /// The first `len` elements of slot `loc`, writable.
    ///
    /// # Safety
    /// `T` is the slot's dtype for this step, and no other live slice
    /// overlaps the elements written.
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn get_mut<T>(&self, loc: Loc, len: usize) -> &mut [T] {
        let r = self.raw(loc);
        assert!(matches!(loc, Loc::Slot(_)), "only workspace slots are written");
        assert!(len * std::mem::size_of::<T>() <= r.bytes, "buffer too small");
        if len == 0 {
            return &mut [];
        }
        unsafe { std::slice::from_raw_parts_mut(r.ptr as *mut T, len) }
    }
}

impl Frame<'_> {
    /// Elements `start..start + len` at `loc`, read-only.
    ///
    /// # Safety
    /// As for [`Frame::get`].
    pub(crate) unsafe fn get_range<T>(&self, loc: Loc, start: usize, len: usize) -> &[T] {
        let r = self.raw(loc);
        assert!((start + len) * std::mem::size_of::<T>() <= r.bytes, "buffer too small");
        if len == 0 {
            return &[];
        }
        unsafe { std::slice::from_raw_parts((r.ptr as *const T).add(start), len) }
    }

    /// Elements `start..start + len` of slot `loc`, writable.
    ///
    /// # Safety
    /// As for [`Frame::get_mut`].
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn get_mut_range<T>(&self, loc: Loc, start: usize, len: usize) -> &mut [T] {
        let r = self.raw(loc);
        assert!(matches!(loc, Loc::Slot(_)), "only workspace slots are written");
        assert!((start + len) * std::mem::size_of::<T>() <= r.bytes, "buffer too small");
        if len == 0 {
            return &mut [];
        }
        unsafe { std::slice::from_raw_parts_mut((r.ptr as *mut T).add(start), len) }
    }
}

/// Runs `$body` with `$T` bound to the element type of a dtype.
macro_rules! with_dtype {
    ($dtype:expr, $T:ident => $body:expr) => {
        match $dtype {
            saddle_ir::DType::F32 => {
                type $T = f32;
                $body
            }
            saddle_ir::DType::F64 => {
                type $T = f64;
                $body
            }
            saddle_ir::DType::I32 => {
                type $T = i32;
                $body
            }
            saddle_ir::DType::I64 => {
                type $T = i64;
                $body
            }
            saddle_ir::DType::Bool => {
                type $T = bool;
                $body
            }
        }
    };
}

/// [`with_dtype`] for numeric dtypes; `bool` is an internal error.
macro_rules! with_num {
    ($dtype:expr, $T:ident => $body:expr) => {
        match $dtype {
            saddle_ir::DType::F32 => {
                type $T = f32;
                $body
            }
            saddle_ir::DType::F64 => {
                type $T = f64;
                $body
            }
            saddle_ir::DType::I32 => {
                type $T = i32;
                $body
            }
            saddle_ir::DType::I64 => {
                type $T = i64;
                $body
            }
            saddle_ir::DType::Bool => return Err($crate::reference::internal("numeric kernel on bool data")),
        }
    };
}

/// [`with_dtype`] for float dtypes.
macro_rules! with_float {
    ($dtype:expr, $T:ident => $body:expr) => {
        match $dtype {
            saddle_ir::DType::F32 => {
                type $T = f32;
                $body
            }
            saddle_ir::DType::F64 => {
                type $T = f64;
                $body
            }
            saddle_ir::DType::I32 | saddle_ir::DType::I64 | saddle_ir::DType::Bool => {
                return Err($crate::reference::internal("float kernel on non-float data"))
            }
        }
    };
}

pub(crate) use {with_dtype, with_float, with_num};

/// Elements at or above which a kernel splits its work over threads.
pub(crate) const PARALLEL_MIN: usize = 1 << 16;

/// Whether to use more than one thread for `work` elements.
pub(crate) fn parallel(work: usize) -> bool {
    work >= PARALLEL_MIN && rayon::current_num_threads() > 1
}

/// Tasks per thread that a parallel kernel cuts its work into, so that
/// work stealing can move work off a core that another process keeps busy.
pub(crate) const TASKS_PER_THREAD: usize = 16;

/// The fewest elements of one parallel task: a few blocks of a fused loop,
/// so that starting a task stays a small part of its work.
pub(crate) const MIN_TASK: usize = 4 * elementwise::BLOCK;

/// Elements per task for `n` elements of parallel work, a multiple of
/// `align` (see [`TASKS_PER_THREAD`] and [`MIN_TASK`]).
pub(crate) fn task_len(n: usize, align: usize) -> usize {
    let threads = rayon::current_num_threads().max(1);
    n.div_ceil(threads.saturating_mul(TASKS_PER_THREAD)).max(MIN_TASK).next_multiple_of(align.max(1))
}
