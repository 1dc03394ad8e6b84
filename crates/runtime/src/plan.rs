//! The compiler: from a function to a fixed plan of steps over buffers.
//!
//! 1. The equality-saturation simplifier ([`saddle_ir::simplify`]) when
//!    [`CompileOptions::simplify`], else CSE and DCE only.
//! 2. Each value gets a kind: a compile-time splat (a `const` of one
//!    value, or a broadcast of one), a run-time scalar (a broadcast of a
//!    one-element value), an alias of another value's buffer (`reshape`,
//!    `stop_gradient`), or a value of its own.
//! 3. Schedule: instructions in order; each maximal run of elementwise
//!    instructions over the same number of elements becomes one fused
//!    loop; every other op becomes one kernel step.
//! 4. Buffers: each stored value gets a workspace slot; a slot is reused
//!    once its value is dead (a fused loop may write its output into the
//!    slot of an input that dies in it).

use saddle_ir::op::{Binary, ReduceKind, Unary};
use saddle_ir::{Array, DType, Func, Literal, Op, Scalar, TensorType, Value};

use crate::backend::TriangularSolve;
use crate::kernels::Loc;
use crate::kernels::elementwise::{FInst, FOp, Fused, Reg, Src, bank};
use crate::kernels::linalg::{DotPlan, plan_dot};
use crate::kernels::reduce::SUM_CHUNK;
use crate::memory::{available_memory, bytes_of, check};
use crate::reference::describe;
use crate::{CompileOptions, Error};

/// A kernel step's op, with what it needs precomputed.
#[derive(Clone, Debug)]
pub(crate) enum KernelOp {
    Broadcast { xshape: Vec<usize>, dims: Vec<usize> },
    Transpose { xshape: Vec<usize>, perm: Vec<usize> },
    Reduce { kind: ReduceKind, moved: Option<(Vec<usize>, Vec<usize>)>, row_len: usize },
    Slice { xshape: Vec<usize>, start: Vec<usize>, limit: Vec<usize>, stride: Vec<usize> },
    Pad { xshape: Vec<usize>, low: Vec<usize>, interior: Vec<usize> },
    Concatenate { shapes: Vec<Vec<usize>>, axis: usize },
    Dot { plan: DotPlan, lshape: Vec<usize>, rshape: Vec<usize> },
    Take { outer: usize, extent: usize, inner: usize },
    SegmentSum { inner: usize, segments: usize },
    Cholesky { n: usize },
    TriangularSolve { n: usize, rows: usize, cols: usize, solve: TriangularSolve },
}

/// One step of the plan.
#[derive(Clone, Debug)]
pub(crate) enum Step {
    Fused(Fused),
    Kernel { op: KernelOp, args: Vec<(Loc, TensorType)>, out: Loc, ty: TensorType, temps: Vec<Loc>, at: String },
}

/// The register holding group input `key` (recorded in `table`): the one
/// it already has, or a fresh one filled from `src()`. Inputs are written
/// at the start of every block (or once), so they get registers of their
/// own; only members' registers are recycled.
fn input_reg(
    table: &mut [Option<Reg>],
    touched: &mut Vec<Value>,
    inputs: &mut Vec<(Src, Reg)>,
    regs: &mut [usize; 5],
    key: Value,
    dtype: DType,
    src: impl FnOnce() -> Result<Src, Error>,
) -> Result<Reg, Error> {
    if let Some(reg) = table[key.index()] {
        return Ok(reg);
    }
    let src = src()?;
    let b = bank(dtype);
    regs[b] += 1;
    let reg = Reg { dtype, idx: (regs[b] - 1) as u32 };
    inputs.push((src, reg));
    table[key.index()] = Some(reg);
    touched.push(key);
    Ok(reg)
}

/// Value-indexed tables of the group being planned: a member's register,
/// the register of a value read as a group input (whole, or as a splat or
/// scalar), and the position in the group of a member's last use.
struct GroupScratch {
    reg_of: Vec<Option<Reg>>,
    input_whole: Vec<Option<Reg>>,
    input_scalar: Vec<Option<Reg>>,
    last: Vec<usize>,
    /// Values whose entries are set, to reset them after the group.
    touched: Vec<Value>,
}

impl GroupScratch {
    fn new(n: usize) -> GroupScratch {
        GroupScratch {
            reg_of: vec![None; n],
            input_whole: vec![None; n],
            input_scalar: vec![None; n],
            last: vec![usize::MAX; n],
            touched: Vec::new(),
        }
    }

