//! Extraction: pick the cheapest e-node of every e-class, then rebuild the
//! function as a DAG, each chosen class computed once.
//!
//! egg's greedy extractor costs a term as a tree, so a value used twice is
//! counted twice, and on the deep sharing of derivative code tree costs grow
//! exponentially. Here a class costs its node's own cost plus the larger
//! of (a) its most expensive child and (b) the sum of its children's costs,
//! each divided by the number of classes that use it. (b) approximates the
//! DAG cost; (a) keeps every chosen node strictly dearer than its children,
//! so the choice is acyclic, and keeps costs bounded.
//!
//! That choice is local: it cannot see that a value is computed anyway for
//! another use. A local search then switches classes of the chosen DAG to
//! other e-nodes whenever that lowers the exact cost of the whole DAG (each
//! class counted once, counting the classes a switch newly needs and the
//! ones it frees), never closing a cycle.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use egg::{Id, Language};

use super::cost::op_cost;
use super::lang::{EGraph, Node};
use crate::{Func, FuncBuilder, Location, TensorType, Value};

fn own_cost(eg: &EGraph, class: Id, node: &Node) -> f64 {
    match node {
        Node::Param { .. } => 0.0,
        Node::Const(l) => {
            let op = crate::Op::Const(l.literal().clone());
            op_cost(&op, &[], &eg[class].data.ty).weight()
        }
        Node::Op { op, args } => {
            let tys: Vec<&TensorType> = args.iter().map(|a| &eg[*a].data.ty).collect();
            op_cost(op, &tys, &eg[class].data.ty).weight()
        }
    }
}

/// The chosen node of every class reachable from the e-graph's nodes. On a
/// tie, a node of the input function wins, so that simplifying twice
/// gives what simplifying once gave.
/// The deadline passed before extraction finished.
#[derive(Debug)]
pub(crate) struct OutOfTime;

/// How many classes extraction looks at between two looks at the clock.
const CLOCK_EVERY: usize = 256;

fn choose(
    eg: &EGraph,
    roots: &[Id],
    original: &HashSet<Node>,
    deadline: Instant,
) -> Result<HashMap<Id, (f64, Node)>, OutOfTime> {
    let mut classes: Vec<Id> = eg.classes().map(|c| c.id).collect();
    classes.sort_unstable();
    let pos: HashMap<Id, usize> = classes.iter().enumerate().map(|(i, &c)| (c, i)).collect();
    let mut uses: HashMap<Id, f64> = HashMap::with_capacity_and_hasher(classes.len(), Default::default());
    // The positions of each class's parent classes.
    let mut parents: Vec<Vec<usize>> = Vec::with_capacity(classes.len());
    for &c in &classes {
        let mut ps: Vec<usize> = eg[c].parents().map(|p| pos[&eg.find(p)]).collect();
        ps.sort_unstable();
        ps.dedup();
        uses.insert(c, ps.len() as f64);
        parents.push(ps);
    }
    for r in roots {
        *uses.entry(eg.find(*r)).or_insert(0.0) += 1.0;
    }
    let own: Vec<Vec<f64>> =
        classes.iter().map(|&c| eg[c].nodes.iter().map(|n| own_cost(eg, c, n)).collect()).collect();
    let mut best: HashMap<Id, (f64, Node)> = HashMap::with_capacity_and_hasher(classes.len(), Default::default());
    // Passes over the classes in id order, as a fixed point iteration
    // would make them, but each looks only at the classes whose children
    // changed since they were last looked at: a class whose children come
    // after it (a chain whose ids run backwards) would otherwise cost a
    // pass over the whole e-graph per link. A parent later in the order
    // is looked at in the same pass, an earlier one in the next.
    let mut this_pass: BinaryHeap<Reverse<usize>> = (0..classes.len()).map(Reverse).collect();
    let mut next_pass: BinaryHeap<Reverse<usize>> = BinaryHeap::new();
    let mut queued: Vec<bool> = vec![true; classes.len()];
    // Each look costs about one class's nodes; this many looks bound the
    // work linearly (a fixed point needs about two per class).
    let mut looks_left = 64 * classes.len() + 1024;
    let mut since_clock = 0;
    while !this_pass.is_empty() {
        while let Some(Reverse(i)) = this_pass.pop() {
            queued[i] = false;
            since_clock += 1;
            if since_clock == CLOCK_EVERY {
                since_clock = 0;
                if Instant::now() >= deadline {
                    return Err(OutOfTime);
                }
            }
            if looks_left == 0 {
                return Ok(best);
            }
            looks_left -= 1;
            let c = classes[i];
            let mut changed = false;
            for (k, node) in eg[c].nodes.iter().enumerate() {
                let mut sum = 0.0;
                let mut max: f64 = 0.0;
                let mut ready = true;
                for ch in node.children() {
                    let ch = eg.find(*ch);
                    match best.get(&ch) {
                        Some((cost, _)) => {
                            sum += cost / uses[&ch].max(1.0);
                            max = max.max(*cost);
                        }
                        None => {
                            ready = false;
                            break;
                        }
                    }
                }
                if !ready {
                    continue;
                }
                let cost = own[i][k] + sum.max(max);
                let better = match best.get(&c) {
                    None => true,
                    Some((old, old_node)) => {
                        cost < *old * (1.0 - 1e-12)
                            || (cost <= *old * (1.0 + 1e-12) && original.contains(node) && !original.contains(old_node))
                    }
                };
                if better {
                    best.insert(c, (cost, node.clone()));
                    changed = true;
                }
            }
            if changed {
                for &p in &parents[i] {
                    if !queued[p] {
                        queued[p] = true;
                        if p > i { this_pass.push(Reverse(p)) } else { next_pass.push(Reverse(p)) }
                    }
                }
            }
        }
        std::mem::swap(&mut this_pass, &mut next_pass);
    }
    Ok(best)
}

