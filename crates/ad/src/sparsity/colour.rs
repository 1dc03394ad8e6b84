//! Star colouring of a symmetric pattern, for compressed Hessian evaluation
//! with direct recovery.
//!
//! A *star colouring* (Gebremedhin, Manne and Pothen, "What color is your
//! Jacobian? Graph coloring for computing derivatives", SIAM Review 2005)
//! gives the columns of a symmetric matrix colours such that
//! - adjacent columns (`H[i][j]` in the pattern, `i ≠ j`) differ, and
//! - every path on four vertices uses at least three colours.
//!
//! Summing the columns of each colour, `H·s_k` for the 0/1 indicator `s_k`
//! of colour `k`, then determines every entry *directly* (one read, no
//! solve): for an entry `(i, j)`, either `j` is the only column of colour
//! `c(j)` adjacent to row `i`, and `H[i][j] = (H·s_{c(j)})[i]`, or `i` is
//! the only column of colour `c(i)` adjacent to row `j`, and
//! `H[i][j] = (H·s_{c(i)})[j]`. A diagonal entry is `(H·s_{c(j)})[j]`.
//!
//! The greedy algorithm visits vertices largest degree first (ties by
//! index, so the result is deterministic) and gives each the smallest
//! colour that keeps the two conditions; it keeps, per vertex, the colours
//! around it with their counts (indexed by a hash past a few, so a hub's
//! updates cost `O(1)`), which makes colouring a vertex cost its degree
//! plus the colour lists it must read, rather than the `O(n·d³)` of the
//! textbook form. That scan stops as soon as every colour in use is
//! forbidden (the colours in use are always `0..count`, so the answer is
//! then a new colour): a vertex of a dense block, which must differ from
//! every other, costs its degree, and a dense `n × n` pattern is coloured
//! in `O(n²)`, not `O(n³)`. An AR(1) (tridiagonal) pattern gets
//! 3 colours, a 5-point 2-D grid 5 or 6, an arrowhead (one global parameter
//! coupled to every latent) 2 — where a distance-2 colouring would need
//! `n`, since every column shares the global row.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::{Error, Pattern};

/// A colouring of the columns of a square pattern: `colour(j) < num_colours()`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Colouring {
    colours: Vec<u32>,
    count: usize,
}

impl Colouring {
    /// A colouring from explicit colours (for checking one made elsewhere).
    /// The number of colours is one more than the largest.
    ///
    /// ```
    /// let c = saddle_ad::sparsity::Colouring::new(vec![0, 1, 0]);
    /// assert_eq!(c.num_colours(), 2);
    /// ```
    pub fn new(colours: Vec<u32>) -> Colouring {
        let count = colours.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
        Colouring { colours, count }
    }

    /// Number of colours.
    pub fn num_colours(&self) -> usize {
        self.count
    }

    /// The colour of every column.
    pub fn colours(&self) -> &[u32] {
        &self.colours
    }

    /// The colour of column `j`.
    pub fn colour(&self, j: usize) -> Option<u32> {
        self.colours.get(j).copied()
    }

    /// The 0/1 seed matrix, `num_colours() × n` row-major: row `k` is the
    /// indicator of colour `k`.
    pub fn seed_matrix(&self) -> Vec<f64> {
        let n = self.colours.len();
        let mut s = vec![0.0; self.count * n];
        for (j, &c) in self.colours.iter().enumerate() {
            s[c as usize * n + j] = 1.0;
        }
        s
    }
}

/// The colours around every vertex, with multiplicity: per vertex, a list
/// of `(colour, count, first)` entries in insertion order, `first` the
/// first vertex counted under that colour. A vertex has at most its degree
/// of distinct colours around it, so the lists live in flat buffers laid
/// out like the pattern's columns (no allocation per vertex). Linear
/// search while a list is short; past [`CountTable::SHORT`] entries an
/// index from colour to entry makes every lookup `O(1)`, so a hub with many
/// colours around it costs no more per update than a leaf.
#[derive(Debug)]
struct CountTable<'p> {
    /// Where each vertex's list starts (the pattern's column pointers).
    start: &'p [usize],
    len: Vec<u32>,
    colour: Vec<u32>,
    count: Vec<u32>,
    first: Vec<u32>,
    /// `hub[v] = k + 1` when the list of `v` is longer than
    /// [`CountTable::SHORT`] and `index[k]` indexes it, else 0.
    hub: Vec<u32>,
    index: Vec<ColourIndex>,
}

