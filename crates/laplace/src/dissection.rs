//! A nested-dissection fill-reducing ordering for symmetric sparse
//! patterns.
//!
//! The graph of the pattern is split recursively: a small set of vertices
//! (the separator) whose removal leaves two parts with no edge between
//! them is numbered after both parts, so that eliminating one part creates
//! no fill in the other. Separators come from breadth-first level
//! structures: from a few starts (a pseudo-peripheral vertex, the best
//! connected vertex at the far end of its level structure, and the far
//! level of each of these taken as a set), every level is a separator of
//! the levels before it from those after it; the
//! level with the smallest ratio `|S| / (|A| · |B|)` wins, and its vertices
//! with no neighbour on one side then move to that side. Parts below
//! [`LEAF`] vertices are ordered by approximate minimum degree, and dense
//! vertices (hubs) are numbered last, outside the searches.
//!
//! On lattices with wide stencils (Kronecker products of banded
//! precisions, such as separable AR(1) fields) this gives factors with far
//! fewer flops than minimum degree alone; on other patterns minimum degree
//! may win, which is why [`crate::sparse::SparseCholesky`] keeps whichever
//! ordering needs fewer flops. The result depends only on the pattern
//! (deterministic), and each level of the recursion costs a few
//! breadth-first searches over the graph.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::sparse::SymbolicSparseColMatRef;
use faer::sparse::linalg::amd;

use crate::sparse::SparseError;

/// Parts with at most this many vertices are ordered by minimum degree
/// rather than split further.
pub(crate) const LEAF: usize = 96;

/// Vertices with more than this many times `√n` neighbours count as
/// dense (the threshold AMD uses by default).
const DENSE_FACTOR: f64 = 10.0;

/// How many breadth-first searches the search for a pseudo-peripheral
/// vertex may take.
const PERIPHERAL_SEARCHES: usize = 6;

/// The symmetric graph of a lower-triangular CSC pattern, both directions,
/// without the diagonal.
struct Graph {
    ptr: Vec<usize>,
    adj: Vec<usize>,
}

impl Graph {
    fn from_lower(n: usize, col_ptr: &[usize], row_idx: &[usize]) -> Graph {
        let mut deg = vec![0usize; n];
        for c in 0..n {
            for &r in &row_idx[col_ptr[c]..col_ptr[c + 1]] {
                if r != c {
                    deg[r] += 1;
                    deg[c] += 1;
                }
            }
        }
        let mut ptr = Vec::with_capacity(n + 1);
        ptr.push(0);
        for &d in &deg {
            ptr.push(ptr[ptr.len() - 1] + d);
        }
        let mut next = ptr[..n].to_vec();
        let mut adj = vec![0; ptr[n]];
        // Columns in increasing order: row r sees its smaller neighbours
        // first (from the columns c < r), then its larger ones, so each
        // list comes out sorted.
        for c in 0..n {
            for &r in &row_idx[col_ptr[c]..col_ptr[c + 1]] {
                if r != c {
                    adj[next[r]] = c;
                    next[r] += 1;
                }
            }
        }
        for c in 0..n {
            for &r in &row_idx[col_ptr[c]..col_ptr[c + 1]] {
                if r != c {
                    adj[next[c]] = r;
                    next[c] += 1;
                }
            }
        }
        Graph { ptr, adj }
    }

    fn neighbours(&self, v: usize) -> &[usize] {
        &self.adj[self.ptr[v]..self.ptr[v + 1]]
    }
}

/// Which part of the current split a vertex is in.
const SIDE_A: u8 = 0;
const SIDE_B: u8 = 1;
const SIDE_S: u8 = 2;

/// Scratch shared by all the splits.
struct Work {
    /// The subgraph each vertex belongs to now (vertices outside the
    /// current one are invisible to its searches).
    tag: Vec<usize>,
    /// Breadth-first level of each vertex (valid for the current tag).
    level: Vec<usize>,
    /// The side of each vertex in the current split.
    side: Vec<u8>,
    /// Vertices in the order the search visited them.
    queue: Vec<usize>,
    /// Where each level starts in `queue`.
    level_start: Vec<usize>,
    next_tag: usize,
}

