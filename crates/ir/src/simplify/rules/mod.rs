//! The rewrite rules, one file per op family, and the saturation loop that
//! applies them to the e-graph ([`saturate`]).
//!
//! A rule is a Rust function over one e-node (its op, attributes and child
//! e-classes) that looks at the children's facts and e-nodes and returns
//! e-classes equal to the matched one. Attributes are data on the e-node,
//! so conditions on them (composing two permutations, checking that a
//! slice undoes a pad) are plain Rust; every condition is on facts that
//! never change: shapes, dtypes and constant values.
//!
//! Rules only ever add cheaper alternatives; none re-associates or
//! commutes blindly, so saturation comes quickly.

mod elementwise;
mod index;
mod layout;
mod linalg;
mod reduce;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::hash::{Hash, Hasher};
use std::time::Instant;

use egg::Id;

use super::Limit;
use super::lang::{EGraph, Facts, Kids, Lit, Node};
use crate::{DType, Literal, Op, Scalar, TensorType};

/// How a rule treats non-finite values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Safety {
    /// Same results for every input, up to the sign of a zero and the
    /// rounding of a re-ordered sum.
    Exact,
    /// Same results for finite inputs only; may change where NaN or ∞
    /// appear (`x·0 → 0`). Off unless `unsafe_math`.
    Unsafe,
    /// Re-associates or distributes (`dot_general` chains, `x·a + x·b`,
    /// factors constant along broadcast axes): rounds differently, and may
    /// overflow differently at the edge of the range. Applied at most
    /// `reassociate_budget` times per run.
    Reassociate,
    /// Replaces a formula as users write it by the op that computes the
    /// same function more accurately (`1/(1+exp(-x))` → `logistic`,
    /// `exp(x) - 1` → `expm1`): results move toward the exact value, so
    /// bits change. Off unless `stable_forms`.
    Accurate,
}