type ColourIndex = HashMap<u32, u32, BuildHasherDefault<ColourHash>>;

impl<'p> CountTable<'p> {
    const SHORT: usize = 8;

    /// Empty lists, vertex `v` with room for `start[v + 1] - start[v]`
    /// colours.
    fn new(start: &'p [usize]) -> CountTable<'p> {
        let n = start.len() - 1;
        let slots = start[n];
        CountTable {
            start,
            len: vec![0; n],
            colour: vec![0; slots],
            count: vec![0; slots],
            first: vec![0; slots],
            hub: vec![0; n],
            index: Vec::new(),
        }
    }

    fn range(&self, v: usize) -> std::ops::Range<usize> {
        let s = self.start[v];
        s..s + self.len[v] as usize
    }

    /// The slot of colour `c` around `v`.
    fn find(&self, v: usize, c: u32) -> Option<usize> {
        let r = self.range(v);
        if let Some(k) = self.hub[v].checked_sub(1) {
            return self.index[k as usize].get(&c).map(|&k| r.start + k as usize);
        }
        self.colour[r.clone()].iter().position(|&e| e == c).map(|k| r.start + k)
    }

    fn get(&self, v: usize, c: u32) -> u32 {
        self.find(v, c).map_or(0, |k| self.count[k])
    }

    /// Adds vertex `w` under colour `c` around `v`; returns the new count
    /// and the first vertex counted under `c`, or `None` when `v`'s list is
    /// full (more colours around `v` than its column has entries: the
    /// pattern is not symmetric).
    fn bump(&mut self, v: usize, c: u32, w: u32) -> Option<(u32, u32)> {
        if let Some(k) = self.find(v, c) {
            self.count[k] += 1;
            return Some((self.count[k], self.first[k]));
        }
        let k = self.len[v];
        let slot = self.start[v] + k as usize;
        if slot >= self.start[v + 1] {
            return None;
        }
        self.colour[slot] = c;
        self.count[slot] = 1;
        self.first[slot] = w;
        self.len[v] += 1;
        if let Some(h) = self.hub[v].checked_sub(1) {
            self.index[h as usize].insert(c, k);
        } else if self.len[v] as usize > Self::SHORT {
            let r = self.range(v);
            self.index.push(self.colour[r].iter().enumerate().map(|(k, &e)| (e, k as u32)).collect());
            self.hub[v] = self.index.len() as u32;
        }
        Some((1, w))
    }

    fn colours(&self, v: usize) -> &[u32] {
        &self.colour[self.range(v)]
    }
}

/// A multiplicative hash for colours (small dense integers): the index of
/// [`CountTable`] needs speed, not resistance to chosen keys.
#[derive(Clone, Copy, Debug, Default)]
struct ColourHash(u64);

impl Hasher for ColourHash {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u32(&mut self, c: u32) {
        self.write_u64(u64::from(c));
    }

