//! Equality saturation with egg: makes derivative code as lean as
//! hand-written code.
//!
//! [`simplify`] puts a function into an e-graph (parameters, constants and
//! ops as e-nodes, attributes as their leaf data), applies rewrite rules
//! until nothing changes or a limit is reached, and extracts the cheapest
//! equivalent function under a cost model that reads shapes
//! ([`cost::op_cost`]: elementwise ops cost their element count,
//! `dot_general` costs `2·M·N·K`, plus bytes moved). The function is rebuilt
//! as a DAG: a value used twice is computed once.
//!
//! An e-class analysis carries each class's type (from [`Op::infer_type`](crate::Op::infer_type),
//! the IR's one typing rule), its value when it is a constant (a splat of
//! any size, or a small dense tensor), and structural facts (an identity
//! basis, an `iota`). Merging two classes of different types is a bug in a
//! rule: it panics in debug builds and is an error otherwise.
//!
//! # The rules
//!
//! Rules only add cheaper alternatives; their conditions read facts that
//! never change (shapes, dtypes, constants). By family:
//!
//! - elementwise: `x+0`, `x-0`, `0-x`, `x·1`, `x·-1`, `x/1`, `-(-x)`,
//!   `-(a-b)`, `x+(-y)`, `x-(-y)`, `(-x)·c`, `(-a)∘(-b)` for `∘` in
//!   `+ - · /`, `|-x|`, `not(not x)`,
//!   `and`/`or` with constants, `max(x,x)`, `select` with a constant
//!   predicate or equal branches or a negated predicate, `x^1`, `x^0`,
//!   redundant `convert`s; elementwise ops moved under a shared broadcast
//!   (so they run on fewer elements), transpose or reshape (so that layout
//!   chains meet and cancel); scalings along broadcast axes combined on the
//!   small tensor: `-(x·bcast u) → x·bcast(-u)`,
//!   `(x·bcast u)·bcast v → x·bcast(u·v)`, `(x·bcast u)/bcast v →
//!   x·bcast(u/v)`, `x·a ± x·b → x·(a ± b)` for scalings `a`, `b` (the
//!   last three re-associate); constant folding of every op the evaluator
//!   reproduces exactly;
//! - reductions: over no axes, of a broadcast (a sum of copies is a
//!   scaling), of a reduction, of a transpose;
//! - layout: no-op and chained reshapes, transposes, broadcasts, slices;
//!   a transpose sunk into elementwise ops whose operands transpose for
//!   free (constants, symmetric identities, broadcasts, transposes it
//!   cancels, `dot_general`s whose operands it swaps);
//!   transposes and broadcasts that only move axes of extent 1 become
//!   reshapes; slices of pads, concatenations and broadcasts; pads of
//!   nothing; concatenations of one operand, of concatenations, of adjacent
//!   slices;
//! - linear algebra: transposes folded into `dot_general` on either side
//!   and on its result; products with an identity (the `jacfwd` basis, as a
//!   constant or as `eq(iota, iota)`), with a one-hot constant, with a splat;
//!   re-association of `dot_general` chains when it needs fewer flops;
//! - indexing: `take` of an `iota` or of a constant run of indices is a
//!   slice, `segment_sum` by an `iota` is a pad.
//!
//! Dead code disappears because only what the results need is extracted,
//! and common subexpressions merge because the e-graph hash-conses.
//!
//! # Floating point
//!
//! Every default rule gives the same results for every finite input, up to
//! the rounding of a re-ordered computation (`Σ x` over `n` copies becomes
//! `n·x`; `dot_general` chains re-associate; constant factors and scalings
//! along broadcast axes combine before they are applied, `(x·c1)·c2 →
//! x·(c1·c2)`; [`SimplifyOptions::reassociate`] turns these off) and the
//! sign of a zero (`x + 0 → x`
//! keeps `-0` where the original gives `+0`). Non-finite values propagate as
//! before, with one documented exception: a product with a constant identity,
//! one-hot or splat operand no longer multiplies the other operand's
//! entries by the constant zeros, so an `∞` or NaN in one entry of the other
//! operand stays in the outputs that depend on it instead of turning every
//! output that touches it through a zero into NaN (the values that
//! `jax.jacfwd` gives, whose basis is never materialised as a product).
//! The rules that change NaN or ∞ propagation beyond that, `x·0 → 0`,
//! `x-x → 0`, `x/x → 1`, `exp(log x) → x`, `log(exp x) → x` and a product
//! (`mul` or `dot_general`) with a zero splat, are off unless
//! [`SimplifyOptions::unsafe_math`] is set.
//!
//! ```
//! use saddle_ir::{parse_func, print_func, simplify::{simplify, SimplifyOptions}};
//! let f = parse_func("f.sir", "func @f(%x: f64[3]) -> f64[3] {
//!   %one: f64[3] = const {value = 1.0}
//!   %y: f64[3] = mul %x, %one
//!   %t: f64[3] = transpose %y {perm = [0]}
//!   return %t
//! }").unwrap();
//! let (g, report) = simplify(&f, &SimplifyOptions::default()).unwrap();
//! assert_eq!(g.insts().len(), 0);
//! assert_eq!(report.before.ops, 3);
//! assert!(print_func(&g).contains("return %x"));
//! ```