impl Work {
    /// Breadth-first search from the vertices `starts` (level 0) over the
    /// vertices tagged `tag`; fills `queue` and `level_start` (with a
    /// final entry at the end). Unvisited vertices of the subgraph must
    /// have level `usize::MAX` (see `reset_levels`).
    fn search(&mut self, g: &Graph, starts: &[usize], tag: usize) {
        self.queue.clear();
        self.level_start.clear();
        let fresh = usize::MAX;
        for &s in starts {
            self.level[s] = 0;
        }
        self.queue.extend_from_slice(starts);
        let mut head = 0;
        let mut current = 0;
        self.level_start.push(0);
        while head < self.queue.len() {
            let v = self.queue[head];
            if self.level[v] != current {
                current = self.level[v];
                self.level_start.push(head);
            }
            head += 1;
            for &u in g.neighbours(v) {
                if self.tag[u] == tag && self.level[u] == fresh {
                    self.level[u] = current + 1;
                    self.queue.push(u);
                }
            }
        }
        self.level_start.push(self.queue.len());
    }

    fn reset_levels(&mut self, verts: &[usize]) {
        for &v in verts {
            self.level[v] = usize::MAX;
        }
    }

    /// A vertex far from the others: repeated searches from the
    /// least-connected vertex of the last level while the depth grows.
    fn peripheral(&mut self, g: &Graph, verts: &[usize], tag: usize) -> usize {
        let mut start = verts[0];
        let mut depth = 0;
        for _ in 0..PERIPHERAL_SEARCHES {
            self.reset_levels(verts);
            self.search(g, &[start], tag);
            let levels = self.level_start.len() - 1;
            if levels <= depth {
                break;
            }
            depth = levels;
            let last = &self.queue[self.level_start[levels - 1]..];
            let next = last.iter().copied().min_by_key(|&v| (g.ptr[v + 1] - g.ptr[v], v)).unwrap_or(start);
            if next == start {
                break;
            }
            start = next;
        }
        start
    }
}

/// The best level of the current search as a separator: its index and its
/// ratio `|S| / (|A| · |B|)`, `None` when fewer than three levels leave no
/// split with both sides non-empty.
fn best_level(level_start: &[usize]) -> Option<(usize, f64)> {
    let levels = level_start.len() - 1;
    let total = level_start[levels];
    let mut best: Option<(usize, f64)> = None;
    for m in 1..levels.saturating_sub(1) {
        let a = level_start[m];
        let s = level_start[m + 1] - a;
        let b = total - a - s;
        let ratio = s as f64 / (a as f64 * b as f64);
        if best.is_none_or(|(_, r)| ratio < r) {
            best = Some((m, ratio));
        }
    }
    best
}

