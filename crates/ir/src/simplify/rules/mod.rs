//! The rewrite rules, one file per op family, and the small framework that
//! turns each into an egg [`Rewrite`].
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
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use egg::{Applier, Id, Language, PatternAst, Rewrite, SearchMatches, Searcher, Subst, Symbol, Var};

use super::lang::{Analyzer, EGraph, Facts, Kids, Lit, Node};
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

/// What rules may read and build while applying.
pub(crate) struct Ctx<'a> {
    pub(crate) eg: &'a mut EGraph,
}

impl Ctx<'_> {
    pub(crate) fn facts(&self, id: Id) -> &Facts {
        &self.eg[id].data
    }

    pub(crate) fn ty(&self, id: Id) -> &TensorType {
        &self.eg[id].data.ty
    }

    pub(crate) fn shape(&self, id: Id) -> Vec<usize> {
        self.eg[id].data.ty.shape.to_vec()
    }

    /// The element of a constant that is the same everywhere.
    pub(crate) fn splat(&self, id: Id) -> Option<Scalar> {
        self.eg[id].data.splat()
    }

    /// Whether `id` is a constant equal to `v` everywhere (`-0.0 == 0.0`).
    pub(crate) fn is_splat(&self, id: Id, v: f64) -> bool {
        self.splat(id).is_some_and(|s| s.dtype() != DType::Bool && s.to_f64() == v)
    }

    /// Whether `id` is the constant `true` (or `false`) everywhere.
    pub(crate) fn is_bool(&self, id: Id, v: bool) -> bool {
        self.splat(id) == Some(Scalar::Bool(v))
    }

    /// The op e-nodes named `name` in class `id`, with their children.
    pub(crate) fn nodes(&self, id: Id, name: &str) -> smallvec::SmallVec<[(Op, Kids); 2]> {
        self.eg[id]
            .nodes
            .iter()
            .filter_map(|n| match n {
                Node::Op { op, args } if op.name() == name => Some((op.clone(), args.clone())),
                Node::Param { .. } | Node::Const(_) | Node::Op { .. } => None,
            })
            .collect()
    }

    /// Adds `op` applied to `args`, checking its type. A rule builds only
    /// what its conditions guarantee is well typed, so a refusal is a bug
    /// in the rule: it panics in debug builds and skips the rewrite
    /// otherwise.
    pub(crate) fn add(&mut self, op: Op, args: &[Id]) -> Option<Id> {
        let tys: Vec<&TensorType> = args.iter().map(|a| &self.eg[*a].data.ty).collect();
        if let Err(e) = op.infer_type(&tys) {
            debug_assert!(false, "simplify: a rule built an ill-typed {}: {e}", op.name());
            return None;
        }
        Some(match op {
            Op::Const(l) => self.eg.add(Node::Const(Lit::new(l))),
            op => self.eg.add(Node::Op { op, args: Kids::from_slice(args) }),
        })
    }

    pub(crate) fn constant(&mut self, lit: Literal) -> Id {
        self.eg.add(Node::Const(Lit::new(lit)))
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

/// [`Dirty`], shared between the runner's hook and the searchers.
pub(crate) type SharedDirty = Arc<Mutex<Dirty>>;

fn signature(class: &egg::EClass<Node, Facts>) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    class.nodes.hash(&mut h);
    (class.data.konst.is_some(), class.data.delta.is_some(), class.data.iota).hash(&mut h);
    h.finish()
}

/// Recomputes the dirty classes of `eg` (call before each search).
pub(crate) fn refresh(dirty: &SharedDirty, eg: &EGraph) {
    let mut d = dirty.lock().unwrap_or_else(|e| e.into_inner());
    let mut snapshot = HashMap::with_capacity_and_hasher(eg.number_of_classes(), Default::default());
    let mut frontier = Vec::new();
    for class in eg.classes() {
        let sig = signature(class);
        if d.snapshot.get(&class.id) != Some(&sig) {
            frontier.push(class.id);
        }
        snapshot.insert(class.id, sig);
    }
    d.all = d.snapshot.is_empty();
    let mut set: HashSet<Id> = frontier.iter().copied().collect();
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
    d.set = set;
    d.snapshot = snapshot;
}

/// Finds the (dirty) classes holding an e-node of the rule's root op.
struct RootSearcher {
    root: &'static str,
    dirty: SharedDirty,
}