/// The signature of a rule: context, the matched op and its children;
/// pushes equal classes onto the output.
pub(crate) type RuleFn = fn(&mut Ctx<'_>, &Op, &[Id], &mut Vec<Id>);

/// One rule: a name, the op name it is rooted at, its function and safety.
#[derive(Clone, Copy)]
pub(crate) struct Rule {
    pub(crate) name: &'static str,
    pub(crate) root: &'static str,
    pub(crate) f: RuleFn,
    pub(crate) safety: Safety,
}

impl Rule {
    pub(crate) const fn exact(name: &'static str, root: &'static str, f: RuleFn) -> Rule {
        Rule { name, root, f, safety: Safety::Exact }
    }

    pub(crate) const fn reassociate(name: &'static str, root: &'static str, f: RuleFn) -> Rule {
        Rule { name, root, f, safety: Safety::Reassociate }
    }

    pub(crate) const fn nan_unsafe(name: &'static str, root: &'static str, f: RuleFn) -> Rule {
        Rule { name, root, f, safety: Safety::Unsafe }
    }

    pub(crate) const fn accurate(name: &'static str, root: &'static str, f: RuleFn) -> Rule {
        Rule { name, root, f, safety: Safety::Accurate }
    }
}

/// Every rule of the simplifier.
pub(crate) fn all() -> Vec<Rule> {
    let mut rules = Vec::new();
    rules.extend(elementwise::rules());
    rules.extend(reduce::rules());
    rules.extend(layout::rules());
    rules.extend(linalg::rules());
    rules.extend(index::rules());
    rules
}

/// What rules read and build: the e-graph while saturating, or the
/// input function itself while probing whether any rule applies at all
/// ([`super::probe`]).
pub(crate) trait Graph {
    /// The facts of class `id`.
    fn facts(&self, id: Id) -> &Facts;
    /// The canonical id of class `id`.
    fn find(&self, id: Id) -> Id;
    /// Largest dense constant that folding writes into the result.
    fn max_fold_elements(&self) -> usize;
    /// The op e-nodes of class `id`.
    fn op_nodes(&self, id: Id) -> &[Node];
    /// Adds a well-typed e-node (hash-consed) and returns its class.
    fn add_node(&mut self, node: Node) -> Id;
}

impl Graph for EGraph {
    fn facts(&self, id: Id) -> &Facts {
        &self[id].data
    }

    fn find(&self, id: Id) -> Id {
        EGraph::find(self, id)
    }

    fn max_fold_elements(&self) -> usize {
        self.analysis.max_fold_elements
    }

    fn op_nodes(&self, id: Id) -> &[Node] {
        &self[id].nodes
    }

    fn add_node(&mut self, node: Node) -> Id {
        self.add(node)
    }
}

/// What rules may read and build while applying.
pub(crate) struct Ctx<'a> {
    g: &'a mut (dyn Graph + 'a),
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(g: &'a mut (dyn Graph + 'a)) -> Ctx<'a> {
        Ctx { g }
    }

    pub(crate) fn facts(&self, id: Id) -> &Facts {
        self.g.facts(id)
    }

    pub(crate) fn ty(&self, id: Id) -> &TensorType {
        &self.g.facts(id).ty
    }

    pub(crate) fn shape(&self, id: Id) -> Vec<usize> {
        self.ty(id).shape.to_vec()
    }

    /// The canonical id of class `id`: two ids are the same value when
    /// their canonical ids are equal.
    pub(crate) fn find(&self, id: Id) -> Id {
        self.g.find(id)
    }

    /// Largest dense constant that folding writes into the result.
    pub(crate) fn max_fold_elements(&self) -> usize {
        self.g.max_fold_elements()
    }

    /// The element of a constant that is the same everywhere.
    pub(crate) fn splat(&self, id: Id) -> Option<Scalar> {
        self.g.facts(id).splat()
    }

    /// Whether `id` is a constant equal to `v` everywhere (`-0.0 == 0.0`).
    pub(crate) fn is_splat(&self, id: Id, v: f64) -> bool {
        self.splat(id).is_some_and(|s| s.dtype() != DType::Bool && s.to_f64() == v)
    }

    /// Whether `id` is the constant `true` (or `false`) everywhere.
    pub(crate) fn is_bool(&self, id: Id, v: bool) -> bool {
        self.splat(id) == Some(Scalar::Bool(v))
    }

    /// Whether class `id` holds an op e-node named `name`.
    #[inline(always)]
    pub(crate) fn has(&self, id: Id, name: &str) -> bool {
        self.g.op_nodes(id).iter().any(|n| matches!(n, Node::Op { op, .. } if op.name() == name))
    }

    /// The op e-nodes named `name` in class `id`, with their children.
    #[inline(always)]
    pub(crate) fn nodes(&self, id: Id, name: &str) -> smallvec::SmallVec<[(Op, Kids); 1]> {
        // Pushed one by one: most calls match nothing, and collecting
        // through `Extend` costs more than the search.
        let mut out = smallvec::SmallVec::new();
        for n in self.g.op_nodes(id) {
            if let Node::Op { op, args } = n
                && op.name() == name
            {
                out.push((op.clone(), Kids::from_slice(args)));
            }
        }
        out
    }

    /// Adds `op` applied to `args`, checking its type. A rule builds only
    /// what its conditions guarantee is well typed, so a refusal is a bug
    /// in the rule: it panics in debug builds and skips the rewrite
    /// otherwise.
    pub(crate) fn add(&mut self, op: Op, args: &[Id]) -> Option<Id> {
        let tys: smallvec::SmallVec<[&TensorType; 4]> = args.iter().map(|a| &self.g.facts(*a).ty).collect();
        if let Err(e) = op.infer_type(&tys) {
            debug_assert!(false, "simplify: a rule built an ill-typed {}: {e}", op.name());
            return None;
        }
        drop(tys);
        Some(match op {
            Op::Const(l) => self.g.add_node(Node::Const(Lit::new(l))),
            op => self.g.add_node(Node::Op { op, args: Kids::from_slice(args) }),
        })
    }

    pub(crate) fn constant(&mut self, lit: Literal) -> Id {
        self.g.add_node(Node::Const(Lit::new(lit)))
    }

    /// A splat constant of `value` (converted to `dtype`) over `shape`.
    pub(crate) fn splat_const(&mut self, dtype: DType, value: f64, shape: &[usize]) -> Id {
        self.constant(Literal::splat(Scalar::from_f64(dtype, value), shape))
    }

    pub(crate) fn reshape(&mut self, x: Id, shape: &[usize]) -> Option<Id> {
        if self.ty(x).shape == shape { Some(x) } else { self.add(Op::Reshape { shape: shape.to_vec() }, &[x]) }
    }

    pub(crate) fn transpose(&mut self, x: Id, perm: &[usize]) -> Option<Id> {
        if perm.iter().enumerate().all(|(i, &p)| i == p) {
            Some(x)
        } else {
            self.add(Op::Transpose { perm: perm.to_vec() }, &[x])
        }
    }

    pub(crate) fn broadcast(&mut self, x: Id, shape: &[usize], dims: &[usize]) -> Option<Id> {
        let same = self.ty(x).shape == shape && dims.iter().enumerate().all(|(i, &d)| i == d);
        if same { Some(x) } else { self.add(Op::BroadcastInDim { shape: shape.to_vec(), dims: dims.to_vec() }, &[x]) }
    }
}