    fn reset(&mut self) {
        for v in self.touched.drain(..) {
            let i = v.index();
            self.reg_of[i] = None;
            self.input_whole[i] = None;
            self.input_scalar[i] = None;
            self.last[i] = usize::MAX;
        }
    }
}

/// What a value is, for planning.
#[derive(Clone, Debug)]
enum Kind {
    /// Every element is this constant.
    Splat(Scalar),
    /// Every element is element 0 of this (root) value.
    ScalarOf(Value),
    /// Shares the buffer of this (root) value.
    Alias(Value),
    /// Has a buffer of its own (parameter, dense constant, computed).
    Own,
}

/// The result of planning.
pub(crate) struct Plan {
    pub func: Func,
    pub consts: Vec<Array>,
    pub steps: Vec<Step>,
    pub slot_bytes: Vec<usize>,
    pub results: Vec<Loc>,
    pub fused_groups: usize,
}

struct Planner<'f> {
    f: &'f Func,
    opts: &'f CompileOptions,
    kinds: Vec<Kind>,
    /// Where each value with a buffer lives (virtual slots are value
    /// indices, temporaries come after).
    locs: Vec<Option<Loc>>,
    consts: Vec<Array>,
    steps: Vec<Step>,
    /// Element counts of virtual slots.
    vbytes: Vec<usize>,
    /// For each value: whether a step outside its own fused group (or the
    /// results) reads it.
    used_outside: Vec<bool>,
    group_of: Vec<Option<usize>>,
    /// Per-value scratch of [`Planner::plan_group`], reset after each group.
    scratch: GroupScratch,
    const_bytes: u128,
    memory_limit: u128,
}

fn splat_cast(s: Scalar, dtype: DType) -> Scalar {
    // A splat keeps its own dtype; this only normalises the representation.
    if s.dtype() == dtype { s } else { Scalar::from_f64(dtype, s.to_f64()) }
}

pub(crate) fn plan(f: &Func, opts: &CompileOptions) -> Result<Plan, Error> {
    // The simplifier verifies its input and its output; an input it
    // refuses goes through the plain clean-up passes and the verifier,
    // which reports what is wrong with it.
    let simplified = if opts.simplify {
        saddle_ir::simplify::simplify(f, &saddle_ir::simplify::SimplifyOptions::default()).ok()
    } else {
        None
    };
    let func = match simplified {
        Some((g, _)) => g,
        None => {
            let mut func = f.clone();
            saddle_ir::passes::cse(&mut func);
            saddle_ir::passes::dce(&mut func);
            saddle_ir::verify(&func)?;
            func
        }
    };
    let memory_limit = opts.memory_limit.unwrap_or_else(available_memory);
    let n = func.num_values();
    // Every value of the cleaned-up function is held whole at some point
    // (in a buffer, or as the size of a fused loop that stores it): one
    // that cannot fit is refused before anything is sized from it, which
    // also keeps every product of extents below `isize::MAX`.
    for i in 0..n {
        let v = Value::from_index(i);
        check(|| format!("{} of type {}", describe(&func, v), func.ty(v)), bytes_of(func.ty(v)), memory_limit)?;
    }
    let mut p = Planner {
        f: &func,
        opts,
        kinds: vec![Kind::Own; n],
        locs: vec![None; n],
        consts: Vec::new(),
        steps: Vec::new(),
        vbytes: vec![0; n],
        used_outside: vec![false; n],
        group_of: vec![None; n],
        scratch: GroupScratch::new(n),
        const_bytes: 0,
        memory_limit,
    };
    p.classify();
    p.group();
    p.mark_uses();
    p.schedule()?;
    let results: Vec<Loc> = func.results().iter().map(|&r| p.materialise(r)).collect::<Result<_, _>>()?;
    let fused_groups = p.steps.iter().filter(|s| matches!(s, Step::Fused(_))).count();
    let (steps, slot_bytes, results) = allocate(p.steps, &p.vbytes, results, p.opts.reuse_buffers)?;
    // The workspace, the constants, and the result arrays of a call.
    let result_bytes = func.result_types().iter().map(bytes_of).fold(0u128, u128::saturating_add);
    let total: u128 = slot_bytes.iter().map(|&b| b as u128).fold(p.const_bytes, u128::saturating_add);
    let total = total.saturating_add(result_bytes);
    check(|| format!("the plan of @{}", func.name()), total, memory_limit)?;
    let consts = p.consts;
    Ok(Plan { func, consts, steps, slot_bytes, results, fused_groups })
}

