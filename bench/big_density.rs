//! A generated log density whose Hessian has thousands of ops: `K` blocks of
//! a random linear map of the parameters followed by one of four likelihood
//! shapes (logistic, Student-t, tanh, log-logistic), summed.

/// The `.sir` text of the density with `blocks` blocks over a `d`-vector.
pub fn big_density(blocks: usize, d: usize) -> String {
    let mut s = format!("func @big(%theta: f64[{d}]) -> f64[] {{\n  %acc0: f64[] = const {{value = 0.0}}\n");
    let num = |i: usize, j: usize| ((i * 7919 + j * 104_729) % 2001) as f64 / 1000.0 - 1.0;
    for k in 0..blocks {
        let rows: Vec<String> = (0..3)
            .map(|i| format!("[{}]", (0..d).map(|j| format!("{:?}", num(k * 3 + i, j))).collect::<Vec<_>>().join(", ")))
            .collect();
        s.push_str(&format!("  %W{k}: f64[3,{d}] = const {{value = [{}]}}\n", rows.join(", ")));
        s.push_str(&format!("  %a{k}: f64[3] = dot_general %W{k}, %theta {{lhs_contract = [1], rhs_contract = [0]}}\n"));
        match k % 4 {
            0 => s.push_str(&format!(
                "  %e{k}: f64[3] = exp %a{k}\n  %sp{k}: f64[3] = log1p %e{k}\n  %y{k}: f64[3] = const {{value = [1.0, 0.0, 1.0]}}\n  %ya{k}: f64[3] = mul %y{k}, %a{k}\n  %l{k}: f64[3] = sub %ya{k}, %sp{k}\n"
            )),
            1 => s.push_str(&format!(
                "  %q{k}: f64[3] = mul %a{k}, %a{k}\n  %nu{k}: f64[3] = const {{value = 0.2}}\n  %r{k}: f64[3] = mul %q{k}, %nu{k}\n  %lp{k}: f64[3] = log1p %r{k}\n  %l{k}: f64[3] = neg %lp{k}\n"
            )),
            2 => s.push_str(&format!(
                "  %m{k}: f64[3] = const {{value = [0.5, -0.25, 1.0]}}\n  %d{k}: f64[3] = sub %a{k}, %m{k}\n  %t{k}: f64[3] = tanh %d{k}\n  %l{k}: f64[3] = mul %t{k}, %t{k}\n"
            )),
            _ => s.push_str(&format!("  %g{k}: f64[3] = logistic %a{k}\n  %l{k}: f64[3] = log %g{k}\n")),
        }
        s.push_str(&format!("  %s{k}: f64[] = reduce_sum %l{k} {{axes = [0]}}\n"));
        s.push_str(&format!("  %acc{}: f64[] = add %acc{k}, %s{k}\n", k + 1));
    }
    s.push_str(&format!("  return %acc{blocks}\n}}\n"));
    s
}
