//! Sparsity patterns of Hessians and Jacobians, detected on the IR.
//!
//! [`hessian_pattern`] and [`jacobian_pattern`] run one forward pass over a
//! function, element by element, given the concrete values of its data
//! arguments: the index arrays of `take` and `segment_sum` and the zeros of
//! data matrices decide the pattern of hierarchical and regression models.
//!
//! The pass follows the sparse-AD literature (Walther; Gower and Mello):
//! every element of every value carries its first-order *dependency set*,
//! the indices of the parameter's elements it depends on. Linear ops
//! (`add`, `sub`, `neg`, layout ops, sums, `take`, `segment_sum`) only merge
//! sets; a nonlinear op records the *interactions* it creates in the
//! Hessian: a nonlinear unary op on an element with set `D` adds `D × D`,
//! `mul(a, b)` adds `D(a) × D(b)`, `div(a, b)` adds `D(a) × D(b)` and
//! `D(b) × D(b)`. So a sum of separable terms `Σ f(xᵢ)` has a diagonal
//! Hessian, and an AR(1) density `Σ (x[1:] - ρ·x[:-1])²` a tridiagonal one.
//! The result is a superset of the true pattern (values that happen to
//! cancel are not seen), exact for these structures.
//!
//! Constants and data carry empty sets; their values are tracked through
//! layout ops, conversions and simple arithmetic where an index op or a
//! `dot_general` needs them. A value that is needed but unknown (a data
//! argument given as `None`, or one computed by an op the pass does not
//! evaluate) makes the rule conservative: a `take` with unknown indices
//! depends on the whole indexed axis.
//!
//! Cost: one pass, linear in the number of elements of the function's
//! values times the sizes of their dependency sets, plus the pattern's nnz.
//! An interaction repeated element after element (every element of a value
//! depending on one large set, as random effects indexed by unknown data
//! do) is recorded once, and a set holding every element is treated as
//! "every element", so a dense block costs its nnz, not nnz per element.
//! A set that would grow beyond [`Options::max_set`] becomes "every
//! element", and a pattern with more than [`Options::max_nnz`] entries is
//! refused with [`Error::TooManyEntries`] before it is built.
//!
//! ```
//! use saddle_ir::{trace, TensorType};
//! use saddle_ad::sparsity::hessian_pattern;
//!
//! // An AR(1) log density: Σ (x[1:] - 0.5·x[:-1])².
//! let f = trace("ar1", &[TensorType::f64([5])], |x| {
//!     let x = x[0];
//!     let d = x.slice(&[1], &[5]) - 0.5 * x.slice(&[0], &[4]);
//!     vec![(d * d).sum_all()]
//! })
//! .unwrap();
//! let p = hessian_pattern(&f, 0, &[None]).unwrap();
//! assert_eq!(p.nnz(), 3 * 5 - 2); // tridiagonal
//! assert!(p.contains(1, 2) && !p.contains(0, 2));
//! ```
//!
//! The rules live in one file per op family, mirroring `saddle_ir::op`.

mod colour;
mod compressed;
mod elementwise;
mod index;
mod layout;
mod linalg;
mod reduce;

pub use colour::{Colouring, check_star_colouring, star_colouring};
pub use compressed::{BuildTimes, SparseHessian, sparse_hessian, sparse_hessian_with};

use saddle_ir::{Array, Func, Op, TensorType};