#[cfg(test)]
mod chains;
pub mod cost;
mod extract;
mod fold;
mod lang;
mod probe;
mod rules;

use std::fmt;
use std::time::{Duration, Instant};

pub use cost::{Cost, CostSummary, estimate};

use crate::passes::{cse, dce};
use crate::{Error, Func, verify};
use lang::Analyzer;
use rules::{Rule, Safety};

/// Limits and switches of [`simplify`].
#[derive(Clone, Debug, PartialEq)]
pub struct SimplifyOptions {
    /// Stop rewriting once the e-graph holds this many e-nodes, or
    /// [`node_limit_per_value`](Self::node_limit_per_value) times the
    /// input's values, whichever is more.
    pub node_limit: usize,
    /// The node limit of a large input, per value of the input: a
    /// function of 100,000 ops starts with 100,000 e-nodes, so a fixed
    /// limit would leave its rules less room than a small function's.
    pub node_limit_per_value: usize,
    /// Stop after this many rounds of rule application.
    pub iter_limit: usize,
    /// The largest input, in values, put into an e-graph. An e-graph takes
    /// about 1.5 KB per value, some fifty times the value's text, so a
    /// larger function is only cleaned (dead code and common
    /// subexpressions removed) and the report says so
    /// ([`Limit::Size`]).
    pub max_values: usize,
    /// The time budget of the whole call: rule application checks it
    /// between rule applications, extraction between its steps. When it
    /// is spent the function stays as the last completed round left it
    /// (the input, cleaned, if that was the first) and the report says so
    /// ([`SimplifyReport::warnings`]).
    pub time_limit: Duration,
    /// Enable the rules that change how NaN and ∞ propagate (see the
    /// module docs). Off by default.
    pub unsafe_math: bool,
    /// Re-associate `dot_general` chains (and distribute a splat factor out
    /// of a product) when that needs fewer flops. On by default.
    pub reassociate: bool,
    /// The most re-association rewrites one run may apply.
    pub reassociate_budget: usize,
    /// Replace formulas as users write them by the ops that compute the
    /// same functions more accurately: `1/(1+exp(-x))` → `logistic x`,
    /// `log(1+x)` → `log1p x`, `log(1-x)` → `log1p(-x)`, `exp(x)-1` →
    /// `expm1 x` (so `log(1+exp(x))` becomes `log1p(exp(x))`, exact where
    /// `exp(x)` is tiny). Results change, toward the exact value; off, every
    /// rewrite keeps every bit. On by default.
    pub stable_forms: bool,
    /// Largest dense constant (in elements) that constant folding writes
    /// into the result; splats are always folded.
    pub max_fold_elements: usize,
    /// Largest computed constant (in elements) the analysis keeps to fold
    /// further and to recognise identities and one-hot vectors.
    pub max_const_elements: usize,
}

