//! The e-graph language over [`Op`] and the e-class analysis that carries
//! each class's type, constant value and structural facts.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use egg::{Analysis, DidMerge, Id, Language};

use super::fold;
use crate::{Func, Inst, Literal, Op, Scalar, TensorType, Value};

/// A constant literal inside an e-node: shared, with its hash computed once
/// so that hash-consing a large constant costs nothing after the first time.
#[derive(Clone, Debug)]
pub(crate) struct Lit {
    hash: u64,
    lit: Arc<Literal>,
}

impl Lit {
    pub(crate) fn new(lit: Literal) -> Lit {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        lit.hash(&mut h);
        Lit { hash: h.finish(), lit: Arc::new(lit) }
    }

    pub(crate) fn literal(&self) -> &Literal {
        &self.lit
    }

    pub(crate) fn shared(&self) -> Arc<Literal> {
        self.lit.clone()
    }
}

impl PartialEq for Lit {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && (Arc::ptr_eq(&self.lit, &other.lit) || self.lit == other.lit)
    }
}

impl Eq for Lit {}

impl Hash for Lit {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.hash.hash(state);
    }
}

impl PartialOrd for Lit {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Lit {
    fn cmp(&self, other: &Self) -> Ordering {
        self.hash
            .cmp(&other.hash)
            .then_with(|| if Arc::ptr_eq(&self.lit, &other.lit) { Ordering::Equal } else { self.lit.cmp(&other.lit) })
    }
}

/// An e-node: a parameter, a constant, or an op (attributes inline, as leaf
/// data) applied to child e-classes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Node {
    /// Parameter `index` of the function.
    Param { index: usize, ty: TensorType },
    /// A `const`.
    Const(Lit),
    /// Any other op; never `Op::Const`.
    Op { op: Op, args: Kids },
}

/// The child classes of an e-node, inline up to four.
pub(crate) type Kids = smallvec::SmallVec<[Id; 4]>;

impl Language for Node {
    type Discriminant = &'static str;

    fn discriminant(&self) -> &'static str {
        match self {
            Node::Param { .. } => "param",
            Node::Const(_) => "const",
            Node::Op { op, .. } => op.name(),
        }
    }

    fn matches(&self, other: &Self) -> bool {
        match (self, other) {
            (Node::Param { index: a, .. }, Node::Param { index: b, .. }) => a == b,
            (Node::Const(a), Node::Const(b)) => a == b,
            (Node::Op { op: a, args: x }, Node::Op { op: b, args: y }) => a == b && x.len() == y.len(),
            _ => false,
        }
    }

    fn children(&self) -> &[Id] {
        match self {
            Node::Param { .. } | Node::Const(_) => &[],
            Node::Op { args, .. } => args,
        }
    }

    fn children_mut(&mut self) -> &mut [Id] {
        match self {
            Node::Param { .. } | Node::Const(_) => &mut [],
            Node::Op { args, .. } => args,
        }
    }
}

/// A tensor that is 1 where the row-major index over axis group `a` equals
/// the one over axis group `b`, and 0 elsewhere (`true`/`false` for
/// `bool`): an identity matrix is `Delta { a: [0], b: [1] }`, the `jacfwd`
/// basis of a `[p, q]` parameter is `Delta { a: [0], b: [1, 2] }`.
///
/// Both groups are sorted, disjoint, non-empty, cover every axis, and have
/// equal element counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Delta {
    pub(crate) a: Vec<usize>,
    pub(crate) b: Vec<usize>,
}

impl Delta {
    /// Checks the invariants against `shape`.
    pub(crate) fn new(a: Vec<usize>, b: Vec<usize>, shape: &[usize]) -> Option<Delta> {
        let sorted = |g: &[usize]| g.windows(2).all(|w| w[0] < w[1]);
        if a.is_empty() || b.is_empty() || !sorted(&a) || !sorted(&b) || a.len() + b.len() != shape.len() {
            return None;
        }
        let mut seen = vec![false; shape.len()];
        for &x in a.iter().chain(&b) {
            if x >= shape.len() || seen[x] {
                return None;
            }
            seen[x] = true;
        }
        let count = |g: &[usize]| g.iter().map(|&x| shape[x]).product::<usize>();
        (count(&a) == count(&b)).then_some(Delta { a, b })
    }
}

