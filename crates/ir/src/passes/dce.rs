use super::compact;
use crate::{Func, Value};

/// Dead-code elimination: removes instructions whose values no result
/// depends on. Parameters are kept. Returns whether anything was removed.
///
/// ```
/// use saddle_ir::{parse_func, passes::dce};
/// let mut f = parse_func("f.sir", "func @f(%x: f64[]) -> f64[] {\n %dead: f64[] = exp %x\n %y: f64[] = neg %x\n return %y\n}").unwrap();
/// assert!(dce(&mut f));
/// assert_eq!(f.insts().len(), 1);
/// ```
pub fn dce(f: &mut Func) -> bool {
    let mut live = vec![false; f.num_values()];
    for r in f.results() {
        live[r.index()] = true;
    }
    for (v, inst) in f.iter_insts().rev() {
        if live[v.index()] {
            for a in &inst.args {
                live[a.index()] = true;
            }
        }
    }
    let dead = f.iter_insts().filter(|(v, _)| !live[v.index()]).count();
    if dead == 0 {
        return false;
    }
    let identity: Vec<Value> = (0..f.num_values()).map(Value::from_index).collect();
    *f = compact(f, &live, &identity);
    true
}