/// Local search on the chosen DAG: switch a class to another of its
/// e-nodes when that lowers the exact cost of the whole DAG (each class
/// counted once), accounting for the classes the switch newly needs and
/// those it frees, and never closing a cycle.
struct Dag<'a> {
    eg: &'a EGraph,
    sel: HashMap<Id, Node>,
    refs: HashMap<Id, usize>,
    log: Vec<(Id, usize)>,
    delta: f64,
    /// A topological position of every selected class (children first),
    /// valid for the current selection; `None` when a switch may have
    /// broken it. A switch whose new children all come before the class
    /// cannot close a cycle, and keeps the order valid: that answers most
    /// cycle checks without walking the DAG, which on a long chain with an
    /// alternative at every link made the search quadratic.
    order: Option<HashMap<Id, usize>>,
    /// The selection turned out cyclic: no order to recompute.
    unordered: bool,
    /// Classes visited by reference counting and cycle checks so far: the
    /// search stops when this passes its budget.
    work: usize,
}

impl Dag<'_> {
    /// Positions of the selected classes in a post-order of the selection,
    /// or `None` if it has a cycle (never expected: then every check walks
    /// the DAG).
    fn topological_order(&self) -> Option<HashMap<Id, usize>> {
        let mut classes: Vec<Id> = self.sel.keys().copied().collect();
        classes.sort_unstable();
        let mut pos: HashMap<Id, usize> = HashMap::with_capacity_and_hasher(classes.len(), Default::default());
        let mut open: HashSet<Id> = HashSet::default();
        for c in classes {
            let mut stack = vec![(c, false)];
            while let Some((c, expanded)) = stack.pop() {
                if pos.contains_key(&c) {
                    continue;
                }
                if expanded {
                    open.remove(&c);
                    pos.insert(c, pos.len());
                    continue;
                }
                if !open.insert(c) {
                    return None;
                }
                stack.push((c, true));
                // A class without a choice has no position, and a switch
                // to a node that needs it takes the walk.
                let Some(node) = self.sel.get(&c) else { continue };
                for k in node.children() {
                    let k = self.eg.find(*k);
                    if !pos.contains_key(&k) {
                        if open.contains(&k) {
                            return None;
                        }
                        stack.push((k, false));
                    }
                }
            }
        }
        Some(pos)
    }

    /// Whether every class of `kids` comes before `c` in the order.
    fn before(&self, kids: &[Id], c: Id) -> bool {
        let Some(order) = &self.order else { return false };
        let Some(&pc) = order.get(&c) else { return false };
        kids.iter().all(|k| order.get(k).is_some_and(|&pk| pk < pc))
    }

    fn own(&self, c: Id) -> f64 {
        own_cost(self.eg, c, &self.sel[&c])
    }

    fn set_refs(&mut self, c: Id, n: usize) {
        let old = self.refs.insert(c, n).unwrap_or(0);
        self.log.push((c, old));
    }

    fn inc(&mut self, c: Id) {
        let mut stack = vec![c];
        while let Some(c) = stack.pop() {
            self.work += 1;
            let n = self.refs.get(&c).copied().unwrap_or(0);
            self.set_refs(c, n + 1);
            if n == 0 {
                self.delta += self.own(c);
                stack.extend(self.sel[&c].children().iter().map(|k| self.eg.find(*k)));
            }
        }
    }

    fn dec(&mut self, c: Id) {
        let mut stack = vec![c];
        while let Some(c) = stack.pop() {
            self.work += 1;
            let n = self.refs[&c];
            self.set_refs(c, n - 1);
            if n == 1 {
                self.delta -= self.own(c);
                stack.extend(self.sel[&c].children().iter().map(|k| self.eg.find(*k)));
            }
        }
    }

    fn reaches(&mut self, from: &[Id], target: Id) -> bool {
        let mut seen: HashSet<Id> = HashSet::default();
        let mut stack: Vec<Id> = from.to_vec();
        while let Some(c) = stack.pop() {
            self.work += 1;
            if c == target {
                return true;
            }
            if seen.insert(c) {
                stack.extend(self.sel[&c].children().iter().map(|k| self.eg.find(*k)));
            }
        }
        false
    }

    /// Tries every alternative e-node of class `c`; keeps the best
    /// improvement. Returns the cost it saved (0 when none was kept).
    fn improve(&mut self, c: Id) -> f64 {
        let current = self.sel[&c].clone();
        let mut best: Option<(f64, Node, bool)> = None;
        for node in &self.eg[c].nodes {
            if *node == current {
                continue;
            }
            let kids: Vec<Id> = node.children().iter().map(|k| self.eg.find(*k)).collect();
            if kids.iter().any(|k| !self.sel.contains_key(k)) {
                continue;
            }
            self.log.clear();
            self.delta = own_cost(self.eg, c, node) - own_cost(self.eg, c, &current);
            self.sel.insert(c, node.clone());
            for &k in &kids {
                self.inc(k);
            }
            for k in current.children() {
                self.dec(self.eg.find(*k));
            }
            let gain = self.delta;
            let ordered = self.before(&kids, c);
            let acyclic = gain < -1e-9 && (ordered || !self.reaches(&kids, c));
            while let Some((k, n)) = self.log.pop() {
                self.refs.insert(k, n);
            }
            self.sel.insert(c, current.clone());
            if acyclic && best.as_ref().is_none_or(|(g, _, _)| gain < *g) {
                best = Some((gain, node.clone(), ordered));
            }
        }
        let Some((gain, node, ordered)) = best else { return 0.0 };
        if !ordered {
            self.order = None;
        }
        self.log.clear();
        self.sel.insert(c, node.clone());
        for k in node.children() {
            self.inc(self.eg.find(*k));
        }
        for k in current.children() {
            self.dec(self.eg.find(*k));
        }
        -gain
    }
}

