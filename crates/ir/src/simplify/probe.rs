//! Whether saturation would change anything, found without building the
//! e-graph.
//!
//! The e-graph of a function without dead code or duplicates holds one
//! e-node per value, and its first iteration runs every rule once on each
//! of them. When no rule adds an e-node or merges two classes, and the
//! analysis folds no value to a constant, that iteration ends saturated and
//! the function is kept as it is. The probe runs the same rules, through
//! the same [`Ctx`](super::rules::Ctx), on a [`Graph`] that is the function
//! itself: value `i` is class `i`, its one e-node is the value's
//! instruction, and adding an e-node looks the node up among the users of
//! its first operand. It answers "nothing to do" only when the rules'
//! first iteration would change nothing; anything else (a rule returns
//! another class, a rule builds a node the function lacks, a value folds)
//! sends the function to the e-graph. Most compiles of code that is
//! already lean, and the last round of every simplification, end here at a
//! fraction of the e-graph's cost.

use egg::{Id, Language};

use rustc_hash::FxHashMap as HashMap;

use super::SimplifyOptions;
use super::lang::{Facts, Kids, Node, folds_to_const, inst_node, make_facts, op_facts};
use super::rules::{Ctx, Graph, Rule, Safety};
use crate::Func;

/// `f` as a [`Graph`]: one class per value, plus the e-nodes rules add.
struct Probe<'f> {
    f: &'f Func,
    /// The e-node of each value, then of each added class.
    nodes: Vec<Node>,
    facts: Vec<Facts>,
    /// CSR lists of each value's users: `users[starts[v]..starts[v + 1]]`.
    starts: Vec<usize>,
    users: Vec<Id>,
    /// Values with no operands (parameters, constants, `iota`s).
    leaves: Vec<Id>,
    max_const_elements: usize,
    max_fold_elements: usize,
    /// A rule added an e-node that `f` lacks.
    grew: bool,
}

impl<'f> Probe<'f> {
    /// The probe of `f`, or `None` when the analysis alone would change
    /// the e-graph (a value folds to a constant).
    fn new(f: &'f Func, max_const_elements: usize, max_fold_elements: usize) -> Option<Probe<'f>> {
        let n = f.num_values();
        let mut p = Probe {
            f,
            nodes: Vec::with_capacity(n),
            facts: Vec::with_capacity(n),
            starts: vec![0; n + 1],
            users: Vec::new(),
            leaves: Vec::new(),
            max_const_elements,
            max_fold_elements,
            grew: false,
        };
        for v in f.params() {
            let node = Node::Param { index: v.index(), ty: f.ty(v).clone() };
            p.facts.push(make_facts(&node, |_| unreachable!("parameters have no operands"), max_const_elements));
            p.nodes.push(node);
            p.leaves.push(Id::from(v.index()));
        }
        for (v, inst) in f.iter_insts() {
            let node = inst_node(inst, |a| Id::from(a.index()));
            // The verifier checked the declared type against the typing
            // rule, so it is what the analysis would infer.
            let facts = match &node {
                Node::Op { op, args } => {
                    op_facts(op, args, f.ty(v).clone(), |id| &p.facts[usize::from(id)], max_const_elements)
                }
                Node::Param { .. } | Node::Const(_) => make_facts(&node, |_| unreachable!(), max_const_elements),
            };
            if folds_to_const(&facts, std::iter::once(&node), max_fold_elements) {
                return None;
            }
            if inst.args.is_empty() {
                p.leaves.push(Id::from(v.index()));
            }
            for a in &inst.args {
                p.starts[a.index() + 1] += 1;
            }
            p.facts.push(facts);
            p.nodes.push(node);
        }
        for v in 0..n {
            p.starts[v + 1] += p.starts[v];
        }
        p.users = vec![Id::from(0); p.starts[n]];
        let mut next = p.starts.clone();
        for (v, inst) in f.iter_insts() {
            for a in &inst.args {
                p.users[next[a.index()]] = Id::from(v.index());
                next[a.index()] += 1;
            }
        }
        Some(p)
    }

    /// The class holding `node` already, if any.
    fn lookup(&self, node: &Node) -> Option<Id> {
        let n = self.f.num_values();
        let candidates: &[Id] = match node.children().first() {
            Some(&a) if usize::from(a) < n => &self.users[self.starts[usize::from(a)]..self.starts[usize::from(a) + 1]],
            // An operand the function lacks: so is the node.
            Some(_) => return None,
            None => &self.leaves,
        };
        candidates.iter().copied().find(|&c| self.nodes[usize::from(c)] == *node)
    }
}

impl Graph for Probe<'_> {
    fn facts(&self, id: Id) -> &Facts {
        &self.facts[usize::from(id)]
    }

    fn find(&self, id: Id) -> Id {
        id
    }

    fn max_fold_elements(&self) -> usize {
        self.max_fold_elements
    }

    fn op_nodes(&self, id: Id) -> &[Node] {
        std::slice::from_ref(&self.nodes[usize::from(id)])
    }

    fn add_node(&mut self, node: Node) -> Id {
        if let Some(id) = self.lookup(&node) {
            return id;
        }
        // Something new: the e-graph would grow. The rule goes on with a
        // class of its own for the node, as it would in the e-graph.
        self.grew = true;
        let facts = make_facts(&node, |id| &self.facts[usize::from(id)], self.max_const_elements);
        self.facts.push(facts);
        self.nodes.push(node);
        Id::from(self.nodes.len() - 1)
    }
}

/// Whether the first iteration of saturating `f` (verified, without dead
/// code or duplicates) under `rules` and `opts` would leave its e-graph as
/// it is.
pub(crate) fn nothing_to_rewrite(f: &Func, rules: &[Rule], opts: &SimplifyOptions) -> bool {
    let Some(mut p) = Probe::new(f, opts.max_const_elements, opts.max_fold_elements) else { return false };
    // With no re-association budget left, those rules never run.
    let reassociate = opts.reassociate_budget > 0;
    let mut by_root: HashMap<&str, Vec<&Rule>> = HashMap::default();
    for rule in rules {
        if rule.safety != Safety::Reassociate || reassociate {
            by_root.entry(rule.root).or_default().push(rule);
        }
    }
    let mut out = Vec::new();
    for v in 0..f.num_values() {
        let Node::Op { op, args } = &p.nodes[v] else { continue };
        let Some(rules) = by_root.get(op.name()) else { continue };
        let (op, args) = (op.clone(), Kids::from_slice(args));
        let class = Id::from(v);
        for rule in rules {
            out.clear();
            (rule.f)(&mut Ctx::new(&mut p), &op, &args, &mut out);
            if p.grew || out.iter().any(|&id| id != class) {
                return false;
            }
        }
    }
    true
}