/// Why a sparsity pattern could not be computed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Error {
    /// The function or the parameter is not one the derivative exists for
    /// (bad parameter index, non-float parameter or result, invalid IR).
    #[error(transparent)]
    Ad(#[from] crate::Error),
    /// A data argument whose type is not that of its parameter.
    #[error("data argument {index} has type {found}, but parameter {index} of @{func} has type {expected}")]
    DataType {
        /// The function.
        func: String,
        /// The parameter.
        index: usize,
        /// The parameter's type.
        expected: Box<TensorType>,
        /// The argument's type.
        found: Box<TensorType>,
    },
    /// A `take` or `segment_sum` index (known from the data) outside the
    /// indexed extent: evaluating the function would fail too.
    #[error("{op} index {index} is out of range for extent {extent}")]
    IndexOutOfRange {
        /// The op.
        op: &'static str,
        /// The index.
        index: i64,
        /// The extent it indexes.
        extent: usize,
    },
    /// The pattern has more entries than allowed: at least `nnz`, with a
    /// limit of `limit` ([`Options::max_nnz`]).
    #[error("the pattern has at least {nnz} entries, more than the limit of {limit}")]
    TooManyEntries {
        /// A lower bound on the entries found.
        nnz: u64,
        /// The limit.
        limit: u64,
    },
    /// A pattern entry outside the pattern's extent.
    #[error("entry ({row}, {col}) is outside a {nrows} x {ncols} pattern")]
    EntryOutOfRange {
        /// The entry's row.
        row: usize,
        /// The entry's column.
        col: usize,
        /// Rows of the pattern.
        nrows: usize,
        /// Columns of the pattern.
        ncols: usize,
    },
    /// A colouring of a pattern that is not square.
    #[error("a symmetric colouring needs a square pattern, this one is {nrows} x {ncols}")]
    NotSquare {
        /// Rows of the pattern.
        nrows: usize,
        /// Columns of the pattern.
        ncols: usize,
    },
    /// A colouring with a number of colours other than the pattern's columns.
    #[error("the colouring has {found} columns, the pattern {expected}")]
    ColouringLength {
        /// Columns of the pattern.
        expected: usize,
        /// Columns of the colouring.
        found: usize,
    },
    /// A colouring from which entry `(row, col)` cannot be read directly:
    /// two columns of one colour meet in both its row and its column.
    #[error("the colouring does not determine entry ({row}, {col}) directly")]
    InvalidColouring {
        /// The entry's row.
        row: usize,
        /// The entry's column.
        col: usize,
    },
    /// A buffer of the wrong length given to [`SparseHessian::recover`].
    #[error("{what} has {found} values, expected {expected}")]
    Length {
        /// Which buffer.
        what: &'static str,
        /// The length needed.
        expected: usize,
        /// The length given.
        found: usize,
    },
}

/// Limits of the detection pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// A dependency set larger than this is replaced by "every element of
    /// the parameter" (exact when the set really is everything, a superset
    /// otherwise). Bounds the memory of the pass to about
    /// `max_set` indices per element.
    pub max_set: usize,
    /// Refuse a pattern with more entries than this (both triangles for a
    /// Hessian) with [`Error::TooManyEntries`], before allocating it.
    pub max_nnz: u64,
}

impl Default for Options {
    /// `max_set` 4,096, `max_nnz` 2²⁸ (1 GiB of row indices).
    fn default() -> Self {
        Options { max_set: 4096, max_nnz: 1 << 28 }
    }
}

/// A sparsity pattern in compressed sparse column (CSC) form: for column
/// `j`, the rows of its entries are `row_indices()[col_ptr()[j]..col_ptr()[j + 1]]`,
/// strictly increasing.
///
/// A Hessian pattern is square (`n × n` for a parameter of `n` elements,
/// row-major order) and symmetric, and holds **both triangles**. A
/// Jacobian pattern has one row per element of the result and one column
/// per element of the parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    nrows: usize,
    col_ptr: Vec<usize>,
    row_idx: Vec<u32>,
}

impl Pattern {
    /// Number of rows.
    pub fn nrows(&self) -> usize {
        self.nrows
    }

    /// Number of columns.
    pub fn ncols(&self) -> usize {
        self.col_ptr.len() - 1
    }

    /// Number of entries.
    pub fn nnz(&self) -> usize {
        self.row_idx.len()
    }

    /// Column pointers: `ncols() + 1` offsets into [`Pattern::row_indices`].
    pub fn col_ptr(&self) -> &[usize] {
        &self.col_ptr
    }

    /// Row indices of the entries, column by column, increasing within a
    /// column.
    pub fn row_indices(&self) -> &[u32] {
        &self.row_idx
    }

    /// The rows of column `j`'s entries (empty when `j` is out of range).
    pub fn column(&self, j: usize) -> &[u32] {
        match (self.col_ptr.get(j), self.col_ptr.get(j + 1)) {
            (Some(&a), Some(&b)) => &self.row_idx[a..b],
            _ => &[],
        }
    }

    /// Whether entry `(i, j)` is in the pattern.
    pub fn contains(&self, i: usize, j: usize) -> bool {
        u32::try_from(i).is_ok_and(|i| self.column(j).binary_search(&i).is_ok())
    }