impl Default for SimplifyOptions {
    fn default() -> SimplifyOptions {
        SimplifyOptions {
            node_limit: 200_000,
            node_limit_per_value: 4,
            iter_limit: 40,
            max_values: 200_000,
            time_limit: Duration::from_secs(5),
            unsafe_math: false,
            reassociate: true,
            reassociate_budget: 10_000,
            stable_forms: true,
            max_fold_elements: 256,
            max_const_elements: 1 << 16,
        }
    }
}

/// A limit of [`SimplifyOptions`] that stopped rewriting early. The result
/// is still correct, only possibly less simplified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// [`SimplifyOptions::node_limit`].
    Nodes,
    /// [`SimplifyOptions::iter_limit`].
    Iterations,
    /// [`SimplifyOptions::time_limit`].
    Time,
    /// [`SimplifyOptions::max_values`]: the input was too large to put
    /// into an e-graph at all.
    Size,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Limit::Nodes => "node limit",
            Limit::Iterations => "iteration limit",
            Limit::Time => "time limit",
            Limit::Size => "size limit",
        })
    }
}

/// What [`simplify`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct SimplifyReport {
    /// The input's op count and estimated cost.
    pub before: CostSummary,
    /// The output's.
    pub after: CostSummary,
    /// Rounds of rule application.
    pub iterations: usize,
    /// E-nodes in the final e-graph.
    pub egraph_nodes: usize,
    /// E-classes in the final e-graph.
    pub egraph_classes: usize,
    /// The limit that stopped rewriting, if one did (otherwise the rules
    /// saturated: nothing more to rewrite).
    pub limit_hit: Option<Limit>,
    /// How often each rule added a new equality, by rule name, sorted.
    pub rules_applied: Vec<(String, usize)>,
    /// Nothing cheaper was found: the result is the input with dead code
    /// and common subexpressions removed.
    pub kept_input: bool,
    /// Wall-clock time of the whole call.
    pub elapsed: Duration,
    /// The time budget the call ran under ([`SimplifyOptions::time_limit`]).
    pub time_budget: Duration,
}

impl SimplifyReport {
    /// Warnings for the user: the limits hit.
    pub fn warnings(&self) -> Vec<String> {
        self.limit_hit
            .iter()
            .map(|l| match l {
                Limit::Time => format!(
                    "simplify: time budget of {:?} spent after {} iterations; function left {}",
                    self.time_budget,
                    self.iterations,
                    if self.kept_input { "unsimplified" } else { "as the rounds before left it" }
                ),
                Limit::Size => format!(
                    "simplify: the function has {} ops, too many for the e-graph; only dead code and common subexpressions were removed",
                    self.before.ops
                ),
                Limit::Nodes | Limit::Iterations => {
                    format!(
                        "simplify stopped at the {l} before saturating; the result is correct but may simplify further"
                    )
                }
            })
            .collect()
    }
}

impl fmt::Display for SimplifyReport {
    /// The `--stats` lines: ops and estimated cost before and after, the
    /// run, and any limit hit.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = |a: f64, b: f64| if a > 0.0 { format!("{:+.1}%", 100.0 * (b - a) / a) } else { "n/a".to_string() };
        writeln!(
            f,
            "simplify: ops {} -> {} ({}), flops {} -> {} ({}), bytes {} -> {} ({})",
            self.before.ops,
            self.after.ops,
            pct(self.before.ops as f64, self.after.ops as f64),
            cost::human(self.before.cost.flops),
            cost::human(self.after.cost.flops),
            pct(self.before.cost.flops, self.after.cost.flops),
            cost::human(self.before.cost.bytes),
            cost::human(self.after.cost.bytes),
            pct(self.before.cost.bytes, self.after.cost.bytes),
        )?;
        write!(
            f,
            "simplify: {} iterations, {} e-nodes, {} e-classes, {:.1} ms, {}",
            self.iterations,
            self.egraph_nodes,
            self.egraph_classes,
            self.elapsed.as_secs_f64() * 1e3,
            match self.limit_hit {
                Some(l) => format!("stopped at the {l}"),
                None => "saturated".to_string(),
            }
        )
    }
}

fn weight(s: &CostSummary) -> f64 {
    s.cost.flops + s.cost.bytes / 8.0 + s.ops as f64
}