/// [`Dag::improve`] on every live class with a choice, a few rounds;
/// stops early (with a selection as valid as ever) when the deadline
/// passes, when a round saves less than a millionth of the DAG's cost, or
/// when the search has visited [`SEARCH_WORK_PER_CLASS`] classes per class
/// of the e-graph: its work is linear in the e-graph, whatever its shape.
fn improve(eg: &EGraph, roots: &[Id], sel: HashMap<Id, Node>, deadline: Instant) -> HashMap<Id, Node> {
    let mut dag =
        Dag { eg, sel, refs: HashMap::default(), log: Vec::new(), delta: 0.0, order: None, unordered: false, work: 0 };
    for &r in roots {
        dag.inc(r);
    }
    let total = dag.delta;
    let budget = SEARCH_WORK_PER_CLASS * eg.number_of_classes() + 4096;
    for _round in 0..8 {
        let mut live: Vec<Id> =
            dag.refs.iter().filter(|&(c, n)| *n > 0 && eg[*c].nodes.len() > 1).map(|(c, _)| *c).collect();
        live.sort_unstable();
        let mut saved = 0.0;
        for (i, c) in live.into_iter().enumerate() {
            if i % CLOCK_EVERY == 0 && Instant::now() >= deadline {
                return dag.sel;
            }
            if dag.work > budget {
                return dag.sel;
            }
            if dag.refs.get(&c).copied().unwrap_or(0) > 0 {
                if dag.order.is_none() && !dag.unordered {
                    dag.order = dag.topological_order();
                    dag.unordered = dag.order.is_none();
                    dag.work += dag.sel.len();
                }
                saved += dag.improve(c);
            }
        }
        if saved <= 1e-6 * total.abs() {
            break;
        }
    }
    dag.sel
}