    fn write_u64(&mut self, c: u64) {
        self.0 = (self.0.rotate_left(5) ^ c).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

const NONE: u32 = u32::MAX;

fn square(p: &Pattern) -> Result<usize, Error> {
    if p.nrows() != p.ncols() {
        return Err(Error::NotSquare { nrows: p.nrows(), ncols: p.ncols() });
    }
    Ok(p.ncols())
}

/// A star colouring of a symmetric pattern (both triangles, as
/// [`hessian_pattern`](super::hessian_pattern) returns; the diagonal is
/// ignored). See the [module documentation](self) for the algorithm.
///
/// ```
/// use saddle_ad::sparsity::{Pattern, star_colouring, check_star_colouring};
/// // Tridiagonal 6 × 6.
/// let p = Pattern::from_entries(6, 6, (0..6usize).flat_map(|i| [(i, i), (i, i.saturating_sub(1)), (i.saturating_sub(1), i)]))
///     .unwrap();
/// let c = star_colouring(&p).unwrap();
/// assert_eq!(c.num_colours(), 3);
/// check_star_colouring(&p, &c).unwrap();
/// ```
pub fn star_colouring(p: &Pattern) -> Result<Colouring, Error> {
    let n = square(p)?;
    let degree = degrees(p);
    let mut start = Vec::with_capacity(n + 1);
    start.push(0);
    for v in 0..n {
        start.push(start[v] + degree[v]);
    }
    if let Some(c) = greedy(p, &start, &degree) {
        return Ok(c);
    }
    // Not symmetric: room for the column and the row of every vertex.
    let mut rows = vec![0usize; n + 1];
    p.row_indices().iter().for_each(|&i| rows[i as usize + 1] += 1);
    start.truncate(1);
    for v in 0..n {
        start.push(start[v] + p.column(v).len() + rows[v + 1]);
    }
    // (Never `None`: a vertex has fewer distinct colours around it than
    // entries in its column and its row.)
    greedy(p, &start, &degree).ok_or(Error::InvalidColouring { row: 0, col: 0 })
}

/// The greedy star colouring of a square pattern, with room for
/// `start[v + 1] - start[v]` colours around vertex `v`; `None` when a
/// vertex gets more. The degrees of a symmetric pattern are room enough
/// (a vertex has at most its degree of colours around it).
fn greedy(p: &Pattern, start: &[usize], degree: &[usize]) -> Option<Colouring> {
    let n = p.ncols();
    let neighbours = |v: usize| p.column(v).iter().map(|&u| u as usize).filter(move |&u| u != v);
    let order = by_degree(degree);

    let mut colour = vec![NONE; n];
    // around[x]: colours of x's coloured neighbours, with multiplicity.
    let mut around = CountTable::new(start);
    // bad[w] (w coloured): colours c(x) of coloured neighbours x of w that
    // have another neighbour of colour c(w), with multiplicity. Colouring a
    // new neighbour of w with such a colour would close a two-coloured path
    // new - w - x - y.
    let mut bad = CountTable::new(start);
    let mut forbidden = Forbidden::default();
    let mut count = 0usize;

    for &v in &order {
        let v = v as usize;
        forbidden.start(v, count);
        // Coloured neighbours first, their colours and then the colours
        // that would close a path through them (bad): in a dense block the
        // colours alone forbid every colour in use.
        for w in neighbours(v) {
            if colour[w] != NONE && forbidden.forbid(colour[w]) {
                break;
            }
        }
        'coloured: for w in neighbours(v) {
            if colour[w] != NONE {
                for &c in bad.colours(w) {
                    if forbidden.forbid(c) {
                        break 'coloured;
                    }
                }
            }
        }
        // Two coloured neighbours of an uncoloured vertex must differ (they
        // may become the ends of a path through it). Try the smallest
        // colour allowed so far against the uncoloured neighbours, one
        // lookup each; only if one of them has it around, read their
        // colours in full. (A second dense block reusing the first one's
        // colours would otherwise read a block's worth per neighbour.)
        let fits = |b: u32| neighbours(v).all(|w| colour[w] != NONE || around.get(w, b) == 0);
        if !forbidden.full() && !fits(forbidden.smallest_free()) {
            'scan: for w in neighbours(v) {
                if colour[w] == NONE {
                    for &c in around.colours(w) {
                        if forbidden.forbid(c) {
                            break 'scan;
                        }
                    }
                }
            }
        }
        let b = forbidden.smallest_free();
        colour[v] = b;
        count = count.max(b as usize + 1);

        // v is now a coloured neighbour of each x.
        for x in neighbours(v) {
            let (now, first) = around.bump(x, b, v as u32)?;
            if colour[x] == NONE {
                continue;
            }
            // x just got a second neighbour of colour b: x joins bad[w]
            // for its other neighbour w of colour b (the first one).
            if now == 2 {
                bad.bump(first as usize, colour[x], x as u32)?;
            }
            // x is a coloured neighbour of v: does v itself join bad[x]?
            if around.get(v, colour[x]) >= 2 {
                bad.bump(x, b, v as u32)?;
            }
        }
        // bad[v] from scratch.
        for x in neighbours(v) {
            if colour[x] != NONE && around.get(x, b) >= 2 {
                bad.bump(v, colour[x], x as u32)?;
            }
        }
    }
    Some(Colouring { colours: colour, count })
}

/// The degree of every vertex: the off-diagonal entries of its column.
fn degrees(p: &Pattern) -> Vec<usize> {
    (0..p.ncols())
        .map(|v| {
            let col = p.column(v);
            col.len() - usize::from(col.binary_search(&(v as u32)).is_ok())
        })
        .collect()
}

/// The vertices largest degree (off-diagonal entries of the column) first,
/// ties by index: a counting sort, linear in `n` plus the largest degree.
fn by_degree(degree: &[usize]) -> Vec<u32> {
    let n = degree.len();
    let max = degree.iter().copied().max().unwrap_or(0);
    // next[max - d]: where the next vertex of degree d goes.
    let mut next = vec![0usize; max + 1];
    for &d in degree {
        next[max - d] += 1;
    }
    let mut at = 0;
    for slot in &mut next {
        let size = *slot;
        *slot = at;
        at += size;
    }
    let mut order = vec![0u32; n];
    for (v, &d) in degree.iter().enumerate() {
        order[next[max - d]] = v as u32;
        next[max - d] += 1;
    }
    order
}

/// The colours forbidden for the vertex being coloured: a marker per
/// colour and the number of distinct colours marked. The colours in use
/// are always `0..count` (greedy never skips one), so once all `count` are
/// marked the answer is `count` and the scan stops: a vertex of a dense
/// block costs its degree, not its degree times the colours around it.
#[derive(Debug, Default)]
struct Forbidden {
    /// `mark[c] == v + 1` when colour `c` is forbidden for `v`.
    mark: Vec<usize>,
    current: usize,
    marked: usize,
    count: usize,
}

impl Forbidden {
    fn start(&mut self, v: usize, count: usize) {
        self.current = v + 1;
        self.marked = 0;
        self.count = count;
        if self.mark.len() < count {
            self.mark.resize(count, 0);
        }
    }