/// Simplifies `f` by equality saturation; see the [module docs](self).
///
/// The result computes the same values as `f` (see the module docs on
/// floating point) with the same parameters and results. Hitting a limit
/// of `opts` is not an error: [`SimplifyReport::limit_hit`] says which.
///
/// # Errors
/// [`Error::Verify`] when `f` is not valid IR; [`Error::Internal`] when a
/// rule turns out unsound in a release build (a bug; debug builds panic).
pub fn simplify(f: &Func, opts: &SimplifyOptions) -> Result<(Func, SimplifyReport), Error> {
    simplify_with(f, opts, &[])
}

/// Rounds of saturation and extraction at most: extraction is a heuristic,
/// so a second round on its output can still find something. Rounds stop
/// as soon as one changes nothing, which makes `simplify` idempotent.
const MAX_ROUNDS: usize = 4;

/// What one round of saturation and extraction did.
struct Round {
    /// The cheaper function found, or `None` when the input stays.
    out: Option<Func>,
    iterations: usize,
    egraph_nodes: usize,
    egraph_classes: usize,
    limit_hit: Option<Limit>,
    applied: Vec<(String, usize)>,
}

/// [`simplify`] with extra rules (the tests add deliberately unsound ones).
pub(crate) fn simplify_with(f: &Func, opts: &SimplifyOptions, extra: &[Rule]) -> Result<(Func, SimplifyReport), Error> {
    let start = Instant::now();
    verify(f)?;
    let before = estimate(f);
    let mut input = f.clone();
    let cleaned = dce(&mut input) | cse(&mut input);
    let rules: Vec<Rule> = enabled_rules(opts).into_iter().chain(extra.iter().copied()).collect();

    let mut report = SimplifyReport {
        before,
        after: before,
        iterations: 0,
        egraph_nodes: 0,
        egraph_classes: 0,
        limit_hit: None,
        rules_applied: Vec::new(),
        kept_input: false,
        elapsed: Duration::ZERO,
        time_budget: opts.time_limit,
    };
    // One budget for every round, extraction included.
    if f.num_values() > opts.max_values {
        report.limit_hit = Some(Limit::Size);
        report.kept_input = true;
        report.after = if cleaned { estimate(&input) } else { before };
        report.elapsed = start.elapsed();
        return Ok((input, report));
    }
    let deadline = start.checked_add(opts.time_limit).unwrap_or_else(far_future);
    let mut applied: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    let mut current = input;
    let mut rewritten = false;
    // egg times its rebuilds with a TSC clock that calibrates itself for
    // about a millisecond on a process's first use, longer than simplifying
    // a small function takes; it runs on a stopped mock clock instead.
    let (stopped, _) = quanta::Clock::mock();
    for _ in 0..MAX_ROUNDS {
        let round = quanta::with_clock(&stopped, || round(&current, opts, &rules, deadline))?;
        report.iterations += round.iterations;
        report.egraph_nodes = report.egraph_nodes.max(round.egraph_nodes);
        report.egraph_classes = report.egraph_classes.max(round.egraph_classes);
        report.limit_hit = report.limit_hit.or(round.limit_hit);
        for (name, n) in round.applied {
            *applied.entry(name).or_default() += n;
        }
        // A round's output is strictly cheaper than its input, so it is a
        // different function: the rounds stop at the first that keeps its
        // input.
        let Some(out) = round.out else { break };
        current = out;
        rewritten = true;
        if report.limit_hit.is_some() {
            break;
        }
    }
    report.kept_input = !rewritten;
    report.after = if rewritten || cleaned { estimate(&current) } else { before };
    report.rules_applied = applied.into_iter().collect();
    report.elapsed = start.elapsed();
    Ok((current, report))
}

/// The rules `opts` switch on.
fn enabled_rules(opts: &SimplifyOptions) -> Vec<Rule> {
    let enabled = |r: &Rule| match r.safety {
        Safety::Exact => true,
        Safety::Unsafe => opts.unsafe_math,
        Safety::Reassociate => opts.reassociate,
        Safety::Accurate => opts.stable_forms,
    };
    rules::all().into_iter().filter(enabled).collect()
}