    /// A pattern from its entries, in any order, duplicates allowed; the
    /// entries outside `nrows × ncols` are refused with
    /// [`Error::EntryOutOfRange`], patterns of 2³² rows or more with
    /// [`Error::TooManyEntries`].
    ///
    /// ```
    /// use saddle_ad::sparsity::Pattern;
    /// let p = Pattern::from_entries(2, 3, [(1, 2), (0, 0), (1, 2)]).unwrap();
    /// assert_eq!(p.entries().collect::<Vec<_>>(), vec![(0, 0), (1, 2)]);
    /// assert!(Pattern::from_entries(2, 2, [(2, 0)]).is_err());
    /// ```
    pub fn from_entries(
        nrows: usize,
        ncols: usize,
        entries: impl IntoIterator<Item = (usize, usize)>,
    ) -> Result<Pattern, Error> {
        if nrows >= u32::MAX as usize {
            return Err(Error::TooManyEntries { nnz: nrows as u64, limit: u32::MAX as u64 - 1 });
        }
        let mut cols: Vec<Vec<u32>> = vec![Vec::new(); ncols];
        for (row, col) in entries {
            if row >= nrows || col >= ncols {
                return Err(Error::EntryOutOfRange { row, col, nrows, ncols });
            }
            cols[col].push(row as u32);
        }
        let mut col_ptr = Vec::with_capacity(ncols + 1);
        col_ptr.push(0);
        let mut row_idx = Vec::new();
        for mut c in cols {
            c.sort_unstable();
            c.dedup();
            row_idx.extend_from_slice(&c);
            col_ptr.push(row_idx.len());
        }
        Ok(Pattern { nrows, col_ptr, row_idx })
    }

    /// Every entry as `(row, column)`, column by column.
    pub fn entries(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        (0..self.ncols()).flat_map(move |j| self.column(j).iter().map(move |&i| (i as usize, j)))
    }
}

/// The sparsity pattern of the Hessian of `f`'s scalar first result with
/// respect to parameter `wrt`, with default [`Options`].
///
/// `data` holds one entry per parameter of `f` (or is empty: all unknown):
/// the concrete value of a data parameter, or `None` when unknown. The
/// entry of `wrt` itself is ignored. Other float parameters are held fixed
/// (their derivatives are not part of this Hessian).
///
/// The pattern is `n × n` for a parameter of `n` elements and holds both
/// triangles. It contains every entry that can be nonzero for the given
/// data; see the [module documentation](self) for how tight it is.
///
/// ```
/// use saddle_ir::{trace, TensorType};
/// // Σ exp(xᵢ): separable, so the Hessian is diagonal.
/// let f = trace("f", &[TensorType::f64([4])], |x| vec![x[0].exp().sum_all()]).unwrap();
/// let p = saddle_ad::sparsity::hessian_pattern(&f, 0, &[None]).unwrap();
/// assert_eq!(p.entries().collect::<Vec<_>>(), vec![(0, 0), (1, 1), (2, 2), (3, 3)]);
/// ```
pub fn hessian_pattern(f: &Func, wrt: usize, data: &[Option<&Array>]) -> Result<Pattern, Error> {
    hessian_pattern_with(f, wrt, data, &Options::default())
}

/// [`hessian_pattern`] with explicit limits.
pub fn hessian_pattern_with(f: &Func, wrt: usize, data: &[Option<&Array>], opts: &Options) -> Result<Pattern, Error> {
    let n = check(f, wrt, data, "hessian pattern", true)?;
    let mut pass = Pass::new(f, wrt, n, data, opts, true)?;
    pass.run()?;
    pass.pairs.finish(opts.max_nnz)
}

/// The sparsity pattern of the Jacobian of `f`'s first result with respect
/// to parameter `wrt`: one row per element of the result (row-major), one
/// column per element of the parameter. `data` is as for
/// [`hessian_pattern`].
///
/// ```
/// use saddle_ir::{trace, TensorType};
/// // y = x[1:] - x[:-1]: a bidiagonal Jacobian.
/// let f = trace("diff", &[TensorType::f64([4])], |x| {
///     vec![x[0].slice(&[1], &[4]) - x[0].slice(&[0], &[3])]
/// })
/// .unwrap();
/// let p = saddle_ad::sparsity::jacobian_pattern(&f, 0, &[None]).unwrap();
/// assert_eq!((p.nrows(), p.ncols(), p.nnz()), (3, 4, 6));
/// assert!(p.contains(0, 0) && p.contains(0, 1) && !p.contains(0, 2));
/// ```
pub fn jacobian_pattern(f: &Func, wrt: usize, data: &[Option<&Array>]) -> Result<Pattern, Error> {
    jacobian_pattern_with(f, wrt, data, &Options::default())
}

