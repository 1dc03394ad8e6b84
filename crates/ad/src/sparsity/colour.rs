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
//! colour that keeps the two conditions; it keeps, per vertex, the counts
//! of the colours around it, so its cost is `O(nnz · colours)` rather than
//! the `O(n·d³)` of the textbook form. An AR(1) (tridiagonal) pattern gets
//! 3 colours, a 5-point 2-D grid 5 or 6, an arrowhead (one global parameter
//! coupled to every latent) 2 — where a distance-2 colouring would need
//! `n`, since every column shares the global row.

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

/// Small per-vertex multiset of colours: `(colour, count)` pairs.
#[derive(Clone, Debug, Default)]
struct Counts(Vec<(u32, u32)>);

impl Counts {
    fn get(&self, c: u32) -> u32 {
        self.0.iter().find(|e| e.0 == c).map_or(0, |e| e.1)
    }

    /// Adds one to colour `c`; returns the new count.
    fn bump(&mut self, c: u32) -> u32 {
        match self.0.iter_mut().find(|e| e.0 == c) {
            Some(e) => {
                e.1 += 1;
                e.1
            }
            None => {
                self.0.push((c, 1));
                1
            }
        }
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
    let neighbours = |v: usize| p.column(v).iter().map(|&u| u as usize).filter(move |&u| u != v);
    let degree: Vec<usize> = (0..n).map(|v| neighbours(v).count()).collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| degree[b].cmp(&degree[a]).then(a.cmp(&b)));

    let mut colour = vec![NONE; n];
    // around[x]: colours of x's coloured neighbours, with multiplicity.
    let mut around: Vec<Counts> = vec![Counts::default(); n];
    // bad[w] (w coloured): colours c(x) of coloured neighbours x of w that
    // have another neighbour of colour c(w), with multiplicity. Colouring a
    // new neighbour of w with such a colour would close a two-coloured path
    // new - w - x - y.
    let mut bad: Vec<Counts> = vec![Counts::default(); n];
    // forbidden[c] == v + 1 when colour c is forbidden for v.
    let mut forbidden: Vec<usize> = Vec::new();
    let mut count = 0usize;

    for &v in &order {
        let mark = v + 1;
        let forbid = |c: u32, forbidden: &mut Vec<usize>| {
            let c = c as usize;
            if c >= forbidden.len() {
                forbidden.resize(c + 1, 0);
            }
            forbidden[c] = mark;
        };
        for w in neighbours(v) {
            if colour[w] == NONE {
                // Two coloured neighbours of an uncoloured vertex must
                // differ (they may become the ends of a path through it).
                for &(c, k) in &around[w].0 {
                    if k > 0 {
                        forbid(c, &mut forbidden);
                    }
                }
            } else {
                forbid(colour[w], &mut forbidden);
                for &(c, k) in &bad[w].0 {
                    if k > 0 {
                        forbid(c, &mut forbidden);
                    }
                }
            }
        }
        let b = (0..).find(|&c| forbidden.get(c).is_none_or(|&m| m != mark)).unwrap_or(0);
        let b = b as u32;
        colour[v] = b;
        count = count.max(b as usize + 1);

        // v is now a coloured neighbour of each x.
        for x in neighbours(v) {
            let now = around[x].bump(b);
            if colour[x] == NONE {
                continue;
            }
            // x just got a second neighbour of colour b: x joins bad[w]
            // for its other neighbours w of colour b.
            if now == 2 {
                let cx = colour[x];
                for w in neighbours(x) {
                    if w != v && colour[w] == b {
                        bad[w].bump(cx);
                    }
                }
            }
            // x is a coloured neighbour of v: does v itself join bad[x]?
            if around[v].get(colour[x]) >= 2 {
                bad[x].bump(b);
            }
        }
        // bad[v] from scratch.
        for x in neighbours(v) {
            if colour[x] != NONE && around[x].get(b) >= 2 {
                bad[v].bump(colour[x]);
            }
        }
    }
    Ok(Colouring { colours: colour, count })
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
    // Per row r: how many columns of each colour its off-diagonal entries
    // have (a column pointer into a flat (colour, count) list).
    let mut off = Vec::with_capacity(n + 1);
    let mut counts: Vec<(u32, u32)> = Vec::new();
    off.push(0);
    for r in 0..n {
        let start = counts.len();
        for &u in p.column(r) {
            let u = u as usize;
            if u == r {
                continue;
            }
            let c = colours[u];
            match counts[start..].iter_mut().find(|e| e.0 == c) {
                Some(e) => e.1 += 1,
                None => counts.push((c, 1)),
            }
        }
        off.push(counts.len());
    }
    let count_in = |r: usize, c: u32| counts[off[r]..off[r + 1]].iter().find(|e| e.0 == c).map_or(0, |e| e.1);
    let k = colouring.num_colours();
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
}
