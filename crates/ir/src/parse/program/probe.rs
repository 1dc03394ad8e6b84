//! The bindings at which a generic function is checked and printed, and
//! how its printed instances are turned back into text with its variables.

use super::{DimExpr, Dims, Signature};

/// The smallest extent tried when checking a generic function.
pub(super) const PROBE_FLOOR: usize = 101;

/// The largest: tensors of a few probed axes must stay within
/// [`crate::MAX_ELEMENTS`].
pub(super) const PROBE_CEILING: usize = 10_000;

pub(super) fn probe_base(max_int: i128) -> usize {
    (max_int.saturating_add(1).clamp(PROBE_FLOOR as i128, PROBE_CEILING as i128)) as usize
}

fn is_prime(n: usize) -> bool {
    n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0)
}

/// The bindings at which a generic function is checked and printed, all
/// distinct primes from `base` on: a base binding, then for each variable
/// the base with only that variable changed, then an unrelated binding.
pub(super) fn probe_sets(sig: &Signature, base: usize) -> Vec<Dims> {
    let k = sig.vars.len();
    let primes: Vec<usize> = (base..).filter(|&n| is_prime(n)).take(3 * k).collect();
    let with = |values: &[usize]| -> Dims { sig.vars.iter().cloned().zip(values.iter().copied()).collect() };
    let mut sets = vec![with(&primes[..k])];
    for v in 0..k {
        let mut values = primes[..k].to_vec();
        values[v] = primes[k + v];
        sets.push(with(&values));
    }
    sets.push(with(&primes[2 * k..]));
    sets
}

/// Text up to an integer, and the integer: its value, whether it was
/// written as a whole float, and its text.
type Piece<'s> = (&'s str, Option<(u64, bool, &'s str)>);

/// A printed function cut at its free-standing integers (not within names,
/// floats or negative numbers; a whole float `101.0` counts as `101`).
fn pieces(text: &str) -> Vec<Piece<'_>> {
    let bytes = text.as_bytes();
    let joined = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || b"_%@.-".contains(b));
    let mut out = Vec::new();
    let (mut i, mut last) = (0, 0);
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let digits = i;
        let whole_float = bytes.get(i) == Some(&b'.') && bytes.get(i + 1) == Some(&b'0') && !joined(bytes.get(i + 2));
        let end = if whole_float { i + 2 } else { i };
        let value = text[start..digits].parse::<u64>().ok();
        match value {
            Some(n) if !joined(start.checked_sub(1).and_then(|j| bytes.get(j))) && !joined(bytes.get(end)) => {
                out.push((&text[last..start], Some((n, whole_float, &text[start..end]))));
                last = end;
                i = end;
            }
            _ => {}
        }
    }
    out.push((&text[last..], None));
    out
}

/// The text of instances printed at the bindings of [`probe_sets`], with
/// every integer that changes with the bindings written as the sum of
/// variables it is in all of them; `None` when the texts differ otherwise.
pub(super) fn write_extents(texts: &[String], sets: &[Dims], vars: &[String]) -> Option<String> {
    let cut: Vec<Vec<Piece<'_>>> = texts.iter().map(|t| pieces(t)).collect();
    let first = cut.first()?;
    if cut.iter().any(|c| c.len() != first.len()) {
        return None;
    }
    let k = vars.len();
    let value = |s: usize, v: &str| sets[s].get(v).copied().unwrap_or(0) as i128;
    let mut out = String::with_capacity(texts[0].len());
    for (p, (text, num)) in first.iter().enumerate() {
        if cut.iter().any(|c| c[p].0 != *text || c[p].1.map(|n| n.1) != num.map(|n| n.1)) {
            return None;
        }
        out.push_str(text);
        let Some((n0, _, written)) = num else { continue };
        let values: Vec<i128> = cut.iter().map(|c| c[p].1.map_or(0, |n| n.0 as i128)).collect();
        if values.iter().all(|&v| v == *n0 as i128) {
            out.push_str(written);
            continue;
        }
        // Set 0 is the base, set 1 + v changes variable v only, the last
        // verifies.
        let mut e = DimExpr { constant: 0, terms: Vec::new() };
        let mut constant = values[0];
        for (v, name) in vars.iter().enumerate() {
            let (dv, dx) = (values[1 + v] - values[0], value(1 + v, name) - value(0, name));
            if dx == 0 || dv % dx != 0 {
                return None;
            }
            let a = dv / dx;
            constant -= a * value(0, name);
            if a != 0 {
                e.terms.push((i64::try_from(a).ok()?, name.clone()));
            }
        }
        let check = k + 1;
        let predicted = constant + e.terms.iter().map(|(a, v)| i128::from(*a) * value(check, v)).sum::<i128>();
        if predicted != values[check] {
            return None;
        }
        e.constant = i64::try_from(constant).ok()?;
        out.push_str(&e.to_string());
    }
    Some(out)
}

/// `text` with every free-standing integer that is one of the extents in
/// `names` replaced by its variable's name (not within other names,
/// floats or negative numbers): for messages about a probed instance.
pub(super) fn name_extents(text: &str, names: &[(String, usize)]) -> String {
    let mut out = String::with_capacity(text.len());
    for (before, num) in pieces(text) {
        out.push_str(before);
        let Some((n, _, written)) = num else { continue };
        match names.iter().find(|(_, m)| *m as u64 == n) {
            Some((name, _)) => out.push_str(name),
            None => out.push_str(written),
        }
    }
    out
}