/// [`jacobian_pattern`] with explicit limits.
pub fn jacobian_pattern_with(f: &Func, wrt: usize, data: &[Option<&Array>], opts: &Options) -> Result<Pattern, Error> {
    let n = check(f, wrt, data, "jacobian pattern", false)?;
    let mut pass = Pass::new(f, wrt, n, data, opts, false)?;
    pass.run()?;
    let r = f.results()[0];
    let m = f.ty(r).num_elements();
    let deps = pass.deps[r.index()].take();
    // Transpose the per-row sets into columns.
    let mut count = vec![0usize; n + 1];
    let mut total: u64 = 0;
    if let Some(d) = &deps {
        for e in 0..m {
            let s = d.set(e);
            if is_all(s) {
                total += n as u64;
                count.iter_mut().take(n).for_each(|c| *c += 1);
            } else {
                total += s.len() as u64;
                s.iter().for_each(|&j| count[j as usize] += 1);
            }
            if total > opts.max_nnz {
                return Err(Error::TooManyEntries { nnz: total, limit: opts.max_nnz });
            }
        }
    }
    let mut col_ptr = vec![0usize; n + 1];
    for j in 0..n {
        col_ptr[j + 1] = col_ptr[j] + count[j];
    }
    let mut next = col_ptr.clone();
    let mut row_idx = vec![0u32; col_ptr[n]];
    if let Some(d) = &deps {
        for e in 0..m {
            let s = d.set(e);
            let mut put = |j: usize| {
                row_idx[next[j]] = e as u32;
                next[j] += 1;
            };
            if is_all(s) {
                (0..n).for_each(&mut put);
            } else {
                s.iter().for_each(|&j| put(j as usize));
            }
        }
    }
    Ok(Pattern { nrows: m, col_ptr, row_idx })
}

/// Checks the function, the parameter and the data; returns the number of
/// elements of the parameter.
fn check(f: &Func, wrt: usize, data: &[Option<&Array>], transform: &'static str, scalar: bool) -> Result<usize, Error> {
    saddle_ir::verify(f).map_err(crate::Error::from)?;
    let name = || f.name().to_string();
    let ty = f.param_types().get(wrt).ok_or_else(|| crate::Error::NoSuchParam {
        func: name(),
        count: f.num_params(),
        index: wrt,
    })?;
    if !ty.dtype.is_float() {
        return Err(crate::Error::NotFloat { func: name(), index: wrt, ty: ty.clone() }.into());
    }
    let out =
        f.result_types().into_iter().next().ok_or(crate::Error::Count { what: "results", expected: 1, found: 0 })?;
    if scalar && !out.is_scalar() {
        return Err(crate::Error::NonScalarResult { transform, func: name(), ty: out }.into());
    }
    if !out.dtype.is_float() {
        return Err(crate::Error::NonFloatResult { transform, func: name(), ty: out }.into());
    }
    if !data.is_empty() && data.len() != f.num_params() {
        return Err(crate::Error::Count {
            what: "sparsity data arguments",
            expected: f.num_params(),
            found: data.len(),
        }
        .into());
    }
    for (k, d) in data.iter().enumerate() {
        if let Some(a) = d {
            if k != wrt && a.ty() != f.param_types()[k] {
                return Err(Error::DataType {
                    func: name(),
                    index: k,
                    expected: Box::new(f.param_types()[k].clone()),
                    found: Box::new(a.ty()),
                });
            }
        }
    }
    // Row and column indices are stored as u32.
    if ty.num_elements().max(out.num_elements()) >= u32::MAX as usize {
        return Err(Error::TooManyEntries {
            nnz: ty.num_elements().max(out.num_elements()) as u64,
            limit: u32::MAX as u64 - 1,
        });
    }
    Ok(ty.num_elements())
}

/// The marker of the set "every element of the parameter".
pub(crate) const ALL: u32 = u32::MAX;

/// Whether a set is the "every element" marker.
pub(crate) fn is_all(s: &[u32]) -> bool {
    s.first() == Some(&ALL)
}

/// The dependency sets of one value, one per element, in compressed rows:
/// each set sorted and duplicate-free, or the single marker [`ALL`].
#[derive(Clone, Debug, Default)]
pub(crate) struct Deps {
    off: Vec<usize>,
    idx: Vec<u32>,
}

impl Deps {
    /// The set of element `e`.
    #[inline]
    pub(crate) fn set(&self, e: usize) -> &[u32] {
        &self.idx[self.off[e]..self.off[e + 1]]
    }

    fn len(&self) -> usize {
        self.off.len() - 1
    }
}

/// Builds the [`Deps`] of a result element by element.
pub(crate) struct DepsBuilder {
    deps: Deps,
    scratch: Vec<u32>,
    max_set: usize,
    any: bool,
}

impl DepsBuilder {
    pub(crate) fn new(elems: usize, max_set: usize) -> DepsBuilder {
        let mut off = Vec::with_capacity(elems + 1);
        off.push(0);
        DepsBuilder { deps: Deps { off, idx: Vec::with_capacity(elems) }, scratch: Vec::new(), max_set, any: false }
    }

