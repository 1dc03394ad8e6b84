use saddle_ir::{parse_module, verify_module};
pub fn big_module(n: usize) -> String {
    let mut s = String::with_capacity(n * 48);
    s.push_str("func @big(%x: f64[8], %m: f64[8,8]) -> f64[] {\n");
    s.push_str("  %v0: f64[8] = exp %x\n");
    let mut last = 0;
    for i in 1..n - 1 {
        match i % 8 {
            0 => s.push_str(&format!("  %v{i}: f64[8] = const {{value = {}.5}}\n", i % 97)),
            1 => s.push_str(&format!("  %v{i}: f64[8] = add %v{last}, %v{}\n", i - 1)),
            2 => s.push_str(&format!(
                "  %v{i}: f64[8] = dot_general %m, %v{last} {{lhs_contract = [1], rhs_contract = [0]}}\n"
            )),
            3 => s.push_str(&format!("  %v{i}: f64[8] = tanh %v{last}\n")),
            4 => s.push_str(&format!("  %v{i}: f64[8] = mul %v{last}, %x\n")),
            5 => s.push_str(&format!("  %v{i}: f64[] = reduce_sum %v{last} {{axes = [0]}}\n")),
            6 => s.push_str(&format!("  %v{i}: f64[8] = broadcast_in_dim %v{} {{shape = [8], dims = []}}\n", i - 1)),
            _ => s.push_str(&format!("  %v{i}: f64[8] = sub %v{}, %v{last}\n", i - 1)),
        }
        if i % 8 != 5 {
            last = i;
        }
    }
    s.push_str(&format!("  %out: f64[] = reduce_sum %v{last} {{axes = [0]}}\n  return %out\n}}\n"));
    s
}

fn main() {
    sizes();
    let text = big_module(100_000);
    let mut best = f64::MAX;
    let mut all = vec![];
    let iters: usize = std::env::var("ITERS").ok().and_then(|s| s.parse().ok()).unwrap_or(30);
    for _ in 0..iters {
        let t = std::time::Instant::now();
        let m = parse_module("big.sir", &text).unwrap();
        verify_module(&m).unwrap();
        drop(m);
        let e = t.elapsed().as_secs_f64() * 1e3;
        all.push(e);
        best = best.min(e);
    }
    if all.is_empty() {
        return;
    }
    all.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("min {best:.1} ms  median {:.1} ms", all[all.len() / 2]);
}
#[allow(dead_code)]
fn sizes() {
    eprintln!(
        "Op {} Inst {} TensorType {} Literal {} Location {}",
        std::mem::size_of::<saddle_ir::Op>(),
        std::mem::size_of::<saddle_ir::Inst>(),
        std::mem::size_of::<saddle_ir::TensorType>(),
        std::mem::size_of::<saddle_ir::Literal>(),
        std::mem::size_of::<Option<saddle_ir::Location>>()
    );
}