impl Planner<'_> {
    fn root(&self, v: Value) -> Value {
        match self.kinds[v.index()] {
            Kind::Alias(r) | Kind::ScalarOf(r) => r,
            Kind::Splat(_) | Kind::Own => v,
        }
    }

    fn classify(&mut self) {
        let f = self.f;
        for (v, inst) in f.iter_insts() {
            let kind = match &inst.op {
                Op::Const(Literal::Splat { value, ty }) => Kind::Splat(splat_cast(*value, ty.dtype)),
                Op::Reshape { .. } | Op::StopGradient => match &self.kinds[inst.args[0].index()] {
                    Kind::Splat(s) => Kind::Splat(*s),
                    Kind::ScalarOf(r) => Kind::ScalarOf(*r),
                    Kind::Alias(r) => Kind::Alias(*r),
                    Kind::Own => Kind::Alias(inst.args[0]),
                },
                Op::BroadcastInDim { .. } if f.ty(inst.args[0]).num_elements() == 1 => {
                    match &self.kinds[inst.args[0].index()] {
                        Kind::Splat(s) => Kind::Splat(*s),
                        Kind::ScalarOf(r) | Kind::Alias(r) => Kind::ScalarOf(*r),
                        Kind::Own => Kind::ScalarOf(inst.args[0]),
                    }
                }
                _ => Kind::Own,
            };
            self.kinds[v.index()] = kind;
        }
    }

    /// Fused groups: maximal runs of elementwise instructions over the
    /// same element count (splats, scalars and aliases do not break a run).
    fn group(&mut self) {
        let f = self.f;
        let mut current: Option<(usize, usize)> = None; // (group id, elements)
        let mut next = 0;
        for (v, inst) in f.iter_insts() {
            if !matches!(self.kinds[v.index()], Kind::Own) {
                continue;
            }
            if self.opts.fuse && inst.op.is_elementwise() {
                let n = f.ty(v).num_elements();
                let id = match current {
                    Some((id, m)) if m == n => id,
                    _ => {
                        next += 1;
                        current = Some((next - 1, n));
                        next - 1
                    }
                };
                self.group_of[v.index()] = Some(id);
            } else if inst.op.is_elementwise() {
                next += 1;
                self.group_of[v.index()] = Some(next - 1);
                current = None;
            } else if !matches!(inst.op, Op::Const(_) | Op::Iota { .. }) {
                current = None;
            }
        }
    }

    fn mark_uses(&mut self) {
        let f = self.f;
        for (v, inst) in f.iter_insts() {
            if !matches!(self.kinds[v.index()], Kind::Own) {
                continue;
            }
            for &a in &inst.args {
                let r = self.root(a);
                if matches!(self.kinds[r.index()], Kind::Splat(_)) {
                    continue;
                }
                let same_group =
                    self.group_of[v.index()].is_some() && self.group_of[v.index()] == self.group_of[r.index()];
                if !same_group {
                    self.used_outside[r.index()] = true;
                }
            }
        }
        for &r in f.results() {
            let r = self.root(r);
            self.used_outside[r.index()] = true;
        }
    }

    fn new_temp(&mut self, bytes: usize) -> Loc {
        self.vbytes.push(bytes);
        Loc::Slot((self.vbytes.len() - 1) as u32)
    }

    fn add_const(&mut self, a: Array, what: impl FnOnce() -> String) -> Result<Loc, Error> {
        let bytes = bytes_of(&a.ty());
        self.const_bytes = self.const_bytes.saturating_add(bytes);
        check(what, self.const_bytes, self.memory_limit)?;
        self.consts.push(a);
        Ok(Loc::Const((self.consts.len() - 1) as u32))
    }

    /// The buffer holding every element of `v`, creating it if `v` is a
    /// splat or a run-time scalar.
    fn materialise(&mut self, v: Value) -> Result<Loc, Error> {
        if let Some(l) = self.locs[v.index()] {
            return Ok(l);
        }
        let ty = self.f.ty(v).clone();
        let loc = match self.kinds[v.index()].clone() {
            Kind::Splat(s) => {
                let bytes = bytes_of(&ty);
                check(|| format!("the constant {}", describe(self.f, v)), bytes, self.memory_limit)?;
                self.add_const(Array::full(&ty, s), || format!("the constants of @{}", self.f.name()))?
            }
            Kind::ScalarOf(r) => {
                let src = self.materialise(r)?;
                let rty = self.f.ty(r).clone();
                let out = Loc::Slot(v.index() as u32);
                self.vbytes[v.index()] = ty.size_bytes();
                self.steps.push(Step::Kernel {
                    op: KernelOp::Broadcast { xshape: vec![1; ty.rank()], dims: (0..ty.rank()).collect() },
                    args: vec![(src, TensorType::new(rty.dtype, vec![1; ty.rank()]))],
                    out,
                    ty,
                    temps: vec![],
                    at: describe(self.f, v),
                });
                out
            }
            Kind::Alias(r) => self.materialise(r)?,
            Kind::Own => {
                return Err(crate::reference::internal(&format!("{} used before it is computed", describe(self.f, v))));
            }
        };
        self.locs[v.index()] = Some(loc);
        Ok(loc)
    }

    fn schedule(&mut self) -> Result<(), Error> {
        let f = self.f;
        for (i, ty) in f.param_types().iter().enumerate() {
            let _ = ty;
            self.locs[i] = Some(Loc::Param(i as u32));
        }
        let insts: Vec<(Value, &saddle_ir::Inst)> = f.iter_insts().collect();
        let mut i = 0;
        while i < insts.len() {
            let (v, inst) = insts[i];
            if !matches!(self.kinds[v.index()], Kind::Own) {
                i += 1;
                continue;
            }
            if let Some(g) = self.group_of[v.index()] {
                let mut members = vec![v];
                let mut j = i + 1;
                while j < insts.len() {
                    let (w, _) = insts[j];
                    match self.group_of[w.index()] {
                        Some(h) if h == g => members.push(w),
                        Some(_) => break,
                        None if matches!(self.kinds[w.index()], Kind::Own)
                            && !matches!(insts[j].1.op, Op::Const(_) | Op::Iota { .. }) =>
                        {
                            break;
                        }
                        None => {}
                    }
                    j += 1;
                }
                // Constants between members are planned lazily; iota gets its buffer now.
                for &(w, winst) in &insts[i..j] {
                    if self.group_of[w.index()].is_none() && matches!(self.kinds[w.index()], Kind::Own) {
                        self.plan_kernel(w, winst)?;
                    }
                }
                self.plan_group(&members)?;
                i = j;
                continue;
            }
            self.plan_kernel(v, inst)?;
            i += 1;
        }
        Ok(())
    }

    /// Whether `r` is a member of `group` (the members of a group are
    /// exactly the values of its id).
    fn in_group(&self, r: Value, group: Option<usize>) -> bool {
        group.is_some() && self.group_of[r.index()] == group
    }

    fn plan_group(&mut self, members: &[Value]) -> Result<(), Error> {
        let f = self.f;
        let n = f.ty(members[0]).num_elements();
        let mut regs = [0usize; 5];
        let mut free: [Vec<u32>; 5] = Default::default();
        let mut inputs: Vec<(Src, Reg)> = Vec::new();
        let group = self.group_of[members[0].index()];
        let mut s = std::mem::replace(&mut self.scratch, GroupScratch::new(0));
        // Last use of each member's register within the group.
        for (k, &m) in members.iter().enumerate() {
            for &a in &f.inst(m).expect("member is an instruction").args {
                let r = self.root(a);
                if self.in_group(r, group) {
                    s.last[r.index()] = k;
                    s.touched.push(r);
                }
            }
        }
        let result = self.plan_group_body(members, group, &mut s, &mut inputs, &mut regs, &mut free);
        s.reset();
        self.scratch = s;
        let (mut body, stores) = result?;
        if stores.is_empty() {
            return Ok(());
        }
        crate::kernels::elementwise::mark_uniform(&inputs, &mut body);
        self.steps.push(Step::Fused(Fused { n, inputs, body, stores, regs }));
        Ok(())
    }

    #[allow(clippy::type_complexity)]
    fn plan_group_body(
        &mut self,
        members: &[Value],
        group: Option<usize>,
        s: &mut GroupScratch,
        inputs: &mut Vec<(Src, Reg)>,
        regs: &mut [usize; 5],
        free: &mut [Vec<u32>; 5],
    ) -> Result<(Vec<FInst>, Vec<(Reg, Loc)>), Error> {
        let f = self.f;
        let alloc = |dtype: DType, regs: &mut [usize; 5], free: &mut [Vec<u32>; 5]| -> Reg {
            let b = bank(dtype);
            let idx = free[b].pop().unwrap_or_else(|| {
                regs[b] += 1;
                (regs[b] - 1) as u32
            });
            Reg { dtype, idx }
        };
        let mut body = Vec::with_capacity(members.len());
        let mut stores = Vec::new();
        for (k, &m) in members.iter().enumerate() {
            let inst = f.inst(m).expect("member is an instruction");
            let mut args = smallvec::SmallVec::new();
            for &a in &inst.args {
                let dtype = f.ty(a).dtype;
                let r = self.root(a);
                let reg = match self.kinds[a.index()].clone() {
                    Kind::Splat(c) => {
                        input_reg(&mut s.input_scalar, &mut s.touched, inputs, regs, a, dtype, || Ok(Src::Splat(c)))?
                    }
                    Kind::ScalarOf(_) if s.reg_of[r.index()].is_some() => s.reg_of[r.index()].expect("checked"),
                    Kind::ScalarOf(_) => {
                        input_reg(&mut s.input_scalar, &mut s.touched, inputs, regs, r, dtype, || {
                            Ok(Src::ScalarAt(self.materialise(r)?))
                        })?
                    }
                    Kind::Alias(_) | Kind::Own if s.reg_of[r.index()].is_some() => {
                        s.reg_of[r.index()].expect("checked")
                    }
                    Kind::Alias(_) | Kind::Own => {
                        input_reg(&mut s.input_whole, &mut s.touched, inputs, regs, r, dtype, || {
                            Ok(Src::Load(self.materialise(r)?))
                        })?
                    }
                };
                args.push(reg);
            }
            let dst = alloc(f.ty(m).dtype, regs, free);
            let op = match &inst.op {
                Op::Unary(u) => FOp::Unary(*u),
                Op::Binary(b) => FOp::Binary(*b),
                Op::Compare(c) => FOp::Compare(*c),
                Op::Select => FOp::Select,
                Op::Convert { .. } => FOp::Convert,
                Op::StopGradient => FOp::Unary(Unary::Neg), // never reached: aliases are not members
                other => return Err(crate::reference::internal(&format!("{} in a fused group", other.name()))),
            };
            // Only a division can fail at run time (an integer one by zero);
            // other ops need no name for their errors.
            let at = if matches!(op, FOp::Binary(Binary::Div)) { describe(f, m) } else { String::new() };
            body.push(FInst { op, dst, args, uniform: 0, at });
            s.reg_of[m.index()] = Some(dst);
            s.touched.push(m);
            // Registers of members whose last use is this instruction go back
            // to the pool (inputs stay: they are loaded once per block).
            for (i, &a) in inst.args.iter().enumerate() {
                let r = self.root(a);
                let repeated = inst.args[..i].iter().any(|&b| self.root(b) == r);
                if self.in_group(r, group) && s.last[r.index()] == k && !self.used_outside[r.index()] && !repeated {
                    let reg = s.reg_of[r.index()].expect("a member's register");
                    free[bank(reg.dtype)].push(reg.idx);
                }
            }
            if self.used_outside[m.index()] {
                let out = Loc::Slot(m.index() as u32);
                self.vbytes[m.index()] = f.ty(m).size_bytes();
                self.locs[m.index()] = Some(out);
                stores.push((dst, out));
            }
        }
        Ok((body, stores))
    }

    fn plan_kernel(&mut self, v: Value, inst: &saddle_ir::Inst) -> Result<(), Error> {
        let f = self.f;
        let ty = f.ty(v).clone();
        let at = describe(f, v);
        let shape = |a: usize| f.ty(inst.args[a]).shape.to_vec();
        let op = match &inst.op {
            Op::Const(Literal::Dense(a)) => {
                // Checked before the copy is made.
                check(
                    || format!("the constant {at}"),
                    self.const_bytes.saturating_add(bytes_of(&ty)),
                    self.memory_limit,
                )?;
                let loc = self.add_const((**a).clone(), || format!("the constant {at}"))?;
                self.locs[v.index()] = Some(loc);
                return Ok(());
            }
            Op::Iota { dim, ty } => {
                check(|| format!("iota at {at}"), bytes_of(ty), self.memory_limit)?;
                let a = crate::reference::iota_array(*dim, ty)?;
                let loc = self.add_const(a, || format!("iota at {at}"))?;
                self.locs[v.index()] = Some(loc);
                return Ok(());
            }
            Op::Const(Literal::Splat { .. })
            | Op::Reshape { .. }
            | Op::StopGradient
            | Op::Unary(_)
            | Op::Binary(_)
            | Op::Compare(_)
            | Op::Select
            | Op::Convert { .. } => {
                return Err(crate::reference::internal(&format!("{} planned as a kernel", inst.op.name())));
            }
            Op::BroadcastInDim { dims, .. } => KernelOp::Broadcast { xshape: shape(0), dims: dims.clone() },
            Op::Transpose { perm } => KernelOp::Transpose { xshape: shape(0), perm: perm.clone() },
            Op::Reduce { kind, axes } => {
                let xs = shape(0);
                let kept: Vec<usize> = (0..xs.len()).filter(|a| !axes.contains(a)).collect();
                let reduced: Vec<usize> = (0..xs.len()).filter(|a| axes.contains(a)).collect();
                let trailing = kept.iter().all(|&k| reduced.iter().all(|&r| k < r || xs[r] == 1) || xs[k] == 1);
                let perm: Vec<usize> = kept.iter().chain(&reduced).copied().collect();
                let row_len = reduced.iter().map(|&a| xs[a]).product();
                KernelOp::Reduce { kind: *kind, moved: (!trailing).then_some((perm, xs)), row_len }
            }
            Op::Slice { start, limit, stride } => {
                KernelOp::Slice { xshape: shape(0), start: start.clone(), limit: limit.clone(), stride: stride.clone() }
            }
            Op::Pad { low, interior, .. } => {
                KernelOp::Pad { xshape: shape(0), low: low.clone(), interior: interior.clone() }
            }
            Op::Concatenate { axis } => {
                KernelOp::Concatenate { shapes: (0..inst.args.len()).map(shape).collect(), axis: *axis }
            }
            Op::DotGeneral(d) => {
                KernelOp::Dot { plan: plan_dot(&shape(0), &shape(1), d), lshape: shape(0), rshape: shape(1) }
            }
            Op::Take { axis } => {
                let xs = shape(0);
                KernelOp::Take {
                    outer: xs[..*axis].iter().product(),
                    extent: xs[*axis],
                    inner: xs[axis + 1..].iter().product(),
                }
            }
            Op::SegmentSum { num_segments } => {
                KernelOp::SegmentSum { inner: shape(0)[1..].iter().product(), segments: *num_segments }
            }
            Op::Cholesky => KernelOp::Cholesky { n: *ty.shape.last().expect("rank >= 2") },
            Op::TriangularSolve { left_side, lower, transpose_a, unit_diagonal } => {
                let r = ty.rank();
                KernelOp::TriangularSolve {
                    n: shape(0)[r - 1],
                    rows: ty.shape[r - 2],
                    cols: ty.shape[r - 1],
                    solve: TriangularSolve {
                        left: *left_side,
                        lower: *lower,
                        transpose: *transpose_a,
                        unit: *unit_diagonal,
                    },
                }
            }
        };
        let mut args = Vec::new();
        for &a in &inst.args {
            let loc = self.materialise(a)?;
            args.push((loc, f.ty(a).clone()));
        }
        let dsize = args.first().map(|(_, t)| t.dtype.size_bytes()).unwrap_or(8);
        let mut temps = Vec::new();
        match &op {
            KernelOp::Dot { plan, .. } => {
                for (lay, len) in
                    [(&plan.lhs, plan.batches * plan.m * plan.k), (&plan.rhs, plan.batches * plan.k * plan.n)]
                {
                    if lay.perm.is_some() {
                        let t = self.new_temp(len * dsize);
                        temps.push(t);
                    }
                }
            }
            KernelOp::Reduce { moved, row_len, .. } => {
                if moved.is_some() {
                    let t = self.new_temp(f.ty(inst.args[0]).size_bytes());
                    temps.push(t);
                }
                let t = self.new_temp(row_len.div_ceil(SUM_CHUNK).max(1) * dsize);
                temps.push(t);
            }
            KernelOp::Broadcast { .. }
            | KernelOp::Transpose { .. }
            | KernelOp::Slice { .. }
            | KernelOp::Pad { .. }
            | KernelOp::Concatenate { .. }
            | KernelOp::Take { .. }
            | KernelOp::SegmentSum { .. }
            | KernelOp::Cholesky { .. }
            | KernelOp::TriangularSolve { .. } => {}
        }
        let out = Loc::Slot(v.index() as u32);
        self.vbytes[v.index()] = ty.size_bytes();
        self.locs[v.index()] = Some(out);
        self.steps.push(Step::Kernel { op, args, out, ty, temps, at });
        Ok(())
    }
}