impl Searcher<Node, Analyzer> for RootSearcher {
    fn search_eclass_with_limit(&self, eg: &EGraph, eclass: Id, limit: usize) -> Option<SearchMatches<'_, Node>> {
        (limit > 0 && !is_constant(eg, eclass) && eg[eclass].nodes.iter().any(|n| n.discriminant() == self.root))
            .then(|| SearchMatches { eclass, substs: vec![Subst::default()], ast: None })
    }

    fn search_with_limit(&self, eg: &EGraph, limit: usize) -> Vec<SearchMatches<'_, Node>> {
        let Some(ids) = eg.classes_for_op(&self.root) else { return Vec::new() };
        let d = self.dirty.lock().unwrap_or_else(|e| e.into_inner());
        let mut ids: Vec<Id> = ids.filter(|c| d.all || d.set.contains(c)).collect();
        drop(d);
        ids.sort_unstable();
        ids.into_iter()
            .filter(|&c| !is_constant(eg, c))
            .take(limit)
            .map(|eclass| SearchMatches { eclass, substs: vec![Subst::default()], ast: None })
            .collect()
    }

    fn vars(&self) -> Vec<Var> {
        Vec::new()
    }
}

/// Runs the rule's function on every root e-node of a matched class and
/// unions what it returns with that class.
struct RuleApplier {
    rule: Rule,
    budget: Option<Arc<AtomicUsize>>,
}

impl RuleApplier {
    fn apply_class(&self, eg: &mut EGraph, eclass: Id) -> Vec<Id> {
        if is_constant(eg, eclass) {
            return Vec::new();
        }
        let nodes = Ctx { eg }.nodes(eclass, self.rule.root);
        let mut changed = Vec::new();
        for (op, args) in nodes {
            if let Some(b) = &self.budget {
                if b.load(Ordering::Relaxed) == 0 {
                    break;
                }
            }
            let mut out = Vec::new();
            (self.rule.f)(&mut Ctx { eg }, &op, &args, &mut out);
            for id in out {
                if eg.union(eclass, id) {
                    changed.push(id);
                    if let Some(b) = &self.budget {
                        let _ = b.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
                    }
                }
            }
        }
        changed
    }
}

impl Applier<Node, Analyzer> for RuleApplier {
    fn apply_matches(&self, eg: &mut EGraph, matches: &[SearchMatches<Node>], _rule_name: Symbol) -> Vec<Id> {
        matches.iter().flat_map(|m| self.apply_class(eg, m.eclass)).collect()
    }

    fn apply_one(
        &self,
        eg: &mut EGraph,
        eclass: Id,
        _subst: &Subst,
        _searcher_ast: Option<&PatternAst<Node>>,
        _rule_name: Symbol,
    ) -> Vec<Id> {
        self.apply_class(eg, eclass)
    }
}

/// The name of each rewrite: `name@root`, with `#k` appended to the
/// `k`-th repeat so that every name is unique (egg warns on stderr about
/// duplicated names, and a library never prints).
pub(crate) fn rewrite_names(rules: &[Rule]) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::default();
    rules
        .iter()
        .map(|r| {
            let base = format!("{}@{}", r.name, r.root);
            let n = seen.entry(base.clone()).or_default();
            *n += 1;
            if *n == 1 { base } else { format!("{base}#{n}") }
        })
        .collect()
}

/// [`rewrite_names`] as egg symbols, made once per rule set: formatting
/// and interning a few hundred names cost more than simplifying a small
/// function. A process sees a handful of rule sets (the options' on/off
/// combinations), so the cache stays small.
fn interned_names(rules: &[Rule]) -> Arc<[egg::Symbol]> {
    type Key = Vec<(&'static str, &'static str)>;
    static CACHE: std::sync::Mutex<Vec<(Key, Arc<[egg::Symbol]>)>> = std::sync::Mutex::new(Vec::new());
    let key: Key = rules.iter().map(|r| (r.name, r.root)).collect();
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, names)) = cache.iter().find(|(k, _)| *k == key) {
        return names.clone();
    }
    let names: Arc<[egg::Symbol]> = rewrite_names(rules).iter().map(|n| egg::Symbol::from(n.as_str())).collect();
    cache.push((key, names.clone()));
    names
}

/// The egg rewrites for `rules`; re-association shares one budget, and
/// every searcher reads the same dirty set.
pub(crate) fn rewrites(rules: &[Rule], reassociate_budget: usize, dirty: &SharedDirty) -> Vec<Rewrite<Node, Analyzer>> {
    let budget = Arc::new(AtomicUsize::new(reassociate_budget));
    rules
        .iter()
        .zip(interned_names(rules).iter())
        .map(|(r, &name)| {
            let applier = RuleApplier { rule: *r, budget: (r.safety == Safety::Reassociate).then(|| budget.clone()) };
            let searcher = RootSearcher { root: r.root, dirty: dirty.clone() };
            Rewrite::new(name, searcher, applier).expect("rules bind no variables")
        })
        .collect()
}