    /// Appends the next element's set: the union of `sets`.
    pub(crate) fn push_union<'s>(&mut self, sets: impl IntoIterator<Item = &'s [u32]>) {
        let mut all = false;
        let mut count = 0;
        let (mut first, mut second): (&[u32], &[u32]) = (&[], &[]);
        for s in sets {
            if s.is_empty() {
                continue;
            }
            if is_all(s) {
                all = true;
                break;
            }
            count += 1;
            match count {
                1 => first = s,
                2 => second = s,
                _ => {
                    if count == 3 {
                        self.scratch.clear();
                        self.scratch.extend_from_slice(first);
                        self.scratch.extend_from_slice(second);
                    }
                    self.scratch.extend_from_slice(s);
                    // A large union (a sum over many elements) is cut short
                    // as soon as it is known to exceed the limit.
                    if self.scratch.len() > 4 * self.max_set.max(64) {
                        self.scratch.sort_unstable();
                        self.scratch.dedup();
                        if self.scratch.len() > self.max_set {
                            all = true;
                            break;
                        }
                    }
                }
            }
        }
        let idx = &mut self.deps.idx;
        let start = idx.len();
        if all {
            idx.push(ALL);
        } else if count == 1 {
            idx.extend_from_slice(first);
        } else if count == 2 {
            // Two sorted sets: merge them.
            let (mut a, mut b) = (first, second);
            while let (Some(&x), Some(&y)) = (a.first(), b.first()) {
                idx.push(x.min(y));
                if x <= y {
                    a = &a[1..];
                }
                if y <= x {
                    b = &b[1..];
                }
            }
            idx.extend_from_slice(a);
            idx.extend_from_slice(b);
        } else if count > 2 {
            self.scratch.sort_unstable();
            self.scratch.dedup();
            idx.extend_from_slice(&self.scratch);
        }
        if idx.len() - start > self.max_set {
            idx.truncate(start);
            idx.push(ALL);
        }
        self.any |= idx.len() > start;
        self.deps.off.push(idx.len());
    }

    /// Appends an empty set.
    pub(crate) fn push_empty(&mut self) {
        self.deps.off.push(self.deps.idx.len());
    }

    /// The sets, or `None` when all are empty.
    pub(crate) fn finish(self) -> Option<Deps> {
        self.any.then_some(self.deps)
    }
}

/// The Hessian's interaction pairs, both triangles: recorded flat, as
/// `(column, row)` entries in one list (no allocation per index), and
/// compacted into sorted, duplicate-free columns whenever the list grows
/// past twice what the last compaction kept, so that repeated pairs cost
/// time but not memory.
pub(crate) struct Pairs {
    n: usize,
    /// Whether pairs are recorded at all (off for Jacobians).
    on: bool,
    /// Pairs recorded since the last compaction, `(column, row)`.
    fresh: Vec<(u32, u32)>,
    /// The pairs kept by the last compaction, in compressed columns.
    col_ptr: Vec<usize>,
    rows: Vec<u32>,
    /// Indices that interact with every index.
    full: Vec<bool>,
    num_full: usize,
    max_nnz: u64,
    /// The last product of many pairs recorded: elementwise ops over
    /// values whose elements share one large set (random effects indexed
    /// by unknown data) repeat it for every element, and an exact repeat
    /// adds nothing.
    last: (Vec<u32>, Vec<u32>),
}

/// Products of at least this many pairs are remembered to skip repeats.
const REPEAT_PAIRS: usize = 64;

/// Recorded pairs are compacted past this many (and past twice the pairs
/// kept).
const COMPACT_PAIRS: usize = 1 << 23;

impl Pairs {
    fn new(n: usize, on: bool, max_nnz: u64) -> Pairs {
        let n_on = if on { n } else { 0 };
        Pairs {
            n,
            on,
            fresh: Vec::new(),
            col_ptr: vec![0; n_on + 1],
            rows: Vec::new(),
            full: vec![false; n_on],
            num_full: 0,
            max_nnz,
            last: (Vec::new(), Vec::new()),
        }
    }

    fn mark_full(&mut self, i: usize) -> Result<(), Error> {
        if !self.full[i] {
            self.full[i] = true;
            self.num_full += 1;
            // Each full index brings a row and a column: at least 2n - 1 entries.
            let lower = (self.num_full as u64) * (self.n as u64);
            if lower > self.max_nnz {
                return Err(Error::TooManyEntries { nnz: lower, limit: self.max_nnz });
            }
        }
        Ok(())
    }