/// What the analysis knows about an e-class.
#[derive(Clone, Debug)]
pub(crate) struct Facts {
    /// The type, from [`Op::infer_type`].
    pub(crate) ty: TensorType,
    /// The value, when it is a constant that is a splat or small enough.
    pub(crate) konst: Option<Arc<Literal>>,
    /// The element of a constant that is the same everywhere.
    pub(crate) uniform: Option<Scalar>,
    /// The row-major position of the single 1 of a constant that is 0
    /// elsewhere (and has at least two elements).
    pub(crate) one_hot: Option<usize>,
    /// The identity-like structure of the value, when known.
    pub(crate) delta: Option<Delta>,
    /// The axis whose index every element equals (an `iota`), when known.
    pub(crate) iota: Option<usize>,
}

impl Facts {
    /// The single value of a splat constant.
    pub(crate) fn splat(&self) -> Option<Scalar> {
        self.uniform
    }

    fn new(ty: TensorType, konst: Option<Arc<Literal>>, delta: Option<Delta>, iota: Option<usize>) -> Facts {
        let (uniform, one_hot) = match konst.as_deref() {
            Some(l) => (l.uniform_value(), fold::one_hot(l)),
            None => (None, None),
        };
        Facts { ty, konst, uniform, one_hot, delta, iota }
    }
}

/// The e-class analysis: type, constant value and delta structure, with a
/// loud failure when a rule merges classes of different types.
#[derive(Debug)]
pub(crate) struct Analyzer {
    /// Largest computed (non-splat) constant kept in the analysis.
    pub(crate) max_const_elements: usize,
    /// Largest dense constant that folding materialises as a `const` node.
    pub(crate) max_fold_elements: usize,
    /// The first type clash seen (release builds; debug builds panic).
    pub(crate) unsound: Option<String>,
}

pub(crate) type EGraph = egg::EGraph<Node, Analyzer>;

/// The facts of a new e-node, from those of its children: what the
/// e-graph's analysis computes, and what the probe of `super::probe`
/// computes for the input's values.
pub(crate) fn make_facts<'a>(node: &Node, facts: impl Fn(Id) -> &'a Facts, max_const_elements: usize) -> Facts {
    match node {
        Node::Param { ty, .. } => Facts::new(ty.clone(), None, None, None),
        Node::Const(l) => {
            let ty = l.literal().ty();
            let delta = fold::delta_of_literal(l.literal());
            Facts::new(ty, Some(l.shared()), delta, None)
        }
        Node::Op { op, args } => {
            let tys: smallvec::SmallVec<[&TensorType; 4]> = args.iter().map(|a| &facts(*a).ty).collect();
            let ty = match op.infer_type(&tys) {
                Ok(t) => t,
                Err(e) => panic!("simplify: an ill-typed e-node was added ({e}); rules must check types before adding"),
            };
            op_facts(op, args, ty, facts, max_const_elements)
        }
    }
}

/// The facts of `op` applied to `args`, of type `ty`.
pub(crate) fn op_facts<'a>(
    op: &Op,
    args: &[Id],
    ty: TensorType,
    facts: impl Fn(Id) -> &'a Facts,
    max_const_elements: usize,
) -> Facts {
    let konst = if args.iter().all(|a| facts(*a).konst.is_some()) {
        let lits: smallvec::SmallVec<[&Literal; 4]> =
            args.iter().map(|a| facts(*a).konst.as_deref().unwrap()).collect();
        fold::fold(op, &lits, &ty, max_const_elements).map(Arc::new)
    } else {
        None
    };
    let delta = match &konst {
        Some(k) => fold::delta_of_literal(k),
        None => fold::delta_of_op(op, args, &ty, &facts),
    };
    let iota = fold::iota_of_op(op, args, &ty, &facts);
    Facts::new(ty, konst, delta, iota)
}