/// How many classes per e-graph class the local search may visit.
const SEARCH_WORK_PER_CLASS: usize = 32;

/// Rebuilds `f` from the e-graph: parameters as they were, then the chosen
/// node of each class needed by the results, in depth-first order of the
/// results, each once. Names and locations come from the first original
/// value of each class. Returns `None` if the choice is incomplete or
/// cyclic (a bug; the caller keeps the input), and [`OutOfTime`] when the
/// deadline passes before a complete choice is made.
pub(crate) fn extract(eg: &EGraph, f: &Func, ids: &[Id], deadline: Instant) -> Result<Option<Func>, OutOfTime> {
    let roots: Vec<Id> = f.results().iter().map(|r| eg.find(ids[r.index()])).collect();
    let original: HashSet<Node> = f
        .iter_insts()
        .map(|(_, inst)| match &inst.op {
            crate::Op::Const(l) => Node::Const(super::lang::Lit::new(l.clone())),
            op => Node::Op { op: op.clone(), args: inst.args.iter().map(|a| eg.find(ids[a.index()])).collect() },
        })
        .collect();
    let chosen: HashMap<Id, Node> =
        choose(eg, &roots, &original, deadline)?.into_iter().map(|(c, (_, n))| (c, n)).collect();
    let best = improve(eg, &roots, chosen, deadline);
    Ok(rebuild(eg, f, ids, &roots, &best))
}

/// The function of the chosen e-nodes `best`; see [`extract`].
fn rebuild(eg: &EGraph, f: &Func, ids: &[Id], roots: &[Id], best: &HashMap<Id, Node>) -> Option<Func> {
    let mut side: HashMap<Id, (Option<String>, Option<Location>)> = HashMap::default();
    for (v, _) in f.iter_insts() {
        let entry = side.entry(eg.find(ids[v.index()])).or_insert((None, None));
        if entry.0.is_none() {
            entry.0 = f.value_name(v).map(str::to_string);
        }
        if entry.1.is_none() {
            entry.1 = f.loc(v);
        }
    }

    let mut b = FuncBuilder::new(f.name());
    let mut value_of: HashMap<Id, Value> = HashMap::default();
    for p in f.params() {
        let v = b.param(f.ty(p).clone()).ok()?;
        if let Some(n) = f.value_name(p) {
            b.set_name(v, n);
        }
        if let Some(l) = f.loc(p) {
            b.set_loc(v, l.clone());
        }
        value_of.entry(eg.find(ids[p.index()])).or_insert(v);
    }

    let mut on_stack: HashMap<Id, bool> = HashMap::default();
    for &root in roots {
        let mut stack: Vec<(Id, bool)> = vec![(root, false)];
        while let Some((c, expanded)) = stack.pop() {
            if value_of.contains_key(&c) {
                continue;
            }
            let node = best.get(&c)?;
            if !expanded {
                if on_stack.insert(c, true).is_some() {
                    return None;
                }
                stack.push((c, true));
                for ch in node.children().iter().rev() {
                    let ch = eg.find(*ch);
                    if !value_of.contains_key(&ch) {
                        if on_stack.contains_key(&ch) {
                            return None;
                        }
                        stack.push((ch, false));
                    }
                }
                continue;
            }
            let ty = eg[c].data.ty.clone();
            let v = match node {
                Node::Param { index, .. } => Value::from_index(*index),
                Node::Const(l) => b.constant(l.literal().clone()),
                Node::Op { op, args } => {
                    let args: Vec<Value> = args.iter().map(|a| value_of[&eg.find(*a)]).collect();
                    b.push_typed(op.clone(), &args, ty)
                }
            };
            let fresh = v.index() + 1 == b.num_values() && v.index() >= f.num_params();
            if fresh && b.func().value_name(v).is_none() {
                if let Some((name, loc)) = side.get(&c) {
                    if let Some(n) = name {
                        b.set_name(v, n.clone());
                    }
                    if let Some(l) = loc {
                        b.set_loc(v, l.clone());
                    }
                }
            }
            value_of.insert(c, v);
        }
    }
    let results: Vec<Value> = roots.iter().map(|r| value_of[r]).collect();
    let mut g = b.finish(&results).ok()?;
    // Commutative ops with swapped operands are one value: the e-graph
    // does not commute operands (that would double its size), and CSE
    // merges them.
    crate::passes::cse(&mut g);
    Some(g)
}