/// Whether the class holds a `const`: nothing is cheaper, so no rule needs
/// to look at it (and re-associating constant arithmetic would only add
/// copies of the constant that round differently).
fn is_constant(eg: &EGraph, eclass: Id) -> bool {
    eg[eclass].nodes.iter().any(|n| matches!(n, Node::Const(_)))
}

/// How many levels below its root a rule looks (a rule reads the e-nodes
/// of its operands' classes, and of theirs, at most this deep).
const LOOKAHEAD: usize = 3;

/// The classes whose rules need to run again: those that changed since
/// the last round of rule application, and their ancestors up to
/// [`LOOKAHEAD`] levels. A rule applied to an unchanged neighbourhood
/// would only rebuild what it built before, so equality saturation does
/// the same work as re-running every rule everywhere, in a fraction of
/// the time once most of the e-graph has settled.
#[derive(Default)]
pub(crate) struct Dirty {
    all: bool,
    set: HashSet<Id>,
    snapshot: HashMap<Id, u64>,
}

fn signature(class: &egg::EClass<Node, Facts>) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    class.nodes.hash(&mut h);
    (class.data.konst.is_some(), class.data.delta.is_some(), class.data.iota).hash(&mut h);
    h.finish()
}

impl Dirty {
    /// Recomputes the dirty classes of `eg` (call before each search).
    fn refresh(&mut self, eg: &EGraph) {
        let mut snapshot = HashMap::with_capacity_and_hasher(eg.number_of_classes(), Default::default());
        let mut frontier = Vec::new();
        for class in eg.classes() {
            let sig = signature(class);
            if self.snapshot.get(&class.id) != Some(&sig) {
                frontier.push(class.id);
            }
            snapshot.insert(class.id, sig);
        }
        self.all = self.snapshot.is_empty();
        let mut set: HashSet<Id> = if self.all { HashSet::default() } else { frontier.iter().copied().collect() };
        if !self.all {
            for _ in 0..LOOKAHEAD {
                let mut next = Vec::new();
                for c in frontier {
                    for p in eg[c].parents() {
                        let p = eg.find(p);
                        if set.insert(p) {
                            next.push(p);
                        }
                    }
                }
                frontier = next;
            }
        }
        self.set = set;
        self.snapshot = snapshot;
    }

    fn contains(&self, id: Id) -> bool {
        self.all || self.set.contains(&id)
    }
}

/// When [`saturate`] stops.
pub(crate) struct Limits {
    /// Stop once the e-graph holds more e-nodes than this.
    pub(crate) nodes: usize,
    /// Stop after this many iterations.
    pub(crate) iterations: usize,
    /// Stop at the first iteration that starts after this instant.
    pub(crate) deadline: Instant,
    /// The most re-association rewrites the run may apply.
    pub(crate) reassociate_budget: usize,
}

