use saddle_ir::simplify::{SimplifyOptions, simplify};
fn main() {
    let src = std::fs::read_to_string(std::env::args().nth(1).unwrap()).unwrap();
    let f = saddle_ir::parse_func("f.sir", &src).unwrap();
    let n: usize = std::env::args().nth(2).map(|s| s.parse().unwrap()).unwrap_or(200);
    let t = std::time::Instant::now();
    let mut last = None;
    for _ in 0..n {
        last = Some(simplify(&f, &SimplifyOptions::default()).unwrap());
    }
    println!("{:.1} us per simplify; {}", t.elapsed().as_secs_f64() * 1e6 / n as f64, last.unwrap().1);
}