/// Steps rewritten to workspace slots, the slot sizes, and the result
/// locations.
type Allocated = (Vec<Step>, Vec<usize>, Vec<Loc>);

/// Assigns workspace slots to virtual slots by liveness; returns the
/// rewritten steps, the slot sizes and the result locations.
fn allocate(mut steps: Vec<Step>, vbytes: &[usize], results: Vec<Loc>, reuse: bool) -> Result<Allocated, Error> {
    const NEVER: usize = usize::MAX;
    let nv = vbytes.len();
    let mut last = vec![0usize; nv];
    let mut reads_scalar = vec![usize::MAX; nv];
    let slot = |l: &Loc| match l {
        Loc::Slot(i) => Some(*i as usize),
        Loc::Param(_) | Loc::Const(_) => None,
    };
    for (s, step) in steps.iter().enumerate() {
        match step {
            Step::Fused(g) => {
                for (src, _) in &g.inputs {
                    match src {
                        Src::Load(l) => {
                            if let Some(i) = slot(l) {
                                last[i] = s;
                            }
                        }
                        Src::ScalarAt(l) => {
                            if let Some(i) = slot(l) {
                                last[i] = s;
                                reads_scalar[i] = s;
                            }
                        }
                        Src::Splat(_) => {}
                    }
                }
            }
            Step::Kernel { args, .. } => {
                for (l, _) in args {
                    if let Some(i) = slot(l) {
                        last[i] = s;
                    }
                }
            }
        }
    }
    for r in &results {
        if let Some(i) = slot(r) {
            last[i] = NEVER;
        }
    }
    let mut map: Vec<Option<usize>> = vec![None; nv];
    let mut sizes: Vec<usize> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let take = |bytes: usize, sizes: &mut Vec<usize>, free: &mut Vec<usize>| -> usize {
        let best = free
            .iter()
            .enumerate()
            .filter(|&(_, &p)| sizes[p] >= bytes)
            .min_by_key(|&(_, &p)| sizes[p])
            .map(|(k, _)| k);
        let k = best.or_else(|| free.iter().enumerate().max_by_key(|&(_, &p)| sizes[p]).map(|(k, _)| k));
        match k {
            Some(k) => {
                let p = free.swap_remove(k);
                sizes[p] = sizes[p].max(bytes);
                p
            }
            None => {
                sizes.push(bytes);
                sizes.len() - 1
            }
        }
    };
    for (s, step) in steps.iter().enumerate() {
        let (reads, writes, temps): (Vec<usize>, Vec<usize>, Vec<usize>) = match step {
            Step::Fused(g) => (
                g.inputs
                    .iter()
                    .filter_map(|(src, _)| match src {
                        Src::Load(l) | Src::ScalarAt(l) => slot(l),
                        Src::Splat(_) => None,
                    })
                    .collect(),
                g.stores.iter().filter_map(|(_, l)| slot(l)).collect(),
                vec![],
            ),
            Step::Kernel { args, out, temps, .. } => (
                args.iter().filter_map(|(l, _)| slot(l)).collect(),
                slot(out).into_iter().collect(),
                temps.iter().filter_map(slot).collect(),
            ),
        };
        let mut released = Vec::new();
        if reuse && let Step::Fused(g) = step {
            // In place: a store may take the slot of a loaded input that
            // dies here when both have the same dtype. Each block reads all
            // its inputs before writing, and element k of the output then
            // lies exactly where element k of the input was: no block (and
            // no thread running another block) overwrites an element that
            // is still to be read. A wider output would run ahead of its
            // input, a narrower one behind it into another thread's block.
            let mut dying: Vec<(usize, DType)> = Vec::new();
            for (src, reg) in &g.inputs {
                if let Src::Load(l) = src
                    && let Some(i) = slot(l)
                    && last[i] == s
                    && reads_scalar[i] != s
                    && !dying.iter().any(|&(j, _)| j == i)
                {
                    dying.push((i, reg.dtype));
                }
            }
            for (reg, l) in &g.stores {
                let Some(w) = slot(l) else { continue };
                if let Some(k) = dying.iter().position(|&(i, d)| d == reg.dtype && map[i].is_some())
                    && let Some(p) = map[dying[k].0]
                    && sizes[p] >= vbytes[w]
                {
                    map[w] = Some(p);
                    released.push(dying.swap_remove(k).0);
                }
            }
        }
        for &w in writes.iter().chain(&temps) {
            if map[w].is_none() {
                map[w] = Some(take(vbytes[w], &mut sizes, &mut free));
            }
        }
        if reuse {
            for &t in &temps {
                free.push(map[t].expect("just assigned"));
            }
            for &i in &reads {
                if last[i] == s
                    && !released.contains(&i)
                    && let Some(p) = map[i]
                {
                    free.push(p);
                    released.push(i);
                }
            }
            for &w in &writes {
                if last[w] == 0 && !results.contains(&Loc::Slot(w as u32)) && !reads.contains(&w) {
                    // A value nothing reads (kept alive by nothing).
                    free.push(map[w].expect("just assigned"));
                }
            }
        }
    }
    check_allocation(&steps, &map, &sizes, vbytes, &results)?;
    let fix = |l: &mut Loc| {
        if let Loc::Slot(i) = l {
            *i = map[*i as usize].expect("every slot read was written") as u32;
        }
    };
    for step in &mut steps {
        match step {
            Step::Fused(g) => {
                for (src, _) in &mut g.inputs {
                    match src {
                        Src::Load(l) | Src::ScalarAt(l) => fix(l),
                        Src::Splat(_) => {}
                    }
                }
                for (_, l) in &mut g.stores {
                    fix(l);
                }
            }
            Step::Kernel { args, out, temps, .. } => {
                for (l, _) in args {
                    fix(l);
                }
                fix(out);
                for t in temps {
                    fix(t);
                }
            }
        }
    }
    let mut results = results;
    for r in &mut results {
        fix(r);
    }
    Ok((steps, sizes, results))
}