    /// Forbids colour `c` (`< count`); returns whether every colour in use
    /// is now forbidden.
    fn forbid(&mut self, c: u32) -> bool {
        let m = &mut self.mark[c as usize];
        if *m != self.current {
            *m = self.current;
            self.marked += 1;
        }
        self.full()
    }

    fn full(&self) -> bool {
        self.marked == self.count
    }

    fn smallest_free(&self) -> u32 {
        if self.full() {
            return self.count as u32;
        }
        self.mark[..self.count].iter().position(|&m| m != self.current).unwrap_or(self.count) as u32
    }
}

/// Where each entry of a Hessian comes from in the compressed product
/// `C = Sᵀ·H` (`C[k][r] = (H·s_k)[r]`, row-major `c × n`): the flat index
/// into `C` of every entry of `entries`, or [`Error::InvalidColouring`]
/// naming an entry that no single read determines.
pub(crate) fn sources(
    p: &Pattern,
    colouring: &Colouring,
    entries: impl Iterator<Item = (usize, usize)>,
) -> Result<Vec<usize>, Error> {
    let n = square(p)?;
    let colours = colouring.colours();
    if colours.len() != n {
        return Err(Error::ColouringLength { expected: n, found: colours.len() });
    }
    let k = colouring.num_colours();
    // (Every colour is below k by construction of a Colouring.)
    if let Some(j) = colours.iter().position(|&c| c as usize >= k) {
        return Err(Error::InvalidColouring { row: j, col: j });
    }
    // Per row r: how many columns of each colour its off-diagonal entries
    // have, as (colour, count) sorted by colour (tallied in a scratch array
    // indexed by colour, so a dense row costs its length, not its length
    // times its colours).
    let mut off = Vec::with_capacity(n + 1);
    let mut counts: Vec<(u32, u32)> = Vec::new();
    let mut tally = vec![0u32; k];
    off.push(0);
    for r in 0..n {
        let start = counts.len();
        for &u in p.column(r) {
            let u = u as usize;
            if u == r {
                continue;
            }
            let c = colours[u];
            if tally[c as usize] == 0 {
                counts.push((c, 0));
            }
            tally[c as usize] += 1;
        }
        let row = &mut counts[start..];
        for e in row.iter_mut() {
            e.1 = std::mem::take(&mut tally[e.0 as usize]);
        }
        row.sort_unstable();
        off.push(counts.len());
    }
    let count_in = |r: usize, c: u32| {
        let row = &counts[off[r]..off[r + 1]];
        row.binary_search_by_key(&c, |e| e.0).map_or(0, |i| row[i].1)
    };
    let mut src = Vec::new();
    for (i, j) in entries {
        let (ci, cj) = (colours[i], colours[j]);
        if ci as usize >= k || cj as usize >= k {
            return Err(Error::InvalidColouring { row: i, col: j });
        }
        if i == j {
            // The diagonal: no neighbour of j shares its colour.
            if count_in(j, cj) != 0 {
                return Err(Error::InvalidColouring { row: i, col: j });
            }
            src.push(cj as usize * n + j);
        } else if ci == cj {
            return Err(Error::InvalidColouring { row: i, col: j });
        } else if count_in(i, cj) == 1 {
            // j is the only column of its colour in row i.
            src.push(cj as usize * n + i);
        } else if count_in(j, ci) == 1 {
            src.push(ci as usize * n + j);
        } else {
            return Err(Error::InvalidColouring { row: i, col: j });
        }
    }
    Ok(src)
}

/// Checks that `colouring` recovers every entry of the symmetric pattern
/// `p` directly (the property a star colouring guarantees): adjacent
/// columns differ and, for every entry `(i, j)`, `j` is the only column of
/// its colour in row `i` or `i` the only one of its colour in row `j`.
/// Names the first entry that fails in [`Error::InvalidColouring`].
///
/// ```
/// use saddle_ad::sparsity::{Colouring, Pattern, check_star_colouring};
/// // A path 0 - 1 - 2 - 3 in two alternating colours is not a star colouring.
/// let p = Pattern::from_entries(4, 4, [(0, 1), (1, 0), (1, 2), (2, 1), (2, 3), (3, 2)]).unwrap();
/// assert!(check_star_colouring(&p, &Colouring::new(vec![0, 1, 0, 1])).is_err());
/// assert!(check_star_colouring(&p, &Colouring::new(vec![0, 1, 0, 2])).is_ok());
/// ```
pub fn check_star_colouring(p: &Pattern, colouring: &Colouring) -> Result<(), Error> {
    let n = square(p)?;
    let diagonal = (0..n).map(|j| (j, j));
    sources(p, colouring, p.entries().chain(diagonal)).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(n: usize, edges: &[(usize, usize)]) -> Pattern {
        let both = edges.iter().flat_map(|&(i, j)| [(i, j), (j, i)]).chain((0..n).map(|i| (i, i)));
        Pattern::from_entries(n, n, both).unwrap()
    }

    fn colours_of(n: usize, edges: &[(usize, usize)]) -> Colouring {
        let p = pattern(n, edges);
        let c = star_colouring(&p).unwrap();
        check_star_colouring(&p, &c).unwrap();
        c
    }

    #[test]
    fn path_needs_three() {
        let edges: Vec<_> = (1..10).map(|i| (i - 1, i)).collect();
        assert_eq!(colours_of(10, &edges).num_colours(), 3);
        assert_eq!(colours_of(2, &[(0, 1)]).num_colours(), 2);
        assert_eq!(colours_of(3, &[(0, 1), (1, 2)]).num_colours(), 2);
    }

    #[test]
    fn arrowhead_needs_two() {
        let edges: Vec<_> = (1..50).map(|i| (0, i)).collect();
        let c = colours_of(50, &edges);
        assert_eq!(c.num_colours(), 2);
        // The hub, largest degree, is coloured first.
        assert_eq!(c.colour(0), Some(0));
    }

    #[test]
    fn diagonal_and_empty() {
        assert_eq!(colours_of(5, &[]).num_colours(), 1);
        assert_eq!(colours_of(0, &[]).num_colours(), 0);
    }

    #[test]
    fn complete_graph_needs_n() {
        let edges: Vec<_> = (0..6).flat_map(|i| (0..i).map(move |j| (i, j))).collect();
        assert_eq!(colours_of(6, &edges).num_colours(), 6);
    }

    #[test]
    fn grid() {
        let (r, c) = (8, 9);
        let id = |i: usize, j: usize| i * c + j;
        let mut edges = Vec::new();
        for i in 0..r {
            for j in 0..c {
                if i + 1 < r {
                    edges.push((id(i, j), id(i + 1, j)));
                }
                if j + 1 < c {
                    edges.push((id(i, j), id(i, j + 1)));
                }
            }
        }
        let k = colours_of(r * c, &edges).num_colours();
        assert!((5..=6).contains(&k), "{k}");
    }

    #[test]
    fn checker_rejects() {
        let p = pattern(3, &[(0, 1), (1, 2)]);
        // Adjacent columns sharing a colour.
        assert_eq!(
            check_star_colouring(&p, &Colouring::new(vec![0, 0, 1])),
            Err(Error::InvalidColouring { row: 0, col: 0 })
        );
        assert!(matches!(check_star_colouring(&p, &Colouring::new(vec![0])), Err(Error::ColouringLength { .. })));
        let rect = Pattern::from_entries(2, 3, [(0, 0)]).unwrap();
        assert!(matches!(star_colouring(&rect), Err(Error::NotSquare { nrows: 2, ncols: 3 })));
    }

    #[test]
    fn seeds() {
        let c = Colouring::new(vec![0, 1, 0]);
        assert_eq!(c.seed_matrix(), vec![1.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
    }

    /// The greedy colouring written plainly (colour counts in unindexed
    /// lists, every forbidden colour scanned): the fast one must give the
    /// same colours.
    fn reference(p: &Pattern) -> Vec<u32> {
        let n = p.ncols();
        let nb = |v: usize| p.column(v).iter().map(|&u| u as usize).filter(move |&u| u != v);
        let bump = |l: &mut Vec<(u32, u32)>, c: u32| match l.iter_mut().find(|e| e.0 == c) {
            Some(e) => {
                e.1 += 1;
                e.1
            }
            None => {
                l.push((c, 1));
                1
            }
        };
        let get = |l: &[(u32, u32)], c: u32| l.iter().find(|e| e.0 == c).map_or(0, |e| e.1);
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&v| (std::cmp::Reverse(nb(v).count()), v));
        let mut colour = vec![NONE; n];
        let mut around = vec![Vec::new(); n];
        let mut bad = vec![Vec::new(); n];
        for &v in &order {
            let mut no = std::collections::BTreeSet::new();
            for w in nb(v) {
                if colour[w] == NONE {
                    no.extend(around[w].iter().map(|e: &(u32, u32)| e.0));
                } else {
                    no.insert(colour[w]);
                    no.extend(bad[w].iter().map(|e: &(u32, u32)| e.0));
                }
            }
            let b = (0..).find(|c| !no.contains(c)).unwrap_or(0);
            colour[v] = b;
            for x in nb(v) {
                let now = bump(&mut around[x], b);
                if colour[x] == NONE {
                    continue;
                }
                if now == 2 {
                    for w in nb(x) {
                        if w != v && colour[w] == b {
                            bump(&mut bad[w], colour[x]);
                        }
                    }
                }
                if get(&around[v], colour[x]) >= 2 {
                    bump(&mut bad[x], b);
                }
            }
            for x in nb(v) {
                if colour[x] != NONE && get(&around[x], b) >= 2 {
                    bump(&mut bad[v], colour[x]);
                }
            }
        }
        colour
    }

    /// A small deterministic generator (splitmix64).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }

        fn chance(&mut self, p: f64) -> bool {
            ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
        }
    }

    /// A random symmetric pattern with the structures of hierarchical
    /// models: sparse random edges, a chain, hubs coupled to all or most
    /// vertices, and dense blocks (unknown indices).
    fn random_pattern(rng: &mut Rng) -> Pattern {
        let n = 1 + rng.below(60);
        let mut edges = Vec::new();
        let p = rng.below(20) as f64 / 200.0;
        for i in 0..n {
            for j in 0..i {
                if rng.chance(p) {
                    edges.push((i, j));
                }
            }
        }
        if rng.chance(0.5) {
            edges.extend((1..n).map(|i| (i - 1, i)));
        }
        for _ in 0..rng.below(3) {
            let (h, keep) = (rng.below(n), 0.5 + rng.below(6) as f64 / 10.0);
            edges.extend((0..n).filter(|&i| i != h && rng.chance(keep)).map(|i| (h, i)));
        }
        for _ in 0..rng.below(3) {
            let (a, len) = (rng.below(n), 1 + rng.below(n));
            let block: Vec<usize> = (a..(a + len).min(n)).filter(|_| rng.chance(0.9)).collect();
            edges.extend(block.iter().flat_map(|&i| block.iter().filter(move |&&j| j < i).map(move |&j| (i, j))));
        }
        pattern(n, &edges)
    }

    #[test]
    fn random_patterns_get_the_plain_greedy_colouring() {
        let mut rng = Rng(7);
        for _ in 0..400 {
            let p = random_pattern(&mut rng);
            let c = star_colouring(&p).unwrap();
            check_star_colouring(&p, &c).unwrap();
            assert_eq!(c.colours(), reference(&p).as_slice());
        }
    }

    #[test]
    fn dense_blocks_and_hubs() {
        // Two dense blocks sharing a hub, and a chain hanging off the hub.
        let n = 120;
        let mut edges: Vec<_> = (1..n).map(|i| (0, i)).collect();
        for block in [1..41usize, 41..71] {
            edges.extend(block.clone().flat_map(|i| (block.start..i).map(move |j| (i, j))));
        }
        edges.extend((72..n).map(|i| (i - 1, i)));
        let c = colours_of(n, &edges);
        // The hub and the larger block need 41 colours; the rest reuse them.
        assert_eq!(c.num_colours(), 41);
        assert_eq!(c.colours(), reference(&pattern(n, &edges)).as_slice());
        // A dense pattern: every vertex its own colour, in index order.
        let dense: Vec<_> = (0..300).flat_map(|i| (0..i).map(move |j| (i, j))).collect();
        let c = colours_of(300, &dense);
        assert_eq!(c.colours(), (0..300).collect::<Vec<u32>>().as_slice());
    }

    #[test]
    fn patterns_that_are_not_symmetric_are_coloured() {
        // Column 0 holds every row, no other column holds row 0: vertex 0
        // gets more colours around it than its degree.
        let n = 12;
        let p = Pattern::from_entries(n, n, (0..n).map(|i| (i, 0)).chain((1..n).map(|i| (i, i)))).unwrap();
        let c = star_colouring(&p).unwrap();
        assert_eq!(c.colours().len(), n);
        assert_eq!(c.colours(), reference(&p).as_slice());
    }

    #[test]
    fn hashed_counts_agree_with_lists() {
        // Vertex 1 has room for 13 colours, vertices 0 and 2 for 2.
        let start = [0, 2, 15, 17];
        let mut c = CountTable::new(&start);
        for k in 0..40u32 {
            assert_eq!(c.bump(1, k % 13, k), Some((k / 13 + 1, k % 13)));
        }
        assert!(c.hub[1] != 0 && c.hub[0] == 0);
        assert_eq!(c.get(1, 3), 3);
        assert_eq!(c.get(1, 99), 0);
        assert_eq!(c.colours(1), (0..13).collect::<Vec<_>>().as_slice());
        assert_eq!(c.bump(1, 13, 0), None);
        assert_eq!((c.bump(0, 5, 1), c.bump(0, 6, 1), c.bump(0, 7, 1)), (Some((1, 1)), Some((1, 1)), None));
        assert_eq!(c.colours(2), &[] as &[u32]);
    }
}