    /// Records that every index of `a` interacts with every index of `b`.
    pub(crate) fn add(&mut self, a: &[u32], b: &[u32]) -> Result<(), Error> {
        if !self.on || a.is_empty() || b.is_empty() || self.num_full == self.n {
            return Ok(());
        }
        // Sets are sorted and duplicate-free: one of n elements is every
        // element.
        let whole = |s: &[u32]| is_all(s) || s.len() == self.n;
        match (whole(a), whole(b)) {
            (true, true) => {
                for i in 0..self.n {
                    self.mark_full(i)?;
                }
            }
            (true, false) => {
                for &j in b {
                    self.mark_full(j as usize)?;
                }
            }
            (false, true) => {
                for &i in a {
                    self.mark_full(i as usize)?;
                }
            }
            (false, false) => {
                if a.len() * b.len() >= REPEAT_PAIRS {
                    let (la, lb) = (&self.last.0[..], &self.last.1[..]);
                    if (la == a && lb == b) || (la == b && lb == a) {
                        return Ok(());
                    }
                    self.last = (a.to_vec(), b.to_vec());
                }
                self.record(a, b);
                if a != b {
                    self.record(b, a);
                }
                if self.fresh.len() > COMPACT_PAIRS.max(2 * self.rows.len()) {
                    self.compact()?;
                }
            }
        }
        Ok(())
    }

    /// Records the pairs `(j, i)` for `j` in `cols`, `i` in `rows`, but
    /// those of full indices.
    fn record(&mut self, cols: &[u32], rows: &[u32]) {
        if self.num_full == 0 {
            for &j in cols {
                self.fresh.extend(rows.iter().map(|&i| (j, i)));
            }
        } else {
            let full = &self.full;
            for &j in cols.iter().filter(|&&j| !full[j as usize]) {
                self.fresh.extend(rows.iter().filter(|&&i| !full[i as usize]).map(|&i| (j, i)));
            }
        }
    }

    /// Records that the indices of `a` interact with each other.
    pub(crate) fn add_square(&mut self, a: &[u32]) -> Result<(), Error> {
        self.add(a, a)
    }

    /// Merges the recorded pairs into the kept columns, sorted and
    /// duplicate-free, leaving out full indices.
    fn compact(&mut self) -> Result<(), Error> {
        let n = self.n;
        let full = &self.full;
        let mut ptr = vec![0usize; n + 1];
        for j in 0..n {
            if !full[j] {
                ptr[j + 1] = self.col_ptr[j + 1] - self.col_ptr[j];
            }
        }
        for &(j, i) in &self.fresh {
            if !full[j as usize] && !full[i as usize] {
                ptr[j as usize + 1] += 1;
            }
        }
        for j in 0..n {
            ptr[j + 1] += ptr[j];
        }
        let mut rows = vec![0u32; ptr[n]];
        let mut next = ptr.clone();
        for j in 0..n {
            if !full[j] {
                let old = &self.rows[self.col_ptr[j]..self.col_ptr[j + 1]];
                rows[next[j]..next[j] + old.len()].copy_from_slice(old);
                next[j] += old.len();
            }
        }
        for &(j, i) in &self.fresh {
            if !full[j as usize] && !full[i as usize] {
                rows[next[j as usize]] = i;
                next[j as usize] += 1;
            }
        }
        // Sort and deduplicate each column, moving it down into place.
        let mut kept = 0;
        let mut col_ptr = Vec::with_capacity(n + 1);
        col_ptr.push(0);
        for j in 0..n {
            let (start, end) = (ptr[j], ptr[j + 1]);
            sort_short(&mut rows[start..end]);
            let mut last = None;
            for k in start..end {
                let i = rows[k];
                if last != Some(i) {
                    rows[kept] = i;
                    kept += 1;
                    last = Some(i);
                }
            }
            col_ptr.push(kept);
        }
        rows.truncate(kept);
        self.fresh = Vec::new();
        self.col_ptr = col_ptr;
        self.rows = rows;
        let nnz = kept as u64 + (self.num_full as u64) * (self.n as u64);
        if nnz > self.max_nnz {
            return Err(Error::TooManyEntries { nnz, limit: self.max_nnz });
        }
        Ok(())
    }