/// A nested-dissection ordering of the symmetric pattern whose lower
/// triangle is given in CSC (as [`crate::sparse::SparseCholesky::analyse`]
/// takes it): `perm[k]` is the original index of the vertex numbered `k`.
pub(crate) fn nested_dissection(n: usize, col_ptr: &[usize], row_idx: &[usize]) -> Result<Vec<usize>, SparseError> {
    let g = Graph::from_lower(n, col_ptr, row_idx);
    let mut w = Work {
        tag: vec![0; n],
        level: vec![usize::MAX; n],
        side: vec![SIDE_A; n],
        queue: Vec::with_capacity(n),
        level_start: Vec::new(),
        next_tag: 1,
    };
    let mut order = vec![usize::MAX; n];
    // Dense vertices (hubs, such as a fixed effect every random effect
    // touches) would put every other vertex within two levels of any
    // start: they are numbered last and left out of the searches (their
    // tag, 0, is never a subgraph's).
    let dense = DENSE_FACTOR * (n as f64).sqrt();
    let (hubs, rest): (Vec<usize>, Vec<usize>) = (0..n).partition(|&v| (g.ptr[v + 1] - g.ptr[v]) as f64 > dense);
    order[rest.len()..].copy_from_slice(&hubs);
    // Parts still to order: their vertices and the first position they take.
    let mut tasks: Vec<(Vec<usize>, usize)> = vec![(rest, 0)];
    while let Some((verts, lo)) = tasks.pop() {
        if verts.len() <= LEAF {
            order_leaf(&g, &verts, &mut order[lo..lo + verts.len()], &mut w)?;
            continue;
        }
        let tag = w.next_tag;
        w.next_tag += 1;
        for &v in &verts {
            w.tag[v] = tag;
        }
        w.reset_levels(&verts);
        w.search(&g, &verts[..1], tag);
        if w.queue.len() < verts.len() {
            // Not connected: each component is ordered on its own, in
            // consecutive positions, with no separator.
            let mut rest = Vec::with_capacity(verts.len() - w.queue.len());
            let first = w.queue.clone();
            let mut pos = lo + first.len();
            for &v in &verts {
                if w.level[v] == usize::MAX {
                    rest.push(v);
                }
            }
            tasks.push((first, lo));
            // Peel the remaining components one by one.
            while !rest.is_empty() {
                let t = w.next_tag;
                w.next_tag += 1;
                for &v in &rest {
                    w.tag[v] = t;
                }
                w.search(&g, &rest[..1], t);
                let comp = w.queue.clone();
                rest.retain(|&v| w.level[v] == usize::MAX);
                let len = comp.len();
                tasks.push((comp, pos));
                pos += len;
            }
            continue;
        }
        let peripheral = w.peripheral(&g, &verts, tag);
        // The second start: the best connected vertex of the far level.
        w.reset_levels(&verts);
        w.search(&g, &[peripheral], tag);
        let levels = w.level_start.len() - 1;
        let far = w.queue[w.level_start[levels - 1]..]
            .iter()
            .copied()
            .max_by_key(|&v| (g.ptr[v + 1] - g.ptr[v], usize::MAX - v))
            .unwrap_or(peripheral);
        // Each start is tried alone and together with the far level of
        // its search as the starting set (on lattices with wide stencils,
        // searches from single vertices grow boxes around them, while the
        // far level of a vertex in the middle of a face is the opposite
        // face, whose search levels are the lattice's hyperplanes).
        let mut best: Option<(Vec<usize>, usize, f64)> = None;
        for start in [peripheral, far] {
            let mut starts = vec![start];
            for _ in 0..2 {
                w.reset_levels(&verts);
                w.search(&g, &starts, tag);
                if let Some((m, ratio)) = best_level(&w.level_start)
                    && best.as_ref().is_none_or(|b| ratio < b.2)
                {
                    best = Some((starts.clone(), m, ratio));
                }
                let levels = w.level_start.len() - 1;
                starts = w.queue[w.level_start[levels - 1]..].to_vec();
            }
        }
        let Some((starts, m, _)) = best else {
            order_leaf(&g, &verts, &mut order[lo..lo + verts.len()], &mut w)?;
            continue;
        };
        w.reset_levels(&verts);
        w.search(&g, &starts, tag);
        let (s_lo, s_hi) = (w.level_start[m], w.level_start[m + 1]);
        for (q, &v) in w.queue.iter().enumerate() {
            w.side[v] = if q < s_lo {
                SIDE_A
            } else if q < s_hi {
                SIDE_S
            } else {
                SIDE_B
            };
        }
        // Thin the separator: a vertex with no neighbour in one part can
        // join the other without creating an edge between the parts.
        let separator: Vec<usize> = w.queue[s_lo..s_hi].to_vec();
        for &v in &separator {
            let (mut touches_a, mut touches_b) = (false, false);
            for &u in g.neighbours(v) {
                if w.tag[u] == tag {
                    touches_a |= w.side[u] == SIDE_A;
                    touches_b |= w.side[u] == SIDE_B;
                }
            }
            if !touches_b {
                w.side[v] = SIDE_A;
            } else if !touches_a {
                w.side[v] = SIDE_B;
            }
        }
        let (mut part_a, mut part_b, mut sep) = (Vec::new(), Vec::new(), Vec::new());
        for &v in &w.queue {
            match w.side[v] {
                SIDE_A => part_a.push(v),
                SIDE_B => part_b.push(v),
                _ => sep.push(v),
            }
        }
        if part_a.is_empty() || part_b.is_empty() {
            order_leaf(&g, &verts, &mut order[lo..lo + verts.len()], &mut w)?;
            continue;
        }
        let s_start = lo + part_a.len() + part_b.len();
        order[s_start..s_start + sep.len()].copy_from_slice(&sep);
        let b_lo = lo + part_a.len();
        tasks.push((part_b, b_lo));
        tasks.push((part_a, lo));
    }
    Ok(order)
}