impl Round {
    /// Whether the round's e-graph of an `n`-value input stayed the input:
    /// no rule applied, no node added, no classes merged.
    fn left_egraph_alone(&self, n: usize) -> bool {
        self.applied.is_empty() && (self.egraph_nodes, self.egraph_classes) == (n, n)
    }
}

/// One round: saturate `input` (verified, without dead code), extract, and
/// keep the input when the extracted function is not cheaper.
fn round(input: &Func, opts: &SimplifyOptions, rules: &[Rule], deadline: Instant) -> Result<Round, Error> {
    let n = input.num_values();
    // The first iteration's limits pass, and then the probe can tell
    // whether it would change anything (debug builds check its answer
    // against the e-graph's).
    let probe_applies = opts.iter_limit > 0 && n <= node_limit(opts, n) && Instant::now() < deadline;
    if probe_applies && probe::nothing_to_rewrite(input, rules, opts) {
        let kept = Round {
            out: None,
            iterations: 1,
            egraph_nodes: n,
            egraph_classes: n,
            limit_hit: None,
            applied: Vec::new(),
        };
        if cfg!(debug_assertions) {
            let full = saturate_and_extract(input, opts, rules, far_future())?;
            debug_assert!(
                full.out.is_none() && full.left_egraph_alone(n),
                "simplify: the probe found nothing to rewrite, the e-graph did: {:?}",
                full.applied
            );
        }
        return Ok(kept);
    }
    saturate_and_extract(input, opts, rules, deadline)
}

/// The node limit of an input of `n` values.
fn node_limit(opts: &SimplifyOptions, n: usize) -> usize {
    opts.node_limit.max(opts.node_limit_per_value.saturating_mul(n))
}

/// A deadline that never comes (the debug check of the probe, tests).
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365)
}

/// [`round`] through the e-graph.
///
/// When the deadline passes during saturation the round keeps its input:
/// extracting from the e-graph would be sound, but takes time the budget
/// no longer has. Extraction that runs past it keeps the input too.
fn saturate_and_extract(
    input: &Func,
    opts: &SimplifyOptions,
    rules: &[Rule],
    deadline: Instant,
) -> Result<Round, Error> {
    let analyzer = Analyzer {
        max_const_elements: opts.max_const_elements,
        max_fold_elements: opts.max_fold_elements,
        unsound: None,
    };
    let (mut egraph, ids) = lang::to_egraph(input, analyzer);
    let limits = rules::Limits {
        nodes: node_limit(opts, input.num_values()),
        iterations: opts.iter_limit,
        deadline,
        reassociate_budget: opts.reassociate_budget,
    };
    let run = rules::saturate(&mut egraph, rules, &limits);
    if let Some(msg) = &egraph.analysis.unsound {
        return Err(Error::Internal { pass: "simplify", message: format!("unsound rewrite: {msg}") });
    }
    let applied: Vec<(String, usize)> = run.applied.iter().map(|&(name, n)| (name.to_string(), n)).collect();
    let n = ids.len();
    let mut limit_hit = run.limit_hit;
    let out = if limit_hit == Some(Limit::Time) {
        None
    } else if applied.is_empty() && egraph.total_size() == n && egraph.number_of_classes() == n {
        // Nothing was added or merged (no rule, no constant folding): every
        // class is one value of the input, so extraction would rebuild the
        // input, which has no dead code and no duplicates already.
        None
    } else {
        let extracted = match extract::extract(&egraph, input, &ids, deadline) {
            Ok(g) => g,
            Err(extract::OutOfTime) => {
                limit_hit = Some(Limit::Time);
                None
            }
        };
        if let Some(g) = &extracted {
            if let Err(e) = verify(g) {
                debug_assert!(false, "simplify extracted invalid IR: {e}");
                return Err(Error::Internal { pass: "simplify", message: format!("extracted invalid IR: {e}") });
            }
        }
        match extracted {
            Some(g) if weight(&estimate(&g)) < weight(&estimate(input)) => Some(g),
            Some(_) | None => None,
        }
    };
    Ok(Round {
        out,
        iterations: run.iterations,
        egraph_nodes: egraph.total_size(),
        egraph_classes: egraph.number_of_classes(),
        limit_hit,
        applied,
    })
}

#[cfg(test)]
mod tests;
