//! Generic clean-up passes. Each returns whether it changed anything.

mod cse;
mod dce;

pub use cse::cse;
pub use dce::dce;

use crate::{Func, FuncBuilder, Value};

/// Rebuilds `f` keeping the instructions for which `keep` is true, with
/// every operand and result redirected through `subst` (a value maps to the
/// value that replaces it; identity where unchanged). Names and locations
/// travel with the kept values.
pub(crate) fn compact(f: &Func, keep: &[bool], subst: &[Value]) -> Func {
    let mut b = FuncBuilder::new(f.name());
    let mut map: Vec<Option<Value>> = vec![None; f.num_values()];
    for p in f.params() {
        let v = b.param(f.ty(p).clone()).expect("parameters come first and were checked");
        map[p.index()] = Some(v);
        copy_side(f, &mut b, p, v);
    }
    let lookup = |map: &[Option<Value>], v: Value| -> Value {
        map[subst[v.index()].index()].expect("kept values only use kept values")
    };
    for (v, inst) in f.iter_insts() {
        if !keep[v.index()] {
            continue;
        }
        let args: Vec<Value> = inst.args.iter().map(|&a| lookup(&map, a)).collect();
        let nv = b.push_typed(inst.op.clone(), &args, f.ty(v).clone());
        map[v.index()] = Some(nv);
        copy_side(f, &mut b, v, nv);
    }
    let results: Vec<Value> = f.results().iter().map(|&r| lookup(&map, r)).collect();
    b.finish(&results).expect("results of a function are kept")
}

fn copy_side(f: &Func, b: &mut FuncBuilder, old: Value, new: Value) {
    if let Some(n) = f.value_name(old) {
        b.set_name(new, n);
    }
    if let Some(l) = f.loc(old) {
        b.set_loc(new, l.clone());
    }
}