    fn finish(mut self, max_nnz: u64) -> Result<Pattern, Error> {
        self.compact()?;
        let n = self.n;
        if self.num_full == 0 {
            return Ok(Pattern { nrows: n, col_ptr: self.col_ptr, row_idx: self.rows });
        }
        // Every column gains the full indices, and a full column is all rows.
        let full_list: Vec<u32> = (0..n as u32).filter(|&i| self.full[i as usize]).collect();
        let nf = full_list.len() as u64;
        let nnz =
            (0..n).map(|j| if self.full[j] { 0 } else { nf }).sum::<u64>() + nf * n as u64 + self.rows.len() as u64;
        if nnz > max_nnz {
            return Err(Error::TooManyEntries { nnz, limit: max_nnz });
        }
        let mut col_ptr = Vec::with_capacity(n + 1);
        col_ptr.push(0);
        let mut row_idx = Vec::with_capacity(nnz as usize);
        for j in 0..n {
            if self.full[j] {
                row_idx.extend(0..n as u32);
            } else {
                // Two sorted lists with no index in common.
                let (mut a, mut b) = (&self.rows[self.col_ptr[j]..self.col_ptr[j + 1]], &full_list[..]);
                while let (Some(&x), Some(&y)) = (a.first(), b.first()) {
                    if x < y {
                        row_idx.push(x);
                        a = &a[1..];
                    } else {
                        row_idx.push(y);
                        b = &b[1..];
                    }
                }
                row_idx.extend_from_slice(a);
                row_idx.extend_from_slice(b);
            }
            col_ptr.push(row_idx.len());
        }
        Ok(Pattern { nrows: n, col_ptr, row_idx })
    }
}

/// Sorts a slice, by insertion when short (the columns of banded and
/// hierarchical patterns hold a few entries).
fn sort_short(v: &mut [u32]) {
    if v.len() > 16 {
        v.sort_unstable();
        return;
    }
    for k in 1..v.len() {
        let x = v[k];
        let mut i = k;
        while i > 0 && v[i - 1] > x {
            v[i] = v[i - 1];
            i -= 1;
        }
        v[i] = x;
    }
}

/// What a rule sees of one instruction.
pub(crate) struct Ctx<'a> {
    /// The operands' types.
    pub tys: Vec<&'a TensorType>,
    /// The result's type.
    pub out: &'a TensorType,
    /// The operands' dependency sets (`None`: all empty).
    pub deps: Vec<Option<&'a Deps>>,
    /// The operands' values, where known (row-major, as `f64`).
    pub known: Vec<Option<&'a [f64]>>,
    /// Limit of a set's size.
    pub max_set: usize,
}