/// Orders the vertices `verts` by faer's approximate minimum degree on
/// the subgraph they induce, writing their original indices to `out`.
fn order_leaf(g: &Graph, verts: &[usize], out: &mut [usize], w: &mut Work) -> Result<(), SparseError> {
    let m = verts.len();
    if m <= 2 {
        out.copy_from_slice(verts);
        return Ok(());
    }
    // Local numbering through `level` (free between searches).
    for (i, &v) in verts.iter().enumerate() {
        w.level[v] = i;
    }
    let tag = w.next_tag;
    w.next_tag += 1;
    for &v in verts {
        w.tag[v] = tag;
    }
    let mut col_ptr = Vec::with_capacity(m + 1);
    let mut rows = Vec::new();
    col_ptr.push(0);
    for &v in verts {
        let start = rows.len();
        rows.extend(g.neighbours(v).iter().filter(|&&u| w.tag[u] == tag).map(|&u| w.level[u]));
        rows[start..].sort_unstable();
        col_ptr.push(rows.len());
    }
    let failed = |e: faer::sparse::FaerError| SparseError::Analysis { message: format!("{e:?}").to_lowercase() };
    let nnz = rows.len();
    let mut mem = MemBuffer::try_new(amd::order_maybe_unsorted_scratch::<usize>(m, nnz))
        .map_err(|_| failed(faer::sparse::FaerError::OutOfMemory))?;
    let (mut perm, mut perm_inv) = (vec![0usize; m], vec![0usize; m]);
    amd::order_maybe_unsorted(
        &mut perm,
        &mut perm_inv,
        SymbolicSparseColMatRef::new_checked(m, m, &col_ptr, None, &rows),
        amd::Control::default(),
        MemStack::new(&mut mem),
    )
    .map_err(failed)?;
    for (o, &p) in out.iter_mut().zip(&perm) {
        *o = verts[p];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::nested_dissection;
    use proptest::prelude::*;

    /// Lower CSC of a random symmetric pattern with the diagonal.
    fn pattern(n: usize, edges: &[(usize, usize)]) -> (Vec<usize>, Vec<usize>) {
        let mut cols = vec![vec![]; n];
        for (c, col) in cols.iter_mut().enumerate() {
            col.push(c);
        }
        for &(a, b) in edges {
            let (a, b) = (a % n, b % n);
            let (lo, hi) = (a.min(b), a.max(b));
            cols[lo].push(hi);
        }
        let (mut col_ptr, mut rows) = (vec![0], vec![]);
        for mut col in cols {
            col.sort_unstable();
            col.dedup();
            rows.extend(col);
            col_ptr.push(rows.len());
        }
        (col_ptr, rows)
    }

    proptest! {
        #[test]
        fn the_ordering_is_a_permutation(
            n in 1usize..400,
            edges in proptest::collection::vec((0usize..400, 0usize..400), 0..2000),
        ) {
            let (col_ptr, rows) = pattern(n, &edges);
            let perm = nested_dissection(n, &col_ptr, &rows).unwrap();
            prop_assert_eq!(perm.len(), n);
            let mut seen = vec![false; n];
            for &p in &perm {
                prop_assert!(p < n && !seen[p]);
                seen[p] = true;
            }
        }
    }

    #[test]
    fn a_hub_is_numbered_last() {
        // A 30 × 30 grid (5-point stencil) and one vertex linked to all.
        let m = 30;
        let hub = m * m;
        let mut edges = Vec::new();
        for v in 0..m * m {
            if v % m + 1 < m {
                edges.push((v, v + 1));
            }
            if v + m < m * m {
                edges.push((v, v + m));
            }
            edges.push((v, hub));
        }
        let (col_ptr, rows) = pattern(hub + 1, &edges);
        let perm = nested_dissection(hub + 1, &col_ptr, &rows).unwrap();
        assert_eq!(perm[hub], hub);
    }
}