/// Replays the plan over the workspace slots that [`allocate`] assigned
/// (`map`: virtual slot to workspace slot) and checks, independently of
/// how they were chosen, that every read finds the value it expects, that
/// every slot is large enough, that a kernel never writes a buffer it
/// reads, and that a fused loop writes over one of its inputs only when
/// that input is loaded whole (not read as a scalar) and has the output's
/// dtype, so that element k of the output lands exactly on element k of
/// the input. A violation is a bug of the planner, reported as an internal
/// error rather than a wrong answer.
fn check_allocation(
    steps: &[Step],
    map: &[Option<usize>],
    sizes: &[usize],
    vbytes: &[usize],
    results: &[Loc],
) -> Result<(), Error> {
    let mut holder: Vec<Option<usize>> = vec![None; sizes.len()];
    let bad = |what: String| crate::reference::internal(&format!("buffer plan: {what}"));
    let phys = |i: u32| -> Result<usize, Error> {
        map.get(i as usize)
            .copied()
            .flatten()
            .filter(|&p| p < sizes.len())
            .ok_or_else(|| crate::reference::internal(&format!("buffer plan: virtual slot {i} has no buffer")))
    };
    let read = |holder: &[Option<usize>], i: u32, s: usize| -> Result<usize, Error> {
        let p = phys(i)?;
        if holder[p] != Some(i as usize) {
            return Err(bad(format!("step {s} reads virtual slot {i} from buffer {p}, which holds {:?}", holder[p])));
        }
        Ok(p)
    };
    let write = |holder: &mut [Option<usize>], i: u32, s: usize| -> Result<usize, Error> {
        let p = phys(i)?;
        if sizes[p] < vbytes[i as usize] {
            return Err(bad(format!("step {s} writes {} bytes into buffer {p} of {}", vbytes[i as usize], sizes[p])));
        }
        holder[p] = Some(i as usize);
        Ok(p)
    };
    for (s, step) in steps.iter().enumerate() {
        match step {
            Step::Fused(g) => {
                let mut loads: Vec<(usize, DType)> = Vec::new();
                let mut scalars: Vec<usize> = Vec::new();
                for (src, reg) in &g.inputs {
                    match src {
                        Src::Load(Loc::Slot(i)) => loads.push((read(&holder, *i, s)?, reg.dtype)),
                        Src::ScalarAt(Loc::Slot(i)) => scalars.push(read(&holder, *i, s)?),
                        Src::Load(Loc::Param(_) | Loc::Const(_))
                        | Src::ScalarAt(Loc::Param(_) | Loc::Const(_))
                        | Src::Splat(_) => {}
                    }
                }
                let mut written: Vec<usize> = Vec::new();
                for (reg, l) in &g.stores {
                    let Loc::Slot(w) = l else { return Err(bad(format!("step {s} stores into {l:?}"))) };
                    let p = write(&mut holder, *w, s)?;
                    if written.contains(&p) || scalars.contains(&p) {
                        return Err(bad(format!("step {s} stores twice into buffer {p}, or over a scalar it reads")));
                    }
                    if loads.iter().any(|&(q, d)| q == p && d != reg.dtype) {
                        return Err(bad(format!("step {s} stores {} over a loaded input of another dtype", reg.dtype)));
                    }
                    written.push(p);
                }
            }
            Step::Kernel { args, out, temps, .. } => {
                let mut reads = Vec::new();
                for (l, _) in args {
                    if let Loc::Slot(i) = l {
                        reads.push(read(&holder, *i, s)?);
                    }
                }
                let mut written: Vec<usize> = Vec::new();
                for l in std::iter::once(out).chain(temps) {
                    let Loc::Slot(w) = l else { return Err(bad(format!("step {s} writes {l:?}"))) };
                    let p = write(&mut holder, *w, s)?;
                    if reads.contains(&p) || written.contains(&p) {
                        return Err(bad(format!("kernel step {s} writes buffer {p}, which it also reads or writes")));
                    }
                    written.push(p);
                }
            }
        }
    }
    for r in results {
        if let Loc::Slot(i) = r {
            read(&holder, *i, steps.len())?;
        }
    }
    Ok(())
}
