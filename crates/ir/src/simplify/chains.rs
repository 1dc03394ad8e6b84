//! Generated long chains of one op, each step something a rule rewrites:
//! the hostile inputs of the simplifier's budget (its unit tests and the
//! `simplify` benchmark both use this file).

/// The kinds of chain [`chain`] generates.
pub const KINDS: [&str; 11] =
    ["sub", "neg", "abs", "not", "max", "select", "convert", "mul_neg_one", "negations", "transpose", "reshape"];

/// One link of a chain: its index and the value it applies to.
type Step = fn(usize, &str) -> String;

/// A function whose body is a chain of `n` ops of `kind` (one of
/// [`KINDS`]), each applied to the one before, in `.sir` text.
pub fn chain(kind: &str, n: usize) -> String {
    let (params, ty, setup, step): (&str, &str, &str, Step) = match kind {
        "sub" => ("%x: f64[4]", "f64[4]", "  %z: f64[4] = const {value = 0.0}\n", |_, v| format!("sub %z, {v}")),
        "neg" => ("%x: f64[4]", "f64[4]", "", |_, v| format!("neg {v}")),
        "abs" => ("%x: f64[4]", "f64[4]", "", |_, v| format!("abs {v}")),
        "not" => ("%x: bool[4]", "bool[4]", "", |_, v| format!("not {v}")),
        "max" => ("%x: f64[4]", "f64[4]", "", |_, v| format!("max {v}, {v}")),
        "select" => ("%x: f64[4], %p: bool[4]", "f64[4]", "", |_, v| format!("select %p, {v}, {v}")),
        "convert" => ("%x: f32[4]", "f32[4]", "", |i, v| {
            format!("convert {v} {{dtype = {}}}", if i % 2 == 0 { "f64" } else { "f32" })
        }),
        "mul_neg_one" => {
            ("%x: f64[4]", "f64[4]", "  %m: f64[4] = const {value = -1.0}\n", |_, v| format!("mul {v}, %m"))
        }
        // Every form of a negation in turn: `neg`, `0 - x`, `x · -1`, `x / -1`.
        "negations" => (
            "%x: f64[4]",
            "f64[4]",
            "  %z: f64[4] = const {value = 0.0}\n  %m: f64[4] = const {value = -1.0}\n",
            |i, v| match i % 4 {
                0 => format!("neg {v}"),
                1 => format!("sub %z, {v}"),
                2 => format!("mul {v}, %m"),
                _ => format!("div {v}, %m"),
            },
        ),
        "transpose" => ("%x: f64[2, 3]", "f64[2, 3]", "", |_, v| format!("transpose {v} {{perm = [1, 0]}}")),
        "reshape" => ("%x: f64[2, 3]", "f64[2, 3]", "", |i, v| {
            format!("reshape {v} {{shape = {}}}", if i % 2 == 0 { "[6]" } else { "[2, 3]" })
        }),
        _ => panic!("unknown chain kind {kind}"),
    };
    // Kinds whose steps alternate between two types end on the first one.
    let n = if matches!(kind, "convert" | "transpose" | "reshape") { n + n % 2 } else { n };
    let mut s = format!("func @{kind}({params}) -> {ty} {{\n{setup}");
    let mut prev = "%x".to_string();
    for i in 0..n {
        s.push_str(&format!("  %v{i} = {}\n", step(i, &prev)));
        prev = format!("%v{i}");
    }
    s.push_str(&format!("  return {prev}\n}}\n"));
    s
}