/// What [`saturate`] did.
pub(crate) struct Saturation {
    /// Iterations run, counting the one that found nothing to do or hit a
    /// limit.
    pub(crate) iterations: usize,
    /// The limit that stopped the run; `None` when it saturated.
    pub(crate) limit_hit: Option<Limit>,
    /// How often each rule added a new equality (a name may repeat).
    pub(crate) applied: Vec<(&'static str, usize)>,
}

/// How many root classes a rule runs on between two looks at the clock.
const CLOCK_EVERY: usize = 64;

/// Applies `rules` to `eg` until an iteration changes nothing or a limit
/// is hit.
///
/// An iteration first finds, for every root op, the dirty non-constant
/// classes holding it (sorted by id), then runs every rule in order on the
/// classes of its root. Each rule reads the e-graph as the rules before it
/// left it, rebuilt: the classes a rule finds equal are merged only when
/// its pass is over, and the e-graph is rebuilt before the next rule
/// reads it, so a class never holds the undeduplicated e-nodes of many
/// merged classes. (Merging at once, and rebuilding only at the end of the
/// iteration, made a long chain's classes collect the e-nodes of the whole
/// chain, and every later rule application walked them all: cubic work
/// on a chain of `neg`s.) A rule is a function of its root e-node, so
/// there is no pattern to match: the search is a lookup in the e-graph's
/// index by op. `eg` comes rebuilt (as `to_egraph` returns it), so that
/// index is current.
///
/// The clock is read every [`CLOCK_EVERY`] root classes, so the deadline
/// stops the run inside an iteration too; the e-graph is then left as it
/// is (all its merges are sound, but the run is cut short).
pub(crate) fn saturate(eg: &mut EGraph, rules: &[Rule], limits: &Limits) -> Saturation {
    // The distinct roots, in order of first use, and each rule's root.
    let mut roots: Vec<&'static str> = Vec::new();
    let root_of: Vec<usize> = rules
        .iter()
        .map(|r| {
            roots.iter().position(|&x| x == r.root).unwrap_or_else(|| {
                roots.push(r.root);
                roots.len() - 1
            })
        })
        .collect();
    let mut matches: Vec<Vec<Id>> = vec![Vec::new(); roots.len()];
    let mut seen: HashSet<Id> = HashSet::default();
    let mut dirty = Dirty::default();
    let mut budget = limits.reassociate_budget;
    let mut applied = Vec::new();
    let mut found = Vec::new();
    let mut pending: Vec<(Id, Id)> = Vec::new();
    let mut iterations = 0;
    let limit_hit = loop {
        let mut stop = if eg.total_size() > limits.nodes {
            Some(Limit::Nodes)
        } else if iterations >= limits.iterations {
            Some(Limit::Iterations)
        } else if Instant::now() >= limits.deadline {
            Some(Limit::Time)
        } else {
            None
        };
        let (nodes, classes) = (eg.total_size(), eg.number_of_classes());
        let mut changed = 0;
        if stop.is_none() {
            dirty.refresh(eg);
            for (root, m) in roots.iter().zip(&mut matches) {
                m.clear();
                if let Some(ids) = eg.classes_for_op(root) {
                    m.extend(ids.filter(|&c| dirty.contains(c) && !is_constant(eg, c)));
                }
                m.sort_unstable();
            }
            let mut since_clock = 0;
            'rules: for (rule, &k) in rules.iter().zip(&root_of) {
                let reassociates = rule.safety == Safety::Reassociate;
                pending.clear();
                for &class in &matches[k] {
                    // Classes merged by an earlier rule of this iteration
                    // are one class now: run the rule on it once.
                    let class = eg.find(class);
                    if is_constant(eg, class) || !seen.insert(class) {
                        continue;
                    }
                    for (op, args) in Ctx::new(&mut *eg).nodes(class, rule.root) {
                        if reassociates && budget == 0 {
                            break;
                        }
                        found.clear();
                        (rule.f)(&mut Ctx::new(&mut *eg), &op, &args, &mut found);
                        for &id in &found {
                            // Merges wait for the end of the rule's pass,
                            // so a class found different now is a merge.
                            if reassociates && eg.find(id) != eg.find(class) {
                                budget = budget.saturating_sub(1);
                            }
                            pending.push((class, id));
                        }
                    }
                    since_clock += 1;
                    if since_clock == CLOCK_EVERY {
                        since_clock = 0;
                        if Instant::now() >= limits.deadline {
                            stop = Some(Limit::Time);
                        } else if eg.total_size() > limits.nodes {
                            stop = Some(Limit::Nodes);
                        }
                        if stop.is_some() {
                            break;
                        }
                    }
                }
                seen.clear();
                let mut n = 0;
                for &(class, id) in &pending {
                    if eg.union(class, id) {
                        n += 1;
                    }
                }
                if n > 0 {
                    applied.push((rule.name, n));
                    changed += n;
                    // The next rule reads deduplicated classes.
                    eg.rebuild();
                }
                if stop.is_some() {
                    break 'rules;
                }
                if eg.total_size() > limits.nodes {
                    stop = Some(Limit::Nodes);
                    break;
                }
            }
        }
        eg.rebuild();
        iterations += 1;
        if stop.is_some() {
            break stop;
        }
        if changed == 0 && eg.total_size() == nodes && eg.number_of_classes() == classes {
            break None;
        }
        if iterations >= limits.iterations {
            break Some(Limit::Iterations);
        }
        if eg.total_size() > limits.nodes {
            break Some(Limit::Nodes);
        }
        if Instant::now() >= limits.deadline {
            break Some(Limit::Time);
        }
    };
    Saturation { iterations, limit_hit, applied }
}
