#[path = "../bench/big_density.rs"]
mod big_density;
use saddle::ir::{parse_func, print_func};

#[test]
fn scratch() {
    let f = parse_func("big.sir", &big_density::big_density(50, 6)).unwrap();
    let h = saddle::ad::hessian(&f, 0).unwrap();
    std::fs::write("/tmp/simp/big50.sir", print_func(&h)).unwrap();
    let f = parse_func("big.sir", &big_density::big_density(4, 6)).unwrap();
    let h = saddle::ad::hessian(&f, 0).unwrap();
    std::fs::write("/tmp/simp/big4.sir", print_func(&h)).unwrap();
}
