//! The dataflow graph as a petgraph graph and as Graphviz text.

use petgraph::dot::{Config, Dot};
use petgraph::graph::{DiGraph, NodeIndex};

use crate::Func;
use crate::print::value_names;

/// The dataflow graph of `f`: a node per value (labelled
/// `%name: type = op`), an edge from each operand to its user, labelled
/// with the operand position.
pub fn dataflow_graph(f: &Func) -> DiGraph<String, usize> {
    let names = value_names(f);
    let mut g = DiGraph::new();
    let mut nodes: Vec<NodeIndex> = Vec::with_capacity(f.num_values());
    for (i, p) in f.params().enumerate() {
        nodes.push(g.add_node(format!("%{}: {} (parameter {i})", names[p.index()], f.ty(p))));
    }
    for (v, inst) in f.iter_insts() {
        let node = g.add_node(format!("%{}: {} = {}", names[v.index()], f.ty(v), inst.op.name()));
        for (k, a) in inst.args.iter().enumerate() {
            g.add_edge(nodes[a.index()], node, k);
        }
        nodes.push(node);
    }
    for (i, r) in f.results().iter().enumerate() {
        let node = g.add_node(format!("result {i}"));
        g.add_edge(nodes[r.index()], node, 0);
    }
    g
}

/// Graphviz `dot` text of the dataflow graph of `f`.
///
/// ```
/// use saddle_ir::{parse_func, graph::to_dot};
/// let f = parse_func("f.sir", "func @f(%x: f64[]) -> f64[] {\n %y: f64[] = exp %x\n return %y\n}").unwrap();
/// assert!(to_dot(&f).starts_with("digraph"));
/// ```
pub fn to_dot(f: &Func) -> String {
    let g = dataflow_graph(f);
    format!("{:?}", Dot::with_config(&g, &[Config::EdgeNoLabel]))
}