impl Ctx<'_> {
    /// The set of element `e` of operand `k` (empty when it has none).
    #[inline]
    pub(crate) fn set(&self, k: usize, e: usize) -> &[u32] {
        match self.deps[k] {
            Some(d) => d.set(e),
            None => &[],
        }
    }

    /// Whether element `e` of operand `k` is known to be zero.
    pub(crate) fn is_zero(&self, k: usize, e: usize) -> bool {
        self.known[k].is_some_and(|v| v[e] == 0.0)
    }

    /// A builder for the result's sets.
    pub(crate) fn builder(&self) -> DepsBuilder {
        DepsBuilder::new(self.out.num_elements(), self.max_set)
    }

    /// A known integer index operand, checked against `extent`.
    pub(crate) fn index_values(&self, k: usize, op: &'static str, extent: usize) -> Result<Option<Vec<usize>>, Error> {
        let Some(v) = self.known[k] else { return Ok(None) };
        v.iter()
            .map(|&x| {
                if x >= 0.0 && x < extent as f64 {
                    Ok(x as usize)
                } else {
                    Err(Error::IndexOutOfRange { op, index: x as i64, extent })
                }
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

/// What a rule gives back: the result's sets (recording its interactions
/// into the pairs as it goes) and, where it computed it, its value.
pub(crate) struct Out {
    pub deps: Option<Deps>,
    pub known: Option<Vec<f64>>,
}

impl Out {
    pub(crate) fn deps(deps: Option<Deps>) -> Out {
        Out { deps, known: None }
    }
}

/// One run of the detection pass.
struct Pass<'f> {
    f: &'f Func,
    deps: Vec<Option<Deps>>,
    known: Vec<Option<Vec<f64>>>,
    pairs: Pairs,
    max_set: usize,
}

impl<'f> Pass<'f> {
    fn new(
        f: &'f Func,
        wrt: usize,
        n: usize,
        data: &[Option<&Array>],
        opts: &Options,
        hessian: bool,
    ) -> Result<Pass<'f>, Error> {
        let mut deps: Vec<Option<Deps>> = vec![None; f.num_values()];
        let mut known: Vec<Option<Vec<f64>>> = vec![None; f.num_values()];
        // Element i of the parameter depends on itself.
        deps[wrt] = (n > 0).then(|| Deps { off: (0..=n).collect(), idx: (0..n as u32).collect() });
        for (k, d) in data.iter().enumerate() {
            if k != wrt {
                known[k] = d.map(Array::to_f64_vec);
            }
        }
        Ok(Pass { f, deps, known, pairs: Pairs::new(n, hessian, opts.max_nnz), max_set: opts.max_set })
    }

    fn run(&mut self) -> Result<(), Error> {
        let live = live_for_first(self.f);
        // The last instruction that reads each value (results are kept):
        // a value's sets are freed after it, so that large functions reuse
        // that memory instead of holding every value's sets at once.
        let mut last_use = vec![None; self.f.num_values()];
        for (v, inst) in self.f.iter_insts() {
            if live[v.index()] {
                for a in inst.args.iter() {
                    last_use[a.index()] = Some(v);
                }
            }
        }
        for r in self.f.results() {
            last_use[r.index()] = None;
        }
        for (v, inst) in self.f.iter_insts() {
            if !live[v.index()] {
                continue;
            }
            let ctx = Ctx {
                tys: inst.args.iter().map(|a| self.f.ty(*a)).collect(),
                out: self.f.ty(v),
                deps: inst.args.iter().map(|a| self.deps[a.index()].as_ref()).collect(),
                known: inst.args.iter().map(|a| self.known[a.index()].as_deref()).collect(),
                max_set: self.max_set,
            };
            let out = rule(&inst.op, &ctx, &mut self.pairs)?;
            // Integer and bool values carry no derivative.
            let deps = if self.f.ty(v).dtype.is_float() { out.deps } else { None };
            debug_assert!(deps.as_ref().is_none_or(|d| d.len() == self.f.ty(v).num_elements()));
            // A value that depends on the parameter is not data.
            let known = if deps.is_none() { out.known } else { None };
            self.deps[v.index()] = deps;
            self.known[v.index()] = known;
            for a in inst.args.iter() {
                if last_use[a.index()] == Some(v) {
                    self.deps[a.index()] = None;
                    self.known[a.index()] = None;
                }
            }
        }
        Ok(())
    }
}

/// Which values the first result depends on.
fn live_for_first(f: &Func) -> Vec<bool> {
    let mut live = vec![false; f.num_values()];
    if let Some(r) = f.results().first() {
        live[r.index()] = true;
    }
    for (v, inst) in f.iter_insts().rev() {
        if live[v.index()] {
            for a in inst.args.iter() {
                live[a.index()] = true;
            }
        }
    }
    live
}

/// The sparsity rule of every op.
fn rule(op: &Op, c: &Ctx<'_>, pairs: &mut Pairs) -> Result<Out, Error> {
    Ok(match op {
        Op::Const(lit) => Out { deps: None, known: Some(lit.to_array().to_f64_vec()) },
        Op::Iota { .. } => layout::iota(c, op),
        Op::Unary(u) => elementwise::unary(c, *u, pairs)?,
        Op::Binary(b) => elementwise::binary(c, *b, pairs)?,
        Op::Compare(_) => Out::deps(None),
        Op::Select => elementwise::select(c, pairs)?,
        Op::Convert { dtype } => elementwise::convert(c, *dtype, pairs)?,
        Op::StopGradient => Out::deps(None),
        Op::BroadcastInDim { .. }
        | Op::Reshape { .. }
        | Op::Transpose { .. }
        | Op::Slice { .. }
        | Op::Pad { .. }
        | Op::Concatenate { .. } => layout::gather(c, &layout::sources(c, op)),
        Op::Reduce { kind, axes } => reduce::reduce(c, *kind, axes),
        Op::DotGeneral(d) => linalg::dot_general(c, d, pairs)?,
        Op::Cholesky => linalg::cholesky(c, pairs)?,
        Op::TriangularSolve { left_side, .. } => linalg::triangular_solve(c, *left_side, pairs)?,
        Op::Take { axis } => index::take(c, *axis)?,
        Op::SegmentSum { num_segments } => index::segment_sum(c, *num_segments)?,
    })
}

/// Row-major strides of `shape`.
pub(crate) fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for a in (0..shape.len().saturating_sub(1)).rev() {
        s[a] = s[a + 1] * shape[a + 1];
    }
    s
}

/// The multi-index of row-major position `flat` in `shape`, into `out`.
pub(crate) fn unravel(mut flat: usize, shape: &[usize], out: &mut [usize]) {
    for a in (0..shape.len()).rev() {
        let n = shape[a].max(1);
        out[a] = flat % n;
        flat /= n;
    }
}

/// Row-major offsets, in an array of `shape`, of every index over `axes`
/// (the other axes at 0), in row-major order of `axes`.
pub(crate) fn axis_offsets(shape: &[usize], axes: &[usize]) -> Vec<usize> {
    let st = strides(shape);
    let sub: Vec<usize> = axes.iter().map(|&a| shape[a]).collect();
    let n: usize = sub.iter().product();
    let mut idx = vec![0; axes.len()];
    (0..n)
        .map(|j| {
            unravel(j, &sub, &mut idx);
            axes.iter().zip(&idx).map(|(&a, &i)| i * st[a]).sum()
        })
        .collect()
}
