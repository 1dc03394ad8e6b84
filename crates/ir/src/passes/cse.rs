use std::collections::hash_map::Entry;

use rustc_hash::FxHashMap as HashMap;

use super::compact;

use crate::{Args, Func, Op, Value};

/// Common-subexpression elimination: an instruction equal to an earlier
/// one (same op, attributes and operands after substitution, in either
/// order for a [commutative](Op::is_commutative) op) is replaced by it.
/// Returns whether anything changed.
///
/// ```
/// use saddle_ir::{parse_func, passes::cse};
/// let mut f = parse_func("f.sir", "func @f(%x: f64[]) -> f64[] {\n %a: f64[] = exp %x\n %b: f64[] = exp %x\n %c: f64[] = add %a, %b\n return %c\n}").unwrap();
/// assert!(cse(&mut f));
/// assert_eq!(f.insts().len(), 2);
/// ```
pub fn cse(f: &mut Func) -> bool {
    let mut subst: Vec<Value> = (0..f.num_values()).map(Value::from_index).collect();
    let mut keep = vec![true; f.num_values()];
    let mut seen: HashMap<(&Op, Args), Value> = HashMap::with_capacity_and_hasher(f.insts().len(), Default::default());
    let mut changed = false;
    for (v, inst) in f.iter_insts() {
        let mut args: Args = crate::func::map_small(&inst.args, Value::from_index(0), |a| subst[a.index()]);
        if inst.op.is_commutative() {
            args.sort_unstable();
        }
        // One hash per instruction: the entry is looked up and, if new, filled.
        match seen.entry((&inst.op, args)) {
            Entry::Occupied(e) => {
                subst[v.index()] = *e.get();
                keep[v.index()] = false;
                changed = true;
            }
            Entry::Vacant(e) => {
                e.insert(v);
            }
        }
    }
    if changed {
        *f = compact(f, &keep, &subst);
    }
    changed
}