/// Whether the analysis adds a `const` e-node to a class with these facts
/// and nodes (see `Analyzer::modify`): a folded constant small enough to
/// write out, in a class without a leaf already.
pub(crate) fn folds_to_const<'n>(
    facts: &Facts,
    mut nodes: impl Iterator<Item = &'n Node>,
    max_fold_elements: usize,
) -> bool {
    let Some(k) = &facts.konst else { return false };
    let inline = match &**k {
        Literal::Splat { .. } => true,
        Literal::Dense(a) => a.len() <= max_fold_elements,
    };
    inline && !nodes.any(|n| matches!(n, Node::Const(_)) || matches!(n, Node::Op { op: Op::Iota { .. }, .. }))
}

impl Analysis<Node> for Analyzer {
    type Data = Facts;

    fn make(egraph: &mut EGraph, enode: &Node, _id: Id) -> Facts {
        make_facts(enode, |id| &egraph[id].data, egraph.analysis.max_const_elements)
    }

    fn merge(&mut self, a: &mut Facts, b: Facts) -> DidMerge {
        if a.ty != b.ty {
            let msg = format!("a rule merged e-classes of different types: {} and {}", a.ty, b.ty);
            if cfg!(debug_assertions) {
                panic!("simplify: unsound rewrite: {msg}");
            }
            self.unsound.get_or_insert(msg);
            return DidMerge(false, false);
        }
        let mut changed_a = false;
        let mut changed_b = false;
        match (&a.konst, &b.konst) {
            (None, Some(_)) => {
                a.konst = b.konst.clone();
                a.uniform = b.uniform;
                a.one_hot = b.one_hot;
                changed_a = true;
            }
            (Some(_), None) => changed_b = true,
            _ => {}
        }
        match (&a.delta, &b.delta) {
            (None, Some(_)) => {
                a.delta = b.delta.clone();
                changed_a = true;
            }
            (Some(_), None) => changed_b = true,
            _ => {}
        }
        match (a.iota, b.iota) {
            (None, Some(_)) => {
                a.iota = b.iota;
                changed_a = true;
            }
            (Some(_), None) => changed_b = true,
            _ => {}
        }
        DidMerge(changed_a, changed_b)
    }

    fn modify(egraph: &mut EGraph, id: Id) {
        let class = &egraph[id];
        if folds_to_const(&class.data, class.nodes.iter(), egraph.analysis.max_fold_elements) {
            let k = class.data.konst.clone().expect("a folded class has a constant");
            let c = egraph.add(Node::Const(Lit::new((*k).clone())));
            egraph.union(id, c);
        }
    }
}

/// The e-graph of `f` (assumed verified and free of dead code), with the
/// class of every value.
pub(crate) fn to_egraph(f: &Func, analyzer: Analyzer) -> (EGraph, Vec<Id>) {
    let mut egraph = EGraph::new(analyzer);
    let mut ids = Vec::with_capacity(f.num_values());
    for p in f.params() {
        ids.push(egraph.add(Node::Param { index: p.index(), ty: f.ty(p).clone() }));
    }
    for (_, inst) in f.iter_insts() {
        let node = inst_node(inst, |a| ids[a.index()]);
        ids.push(egraph.add(node));
    }
    egraph.rebuild();
    (egraph, ids)
}

/// The e-node of an instruction, its operands' classes given by `class`.
pub(crate) fn inst_node(inst: &Inst, class: impl Fn(Value) -> Id) -> Node {
    match &inst.op {
        Op::Const(l) => Node::Const(Lit::new(l.clone())),
        op => {
            let args = crate::func::map_small(&inst.args, Id::from(0), &class);
            Node::Op { op: op.clone(), args }
        }
    }
}
